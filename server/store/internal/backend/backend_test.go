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

func TestCheckID(t *testing.T) {
	if err := CheckID("booking id", "booking-1:{x} é"); err != nil {
		t.Errorf("CheckID of an ordinary id: %v", err)
	}
	for _, id := range []string{"", "a\x00b", "\x00"} {
		if err := CheckID("booking id", id); err == nil {
			t.Errorf("CheckID(%q) accepted it", id)
		}
	}
}

func TestCheckLease(t *testing.T) {
	if err := CheckLease("org-1", "token-refresh", "replica-1"); err != nil {
		t.Errorf("CheckLease of ordinary arguments: %v", err)
	}
	for _, args := range [][3]string{{"org{1}", "n", "o"}, {"org-1", "", "o"}, {"org-1", "n", ""}, {"org-1", "n\x00", "o"}, {"org-1", "n", "o\x00"}} {
		if err := CheckLease(args[0], args[1], args[2]); err == nil {
			t.Errorf("CheckLease(%q) accepted them", args)
		}
	}
	if err := CheckLeaseTTL(time.Nanosecond); err != nil {
		t.Errorf("CheckLeaseTTL(1ns): %v", err)
	}
	for _, ttl := range []time.Duration{0, -time.Second} {
		if err := CheckLeaseTTL(ttl); err == nil {
			t.Errorf("CheckLeaseTTL(%v) accepted it", ttl)
		}
	}
}
