package zoomevents

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/zoomconnect/zoomconnect/server/store"
	"github.com/zoomconnect/zoomconnect/server/tokens"
	"github.com/zoomconnect/zoomconnect/server/zoom"
)

// fakeConnections records what the events ask of the connections; the
// Zoom user "installer" installed org-a's connection.
type fakeConnections struct {
	mu    sync.Mutex
	calls []string
}

func (f *fakeConnections) record(format string, args ...any) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, fmt.Sprintf(format, args...))
}

func (f *fakeConnections) Deauthorize(_ context.Context, app zoom.App, accountID, zoomUserID string) error {
	f.record("Deauthorize %s %s %s", app, accountID, zoomUserID)
	return nil
}

func (f *fakeConnections) OrgsInstalledBy(_ context.Context, zoomUserID string) ([]string, error) {
	if zoomUserID == "installer" {
		return []string{"org-a"}, nil
	}
	return nil, nil
}

func (f *fakeConnections) ConnectedOrgs(context.Context) ([]string, error) {
	return []string{"org-a"}, nil
}

func (f *fakeConnections) InstallerLost(_ context.Context, orgID, zoomUserID string, reason store.StateReason) error {
	f.record("InstallerLost %s %s %s", orgID, zoomUserID, reason)
	return nil
}

func (f *fakeConnections) ForgetZoomUser(_ context.Context, zoomUserID string, removed bool) error {
	f.record("ForgetZoomUser %s %v", zoomUserID, removed)
	return nil
}

func (f *fakeConnections) MeetingDeleted(_ context.Context, zoomMeetingID string) error {
	f.record("MeetingDeleted %s", zoomMeetingID)
	return nil
}

type fakeTokens struct{}

func (fakeTokens) Call(_ context.Context, _ tokens.Ref, f func(string) error) error {
	return f("token")
}

// newService answers GET /users/installer with role (an empty role: Zoom
// is down) and records calls of Zoom's deprecated Data Compliance API,
// which the service must never make.
func newService(t *testing.T, role string) (*Service, *fakeConnections, *[]string) {
	var confirmed []string
	var mu sync.Mutex
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		switch {
		case r.URL.Path == "/oauth/data/compliance":
			mu.Lock()
			confirmed = append(confirmed, r.Method)
			mu.Unlock()
		case r.URL.Path == "/v2/users/installer" && role == "":
			w.WriteHeader(http.StatusServiceUnavailable)
		case r.URL.Path == "/v2/users/installer":
			_ = json.NewEncoder(w).Encode(zoom.User{ID: "installer", RoleID: role, Status: "active"})
		default:
			w.WriteHeader(http.StatusNotFound)
			_, _ = w.Write([]byte(`{"code":1001,"message":"User does not exist"}`))
		}
	}))
	t.Cleanup(api.Close)
	conns := &fakeConnections{}
	svc := New(Config{Connections: conns, Tokens: fakeTokens{}, Zoom: zoom.New(zoom.Config{
		OAuthURL: api.URL, APIURL: api.URL + "/v2",
		OrgApp:  zoom.Credentials{ClientID: "org-app", ClientSecret: "s"},
		UserApp: zoom.Credentials{ClientID: "user-app", ClientSecret: "s"},
	})})
	return svc, conns, &confirmed
}

// TestEachEventType: every handled event asks the connections for the
// change it means, and nothing else (no Data Compliance call); an event the service does not act on
// changes nothing.
func TestEachEventType(t *testing.T) {
	for name, tc := range map[string]struct {
		role string
		body string
		want []string
	}{
		"org app deauthorized": {body: `{"event":"app_deauthorized","payload":{"client_id":"org-app","account_id":"acct","user_id":"installer","user_data_retention":"false"}}`,
			want: []string{"Deauthorize admin-managed acct installer"}},
		"user app deauthorized, data kept": {body: `{"event":"app_deauthorized","payload":{"client_id":"user-app","account_id":"acct","user_id":"zu","user_data_retention":"true"}}`,
			want: []string{"Deauthorize user-managed acct zu"}},
		"another app deauthorized": {body: `{"event":"app_deauthorized","payload":{"client_id":"someone-else","account_id":"acct"}}`},
		"installer demoted": {role: "2", body: `{"event":"user.updated","payload":{"object":{"id":"installer"}}}`,
			want: []string{"InstallerLost org-a installer admin_role_lost", "ForgetZoomUser installer false"}},
		"installer still admin": {role: "1", body: `{"event":"user.updated","payload":{"object":{"id":"installer"}}}`,
			want: []string{"ForgetZoomUser installer false"}},
		"member updated": {role: "1", body: `{"event":"user.updated","payload":{"object":{"id":"member"}}}`,
			want: []string{"ForgetZoomUser member false"}},
		"installer deactivated": {body: `{"event":"user.deactivated","payload":{"object":{"id":"installer"}}}`,
			want: []string{"InstallerLost org-a installer installer_removed", "ForgetZoomUser installer true"}},
		"installer deleted": {body: `{"event":"user.deleted","payload":{"object":{"id":"installer"}}}`,
			want: []string{"InstallerLost org-a installer installer_removed", "ForgetZoomUser installer true"}},
		"installer disassociated": {body: `{"event":"user.disassociated","payload":{"object":{"id":"installer"}}}`,
			want: []string{"InstallerLost org-a installer installer_removed", "ForgetZoomUser installer true"}},
		"meeting deleted, numeric id": {body: `{"event":"meeting.deleted","payload":{"object":{"id":85746065432}}}`,
			want: []string{"MeetingDeleted 85746065432"}},
		"unhandled event":   {body: `{"event":"recording.completed","payload":{"object":{"id":"x"}}}`},
		"garbage payload":   {body: `{"event":"user.deleted","payload":"nope"}`},
		"not even an event": {body: `nope`},
	} {
		t.Run(name, func(t *testing.T) {
			svc, conns, confirmed := newService(t, tc.role)
			if err := svc.Process(t.Context(), []byte(tc.body)); err != nil {
				t.Fatalf("Process: %v", err)
			}
			if !slices.Equal(conns.calls, tc.want) {
				t.Fatalf("calls %q, want %q", conns.calls, tc.want)
			}
			if len(*confirmed) > 0 {
				t.Fatalf("called Zoom's deprecated Data Compliance API: %q", *confirmed)
			}
		})
	}
}

// TestZoomDownChangesNothing: a role check Zoom cannot answer is retried
// later (an error), never taken for a demotion.
func TestZoomDownChangesNothing(t *testing.T) {
	svc, conns, _ := newService(t, "")
	err := svc.Process(t.Context(), []byte(`{"event":"user.updated","payload":{"object":{"id":"installer"}}}`))
	if err == nil || len(conns.calls) != 0 {
		t.Fatalf("Process = %v with calls %q; want an error and no change", err, conns.calls)
	}
	if !strings.Contains(err.Error(), "503") {
		t.Fatalf("error %v does not say what Zoom answered", err)
	}
}
