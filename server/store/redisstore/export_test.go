package redisstore

// SetMaxEvents sets the length the event stream is trimmed to, so that a
// test can see the trimming without appending store.MaxEvents events.
func SetMaxEvents(s *Store, n int64) { s.maxEvents = n }
