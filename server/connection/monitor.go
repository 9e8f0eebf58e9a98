package connection

import (
	"context"
	"math/rand/v2"
	"time"

	"github.com/zoomconnect/zoomconnect/server/secrets"
	"github.com/zoomconnect/zoomconnect/server/store"
)

// RunMonitor probes every active org connection about every interval
// (jittered), because webhooks get lost: it refreshes the token when due
// and checks that the installer is still an Owner or Admin. A lease makes
// one replica probe a given connection per interval; Zoom being down never
// marks a healthy connection broken.
func (s *Service) RunMonitor(ctx context.Context, interval time.Duration) {
	owner := secrets.NewToken()
	for {
		jitter := time.Duration(rand.Int64N(int64(interval)/5 + 1))
		select {
		case <-ctx.Done():
			return
		case <-time.After(interval - interval/10 + jitter):
		}
		orgs, err := s.indexMembers(ctx, indexOrgs, orgsConnected)
		if err != nil {
			s.log.WarnContext(ctx, "monitor: listing connected orgs", "error", err)
			continue
		}
		for _, orgID := range orgs {
			if ctx.Err() != nil {
				return
			}
			held, err := s.cfg.Store.AcquireLease(ctx, orgID, "monitor", owner, interval/2)
			if err != nil || !held {
				continue
			}
			if err := s.probe(ctx, orgID); err != nil {
				s.log.InfoContext(ctx, "monitor: probe inconclusive; will try again", "org_id", orgID, "error", err)
			}
		}
	}
}

// probe checks one org connection.
func (s *Service) probe(ctx context.Context, orgID string) error {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	conn, err := store.GetOrgConnection(ctx, s.cfg.Store, orgID)
	if err != nil || conn.State != store.StateActive {
		return nil
	}
	return s.checkInstaller(ctx, orgID, conn.InstallerZoomUserID, false)
}
