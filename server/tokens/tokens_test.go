package tokens_test

import (
	"context"
	"encoding/json"
	"fmt"
	"github.com/zoomconnect/zoomconnect/server/internal/testbed"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/zoomconnect/zoomconnect/server/errs"
	"github.com/zoomconnect/zoomconnect/server/store"
	"github.com/zoomconnect/zoomconnect/server/tokens"
	"github.com/zoomconnect/zoomconnect/server/zoom"
)

// fakeZoom is Zoom's token endpoint: each refresh token is single use and
// yields access token "at-<n>" and refresh token "rt-<n>"; dead refresh
// tokens get invalid_grant.
type fakeZoom struct {
	refreshes atomic.Int32
	mu        sync.Mutex
	dead      map[string]bool
}

func (z *fakeZoom) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	_ = r.ParseForm()
	rt := r.PostForm.Get("refresh_token")
	w.Header().Set("Content-Type", "application/json")
	z.mu.Lock()
	dead := z.dead[rt]
	z.dead[rt] = true // single use
	z.mu.Unlock()
	if dead {
		w.WriteHeader(http.StatusBadRequest)
		_, _ = w.Write([]byte(`{"error":"invalid_grant","reason":"Invalid Token!"}`))
		return
	}
	n := z.refreshes.Add(1)
	_ = json.NewEncoder(w).Encode(map[string]any{"access_token": fmt.Sprint("at-", n), "refresh_token": fmt.Sprint("rt-", n),
		"token_type": "bearer", "expires_in": 3600})
}

type fixture struct {
	zoom      *fakeZoom
	store     store.Store
	svc       *tokens.Service
	grantDead atomic.Int32
}

var org = tokens.Ref{OrgID: "org"}

// newFixture stores an org connection whose access token "at-0" expires
// at expiry.
func newFixture(t *testing.T, expiry time.Time) *fixture {
	f := &fixture{zoom: &fakeZoom{dead: map[string]bool{}}}
	srv := httptest.NewServer(f.zoom)
	t.Cleanup(srv.Close)
	s, kr := testbed.Store(t), testbed.Keyring(t)
	f.store = s
	f.svc = tokens.New(tokens.Config{Store: s, Keyring: kr,
		Zoom: zoom.New(zoom.Config{OAuthURL: srv.URL, APIURL: srv.URL + "/v2", OrgApp: zoom.Credentials{ClientID: "id", ClientSecret: "secret"}}),
		GrantDead: func(ctx context.Context, r tokens.Ref, seen []byte, cause error) error {
			f.grantDead.Add(1)
			return errs.FailedPrecondition(tokens.ReasonOrgNeedsReconnect, "dead").Wrap(cause)
		}})
	f.put(t, "at-0", "rt-0", expiry)
	return f
}

func (f *fixture) put(t *testing.T, at, rt string, expiry time.Time) {
	sealed, err := f.svc.Seal(org, &zoom.Tokens{AccessToken: at, RefreshToken: rt, Expiry: expiry})
	if err != nil {
		t.Fatal(err)
	}
	err = f.store.Update(t.Context(), org.OrgID, func(tx store.OrgTx) error {
		tx.SetOrgConnection(&store.OrgConnection{OrgID: org.OrgID, State: store.StateActive, SealedTokens: sealed})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestFreshTokenIsUsedAsIs(t *testing.T) {
	f := newFixture(t, time.Now().Add(time.Hour))
	if tok, err := f.svc.AccessToken(t.Context(), org, ""); err != nil || tok != "at-0" || f.zoom.refreshes.Load() != 0 {
		t.Fatalf("AccessToken = %q, %v after %d refreshes; want at-0 without one", tok, err, f.zoom.refreshes.Load())
	}
}

// TestExpiringTokenIsRefreshedOnce: many callers at once, one refresh (the
// refresh token is single use), and the new pair is stored.
func TestExpiringTokenIsRefreshedOnce(t *testing.T) {
	f := newFixture(t, time.Now().Add(30*time.Second))
	var wg sync.WaitGroup
	for range 10 {
		wg.Go(func() {
			if tok, err := f.svc.AccessToken(context.WithoutCancel(t.Context()), org, ""); err != nil || tok != "at-1" {
				t.Errorf("AccessToken = %q, %v; want at-1", tok, err)
			}
		})
	}
	wg.Wait()
	if n := f.zoom.refreshes.Load(); n != 1 {
		t.Fatalf("%d refreshes, want 1", n)
	}
	if tok, err := f.svc.AccessToken(t.Context(), org, ""); err != nil || tok != "at-1" {
		t.Fatalf("after the refresh: %q, %v; want the stored at-1", tok, err)
	}
}

// TestCallRefreshesOnCode124: a token Zoom refuses is refreshed once.
func TestCallRefreshesOnCode124(t *testing.T) {
	f := newFixture(t, time.Now().Add(time.Hour))
	var used []string
	err := f.svc.Call(t.Context(), org, func(token string) error {
		used = append(used, token)
		if token == "at-0" {
			return &zoom.APIError{HTTPStatus: http.StatusUnauthorized, Code: zoom.CodeInvalidAccessToken}
		}
		return nil
	})
	if err != nil || len(used) != 2 || used[1] != "at-1" {
		t.Fatalf("Call = %v with tokens %q; want at-0 then at-1", err, used)
	}
}

// TestLeaseHeldElsewhere: while another replica holds the refresh lease,
// nobody here asks Zoom; its stored result is used.
func TestLeaseHeldElsewhere(t *testing.T) {
	f := newFixture(t, time.Now().Add(30*time.Second))
	if held, err := f.store.AcquireLease(t.Context(), org.OrgID, "refresh:org", "other-replica", time.Minute); err != nil || !held {
		t.Fatalf("AcquireLease = %v, %v", held, err)
	}
	done := make(chan string, 1)
	go func() {
		tok, err := f.svc.AccessToken(context.WithoutCancel(t.Context()), org, "")
		if err != nil {
			t.Errorf("AccessToken: %v", err)
		}
		done <- tok
	}()
	time.Sleep(200 * time.Millisecond)
	f.put(t, "at-other", "rt-other", time.Now().Add(time.Hour)) // the other replica's refresh
	select {
	case tok := <-done:
		if tok != "at-other" || f.zoom.refreshes.Load() != 0 {
			t.Fatalf("AccessToken = %q after %d refreshes here; want the other replica's at-other, none here", tok, f.zoom.refreshes.Load())
		}
	case <-time.After(5 * time.Second):
		t.Fatal("AccessToken still waiting after the other replica stored its result")
	}
}

// TestDeadGrant: invalid_grant is the connection owner's to record, once,
// and its error reaches the caller.
func TestDeadGrant(t *testing.T) {
	f := newFixture(t, time.Now().Add(30*time.Second))
	f.zoom.mu.Lock()
	f.zoom.dead["rt-0"] = true
	f.zoom.mu.Unlock()
	_, err := f.svc.AccessToken(t.Context(), org, "")
	if e := errs.As(err); e == nil || e.Reason != tokens.ReasonOrgNeedsReconnect || f.grantDead.Load() != 1 {
		t.Fatalf("AccessToken = %v after %d GrantDead calls; want GrantDead's error, once", err, f.grantDead.Load())
	}
}

// TestUnusableConnections: no stored tokens, no Zoom call.
func TestUnusableConnections(t *testing.T) {
	f := newFixture(t, time.Now().Add(time.Hour))
	for ref, want := range map[tokens.Ref]errs.Reason{
		{OrgID: "other"}:             tokens.ReasonOrgNotConnected,
		{OrgID: "org", UserID: "u1"}: tokens.ReasonNoZoomConnection,
	} {
		if _, err := f.svc.AccessToken(t.Context(), ref, ""); errs.As(err) == nil || errs.As(err).Reason != want {
			t.Errorf("AccessToken(%+v) = %v, want %s", ref, err, want)
		}
	}
}
