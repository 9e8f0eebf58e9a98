package app_test

import (
	"net/http"
	"testing"

	zcv1 "github.com/zoomconnect/zoomconnect/gen/zoomconnect/v1"
	"github.com/zoomconnect/zoomconnect/server/internal/webtest"
	"github.com/zoomconnect/zoomconnect/server/zoomemu"
)

// TestPersonalConsentIsBoundToTheBrowser: a personal connection completes
// only in the browser that opened the member's link (a short-lived
// HttpOnly, SameSite=Lax cookie set before the redirect to Zoom), so an
// approval by someone else cannot be planted on the member; the member is
// shown which Zoom user they approved as.
func TestPersonalConsentIsBoundToTheBrowser(t *testing.T) {
	forEachBackend(t, func(t *testing.T, redisURL string) {
		h := newHarness(t, redisURL)
		o := newOrg(h, t, grpcTransport{h}, "consent")
		// The org's install link stays shareable: the Zoom admin opens it in
		// their own browser. (Members are registered after it: registering
		// a member of a connected org looks them up at once, not in the
		// background, which would outlive the test.)
		webtest.WantPage(t, h.approve(t, o.mustStart(t).GetInstallUrl(), zoomemu.DevAdminID), http.StatusOK, o.id)
		o.upsertMembers(t)
		start := func() string {
			resp := &zcv1.StartPersonalConnectionResponse{}
			must(t, o.tr.call(t, o.userToken(t, "mia"), zcv1.ConnectionService_StartPersonalConnection_FullMethodName,
				&zcv1.StartPersonalConnectionRequest{OrgId: o.id, UserId: "mia"}, resp))
			return resp.GetAuthorizeUrl()
		}
		member, attacker := webtest.NewBrowser(t), webtest.NewBrowser(t)

		t.Run("an approval made elsewhere, delivered to the member's browser, is refused", func(t *testing.T) {
			// Login CSRF: the attacker starts and approves at Zoom as their
			// own Zoom user, then makes the member's browser load the callback.
			authorize := h.openPersonalLink(t, attacker, start())
			callback, _ := attacker.SignInAtZoom(authorize, zoomemu.DevOtherOwnerID, "allow")
			webtest.WantPage(t, member.Get(callback), http.StatusForbidden, "OAUTH_BROWSER_MISMATCH")
			if s := o.setup(t, "mia"); s.GetPersonal() != nil && s.GetPersonal().GetState() == active {
				t.Fatalf("the attacker's Zoom user became the member's: %v", s.GetPersonal())
			}
		})

		t.Run("a link opened in another browser first does not work in the member's", func(t *testing.T) {
			link := start()
			h.openPersonalLink(t, attacker, link)
			webtest.WantPage(t, member.Get(link), http.StatusForbidden, "OAUTH_BROWSER_MISMATCH", "another browser")
		})

		t.Run("the member's own browser connects and is told as whom", func(t *testing.T) {
			link := start()
			h.openPersonalLink(t, member, link)
			authorize := h.openPersonalLink(t, member, link) // reopening in the same browser is fine
			callback, _ := member.SignInAtZoom(authorize, zoomemu.DevOtherOwnerID, "allow")
			webtest.WantPage(t, member.Get(callback), http.StatusOK, "You approved as the Zoom user Gus Globex (owner@globex.example)",
				zoomemu.DevOtherAccountID)
			if p := o.setup(t, "mia").GetPersonal(); p.GetState() != active || p.GetZoomEmail() != "owner@globex.example" {
				t.Fatalf("personal connection = %v", p)
			}
		})
	})
}
