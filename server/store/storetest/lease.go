package storetest

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/zoomconnect/zoomconnect/server/store"
)

// leaseTTL outlasts every test: a lease acquired with it is held for the
// rest of the test, however slow the machine.
const leaseTTL = time.Hour

func acquire(t *testing.T, s store.Store, orgID, name, owner string, ttl time.Duration) bool {
	t.Helper()
	held, err := s.AcquireLease(t.Context(), orgID, name, owner, ttl)
	if err != nil {
		t.Fatalf("AcquireLease(%s, %s, %s, %v): %v", orgID, name, owner, ttl, err)
	}
	return held
}

func release(t *testing.T, s store.Store, orgID, name, owner string) {
	t.Helper()
	if err := s.ReleaseLease(t.Context(), orgID, name, owner); err != nil {
		t.Fatalf("ReleaseLease(%s, %s, %s): %v", orgID, name, owner, err)
	}
}

func testLease(t *testing.T, s store.Store) {
	orgID := newOrgID(t)
	const name = "token-refresh"
	release(t, s, orgID, name, "a") // a lease never held: nothing to do
	if !acquire(t, s, orgID, name, "a", leaseTTL) {
		t.Fatal("a free lease was not acquired")
	}
	if acquire(t, s, orgID, name, "b", leaseTTL) {
		t.Fatal("another owner acquired a held lease")
	}
	if !acquire(t, s, orgID, name, "a", leaseTTL) {
		t.Fatal("the owner of a lease could not acquire it again")
	}
	release(t, s, orgID, name, "b")
	if acquire(t, s, orgID, name, "b", leaseTTL) {
		t.Fatal("a lease released by another than its owner was freed")
	}
	release(t, s, orgID, name, "a")
	if !acquire(t, s, orgID, name, "b", leaseTTL) {
		t.Fatal("a lease released by its owner was not free")
	}
	if acquire(t, s, orgID, name, "a", leaseTTL) {
		t.Fatal("the former owner acquired a lease held by another")
	}
}

func testLeaseExpires(t *testing.T, s store.Store) {
	orgID := newOrgID(t)
	if !acquire(t, s, orgID, "lease", "a", 100*time.Millisecond) {
		t.Fatal("a free lease was not acquired")
	}
	time.Sleep(200 * time.Millisecond)
	if !acquire(t, s, orgID, "lease", "b", leaseTTL) {
		t.Fatal("an expired lease was not free")
	}
}

// testLeaseExtends: acquiring a lease again sets its ttl anew. (Had the
// short lease expired before it was acquired again, it was free: the
// outcome is the same.)
func testLeaseExtends(t *testing.T, s store.Store) {
	orgID := newOrgID(t)
	if !acquire(t, s, orgID, "lease", "a", 100*time.Millisecond) || !acquire(t, s, orgID, "lease", "a", leaseTTL) {
		t.Fatal("the owner of a lease could not acquire it again")
	}
	time.Sleep(200 * time.Millisecond)
	if acquire(t, s, orgID, "lease", "b", leaseTTL) {
		t.Fatal("another owner acquired a lease after its first ttl, which the owner had extended")
	}
}

func testConcurrentLeases(t *testing.T, s store.Store) {
	orgID := newOrgID(t)
	exactlyOneWins(t, "owners racing for a lease", 16, func(i int) (bool, error) {
		return s.AcquireLease(t.Context(), orgID, "lease", string(rune('a'+i)), leaseTTL)
	})
}

func testLeasesIndependent(t *testing.T, s store.Store) {
	a, b := newOrgID(t), newOrgID(t)
	if !acquire(t, s, a, "refresh", "x", leaseTTL) {
		t.Fatal("a free lease was not acquired")
	}
	if !acquire(t, s, a, "other", "y", leaseTTL) {
		t.Fatal("a lease of another name was not free")
	}
	if !acquire(t, s, b, "refresh", "y", leaseTTL) {
		t.Fatal("a lease of the same name in another org was not free")
	}
	// Releasing one leaves the others held.
	release(t, s, a, "refresh", "x")
	release(t, s, b, "refresh", "x") // x does not hold b's
	if acquire(t, s, a, "other", "z", leaseTTL) || acquire(t, s, b, "refresh", "z", leaseTTL) {
		t.Fatal("releasing a lease freed another")
	}
	if !acquire(t, s, a, "refresh", "z", leaseTTL) {
		t.Fatal("a released lease was not free")
	}
}

// testLeaseArguments: a ttl that is not positive, or an id the key schemes
// cannot hold, is a caller's bug; the call takes nothing.
func testLeaseArguments(t *testing.T, s store.Store) {
	orgID := newOrgID(t)
	rejected := func(what string, err error) {
		t.Helper()
		if err == nil || errors.Is(err, store.ErrUnavailable) || errors.Is(err, store.ErrNotFound) {
			t.Errorf("%s: err = %v, want a rejection", what, err)
		}
	}
	for _, ttl := range []time.Duration{0, -time.Second} {
		_, err := s.AcquireLease(t.Context(), orgID, "lease", "a", ttl)
		rejected("AcquireLease with ttl "+ttl.String(), err)
	}
	for _, args := range [][3]string{
		{orgID, "", "a"}, {orgID, "lease", ""}, {orgID, "lease\x00x", "a"}, {orgID, "lease", "a\x00"}, {"org{evil}", "lease", "a"},
	} {
		_, err := s.AcquireLease(t.Context(), args[0], args[1], args[2], leaseTTL)
		rejected(fmt.Sprintf("AcquireLease%q", args), err)
		rejected(fmt.Sprintf("ReleaseLease%q", args), s.ReleaseLease(t.Context(), args[0], args[1], args[2]))
	}
	if !acquire(t, s, orgID, "lease", "b", leaseTTL) {
		t.Fatal("a lease was taken by calls that failed")
	}
}
