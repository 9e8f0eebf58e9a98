package loadgen

import (
	"context"
	"fmt"
	"time"

	zcv1 "github.com/zoomconnect/zoomconnect/gen/zoomconnect/v1"
)

// rosterPageSize is the page the roster workload asks for.
const rosterPageSize = 100

// rosterFilter is one way of listing the roster, with the rows it must
// return given the seeded classes.
type rosterFilter struct {
	name     string
	status   zcv1.ConnectedUserStatus
	typ      zcv1.ConnectionSource
	expected func(counts map[class]int, n int) int
	match    func(u *zcv1.ConnectedUser) bool
}

var rosterFilters = []rosterFilter{
	{name: "unfiltered",
		expected: func(_ map[class]int, n int) int { return n },
		match:    func(*zcv1.ConnectedUser) bool { return true }},
	{name: "status=NOT_IN_ZOOM_ACCOUNT (10%)", status: zcv1.ConnectedUserStatus_CONNECTED_USER_STATUS_NOT_IN_ZOOM_ACCOUNT,
		expected: func(c map[class]int, _ int) int { return c[classNotInAccount] },
		match: func(u *zcv1.ConnectedUser) bool {
			return u.GetStatus() == zcv1.ConnectedUserStatus_CONNECTED_USER_STATUS_NOT_IN_ZOOM_ACCOUNT
		}},
	{name: "type=PERSONAL (3%)", typ: zcv1.ConnectionSource_CONNECTION_SOURCE_PERSONAL,
		expected: func(c map[class]int, _ int) int { return c[classPersonalActive] + c[classPersonalNeedsReconn] },
		match: func(u *zcv1.ConnectedUser) bool {
			return u.GetType() == zcv1.ConnectionSource_CONNECTION_SOURCE_PERSONAL
		}},
	{name: "status=NEEDS_RECONNECT (1%)", status: zcv1.ConnectedUserStatus_CONNECTED_USER_STATUS_NEEDS_RECONNECT,
		expected: func(c map[class]int, _ int) int { return c[classPersonalNeedsReconn] },
		match: func(u *zcv1.ConnectedUser) bool {
			return u.GetStatus() == zcv1.ConnectedUserStatus_CONNECTED_USER_STATUS_NEEDS_RECONNECT
		}},
}

// roster pages through the big and the mid-sized org with each filter,
// over and over for o.Duration each (at least once), from one caller: the
// latency of a page is then the server's, plus loopback. Every walk is
// checked: the rows a filter must return, each once, in user id order.
func (r *runner) roster(ctx context.Context, res *Result) error {
	all := newRecorder()
	start := time.Now()
	for _, o := range []orgSize{{BigOrg, r.o.Plan.BigOrgMembers}, {MidOrg, r.o.Plan.MidOrgMembers}} {
		if o.members == 0 {
			continue
		}
		counts := countClasses(o.members)
		for _, f := range rosterFilters {
			rec := newRecorder()
			walks, pages := 0, 0
			for deadline := time.Now().Add(r.o.Duration); walks == 0 || time.Now().Before(deadline); walks++ {
				n, failure, err := r.walkRoster(ctx, o, f, rec, all)
				if err != nil {
					return err
				}
				pages += n
				if failure != "" {
					res.Failures = append(res.Failures, fmt.Sprintf("%s %s: %s", o.orgID, f.name, failure))
					break
				}
			}
			s := rec.stats(0)
			res.Notes = append(res.Notes, fmt.Sprintf("%-7s %6d members  %-32s %3d rows/walk in %4d pages  p50 %s  p99 %s  max %s  errors %d",
				o.orgID, o.members, f.name, f.expected(counts, o.members), pages/max(walks, 1),
				ms(s.P50), ms(s.P99), ms(s.Max), s.ErrorCount()))
		}
	}
	res.Stats = all.stats(time.Since(start))
	return nil
}

// walkRoster lists one org's roster with f from the first page to the last
// and returns the pages it took, and what was wrong with the rows, if
// anything. A failed call is recorded and ends the walk.
func (r *runner) walkRoster(ctx context.Context, o orgSize, f rosterFilter, recs ...*recorder) (pages int, failure string, err error) {
	client := zcv1.NewConnectionServiceClient(r.conn(0))
	orgID, want := o.orgID, f.expected(countClasses(o.members), o.members)
	rows, last, token := 0, "", ""
	for {
		if err := ctx.Err(); err != nil {
			return pages, "", err
		}
		t0 := time.Now()
		resp, err := client.ListConnectedUsers(r.asOwner(ctx, orgID), &zcv1.ListConnectedUsersRequest{
			OrgId: orgID, PageSize: rosterPageSize, PageToken: token, Status: f.status, Type: f.typ})
		d := time.Since(t0)
		for _, rec := range recs {
			rec.record(d, err)
		}
		pages++
		if err != nil {
			return pages, "a page failed: " + errorKey(err), nil
		}
		for _, u := range resp.GetUsers() {
			id := u.GetMember().GetUserId()
			if id <= last {
				return pages, fmt.Sprintf("row %q after %q: not in user id order, or repeated", id, last), nil
			}
			if !f.match(u) {
				return pages, fmt.Sprintf("row %q (%s, %s) does not match the filter", id, u.GetStatus(), u.GetType()), nil
			}
			last = id
			rows++
		}
		if len(resp.GetUsers()) > rosterPageSize {
			return pages, fmt.Sprintf("a page of %d rows, more than the %d asked for", len(resp.GetUsers()), rosterPageSize), nil
		}
		if token = resp.GetNextPageToken(); token == "" {
			break
		}
	}
	if rows != want {
		return pages, fmt.Sprintf("%d rows, want %d", rows, want), nil
	}
	return pages, "", nil
}

// ms formats a duration in milliseconds.
func ms(d time.Duration) string { return fmt.Sprintf("%.2fms", float64(d)/float64(time.Millisecond)) }
