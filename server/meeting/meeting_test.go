package meeting_test

import (
	"context"
	"encoding/json"
	"errors"
	"github.com/zoomconnect/zoomconnect/server/internal/testbed"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/zoomconnect/zoomconnect/server/connection"
	"github.com/zoomconnect/zoomconnect/server/errs"
	"github.com/zoomconnect/zoomconnect/server/meeting"
	"github.com/zoomconnect/zoomconnect/server/store"
	"github.com/zoomconnect/zoomconnect/server/tokens"
	"github.com/zoomconnect/zoomconnect/server/zoom"
)

// fakeConnections serves every host through the org connection, or
// refuses with why; as the meetings' Tokens, its access token is "stale"
// until a refresh is asked for it.
type fakeConnections struct {
	why string // "" serves the host

	mu        sync.Mutex
	refreshed int
}

func (f *fakeConnections) EffectiveAccounts(_ context.Context, _ string, userIDs []string) ([]connection.Resolution, error) {
	r := connection.Resolution{UserID: userIDs[0], Why: connection.WhyOrgConnected,
		Chosen: connection.AccountRef{Source: connection.SourceOrganization, State: store.StateActive, ZoomAccountID: "acct", ZoomUserID: "zu-1"}}
	if f.why != "" {
		r.Why, r.Chosen = f.why, connection.AccountRef{Source: connection.SourceNone, State: store.StateNeedsReconnect}
	}
	return []connection.Resolution{r}, nil
}

func (f *fakeConnections) Settings(context.Context, string) (store.OrgSettings, error) {
	return store.OrgSettings{}, nil
}

func (f *fakeConnections) AccessToken(_ context.Context, _ tokens.Ref, failed string) (string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if failed == "stale" {
		f.refreshed++
		return "fresh", nil
	}
	if f.refreshed > 0 {
		return "fresh", nil
	}
	return "stale", nil
}

// zoomAPI answers meeting creation for the token "fresh" and refuses any
// other with code 124, as Zoom does for an expired access token.
func zoomAPI(t *testing.T) *zoom.Client {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		if r.Header.Get("Authorization") != "Bearer fresh" {
			w.WriteHeader(http.StatusUnauthorized)
			_, _ = w.Write([]byte(`{"code":124,"message":"Invalid access token."}`))
			return
		}
		if r.Method != http.MethodPost || r.URL.Path != "/v2/users/zu-1/meetings" {
			http.NotFound(w, r)
			return
		}
		_ = json.NewEncoder(w).Encode(zoom.Meeting{ID: 42, HostID: "zu-1", JoinURL: "https://zoom.example/j/42"})
	}))
	t.Cleanup(srv.Close)
	return zoom.New(zoom.Config{APIURL: srv.URL + "/v2"})
}

func newService(t *testing.T, conns *fakeConnections) (*meeting.Service, store.Store) {
	s := testbed.Store(t)
	return meeting.New(meeting.Config{Store: s, Connections: conns, Tokens: conns, Zoom: zoomAPI(t)}), s
}

var details = meeting.Details{UserID: "mia", Topic: "Intro", StartTime: time.Now().Add(48 * time.Hour), Duration: 30 * time.Minute}

// TestCreateRefreshesOnCode124: a token Zoom refuses (code 124) is
// refreshed once through the connections, and the meeting created and
// indexed for meeting.deleted.
func TestCreateRefreshesOnCode124(t *testing.T) {
	conns := &fakeConnections{}
	svc, s := newService(t, conns)
	m, err := svc.Create(t.Context(), "org-1", "b1", details)
	if err != nil {
		t.Fatalf("Create: %v", err)
	}
	if m.ZoomMeetingID != 42 || conns.refreshed != 1 {
		t.Fatalf("meeting %d after %d refreshes; want 42 after 1", m.ZoomMeetingID, conns.refreshed)
	}
	if refs, err := s.IndexMembers(t.Context(), "meeting", "42"); err != nil || len(refs) != 1 || refs[0] != "org-1/b1" {
		t.Fatalf("meeting index = %q, %v; want org-1/b1", refs, err)
	}
	if err := svc.Delete(t.Context(), "org-1", "b1"); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	if refs, err := s.IndexMembers(t.Context(), "meeting", "42"); err != nil || len(refs) != 0 {
		t.Fatalf("meeting index after Delete = %q, %v; want none", refs, err)
	}
}

// TestCreateWithoutUsableConnection: the resolver's refusal becomes the
// caller's reason, and the booking is not left reserved.
func TestCreateWithoutUsableConnection(t *testing.T) {
	svc, s := newService(t, &fakeConnections{why: connection.WhyOrgNeedsReconnect})
	_, err := svc.Create(t.Context(), "org-1", "b1", details)
	if e := errs.As(err); e == nil || e.Reason != connection.ReasonOrgNeedsReconnect {
		t.Fatalf("Create = %v, want %s", err, connection.ReasonOrgNeedsReconnect)
	}
	if _, err := s.GetMeeting(t.Context(), "org-1", "b1"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("booking after a refusal: %v, want none", err)
	}
}
