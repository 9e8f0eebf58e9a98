package backend

import (
	"strings"
	"testing"
	"time"

	"github.com/zoomconnect/zoomconnect/server/store"
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

func TestCheckIndex(t *testing.T) {
	if err := CheckIndexKey("zoomuser", "abc:{x} é"); err != nil {
		t.Errorf("CheckIndexKey of an ordinary index and key: %v", err)
	}
	if err := CheckIndexChange(store.IndexChange{Index: "zoomuser", Key: "k", Member: "personal/org-1/user-1"}); err != nil {
		t.Errorf("CheckIndexChange of an ordinary member: %v", err)
	}
	long := strings.Repeat("x", MaxIndexPart+1)
	for _, args := range [][2]string{{"", "k"}, {"i", ""}, {"i\x00", "k"}, {"i", "k\x00"}, {"a:b", "k"}, {long, "k"}, {"i", long}} {
		if err := CheckIndexKey(args[0], args[1]); err == nil {
			t.Errorf("CheckIndexKey(%.20q) accepted them", args)
		}
	}
	for _, m := range []string{"", "m\x00", long} {
		if err := CheckIndexChange(store.IndexChange{Index: "i", Key: "k", Member: m, Remove: true}); err == nil {
			t.Errorf("CheckIndexChange of member %.20q accepted it", m)
		}
	}
}

func TestCheckClaim(t *testing.T) {
	if err := CheckClaim("replica-1", 1, 0); err != nil {
		t.Errorf("CheckClaim of ordinary arguments: %v", err)
	}
	for _, c := range []struct {
		consumer string
		limit    int
		minIdle  time.Duration
	}{{"", 1, 0}, {"c\x00", 1, 0}, {"c", 0, 0}, {"c", 1, -time.Nanosecond}} {
		if err := CheckClaim(c.consumer, c.limit, c.minIdle); err == nil {
			t.Errorf("CheckClaim(%+v) accepted them", c)
		}
	}
	if err := CheckDedupeKey(""); err == nil {
		t.Error("CheckDedupeKey accepted an empty key")
	}
}

func TestParseEventCursor(t *testing.T) {
	tests := map[string]EventCursor{
		"":       {FromNow: true},
		"0":      {},
		"0-0":    {},
		"1-0":    {After: ActivityID{1, 0}},
		"17-345": {After: ActivityID{17, 345}},
	}
	for s, want := range tests {
		if got, err := ParseEventCursor(s); err != nil || got != want {
			t.Errorf("ParseEventCursor(%q) = %+v, %v; want %+v", s, got, err, want)
		}
	}
	for _, s := range []string{"$", ">", "+", "-", "1", "00", "1-", "-1", "a-1", "1-1-1", " 1-1", "0 "} {
		if got, err := ParseEventCursor(s); err == nil {
			t.Errorf("ParseEventCursor(%q) = %+v, want an error", s, got)
		}
	}
	if _, err := ParseWebhookID("5-0"); err != nil {
		t.Errorf("ParseWebhookID(5-0): %v", err)
	}
	for _, s := range []string{"", "0", "5", "x-0"} {
		if _, err := ParseWebhookID(s); err == nil {
			t.Errorf("ParseWebhookID(%q) accepted it", s)
		}
	}
}
