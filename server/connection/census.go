package connection

import (
	"context"

	"github.com/zoomconnect/zoomconnect/server/metrics"
)

// censusPage is how many members one store read of the census returns.
const censusPage = 500

// CountConnections counts connections by kind and state for
// zoomconnect_connections: the org connection and the members' personal
// connections of every org in the connected-orgs index (orgs whose org
// connection was removed, and their personal connections, are not listed
// there and not counted).
func (s *Service) CountConnections(ctx context.Context) (map[metrics.ConnectionKey]int, error) {
	orgs, err := s.cfg.Store.IndexMembers(ctx, indexOrgs, orgsConnected)
	if err != nil {
		return nil, err
	}
	counts := map[metrics.ConnectionKey]int{}
	for _, orgID := range orgs {
		snap, err := s.cfg.Store.Snapshot(ctx, orgID, nil)
		if err != nil {
			return nil, err
		}
		if c := snap.Connection; c != nil {
			counts[metrics.ConnectionKey{Kind: "org", State: string(c.State)}]++
		}
		for after := ""; ; {
			page, err := s.cfg.Store.ListMembers(ctx, orgID, after, censusPage)
			if err != nil {
				return nil, err
			}
			for _, u := range page {
				if p := u.Personal; p != nil {
					counts[metrics.ConnectionKey{Kind: "personal", State: string(p.State)}]++
				}
			}
			if len(page) < censusPage {
				break
			}
			after = page[len(page)-1].UserID
		}
	}
	return counts, nil
}
