package storetest

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/zoomconnect/zoomconnect/server/store"
)

const (
	// deliveryTimeout is how long a notification may take in the suite;
	// the contract promises milliseconds.
	deliveryTimeout = time.Second
	// quietPeriod is how long the suite waits for a notification that
	// must not come.
	quietPeriod = 200 * time.Millisecond
)

// subscribe subscribes to the changes of orgID; the backend may be shared
// with other subtests, whose changes are filtered out.
func subscribe(t *testing.T, ctx context.Context, s store.Store, orgID string) <-chan struct{} {
	t.Helper()
	ch := make(chan struct{}, 16)
	err := s.Subscribe(ctx, func(id string) {
		if id == orgID {
			select {
			case ch <- struct{}{}:
			default: // the test has failed or ended
			}
		}
	})
	if err != nil {
		t.Fatalf("Subscribe: %v", err)
	}
	return ch
}

func waitNotified(t *testing.T, ch <-chan struct{}, what string) {
	t.Helper()
	select {
	case <-ch:
	case <-time.After(deliveryTimeout):
		t.Fatalf("no notification within %v of %s", deliveryTimeout, what)
	}
}

func assertQuiet(t *testing.T, ch <-chan struct{}, what string) {
	t.Helper()
	select {
	case <-ch:
		t.Fatalf("notification for %s", what)
	case <-time.After(quietPeriod):
	}
}

func testSubscribe(t *testing.T, s store.Store) {
	orgID := newOrgID(t)
	// Two subscribers: each hears every change.
	first, second := subscribe(t, t.Context(), s, orgID), subscribe(t, t.Context(), s, orgID)

	// Had the aborted Update notified, that notification would come
	// before the committed one's, and the count would be off.
	err := s.Update(t.Context(), orgID, func(tx store.OrgTx) error {
		tx.SetSettings(fullSettings())
		return errors.New("abort")
	})
	if err == nil {
		t.Fatal("Update returned no error although fn did")
	}
	update(t, s, orgID, func(tx store.OrgTx) error {
		tx.SetSettings(fullSettings())
		return nil
	})
	for _, ch := range []<-chan struct{}{first, second} {
		waitNotified(t, ch, "a commit")
		assertQuiet(t, ch, "an aborted Update")
	}
}

func testSubscribeEnds(t *testing.T, s store.Store) {
	orgID := newOrgID(t)
	ctx, cancel := context.WithCancel(t.Context())
	var calls atomic.Int32
	ch := subscribe(t, ctx, s, orgID)
	// Counted apart from ch: a late call must be seen even after cancel.
	if err := s.Subscribe(ctx, func(id string) {
		if id == orgID {
			calls.Add(1)
		}
	}); err != nil {
		t.Fatalf("Subscribe: %v", err)
	}
	write := func() {
		update(t, s, orgID, func(tx store.OrgTx) error {
			tx.SetSettings(fullSettings())
			return nil
		})
	}
	write()
	waitNotified(t, ch, "a commit")
	cancel()
	time.Sleep(quietPeriod) // delivery stops soon after, not at once
	before := calls.Load()
	write()
	time.Sleep(quietPeriod)
	if n := calls.Load(); n != before {
		t.Fatalf("%d notifications after the subscription's context ended", n-before)
	}
}
