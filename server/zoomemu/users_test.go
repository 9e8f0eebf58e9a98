package zoomemu

import (
	"encoding/json"
	"net/http"
	"net/url"
	"testing"
	"time"
)

func TestGetUser(t *testing.T) {
	env := newEnv(t)
	org := env.tokens(orgApp, DevAdminID).AccessToken
	personal := env.tokens(userApp, DevMemberID)
	const (
		noScope = `{"code":4711,"message":"Invalid access token, does not contain scopes:[user:read:user:admin]."}`
		invalid = `{"code":124,"message":"Invalid access token."}`
	)
	tests := []struct {
		name, token, userID string
		status              int
		id                  string // for 200
		body                string // for errors
	}{
		{"admin-managed me", org, "me", 200, DevAdminID, ""},
		{"admin-managed other user by id", org, DevMemberID, 200, DevMemberID, ""},
		{"admin-managed other user by email", org, "MEMBER@acme.example", 200, DevMemberID, ""},
		{"admin-managed custom role user", org, "apps@acme.example", 200, DevAppManagerID, ""},
		{"admin-managed other account by id", org, DevOtherOwnerID, 404, "",
			`{"code":1001,"message":"User does not exist: GlobexOwner_0000000001."}`},
		{"admin-managed other account by email", org, "owner@globex.example", 404, "",
			`{"code":1001,"message":"User does not exist: owner@globex.example."}`},
		{"admin-managed unknown", org, "nobody@acme.example", 404, "",
			`{"code":1001,"message":"User does not exist: nobody@acme.example."}`},
		{"user-managed me", personal.AccessToken, "me", 200, DevMemberID, ""},
		{"user-managed self by id", personal.AccessToken, DevMemberID, 200, DevMemberID, ""},
		{"user-managed self by email", personal.AccessToken, "Member@Acme.example", 200, DevMemberID, ""},
		{"user-managed other user", personal.AccessToken, DevAdminID, 400, "", noScope},
		{"user-managed unknown user", personal.AccessToken, "nobody@acme.example", 400, "", noScope},
		{"no token", "", "me", 401, "", `{"code":124,"message":"Requires an access token."}`},
		{"unknown token", "garbage", "me", 401, "", invalid},
		{"refresh token as bearer", personal.RefreshToken, "me", 401, "", invalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := env.get("/v2/users/"+url.PathEscape(tt.userID), tt.token)
			if ct := r.header.Get("Content-Type"); ct != jsonContentType {
				t.Errorf("Content-Type %q", ct)
			}
			if tt.status != 200 {
				want(t, r, tt.status, tt.body)
				return
			}
			var u map[string]any
			if err := json.Unmarshal([]byte(r.body), &u); err != nil || r.status != 200 || u["id"] != tt.id {
				t.Errorf("got %d %s", r.status, r.body)
			}
		})
	}

	t.Run("non-bearer scheme", func(t *testing.T) {
		req, _ := http.NewRequest(http.MethodGet, env.base+"/v2/users/me", nil)
		req.SetBasicAuth(orgApp.ID, orgApp.Secret)
		want(t, env.do(req), 401, `{"code":124,"message":"Requires an access token."}`)
	})
	if st := env.emu.Stats(); st.UsersCalls != len(tests)+1 {
		t.Errorf("UsersCalls = %d, want %d", st.UsersCalls, len(tests)+1)
	}
}

func TestUserObject(t *testing.T) {
	env := newEnv(t)
	r := env.get("/v2/users/me", env.tokens(orgApp, DevOwnerID).AccessToken)
	var u map[string]any
	if err := json.Unmarshal([]byte(r.body), &u); err != nil {
		t.Fatal(err)
	}
	want := map[string]any{
		"id": DevOwnerID, "first_name": "Olivia", "last_name": "Owner", "display_name": "Olivia Owner",
		"email": "owner@acme.example", "type": 2.0, "role_name": "Owner", "role_id": "0",
		"account_id": DevAccountID, "status": "active", "timezone": "Europe/Berlin", "language": "en-US",
		"created_at": "2026-03-02T09:00:00Z",
	}
	for k, v := range want {
		if u[k] != v {
			t.Errorf("%s = %v, want %v", k, u[k], v)
		}
	}
	for _, k := range []string{"account_number", "pmi", "personal_meeting_url", "verified", "user_created_at", "jid", "login_types", "group_ids"} {
		if _, ok := u[k]; !ok {
			t.Errorf("field %s missing", k)
		}
	}
}

func TestExpiredAccessToken(t *testing.T) {
	env := newEnv(t)
	tr := env.tokens(orgApp, DevAdminID)
	env.clock.Advance(3599*time.Second - time.Second)
	if r := env.get("/v2/users/me", tr.AccessToken); r.status != http.StatusOK {
		t.Fatalf("a second before expiry: %d %s", r.status, r.body)
	}
	env.clock.Advance(time.Second)
	want(t, env.get("/v2/users/me", tr.AccessToken), 401, `{"code":124,"message":"Access token is expired."}`)
	fresh := decodeToken(t, env.refresh(orgApp, tr.RefreshToken))
	if r := env.get("/v2/users/me", fresh.AccessToken); r.status != http.StatusOK {
		t.Errorf("after refresh: %d %s", r.status, r.body)
	}
	want(t, env.get("/v2/users/me", tr.AccessToken), 401, `{"code":124,"message":"Invalid access token."}`)
}

func TestRemovedUser(t *testing.T) {
	env := newEnv(t)
	admin := env.tokens(orgApp, DevAdminID)
	owner := env.tokens(orgApp, DevOwnerID)
	pendingCode := env.code(orgApp, DevAdminID, nil)
	if err := env.emu.RemoveUser(DevAdminID); err != nil {
		t.Fatal(err)
	}
	const ownerGone = `{"reason":"The owner of the token does not exist","error":"invalid_grant"}`
	want(t, env.get("/v2/users/me", admin.AccessToken), 404, `{"code":1001,"message":"User does not exist: me."}`)
	want(t, env.refresh(orgApp, admin.RefreshToken), 400, ownerGone)
	want(t, env.exchange(orgApp, pendingCode, nil), 400, ownerGone)
	want(t, env.get("/v2/users/admin@acme.example", owner.AccessToken), 404,
		`{"code":1001,"message":"User does not exist: admin@acme.example."}`)
	if n := env.emu.ActiveGrants(orgApp.ID, DevAdminID); n != 0 {
		t.Errorf("ActiveGrants = %d", n)
	}
	if err := env.emu.RemoveUser(DevAdminID); err == nil {
		t.Error("removing twice succeeded")
	}
	checkErrorPage(t, env.authorize(orgApp, DevAdminID, nil), http.StatusBadRequest, "Choose the Zoom user")
}

func TestSetUserRole(t *testing.T) {
	env := newEnv(t)
	tr := env.tokens(orgApp, DevAdminID)
	if err := env.emu.SetUserRole(DevAdminID, "2", ""); err != nil {
		t.Fatal(err)
	}
	var u map[string]any
	r := env.get("/v2/users/me", tr.AccessToken)
	if err := json.Unmarshal([]byte(r.body), &u); err != nil || u["role_id"] != "2" || u["role_name"] != "Member" {
		t.Errorf("after demotion: %d %s", r.status, r.body)
	}
	checkErrorPage(t, env.authorize(orgApp, DevAdminID, nil), http.StatusForbidden, nonAdminMessage)

	if err := env.emu.SetUserRole(DevAppManagerID, "2", ""); err != nil {
		t.Fatal(err)
	}
	checkErrorPage(t, env.authorize(orgApp, DevAppManagerID, nil), http.StatusForbidden, nonAdminMessage)
	if err := env.emu.SetUserRole(DevMemberID, "CustomRole9", "Schedulers"); err != nil {
		t.Fatal(err)
	}
	if err := env.emu.SetUserRole(DevMemberID, "CustomRole9", ""); err == nil {
		t.Error("custom role without a name accepted")
	}
	if err := env.emu.SetUserRole("ghost", "1", ""); err == nil {
		t.Error("unknown user accepted")
	}
}
