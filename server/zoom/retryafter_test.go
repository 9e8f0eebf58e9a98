package zoom

import (
	"testing"
	"time"
)

func TestParseRetryAfter(t *testing.T) {
	now := time.Date(2026, 5, 30, 12, 0, 0, 0, time.UTC)
	for in, want := range map[string]time.Time{
		"":                              {},
		"garbage":                       {},
		"30":                            now.Add(30 * time.Second),
		"2026-05-31T00:00:00Z":          time.Date(2026, 5, 31, 0, 0, 0, 0, time.UTC),
		"Sun, 31 May 2026 00:00:00 GMT": time.Date(2026, 5, 31, 0, 0, 0, 0, time.UTC),
	} {
		if got := parseRetryAfter(in, now); !got.Equal(want) {
			t.Errorf("parseRetryAfter(%q) = %v, want %v", in, got, want)
		}
	}
}

func FuzzParseOAuthError(f *testing.F) {
	for _, seed := range []string{`{"reason":"Invalid Token!","error":"invalid_grant"}`, `{"error":1}`, `null`, ``, `{`} {
		f.Add(400, []byte(seed))
	}
	f.Fuzz(func(t *testing.T, status int, body []byte) {
		e := parseOAuthError(status, body)
		if e.HTTPStatus != status {
			t.Fatal("status lost")
		}
		_ = e.GrantDead()
	})
}
