// Package storetest is the conformance suite of store.Store: every backend
// (and every decorator of one) runs Run, so that the service can rely on
// the contract rather than on one backend's behaviour.
package storetest

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/zoomconnect/zoomconnect/server/store"
)

// Run runs the conformance suite. open returns a store for one subtest and
// registers its cleanup with that subtest's t. Subtests run in parallel and
// use their own org ids (and index names), so open may hand out stores that
// share one backend without flushing it.
//
// The webhook inbox and the event stream are global: the subtests of
// "Global" use them one at a time (in parallel with the others, which do
// not touch them). Each webhook test starts by claiming and acknowledging
// whatever the inbox holds: run the suite on a backend of its own (one Run
// at a time), never on one that real webhooks are queued in.
func Run(t *testing.T, open func(t *testing.T) store.Store, opts ...Option) {
	var cfg config
	for _, o := range opts {
		o(&cfg)
	}
	tests := []struct {
		name string
		fn   func(t *testing.T, s store.Store)
	}{
		{"RoundTrip", testRoundTrip},
		{"UpdateReadsOwnWrites", testUpdateReadsOwnWrites},
		{"UpdateSeesCommitted", testUpdateSeesCommitted},
		{"UpdateErrorAborts", testUpdateErrorAborts},
		{"UpdateSetNil", testUpdateSetNil},
		{"ConcurrentUpdates", testConcurrentUpdates},
		{"OrgsIsolated", testOrgsIsolated},
		{"Copies", testCopies},
		{"Delete", testDelete},
		{"SnapshotMissing", testSnapshotMissing},
		{"SnapshotOrder", testSnapshotOrder},
		{"SnapshotMaxUsers", testSnapshotMaxUsers},
		{"ListMembersPaging", testListMembersPaging},
		{"ListActivityPaging", testListActivityPaging},
		{"ActivityTrimmed", testActivityTrimmed},
		{"PageArguments", testPageArguments},
		{"Subscribe", testSubscribe},
		{"SubscribeEnds", testSubscribeEnds},
		{"StatePutTake", testStatePutTake},
		{"StateRoundTrip", testStateRoundTrip},
		{"StateUnknown", testStateUnknown},
		{"StateExpired", testStateExpired},
		{"StatesScopedByOrg", testStatesScopedByOrg},
		{"ConcurrentTakes", testConcurrentTakes},
		{"MeetingRoundTrip", testMeetingRoundTrip},
		{"MeetingReadsOwnWrites", testMeetingReadsOwnWrites},
		{"DeleteMeeting", testDeleteMeeting},
		{"MeetingsIsolated", testMeetingsIsolated},
		{"MeetingArguments", testMeetingArguments},
		{"MeetingsDoNotNotify", testMeetingsDoNotNotify},
		{"Lease", testLease},
		{"LeaseExpires", testLeaseExpires},
		{"LeaseExtends", testLeaseExtends},
		{"ConcurrentLeases", testConcurrentLeases},
		{"LeasesIndependent", testLeasesIndependent},
		{"LeaseArguments", testLeaseArguments},
		{"Ping", testPing},
		{"CanceledContext", testCanceledContext},
		{"Index", testIndex},
		{"IndexesIsolated", testIndexesIsolated},
		{"IndexArguments", testIndexArguments},
		{"EffectsPending", testEffectsPending},
		{"EffectsDoNotNotify", testEffectsDoNotNotify},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tc.fn(t, open(t))
		})
	}
	global := []struct {
		name string
		fn   func(t *testing.T, s store.Store)
	}{
		{"WebhookRoundTrip", testWebhookRoundTrip},
		{"WebhookDedupe", testWebhookDedupe},
		{"WebhookRedelivery", testWebhookRedelivery},
		{"ConcurrentEnqueues", testConcurrentEnqueues},
		{"WebhookArguments", testWebhookArguments},
		{"EventsAppendRead", testEventsAppendRead},
		{"EventsFromNow", testEventsFromNow},
		{"LastEventID", testLastEventID},
		{"EventsWait", testEventsWait},
		{"EventArguments", testEventArguments},
		{"CanceledContext", testGlobalCanceledContext},
		{"Effects", testEffects},
		{"EffectsConcurrent", testEffectsConcurrent},
	}
	t.Run("Global", func(t *testing.T) {
		t.Parallel()
		for _, tc := range global {
			t.Run(tc.name, func(t *testing.T) { tc.fn(t, open(t)) })
		}
		t.Run("WebhooksDurable", func(t *testing.T) {
			if cfg.restart == nil {
				t.Skip("no storetest.WithRestart given")
			}
			testWebhooksDurable(t, cfg.restart)
		})
	})
}

// Option configures Run.
type Option func(*config)

type config struct {
	restart func(t *testing.T) (store.Store, func() store.Store)
}

// WithRestart lets the suite check that queued webhooks survive a
// restart. open returns a store for one subtest, like Run's, with a
// function that stands for a restart of the process: it closes the store
// if its data would not outlive it otherwise (as bbolt's file) and returns
// a new store over the same data (for a server, a new client), whose
// cleanup is registered with t too. Without it, that test is skipped.
func WithRestart(open func(t *testing.T) (s store.Store, restart func() store.Store)) Option {
	return func(c *config) { c.restart = open }
}

// newOrgID returns an org id no other subtest or run uses, made of the
// characters the service allows in ids.
func newOrgID(t *testing.T) string {
	name := strings.NewReplacer("/", "-", "#", "-").Replace(t.Name())
	return "org-" + name + "-" + rand.Text()[:8]
}

func newIDHash() []byte {
	h := sha256.Sum256([]byte(rand.Text()))
	return h[:]
}

// ts is a fixed UTC instant with nanoseconds, to check exact round trips.
func ts(offset time.Duration) time.Time {
	return time.Date(2025, 3, 4, 5, 6, 7, 123456789, time.UTC).Add(offset)
}

// update runs fn through s.Update and fails the test on an error.
func update(t *testing.T, s store.Store, orgID string, fn func(tx store.OrgTx) error) {
	t.Helper()
	if err := s.Update(t.Context(), orgID, fn); err != nil {
		t.Fatalf("Update(%s): %v", orgID, err)
	}
}

func snapshot(t *testing.T, s store.Store, orgID string, userIDs ...string) *store.OrgSnapshot {
	t.Helper()
	snap, err := s.Snapshot(t.Context(), orgID, userIDs)
	if err != nil {
		t.Fatalf("Snapshot(%s, %d users): %v", orgID, len(userIDs), err)
	}
	if len(snap.Users) != len(userIDs) {
		t.Fatalf("Snapshot(%s) has %d users, want %d", orgID, len(snap.Users), len(userIDs))
	}
	for i, u := range snap.Users {
		if u.UserID != userIDs[i] {
			t.Fatalf("Snapshot(%s).Users[%d].UserID = %q, want %q (request order)", orgID, i, u.UserID, userIDs[i])
		}
	}
	return snap
}

// allMembers pages through the org's members.
func allMembers(t *testing.T, s store.Store, orgID string, pageSize int) []store.UserRecords {
	t.Helper()
	var all []store.UserRecords
	after := ""
	for {
		page, err := s.ListMembers(t.Context(), orgID, after, pageSize)
		if err != nil {
			t.Fatalf("ListMembers(%s, after %q): %v", orgID, after, err)
		}
		if len(page) > pageSize {
			t.Fatalf("ListMembers(%s, limit %d) returned %d members", orgID, pageSize, len(page))
		}
		all = append(all, page...)
		if len(page) < pageSize {
			return all
		}
		after = page[len(page)-1].UserID
	}
}

// allActivity pages through the org's activity, newest first.
func allActivity(t *testing.T, s store.Store, orgID string, pageSize int) []store.ActivityEntry {
	t.Helper()
	var all []store.ActivityEntry
	before := ""
	for {
		page, err := s.ListActivity(t.Context(), orgID, before, pageSize)
		if err != nil {
			t.Fatalf("ListActivity(%s, before %q): %v", orgID, before, err)
		}
		if len(page) > pageSize {
			t.Fatalf("ListActivity(%s, limit %d) returned %d entries", orgID, pageSize, len(page))
		}
		all = append(all, page...)
		if len(page) < pageSize {
			return all
		}
		before = page[len(page)-1].ID
	}
}

func wantNotFound(t *testing.T, what string, err error) {
	t.Helper()
	if !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("%s: err = %v, want store.ErrNotFound", what, err)
	}
}

// assertEqual compares records exactly, except that instants are compared
// like time.Time.Equal (a backend may return another *time.Location for
// UTC), and that nil and empty slices or maps are alike.
func assertEqual[T any](t *testing.T, what string, got, want T) {
	t.Helper()
	g, w := inUTC(reflect.ValueOf(&got)).Interface(), inUTC(reflect.ValueOf(&want)).Interface()
	if !reflect.DeepEqual(g, w) {
		gj, _ := json.MarshalIndent(got, "", "  ")
		wj, _ := json.MarshalIndent(want, "", "  ")
		t.Fatalf("%s =\n%s\nwant\n%s", what, gj, wj)
	}
}

var timeType = reflect.TypeFor[time.Time]()

// inUTC returns a deep copy of v in which every time.Time is in UTC and
// has no monotonic clock reading, and every empty slice or map is nil.
func inUTC(v reflect.Value) reflect.Value {
	if v.Type() == timeType {
		return reflect.ValueOf(v.Interface().(time.Time).UTC())
	}
	switch v.Kind() {
	case reflect.Pointer:
		if v.IsNil() {
			return v
		}
		p := reflect.New(v.Type().Elem())
		p.Elem().Set(inUTC(v.Elem()))
		return p
	case reflect.Struct:
		c := reflect.New(v.Type()).Elem()
		for i := range v.NumField() {
			c.Field(i).Set(inUTC(v.Field(i)))
		}
		return c
	case reflect.Slice:
		if v.Len() == 0 {
			return reflect.Zero(v.Type())
		}
		c := reflect.MakeSlice(v.Type(), v.Len(), v.Len())
		for i := range v.Len() {
			c.Index(i).Set(inUTC(v.Index(i)))
		}
		return c
	case reflect.Map:
		if v.Len() == 0 {
			return reflect.Zero(v.Type())
		}
		c := reflect.MakeMapWithSize(v.Type(), v.Len())
		for it := v.MapRange(); it.Next(); {
			c.SetMapIndex(inUTC(it.Key()), inUTC(it.Value()))
		}
		return c
	}
	return v
}
