package connection

import (
	"context"
	"strings"

	"github.com/zoomconnect/zoomconnect/server/store"
)

// RosterStatus is a member's Zoom status on the connected-users roster.
type RosterStatus int

const (
	StatusAny RosterStatus = iota
	StatusConnected
	StatusNotConnected
	StatusNeedsReconnect
	StatusNotInZoomAccount
	StatusMatching
)

// RosterRow is one member on the roster, as the resolver sees them.
type RosterRow struct {
	Member     store.Member
	Status     RosterStatus
	Type       Source
	Resolution Resolution
}

// RosterFilter selects rows; zero values match everything.
type RosterFilter struct {
	Status RosterStatus
	// Type filters by connection type; set HasType to filter on SourceNone.
	Type    Source
	HasType bool
	// Query keeps members whose name or email contains it, ignoring case.
	Query string
}

// MaxRosterQuery bounds the roster search text.
const MaxRosterQuery = 200

func rosterRow(m store.Member, r Resolution) RosterRow {
	row := RosterRow{Member: m, Resolution: r}
	switch {
	case r.Chosen.Source == SourcePersonal:
		row.Type = SourcePersonal
		row.Status = StatusConnected
		if r.Chosen.State != store.StateActive {
			row.Status = StatusNeedsReconnect
		}
	case r.Chosen.Source == SourceOrganization && r.Matching:
		row.Type, row.Status = SourceOrganization, StatusMatching
	case r.Chosen.Source == SourceOrganization:
		row.Type, row.Status = SourceOrganization, StatusConnected
	case r.Why == WhyUserNotInZoomAccount:
		row.Type, row.Status = SourceOrganization, StatusNotInZoomAccount
	case r.Why == WhyOrgNeedsReconnect:
		row.Type, row.Status = SourceOrganization, StatusNeedsReconnect
	default:
		row.Type, row.Status = SourceNone, StatusNotConnected
	}
	return row
}

func (f RosterFilter) match(row RosterRow) bool {
	return (f.Status == StatusAny || f.Status == row.Status) && (!f.HasType || f.Type == row.Type) &&
		(f.Query == "" || strings.Contains(strings.ToLower(row.Member.Name), f.Query) || strings.Contains(strings.ToLower(row.Member.Email), f.Query))
}

// Roster lists members in user id order, a page at a time, reading the store
// in chunks so that a large org is never loaded at once.
func (s *Service) Roster(ctx context.Context, orgID string, filter RosterFilter, size int32, token string) ([]RosterRow, string, error) {
	after, err := decodePageToken(token)
	if err != nil {
		return nil, "", err
	}
	limit := pageSize(size)
	filter.Query = strings.ToLower(strings.TrimSpace(filter.Query))
	orgSnap, err := s.cfg.Store.Snapshot(ctx, orgID, nil)
	if err != nil {
		return nil, "", err
	}
	now := s.cfg.Now()
	var rows []RosterRow
	for {
		chunk, err := s.cfg.Store.ListMembers(ctx, orgID, after, limit)
		if err != nil {
			return nil, "", err
		}
		for _, u := range chunk {
			after = u.UserID
			r := s.resolve(orgSnap, u, now)
			if r.needsMatch {
				s.nudge(orgID, u.UserID)
			}
			if row := rosterRow(*u.Member, r); filter.match(row) {
				rows = append(rows, row)
			}
			if len(rows) == limit {
				return rows, encodePageToken(after), nil
			}
		}
		if len(chunk) < limit {
			return rows, "", nil
		}
	}
}
