package zoomemu

import (
	"net/http"
	"os"
	"path/filepath"
	"testing"
)

// TestStateFileKeepsGrantsAndMeetings: an emulator started on the state
// file of an earlier one accepts the tokens that one issued (access and
// refresh, with rotation intact) and still has its meetings; a revoked
// grant stays revoked.
func TestStateFileKeepsGrantsAndMeetings(t *testing.T) {
	file := filepath.Join(t.TempDir(), "zoom.json")
	first := newEnv(t, func(c *Config) { c.StateFile = file })
	org := first.tokens(orgApp, DevAdminID)
	personal := first.tokens(userApp, DevMemberID)
	m := first.createMeeting(org.AccessToken, DevMemberID, `{"topic":"kept","start_time":"2026-03-03T10:00:00Z","duration":30}`)
	want(t, first.revoke(userApp, personal.AccessToken), http.StatusOK, `{"status":"success"}`)
	if fi, err := os.Stat(file); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("state file: %v, mode %v", err, fi.Mode())
	}

	second := newEnv(t, func(c *Config) { c.StateFile = file })
	if got := second.getMeeting(org.AccessToken, m.ID); got.Topic != "kept" || got.JoinURL != m.JoinURL {
		t.Fatalf("meeting after the restart: %+v", got)
	}
	if n := second.createMeeting(org.AccessToken, DevMemberID, `{"topic":"next"}`); n.ID <= m.ID {
		t.Fatalf("meeting id %d reused after the restart", n.ID)
	}
	refreshed := decodeToken(t, second.refresh(orgApp, org.RefreshToken))
	want(t, second.refresh(orgApp, org.RefreshToken), http.StatusBadRequest, `{"reason":"Invalid Token!","error":"invalid_grant"}`)
	second.getMeeting(refreshed.AccessToken, m.ID)
	want(t, second.get("/v2/users/me", personal.AccessToken), http.StatusUnauthorized, `{"code":124,"message":"Invalid access token."}`)
}
