package boltstore_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/zoomconnect/zoomconnect/server/store"
	"github.com/zoomconnect/zoomconnect/server/store/boltstore"
	"github.com/zoomconnect/zoomconnect/server/store/storetest"
)

func open(t *testing.T, path string) *boltstore.Store {
	t.Helper()
	s, err := boltstore.Open(path)
	if err != nil {
		t.Fatalf("Open(%s): %v", path, err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return s
}

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store {
		return open(t, filepath.Join(t.TempDir(), "zoomconnect.db"))
	}, storetest.WithRestart(func(t *testing.T) (store.Store, func() store.Store) {
		path := filepath.Join(t.TempDir(), "zoomconnect.db")
		s := open(t, path) // closing twice is fine
		return s, func() store.Store {
			if err := s.Close(); err != nil {
				t.Fatalf("Close: %v", err)
			}
			return open(t, path)
		}
	}))
}

func TestOpenCreatesPrivateFiles(t *testing.T) {
	path := filepath.Join(t.TempDir(), "new", "dir", "zoomconnect.db")
	open(t, path)
	for p, want := range map[string]os.FileMode{filepath.Dir(path): 0o700, path: 0o600} {
		fi, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		if got := fi.Mode().Perm(); got&^want != 0 {
			t.Errorf("%s has mode %v, want at most %v", p, got, want)
		}
	}
}

func TestRestartLosesNothing(t *testing.T) {
	path := filepath.Join(t.TempDir(), "zoomconnect.db")
	s, err := boltstore.Open(path)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	ctx := t.Context()
	conn := &store.OrgConnection{
		OrgID:        "org-1",
		State:        store.StateActive,
		ConnectedAt:  time.Date(2025, 1, 2, 3, 4, 5, 6, time.UTC),
		SealedTokens: []byte{0, 1, 0xff},
		UpdatedAt:    time.Date(2025, 1, 2, 3, 4, 5, 7, time.UTC),
	}
	member := &store.Member{OrgID: "org-1", UserID: "user-1", Name: "Ann"}
	meeting := &store.Meeting{OrgID: "org-1", BookingID: "b-1", State: store.MeetingCreated, ZoomMeetingID: 85746123098}
	entry := store.ActivityEntry{Time: time.Now().UTC(), Kind: "connected", Actor: "user-1"}
	err = s.Update(ctx, "org-1", func(tx store.OrgTx) error {
		tx.SetOrgConnection(conn)
		tx.SetMember(member)
		tx.AppendActivity(entry)
		tx.SetMeeting(meeting)
		return nil
	})
	if err != nil {
		t.Fatalf("Update: %v", err)
	}
	if held, err := s.AcquireLease(ctx, "org-1", "refresh", "a", time.Hour); err != nil || !held {
		t.Fatalf("AcquireLease = %v, %v; want it held", held, err)
	}
	st := &store.OAuthState{OrgID: "org-1", IDHash: []byte{1, 2}, Kind: "org", SealedVerifier: []byte{3}, ExpiresAt: time.Now().Add(time.Hour).UTC()}
	if err := s.PutOAuthState(ctx, st); err != nil {
		t.Fatalf("PutOAuthState: %v", err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}

	s = open(t, path)
	snap, err := s.Snapshot(ctx, "org-1", []string{"user-1"})
	if err != nil {
		t.Fatalf("Snapshot after reopening: %v", err)
	}
	if got := snap.Connection; got == nil || got.State != conn.State || !got.ConnectedAt.Equal(conn.ConnectedAt) || string(got.SealedTokens) != string(conn.SealedTokens) {
		t.Errorf("connection after reopening = %+v, want %+v", got, conn)
	}
	if got := snap.Users[0].Member; got == nil || *got != *member {
		t.Errorf("member after reopening = %+v, want %+v", got, member)
	}
	activity, err := s.ListActivity(ctx, "org-1", "", 10)
	if err != nil || len(activity) != 1 || activity[0].Kind != entry.Kind || !activity[0].Time.Equal(entry.Time) {
		t.Errorf("activity after reopening = %+v, %v; want %+v", activity, err, entry)
	}
	if got, err := s.GetMeeting(ctx, "org-1", "b-1"); err != nil || *got != *meeting {
		t.Errorf("GetMeeting after reopening = %+v, %v; want %+v", got, err, meeting)
	}
	if held, err := s.AcquireLease(ctx, "org-1", "refresh", "b", time.Hour); err != nil || held {
		t.Errorf("AcquireLease of a held lease after reopening = %v, %v; want it refused", held, err)
	}
	gotState, err := s.TakeOAuthState(ctx, st.OrgID, st.IDHash)
	if err != nil {
		t.Fatalf("TakeOAuthState after reopening: %v", err)
	}
	if gotState.Kind != st.Kind || !gotState.ExpiresAt.Equal(st.ExpiresAt) {
		t.Errorf("TakeOAuthState after reopening = %+v, want %+v", gotState, st)
	}
}

func TestOpenLockedFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "zoomconnect.db")
	open(t, path)
	start := time.Now()
	s, err := boltstore.Open(path)
	if err == nil {
		s.Close()
		t.Fatal("a second Open of the same file succeeded")
	}
	if !strings.Contains(err.Error(), "locked") {
		t.Errorf("second Open: err = %v, want it to say the file is locked", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("second Open gave up after %v, want about a second", d)
	}
}

func TestClosedStoreUnavailable(t *testing.T) {
	s, err := boltstore.Open(filepath.Join(t.TempDir(), "zoomconnect.db"))
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if err := s.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	ctx := t.Context()
	calls := map[string]func() error{
		"Update":         func() error { return s.Update(ctx, "org-1", func(store.OrgTx) error { return nil }) },
		"Snapshot":       func() error { _, err := s.Snapshot(ctx, "org-1", nil); return err },
		"ListMembers":    func() error { _, err := s.ListMembers(ctx, "org-1", "", 10); return err },
		"ListActivity":   func() error { _, err := s.ListActivity(ctx, "org-1", "", 10); return err },
		"Subscribe":      func() error { return s.Subscribe(ctx, func(string) {}) },
		"Ping":           func() error { return s.Ping(ctx) },
		"GetMeeting":     func() error { _, err := s.GetMeeting(ctx, "org-1", "b"); return err },
		"AcquireLease":   func() error { _, err := s.AcquireLease(ctx, "org-1", "l", "o", time.Minute); return err },
		"ReleaseLease":   func() error { return s.ReleaseLease(ctx, "org-1", "l", "o") },
		"EnqueueWebhook": func() error { _, err := s.EnqueueWebhook(ctx, "k", nil); return err },
		"ClaimWebhooks":  func() error { _, err := s.ClaimWebhooks(ctx, "c", 10, 0); return err },
		"AckWebhook":     func() error { return s.AckWebhook(ctx, "1-0") },
		"IndexMembers":   func() error { _, err := s.IndexMembers(ctx, "i", "k"); return err },
		"Update with an effect": func() error {
			return s.Update(ctx, "org-1", func(tx store.OrgTx) error { tx.AddEffect(store.Effect{Event: []byte("p")}); return nil })
		},
		"ReadEvents": func() error { _, err := s.ReadEvents(ctx, "", 10, time.Second); return err },
	}
	for name, call := range calls {
		if err := call(); !errors.Is(err, store.ErrUnavailable) {
			t.Errorf("%s after Close: err = %v, want store.ErrUnavailable", name, err)
		}
	}
}

// TestOrgTxAfterUpdate: bbolt would crash on a transaction kept past its
// Update; the store must fail instead.
func TestOrgTxAfterUpdate(t *testing.T) {
	s := open(t, filepath.Join(t.TempDir(), "zoomconnect.db"))
	var kept store.OrgTx
	if err := s.Update(t.Context(), "org-1", func(tx store.OrgTx) error { kept = tx; return nil }); err != nil {
		t.Fatalf("Update: %v", err)
	}
	if _, err := kept.OrgConnection(); err == nil {
		t.Error("OrgConnection on an OrgTx kept past its Update succeeded")
	}
	if _, err := kept.Meeting("b"); err == nil {
		t.Error("Meeting on an OrgTx kept past its Update succeeded")
	}
	kept.SetMember(&store.Member{UserID: "user-1"})
	kept.AppendActivity(store.ActivityEntry{})
	kept.DeletePersonal("user-1")
	kept.SetMeeting(&store.Meeting{BookingID: "b"})
	kept.DeleteMeeting("b")
}

func TestOrgIDWithNUL(t *testing.T) {
	s := open(t, filepath.Join(t.TempDir(), "zoomconnect.db"))
	err := s.Update(t.Context(), "org\x00evil", func(store.OrgTx) error { return nil })
	if err == nil || !strings.Contains(err.Error(), "NUL") {
		t.Errorf("Update of an org id with NUL: err = %v, want a rejection", err)
	}
}
