package auth

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"

	"github.com/zoomconnect/zoomconnect/server/errs"
	"github.com/zoomconnect/zoomconnect/server/internal/clocktest"
)

var (
	testSecret = []byte("0123456789abcdef0123456789abcdef")
	epoch      = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	quiet      = slog.New(slog.DiscardHandler)

	rsaKey1 = sync.OnceValue(func() *rsa.PrivateKey { return mustRSA(2048) })
	rsaKey2 = sync.OnceValue(func() *rsa.PrivateKey { return mustRSA(2048) })
	ecKey1  = sync.OnceValue(func() *ecdsa.PrivateKey {
		k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			panic(err)
		}
		return k
	})
)

func mustRSA(bits int) *rsa.PrivateKey {
	k, err := rsa.GenerateKey(rand.Reader, bits)
	if err != nil {
		panic(err)
	}
	return k
}

func newClock() *clocktest.Clock { return clocktest.New(epoch) }

// publicKeyPEM is rsaKey1's public key as an attacker would find it.
func publicKeyPEM(t testing.TB) []byte {
	t.Helper()
	der, err := x509.MarshalPKIXPublicKey(&rsaKey1().PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})
}

func date(t time.Time) *jwt.NumericDate { return jwt.NewNumericDate(t) }

// memberClaims is a valid person's claims at epoch.
func memberClaims() Claims {
	return Claims{
		Subject: "user-1", OrgID: "org-1", OrgRole: RoleMember,
		Email: "ann@example.com", Name: "Ann", Scope: Scope{"meetings:read"},
		IssuedAt: date(epoch), Expiry: date(epoch.Add(time.Hour)),
	}
}

func internalClaims() Claims {
	return Claims{
		Subject: "scheduler", Scope: Scope{InternalScope},
		IssuedAt: date(epoch), Expiry: date(epoch.Add(time.Hour)),
	}
}

func mint(t testing.TB, c Claims) string {
	t.Helper()
	tok, err := Mint(testSecret, c, 0)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// sign signs an arbitrary payload, to build tokens Mint would refuse.
func sign(t testing.TB, alg jose.SignatureAlgorithm, key any, kid string, payload any) string {
	t.Helper()
	opts := (&jose.SignerOptions{}).WithType("JWT")
	if kid != "" {
		opts = opts.WithHeader("kid", kid)
	}
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: alg, Key: key}, opts)
	if err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(payload)
	if err != nil {
		t.Fatal(err)
	}
	jws, err := signer.Sign(b)
	if err != nil {
		t.Fatal(err)
	}
	s, err := jws.CompactSerialize()
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func newHSVerifier(t testing.TB, mod func(*VerifierConfig)) *Verifier {
	t.Helper()
	cfg := VerifierConfig{HS256Secret: testSecret, Now: func() time.Time { return epoch }, Logger: quiet}
	if mod != nil {
		mod(&cfg)
	}
	v, err := NewVerifier(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// wantReason fails unless err is an *errs.Error of kind and reason.
func wantReason(t testing.TB, err error, kind errs.Kind, reason errs.Reason) {
	t.Helper()
	e := errs.As(err)
	if e == nil {
		t.Fatalf("error = %v (%T), want *errs.Error %s", err, err, reason)
	}
	if e.Kind != kind || e.Reason != reason {
		t.Fatalf("error = kind %d %v, want kind %d reason %s", e.Kind, e, kind, reason)
	}
}

// jwksServer serves a mutable key set and counts requests.
type jwksServer struct {
	*httptest.Server
	mu      sync.Mutex
	keys    []jose.JSONWebKey
	failing bool
	fetches atomic.Int32
}

func newJWKSServer(t testing.TB, keys ...jose.JSONWebKey) *jwksServer {
	s := &jwksServer{keys: keys}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.fetches.Add(1)
		s.mu.Lock()
		defer s.mu.Unlock()
		if s.failing {
			http.Error(w, "down", http.StatusServiceUnavailable)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(jose.JSONWebKeySet{Keys: s.keys})
	}))
	t.Cleanup(s.Close)
	return s
}

func (s *jwksServer) set(failing bool, keys ...jose.JSONWebKey) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.failing = failing
	if keys != nil {
		s.keys = keys
	}
}

func publicJWK(kid string, priv any) jose.JSONWebKey {
	k := jose.JSONWebKey{Key: priv, KeyID: kid, Use: "sig"}
	return k.Public()
}

func newJWKSVerifier(t testing.TB, url string, clk *clocktest.Clock, secret []byte) *Verifier {
	t.Helper()
	v, err := NewVerifier(context.Background(), VerifierConfig{
		JWKSURL: url, HS256Secret: secret, Now: clk.Now, Logger: quiet,
	})
	if err != nil {
		t.Fatal(err)
	}
	return v
}
