package storetest

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/zoomconnect/zoomconnect/server/store"
)

// The event tests run one at a time (see Run): the stream is global, and
// some check that nothing arrives. Each tells its own events apart by a
// payload prefix; the stream's bound is tested by each backend (appending
// store.MaxEvents events would take too long here).

// promptly bounds a call that must not wait; slowly is a wait that a test
// should never see end.
const (
	promptly = time.Second
	slowly   = 10 * time.Second
)

// newPrefix returns a payload prefix no other test or run uses.
func newPrefix(t *testing.T) string { return t.Name() + " " + rand.Text() + " " }

func appendEvent(t *testing.T, s store.Store, payload []byte) store.Event {
	t.Helper()
	id, err := AppendEvent(t.Context(), s, payload)
	if err != nil {
		t.Fatalf("AppendEvent: %v", err)
	}
	if id == "" {
		t.Fatal("AppendEvent returned an empty ID")
	}
	return store.Event{ID: id, Payload: payload}
}

// appendLater appends payload after delay, from another goroutine, and
// returns a channel that gets the event.
func appendLater(t *testing.T, s store.Store, delay time.Duration, payload []byte) <-chan store.Event {
	ch := make(chan store.Event, 1)
	go func() {
		time.Sleep(delay)
		id, err := AppendEvent(context.WithoutCancel(t.Context()), s, payload)
		if err != nil {
			t.Errorf("AppendEvent: %v", err)
		}
		ch <- store.Event{ID: id, Payload: payload}
	}()
	return ch
}

// readEvents calls ReadEvents and fails the test on an error; it returns
// how long the call took too.
func readEvents(t *testing.T, s store.Store, after string, limit int, wait time.Duration) ([]store.Event, time.Duration) {
	t.Helper()
	start := time.Now()
	events, err := s.ReadEvents(t.Context(), after, limit, wait)
	took := time.Since(start)
	if err != nil {
		t.Fatalf("ReadEvents(%q, %d, %v): %v", after, limit, wait, err)
	}
	if len(events) > limit {
		t.Fatalf("ReadEvents(%q, limit %d) returned %d events", after, limit, len(events))
	}
	return events, took
}

// readAll pages through the events after `after` without waiting, and
// returns those whose payload starts with prefix.
func readAll(t *testing.T, s store.Store, after, prefix string) []store.Event {
	t.Helper()
	var all []store.Event
	for {
		page, took := readEvents(t, s, after, 3, 0)
		if took > promptly {
			t.Fatalf("ReadEvents without waiting took %v", took)
		}
		if len(page) == 0 {
			return all
		}
		for _, e := range page {
			if bytes.HasPrefix(e.Payload, []byte(prefix)) {
				all = append(all, e)
			}
		}
		after = page[len(page)-1].ID
	}
}

func testEventsAppendRead(t *testing.T, s store.Store) {
	p := newPrefix(t)
	var events []store.Event
	for i, payload := range [][]byte{append([]byte(p), everyByte()...), []byte(p), []byte(p + "3"), []byte(p + "4"), []byte(p + "5")} {
		events = append(events, appendEvent(t, s, payload))
		for _, e := range events[:i] {
			if e.ID == events[i].ID {
				t.Fatalf("AppendEvent returned ID %s twice", e.ID)
			}
		}
	}
	assertEqual(t, `events after "0"`, readAll(t, s, "0", p), events)
	// After an ID: the later events, oldest first. (IDs are opaque: that
	// they increase shows here.)
	for i, e := range events {
		assertEqual(t, "events after "+e.ID, readAll(t, s, e.ID, p), events[i+1:])
	}
	page, _ := readEvents(t, s, events[1].ID, 2, 0)
	assertEqual(t, "2 events after "+events[1].ID, page, events[2:4])

	// Nothing later: at once without a wait, after it with one.
	last := events[len(events)-1].ID
	if page, took := readEvents(t, s, last, 10, 0); len(page) != 0 || took > promptly {
		t.Fatalf("ReadEvents after the last event, no wait = %d events after %v; want none, at once", len(page), took)
	}
	const wait = 200 * time.Millisecond
	if page, took := readEvents(t, s, last, 10, wait); len(page) != 0 || took < wait/2 || took > wait+promptly {
		t.Fatalf("ReadEvents after the last event, wait %v = %d events after %v; want none, after the wait", wait, len(page), took)
	}
	if page, took := readEvents(t, s, last, 10, -time.Second); len(page) != 0 || took > promptly {
		t.Fatalf("ReadEvents with a negative wait = %d events after %v; want none, at once", len(page), took)
	}
}

// testEventsFromNow: after "", only events appended after the call began.
func testEventsFromNow(t *testing.T, s store.Store) {
	p := newPrefix(t)
	appendEvent(t, s, []byte(p+"before"))
	if page, took := readEvents(t, s, "", 10, 0); len(page) != 0 || took > promptly {
		t.Fatalf(`ReadEvents("", no wait) = %q after %v; want nothing, at once`, page, took)
	}
	const delay = 100 * time.Millisecond
	later := appendLater(t, s, delay, []byte(p+"later"))
	page, took := readEvents(t, s, "", 10, slowly)
	want := <-later
	assertEqual(t, `ReadEvents("") of an event appended while it waits`, page, []store.Event{want})
	if took < delay/2 || took > slowly/2 {
		t.Errorf(`ReadEvents("") took %v for an event appended after %v`, took, delay)
	}
	const wait = 200 * time.Millisecond
	if page, took := readEvents(t, s, "", 10, wait); len(page) != 0 || took < wait/2 || took > wait+promptly {
		t.Fatalf(`ReadEvents("", wait %v) = %q after %v; want nothing, after the wait`, wait, page, took)
	}
}

// testLastEventID: a reader that starts at LastEventID and keeps its cursor
// misses nothing appended between its reads.
func testLastEventID(t *testing.T, s store.Store) {
	p := newPrefix(t)
	last := appendEvent(t, s, []byte(p+"newest"))
	got, err := s.LastEventID(context.Background())
	if err != nil || got != last.ID {
		t.Fatalf("LastEventID = %q, %v; want %q", got, err, last.ID)
	}
	gap := appendEvent(t, s, []byte(p+"between reads"))
	page, _ := readEvents(t, s, got, 10, 0)
	assertEqual(t, "ReadEvents after LastEventID", page, []store.Event{gap})
}

// testEventsWait: readers waiting after an ID all get the event appended
// meanwhile, and a reader's context bounds its wait.
func testEventsWait(t *testing.T, s store.Store) {
	p := newPrefix(t)
	last := appendEvent(t, s, []byte(p+"last"))
	const readers = 3
	var wg sync.WaitGroup
	got := make([][]store.Event, readers)
	for i := range readers {
		wg.Go(func() {
			events, err := s.ReadEvents(t.Context(), last.ID, 10, slowly)
			if err != nil {
				t.Errorf("ReadEvents(%s): %v", last.ID, err)
			}
			got[i] = events
		})
	}
	want := <-appendLater(t, s, 100*time.Millisecond, []byte(p+"next"))
	wg.Wait()
	for i := range readers {
		assertEqual(t, fmt.Sprintf("reader %d: events after %s", i, last.ID), got[i], []store.Event{want})
	}

	ctx, cancel := context.WithTimeout(t.Context(), 100*time.Millisecond)
	defer cancel()
	start := time.Now()
	events, err := s.ReadEvents(ctx, want.ID, 10, slowly)
	if took := time.Since(start); len(events) != 0 || !errors.Is(err, context.DeadlineExceeded) || took > slowly/2 {
		t.Fatalf("ReadEvents past its context's deadline = %q, %v after %v; want context.DeadlineExceeded at the deadline", events, err, took)
	}
}

// testEventArguments: IDs the store did not hand out, and limits below 1,
// are rejected (neither an outage nor "not found").
func testEventArguments(t *testing.T, s store.Store) {
	last := appendEvent(t, s, []byte(newPrefix(t)))
	for _, after := range []string{"x", "$", ">", "+", "-", "1", "-1", "1-", "1-x", "0-0-0", " " + last.ID, last.ID + " ", last.ID + "x"} {
		_, err := s.ReadEvents(t.Context(), after, 10, 0)
		rejected(t, fmt.Sprintf("ReadEvents(%q)", after), err)
	}
	for _, limit := range []int{0, -1} {
		_, err := s.ReadEvents(t.Context(), last.ID, limit, 0)
		rejected(t, fmt.Sprintf("ReadEvents(limit %d)", limit), err)
	}
}
