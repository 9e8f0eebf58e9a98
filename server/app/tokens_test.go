package app_test

import (
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4/jwt"
	zcv1 "github.com/zoomconnect/zoomconnect/gen/zoomconnect/v1"
	"github.com/zoomconnect/zoomconnect/server/auth"
	"github.com/zoomconnect/zoomconnect/server/config"
	"github.com/zoomconnect/zoomconnect/server/errs"
	"google.golang.org/grpc/codes"
)

// TestCallerTokenIssuerAudienceAndLifetime: with an issuer and audience
// configured, a token of the same secret for another issuer or service is
// refused, and so is a person token that lives longer than the maximum;
// internal-service tokens are exempt from the maximum. Same over gRPC and
// REST.
func TestCallerTokenIssuerAudienceAndLifetime(t *testing.T) {
	const iss, aud = "https://idp.example.test", "zoomconnect"
	h := newHarness(t, "", withService(func(c *config.Config) {
		c.AuthIssuer, c.AuthAudience, c.AuthMaxTokenLifetime = iss, aud, 24*time.Hour
	}))
	now := time.Now()
	mintAt := func(c auth.Claims, issuer, audience string, lifetime time.Duration) string {
		c.Issuer, c.Audience = issuer, jwt.Audience{audience}
		c.IssuedAt, c.Expiry = jwt.NewNumericDate(now), jwt.NewNumericDate(now.Add(lifetime))
		return token(t, c)
	}
	person := auth.Claims{Subject: "mia", OrgID: "acme", OrgRole: auth.RoleMember}
	service := auth.Claims{Subject: "booking-service", Scope: auth.Scope{auth.InternalScope}}
	for _, tc := range []struct {
		name   string
		tok    string
		reason errs.Reason // 0: accepted
	}{
		{"matching person token", mintAt(person, iss, aud, time.Hour), 0},
		{"another service's audience", mintAt(person, iss, "calendar", time.Hour), auth.ReasonTokenAudienceMismatch},
		{"another issuer", mintAt(person, "https://other-idp.test", aud, time.Hour), auth.ReasonTokenIssuerMismatch},
		{"person token living 25h", mintAt(person, iss, aud, 25*time.Hour), auth.ReasonTokenLifetimeTooLong},
		{"person token living exactly 24h", mintAt(person, iss, aud, 24*time.Hour), 0},
		{"service token living 30 days", mintAt(service, iss, aud, 30*24*time.Hour), 0},
		{"service token for another audience", mintAt(service, iss, "calendar", time.Hour), auth.ReasonTokenAudienceMismatch},
	} {
		for _, tr := range transports(h) {
			t.Run(tc.name+"/"+tr.name(), func(t *testing.T) {
				err := tr.call(t, tc.tok, getMethod, &zcv1.GetOrgConnectionRequest{OrgId: "acme"}, &zcv1.GetOrgConnectionResponse{})
				if tc.reason == 0 {
					must(t, err)
					return
				}
				wantCode(t, err, codes.Unauthenticated, tc.reason)
			})
		}
	}
}
