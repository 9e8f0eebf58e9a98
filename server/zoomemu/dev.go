package zoomemu

// Stable ids of the users DevConfig seeds, for dev tooling and tests.
const (
	DevAccountID      = "dev-acct-1"
	DevOwnerID        = "AcmeOwner_000000000001"
	DevAdminID        = "AcmeAdmin_000000000002"
	DevMemberID       = "AcmeMember_00000000003"
	DevAppManagerID   = "AcmeAppMgr_00000000004"
	DevOtherAccountID = "dev-acct-2"
	DevOtherOwnerID   = "GlobexOwner_0000000001"
)

// DevConfig is a ready-made Zoom for dev mode: orgClient becomes the
// admin-managed app, userClient the user-managed one, and two accounts are
// seeded. Account dev-acct-1 has an Owner, an Admin, a Member and a custom
// role whose app permissions let it install admin-managed apps (the case a
// role_id check alone gets wrong); dev-acct-2 has its own Owner, to try
// cross-account lookups.
func DevConfig(orgClient, userClient Client) Config {
	orgClient.AdminManaged = true
	userClient.AdminManaged = false
	return Config{
		Clients: []Client{orgClient, userClient},
		Users: []User{
			{ID: DevOwnerID, AccountID: DevAccountID, Email: "owner@acme.example", FirstName: "Olivia", LastName: "Owner",
				RoleID: "0", Timezone: "Europe/Berlin"},
			{ID: DevAdminID, AccountID: DevAccountID, Email: "admin@acme.example", FirstName: "Adam", LastName: "Admin",
				RoleID: "1", Timezone: "Europe/Berlin"},
			{ID: DevMemberID, AccountID: DevAccountID, Email: "member@acme.example", FirstName: "Mia", LastName: "Member",
				RoleID: "2", Timezone: "Europe/Berlin"},
			{ID: DevAppManagerID, AccountID: DevAccountID, Email: "apps@acme.example", FirstName: "Ida", LastName: "Integrations",
				RoleID: "IntegrationMgrRole0001", RoleName: "Integration Manager", Timezone: "Europe/Berlin",
				CanInstallAdminApps: true},
			{ID: DevOtherOwnerID, AccountID: DevOtherAccountID, Email: "owner@globex.example", FirstName: "Gus", LastName: "Globex",
				RoleID: "0", Timezone: "America/New_York"},
		},
	}
}
