package storetest

import (
	"bytes"
	"context"
	"errors"
	"testing"
	"time"

	"github.com/zoomconnect/zoomconnect/server/store"
)

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

func mustTakeState(t *testing.T, s store.Store, want *store.OAuthState) {
	t.Helper()
	got, err := s.TakeOAuthState(t.Context(), want.OrgID, want.IDHash)
	if err != nil {
		t.Fatalf("TakeOAuthState(%s): %v", want.OrgID, err)
	}
	assertEqual(t, "taken state", got, want)
}

func testStatePutTake(t *testing.T, s store.Store) {
	st := newState(newOrgID(t))
	mustPutState(t, s, st)
	mustTakeState(t, s, st)
	_, err := s.TakeOAuthState(t.Context(), st.OrgID, st.IDHash)
	wantNotFound(t, "second TakeOAuthState", err)
}

func testStateRoundTrip(t *testing.T, s store.Store) {
	st := &store.OAuthState{
		OrgID:          newOrgID(t),
		IDHash:         []byte{0, 0xff, 0x10},
		Kind:           "personal",
		AttemptID:      "attempt-1",
		UserID:         "user-3",
		SealedVerifier: everyByte(),
		ExpiresAt:      time.Now().UTC().Add(time.Hour),
	}
	mustPutState(t, s, st)
	mustTakeState(t, s, st)
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
	mustTakeState(t, s, b)
	mustTakeState(t, s, a)
}

func testConcurrentTakes(t *testing.T, s store.Store) {
	st := newState(newOrgID(t))
	mustPutState(t, s, st)
	exactlyOneWins(t, "concurrent takes of one state", 16, func(int) (bool, error) {
		_, err := s.TakeOAuthState(t.Context(), st.OrgID, st.IDHash)
		if errors.Is(err, store.ErrNotFound) {
			return false, nil // another taker won
		}
		return err == nil, err
	})
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
	if !acquire(t, s, orgID, "held", "b", leaseTTL) {
		t.Fatal("a free lease was not acquired")
	}
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	calls := map[string]func() error{
		"Update": func() error {
			return s.Update(ctx, orgID, func(tx store.OrgTx) error {
				setAll(tx, orgID, "user-a")
				tx.AppendActivity(fullEntry(time.Now(), "canceled"))
				return nil
			})
		},
		"Snapshot":         func() error { _, err := s.Snapshot(ctx, orgID, []string{"user-a"}); return err },
		"GetOrgConnection": func() error { _, err := store.GetOrgConnection(ctx, s, orgID); return err },
		"ListMembers":      func() error { _, err := s.ListMembers(ctx, orgID, "", 10); return err },
		"ListActivity":     func() error { _, err := s.ListActivity(ctx, orgID, "", 10); return err },
		"Subscribe":        func() error { return s.Subscribe(ctx, func(string) {}) },
		"PutOAuthState":    func() error { return s.PutOAuthState(ctx, newState(orgID)) },
		"TakeOAuthState":   func() error { _, err := s.TakeOAuthState(ctx, orgID, st.IDHash); return err },
		"Ping":             func() error { return s.Ping(ctx) },
		"Update of a meeting": func() error {
			return s.Update(ctx, orgID, func(tx store.OrgTx) error {
				tx.SetMeeting(fullMeeting(orgID, "booking-1"))
				return nil
			})
		},
		"GetMeeting": func() error { _, err := s.GetMeeting(ctx, orgID, "booking-1"); return err },
		"AcquireLease": func() error {
			_, err := s.AcquireLease(ctx, orgID, "lease", "a", leaseTTL)
			return err
		},
		"ReleaseLease": func() error { return s.ReleaseLease(ctx, orgID, "held", "b") },
	}
	for name, call := range calls {
		if err := call(); !errors.Is(err, context.Canceled) {
			t.Errorf("%s with a canceled context: err = %v, want context.Canceled", name, err)
		}
	}
	// Nothing was written or taken.
	assertEqual(t, "Snapshot after a canceled Update", snapshot(t, s, orgID, "user-a"),
		&store.OrgSnapshot{Users: []store.UserRecords{{UserID: "user-a"}}})
	if e := allActivity(t, s, orgID, 10); len(e) != 0 {
		t.Errorf("activity after a canceled Update: %+v", e)
	}
	_, err := s.GetMeeting(t.Context(), orgID, "booking-1")
	wantNotFound(t, "GetMeeting after a canceled Update", err)
	mustTakeState(t, s, st)
	if !acquire(t, s, orgID, "lease", "b", leaseTTL) {
		t.Error("a lease was taken by a canceled AcquireLease")
	}
	if acquire(t, s, orgID, "held", "c", leaseTTL) {
		t.Error("a lease was freed by a canceled ReleaseLease")
	}
}
