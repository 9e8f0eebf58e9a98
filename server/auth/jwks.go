package auth

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rsa"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"sync"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/zoomconnect/zoomconnect/server/errs"
)

const (
	// jwksMaxAge: keys older than this are refreshed when next used, so a
	// revoked key stops working within minutes.
	jwksMaxAge = 10 * time.Minute
	// jwksMinInterval: at most one fetch per interval, so tokens with
	// made-up kids or an identity provider outage cannot make us hammer it.
	jwksMinInterval  = 30 * time.Second
	jwksFetchTimeout = 5 * time.Second
	jwksMaxBytes     = 1 << 20
	minRSABits       = 2048
)

// jwksCache holds the identity provider's signing keys by kid. Keys are
// fetched on first use, when older than jwksMaxAge, and when a token names
// an unknown kid (a rotation), never more than once per jwksMinInterval. A
// failed fetch keeps the keys already cached: an outage of the identity
// provider does not lock everyone out.
type jwksCache struct {
	url    string
	logURL string // without a password, if the URL has one
	client *http.Client
	now    func() time.Time
	log    *slog.Logger

	mu          sync.Mutex
	keys        map[string]jose.JSONWebKey
	fetchedAt   time.Time     // of the keys
	attemptedAt time.Time     // of the last fetch, for rate limiting
	lastErr     error         // of the last fetch
	inflight    chan struct{} // closed when the running fetch ends
}

func newJWKSCache(u *url.URL, client *http.Client, now func() time.Time, log *slog.Logger) *jwksCache {
	return &jwksCache{url: u.String(), logURL: u.Redacted(), client: client, now: now, log: log}
}

// key returns the signing key named kid.
func (c *jwksCache) key(ctx context.Context, kid string) (jose.JSONWebKey, error) {
	c.mu.Lock()
	k, ok := c.keys[kid]
	fresh := c.now().Sub(c.fetchedAt) < jwksMaxAge
	c.mu.Unlock()
	if ok && fresh {
		return k, nil
	}
	err := c.refresh(ctx)
	c.mu.Lock()
	k, ok = c.keys[kid]
	haveKeys := len(c.keys) > 0
	c.mu.Unlock()
	switch {
	case ok: // possibly stale during an outage, which beats refusing everyone
		return k, nil
	case ctx.Err() != nil:
		return jose.JSONWebKey{}, ctx.Err()
	case !haveKeys:
		e := errs.New(errs.KindUnavailable, ReasonAuthUnavailable,
			"the token signing keys cannot be fetched right now; retry shortly").Wrap(err)
		e.RetryAfter = jwksMinInterval
		return jose.JSONWebKey{}, e
	default:
		return jose.JSONWebKey{}, errs.Unauthenticated(ReasonTokenInvalid,
			"the token is signed with a key (kid) that the identity provider does not publish")
	}
}

// refresh fetches the key set unless a fetch ran within jwksMinInterval,
// joining a fetch already running. It returns the error of the latest fetch.
func (c *jwksCache) refresh(ctx context.Context) error {
	c.mu.Lock()
	done := c.inflight
	if done == nil {
		if !c.attemptedAt.IsZero() && c.now().Sub(c.attemptedAt) < jwksMinInterval {
			err := c.lastErr
			c.mu.Unlock()
			return err
		}
		done = make(chan struct{})
		c.inflight = done
		c.attemptedAt = c.now()
		// The fetch outlives a caller that gives up, since others may be
		// waiting for it; jwksFetchTimeout bounds it.
		go c.fetchAndStore(context.WithoutCancel(ctx), done)
	}
	c.mu.Unlock()
	select {
	case <-done:
	case <-ctx.Done():
		return ctx.Err()
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.lastErr
}

func (c *jwksCache) fetchAndStore(ctx context.Context, done chan struct{}) {
	keys, err := c.fetch(ctx)
	if err != nil {
		c.log.Warn("auth: JWKS fetch failed; keeping the cached keys", "url", c.logURL, "error", err)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if err == nil {
		c.keys = keys
		c.fetchedAt = c.now()
	}
	c.lastErr = err
	c.inflight = nil
	close(done)
}

func (c *jwksCache) fetch(ctx context.Context) (map[string]jose.JSONWebKey, error) {
	ctx, cancel := context.WithTimeout(ctx, jwksFetchTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.url, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Accept", "application/json")
	resp, err := c.client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET %s: %s", c.logURL, resp.Status)
	}
	// Keys are decoded one by one so that a key of a type we do not use
	// does not hide the others.
	var set struct {
		Keys []json.RawMessage `json:"keys"`
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, jwksMaxBytes)).Decode(&set); err != nil {
		return nil, fmt.Errorf("decoding the JWKS from %s: %w", c.logURL, err)
	}
	keys := make(map[string]jose.JSONWebKey, len(set.Keys))
	for i, raw := range set.Keys {
		var k jose.JSONWebKey
		if err := k.UnmarshalJSON(raw); err != nil {
			c.log.Debug("auth: skipping a JWKS key", "index", i, "error", err)
			continue
		}
		if why := unusable(&k); why != "" {
			c.log.Debug("auth: skipping a JWKS key", "index", i, "kid", k.KeyID, "reason", why)
			continue
		}
		if _, dup := keys[k.KeyID]; dup {
			c.log.Warn("auth: the JWKS has two keys with one kid; using the first", "kid", k.KeyID)
			continue
		}
		keys[k.KeyID] = k
	}
	if len(keys) == 0 {
		return nil, fmt.Errorf("%s has no usable signing key (RSA of %d+ bits or EC P-256, with a kid)", c.logURL, minRSABits)
	}
	return keys, nil
}

// unusable says why k cannot verify tokens here, or returns "".
func unusable(k *jose.JSONWebKey) string {
	switch {
	case k.KeyID == "":
		return "no kid"
	case k.Use != "" && k.Use != "sig":
		return "not a signing key"
	case !k.Valid() || !k.IsPublic():
		return "not a valid public key"
	}
	switch pub := k.Key.(type) {
	case *rsa.PublicKey:
		if pub.N.BitLen() < minRSABits {
			return "RSA key too short"
		}
	case *ecdsa.PublicKey:
		if pub.Curve != elliptic.P256() {
			return "EC key not on P-256"
		}
	default:
		return "neither RSA nor EC"
	}
	return ""
}
