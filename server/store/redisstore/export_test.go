package redisstore

import "context"

// SetMaxEvents sets the length the event stream is trimmed to, so that a
// test can see the trimming without appending store.MaxEvents events.
func SetMaxEvents(s *Store, n int64) { s.maxEvents = n }

// ApplyWithoutForgetting applies the org's outbox without trimming it, as
// a process that dies right after applying would leave it.
func ApplyWithoutForgetting(s *Store, orgID string) error {
	return s.drainOutboxWith(context.Background(), orgID, false)
}
