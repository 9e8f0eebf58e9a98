package boltstore

import (
	"context"
	"sync"
)

// maxBacklog bounds the notifications queued for one subscriber. Beyond it
// the backlog is replaced by one "" ("anything may have changed"): memory
// stays bounded, writers never wait for a slow callback, and nothing is
// lost without the subscriber being told.
const maxBacklog = 1024

// hub fans the change notifications of Update out to the subscribers.
type hub struct {
	mu   sync.Mutex
	subs map[*subscriber]struct{}
}

// subscriber is one Subscribe call: a queue and a goroutine draining it.
type subscriber struct {
	onChange func(orgID string)
	wake     chan struct{} // capacity 1: "the queue is not empty"

	mu    sync.Mutex
	queue []string
}

func (h *hub) add(onChange func(string)) *subscriber {
	sub := &subscriber{onChange: onChange, wake: make(chan struct{}, 1)}
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.subs == nil {
		h.subs = map[*subscriber]struct{}{}
	}
	h.subs[sub] = struct{}{}
	return sub
}

func (h *hub) remove(sub *subscriber) {
	h.mu.Lock()
	defer h.mu.Unlock()
	delete(h.subs, sub)
}

// publish queues orgID for every subscriber without waiting for any.
func (h *hub) publish(orgID string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for sub := range h.subs {
		sub.push(orgID)
	}
}

func (sub *subscriber) push(orgID string) {
	sub.mu.Lock()
	if len(sub.queue) >= maxBacklog {
		sub.queue = append(sub.queue[:0], "")
	}
	sub.queue = append(sub.queue, orgID)
	sub.mu.Unlock()
	select {
	case sub.wake <- struct{}{}:
	default: // already awake
	}
}

// deliver calls onChange with the queued notifications, in order, until
// ctx ends or stop is closed.
func (sub *subscriber) deliver(ctx context.Context, stop <-chan struct{}) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-stop:
			return
		case <-sub.wake:
		}
		sub.mu.Lock()
		batch := sub.queue
		sub.queue = nil
		sub.mu.Unlock()
		for _, orgID := range batch {
			if ctx.Err() != nil {
				return
			}
			sub.onChange(orgID)
		}
	}
}
