package backend

import (
	"fmt"
	"strings"
	"time"

	"github.com/zoomconnect/zoomconnect/server/store"
)

// The checks of the global (not per-org) parts of the contract: the
// webhook inbox, the indexes and the event stream.

// MaxIndexPart bounds the length in bytes of an index name, key or member:
// they are ids (of Zoom accounts, users, meetings, orgs), far shorter.
const MaxIndexPart = 1024

// CheckIndexKey checks the index name and key of an index change and of
// IndexMembers: not empty, no NUL (which ends them in bbolt keys), at most
// MaxIndexPart bytes, and no colon in the name, which ends it in Redis
// keys (a key may have colons: it comes last).
func CheckIndexKey(index, key string) error {
	if err := checkIndexPart("index name", index); err != nil {
		return err
	}
	if strings.Contains(index, ":") {
		return fmt.Errorf("store: index name %q contains a colon", index)
	}
	return checkIndexPart("index key", key)
}

// CheckIndexChange checks an index change of an effect: its name and key
// as CheckIndexKey does, its member like a key.
func CheckIndexChange(c store.IndexChange) error {
	if err := CheckIndexKey(c.Index, c.Key); err != nil {
		return err
	}
	return checkIndexPart("index member", c.Member)
}

func checkIndexPart(what, s string) error {
	if err := CheckID(what, s); err != nil {
		return err
	}
	if len(s) > MaxIndexPart {
		return fmt.Errorf("store: %s of %d bytes: at most %d", what, len(s), MaxIndexPart)
	}
	return nil
}

// CheckDedupeKey rejects an empty dedupe key: it would make every webhook
// without one a duplicate of the first. The stores hash the key, so any
// other is fine.
func CheckDedupeKey(key string) error {
	if key == "" {
		return fmt.Errorf("store: empty webhook dedupe key")
	}
	return nil
}

// CheckClaim checks the arguments of ClaimWebhooks. A minIdle of 0 is
// allowed: it takes over every unacknowledged webhook at once.
func CheckClaim(consumer string, limit int, minIdle time.Duration) error {
	if err := CheckID("webhook consumer", consumer); err != nil {
		return err
	}
	if err := CheckLimit(limit); err != nil {
		return err
	}
	if minIdle < 0 {
		return fmt.Errorf("store: webhook min idle %v: want 0 or more", minIdle)
	}
	return nil
}

// ParseWebhookID parses the ID of a queued webhook, as ClaimWebhooks hands
// it out: "<ms>-<seq>" in Redis, "<n>-0" in bbolt.
func ParseWebhookID(id string) (ActivityID, error) {
	v, ok := parseStreamID(id)
	if !ok {
		return ActivityID{}, fmt.Errorf("store: malformed webhook ID %q: want one that ClaimWebhooks returned", id)
	}
	return v, nil
}

// EventCursor is where ReadEvents starts.
type EventCursor struct {
	// FromNow: only events appended after the call began ("").
	FromNow bool
	// After is the ID after which to read otherwise; the zero ID ("0",
	// "0-0") reads from the oldest event kept.
	After ActivityID
}

// ParseEventCursor parses the after argument of ReadEvents: "", "0", or
// the ID of an event ("<ms>-<seq>" in Redis, "<n>-0" in bbolt). Anything
// else is a caller's mistake, reported as a plain error: neither
// store.ErrUnavailable nor store.ErrNotFound. (Redis would take more forms,
// such as "5" or "$"; the stores hand out only these.)
func ParseEventCursor(after string) (EventCursor, error) {
	switch after {
	case "":
		return EventCursor{FromNow: true}, nil
	case "0":
		return EventCursor{}, nil
	}
	id, ok := parseStreamID(after)
	if !ok {
		return EventCursor{}, fmt.Errorf(`store: malformed event ID %q: want one that ReadEvents returned, "" or "0"`, after)
	}
	return EventCursor{After: id}, nil
}
