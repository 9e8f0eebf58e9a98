package auth

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"google.golang.org/grpc/codes"

	"github.com/zoomconnect/zoomconnect/server/errs"
)

func TestJWKSVerifiesRS256AndES256(t *testing.T) {
	srv := newJWKSServer(t, publicJWK("rsa-1", rsaKey1()), publicJWK("ec-1", ecKey1()))
	clk := newClock()
	v := newJWKSVerifier(t, srv.URL, clk, nil)
	if n := srv.fetches.Load(); n != 1 {
		t.Fatalf("NewVerifier fetched %d times, want 1 (warm-up)", n)
	}
	for _, tc := range []struct {
		name string
		tok  string
	}{
		{"RS256", sign(t, jose.RS256, rsaKey1(), "rsa-1", memberClaims())},
		{"ES256", sign(t, jose.ES256, ecKey1(), "ec-1", memberClaims())},
		{"internal", sign(t, jose.ES256, ecKey1(), "ec-1", internalClaims())},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, err := v.Verify(context.Background(), tc.tok)
			if err != nil {
				t.Fatal(err)
			}
			if p.Subject == "" {
				t.Fatalf("Principal = %+v", p)
			}
		})
	}
	if n := srv.fetches.Load(); n != 1 {
		t.Fatalf("fetched %d times, want 1: keys are cached", n)
	}
}

func TestJWKSRejects(t *testing.T) {
	rsa384 := publicJWK("rsa-384", rsaKey2())
	rsa384.Algorithm = "RS384"
	srv := newJWKSServer(t, publicJWK("rsa-1", rsaKey1()), publicJWK("ec-1", ecKey1()), rsa384)
	v := newJWKSVerifier(t, srv.URL, newClock(), nil)
	claims := memberClaims()
	for _, tc := range []struct {
		name, tok string
	}{
		{"HS256 when only JWKS is configured", sign(t, jose.HS256, testSecret, "rsa-1", claims)},
		{"RS256 signed by another key", sign(t, jose.RS256, rsaKey2(), "rsa-1", claims)},
		{"ES256 naming an RSA key", sign(t, jose.ES256, ecKey1(), "rsa-1", claims)},
		{"RS256 naming an EC key", sign(t, jose.RS256, rsaKey1(), "ec-1", claims)},
		{"key published for another alg", sign(t, jose.RS256, rsaKey2(), "rsa-384", claims)},
		{"no kid", sign(t, jose.RS256, rsaKey1(), "", claims)},
		{"unknown kid", sign(t, jose.RS256, rsaKey1(), "nope", claims)},
		{"RS512", sign(t, jose.RS512, rsaKey1(), "rsa-1", claims)},
		{"PS256", sign(t, jose.PS256, rsaKey1(), "rsa-1", claims)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := v.Verify(context.Background(), tc.tok)
			wantReason(t, err, errs.KindUnauthenticated, ReasonTokenInvalid)
		})
	}
}

// An HS256 token whose "secret" is a public key the attacker knows must
// never verify, even when HS256 is enabled and the kid names that key.
func TestJWKSNoAlgConfusion(t *testing.T) {
	srv := newJWKSServer(t, publicJWK("rsa-1", rsaKey1()))
	v := newJWKSVerifier(t, srv.URL, newClock(), testSecret)
	for _, key := range [][]byte{publicKeyPEM(t), rsaKey1().PublicKey.N.Bytes()} {
		_, err := v.Verify(context.Background(), sign(t, jose.HS256, key, "rsa-1", memberClaims()))
		wantReason(t, err, errs.KindUnauthenticated, ReasonTokenInvalid)
	}
	// Both kinds still work side by side.
	for _, tok := range []string{
		mint(t, memberClaims()),
		sign(t, jose.RS256, rsaKey1(), "rsa-1", memberClaims()),
	} {
		if _, err := v.Verify(context.Background(), tok); err != nil {
			t.Fatal(err)
		}
	}
}

func TestJWKSRotationAndOutage(t *testing.T) {
	ctx := context.Background()
	srv := newJWKSServer(t, publicJWK("k1", rsaKey1()))
	clk := newClock()
	v := newJWKSVerifier(t, srv.URL, clk, nil)
	tok1 := sign(t, jose.RS256, rsaKey1(), "k1", memberClaims())
	tok2 := sign(t, jose.ES256, ecKey1(), "k2", memberClaims())
	fetches := func(want int32) {
		t.Helper()
		if got := srv.fetches.Load(); got != want {
			t.Fatalf("JWKS fetched %d times, want %d", got, want)
		}
	}
	verify := func(tok string, wantReasonStr errs.Reason) {
		t.Helper()
		_, err := v.Verify(ctx, tok)
		if wantReasonStr == 0 {
			if err != nil {
				t.Fatalf("Verify: %v", err)
			}
			return
		}
		wantReason(t, err, errs.KindUnauthenticated, wantReasonStr)
	}

	verify(tok1, 0)
	fetches(1)

	// The provider publishes k2. A refresh just happened, so an unknown kid
	// does not trigger another one yet.
	srv.set(false, publicJWK("k1", rsaKey1()), publicJWK("k2", ecKey1()))
	clk.Advance(10 * time.Second)
	verify(tok2, ReasonTokenInvalid)
	fetches(1)

	// Once the rate limit has passed, the unknown kid triggers a refresh.
	clk.Advance(jwksMinInterval)
	verify(tok2, 0)
	fetches(2)
	verify(tok2, 0)
	verify(tok1, 0)
	fetches(2)

	// Made-up kids cost at most one fetch per interval.
	for range 5 {
		verify(sign(t, jose.RS256, rsaKey1(), "bogus", memberClaims()), ReasonTokenInvalid)
	}
	fetches(2)

	// Keys are refreshed when old: k1 was retired by the provider.
	srv.set(false, publicJWK("k2", ecKey1()))
	clk.Advance(jwksMaxAge)
	verify(tok1, ReasonTokenInvalid)
	fetches(3)
	verify(tok2, 0)

	// The provider goes down: the cached keys keep working, and the failing
	// endpoint is retried at most once per interval. (A token verified
	// moments ago is not verified again, so a fresh one is needed.)
	srv.set(true)
	clk.Advance(jwksMaxAge)
	verify(tok2, 0)
	fetches(4)
	verify(tok2, 0)
	fetches(4)
	clk.Advance(jwksMinInterval)
	fresh := memberClaims()
	fresh.Name = "Ann again"
	verify(sign(t, jose.ES256, ecKey1(), "k2", fresh), 0)
	fetches(5)

	// Closed entirely (connection refused): still fine.
	srv.Close()
	clk.Advance(jwksMaxAge)
	verify(tok2, 0)
	fetches(5)
}

func TestJWKSUnavailableWithoutCache(t *testing.T) {
	srv := newJWKSServer(t)
	srv.set(true)
	clk := newClock()
	v := newJWKSVerifier(t, srv.URL, clk, nil)
	tok := sign(t, jose.RS256, rsaKey1(), "k1", memberClaims())

	_, err := v.Verify(context.Background(), tok)
	wantReason(t, err, errs.KindUnavailable, ReasonAuthUnavailable)
	if s, hidden := errs.ToStatus(err); s.Code() != codes.Unavailable || !hidden {
		t.Fatalf("status %v (hidden %v), want UNAVAILABLE with a logged cause", s.Code(), hidden)
	}

	// The provider comes up; after the rate limit, tokens verify.
	srv.set(false, publicJWK("k1", rsaKey1()))
	clk.Advance(jwksMinInterval)
	if _, err := v.Verify(context.Background(), tok); err != nil {
		t.Fatal(err)
	}
}

func TestJWKSConcurrentColdStart(t *testing.T) {
	srv := newJWKSServer(t, publicJWK("k1", rsaKey1()))
	clk := newClock()
	// The warm-up fetch is forced to fail so that all goroutines below find
	// an empty cache once the rate limit has passed.
	srv.set(true)
	v := newJWKSVerifier(t, srv.URL, clk, nil)
	srv.set(false)
	clk.Advance(jwksMinInterval)

	tok := sign(t, jose.RS256, rsaKey1(), "k1", memberClaims())
	var wg sync.WaitGroup
	errc := make(chan error, 20)
	for range 20 {
		wg.Go(func() {
			_, err := v.Verify(context.Background(), tok)
			errc <- err
		})
	}
	wg.Wait()
	close(errc)
	for err := range errc {
		if err != nil {
			t.Fatal(err)
		}
	}
	if n := srv.fetches.Load(); n != 2 {
		t.Fatalf("fetched %d times, want 2 (warm-up, then one shared fetch)", n)
	}
}

// Callers give up on a slow JWKS fetch at their own deadline, NewVerifier's
// warm-up included.
func TestJWKSCancelledCaller(t *testing.T) {
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		<-release
		http.Error(w, "slow", http.StatusInternalServerError)
	}))
	defer srv.Close()
	defer close(release) // runs first, so Close does not wait for the handler

	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	v, err := NewVerifier(ctx, VerifierConfig{JWKSURL: srv.URL, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel = context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	_, err = v.Verify(ctx, sign(t, jose.RS256, rsaKey1(), "k1", memberClaims()))
	if err != context.DeadlineExceeded {
		t.Fatalf("error = %v, want the caller's deadline", err)
	}
}

func TestUnusableJWKs(t *testing.T) {
	p384, err := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		key  jose.JSONWebKey
		ok   bool
	}{
		{"rsa", publicJWK("a", rsaKey1()), true},
		{"ec p256", publicJWK("a", ecKey1()), true},
		{"no kid", publicJWK("", rsaKey1()), false},
		{"encryption key", jose.JSONWebKey{Key: &rsaKey1().PublicKey, KeyID: "a", Use: "enc"}, false},
		{"private key", jose.JSONWebKey{Key: rsaKey1(), KeyID: "a"}, false},
		{"symmetric", jose.JSONWebKey{Key: testSecret, KeyID: "a"}, false},
		{"short rsa", publicJWK("a", mustRSA(1024)), false},
		{"ec p384", publicJWK("a", p384), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if why := unusable(&tc.key); (why == "") != tc.ok {
				t.Fatalf("unusable = %q, want usable=%v", why, tc.ok)
			}
		})
	}

	// A set mixing good and bad keys keeps the good ones.
	bad := jose.JSONWebKey{Key: testSecret, KeyID: "hmac"}
	srv := newJWKSServer(t, bad, publicJWK("k1", rsaKey1()))
	v := newJWKSVerifier(t, srv.URL, newClock(), nil)
	if _, err := v.Verify(context.Background(), sign(t, jose.RS256, rsaKey1(), "k1", memberClaims())); err != nil {
		t.Fatal(err)
	}
}
