// Package backend holds what the store backends share beyond the contract
// of package store: argument checks, the format of activity IDs and the
// decoding of stored records, so that every backend reports the same
// mistakes the same way and hands out IDs of one shape.
package backend

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/zoomconnect/zoomconnect/server/store"
)

// CheckOrgID rejects an org id that would break a key scheme: NUL ends an
// org id in bbolt keys, braces delimit the Redis hash tag. The service
// never uses such ids (see connection.ValidateID); this keeps a bug there
// from letting one org read another's records.
func CheckOrgID(orgID string) error {
	if strings.ContainsAny(orgID, "\x00{}") {
		return fmt.Errorf("store: org id %q contains NUL or a brace", orgID)
	}
	return nil
}

// CheckID rejects an id that the key schemes cannot hold unambiguously
// (a booking id, a lease name or owner; what names it in the error): an
// empty one, almost surely a caller's bug, and one with NUL, which ends
// ids in bbolt keys.
func CheckID(what, id string) error {
	switch {
	case id == "":
		return fmt.Errorf("store: empty %s", what)
	case strings.Contains(id, "\x00"):
		return fmt.Errorf("store: %s %q contains NUL", what, id)
	}
	return nil
}

// CheckLease checks the arguments that name a lease and its owner.
func CheckLease(orgID, name, owner string) error {
	if err := CheckOrgID(orgID); err != nil {
		return err
	}
	if err := CheckID("lease name", name); err != nil {
		return err
	}
	return CheckID("lease owner", owner)
}

// CheckLeaseTTL rejects a lease duration that is not positive: a lease
// that is over before it starts is a caller's bug.
func CheckLeaseTTL(ttl time.Duration) error {
	if ttl <= 0 {
		return fmt.Errorf("store: lease ttl %v: want a positive duration", ttl)
	}
	return nil
}

// CheckSnapshot rejects a Snapshot request over store.MaxSnapshotUsers.
func CheckSnapshot(userIDs []string) error {
	if len(userIDs) > store.MaxSnapshotUsers {
		return fmt.Errorf("store: snapshot of %d users: at most %d per call", len(userIDs), store.MaxSnapshotUsers)
	}
	return nil
}

// CheckLimit rejects a page size below 1: a zero limit is a caller's
// mistake, and Redis would read a negative one as "no limit".
func CheckLimit(limit int) error {
	if limit < 1 {
		return fmt.Errorf("store: page limit %d: want 1 or more", limit)
	}
	return nil
}

// NilRecord is the error of an OrgTx setter given nil; Update returns it
// instead of committing.
func NilRecord(setter string) error {
	return fmt.Errorf("store: %s(nil): a record cannot be set to nothing", setter)
}

// Decode parses a stored record; where names it (a key, a bucket) in the
// error. Bad data is reported, never a panic.
func Decode[T any](where string, data []byte) (*T, error) {
	v := new(T)
	if err := json.Unmarshal(data, v); err != nil {
		return nil, fmt.Errorf("%s: malformed record: %w", where, err)
	}
	return v, nil
}

// ActivityID is the ID of an activity entry, written "<ms>-<seq>" like a
// Redis stream ID (which it is in the Redis backend): Ms is the entry's
// time in Unix milliseconds and Seq tells apart entries of one millisecond.
// IDs sort like (Ms, Seq). Queued webhooks and events have IDs of the same
// shape (see ParseWebhookID and ParseEventCursor).
type ActivityID struct {
	Ms, Seq uint64
}

func (id ActivityID) String() string {
	return strconv.FormatUint(id.Ms, 10) + "-" + strconv.FormatUint(id.Seq, 10)
}

// ParseActivityID parses the String form of an ID.
func ParseActivityID(s string) (ActivityID, error) {
	id, ok := parseStreamID(s)
	if !ok {
		return ActivityID{}, fmt.Errorf("store: malformed activity ID %q: want <ms>-<seq>", s)
	}
	return id, nil
}

// parseStreamID parses "<uint64>-<uint64>", the shape of every ID the
// stores hand out (activity entries, queued webhooks, events).
func parseStreamID(s string) (ActivityID, bool) {
	msText, seqText, ok := strings.Cut(s, "-")
	ms, errMs := strconv.ParseUint(msText, 10, 64)
	seq, errSeq := strconv.ParseUint(seqText, 10, 64)
	if !ok || errMs != nil || errSeq != nil {
		return ActivityID{}, false
	}
	return ActivityID{Ms: ms, Seq: seq}, true
}

// NextActivityID returns the ID of an entry of time t appended after the
// entry last (the zero ID when none ever was): t's millisecond when it is
// later than last's, otherwise last's millisecond with the next sequence
// number, so that IDs only grow even when clocks of replicas disagree or an
// entry is appended with an older time. Like Redis, it never returns 0-0.
func NextActivityID(last ActivityID, t time.Time) ActivityID {
	ms := uint64(max(t.UnixMilli(), 0))
	if ms > last.Ms {
		return ActivityID{Ms: ms}
	}
	return ActivityID{Ms: last.Ms, Seq: last.Seq + 1}
}

// ActivityCutoff is the ID below which entries are trimmed at now: that of
// the first millisecond still within store.ActivityRetention.
func ActivityCutoff(now time.Time) ActivityID {
	return ActivityID{Ms: uint64(max(now.Add(-store.ActivityRetention).UnixMilli(), 0))}
}
