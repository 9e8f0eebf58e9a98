package app_test

import (
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	zcv1 "github.com/zoomconnect/zoomconnect/gen/zoomconnect/v1"
	"github.com/zoomconnect/zoomconnect/server/auth"
	"github.com/zoomconnect/zoomconnect/server/internal/webtest"
	"github.com/zoomconnect/zoomconnect/server/zoomemu"
	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/types/known/fieldmaskpb"
)

const (
	srcPersonal = zcv1.ConnectionSource_CONNECTION_SOURCE_PERSONAL
	srcOrg      = zcv1.ConnectionSource_CONNECTION_SOURCE_ORGANIZATION
	srcNone     = zcv1.ConnectionSource_CONNECTION_SOURCE_NONE
)

// members of every test org: mia and adam have Zoom users in the org's
// account, liam does not.
var testMembers = []*zcv1.OrgMember{
	{UserId: "mia", Email: "member@acme.example", Name: "Mia Member"},
	{UserId: "adam", Email: "admin@acme.example", Name: "Adam Admin"},
	{UserId: "liam", Email: "nobody@acme.example", Name: "Liam Lost"},
}

func (o *org) upsertMembers(t testing.TB) {
	t.Helper()
	for _, m := range testMembers {
		resp := &zcv1.UpsertOrgMemberResponse{}
		must(t, o.tr.call(t, internalToken(t), zcv1.ConnectionService_UpsertOrgMember_FullMethodName,
			&zcv1.UpsertOrgMemberRequest{OrgId: o.id, UserId: m.GetUserId(), Member: m}, resp))
		if resp.GetMember().GetEmail() != m.GetEmail() {
			t.Fatalf("upsert answered %v", resp)
		}
	}
	o.waitMatched(t)
}

// waitMatched waits until no member is MATCHING any more: the background
// lookups of their Zoom users are done.
func (o *org) waitMatched(t testing.TB) {
	t.Helper()
	eventually(t, "members matched in Zoom", func() bool {
		for token := ""; ; {
			resp := &zcv1.ListConnectedUsersResponse{}
			must(t, o.tr.call(t, o.admin, zcv1.ConnectionService_ListConnectedUsers_FullMethodName,
				&zcv1.ListConnectedUsersRequest{OrgId: o.id, PageSize: 1000, PageToken: token}, resp))
			for _, u := range resp.GetUsers() {
				if u.GetStatus() == zcv1.ConnectedUserStatus_CONNECTED_USER_STATUS_MATCHING {
					return false
				}
			}
			if token = resp.GetNextPageToken(); token == "" {
				return true
			}
		}
	})
}

func (o *org) resolve(t testing.TB, userID string) *zcv1.EffectiveZoomAccount {
	t.Helper()
	resp := &zcv1.GetEffectiveZoomAccountResponse{}
	must(t, o.tr.call(t, internalToken(t), zcv1.ConnectionService_GetEffectiveZoomAccount_FullMethodName,
		&zcv1.GetEffectiveZoomAccountRequest{OrgId: o.id, UserId: userID}, resp))
	return resp.GetAccount()
}

func wantResolution(t testing.TB, a *zcv1.EffectiveZoomAccount, src zcv1.ConnectionSource, reason zcv1.ResolutionReason, zoomUser string) {
	t.Helper()
	if a.GetSource() != src || a.GetReason() != reason || a.GetZoomUserId() != zoomUser || a.GetExplanation() == "" {
		t.Fatalf("resolution = %v, want source %s reason %s zoom user %q", a, src, reason, zoomUser)
	}
}

// userToken is the token of one of the test members.
func (o *org) userToken(t testing.TB, userID string) string {
	role := auth.RoleMember
	if userID == "adam" {
		role = auth.RoleAdmin
	}
	for _, m := range testMembers {
		if m.GetUserId() == userID {
			return token(t, auth.Claims{Subject: userID, OrgID: o.id, OrgRole: role, Email: m.GetEmail(), Name: m.GetName()})
		}
	}
	return personToken(t, userID, o.id, role)
}

// connectPersonal runs a member's personal connection with zoomUser.
func (o *org) connectPersonal(t testing.TB, userID, zoomUser string) {
	t.Helper()
	resp := &zcv1.StartPersonalConnectionResponse{}
	must(t, o.tr.call(t, o.userToken(t, userID), zcv1.ConnectionService_StartPersonalConnection_FullMethodName,
		&zcv1.StartPersonalConnectionRequest{OrgId: o.id, UserId: userID}, resp))
	authorize := o.h.openPersonalLink(t, o.h.browser, resp.GetAuthorizeUrl())
	callback, zp := o.h.browser.SignInAtZoom(authorize, zoomUser, "allow")
	if callback == "" {
		t.Fatalf("Zoom refused the personal connection: %v", zp)
	}
	webtest.WantPage(t, o.h.browser.Get(callback), http.StatusOK, "personal", "You approved as the Zoom user")
}

// openPersonalLink opens a personal authorize link (zoomconnect's own URL)
// in browser and returns the Zoom authorize URL it redirects to, after
// checking the browser-binding cookie.
func (h *harness) openPersonalLink(t testing.TB, browser *webtest.Browser, link string) *url.URL {
	t.Helper()
	if !strings.HasPrefix(link, h.baseURL()+"/oauth/zoom/personal/") {
		t.Fatalf("the personal authorize link %q is not zoomconnect's own", link)
	}
	hop := browser.Get(link)
	authorize, err := url.Parse(hop.Location)
	if hop.Status != http.StatusFound || err != nil || authorize.Query().Get("client_id") != userClientID ||
		authorize.Query().Get("code_challenge_method") != "S256" {
		t.Fatalf("personal link: HTTP %d to %q: %s", hop.Status, hop.Location, hop.Body)
	}
	var binding *http.Cookie
	for _, c := range (&http.Response{Header: hop.Header}).Cookies() {
		if c.Name == "zoomconnect_oauth_browser" {
			binding = c
		}
	}
	if binding == nil || !binding.HttpOnly || binding.SameSite != http.SameSiteLaxMode || binding.Path != "/oauth/zoom/" ||
		binding.MaxAge <= 0 || binding.MaxAge > int(h.cfg.OAuthStateTTL/time.Second) || len(binding.Value) < 32 {
		t.Fatalf("browser-binding cookie: %+v", binding)
	}
	return authorize
}

func (o *org) setup(t testing.TB, userID string) *zcv1.UserZoomSetup {
	t.Helper()
	resp := &zcv1.GetUserZoomSetupResponse{}
	must(t, o.tr.call(t, o.userToken(t, userID), zcv1.ConnectionService_GetUserZoomSetup_FullMethodName,
		&zcv1.GetUserZoomSetupRequest{OrgId: o.id, UserId: userID}, resp))
	return resp.GetSetup()
}

func TestResolverRosterSettingsActivity(t *testing.T) {
	forEachBackend(t, func(t *testing.T, redisURL string) {
		h := newHarness(t, redisURL)
		for _, tr := range transports(h) {
			t.Run(tr.name(), func(t *testing.T) {
				t.Run("precedence: personal over org, and each taking over", func(t *testing.T) { precedence(t, newOrg(h, t, tr, "prec")) })
				t.Run("a member missing from the Zoom account", func(t *testing.T) { missingMember(t, newOrg(h, t, tr, "missing")) })
				t.Run("detach refused, then allowed", func(t *testing.T) { detach(t, newOrg(h, t, tr, "detach")) })
				t.Run("roster, paging, filters, search and who may read it", func(t *testing.T) { roster(t, newOrg(h, t, tr, "roster")) })
				t.Run("batch of 100", func(t *testing.T) { batch(t, newOrg(h, t, tr, "batch")) })
			})
		}
	})
}

// eventually polls until ok, for work the service does in the background.
func eventually(t testing.TB, what string, ok func() bool) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); !ok(); time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("not within 5 s: %s", what)
		}
	}
}

func precedence(t testing.TB, o *org) {
	o.upsertMembers(t)
	wantResolution(t, o.resolve(t, "mia"), srcNone, zcv1.ResolutionReason_RESOLUTION_REASON_NO_CONNECTION, "")
	o.connect(t)
	// Members known before the org connected are looked up in Zoom in the
	// background; until then the org connection serves them by email.
	eventually(t, "members matched after connecting", func() bool { return o.resolve(t, "mia").GetZoomUserId() == zoomemu.DevMemberID })
	wantResolution(t, o.resolve(t, "mia"), srcOrg, zcv1.ResolutionReason_RESOLUTION_REASON_ORG_CONNECTED, zoomemu.DevMemberID)

	// personal + org → personal, shadowing the org connection
	o.connectPersonal(t, "mia", zoomemu.DevOtherOwnerID)
	a := o.resolve(t, "mia")
	wantResolution(t, a, srcPersonal, zcv1.ResolutionReason_RESOLUTION_REASON_PERSONAL_CONNECTED, zoomemu.DevOtherOwnerID)
	if a.GetZoomAccountId() != zoomemu.DevOtherAccountID || a.GetShadowed().GetSource() != srcOrg || a.GetShadowed().GetZoomUserId() != zoomemu.DevMemberID {
		t.Fatalf("personal resolution = %v", a)
	}
	if s := o.setup(t, "mia"); s.GetSource() != srcPersonal || s.GetPersonal().GetZoomUserId() != zoomemu.DevOtherOwnerID || s.GetOrganization() != nil {
		t.Fatalf("setup with both shows %v; want only the personal connection", s)
	}

	// personal disconnected → org takes over
	resp := &zcv1.DisconnectPersonalConnectionResponse{}
	must(t, o.tr.call(t, o.userToken(t, "mia"), zcv1.ConnectionService_DisconnectPersonalConnection_FullMethodName,
		&zcv1.DisconnectPersonalConnectionRequest{OrgId: o.id, UserId: "mia"}, resp))
	if resp.GetSetup().GetSource() != srcOrg || resp.GetSetup().GetOrganization().GetState() != active {
		t.Fatalf("setup after personal disconnect = %v", resp.GetSetup())
	}
	if n := o.h.zoom.ActiveGrants(userClientID, zoomemu.DevOtherOwnerID); n != 0 {
		t.Fatalf("the personal grant was not revoked (%d left)", n)
	}
	wantResolution(t, o.resolve(t, "mia"), srcOrg, zcv1.ResolutionReason_RESOLUTION_REASON_ORG_CONNECTED, zoomemu.DevMemberID)

	// connecting again replaces the personal connection and revokes the old grant
	o.connectPersonal(t, "mia", zoomemu.DevOwnerID)
	o.connectPersonal(t, "mia", zoomemu.DevOtherOwnerID)
	if n := o.h.zoom.ActiveGrants(userClientID, zoomemu.DevOwnerID); n != 0 {
		t.Fatalf("the replaced personal grant was not revoked (%d left)", n)
	}

	// org disconnected → personal still works, members without one get none
	_, err := o.disconnect(t, o.owner)
	must(t, err)
	wantResolution(t, o.resolve(t, "mia"), srcPersonal, zcv1.ResolutionReason_RESOLUTION_REASON_PERSONAL_CONNECTED, zoomemu.DevOtherOwnerID)
	wantResolution(t, o.resolve(t, "adam"), srcNone, zcv1.ResolutionReason_RESOLUTION_REASON_NO_CONNECTION, "")

	// the activity log tells the story, newest first
	kinds := o.activityKinds(t)
	want := []zcv1.ActivityKind{
		zcv1.ActivityKind_ACTIVITY_KIND_ORG_DISCONNECTED, zcv1.ActivityKind_ACTIVITY_KIND_PERSONAL_CONNECTED,
		zcv1.ActivityKind_ACTIVITY_KIND_PERSONAL_CONNECTED, zcv1.ActivityKind_ACTIVITY_KIND_PERSONAL_DISCONNECTED, zcv1.ActivityKind_ACTIVITY_KIND_PERSONAL_CONNECTED,
		zcv1.ActivityKind_ACTIVITY_KIND_ORG_CONNECTED, zcv1.ActivityKind_ACTIVITY_KIND_ORG_CONNECTION_STARTED,
	}
	if len(kinds) != len(want) {
		t.Fatalf("activity = %v, want %v", kinds, want)
	}
	for i := range want {
		if kinds[i] != want[i] {
			t.Fatalf("activity = %v, want %v", kinds, want)
		}
	}
	must(t, o.tr.call(t, o.userToken(t, "mia"), zcv1.ConnectionService_DisconnectPersonalConnection_FullMethodName,
		&zcv1.DisconnectPersonalConnectionRequest{OrgId: o.id, UserId: "mia"}, &zcv1.DisconnectPersonalConnectionResponse{}))
}

// activityDetails returns the value of detail key of every activity entry
// that has it, newest first.
func (o *org) activityDetails(t testing.TB, key string) []string {
	t.Helper()
	resp := &zcv1.ListActivityResponse{}
	must(t, o.tr.call(t, o.admin, zcv1.ConnectionService_ListActivity_FullMethodName,
		&zcv1.ListActivityRequest{OrgId: o.id, PageSize: 1000}, resp))
	var out []string
	for _, e := range resp.GetEntries() {
		if v, ok := e.GetDetails()[key]; ok {
			out = append(out, v)
		}
	}
	return out
}

// activityCount counts the org's activity entries of kind.
func (o *org) activityCount(t testing.TB, kind zcv1.ActivityKind) int {
	t.Helper()
	n := 0
	for _, k := range o.activityKinds(t) {
		if k == kind {
			n++
		}
	}
	return n
}

// activityKinds pages through the whole log with pages of 2.
func (o *org) activityKinds(t testing.TB) []zcv1.ActivityKind {
	t.Helper()
	var kinds []zcv1.ActivityKind
	token := ""
	for {
		resp := &zcv1.ListActivityResponse{}
		must(t, o.tr.call(t, o.admin, zcv1.ConnectionService_ListActivity_FullMethodName,
			&zcv1.ListActivityRequest{OrgId: o.id, PageSize: 2, PageToken: token}, resp))
		for _, e := range resp.GetEntries() {
			if e.GetId() == "" || e.GetTime() == nil || e.GetActor() == "" {
				t.Fatalf("incomplete activity entry %v", e)
			}
			kinds = append(kinds, e.GetKind())
		}
		if token = resp.GetNextPageToken(); token == "" {
			return kinds
		}
	}
}

func missingMember(t testing.TB, o *org) {
	o.connect(t)
	o.upsertMembers(t) // while connected, each upsert queues the member's lookup
	a := o.resolve(t, "liam")
	wantResolution(t, a, srcNone, zcv1.ResolutionReason_RESOLUTION_REASON_USER_NOT_IN_ZOOM_ACCOUNT, "")
	if !strings.Contains(a.GetExplanation(), "nobody@acme.example") || !strings.Contains(a.GetExplanation(), "personal") {
		t.Fatalf("explanation does not say what to do: %q", a.GetExplanation())
	}
	// A member's changed email is looked up again, in the background:
	// meanwhile the roster says MATCHING and the resolver serves the email.
	must(t, o.tr.call(t, internalToken(t), zcv1.ConnectionService_UpsertOrgMember_FullMethodName,
		&zcv1.UpsertOrgMemberRequest{OrgId: o.id, UserId: "liam", Member: &zcv1.OrgMember{Email: "owner@acme.example"}}, &zcv1.UpsertOrgMemberResponse{}))
	if r := o.resolve(t, "liam"); r.GetZoomUserId() == "" && r.GetZoomEmail() != "owner@acme.example" {
		t.Fatalf("while matching, resolution = %v; want the new email", r)
	}
	o.waitMatched(t)
	wantResolution(t, o.resolve(t, "liam"), srcOrg, zcv1.ResolutionReason_RESOLUTION_REASON_ORG_CONNECTED, zoomemu.DevOwnerID)
	_, err := o.disconnect(t, o.owner)
	must(t, err)
}

func (o *org) detachCall(t testing.TB, userID string) (*zcv1.UserZoomSetup, error) {
	resp := &zcv1.DetachFromOrgConnectionResponse{}
	err := o.tr.call(t, o.userToken(t, userID), zcv1.ConnectionService_DetachFromOrgConnection_FullMethodName,
		&zcv1.DetachFromOrgConnectionRequest{OrgId: o.id, UserId: userID}, resp)
	return resp.GetSetup(), err
}

func (o *org) updateSettings(t testing.TB, tok string, s *zcv1.OrgZoomSettings, paths ...string) (*zcv1.OrgZoomSettings, error) {
	resp := &zcv1.UpdateOrgZoomSettingsResponse{}
	err := o.tr.call(t, tok, zcv1.ConnectionService_UpdateOrgZoomSettings_FullMethodName,
		&zcv1.UpdateOrgZoomSettingsRequest{OrgId: o.id, Settings: s, UpdateMask: &fieldmaskpb.FieldMask{Paths: paths}}, resp)
	return resp.GetSettings(), err
}

func detach(t testing.TB, o *org) {
	o.connect(t)
	o.upsertMembers(t)
	_, err := o.detachCall(t, "mia")
	wantCode(t, err, codes.PermissionDenied, zcv1.ErrorReason_ERROR_REASON_DETACH_NOT_ALLOWED)
	_, err = o.updateSettings(t, o.mem, &zcv1.OrgZoomSettings{AllowUsersToDetach: true}, "allow_users_to_detach")
	wantCode(t, err, codes.PermissionDenied, auth.ReasonRoleRequired)
	_, err = o.updateSettings(t, o.admin, &zcv1.OrgZoomSettings{AllowUsersToDetach: true}, "no_such_setting")
	wantCode(t, err, codes.InvalidArgument, zcv1.ErrorReason_ERROR_REASON_INVALID_UPDATE_MASK)

	// Only the masked field changes.
	s, err := o.updateSettings(t, o.admin, &zcv1.OrgZoomSettings{AllowUsersToDetach: true, WaitingRoom: true}, "allow_users_to_detach")
	must(t, err)
	if !s.GetAllowUsersToDetach() || s.GetWaitingRoom() || s.GetUpdateTime() == nil {
		t.Fatalf("settings after update = %v", s)
	}
	got := &zcv1.GetOrgZoomSettingsResponse{}
	must(t, o.tr.call(t, internalToken(t), zcv1.ConnectionService_GetOrgZoomSettings_FullMethodName,
		&zcv1.GetOrgZoomSettingsRequest{OrgId: o.id}, got))
	if !got.GetSettings().GetAllowUsersToDetach() {
		t.Fatalf("settings read back = %v", got.GetSettings())
	}

	setup, err := o.detachCall(t, "mia")
	must(t, err)
	if !setup.GetDetached() || !setup.GetCanDetach() {
		t.Fatalf("setup after detach = %v", setup)
	}
	wantResolution(t, o.resolve(t, "mia"), srcNone, zcv1.ResolutionReason_RESOLUTION_REASON_USER_DETACHED, "")
	must(t, o.tr.call(t, o.userToken(t, "mia"), zcv1.ConnectionService_ReattachToOrgConnection_FullMethodName,
		&zcv1.ReattachToOrgConnectionRequest{OrgId: o.id, UserId: "mia"}, &zcv1.ReattachToOrgConnectionResponse{}))
	wantResolution(t, o.resolve(t, "mia"), srcOrg, zcv1.ResolutionReason_RESOLUTION_REASON_ORG_CONNECTED, zoomemu.DevMemberID)

	// Another user may not detach mia.
	err = o.tr.call(t, o.userToken(t, "adam"), zcv1.ConnectionService_DetachFromOrgConnection_FullMethodName,
		&zcv1.DetachFromOrgConnectionRequest{OrgId: o.id, UserId: "mia"}, &zcv1.DetachFromOrgConnectionResponse{})
	wantCode(t, err, codes.PermissionDenied, auth.ReasonNotTheUser)

	kinds := o.activityKinds(t)
	if kinds[0] != zcv1.ActivityKind_ACTIVITY_KIND_USER_REATTACHED || kinds[1] != zcv1.ActivityKind_ACTIVITY_KIND_USER_DETACHED ||
		kinds[2] != zcv1.ActivityKind_ACTIVITY_KIND_SETTINGS_CHANGED {
		t.Fatalf("activity = %v", kinds)
	}
	resp := &zcv1.ListActivityResponse{}
	must(t, o.tr.call(t, o.admin, zcv1.ConnectionService_ListActivity_FullMethodName, &zcv1.ListActivityRequest{OrgId: o.id, PageSize: 3}, resp))
	if d := resp.GetEntries()[2].GetDetails(); d["allowUsersToDetach"] != "false → true" || resp.GetEntries()[2].GetActor() != "adam" {
		t.Fatalf("settings change entry = %v", resp.GetEntries()[2])
	}
	_, err = o.disconnect(t, o.owner)
	must(t, err)
}

func (o *org) roster(t testing.TB, tok string, req *zcv1.ListConnectedUsersRequest) (*zcv1.ListConnectedUsersResponse, error) {
	req.OrgId = o.id
	resp := &zcv1.ListConnectedUsersResponse{}
	return resp, o.tr.call(t, tok, zcv1.ConnectionService_ListConnectedUsers_FullMethodName, req, resp)
}

func roster(t testing.TB, o *org) {
	o.connect(t)
	o.upsertMembers(t)
	o.connectPersonal(t, "adam", zoomemu.DevOtherOwnerID)

	var rows []*zcv1.ConnectedUser
	token := ""
	for {
		resp, err := o.roster(t, o.admin, &zcv1.ListConnectedUsersRequest{PageSize: 2, PageToken: token})
		must(t, err)
		rows = append(rows, resp.GetUsers()...)
		if token = resp.GetNextPageToken(); token == "" {
			break
		}
	}
	want := map[string]struct {
		status zcv1.ConnectedUserStatus
		typ    zcv1.ConnectionSource
	}{
		"adam": {zcv1.ConnectedUserStatus_CONNECTED_USER_STATUS_CONNECTED, srcPersonal},
		"liam": {zcv1.ConnectedUserStatus_CONNECTED_USER_STATUS_NOT_IN_ZOOM_ACCOUNT, srcOrg},
		"mia":  {zcv1.ConnectedUserStatus_CONNECTED_USER_STATUS_CONNECTED, srcOrg},
	}
	if len(rows) != len(want) {
		t.Fatalf("roster has %d rows: %v", len(rows), rows)
	}
	for i, r := range rows {
		w := want[r.GetMember().GetUserId()]
		if r.GetStatus() != w.status || r.GetType() != w.typ {
			t.Fatalf("roster row %v, want %v", r, w)
		}
		if i > 0 && rows[i-1].GetMember().GetUserId() >= r.GetMember().GetUserId() {
			t.Fatalf("roster not in user id order: %v", rows)
		}
	}
	resp, err := o.roster(t, o.admin, &zcv1.ListConnectedUsersRequest{Type: srcPersonal})
	must(t, err)
	if len(resp.GetUsers()) != 1 || resp.GetUsers()[0].GetMember().GetUserId() != "adam" {
		t.Fatalf("personal filter = %v", resp.GetUsers())
	}
	resp, err = o.roster(t, o.admin, &zcv1.ListConnectedUsersRequest{Status: zcv1.ConnectedUserStatus_CONNECTED_USER_STATUS_NOT_IN_ZOOM_ACCOUNT})
	must(t, err)
	if len(resp.GetUsers()) != 1 || resp.GetUsers()[0].GetMember().GetUserId() != "liam" {
		t.Fatalf("status filter = %v", resp.GetUsers())
	}

	// Search matches name or email, ignoring case, and combines with filters.
	for query, want := range map[string][]string{"LOST": {"liam"}, "@acme.EXAMPLE": {"adam", "liam", "mia"}, "admin@": {"adam"}, "zz": nil} {
		var got []string
		for token := ""; ; {
			resp, err = o.roster(t, o.admin, &zcv1.ListConnectedUsersRequest{Query: query, PageSize: 1, PageToken: token})
			must(t, err)
			for _, u := range resp.GetUsers() {
				got = append(got, u.GetMember().GetUserId())
			}
			if token = resp.GetNextPageToken(); token == "" {
				break
			}
		}
		if !slices.Equal(got, want) {
			t.Fatalf("search %q = %v, want %v", query, got, want)
		}
	}
	resp, err = o.roster(t, o.admin, &zcv1.ListConnectedUsersRequest{Query: "Member", Type: srcPersonal})
	must(t, err)
	if len(resp.GetUsers()) != 0 {
		t.Fatalf("search with a type filter = %v", resp.GetUsers())
	}
	_, err = o.roster(t, o.admin, &zcv1.ListConnectedUsersRequest{Query: strings.Repeat("x", 201)})
	wantCode(t, err, codes.InvalidArgument, zcv1.ErrorReason_ERROR_REASON_QUERY_TOO_LONG)

	_, err = o.roster(t, personToken(t, "eve", "other-org", auth.RoleAdmin), &zcv1.ListConnectedUsersRequest{})
	wantCode(t, err, codes.PermissionDenied, auth.ReasonWrongOrg)
	_, err = o.roster(t, o.mem, &zcv1.ListConnectedUsersRequest{})
	wantCode(t, err, codes.PermissionDenied, auth.ReasonRoleRequired)
	_, err = o.roster(t, o.admin, &zcv1.ListConnectedUsersRequest{PageToken: "!!"})
	wantCode(t, err, codes.InvalidArgument, zcv1.ErrorReason_ERROR_REASON_INVALID_PAGE_TOKEN)

	// The disconnect answers with the members it cost Zoom: those the
	// preview listed just before (adam keeps his personal account).
	preview := &zcv1.PreviewOrgDisconnectResponse{}
	must(t, o.tr.call(t, o.owner, zcv1.ConnectionService_PreviewOrgDisconnect_FullMethodName, &zcv1.PreviewOrgDisconnectRequest{OrgId: o.id}, preview))
	disconnected := &zcv1.DisconnectOrgConnectionResponse{}
	must(t, o.tr.call(t, o.owner, disconnectRPC, &zcv1.DisconnectOrgConnectionRequest{OrgId: o.id}, disconnected))
	ids := func(ms []*zcv1.OrgMember) (out []string) {
		for _, m := range ms {
			out = append(out, m.GetUserId()+" "+m.GetEmail()+" "+m.GetName())
		}
		return out
	}
	if got, want := ids(disconnected.GetAffectedUsers()), ids(preview.GetAffectedUsers()); !slices.Equal(got, want) || !slices.Contains(got, "mia member@acme.example Mia Member") || slices.ContainsFunc(got, func(s string) bool { return strings.HasPrefix(s, "adam ") }) {
		t.Fatalf("disconnect affected %v, preview listed %v", got, want)
	}
	must(t, o.tr.call(t, o.userToken(t, "adam"), zcv1.ConnectionService_DisconnectPersonalConnection_FullMethodName,
		&zcv1.DisconnectPersonalConnectionRequest{OrgId: o.id, UserId: "adam"}, &zcv1.DisconnectPersonalConnectionResponse{}))
}

func batch(t testing.TB, o *org) {
	o.connect(t)
	o.upsertMembers(t)
	ids := make([]string, 100)
	for i := range ids {
		ids[i] = []string{"mia", "adam", "liam", "stranger"}[i%4]
	}
	resp := &zcv1.BatchGetEffectiveZoomAccountsResponse{}
	must(t, o.tr.call(t, internalToken(t), zcv1.ConnectionService_BatchGetEffectiveZoomAccounts_FullMethodName,
		&zcv1.BatchGetEffectiveZoomAccountsRequest{OrgId: o.id, UserIds: ids}, resp))
	if len(resp.GetAccounts()) != 100 {
		t.Fatalf("%d answers for 100 users", len(resp.GetAccounts()))
	}
	for i, a := range resp.GetAccounts() {
		if a.GetUserId() != ids[i] {
			t.Fatalf("answer %d is for %q, want %q", i, a.GetUserId(), ids[i])
		}
	}
	if a := resp.GetAccounts()[0]; a.GetSource() != srcOrg || a.GetZoomUserId() != zoomemu.DevMemberID {
		t.Fatalf("mia in the batch = %v", a)
	}
	err := o.tr.call(t, internalToken(t), zcv1.ConnectionService_BatchGetEffectiveZoomAccounts_FullMethodName,
		&zcv1.BatchGetEffectiveZoomAccountsRequest{OrgId: o.id, UserIds: append(ids, "one-too-many")}, resp)
	wantCode(t, err, codes.InvalidArgument, zcv1.ErrorReason_ERROR_REASON_TOO_MANY_USERS)
	err = o.tr.call(t, o.mem, zcv1.ConnectionService_BatchGetEffectiveZoomAccounts_FullMethodName,
		&zcv1.BatchGetEffectiveZoomAccountsRequest{OrgId: o.id, UserIds: ids[:1]}, resp)
	wantCode(t, err, codes.PermissionDenied, auth.ReasonInternalOnly)
	_, err = o.disconnect(t, o.owner)
	must(t, err)
}

// TestReplicasSeeEachOthersChanges: each replica caches resolutions in
// memory; a change made through one must reach the other within 1 second.
func TestReplicasSeeEachOthersChanges(t *testing.T) {
	for _, b := range backends[1:] { // the embedded store is single-process
		t.Run(b.name, func(t *testing.T) {
			a := newHarness(t, b.redisURL(t))
			z := a.replica(t)
			oa, oz := newOrg(a, t, grpcTransport{a}, "replicas"), newOrg(z, t, grpcTransport{z}, "replicas")
			oa.connect(t)
			oa.upsertMembers(t)
			wantResolution(t, oz.resolve(t, "mia"), srcOrg, zcv1.ResolutionReason_RESOLUTION_REASON_ORG_CONNECTED, zoomemu.DevMemberID)

			seenWithin := func(o *org, user string, want zcv1.ResolutionReason) time.Duration {
				t.Helper()
				began := time.Now()
				for o.resolve(t, user).GetReason() != want {
					if time.Since(began) > 3*time.Second {
						t.Fatalf("replica still answers the old resolution after %v", time.Since(began))
					}
					time.Sleep(5 * time.Millisecond)
				}
				return time.Since(began)
			}
			// A changes (settings, then a detach): Z sees it.
			_, err := oa.updateSettings(t, oa.admin, &zcv1.OrgZoomSettings{AllowUsersToDetach: true}, "allow_users_to_detach")
			must(t, err)
			_, err = oa.detachCall(t, "mia")
			must(t, err)
			if d := seenWithin(oz, "mia", zcv1.ResolutionReason_RESOLUTION_REASON_USER_DETACHED); d > time.Second {
				t.Fatalf("replica Z saw the detach after %v, want within 1 s", d)
			}
			// Z changes (the org disconnects): A sees it.
			wantResolution(t, oa.resolve(t, "adam"), srcOrg, zcv1.ResolutionReason_RESOLUTION_REASON_ORG_CONNECTED, zoomemu.DevAdminID)
			_, err = oz.disconnect(t, oz.owner)
			must(t, err)
			if d := seenWithin(oa, "adam", zcv1.ResolutionReason_RESOLUTION_REASON_NO_CONNECTION); d > time.Second {
				t.Fatalf("replica A saw the disconnect after %v, want within 1 s", d)
			}
		})
	}
}
