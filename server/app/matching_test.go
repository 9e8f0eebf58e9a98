package app_test

import (
	"net/http"
	"testing"
	"time"

	zcv1 "github.com/zoomconnect/zoomconnect/gen/zoomconnect/v1"
	"github.com/zoomconnect/zoomconnect/server/auth"
	"github.com/zoomconnect/zoomconnect/server/zoomemu"
)

// rosterRow returns userID's roster row, or nil when the member is unknown.
func (o *org) rosterRow(t testing.TB, userID string) *zcv1.ConnectedUser {
	t.Helper()
	resp, err := o.roster(t, o.admin, &zcv1.ListConnectedUsersRequest{PageSize: 1000})
	must(t, err)
	for _, u := range resp.GetUsers() {
		if u.GetMember().GetUserId() == userID {
			return u
		}
	}
	return nil
}

func (o *org) upsert(t testing.TB, userID, email string) time.Duration {
	t.Helper()
	began := time.Now()
	must(t, o.tr.call(t, internalToken(t), zcv1.ConnectionService_UpsertOrgMember_FullMethodName,
		&zcv1.UpsertOrgMemberRequest{OrgId: o.id, UserId: userID, Member: &zcv1.OrgMember{Email: email}}, &zcv1.UpsertOrgMemberResponse{}))
	return time.Since(began)
}

// TestMemberMatchingInBackground: reads never write, and registering a
// member never waits for Zoom: the lookup is queued, shown as MATCHING,
// retried after a failure, and refreshes the token on Zoom's code 124.
func TestMemberMatchingInBackground(t *testing.T) {
	for _, b := range backends[:2] { // embedded and Redis
		t.Run(b.name, func(t *testing.T) {
			h := newHarness(t, b.redisURL(t))
			o := newOrg(h, t, grpcTransport{h}, "matching")
			o.connect(t)

			// A member asking who serves them is not registered by asking.
			nora := token(t, auth.Claims{Subject: "nora", OrgID: o.id, OrgRole: auth.RoleMember, Email: "member@acme.example"})
			must(t, o.tr.call(t, nora, zcv1.ConnectionService_GetEffectiveZoomAccount_FullMethodName,
				&zcv1.GetEffectiveZoomAccountRequest{OrgId: o.id, UserId: "nora"}, &zcv1.GetEffectiveZoomAccountResponse{}))
			must(t, o.tr.call(t, nora, zcv1.ConnectionService_GetUserZoomSetup_FullMethodName,
				&zcv1.GetUserZoomSetupRequest{OrgId: o.id, UserId: "nora"}, &zcv1.GetUserZoomSetupResponse{}))
			if row := o.rosterRow(t, "nora"); row != nil {
				t.Fatalf("a read registered the caller: %v", row)
			}

			// Zoom hangs: registering does not wait for it; the member is
			// MATCHING and served by email meanwhile.
			h.zoom.InjectFault(zoomemu.EndpointUsers, zoomemu.Fault{Delay: 3 * time.Second})
			if took := o.upsert(t, "mia", "member@acme.example"); took > 2*time.Second {
				t.Fatalf("UpsertOrgMember took %v with Zoom hanging", took)
			}
			if row := o.rosterRow(t, "mia"); row.GetStatus() != zcv1.ConnectedUserStatus_CONNECTED_USER_STATUS_MATCHING {
				t.Fatalf("roster row while Zoom hangs = %v, want MATCHING", row)
			}
			if r := o.resolve(t, "mia"); r.GetSource() != srcOrg || r.GetZoomEmail() != "member@acme.example" {
				t.Fatalf("resolution while matching = %v, want the org connection by email", r)
			}
			h.zoom.ClearFaults()
			o.waitMatched(t)

			// Zoom fails once: the lookup is retried.
			h.zoom.InjectFault(zoomemu.EndpointUsers, zoomemu.Fault{Status: http.StatusServiceUnavailable, Times: 1})
			o.upsert(t, "adam", "admin@acme.example")
			o.waitMatched(t)
			wantResolution(t, o.resolve(t, "adam"), srcOrg, zcv1.ResolutionReason_RESOLUTION_REASON_ORG_CONNECTED, zoomemu.DevAdminID)

			// Zoom refuses the access token (code 124): refreshed once, and
			// the lookup goes through.
			refreshes := h.zoom.Stats().Refreshes
			h.zoom.InjectFault(zoomemu.EndpointUsers, zoomemu.Fault{Status: http.StatusUnauthorized, Times: 1,
				Body: `{"code":124,"message":"Invalid access token."}`})
			o.upsert(t, "mia", "owner@acme.example")
			o.waitMatched(t)
			wantResolution(t, o.resolve(t, "mia"), srcOrg, zcv1.ResolutionReason_RESOLUTION_REASON_ORG_CONNECTED, zoomemu.DevOwnerID)
			if n := h.zoom.Stats().Refreshes - refreshes; n != 1 {
				t.Fatalf("%d token refreshes after code 124, want 1", n)
			}
		})
	}
}
