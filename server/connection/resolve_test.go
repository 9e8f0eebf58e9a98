package connection

import (
	"testing"
	"time"

	"github.com/zoomconnect/zoomconnect/server/store"
)

// TestResolvePrecedence covers the precedence rules one record layout at a
// time: personal > organization > none, with the reasons the API reports.
func TestResolvePrecedence(t *testing.T) {
	now := time.Date(2026, 11, 1, 12, 0, 0, 0, time.UTC)
	s := New(Config{Now: func() time.Time { return now }})
	active := &store.OrgConnection{State: store.StateActive, ZoomAccountID: "acct"}
	needsReconnect := &store.OrgConnection{State: store.StateNeedsReconnect, ZoomAccountID: "acct", Reason: store.ReasonInvalidGrant}
	pendingFirst := &store.OrgConnection{State: store.StateNotConnected, Pending: &store.PendingInstall{ExpiresAt: now.Add(time.Hour)}}
	expiredLink := &store.OrgConnection{State: store.StateNotConnected, Pending: &store.PendingInstall{ExpiresAt: now.Add(-time.Hour)}}
	matched := &store.Member{UserID: "u", Email: "u@x.example", Match: &store.ZoomMatch{ZoomAccountID: "acct", ZoomUserID: "zu", ZoomEmail: "u@x.example", CheckedAt: now}}
	notInAccount := &store.Member{UserID: "u", Email: "u@x.example", Match: &store.ZoomMatch{ZoomAccountID: "acct", NotInAccount: true, CheckedAt: now}}
	unmatched := &store.Member{UserID: "u", Email: "u@x.example"}
	otherAccountMatch := &store.Member{UserID: "u", Email: "u@x.example", Match: &store.ZoomMatch{ZoomAccountID: "old", ZoomUserID: "old-zu", CheckedAt: now}}
	detached := &store.Member{UserID: "u", Email: "u@x.example", Detached: true, Match: matched.Match}
	personal := &store.PersonalConnection{State: store.StateActive, ZoomUserID: "pz", ZoomEmail: "p@x.example", ZoomAccountID: "pacct"}
	personalBroken := &store.PersonalConnection{State: store.StateNeedsReconnect, ZoomUserID: "pz"}
	allowDetach := &store.OrgSettings{AllowUsersToDetach: true}

	for name, tc := range map[string]struct {
		conn      *store.OrgConnection
		settings  *store.OrgSettings
		member    *store.Member
		personal  *store.PersonalConnection
		source    Source
		why       string
		zoomUser  string
		shadowed  bool
		fallback  bool
		wantMatch bool
	}{
		"nothing":                            {why: WhyNoConnection, source: SourceNone},
		"org only":                           {conn: active, member: matched, source: SourceOrganization, why: WhyOrgConnected, zoomUser: "zu"},
		"personal and org: personal shadows": {conn: active, member: matched, personal: personal, source: SourcePersonal, why: WhyPersonalConnected, zoomUser: "pz", shadowed: true},
		"personal only":                      {member: matched, personal: personal, source: SourcePersonal, why: WhyPersonalConnected, zoomUser: "pz"},
		"personal broken, org fallback":      {conn: active, member: matched, personal: personalBroken, source: SourcePersonal, why: WhyPersonalNeedsReconnect, zoomUser: "pz", fallback: true},
		"org needs reconnect":                {conn: needsReconnect, member: matched, source: SourceNone, why: WhyOrgNeedsReconnect},
		"org pending":                        {conn: pendingFirst, member: matched, source: SourceNone, why: WhyOrgPending},
		"install link expired":               {conn: expiredLink, member: matched, source: SourceNone, why: WhyNoConnection},
		"not in the Zoom account":            {conn: active, member: notInAccount, source: SourceNone, why: WhyUserNotInZoomAccount},
		"unknown member":                     {conn: active, source: SourceNone, why: WhyUserNotInZoomAccount},
		"not yet matched: served by email":   {conn: active, member: unmatched, source: SourceOrganization, why: WhyOrgConnected, wantMatch: true},
		"matched in another account":         {conn: active, member: otherAccountMatch, source: SourceOrganization, why: WhyOrgConnected, wantMatch: true},
		"detached while allowed":             {conn: active, settings: allowDetach, member: detached, source: SourceNone, why: WhyUserDetached},
		"detached but no longer allowed":     {conn: active, member: detached, source: SourceOrganization, why: WhyOrgConnected, zoomUser: "zu"},
	} {
		t.Run(name, func(t *testing.T) {
			snap := &store.OrgSnapshot{Connection: tc.conn, Settings: tc.settings}
			r := s.resolve(snap, store.UserRecords{UserID: "u", Member: tc.member, Personal: tc.personal}, now)
			if r.Chosen.Source != tc.source || r.Why != tc.why || r.Chosen.ZoomUserID != tc.zoomUser || r.Explanation == "" {
				t.Fatalf("resolve = %+v, want source %v why %s zoom user %q", r, tc.source, tc.why, tc.zoomUser)
			}
			if (r.Shadowed != nil) != tc.shadowed || (r.Fallback != nil) != tc.fallback || r.needsMatch != tc.wantMatch {
				t.Fatalf("shadowed %v fallback %v needsMatch %v; want %v %v %v", r.Shadowed, r.Fallback, r.needsMatch, tc.shadowed, tc.fallback, tc.wantMatch)
			}
		})
	}
}

func TestStaleMatchIsRefreshed(t *testing.T) {
	now := time.Date(2026, 11, 1, 12, 0, 0, 0, time.UTC)
	s := New(Config{Now: func() time.Time { return now }, MatchTTL: time.Hour})
	conn := &store.OrgConnection{State: store.StateActive, ZoomAccountID: "acct"}
	fresh := &store.Member{Email: "u@x.example", Match: &store.ZoomMatch{ZoomAccountID: "acct", CheckedAt: now.Add(-time.Minute)}}
	old := &store.Member{Email: "u@x.example", Match: &store.ZoomMatch{ZoomAccountID: "acct", CheckedAt: now.Add(-2 * time.Hour)}}
	if s.matchStale(fresh, conn) || !s.matchStale(old, conn) || s.matchStale(old, nil) {
		t.Fatal("match staleness is wrong")
	}
}
