package boltstore

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"math"
	"sync"
	"time"

	bolt "go.etcd.io/bbolt"
	bolterrors "go.etcd.io/bbolt/errors"

	"github.com/zoomconnect/zoomconnect/server/store"
	"github.com/zoomconnect/zoomconnect/server/store/internal/backend"
)

// appendEvent adds an event inside tx (an Update applying an effect) and
// deletes the events beyond the newest maxEvents: sequence numbers have no
// gaps, so those are the keys up to seq-maxEvents, usually just one. The
// caller wakes the readers once tx commits.
func (s *Store) appendEvent(tx *bolt.Tx, payload []byte) error {
	b := tx.Bucket(eventBucket)
	seq, err := b.NextSequence()
	if err != nil {
		return fmt.Errorf("boltstore: append event: %w", err)
	}
	// bbolt keeps a nil value as an empty one.
	if err := b.Put(seqKey(seq), payload); err != nil {
		return fmt.Errorf("boltstore: append event: %w", err)
	}
	if seq > s.maxEvents {
		cutoff := seqKey(seq - s.maxEvents)
		var doomed [][]byte
		c := b.Cursor()
		for k, _ := c.First(); k != nil && bytes.Compare(k, cutoff) <= 0; k, _ = c.Next() {
			// Deleting under a cursor may make it skip keys: delete after.
			doomed = append(doomed, k)
		}
		if err := deleteKeys(b, doomed); err != nil {
			return fmt.Errorf("boltstore: trim events: %w", err)
		}
	}
	return nil
}

// LastEventID implements store.Store: the last sequence handed out, whose
// event may have been trimmed (then nothing is lost after it either).
func (s *Store) LastEventID(context.Context) (string, error) {
	var seq uint64
	err := s.view("read events", func(tx *bolt.Tx) error {
		seq = tx.Bucket(eventBucket).Sequence()
		return nil
	})
	return seqID(seq), err
}

// ReadEvents implements store.Store. A reader that finds nothing waits
// for the next event appended (by an Update of this Store, the only writer of its file),
// wait, ctx or Close, whichever comes first, and reads again.
func (s *Store) ReadEvents(ctx context.Context, after string, limit int, wait time.Duration) ([]store.Event, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("boltstore: read events: %w", err)
	}
	if err := backend.CheckLimit(limit); err != nil {
		return nil, fmt.Errorf("boltstore: read events: %w", err)
	}
	cursor, err := backend.ParseEventCursor(after)
	if err != nil {
		return nil, fmt.Errorf("boltstore: read events: %w", err)
	}
	// next is the first sequence number wanted. IDs are "<seq>-0": the
	// events after "<a>-<b>" start at a+1 whatever b is.
	var next uint64
	switch {
	case cursor.FromNow:
		// Read below, with the others: the sequence is the last appended.
	case cursor.After.Ms == math.MaxUint64:
		next = math.MaxUint64 // nothing can come after it
	default:
		next = cursor.After.Ms + 1
	}
	var timeout <-chan time.Time
	if wait > 0 {
		t := time.NewTimer(wait)
		defer t.Stop()
		timeout = t.C
	}
	fromNow := cursor.FromNow
	for {
		// Taken before reading: an append after the read closes it.
		appended := s.appended.wait()
		var events []store.Event
		err := s.view("read events", func(tx *bolt.Tx) error {
			b := tx.Bucket(eventBucket)
			if fromNow {
				// Events of later sequence numbers are appended later.
				next, fromNow = b.Sequence()+1, false
			}
			c := b.Cursor()
			for k, v := c.Seek(seqKey(next)); k != nil && len(events) < limit; k, v = c.Next() {
				if len(k) != 8 {
					return fmt.Errorf("%s: malformed key", where(eventBucket, k))
				}
				events = append(events, store.Event{ID: seqID(binary.BigEndian.Uint64(k)), Payload: bytes.Clone(v)})
			}
			return nil
		})
		if err != nil || len(events) > 0 || timeout == nil {
			return events, err
		}
		select {
		case <-appended:
		case <-timeout:
			return nil, nil
		case <-ctx.Done():
			return nil, fmt.Errorf("boltstore: read events: %w", ctx.Err())
		case <-s.stop:
			return nil, unavailable("read events", bolterrors.ErrDatabaseNotOpen)
		}
	}
}

// signal wakes the goroutines waiting for it, any number of them, and
// costs nothing when none waits.
type signal struct {
	mu sync.Mutex
	ch chan struct{} // closed by broadcast; nil when nobody took it
}

// wait returns a channel that the next broadcast closes.
func (sg *signal) wait() <-chan struct{} {
	sg.mu.Lock()
	defer sg.mu.Unlock()
	if sg.ch == nil {
		sg.ch = make(chan struct{})
	}
	return sg.ch
}

func (sg *signal) broadcast() {
	sg.mu.Lock()
	defer sg.mu.Unlock()
	if sg.ch != nil {
		close(sg.ch)
		sg.ch = nil
	}
}
