package auth

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rsa"
	"crypto/sha256"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"sync"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"

	"github.com/zoomconnect/zoomconnect/server/errs"
)

const (
	minSecretLen  = 32
	defaultLeeway = 30 * time.Second
	// maxTokenLen bounds the work spent on a credential before its
	// signature is checked; real tokens are a few hundred bytes.
	maxTokenLen = 16 << 10
)

// VerifierConfig configures a Verifier. At least one of HS256Secret and
// JWKSURL is required.
type VerifierConfig struct {
	// HS256Secret enables HS256 tokens (dev mode, internal services sharing
	// a secret). At least 32 bytes.
	HS256Secret []byte
	// JWKSURL enables RS256 and ES256 tokens signed by the identity
	// provider's keys, chosen by the token's kid.
	JWKSURL string
	// HTTPClient fetches the JWKS; each fetch is bounded by a 5 s timeout
	// whatever the client's own. Default: a plain client.
	HTTPClient *http.Client
	// Issuer and Audience, if set, must match iss and (one of) aud.
	Issuer, Audience string
	// MaxUserTokenLifetime, if positive, refuses person tokens whose
	// lifetime (exp - iat) is longer, or that carry no iat: a stolen
	// long-lived token is a long-lived door. Internal-service tokens are
	// exempt: they are service credentials, rotated by their operators.
	MaxUserTokenLifetime time.Duration
	// Leeway tolerates clock skew on exp, nbf and iat. Default 30 s.
	Leeway time.Duration
	// Now is the clock, for tests. Default time.Now.
	Now func() time.Time
	// Logger receives JWKS refresh failures; tokens are never logged.
	// Default slog.Default().
	Logger *slog.Logger
}

// Verifier checks bearer tokens and turns them into Principals. It is safe
// for concurrent use.
type Verifier struct {
	secret      []byte
	jwks        *jwksCache // nil without JWKSURL
	maxLifetime time.Duration
	algs        []jose.SignatureAlgorithm
	expected    jwt.Expected
	leeway      time.Duration
	now         func() time.Time
	log         *slog.Logger
	// verified remembers tokens that passed, until they expire (or at most
	// verifiedTTL): verifying a JWT costs more than most RPCs it guards.
	verified verifiedCache
}

// verifiedTTL bounds how long a verified token is trusted without being
// verified again (so a key removed from the JWKS stops working soon).
const verifiedTTL = 5 * time.Minute

// verifiedCache maps SHA-256 of a token to its Principal. It is bounded:
// when full it is emptied, which costs only re-verification.
type verifiedCache struct {
	mu      sync.Mutex
	entries map[[sha256.Size]byte]verifiedEntry
}

type verifiedEntry struct {
	p     *Principal
	until time.Time
}

const maxVerified = 10_000

func (c *verifiedCache) get(key [sha256.Size]byte, now time.Time) (*Principal, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.entries[key]
	if !ok || !now.Before(e.until) {
		return nil, false
	}
	return e.p, true
}

func (c *verifiedCache) put(key [sha256.Size]byte, p *Principal, until time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.entries == nil || len(c.entries) >= maxVerified {
		c.entries = make(map[[sha256.Size]byte]verifiedEntry)
	}
	c.entries[key] = verifiedEntry{p: p, until: until}
}

// NewVerifier validates cfg. With a JWKS URL it tries one fetch with ctx so
// that a wrong URL shows in the startup log; a failure is only logged,
// because the identity provider may come up after this service, and keys
// are fetched again when a token needs them.
func NewVerifier(ctx context.Context, cfg VerifierConfig) (*Verifier, error) {
	if len(cfg.HS256Secret) == 0 && cfg.JWKSURL == "" {
		return nil, errors.New("auth: configure an HS256 secret, a JWKS URL, or both")
	}
	v := &Verifier{
		leeway:      cfg.Leeway,
		now:         cfg.Now,
		log:         cfg.Logger,
		expected:    jwt.Expected{Issuer: cfg.Issuer},
		maxLifetime: cfg.MaxUserTokenLifetime,
	}
	if cfg.Audience != "" {
		v.expected.AnyAudience = jwt.Audience{cfg.Audience}
	}
	if v.leeway == 0 {
		v.leeway = defaultLeeway
	}
	if v.leeway < 0 {
		return nil, errors.New("auth: leeway must not be negative")
	}
	if v.now == nil {
		v.now = time.Now
	}
	if v.log == nil {
		v.log = slog.Default()
	}
	if len(cfg.HS256Secret) > 0 {
		if len(cfg.HS256Secret) < minSecretLen {
			return nil, fmt.Errorf("auth: the HS256 secret must be at least %d bytes, got %d", minSecretLen, len(cfg.HS256Secret))
		}
		v.secret = cfg.HS256Secret
		v.algs = append(v.algs, jose.HS256)
	}
	if cfg.JWKSURL != "" {
		u, err := url.Parse(cfg.JWKSURL)
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			return nil, errors.New("auth: the JWKS URL is not an absolute http(s) URL")
		}
		if u.Scheme == "http" {
			v.log.Warn("auth: the JWKS is fetched over plain http; anyone on the path can substitute signing keys", "url", u.Redacted())
		}
		client := cfg.HTTPClient
		if client == nil {
			client = &http.Client{}
		}
		v.jwks = newJWKSCache(u, client, v.now, v.log)
		v.algs = append(v.algs, jose.RS256, jose.ES256)
		_ = v.jwks.refresh(ctx) // a failure is logged by the cache and retried on use
	}
	return v, nil
}

// Verify checks raw (the token without "Bearer ") and returns its caller.
// Failures are *errs.Error (Unauthenticated for a bad token, Unavailable
// when the signing keys cannot be fetched and none are cached) or ctx's
// error. Messages say what is wrong and never echo the token.
func (v *Verifier) Verify(ctx context.Context, raw string) (*Principal, error) {
	if raw == "" {
		return nil, errs.Unauthenticated(ReasonTokenMissing, "this call requires a bearer token")
	}
	if len(raw) > maxTokenLen {
		return nil, errs.Unauthenticated(ReasonTokenMalformed, "the bearer token is longer than %d bytes", maxTokenLen)
	}
	key := sha256.Sum256([]byte(raw))
	now := v.now()
	if p, ok := v.verified.get(key, now); ok {
		return p, nil
	}
	p, exp, err := v.verify(ctx, raw)
	if err != nil {
		return nil, err
	}
	// Trusted until exp (minus nothing: validate already applied the
	// leeway) but no longer than verifiedTTL.
	until := now.Add(verifiedTTL)
	if exp.Before(until) {
		until = exp
	}
	v.verified.put(key, p, until)
	return p, nil
}

// verify does the work of Verify and also returns the token's expiry.
func (v *Verifier) verify(ctx context.Context, raw string) (*Principal, time.Time, error) {
	tok, err := jwt.ParseSigned(raw, v.algs)
	if err != nil {
		if e, ok := errors.AsType[*jose.ErrUnexpectedSignatureAlgorithm](err); ok {
			return nil, time.Time{}, errs.Unauthenticated(ReasonTokenInvalid, "tokens signed with %.20q are not accepted here; use one of %q", e.Got, v.algs)
		}
		return nil, time.Time{}, errs.Unauthenticated(ReasonTokenMalformed, "the bearer token is not a signed JWT in compact form")
	}
	key, err := v.key(ctx, tok.Headers[0])
	if err != nil {
		return nil, time.Time{}, err
	}
	var c Claims
	if err := tok.Claims(key, &c); err != nil {
		if errors.Is(err, jose.ErrCryptoFailure) {
			return nil, time.Time{}, errs.Unauthenticated(ReasonTokenInvalid, "the token signature does not verify")
		}
		return nil, time.Time{}, errs.Unauthenticated(ReasonTokenMalformed,
			"the token claims are not a JSON object of the expected types (exp, nbf, iat: numbers; scope: a string or an array of strings)").Wrap(err)
	}
	if err := v.validate(&c); err != nil {
		return nil, time.Time{}, err
	}
	p, err := principalFrom(&c)
	if err != nil {
		return nil, time.Time{}, err
	}
	if err := v.checkLifetime(p, &c); err != nil {
		return nil, time.Time{}, err
	}
	return p, c.Expiry.Time(), nil
}

// key returns the verification key for a token. The key's type is tied to
// the algorithm, so an HS256 token is never checked against a public key
// and an RS256 or ES256 token never against the shared secret.
func (v *Verifier) key(ctx context.Context, h jose.Header) (any, error) {
	alg := jose.SignatureAlgorithm(h.Algorithm)
	if alg == jose.HS256 {
		return v.secret, nil // allowed only when a secret is configured
	}
	if h.KeyID == "" {
		return nil, errs.Unauthenticated(ReasonTokenInvalid, "the token has no key id (kid); %s tokens need one", alg)
	}
	jwk, err := v.jwks.key(ctx, h.KeyID)
	if err != nil {
		return nil, err
	}
	if jwk.Algorithm != "" && jwk.Algorithm != string(alg) {
		return nil, errs.Unauthenticated(ReasonTokenInvalid, "the token's key is for %.20q, not %s", jwk.Algorithm, alg)
	}
	switch k := jwk.Key.(type) {
	case *rsa.PublicKey:
		if alg == jose.RS256 {
			return k, nil
		}
	case *ecdsa.PublicKey:
		if alg == jose.ES256 && k.Curve == elliptic.P256() {
			return k, nil
		}
	}
	return nil, errs.Unauthenticated(ReasonTokenInvalid, "the token's key cannot verify %s signatures", alg)
}

// validate applies the time, issuer and audience rules.
func (v *Verifier) validate(c *Claims) error {
	if c.Expiry == nil {
		return errs.Unauthenticated(ReasonTokenInvalid, "the token has no expiry (exp); tokens must expire")
	}
	std := jwt.Claims{
		Issuer:    c.Issuer,
		Audience:  c.Audience,
		Expiry:    c.Expiry,
		NotBefore: c.NotBefore,
		IssuedAt:  c.IssuedAt,
	}
	switch err := std.ValidateWithLeeway(v.expected.WithTime(v.now()), v.leeway); {
	case err == nil:
		return nil
	case errors.Is(err, jwt.ErrExpired):
		return errs.Unauthenticated(ReasonTokenExpired, "the token expired at %s; get a new one",
			c.Expiry.Time().UTC().Format(time.RFC3339))
	case errors.Is(err, jwt.ErrNotValidYet):
		return errs.Unauthenticated(ReasonTokenNotYetValid, "the token is not valid before %s (nbf); check the clocks",
			c.NotBefore.Time().UTC().Format(time.RFC3339))
	case errors.Is(err, jwt.ErrIssuedInTheFuture):
		return errs.Unauthenticated(ReasonTokenNotYetValid, "the token is issued in the future (iat %s); check the clocks",
			c.IssuedAt.Time().UTC().Format(time.RFC3339))
	case errors.Is(err, jwt.ErrInvalidIssuer):
		return errs.Unauthenticated(ReasonTokenIssuerMismatch, "the token is not issued by %q (iss)", v.expected.Issuer)
	case errors.Is(err, jwt.ErrInvalidAudience):
		return errs.Unauthenticated(ReasonTokenAudienceMismatch, "the token is not meant for audience %q (aud)", v.expected.AnyAudience[0])
	default:
		return errs.Unauthenticated(ReasonTokenInvalid, "the token claims are invalid").Wrap(err)
	}
}

// checkLifetime applies MaxUserTokenLifetime to person tokens.
func (v *Verifier) checkLifetime(p *Principal, c *Claims) error {
	if v.maxLifetime <= 0 || p.Internal {
		return nil
	}
	if c.IssuedAt == nil {
		return errs.Unauthenticated(ReasonTokenLifetimeTooLong, "the token has no issue time (iat); person tokens must carry one, and live at most %s", v.maxLifetime)
	}
	if life := c.Expiry.Time().Sub(c.IssuedAt.Time()); life > v.maxLifetime {
		return errs.Unauthenticated(ReasonTokenLifetimeTooLong, "the token lives %s (exp - iat); person tokens may live at most %s", life, v.maxLifetime)
	}
	return nil
}

// principalFrom applies the zoomconnect claim rules: a service carries the
// internal scope and no org; a person carries sub, org_id and a known role.
func principalFrom(c *Claims) (*Principal, error) {
	p := &Principal{
		Subject:  c.Subject,
		OrgID:    c.OrgID,
		Role:     c.OrgRole,
		Email:    c.Email,
		Name:     c.Name,
		Scopes:   c.Scope,
		Internal: c.Scope.Has(InternalScope),
	}
	switch {
	case p.Internal:
		if p.OrgID != "" || p.Role != "" {
			return nil, errs.Unauthenticated(ReasonTokenInvalid,
				"an internal service token (scope %s) must not carry org_id or org_role", InternalScope)
		}
	case p.Subject == "":
		return nil, errs.Unauthenticated(ReasonTokenInvalid, "the token has no subject (sub)")
	case p.OrgID == "":
		return nil, errs.Unauthenticated(ReasonTokenInvalid, "the token has no org_id; only internal service tokens (scope %s) may omit it", InternalScope)
	case p.Role == "":
		return nil, errs.Unauthenticated(ReasonTokenInvalid, "the token has no org_role; want owner, admin or member")
	case !p.Role.valid():
		return nil, errs.Unauthenticated(ReasonTokenInvalid, "the token's org_role %.32q is unknown; want owner, admin or member", p.Role)
	}
	return p, nil
}
