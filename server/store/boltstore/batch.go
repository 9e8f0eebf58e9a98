package boltstore

import bolt "go.etcd.io/bbolt"

// batch runs fn in a write transaction that concurrent callers share
// (bolt.DB.Batch): one sync to disk for all of them, where each would
// otherwise wait for a sync of its own. For small independent writes that
// come in bursts (webhooks queued, index entries). fn may run more than
// once: again, in a transaction of its own, when another function of the
// batch failed; so it must start from scratch each time. fn's error is
// returned as it is; a failed commit is store.ErrUnavailable.
func (s *Store) batch(op string, fn func(*bolt.Tx) error) error {
	var fnErr error
	err := s.db.Batch(func(tx *bolt.Tx) error {
		fnErr = fn(tx)
		return fnErr
	})
	// Identity, not errors.Is: fn's own error, or else the commit's.
	if err != nil && err != fnErr {
		return unavailable(op, err)
	}
	return err
}
