package zoomemu

import (
	"net/http"
	"strings"
	"testing"
	"unicode/utf8"
)

// TestListTruncatesAgendas: Zoom's meeting list shows an agenda's first 250
// characters only; GET /meetings/{id} shows all 2,000.
func TestListTruncatesAgendas(t *testing.T) {
	env := newEnv(t)
	org := env.tokens(orgApp, DevAdminID).AccessToken
	agenda := strings.Repeat("é", 1990) + "[marker]!"
	m := env.createMeeting(org, DevMemberID, `{"topic":"t","start_time":"2026-03-03T10:00:00Z","duration":30,"agenda":"`+agenda+`"}`)
	if got := env.getMeeting(org, m.ID).Agenda; got != agenda {
		t.Fatalf("GET shows an agenda of %d characters, want the whole %d", utf8.RuneCountInString(got), utf8.RuneCountInString(agenda))
	}
	p := env.list(org, DevMemberID, "type=upcoming")
	if len(p.Meetings) != 1 || p.Meetings[0].Agenda != strings.Repeat("é", 250) {
		t.Fatalf("listed agenda = %q", p.Meetings[0].Agenda)
	}
}

// TestScopesAreEnforced: a grant holds exactly the scopes its app was
// configured with, and each API refuses a token without its scope with
// Zoom's 400 4711 naming the scopes that would do.
func TestScopesAreEnforced(t *testing.T) {
	all := strings.Fields(adminScopes)
	for _, tc := range []struct {
		drop, method, path, body, wantScopes string
		userApp                              bool
	}{
		{drop: "user:read:user:admin", method: "GET", path: "/v2/users/me", wantScopes: "user:read:user:admin, user:read:user"},
		{drop: "user:read:user:admin", method: "GET", path: "/v2/users/" + DevMemberID, wantScopes: "user:read:user:admin"},
		{drop: "meeting:read:list_meetings:admin", method: "GET", path: "/v2/users/" + DevMemberID + "/meetings", wantScopes: "meeting:read:list_meetings:admin"},
		{drop: "meeting:write:meeting:admin", method: "POST", path: "/v2/users/" + DevMemberID + "/meetings", body: `{"topic":"t"}`, wantScopes: "meeting:write:meeting:admin"},
		{drop: "meeting:read:meeting:admin", method: "GET", path: "/v2/meetings/{id}", wantScopes: "meeting:read:meeting:admin, meeting:read:meeting"},
		{drop: "meeting:update:meeting:admin", method: "PATCH", path: "/v2/meetings/{id}", body: `{"topic":"u"}`, wantScopes: "meeting:update:meeting:admin, meeting:update:meeting"},
		{drop: "meeting:delete:meeting:admin", method: "DELETE", path: "/v2/meetings/{id}", wantScopes: "meeting:delete:meeting:admin, meeting:delete:meeting"},
		{drop: "meeting:read:list_meetings", method: "GET", path: "/v2/users/me/meetings", wantScopes: "meeting:read:list_meetings:admin, meeting:read:list_meetings", userApp: true},
	} {
		t.Run(tc.method+" "+tc.path+" without "+tc.drop, func(t *testing.T) {
			var kept []string
			base := all
			if tc.userApp {
				base = strings.Fields(userScopes)
			}
			for _, s := range base {
				if s != tc.drop {
					kept = append(kept, s)
				}
			}
			env := newEnv(t, func(c *Config) {
				for i := range c.Clients {
					if c.Clients[i].AdminManaged != tc.userApp {
						c.Clients[i].Scopes = kept
					}
				}
			})
			app, user := orgApp, DevAdminID
			if tc.userApp {
				app, user = userApp, DevMemberID
			}
			tok := env.tokens(app, user)
			if tok.Scope != strings.Join(kept, " ") {
				t.Fatalf("granted %q, want exactly the configured %q", tok.Scope, strings.Join(kept, " "))
			}
			// A meeting of the token's own user, made behind the app's back.
			env.emu.mu.Lock()
			id := env.emu.nextMeetingID
			env.emu.nextMeetingID++
			env.emu.meetings[id] = &Meeting{ID: id, HostID: user, AccountID: DevAccountID, Type: 2, Topic: "t", Settings: defaultMeetingSettings()}
			env.emu.mu.Unlock()
			path := strings.ReplaceAll(tc.path, "{id}", meetingPath(id)[len("/v2/meetings/"):])
			want(t, env.api(tc.method, path, tok.AccessToken, tc.body), http.StatusBadRequest,
				`{"code":4711,"message":"Invalid access token, does not contain scopes:[`+tc.wantScopes+`]."}`)
		})
	}
}
