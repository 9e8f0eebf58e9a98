package zoomemu

import (
	"net/http"
	"testing"
	"time"
)

// TestAccountRateLimits: the Medium category's per-second limit answers 429
// without Retry-After; its daily limit answers 429 Daily-limit with an
// ISO-8601 Retry-After at 00:00 UTC. Both are per account, shared by apps;
// Light requests (GET /meetings/{id}) are not counted.
func TestAccountRateLimits(t *testing.T) {
	env := newEnv(t, func(c *Config) { c.MediumPerSecond, c.MediumPerDay = 2, 5 })
	org := env.tokens(orgApp, DevAdminID).AccessToken
	personal := env.tokens(userApp, DevMemberID).AccessToken
	const perSecond = `{"code":429,"message":"You have reached the maximum per-second rate limit for this API. Try again later."}`
	const daily = `{"code":429,"message":"You have reached the maximum daily rate limit for this API. Refer to the response header for details on when you can make another request."}`

	m := env.createMeeting(org, DevMemberID, `{"topic":"a","start_time":"2026-03-03T10:00:00Z"}`)
	env.list(personal, "me", "") // the other app, same account
	r := env.api(http.MethodPost, "/v2/users/me/meetings", org, `{"topic":"b"}`)
	want(t, r, http.StatusTooManyRequests, perSecond)
	if r.header.Get("Retry-After") != "" || r.header.Get("X-RateLimit-Type") != "QPS" || r.header.Get("X-RateLimit-Category") != "Medium" {
		t.Fatalf("per-second 429 headers: %v", r.header)
	}
	env.getMeeting(org, m.ID) // Light: not limited

	env.clock.Advance(time.Second)
	env.createMeeting(org, "me", `{"topic":"c"}`)
	env.list(org, "me", "")
	env.clock.Advance(time.Second)
	env.createMeeting(org, "me", `{"topic":"d"}`) // the fifth of the day
	r = env.api(http.MethodGet, "/v2/users/me/meetings", personal, "")
	want(t, r, http.StatusTooManyRequests, daily)
	if r.header.Get("Retry-After") != "2026-03-03T00:00:00Z" || r.header.Get("X-RateLimit-Type") != "Daily-limit" {
		t.Fatalf("daily 429 headers: %v", r.header)
	}
	if n := env.emu.Stats().AccountRateLimited; n != 2 {
		t.Fatalf("AccountRateLimited = %d", n)
	}
	env.clock.Advance(15 * time.Hour) // the next UTC day
	env.createMeeting(env.tokens(orgApp, DevAdminID).AccessToken, "me", `{"topic":"e"}`)
}
