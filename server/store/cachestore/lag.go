package cachestore

import (
	"sync"
	"time"

	"github.com/zoomconnect/zoomconnect/server/metrics"
)

// lagWindow bounds how long a commit waits for its notification to be
// measured: an Update that writes only meetings notifies nobody, and a much
// later notification of the org is another change's.
const lagWindow = 30 * time.Second

// maxPendingCommits bounds the commits remembered for measurement.
const maxPendingCommits = 1024

// commitClock measures the invalidation lag: from this process's commit
// of a change to the change notification (the one every other replica's
// cache waits for) coming back from the backend.
type commitClock struct {
	mu      sync.Mutex
	pending map[string]time.Time
}

// committed remembers when orgID's change committed.
func (c *commitClock) committed(orgID string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.pending == nil {
		c.pending = map[string]time.Time{}
	}
	if _, ok := c.pending[orgID]; !ok && len(c.pending) >= maxPendingCommits {
		delete(c.pending, anyKey(c.pending))
	}
	c.pending[orgID] = time.Now()
}

// notified observes the lag of orgID's pending commit, if any.
func (c *commitClock) notified(orgID string) {
	c.mu.Lock()
	at, ok := c.pending[orgID]
	delete(c.pending, orgID)
	c.mu.Unlock()
	if lag := time.Since(at); ok && lag < lagWindow {
		metrics.CacheInvalidationLag.Observe(lag.Seconds())
	}
}
