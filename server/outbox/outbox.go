// Package outbox guarantees that every committed change gets its effects:
// the index entries across orgs and the event that a change queues with
// store.OrgTx.AddEffect are committed with it, atomically, and applied by
// this relay, from any replica, whatever happened to the process that made
// the change.
//
// The writer applies its own effects right after the commit (Update); the
// relay, which every replica runs, applies what a writer left pending (it
// died, the store failed) every Interval; and lookups whose answer drives
// a security decision call Flush first, so they never miss an entry that
// is committed but not yet applied. The store applies each effect once, in
// commit order, and appends each event once (see store.Store.ApplyEffects):
// a committed change's index entries and event are in place at most
// Interval plus one pass over the pending orgs after the store is reachable
// again.
package outbox

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/zoomconnect/zoomconnect/server/metrics"
	"github.com/zoomconnect/zoomconnect/server/store"
)

// Interval is how often the relay looks for pending effects.
const Interval = time.Second

// applyTimeout bounds applying one org's effects right after its commit,
// on the writer's time (effects are a few quick store calls).
const applyTimeout = 5 * time.Second

// Relay applies the effects of committed changes.
type Relay struct {
	store store.Store
	log   *slog.Logger
}

// New returns a relay over s.
func New(s store.Store, log *slog.Logger) *Relay {
	if log == nil {
		log = slog.Default()
	}
	return &Relay{store: s, log: log}
}

// Update is store.Store.Update followed, when fn queued effects, by
// applying them at once. A failure to apply is logged, not returned: the
// change and its effects are committed, and the relay applies them later.
//
// It measures the relay's lag (zoomconnect_event_relay_lag_seconds): from
// the change queuing its event to the event being in the stream, and
// counts the events applied (events_published_total{outcome="ok"}) or left
// to the relay by a failed apply ({outcome="error"}).
func (r *Relay) Update(ctx context.Context, orgID string, fn func(store.OrgTx) error) error {
	var t *effectTx
	err := r.store.Update(ctx, orgID, func(tx store.OrgTx) error {
		t = &effectTx{OrgTx: tx}
		return fn(t)
	})
	if err != nil || !t.queued {
		return err
	}
	actx, cancel := context.WithTimeout(context.WithoutCancel(ctx), applyTimeout)
	defer cancel()
	if err := r.store.ApplyEffects(actx, orgID); err != nil {
		metrics.EventsPublished.WithLabelValues("error").Add(float64(t.events))
		r.log.WarnContext(ctx, "applying the effects of a change failed; the relay will retry", "org_id", orgID, "error", err)
		return nil
	}
	if t.events > 0 {
		metrics.EventsPublished.WithLabelValues("ok").Add(float64(t.events))
		metrics.EventRelayLag.Observe(time.Since(t.first).Seconds())
	}
	return nil
}

// effectTx notes whether fn queued an effect, how many events, and when
// the first was queued.
type effectTx struct {
	store.OrgTx
	queued bool
	events int
	first  time.Time
}

func (t *effectTx) AddEffect(e store.Effect) {
	if e.Event != nil {
		if t.events == 0 {
			t.first = time.Now()
		}
		t.events++
	}
	t.queued = true
	t.OrgTx.AddEffect(e)
}

// Flush applies every pending effect of every org. Callers about to trust
// an index (deauthorization, webhook routing, the monitor) call it first;
// an error means the index may be incomplete: retry later.
func (r *Relay) Flush(ctx context.Context) error {
	orgs, err := r.store.PendingEffects(ctx)
	if err != nil {
		return err
	}
	var errs []error
	for _, orgID := range orgs {
		if err := r.store.ApplyEffects(ctx, orgID); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// Run flushes every Interval until ctx ends; failures (the store is down)
// are logged and retried on the next tick.
func (r *Relay) Run(ctx context.Context) error {
	t := time.NewTicker(Interval)
	defer t.Stop()
	failing := false
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
		err := r.Flush(ctx)
		switch {
		case err != nil && ctx.Err() == nil && !failing:
			r.log.WarnContext(ctx, "relay: applying pending effects failed; retrying every second", "error", err)
			failing = true
		case err == nil && failing:
			r.log.InfoContext(ctx, "relay: pending effects applied again")
			failing = false
		}
	}
}
