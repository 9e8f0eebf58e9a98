package app_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	zcv1 "github.com/zoomconnect/zoomconnect/gen/zoomconnect/v1"
	"github.com/zoomconnect/zoomconnect/server/auth"
	"github.com/zoomconnect/zoomconnect/server/config"
	"github.com/zoomconnect/zoomconnect/server/internal/webtest"
	"github.com/zoomconnect/zoomconnect/server/zoomemu"
	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/types/known/timestamppb"
)

const (
	pending        = zcv1.ConnectionState_CONNECTION_STATE_PENDING
	active         = zcv1.ConnectionState_CONNECTION_STATE_ACTIVE
	notConnected   = zcv1.ConnectionState_CONNECTION_STATE_NOT_CONNECTED
	byAdmin        = zcv1.ConnectionStateReason_CONNECTION_STATE_REASON_DISCONNECTED_BY_ADMIN
	linkExpired    = zcv1.ConnectionStateReason_CONNECTION_STATE_REASON_INSTALL_LINK_EXPIRED
	noReason       = zcv1.ConnectionStateReason_CONNECTION_STATE_REASON_UNSPECIFIED
	startMethod    = zcv1.ConnectionService_StartOrgConnection_FullMethodName
	getMethod      = zcv1.ConnectionService_GetOrgConnection_FullMethodName
	disconnectRPC  = zcv1.ConnectionService_DisconnectOrgConnection_FullMethodName
	zoomAdminEmail = "admin@acme.example"
)

// org is one scheduling organization driven through one transport.
type org struct {
	h     *harness
	tr    transport
	id    string
	owner string // token of an owner
	admin string // token of an admin
	mem   string // token of a member
}

func newOrg(h *harness, t testing.TB, tr transport, name string) *org {
	id := name + "-" + tr.name()
	return &org{
		h: h, tr: tr, id: id,
		owner: personToken(t, "olivia", id, auth.RoleOwner),
		admin: personToken(t, "adam", id, auth.RoleAdmin),
		mem:   personToken(t, "mia", id, auth.RoleMember),
	}
}

func (o *org) start(t testing.TB, tok string) (*zcv1.StartOrgConnectionResponse, error) {
	t.Helper()
	resp := &zcv1.StartOrgConnectionResponse{}
	return resp, o.tr.call(t, tok, startMethod, &zcv1.StartOrgConnectionRequest{OrgId: o.id}, resp)
}

func (o *org) get(t testing.TB, tok string) (*zcv1.OrgConnection, error) {
	t.Helper()
	resp := &zcv1.GetOrgConnectionResponse{}
	err := o.tr.call(t, tok, getMethod, &zcv1.GetOrgConnectionRequest{OrgId: o.id}, resp)
	return resp.GetConnection(), err
}

func (o *org) disconnect(t testing.TB, tok string) (*zcv1.OrgConnection, error) {
	t.Helper()
	resp := &zcv1.DisconnectOrgConnectionResponse{}
	err := o.tr.call(t, tok, disconnectRPC, &zcv1.DisconnectOrgConnectionRequest{OrgId: o.id}, resp)
	return resp.GetConnection(), err
}

func (o *org) mustStart(t testing.TB) *zcv1.StartOrgConnectionResponse {
	t.Helper()
	res, err := o.start(t, o.owner)
	must(t, err)
	return res
}

func (o *org) wantState(t testing.TB, state zcv1.ConnectionState, reason zcv1.ConnectionStateReason) *zcv1.OrgConnection {
	t.Helper()
	c, err := o.get(t, o.mem)
	must(t, err)
	if c.GetState() != state || c.GetReason() != reason || c.GetOrgId() != o.id {
		t.Fatalf("connection = %v, want state %s reason %s", c, state, reason)
	}
	return c
}

// connect runs the whole flow with the Zoom admin and returns the connection.
func (o *org) connect(t testing.TB) *zcv1.OrgConnection {
	t.Helper()
	webtest.WantPage(t, o.h.approve(t, o.mustStart(t).GetInstallUrl(), zoomemu.DevAdminID), http.StatusOK, o.id, zoomemu.DevAccountID)
	c := o.wantState(t, active, noReason)
	o.waitMatched(t)
	return c
}

func nearly(t testing.TB, got *timestamppb.Timestamp, want time.Time) {
	t.Helper()
	if d := got.AsTime().Sub(want); d < -time.Minute || d > time.Minute {
		t.Fatalf("time %v, want about %v", got.AsTime(), want)
	}
}

func TestOrgConnection(t *testing.T) {
	forEachBackend(t, func(t *testing.T, redisURL string) {
		h := newHarness(t, redisURL)
		for _, tr := range transports(h) {
			t.Run(tr.name(), func(t *testing.T) {
				t.Run("happy path, restarting between every step", func(t *testing.T) { happyPath(t, newOrg(h, t, tr, "happy")) })
				t.Run("a Zoom user who is not an admin cannot approve", func(t *testing.T) { notAdmin(t, newOrg(h, t, tr, "notadmin")) })
				t.Run("the Zoom admin denies consent", func(t *testing.T) { denied(t, newOrg(h, t, tr, "denied")) })
				t.Run("replaced links and replayed states", func(t *testing.T) { replacedAndReplayed(t, newOrg(h, t, tr, "replay")) })
				t.Run("callers are authorized", func(t *testing.T) { authorization(t, newOrg(h, t, tr, "authz"), h) })
				t.Run("disconnect while Zoom's revoke endpoint is down", func(t *testing.T) { revokeDown(t, newOrg(h, t, tr, "revokedown")) })
				t.Run("a failed code exchange changes nothing", func(t *testing.T) { exchangeFails(t, newOrg(h, t, tr, "exchange")) })
			})
		}
		t.Run("expired links and states", func(t *testing.T) {
			h := newHarness(t, redisURL, withService(func(c *config.Config) {
				c.InstallLinkTTL = 2 * time.Second
				c.OAuthStateTTL = time.Second
			}))
			expired(t, newOrg(h, t, grpcTransport{h}, "expiry"))
		})
	})
}

func happyPath(t testing.TB, o *org) {
	h := o.h
	res := o.mustStart(t)
	if !strings.HasPrefix(res.GetInstallUrl(), h.baseURL()+"/oauth/zoom/install/") {
		t.Fatalf("install_url %q is not under %s/oauth/zoom/install/", res.GetInstallUrl(), h.baseURL())
	}
	nearly(t, res.GetExpiresAt(), time.Now().Add(7*24*time.Hour))
	if c := res.GetConnection(); c.GetState() != pending || c.GetPendingStartedBy() != "olivia" || !c.GetExpiresAt().AsTime().Equal(res.GetExpiresAt().AsTime()) {
		t.Fatalf("connection after start = %v", c)
	}

	h.restart()
	if c := o.wantState(t, pending, noReason); !c.GetExpiresAt().AsTime().Equal(res.GetExpiresAt().AsTime()) {
		t.Fatalf("pending expires_at changed over a restart: %v", c)
	}
	authorize := h.openInstallLink(t, res.GetInstallUrl())

	h.restart()
	callback, zp := h.browser.SignInAtZoom(authorize, zoomemu.DevAdminID, "allow")
	if callback == "" {
		t.Fatalf("Zoom refused the admin: %v", zp)
	}

	h.restart()
	webtest.WantPage(t, h.browser.Get(callback), http.StatusOK, o.id, zoomemu.DevAccountID, zoomAdminEmail)

	h.restart()
	c := o.wantState(t, active, noReason)
	if c.GetZoomAccountId() != zoomemu.DevAccountID || c.GetInstallerEmail() != zoomAdminEmail ||
		c.GetInstallerZoomUserId() != zoomemu.DevAdminID || c.GetConnectedBy() != "olivia" || c.GetExpiresAt() != nil {
		t.Fatalf("active connection = %v", c)
	}
	nearly(t, c.GetConnectedAt(), time.Now())
	if n := h.zoom.ActiveGrants(orgClientID, zoomemu.DevAdminID); n != 1 {
		t.Fatalf("Zoom holds %d grants for the admin, want 1", n)
	}
	h.assertNoTokenAtRest(t, true)

	_, err := o.start(t, o.owner)
	wantCode(t, err, codes.FailedPrecondition, zcv1.ErrorReason_ERROR_REASON_ORG_ALREADY_CONNECTED)
	webtest.WantPage(t, h.browser.Get(res.GetInstallUrl()), http.StatusNotFound, "INSTALL_LINK_INVALID")

	h.restart()
	revokes := h.zoom.Stats().Revokes
	d, err := o.disconnect(t, o.admin)
	must(t, err)
	if d.GetState() != notConnected || d.GetReason() != byAdmin || d.GetZoomAccountId() != "" {
		t.Fatalf("after disconnect = %v", d)
	}
	if n := h.zoom.ActiveGrants(orgClientID, zoomemu.DevAdminID); n != 0 {
		t.Fatalf("Zoom still holds %d grants after disconnect", n)
	}
	if got := h.zoom.Stats().Revokes - revokes; got != 1 {
		t.Fatalf("disconnect revoked %d times at Zoom, want 1", got)
	}
	h.restart()
	o.wantState(t, notConnected, byAdmin)
	h.assertTokensDeleted(t, o.id)
}

func notAdmin(t testing.TB, o *org) {
	h := o.h
	res := o.mustStart(t)

	// Zoom itself refuses a plain member on an admin-managed app.
	_, zp := h.browser.SignInAtZoom(h.openInstallLink(t, res.GetInstallUrl()), zoomemu.DevMemberID, "allow")
	webtest.WantPage(t, zp, http.StatusForbidden, "An account admin is required")
	o.wantState(t, pending, noReason)

	// A custom role with app permissions passes Zoom, but is not an Owner or
	// Admin: the service refuses, revokes and stores nothing.
	callback, _ := h.browser.SignInAtZoom(h.openInstallLink(t, res.GetInstallUrl()), zoomemu.DevAppManagerID, "allow")
	if callback == "" {
		t.Fatal("Zoom refused the custom-role user")
	}
	webtest.WantPage(t, h.browser.Get(callback), http.StatusForbidden, "ZOOM_USER_NOT_ADMIN", "apps@acme.example", "not an Owner or Admin", "Zoom admin")
	if n := h.zoom.ActiveGrants(orgClientID, zoomemu.DevAppManagerID); n != 0 {
		t.Fatalf("the non-admin's grant was not revoked (%d left)", n)
	}
	o.wantState(t, pending, noReason)
	h.assertNoTokenAtRest(t, false)

	// The same link still works for a real admin.
	webtest.WantPage(t, h.approve(t, res.GetInstallUrl(), zoomemu.DevAdminID), http.StatusOK)
	o.wantState(t, active, noReason)
	_, err := o.disconnect(t, o.owner)
	must(t, err)
}

func denied(t testing.TB, o *org) {
	h := o.h
	res := o.mustStart(t)
	callback, _ := h.browser.SignInAtZoom(h.openInstallLink(t, res.GetInstallUrl()), zoomemu.DevAdminID, "deny")
	if !strings.Contains(callback, "error=access_denied") {
		t.Fatalf("Zoom's deny redirect = %q", callback)
	}
	webtest.WantPage(t, h.browser.Get(callback), http.StatusForbidden, "ZOOM_ACCESS_DENIED", "not approved")
	o.wantState(t, pending, noReason)
	webtest.WantPage(t, h.approve(t, res.GetInstallUrl(), zoomemu.DevAdminID), http.StatusOK)
	_, err := o.disconnect(t, o.owner)
	must(t, err)
}

func replacedAndReplayed(t testing.TB, o *org) {
	h := o.h
	first := o.mustStart(t)
	firstAuthorize := h.openInstallLink(t, first.GetInstallUrl())
	second := o.mustStart(t)
	if second.GetInstallUrl() == first.GetInstallUrl() {
		t.Fatal("starting again returned the same link")
	}
	webtest.WantPage(t, h.browser.Get(first.GetInstallUrl()), http.StatusNotFound, "INSTALL_LINK_INVALID")

	// A Zoom admin finishing the first link's sign-in is refused before the
	// code is exchanged: no grant is made at Zoom.
	callback, _ := h.browser.SignInAtZoom(firstAuthorize, zoomemu.DevAdminID, "allow")
	webtest.WantPage(t, h.browser.Get(callback), http.StatusGone, "INSTALL_LINK_REPLACED")
	if n := h.zoom.ActiveGrants(orgClientID, zoomemu.DevAdminID); n != 0 {
		t.Fatalf("a replaced link produced %d grants", n)
	}
	if c := o.wantState(t, pending, noReason); !c.GetExpiresAt().AsTime().Equal(second.GetExpiresAt().AsTime()) {
		t.Fatalf("pending link is not the second one: %v", c)
	}

	callback, _ = h.browser.SignInAtZoom(h.openInstallLink(t, second.GetInstallUrl()), zoomemu.DevAdminID, "allow")
	webtest.WantPage(t, h.browser.Get(callback), http.StatusOK)
	webtest.WantPage(t, h.browser.Get(callback), http.StatusBadRequest, "OAUTH_STATE_INVALID") // replayed
	o.wantState(t, active, noReason)
	if n := h.zoom.ActiveGrants(orgClientID, zoomemu.DevAdminID); n != 1 {
		t.Fatalf("Zoom holds %d grants, want 1", n)
	}

	for _, bad := range []string{"", "?state=", "?state=garbage&code=x", "?state=" + strings.Repeat("A", 5000) + "&code=x", "?code=abc"} {
		webtest.WantPage(t, h.browser.Get(h.baseURL()+"/oauth/zoom/callback"+bad), http.StatusBadRequest, "OAUTH_STATE_INVALID")
	}
	for _, bad := range []string{"x", "eA.", ".abc", "bm9wZQ.abc", strings.Repeat("z", 3000)} {
		webtest.WantPage(t, h.browser.Get(h.baseURL()+"/oauth/zoom/install/"+bad), http.StatusNotFound, "INSTALL_LINK_INVALID")
	}
	_, err := o.disconnect(t, o.owner)
	must(t, err)
}

func expired(t testing.TB, o *org) {
	h := o.h
	res := o.mustStart(t)
	authorize := h.openInstallLink(t, res.GetInstallUrl())
	time.Sleep(1200 * time.Millisecond) // past the 1 s state lifetime
	callback, _ := h.browser.SignInAtZoom(authorize, zoomemu.DevAdminID, "allow")
	webtest.WantPage(t, h.browser.Get(callback), http.StatusBadRequest, "OAUTH_STATE_INVALID")

	time.Sleep(time.Until(res.GetExpiresAt().AsTime()) + 100*time.Millisecond)
	webtest.WantPage(t, h.browser.Get(res.GetInstallUrl()), http.StatusGone, "INSTALL_LINK_EXPIRED")
	o.wantState(t, notConnected, linkExpired)
	if n := h.zoom.ActiveGrants(orgClientID, zoomemu.DevAdminID); n != 0 {
		t.Fatalf("expired attempts produced %d grants", n)
	}
}

func authorization(t testing.TB, o *org, h *harness) {
	other := personToken(t, "eve", "other-org", auth.RoleOwner)
	expiredTok := token(t, auth.Claims{Subject: "olivia", OrgID: o.id, OrgRole: auth.RoleOwner,
		Expiry: jwtDate(time.Now().Add(-time.Hour)), IssuedAt: jwtDate(time.Now().Add(-2 * time.Hour))})

	_, err := o.start(t, o.mem)
	wantCode(t, err, codes.PermissionDenied, auth.ReasonRoleRequired)
	_, err = o.disconnect(t, o.mem)
	wantCode(t, err, codes.PermissionDenied, auth.ReasonRoleRequired)
	for _, call := range []func(testing.TB, string) error{
		func(t testing.TB, tok string) error { _, err := o.start(t, tok); return err },
		func(t testing.TB, tok string) error { _, err := o.get(t, tok); return err },
		func(t testing.TB, tok string) error { _, err := o.disconnect(t, tok); return err },
	} {
		wantCode(t, call(t, other), codes.PermissionDenied, auth.ReasonWrongOrg)
		wantCode(t, call(t, ""), codes.Unauthenticated, auth.ReasonTokenMissing)
		wantCode(t, call(t, expiredTok), codes.Unauthenticated, auth.ReasonTokenExpired)
		wantCode(t, call(t, "not.a.jwt"), codes.Unauthenticated, 0)
	}
	_, err = o.start(t, internalToken(t))
	wantCode(t, err, codes.PermissionDenied, auth.ReasonInternalNotAllowed)
	c, err := o.get(t, internalToken(t))
	must(t, err)
	if c.GetState() != notConnected || c.GetReason() != noReason {
		t.Fatalf("never-connected org = %v", c)
	}
	bad := &org{h: h, tr: o.tr, id: "bad{org}"}
	_, err = bad.get(t, internalToken(t))
	wantCode(t, err, codes.InvalidArgument, zcv1.ErrorReason_ERROR_REASON_INVALID_ORG_ID)

	err = o.tr.call(t, o.mem, zcv1.ConnectionService_PreviewOrgDisconnect_FullMethodName,
		&zcv1.PreviewOrgDisconnectRequest{OrgId: o.id}, &zcv1.PreviewOrgDisconnectResponse{})
	wantCode(t, err, codes.PermissionDenied, auth.ReasonRoleRequired)
}

func revokeDown(t testing.TB, o *org) {
	h := o.h
	o.connect(t)
	h.zoom.InjectFault(zoomemu.EndpointRevoke, zoomemu.Fault{Status: http.StatusServiceUnavailable, Body: "upstream unavailable"})
	defer h.zoom.ClearFaults()
	d, err := o.disconnect(t, o.owner)
	must(t, err)
	if d.GetState() != notConnected || d.GetReason() != byAdmin {
		t.Fatalf("after disconnect = %v", d)
	}
	h.assertTokensDeleted(t, o.id)

	// A Zoom that hangs is given a bounded part of the caller's deadline.
	o.connect(t)
	h.zoom.InjectFault(zoomemu.EndpointRevoke, zoomemu.Fault{Delay: time.Minute})
	began := time.Now()
	_, err = o.disconnect(t, o.owner) // the test transports allow 10 s
	must(t, err)
	if took := time.Since(began); took > 8*time.Second {
		t.Fatalf("disconnect waited %v for a hanging Zoom", took)
	}
	o.wantState(t, notConnected, byAdmin)
}

func exchangeFails(t testing.TB, o *org) {
	h := o.h
	res := o.mustStart(t)
	h.zoom.InjectFault(zoomemu.EndpointToken, zoomemu.Fault{Status: http.StatusBadRequest, Times: 1,
		Body: `{"reason":"Invalid authorization code","error":"invalid_request"}`})
	webtest.WantPage(t, h.approve(t, res.GetInstallUrl(), zoomemu.DevAdminID), http.StatusBadGateway, "ZOOM_CODE_EXCHANGE_FAILED")
	o.wantState(t, pending, noReason)
	h.zoom.InjectFault(zoomemu.EndpointToken, zoomemu.Fault{Status: http.StatusServiceUnavailable, Times: 1, Body: "down"})
	webtest.WantPage(t, h.approve(t, res.GetInstallUrl(), zoomemu.DevAdminID), http.StatusBadGateway)
	o.wantState(t, pending, noReason)
	webtest.WantPage(t, h.approve(t, res.GetInstallUrl(), zoomemu.DevAdminID), http.StatusOK)
	_, err := o.disconnect(t, o.owner)
	must(t, err)
}
