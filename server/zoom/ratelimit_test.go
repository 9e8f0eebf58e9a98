package zoom

import (
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestDailyLimit(t *testing.T) {
	for name, tc := range map[string]struct {
		e     APIError
		daily bool
	}{
		"Daily-limit header": {APIError{HTTPStatus: 429, RateLimitType: "Daily-limit", Message: "Refer to the response header"}, true},
		"per-user cap, no header": {APIError{HTTPStatus: 429, Message: "You have exceeded the daily rate limit (100) of Meeting Create/Update API requests " +
			"permitted for this particular user. You may resume these requests at GMT 00:00:00."}, true},
		"account daily message": {APIError{HTTPStatus: 429, Message: "You have reached the maximum daily rate limit for this API."}, true},
		"per-second":            {APIError{HTTPStatus: 429, RateLimitType: "QPS", Message: "You have reached the maximum per-second rate limit for this API. Try again later."}, false},
		"per-second, no header": {APIError{HTTPStatus: 429, Message: "Too many concurrent requests."}, false},
		"not a 429 at all":      {APIError{HTTPStatus: 400, Message: "daily rate limit"}, false},
	} {
		if got := tc.e.DailyLimit(); got != tc.daily {
			t.Errorf("%s: DailyLimit() = %v", name, got)
		}
	}
	for now, want := range map[time.Time]time.Time{
		time.Date(2026, 5, 30, 23, 59, 59, 0, time.UTC): time.Date(2026, 5, 31, 0, 0, 0, 0, time.UTC),
		time.Date(2026, 12, 31, 0, 0, 0, 0, time.UTC):   time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC),
		// 01:30 in Berlin is still the previous day in UTC.
		time.Date(2026, 6, 1, 1, 30, 0, 0, time.FixedZone("CEST", 2*3600)): time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC),
	} {
		if got := NextUTCMidnight(now); !got.Equal(want) {
			t.Errorf("NextUTCMidnight(%v) = %v, want %v", now, got, want)
		}
	}
}

func TestMissingScopes(t *testing.T) {
	for msg, want := range map[string][]string{
		"Invalid access token, does not contain scopes:[meeting:update:meeting:admin, meeting:update:meeting].": {"meeting:update:meeting:admin", "meeting:update:meeting"},
		"Invalid access token, does not contain scopes:[user:read:user:admin].":                                 {"user:read:user:admin"},
		"Invalid access token, does not contain scopes":                                                         nil,
	} {
		got, ok := (&APIError{HTTPStatus: http.StatusBadRequest, Code: CodeMissingScopes, Message: msg}).MissingScopes()
		if !ok || !slices.Equal(got, want) {
			t.Errorf("MissingScopes(%q) = %q, %v; want %q", msg, got, ok, want)
		}
	}
	if _, ok := (&APIError{HTTPStatus: http.StatusUnauthorized, Code: CodeInvalidAccessToken, Message: "Invalid access token."}).MissingScopes(); ok {
		t.Error("an expired token was taken for a missing scope")
	}
}

// FuzzMissingScopes: Zoom's message is untrusted text; whatever it says,
// the scopes named are bounded, trimmed and never empty.
func FuzzMissingScopes(f *testing.F) {
	for _, seed := range []string{"does not contain scopes:[a, b].", "[", "]", "[,,]", "scopes:[" + strings.Repeat("x", 200) + "]"} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, msg string) {
		scopes, ok := (&APIError{HTTPStatus: http.StatusBadRequest, Code: CodeMissingScopes, Message: msg}).MissingScopes()
		if !ok {
			t.Fatal("a 400 4711 was not recognised")
		}
		for _, s := range scopes {
			if s == "" || s != strings.TrimSpace(s) || len(s) > 100 || strings.ContainsAny(s, ",]") {
				t.Fatalf("scope %q from %q", s, msg)
			}
		}
	})
}
