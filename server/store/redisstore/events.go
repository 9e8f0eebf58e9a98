package redisstore

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/zoomconnect/zoomconnect/server/store"
	"github.com/zoomconnect/zoomconnect/server/store/internal/backend"
)

// The event stream is one Redis stream whose entries hold the payload in
// the field "payload"; event IDs are its stream IDs ("<ms>-<seq>").

// LastEventID implements store.Store.
func (s *Store) LastEventID(ctx context.Context) (string, error) {
	last, err := s.client.XRevRangeN(ctx, eventsKey, "+", "-", 1).Result()
	if err != nil {
		return "", redisErr(ctx, "read events", err)
	}
	if len(last) == 0 {
		return "0-0", nil
	}
	return last[0].ID, nil
}

// ReadEvents implements store.Store with XREAD, blocking up to wait
// (rounded up to a millisecond) when wait is positive. For after "", it
// first reads the last ID of the stream, then reads after it: "$" would
// be re-evaluated if the client retried the read, losing what was appended
// meanwhile. While blocked, a connection of the client's pool is held, and
// only a context deadline (not a cancellation) ends the wait early.
func (s *Store) ReadEvents(ctx context.Context, after string, limit int, wait time.Duration) ([]store.Event, error) {
	if err := backend.CheckLimit(limit); err != nil {
		return nil, err
	}
	cursor, err := backend.ParseEventCursor(after)
	if err != nil {
		return nil, err
	}
	start := cursor.After.String()
	if cursor.FromNow {
		if start, err = s.LastEventID(ctx); err != nil {
			return nil, err
		}
	}
	streams, err := s.client.XRead(ctx, &redis.XReadArgs{
		Streams: []string{eventsKey, start},
		Count:   int64(limit),
		Block:   blockFor(wait),
	}).Result()
	if errors.Is(err, redis.Nil) {
		return nil, nil // nothing within wait
	}
	if err != nil {
		return nil, redisErr(ctx, "read events", err)
	}
	var events []store.Event
	for _, st := range streams {
		for _, msg := range st.Messages {
			payload, ok := msg.Values[payloadField].(string)
			if !ok {
				return nil, fmt.Errorf("%s, entry %s: malformed record: no field %q", at(eventsKey), msg.ID, payloadField)
			}
			events = append(events, store.Event{ID: msg.ID, Payload: []byte(payload)})
		}
	}
	return events, nil
}

// maxBlock caps a wait: go-redis adds its read timeout to the block time,
// which must not overflow. Nobody waits a day for an event.
const maxBlock = 24 * time.Hour

// blockFor returns the XReadArgs.Block of a read that waits up to wait:
// -1 for no BLOCK at all when wait is not positive (BLOCK 0 waits
// forever), else wait rounded up to the next millisecond (go-redis
// truncates), at most maxBlock.
func blockFor(wait time.Duration) time.Duration {
	if wait <= 0 {
		return -1
	}
	return time.Duration(ceilMillis(min(wait, maxBlock))) * time.Millisecond
}

// ceilMillis returns d in milliseconds, rounded up: what Redis counts in.
func ceilMillis(d time.Duration) int64 {
	ms := d.Milliseconds()
	if d%time.Millisecond != 0 {
		ms++
	}
	return ms
}
