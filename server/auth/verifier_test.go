package auth

import (
	"context"
	"encoding/base64"
	"reflect"
	"strings"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/zoomconnect/zoomconnect/server/errs"
)

func TestNewVerifierConfig(t *testing.T) {
	for _, tc := range []struct {
		name string
		cfg  VerifierConfig
		want string
	}{
		{"nothing", VerifierConfig{}, "HS256 secret, a JWKS URL, or both"},
		{"short secret", VerifierConfig{HS256Secret: testSecret[:31]}, "at least 32 bytes"},
		{"relative URL", VerifierConfig{JWKSURL: "/jwks.json"}, "not an absolute http(s) URL"},
		{"ftp URL", VerifierConfig{JWKSURL: "ftp://idp/jwks"}, "not an absolute http(s) URL"},
		{"negative leeway", VerifierConfig{HS256Secret: testSecret, Leeway: -time.Second}, "leeway"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.cfg.Logger = quiet
			_, err := NewVerifier(context.Background(), tc.cfg)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error = %v, want it to contain %q", err, tc.want)
			}
		})
	}
}

func TestVerifyClaimRules(t *testing.T) {
	with := func(mod func(*Claims)) Claims {
		c := memberClaims()
		mod(&c)
		return c
	}
	const leeway = 30 * time.Second
	for _, tc := range []struct {
		name   string
		claims Claims
		cfg    func(*VerifierConfig)
		reason errs.Reason // 0 means valid
	}{
		{name: "member", claims: memberClaims()},
		{name: "owner", claims: with(func(c *Claims) { c.OrgRole = RoleOwner })},
		{name: "admin", claims: with(func(c *Claims) { c.OrgRole = RoleAdmin })},
		{name: "internal without sub", claims: with(func(c *Claims) {
			*c = internalClaims()
			c.Subject = ""
		})},
		{name: "internal among other scopes", claims: with(func(c *Claims) {
			*c = internalClaims()
			c.Scope = Scope{"a", InternalScope, "b"}
		})},
		{name: "internal with org", reason: ReasonTokenInvalid, claims: with(func(c *Claims) {
			c.Scope = Scope{InternalScope}
			c.OrgRole = ""
		})},
		{name: "internal with role", reason: ReasonTokenInvalid, claims: with(func(c *Claims) {
			*c = internalClaims()
			c.OrgRole = RoleOwner
		})},
		{name: "no sub", reason: ReasonTokenInvalid, claims: with(func(c *Claims) { c.Subject = "" })},
		{name: "no org", reason: ReasonTokenInvalid, claims: with(func(c *Claims) { c.OrgID = "" })},
		{name: "no role", reason: ReasonTokenInvalid, claims: with(func(c *Claims) { c.OrgRole = "" })},
		{name: "unknown role", reason: ReasonTokenInvalid, claims: with(func(c *Claims) { c.OrgRole = "superuser" })},
		{name: "role is case-sensitive", reason: ReasonTokenInvalid, claims: with(func(c *Claims) { c.OrgRole = "Owner" })},
		{name: "expired", reason: ReasonTokenExpired, claims: with(func(c *Claims) {
			c.IssuedAt, c.Expiry = date(epoch.Add(-time.Hour)), date(epoch.Add(-leeway-time.Second))
		})},
		{name: "expired within leeway", claims: with(func(c *Claims) {
			c.IssuedAt, c.Expiry = date(epoch.Add(-time.Hour)), date(epoch.Add(-leeway+time.Second))
		})},
		{name: "not yet valid", reason: ReasonTokenNotYetValid, claims: with(func(c *Claims) {
			c.NotBefore = date(epoch.Add(leeway + time.Second))
		})},
		{name: "nbf within leeway", claims: with(func(c *Claims) { c.NotBefore = date(epoch.Add(leeway - time.Second)) })},
		{name: "issued in the future", reason: ReasonTokenNotYetValid, claims: with(func(c *Claims) {
			c.IssuedAt = date(epoch.Add(leeway + time.Second))
		})},
		{name: "custom leeway", reason: ReasonTokenExpired,
			cfg: func(cfg *VerifierConfig) { cfg.Leeway = time.Second },
			claims: with(func(c *Claims) {
				c.Expiry = date(epoch.Add(-2 * time.Second))
			})},
		{name: "issuer matches", cfg: func(cfg *VerifierConfig) { cfg.Issuer = "https://idp" },
			claims: with(func(c *Claims) { c.Issuer = "https://idp" })},
		{name: "issuer differs", reason: ReasonTokenIssuerMismatch, cfg: func(cfg *VerifierConfig) { cfg.Issuer = "https://idp" },
			claims: with(func(c *Claims) { c.Issuer = "https://evil" })},
		{name: "issuer missing", reason: ReasonTokenIssuerMismatch, cfg: func(cfg *VerifierConfig) { cfg.Issuer = "https://idp" },
			claims: memberClaims()},
		{name: "audience among several", cfg: func(cfg *VerifierConfig) { cfg.Audience = "zoomconnect" },
			claims: with(func(c *Claims) { c.Audience = []string{"other", "zoomconnect"} })},
		{name: "audience differs", reason: ReasonTokenAudienceMismatch, cfg: func(cfg *VerifierConfig) { cfg.Audience = "zoomconnect" },
			claims: with(func(c *Claims) { c.Audience = []string{"other"} })},
		{name: "audience unchecked when unset", claims: with(func(c *Claims) { c.Audience = []string{"anything"} })},
		{name: "lifetime at the maximum", cfg: func(cfg *VerifierConfig) { cfg.MaxUserTokenLifetime = time.Hour },
			claims: memberClaims()},
		{name: "lifetime over the maximum", reason: ReasonTokenLifetimeTooLong, cfg: func(cfg *VerifierConfig) { cfg.MaxUserTokenLifetime = time.Hour },
			claims: with(func(c *Claims) { c.Expiry = date(epoch.Add(time.Hour + time.Second)) })},
		{name: "internal tokens are exempt from the maximum", cfg: func(cfg *VerifierConfig) { cfg.MaxUserTokenLifetime = time.Hour },
			claims: with(func(c *Claims) {
				*c = internalClaims()
				c.Expiry = date(epoch.Add(365 * 24 * time.Hour))
			})},
	} {
		t.Run(tc.name, func(t *testing.T) {
			v := newHSVerifier(t, tc.cfg)
			p, err := v.Verify(context.Background(), mint(t, tc.claims))
			if tc.reason != 0 {
				wantReason(t, err, errs.KindUnauthenticated, tc.reason)
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			c := tc.claims
			want := &Principal{Subject: c.Subject, OrgID: c.OrgID, Role: c.OrgRole, Email: c.Email, Name: c.Name,
				Scopes: c.Scope, Internal: c.Scope.Has(InternalScope)}
			if !reflect.DeepEqual(p, want) {
				t.Fatalf("Principal = %+v, want %+v", p, want)
			}
		})
	}
}

// TestVerifyLifetimeNeedsIssueTime: with a maximum lifetime, a person token
// without iat has no known lifetime and is refused.
func TestVerifyLifetimeNeedsIssueTime(t *testing.T) {
	v := newHSVerifier(t, func(cfg *VerifierConfig) { cfg.MaxUserTokenLifetime = time.Hour })
	payload := map[string]any{"sub": "u", "org_id": "o", "org_role": "admin", "exp": epoch.Add(time.Minute).Unix()}
	_, err := v.Verify(context.Background(), sign(t, jose.HS256, testSecret, "", payload))
	wantReason(t, err, errs.KindUnauthenticated, ReasonTokenLifetimeTooLong)
}

func TestVerifyPayloadShapes(t *testing.T) {
	v := newHSVerifier(t, nil)
	base := map[string]any{"sub": "u", "org_id": "o", "org_role": "admin", "exp": epoch.Add(time.Hour).Unix()}
	with := func(k string, val any) map[string]any {
		m := map[string]any{}
		for k, v := range base {
			m[k] = v
		}
		if val == nil {
			delete(m, k)
		} else {
			m[k] = val
		}
		return m
	}
	for _, tc := range []struct {
		name    string
		payload any
		reason  errs.Reason
		scopes  []string
	}{
		{"scope string", with("scope", "a  b c"), 0, []string{"a", "b", "c"}},
		{"scope array", with("scope", []string{"a", "b"}), 0, []string{"a", "b"}},
		{"internal via array", map[string]any{"scope": []string{InternalScope}, "exp": epoch.Add(time.Hour).Unix()}, 0, []string{InternalScope}},
		{"scope number", with("scope", 7), ReasonTokenMalformed, nil},
		{"scope array of numbers", with("scope", []int{1}), ReasonTokenMalformed, nil},
		{"exp string", with("exp", "tomorrow"), ReasonTokenMalformed, nil},
		{"no exp", with("exp", nil), ReasonTokenInvalid, nil},
		{"not an object", []string{"sub"}, ReasonTokenMalformed, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, err := v.Verify(context.Background(), sign(t, jose.HS256, testSecret, "", tc.payload))
			if tc.reason != 0 {
				wantReason(t, err, errs.KindUnauthenticated, tc.reason)
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(p.Scopes, tc.scopes) {
				t.Fatalf("Scopes = %q, want %q", p.Scopes, tc.scopes)
			}
		})
	}
}

func TestVerifyRejectsBadTokens(t *testing.T) {
	good := mint(t, memberClaims())
	parts := strings.Split(good, ".")
	b64 := base64.RawURLEncoding.EncodeToString
	otherSecret := []byte(strings.Repeat("x", 32))
	wrongSecret, _ := Mint(otherSecret, memberClaims(), 0)
	claims := memberClaims()

	for _, tc := range []struct {
		name, token string
		reason      errs.Reason
	}{
		{"empty", "", ReasonTokenMissing},
		{"garbage", "not a token", ReasonTokenMalformed},
		{"two parts", parts[0] + "." + parts[1], ReasonTokenMalformed},
		{"bad base64", parts[0] + ".!!!." + parts[2], ReasonTokenMalformed},
		{"header not JSON", b64([]byte("{")) + "." + parts[1] + "." + parts[2], ReasonTokenMalformed},
		{"too long", parts[0] + "." + strings.Repeat("A", maxTokenLen) + "." + parts[2], ReasonTokenMalformed},
		{"wrong secret", wrongSecret, ReasonTokenInvalid},
		{"tampered payload", parts[0] + "." + b64([]byte(`{"sub":"admin","org_id":"org-1","org_role":"owner","exp":9999999999}`)) + "." + parts[2], ReasonTokenInvalid},
		{"alg none", b64([]byte(`{"alg":"none","typ":"JWT"}`)) + "." + parts[1] + ".", ReasonTokenInvalid},
		{"alg none with signature", b64([]byte(`{"alg":"none"}`)) + "." + parts[1] + "." + parts[2], ReasonTokenInvalid},
		{"HS512", sign(t, jose.HS512, append(testSecret, testSecret...), "", claims), ReasonTokenInvalid},
		{"RS256 without JWKS", sign(t, jose.RS256, rsaKey1(), "k1", claims), ReasonTokenInvalid},
		// The classic confusion: HMAC keyed with the RSA public key.
		{"HS256 keyed with public key", sign(t, jose.HS256, publicKeyPEM(t), "k1", claims), ReasonTokenInvalid},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := newHSVerifier(t, nil).Verify(context.Background(), tc.token)
			wantReason(t, err, errs.KindUnauthenticated, tc.reason)
			if tc.token != "" && strings.Contains(errs.As(err).Message, tc.token) {
				t.Fatal("the error message echoes the token")
			}
		})
	}
}

func TestMint(t *testing.T) {
	if _, err := Mint(testSecret[:16], memberClaims(), time.Hour); err == nil {
		t.Error("short secret accepted")
	}
	c := memberClaims()
	c.Expiry = nil
	if _, err := Mint(testSecret, c, 0); err == nil {
		t.Error("no ttl and no expiry accepted")
	}
	c.IssuedAt = nil
	tok, err := Mint(testSecret, c, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	// Defaults: iat = now, exp = now + ttl, checked against the real clock.
	v := newHSVerifier(t, func(cfg *VerifierConfig) { cfg.Now = time.Now })
	if _, err := v.Verify(context.Background(), tok); err != nil {
		t.Fatalf("fresh minted token: %v", err)
	}
	v = newHSVerifier(t, func(cfg *VerifierConfig) {
		cfg.Now = func() time.Time { return time.Now().Add(2 * time.Minute) }
	})
	_, err = v.Verify(context.Background(), tok)
	wantReason(t, err, errs.KindUnauthenticated, ReasonTokenExpired)
}

func FuzzVerify(f *testing.F) {
	good := mint(f, memberClaims())
	f.Add(good)
	f.Add(mint(f, internalClaims()))
	f.Add(good[:len(good)-3])
	f.Add("")
	f.Add("..")
	f.Add("a.b.c")
	f.Add(`eyJhbGciOiJub25lIn0.e30.`)
	f.Add(sign(f, jose.HS256, testSecret, "", map[string]any{"exp": 1e300, "scope": []any{1}}))
	f.Add(sign(f, jose.HS256, testSecret, "", map[string]any{"exp": epoch.Unix() + 60, "nbf": -1e18}))
	v := newHSVerifier(f, nil)
	f.Fuzz(func(t *testing.T, raw string) {
		p, err := v.Verify(context.Background(), raw)
		if err != nil {
			if e := errs.As(err); e == nil || e.Kind != errs.KindUnauthenticated {
				t.Fatalf("error %v is not an Unauthenticated *errs.Error", err)
			}
			return
		}
		if !p.Internal && (p.Subject == "" || p.OrgID == "" || !p.Role.valid()) {
			t.Fatalf("accepted an incomplete principal %+v", p)
		}
	})
}

// TestVerifiedTokensAreRemembered: a token is verified once and trusted
// until it expires (at most verifiedTTL), never beyond its exp.
func TestVerifiedTokensAreRemembered(t *testing.T) {
	clk := newClock()
	v, err := NewVerifier(context.Background(), VerifierConfig{HS256Secret: testSecret, Now: clk.Now, Leeway: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	c := memberClaims()
	c.Expiry = date(epoch.Add(2 * time.Minute))
	tok, err := Mint(testSecret, c, 0)
	if err != nil {
		t.Fatal(err)
	}
	first, err := v.Verify(context.Background(), tok)
	if err != nil {
		t.Fatal(err)
	}
	if again, err := v.Verify(context.Background(), tok); err != nil || again != first {
		t.Fatalf("second Verify = %p, %v; want the remembered %p", again, err, first)
	}
	clk.Advance(2*time.Minute + 2*time.Second)
	if _, err := v.Verify(context.Background(), tok); errs.As(err) == nil || errs.As(err).Reason != ReasonTokenExpired {
		t.Fatalf("an expired token was still trusted: %v", err)
	}
}
