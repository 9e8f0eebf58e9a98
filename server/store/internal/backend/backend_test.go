package backend

import (
	"testing"
	"time"
)

func TestNextActivityID(t *testing.T) {
	at := func(ms int64) time.Time { return time.UnixMilli(ms).Add(999 * time.Microsecond) }
	tests := []struct {
		last ActivityID
		t    time.Time
		want ActivityID
	}{
		{ActivityID{}, at(1000), ActivityID{1000, 0}},
		{ActivityID{1000, 0}, at(1000), ActivityID{1000, 1}},
		{ActivityID{1000, 7}, at(1001), ActivityID{1001, 0}},
		// An older time (another replica's clock) still gets a later ID.
		{ActivityID{1000, 7}, at(10), ActivityID{1000, 8}},
		// Like Redis, never 0-0, even for times before 1970.
		{ActivityID{}, time.Time{}, ActivityID{0, 1}},
		{ActivityID{}, time.UnixMilli(0), ActivityID{0, 1}},
	}
	for _, tc := range tests {
		if got := NextActivityID(tc.last, tc.t); got != tc.want {
			t.Errorf("NextActivityID(%v, %v) = %v, want %v", tc.last, tc.t, got, tc.want)
		}
	}
}

func TestParseActivityID(t *testing.T) {
	for _, s := range []string{"0-1", "1732924800000-0", "18446744073709551615-18446744073709551615"} {
		id, err := ParseActivityID(s)
		if err != nil || id.String() != s {
			t.Errorf("ParseActivityID(%q) = %v, %v; want it back", s, id, err)
		}
	}
	for _, s := range []string{"", "1", "1-", "-1", "a-1", "1-b", "+1-1", "1-1-1", " 1-1", "18446744073709551616-0"} {
		if id, err := ParseActivityID(s); err == nil {
			t.Errorf("ParseActivityID(%q) = %v, want an error", s, id)
		}
	}
}
