package boltstore

import (
	"fmt"
	"slices"
	"testing"
	"time"
)

// TestSlowSubscriber: a blocked callback delays neither the writers nor the
// order of what it gets later; its overflowing backlog becomes one "".
func TestSlowSubscriber(t *testing.T) {
	var h hub
	release := make(chan struct{})
	got := make(chan string, 2*maxBacklog)
	sub := h.add(func(orgID string) {
		<-release
		got <- orgID
	})
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		sub.deliver(t.Context(), stop)
	}()

	h.publish("first")
	time.Sleep(10 * time.Millisecond) // let the callback block on "first"
	start := time.Now()
	for i := range maxBacklog + 10 {
		h.publish(fmt.Sprint("org-", i))
	}
	if d := time.Since(start); d > time.Second {
		t.Errorf("publishing to a blocked subscriber took %v", d)
	}
	close(release)

	var all []string
	for len(all) < 12 {
		select {
		case id := <-got:
			all = append(all, id)
		case <-time.After(time.Second):
			t.Fatalf("delivered %q, then nothing", all)
		}
	}
	want := []string{"first", ""}
	for i := maxBacklog; i < maxBacklog+10; i++ {
		want = append(want, fmt.Sprint("org-", i))
	}
	if !slices.Equal(all, want) {
		t.Errorf("delivered %q, want %q", all, want)
	}
	close(stop)
	<-done
}
