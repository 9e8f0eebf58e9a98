package connection

import (
	"encoding/json"
	"github.com/zoomconnect/zoomconnect/server/internal/testbed"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/zoomconnect/zoomconnect/server/store"
	"github.com/zoomconnect/zoomconnect/server/tokens"
	"github.com/zoomconnect/zoomconnect/server/zoom"
)

// matchingFixture is a Service over an embedded store, with an org
// connected to Zoom account "acct" and a Zoom API that knows one user,
// mia@x.example, and fails while down is set.
type matchingFixture struct {
	svc   *Service
	store store.Store
	down  atomic.Bool
	calls atomic.Int32
	// duringLookup, if set, runs while Zoom is answering a lookup.
	duringLookup func()
}

func newMatchingFixture(t *testing.T) *matchingFixture {
	f := &matchingFixture{}
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f.calls.Add(1)
		w.Header().Set("Content-Type", "application/json")
		switch {
		case f.down.Load():
			w.WriteHeader(http.StatusServiceUnavailable)
		case r.URL.Path == "/v2/users/mia@x.example":
			if f.duringLookup != nil {
				f.duringLookup()
			}
			_ = json.NewEncoder(w).Encode(zoom.User{ID: "zu-mia", Email: "mia@x.example", AccountID: "acct"})
		default:
			w.WriteHeader(http.StatusNotFound)
			_, _ = w.Write([]byte(`{"code":1001,"message":"User does not exist"}`))
		}
	}))
	t.Cleanup(api.Close)
	s, kr := testbed.Store(t), testbed.Keyring(t)
	f.store = s
	zc := zoom.New(zoom.Config{APIURL: api.URL + "/v2"})
	creds := tokens.New(tokens.Config{Store: s, Keyring: kr, Zoom: zc})
	f.svc = New(Config{Store: s, Tokens: creds, Keyring: kr, Zoom: zc, Logger: slog.New(slog.DiscardHandler)})
	sealed, err := creds.Seal(ConnRef{OrgID: "org"}, &zoom.Tokens{AccessToken: "at", RefreshToken: "rt", Expiry: time.Now().Add(time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	err = s.Update(t.Context(), "org", func(tx store.OrgTx) error {
		tx.SetOrgConnection(&store.OrgConnection{OrgID: "org", State: store.StateActive, ZoomAccountID: "acct", SealedTokens: sealed})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func (f *matchingFixture) queued(t *testing.T) []string {
	entries, err := f.store.IndexMembers(t.Context(), indexMatch, matchPending)
	if err != nil {
		t.Fatal(err)
	}
	return entries
}

func (f *matchingFixture) member(t *testing.T, userID string) *store.Member {
	snap, err := f.store.Snapshot(t.Context(), "org", []string{userID})
	if err != nil {
		t.Fatal(err)
	}
	return snap.Users[0].Member
}

// TestMatchingIsQueuedAndRetried: registering a member calls no Zoom and
// queues the lookup; a failed lookup stays queued; a done one stores the
// match and leaves the queue.
func TestMatchingIsQueuedAndRetried(t *testing.T) {
	f := newMatchingFixture(t)
	if _, err := f.svc.UpsertMember(t.Context(), "org", Member{UserID: "mia", Email: "mia@x.example"}); err != nil {
		t.Fatal(err)
	}
	if f.calls.Load() != 0 || !slices.Equal(f.queued(t), []string{"org/mia"}) {
		t.Fatalf("after UpsertMember: %d Zoom calls, queue %q; want none and org/mia", f.calls.Load(), f.queued(t))
	}
	f.down.Store(true)
	if err := f.svc.matchQueued(t.Context(), "owner", matchRef{"org", "mia"}); err == nil {
		t.Fatal("a lookup with Zoom down succeeded")
	}
	if !slices.Equal(f.queued(t), []string{"org/mia"}) || f.member(t, "mia").Match != nil {
		t.Fatalf("after a failed lookup: queue %q, match %+v; want it still queued, unmatched", f.queued(t), f.member(t, "mia").Match)
	}
	f.down.Store(false)
	if err := f.svc.matchQueued(t.Context(), "owner", matchRef{"org", "mia"}); err != nil {
		t.Fatal(err)
	}
	if m := f.member(t, "mia").Match; m == nil || m.ZoomUserID != "zu-mia" || len(f.queued(t)) != 0 {
		t.Fatalf("after the lookup: match %+v, queue %q; want zu-mia, empty", m, f.queued(t))
	}
	if refs, _ := f.store.IndexMembers(t.Context(), indexZoomUser, "zu-mia"); !slices.Equal(refs, []string{"member/org/mia"}) {
		t.Fatalf("Zoom user index = %q", refs)
	}
}

// TestMatchingAfterAnEmailChange: a lookup whose member changed email
// while Zoom answered stores nothing and leaves the queue entry, which the
// next pass looks up with the new email.
func TestMatchingAfterAnEmailChange(t *testing.T) {
	f := newMatchingFixture(t)
	if _, err := f.svc.UpsertMember(t.Context(), "org", Member{UserID: "mia", Email: "mia@x.example"}); err != nil {
		t.Fatal(err)
	}
	f.duringLookup = func() {
		if _, err := f.svc.UpsertMember(t.Context(), "org", Member{UserID: "mia", Email: "nobody@x.example"}); err != nil {
			t.Error(err)
		}
	}
	if err := f.svc.matchQueued(t.Context(), "owner", matchRef{"org", "mia"}); err != nil {
		t.Fatal(err)
	}
	if m := f.member(t, "mia"); m.Email != "nobody@x.example" || m.Match != nil || !slices.Equal(f.queued(t), []string{"org/mia"}) {
		t.Fatalf("member %+v, queue %q; want the new email unmatched and still queued", m, f.queued(t))
	}
	f.duringLookup = nil
	if err := f.svc.matchQueued(t.Context(), "owner", matchRef{"org", "mia"}); err != nil {
		t.Fatal(err)
	}
	if m := f.member(t, "mia"); m.Match == nil || !m.Match.NotInAccount || len(f.queued(t)) != 0 {
		t.Fatalf("match %+v, queue %q; want the new email not in the account, queue empty", m.Match, f.queued(t))
	}
}
