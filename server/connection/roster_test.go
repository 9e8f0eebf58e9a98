package connection

import (
	"context"
	"fmt"
	"github.com/zoomconnect/zoomconnect/server/internal/testbed"
	"slices"
	"testing"
	"time"

	"github.com/zoomconnect/zoomconnect/server/store"
)

// readCounting counts the members each ListMembers call returns.
type readCounting struct {
	store.Store
	reads []int
}

func (s *readCounting) ListMembers(ctx context.Context, orgID, after string, limit int) ([]store.UserRecords, error) {
	page, err := s.Store.ListMembers(ctx, orgID, after, limit)
	s.reads = append(s.reads, len(page))
	return page, err
}

// TestRosterScanBudget: a filter that few members match does not read the
// whole org in one call: each call reads at most rosterScanBudget members
// and returns a short page with a token to go on, and paging still finds
// every matching member exactly once; unfiltered pages come back full.
func TestRosterScanBudget(t *testing.T) {
	ctx := t.Context()
	bolt := testbed.Store(t)
	now := time.Date(2026, 11, 1, 12, 0, 0, 0, time.UTC)
	const org, members = "big", 2*rosterScanBudget + rosterScanBudget/2
	notInAccount := []int{10, rosterScanBudget + rosterScanBudget/2, 2*rosterScanBudget + rosterScanBudget/3}
	err := bolt.Update(ctx, org, func(tx store.OrgTx) error {
		tx.SetOrgConnection(&store.OrgConnection{OrgID: org, State: store.StateActive, ZoomAccountID: "acct", UpdatedAt: now})
		for i := range members {
			m := &store.Member{OrgID: org, UserID: fmt.Sprintf("u%05d", i), Email: fmt.Sprintf("u%05d@x.example", i),
				Match: &store.ZoomMatch{ZoomAccountID: "acct", ZoomUserID: fmt.Sprintf("z%05d", i), CheckedAt: now}}
			if slices.Contains(notInAccount, i) {
				m.Match = &store.ZoomMatch{ZoomAccountID: "acct", NotInAccount: true, CheckedAt: now}
			}
			tx.SetMember(m)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	st := &readCounting{Store: bolt}
	s := New(Config{Store: st, Now: func() time.Time { return now }})

	var got []string
	calls := 0
	for token := ""; ; calls++ {
		st.reads = nil
		rows, next, err := s.Roster(ctx, org, RosterFilter{Status: StatusNotInZoomAccount}, 100, token)
		if err != nil {
			t.Fatal(err)
		}
		read := 0
		for _, n := range st.reads {
			read += n
		}
		if read > rosterScanBudget {
			t.Fatalf("one call read %d members, more than the budget %d", read, rosterScanBudget)
		}
		for _, r := range rows {
			got = append(got, r.Member.UserID)
		}
		if token = next; token == "" {
			break
		}
	}
	want := []string{"u00010", fmt.Sprintf("u%05d", notInAccount[1]), fmt.Sprintf("u%05d", notInAccount[2])}
	if !slices.Equal(got, want) || calls != 2 {
		t.Fatalf("filtered paging found %v in %d calls, want %v in 3 (one per scan budget)", got, calls+1, want)
	}

	// An unfiltered page larger than the budget still comes back full.
	page := rosterScanBudget + 100
	rows, next, err := s.Roster(ctx, org, RosterFilter{}, int32(page), "")
	if err != nil || len(rows) != page || next == "" {
		t.Fatalf("unfiltered page: %d rows, next %q, %v; want a full page of %d and a token", len(rows), next, err, page)
	}
}
