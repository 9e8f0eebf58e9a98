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
	})
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
	want := &store.OrgConnection{
		OrgID:        "org-1",
		State:        store.StateActive,
		ConnectedAt:  time.Date(2025, 1, 2, 3, 4, 5, 6, time.UTC),
		SealedTokens: []byte{0, 1, 0xff},
		UpdatedAt:    time.Date(2025, 1, 2, 3, 4, 5, 7, time.UTC),
	}
	if _, err := s.UpdateOrgConnection(ctx, want.OrgID, func(*store.OrgConnection) (*store.OrgConnection, error) { return want, nil }); err != nil {
		t.Fatalf("UpdateOrgConnection: %v", err)
	}
	st := &store.OAuthState{OrgID: "org-1", IDHash: []byte{1, 2}, Kind: "org", SealedVerifier: []byte{3}, ExpiresAt: time.Now().Add(time.Hour).UTC()}
	if err := s.PutOAuthState(ctx, st); err != nil {
		t.Fatalf("PutOAuthState: %v", err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}

	s = open(t, path)
	got, err := s.GetOrgConnection(ctx, want.OrgID)
	if err != nil {
		t.Fatalf("GetOrgConnection after reopening: %v", err)
	}
	if got.State != want.State || !got.ConnectedAt.Equal(want.ConnectedAt) || !got.UpdatedAt.Equal(want.UpdatedAt) || string(got.SealedTokens) != string(want.SealedTokens) {
		t.Errorf("GetOrgConnection after reopening = %+v, want %+v", got, want)
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
	if _, err := s.GetOrgConnection(t.Context(), "org-1"); !errors.Is(err, store.ErrUnavailable) {
		t.Errorf("GetOrgConnection after Close: err = %v, want store.ErrUnavailable", err)
	}
	if err := s.Ping(t.Context()); !errors.Is(err, store.ErrUnavailable) {
		t.Errorf("Ping after Close: err = %v, want store.ErrUnavailable", err)
	}
}
