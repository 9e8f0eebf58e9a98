// Package storetest is the conformance suite of store.Store: every backend
// runs Run, so that the service can rely on the contract rather than on one
// backend's behaviour.
package storetest

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/zoomconnect/zoomconnect/server/store"
)

// Run runs the conformance suite. open returns a store for one subtest and
// registers its cleanup with that subtest's t. Subtests run in parallel and
// use their own org ids, so open may hand out stores that share one backend
// without flushing it.
func Run(t *testing.T, open func(t *testing.T) store.Store) {
	tests := []struct {
		name string
		fn   func(t *testing.T, s store.Store)
	}{
		{"GetMissing", testGetMissing},
		{"UpdateCreates", testUpdateCreates},
		{"UpdateSeesPrevious", testUpdateSeesPrevious},
		{"MutateErrorAborts", testMutateErrorAborts},
		{"MutateNilWritesNothing", testMutateNilWritesNothing},
		{"MutateGetsCopy", testMutateGetsCopy},
		{"ConcurrentUpdates", testConcurrentUpdates},
		{"OrgsIsolated", testOrgsIsolated},
		{"RoundTrip", testRoundTrip},
		{"StatePutTake", testStatePutTake},
		{"StateUnknown", testStateUnknown},
		{"StateExpired", testStateExpired},
		{"StatesScopedByOrg", testStatesScopedByOrg},
		{"ConcurrentTakes", testConcurrentTakes},
		{"Ping", testPing},
		{"CanceledContext", testCanceledContext},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tc.fn(t, open(t))
		})
	}
}

// newOrgID returns an org id no other subtest or run uses.
func newOrgID(t *testing.T) string {
	return "org-" + strings.ReplaceAll(t.Name(), "/", "-") + "-" + rand.Text()[:8]
}

func newIDHash() []byte {
	h := sha256.Sum256([]byte(rand.Text()))
	return h[:]
}

// ts is a fixed UTC instant with nanoseconds, to check exact round trips.
func ts(offset time.Duration) time.Time {
	return time.Date(2025, 3, 4, 5, 6, 7, 123456789, time.UTC).Add(offset)
}

func newConn(orgID string) *store.OrgConnection {
	return &store.OrgConnection{
		OrgID:        orgID,
		State:        store.StateActive,
		ConnectedBy:  "user-1",
		ConnectedAt:  ts(0),
		SealedTokens: []byte{0, 1, 2, 0xff},
		UpdatedAt:    ts(time.Second),
	}
}

// put stores conn unconditionally.
func put(t *testing.T, s store.Store, conn *store.OrgConnection) *store.OrgConnection {
	t.Helper()
	got, err := s.UpdateOrgConnection(t.Context(), conn.OrgID, func(*store.OrgConnection) (*store.OrgConnection, error) {
		return conn, nil
	})
	if err != nil {
		t.Fatalf("UpdateOrgConnection(%s): %v", conn.OrgID, err)
	}
	return got
}

func mustGet(t *testing.T, s store.Store, orgID string) *store.OrgConnection {
	t.Helper()
	got, err := s.GetOrgConnection(t.Context(), orgID)
	if err != nil {
		t.Fatalf("GetOrgConnection(%s): %v", orgID, err)
	}
	return got
}

func wantNotFound(t *testing.T, what string, err error) {
	t.Helper()
	if !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("%s: err = %v, want store.ErrNotFound", what, err)
	}
}

// assertConn compares records with time.Time.Equal for instants (a backend
// may return another *time.Location for UTC) and exactly otherwise.
func assertConn(t *testing.T, what string, got, want *store.OrgConnection) {
	t.Helper()
	if (got == nil) != (want == nil) {
		t.Fatalf("%s = %+v, want %+v", what, got, want)
	}
	if got == nil {
		return
	}
	g, w := *got, *want
	checkTime(t, what+".ConnectedAt", &g.ConnectedAt, &w.ConnectedAt)
	checkTime(t, what+".UpdatedAt", &g.UpdatedAt, &w.UpdatedAt)
	if (g.Pending == nil) != (w.Pending == nil) {
		t.Fatalf("%s.Pending = %+v, want %+v", what, g.Pending, w.Pending)
	}
	if g.Pending != nil {
		gp, wp := *g.Pending, *w.Pending
		checkTime(t, what+".Pending.StartedAt", &gp.StartedAt, &wp.StartedAt)
		checkTime(t, what+".Pending.ExpiresAt", &gp.ExpiresAt, &wp.ExpiresAt)
		g.Pending, w.Pending = &gp, &wp
	}
	if !reflect.DeepEqual(g, w) {
		t.Fatalf("%s =\n%+v\nwant\n%+v", what, g, w)
	}
}

// checkTime compares two instants, then zeroes both for a DeepEqual.
func checkTime(t *testing.T, what string, got, want *time.Time) {
	t.Helper()
	if !got.Equal(*want) {
		t.Fatalf("%s = %v, want %v", what, *got, *want)
	}
	*got, *want = time.Time{}, time.Time{}
}

func testGetMissing(t *testing.T, s store.Store) {
	_, err := s.GetOrgConnection(t.Context(), newOrgID(t))
	wantNotFound(t, "GetOrgConnection of a new org", err)
}

func testUpdateCreates(t *testing.T, s store.Store) {
	orgID := newOrgID(t)
	want := newConn(orgID)
	got, err := s.UpdateOrgConnection(t.Context(), orgID, func(cur *store.OrgConnection) (*store.OrgConnection, error) {
		if cur != nil {
			return nil, fmt.Errorf("current = %+v, want nil for a new org", cur)
		}
		return newConn(orgID), nil
	})
	if err != nil {
		t.Fatalf("UpdateOrgConnection: %v", err)
	}
	assertConn(t, "returned record", got, want)
	assertConn(t, "stored record", mustGet(t, s, orgID), want)
}

func testUpdateSeesPrevious(t *testing.T, s store.Store) {
	orgID := newOrgID(t)
	first := put(t, s, newConn(orgID))
	want := newConn(orgID)
	want.State, want.Reason = store.StateNeedsReconnect, store.ReasonInvalidGrant
	got, err := s.UpdateOrgConnection(t.Context(), orgID, func(cur *store.OrgConnection) (*store.OrgConnection, error) {
		assertConn(t, "current", cur, first)
		cur.State, cur.Reason = store.StateNeedsReconnect, store.ReasonInvalidGrant
		return cur, nil
	})
	if err != nil {
		t.Fatalf("UpdateOrgConnection: %v", err)
	}
	assertConn(t, "returned record", got, want)
	assertConn(t, "stored record", mustGet(t, s, orgID), want)
}

func testMutateErrorAborts(t *testing.T, s store.Store) {
	errMutate := errors.New("mutate refused")
	for _, existing := range []bool{false, true} {
		orgID := newOrgID(t)
		var want *store.OrgConnection
		if existing {
			want = put(t, s, newConn(orgID))
		}
		got, err := s.UpdateOrgConnection(t.Context(), orgID, func(cur *store.OrgConnection) (*store.OrgConnection, error) {
			if cur != nil {
				cur.State = store.StateNotConnected // must not leak into the store
			}
			return newConn(orgID), fmt.Errorf("wrapped: %w", errMutate)
		})
		if !errors.Is(err, errMutate) || got != nil {
			t.Fatalf("existing=%v: UpdateOrgConnection = %+v, %v; want nil, mutate's error", existing, got, err)
		}
		if !existing {
			_, err := s.GetOrgConnection(t.Context(), orgID)
			wantNotFound(t, "GetOrgConnection after an aborted create", err)
			continue
		}
		assertConn(t, "stored record after an aborted update", mustGet(t, s, orgID), want)
	}
}

func testMutateNilWritesNothing(t *testing.T, s store.Store) {
	orgID := newOrgID(t)
	noop := func(cur *store.OrgConnection) (*store.OrgConnection, error) {
		if cur != nil {
			cur.State = store.StateNotConnected // must not be returned nor stored
		}
		return nil, nil
	}
	got, err := s.UpdateOrgConnection(t.Context(), orgID, noop)
	if err != nil || got != nil {
		t.Fatalf("no-op update of a new org = %+v, %v; want nil, nil", got, err)
	}
	_, err = s.GetOrgConnection(t.Context(), orgID)
	wantNotFound(t, "GetOrgConnection after a no-op update", err)

	want := put(t, s, newConn(orgID))
	got, err = s.UpdateOrgConnection(t.Context(), orgID, noop)
	if err != nil {
		t.Fatalf("no-op update of an existing org: %v", err)
	}
	assertConn(t, "returned record", got, want)
	assertConn(t, "stored record", mustGet(t, s, orgID), want)
}

func testMutateGetsCopy(t *testing.T, s store.Store) {
	orgID := newOrgID(t)
	in := newConn(orgID)
	in.Pending = &store.PendingInstall{AttemptID: "a1", LinkHash: []byte{1, 2, 3}, StartedAt: ts(0), ExpiresAt: ts(time.Hour)}
	want := newConn(orgID)
	want.Pending = &store.PendingInstall{AttemptID: "a1", LinkHash: []byte{1, 2, 3}, StartedAt: ts(0), ExpiresAt: ts(time.Hour)}

	returned := put(t, s, in)
	// Neither what mutate returned nor what the store returned aliases the
	// stored record.
	for _, c := range []*store.OrgConnection{in, returned} {
		c.State = store.StateNotConnected
		c.SealedTokens[0] = 42
		c.Pending.LinkHash[0] = 42
		c.Pending.ExpiresAt = ts(0)
	}
	got := mustGet(t, s, orgID)
	assertConn(t, "stored record", got, want)

	// Nor does what Get returned, or what mutate saw before it failed.
	got.SealedTokens[0] = 42
	_, _ = s.UpdateOrgConnection(t.Context(), orgID, func(cur *store.OrgConnection) (*store.OrgConnection, error) {
		cur.Pending.LinkHash[0] = 42
		cur.SealedTokens[0] = 42
		return nil, errors.New("abort")
	})
	assertConn(t, "stored record", mustGet(t, s, orgID), want)
}

func testConcurrentUpdates(t *testing.T, s store.Store) {
	const writers = 32
	orgID := newOrgID(t)
	start := make(chan struct{})
	errs := make(chan error, writers)
	var wg sync.WaitGroup
	for i := range writers {
		wg.Go(func() {
			<-start
			_, err := s.UpdateOrgConnection(t.Context(), orgID, func(cur *store.OrgConnection) (*store.OrgConnection, error) {
				if cur == nil {
					cur = &store.OrgConnection{OrgID: orgID, State: store.StateActive}
				}
				cur.ConnectedBy += fmt.Sprintf("w%d,", i)
				return cur, nil
			})
			errs <- err
		})
	}
	close(start)
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Errorf("concurrent UpdateOrgConnection: %v", err)
		}
	}
	got := mustGet(t, s, orgID)
	for i := range writers {
		if n := strings.Count(got.ConnectedBy, fmt.Sprintf("w%d,", i)); n != 1 {
			t.Errorf("writer %d's append is present %d times, want once (lost or repeated update): %q", i, n, got.ConnectedBy)
		}
	}
}

func testOrgsIsolated(t *testing.T, s store.Store) {
	a, b := newOrgID(t), newOrgID(t)
	wantA := put(t, s, newConn(a))
	_, err := s.GetOrgConnection(t.Context(), b)
	wantNotFound(t, "GetOrgConnection of another org", err)

	connB := newConn(b)
	connB.State = store.StateNeedsReconnect
	put(t, s, connB)
	assertConn(t, "first org after writing the second", mustGet(t, s, a), wantA)
	assertConn(t, "second org", mustGet(t, s, b), connB)
}

func testRoundTrip(t *testing.T, s store.Store) {
	orgID := newOrgID(t)
	// Every field set, with awkward values: bytes of every kind, instants
	// with nanoseconds (stored in UTC), unicode text.
	allBytes := make([]byte, 256)
	for i := range allBytes {
		allBytes[i] = byte(i)
	}
	want := &store.OrgConnection{
		OrgID:               orgID,
		State:               store.StateNeedsReconnect,
		Reason:              store.ReasonAdminRoleLost,
		ZoomAccountID:       "acct-éß-☃",
		InstallerEmail:      "admin@example.com",
		InstallerZoomUserID: "zu-1",
		ConnectedAt:         ts(0),
		ConnectedBy:         "user-\"quoted\"\n",
		Pending: &store.PendingInstall{
			AttemptID: "attempt-1",
			LinkHash:  newIDHash(),
			StartedBy: "user-2",
			StartedAt: ts(time.Minute + time.Nanosecond),
			ExpiresAt: ts(time.Hour + 999*time.Nanosecond),
		},
		SealedTokens: allBytes,
		UpdatedAt:    ts(2 * time.Hour),
	}
	assertConn(t, "returned record", put(t, s, want), want)
	assertConn(t, "stored record", mustGet(t, s, orgID), want)

	st := &store.OAuthState{
		OrgID:          orgID,
		IDHash:         []byte{0, 0xff, 0x10},
		Kind:           "personal",
		AttemptID:      "attempt-1",
		UserID:         "user-3",
		SealedVerifier: allBytes,
		ExpiresAt:      time.Now().UTC().Add(time.Hour),
	}
	if err := s.PutOAuthState(t.Context(), st); err != nil {
		t.Fatalf("PutOAuthState: %v", err)
	}
	got, err := s.TakeOAuthState(t.Context(), orgID, st.IDHash)
	if err != nil {
		t.Fatalf("TakeOAuthState: %v", err)
	}
	assertState(t, got, st)
}

func assertState(t *testing.T, got, want *store.OAuthState) {
	t.Helper()
	if !got.ExpiresAt.Equal(want.ExpiresAt) {
		t.Fatalf("state ExpiresAt = %v, want %v", got.ExpiresAt, want.ExpiresAt)
	}
	g, w := *got, *want
	g.ExpiresAt, w.ExpiresAt = time.Time{}, time.Time{}
	if !reflect.DeepEqual(g, w) {
		t.Fatalf("state =\n%+v\nwant\n%+v", g, w)
	}
}

func newState(orgID string) *store.OAuthState {
	return &store.OAuthState{
		OrgID:          orgID,
		IDHash:         newIDHash(),
		Kind:           "org",
		AttemptID:      "attempt-1",
		SealedVerifier: []byte("sealed"),
		ExpiresAt:      time.Now().Add(time.Hour),
	}
}

func mustPutState(t *testing.T, s store.Store, st *store.OAuthState) {
	t.Helper()
	if err := s.PutOAuthState(t.Context(), st); err != nil {
		t.Fatalf("PutOAuthState: %v", err)
	}
}

func testStatePutTake(t *testing.T, s store.Store) {
	st := newState(newOrgID(t))
	mustPutState(t, s, st)
	got, err := s.TakeOAuthState(t.Context(), st.OrgID, st.IDHash)
	if err != nil {
		t.Fatalf("first TakeOAuthState: %v", err)
	}
	assertState(t, got, st)
	_, err = s.TakeOAuthState(t.Context(), st.OrgID, st.IDHash)
	wantNotFound(t, "second TakeOAuthState", err)
}

func testStateUnknown(t *testing.T, s store.Store) {
	_, err := s.TakeOAuthState(t.Context(), newOrgID(t), newIDHash())
	wantNotFound(t, "TakeOAuthState of an unknown state", err)
}

func testStateExpired(t *testing.T, s store.Store) {
	orgID := newOrgID(t)
	past := newState(orgID)
	past.ExpiresAt = time.Now().Add(-time.Minute)
	zero := newState(orgID)
	zero.ExpiresAt = time.Time{}
	soon := newState(orgID)
	soon.ExpiresAt = time.Now().Add(50 * time.Millisecond)
	for _, st := range []*store.OAuthState{past, zero, soon} {
		mustPutState(t, s, st)
	}
	time.Sleep(100 * time.Millisecond)
	for name, st := range map[string]*store.OAuthState{"past": past, "zero": zero, "soon": soon} {
		_, err := s.TakeOAuthState(t.Context(), orgID, st.IDHash)
		wantNotFound(t, "TakeOAuthState of a state that expired "+name, err)
	}
}

func testStatesScopedByOrg(t *testing.T, s store.Store) {
	a, b := newState(newOrgID(t)), newState(newOrgID(t))
	b.IDHash = bytes.Clone(a.IDHash)
	b.Kind, b.UserID = "personal", "user-b"
	mustPutState(t, s, a)
	mustPutState(t, s, b)
	for _, want := range []*store.OAuthState{b, a} {
		got, err := s.TakeOAuthState(t.Context(), want.OrgID, want.IDHash)
		if err != nil {
			t.Fatalf("TakeOAuthState(%s): %v", want.OrgID, err)
		}
		assertState(t, got, want)
	}
}

func testConcurrentTakes(t *testing.T, s store.Store) {
	const takers = 16
	st := newState(newOrgID(t))
	mustPutState(t, s, st)
	start := make(chan struct{})
	var (
		wg       sync.WaitGroup
		mu       sync.Mutex
		winners  int
		failures []error
	)
	for range takers {
		wg.Go(func() {
			<-start
			_, err := s.TakeOAuthState(t.Context(), st.OrgID, st.IDHash)
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil:
				winners++
			case !errors.Is(err, store.ErrNotFound):
				failures = append(failures, err)
			}
		})
	}
	close(start)
	wg.Wait()
	if winners != 1 || len(failures) > 0 {
		t.Fatalf("%d concurrent takes: %d winners (want 1), unexpected errors: %v", takers, winners, failures)
	}
}

func testPing(t *testing.T, s store.Store) {
	if err := s.Ping(t.Context()); err != nil {
		t.Fatalf("Ping: %v", err)
	}
}

func testCanceledContext(t *testing.T, s store.Store) {
	orgID := newOrgID(t)
	st := newState(orgID)
	mustPutState(t, s, st)
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	calls := map[string]func() error{
		"GetOrgConnection": func() error { _, err := s.GetOrgConnection(ctx, orgID); return err },
		"UpdateOrgConnection": func() error {
			_, err := s.UpdateOrgConnection(ctx, orgID, func(*store.OrgConnection) (*store.OrgConnection, error) {
				return newConn(orgID), nil
			})
			return err
		},
		"PutOAuthState":  func() error { return s.PutOAuthState(ctx, newState(orgID)) },
		"TakeOAuthState": func() error { _, err := s.TakeOAuthState(ctx, orgID, st.IDHash); return err },
		"Ping":           func() error { return s.Ping(ctx) },
	}
	for name, call := range calls {
		if err := call(); !errors.Is(err, context.Canceled) {
			t.Errorf("%s with a canceled context: err = %v, want context.Canceled", name, err)
		}
	}
	// Nothing was written or taken.
	_, err := s.GetOrgConnection(t.Context(), orgID)
	wantNotFound(t, "GetOrgConnection after a canceled update", err)
	if _, err := s.TakeOAuthState(t.Context(), orgID, st.IDHash); err != nil {
		t.Errorf("TakeOAuthState after a canceled take: %v", err)
	}
}
