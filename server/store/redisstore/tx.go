package redisstore

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/zoomconnect/zoomconnect/server/store"
	"github.com/zoomconnect/zoomconnect/server/store/internal/backend"
)

// orgTx is the store.OrgTx of one attempt of Update. A key is watched when
// first read, and read through the transaction's connection; writes are
// buffered (encoded at once, so callers may reuse what they set) and go out
// in one MULTI/EXEC, which fails if a watched key changed meanwhile.
type orgTx struct {
	ctx context.Context
	// client reaches keys outside the org's slot (the pending set).
	client redis.UniversalClient
	rtx    *redis.Tx
	orgID  string
	// read holds the values read so far; nil for an absent key.
	read map[string][]byte
	// write holds the buffered writes; nil deletes the key.
	write map[string][]byte
	// members holds the user ids to add to (true) or remove from (false)
	// the members set.
	members  map[string]bool
	activity []pendingEntry
	// effects holds the encoded outbox entries (see effects.go).
	effects [][]byte
	// err is the first failed read or encoding: Update returns it rather
	// than commit writes that fn may have based on it.
	err error
}

type pendingEntry struct {
	time time.Time
	data []byte // JSON without the ID
}

func newOrgTx(ctx context.Context, client redis.UniversalClient, rtx *redis.Tx, orgID string) *orgTx {
	return &orgTx{
		ctx: ctx, client: client, rtx: rtx, orgID: orgID,
		read: map[string][]byte{}, write: map[string][]byte{}, members: map[string]bool{},
	}
}

func (t *orgTx) OrgConnection() (*store.OrgConnection, error) {
	return txGet[store.OrgConnection](t, connKey(t.orgID))
}

func (t *orgTx) SetOrgConnection(c *store.OrgConnection) {
	txSet(t, "SetOrgConnection", connKey(t.orgID), c)
}

func (t *orgTx) Settings() (*store.OrgSettings, error) {
	return txGet[store.OrgSettings](t, settingsKey(t.orgID))
}

func (t *orgTx) SetSettings(s *store.OrgSettings) {
	txSet(t, "SetSettings", settingsKey(t.orgID), s)
}

func (t *orgTx) Member(userID string) (*store.Member, error) {
	return txGet[store.Member](t, memberKey(t.orgID, userID))
}

func (t *orgTx) SetMember(m *store.Member) {
	if m == nil {
		t.fail(backend.NilRecord("SetMember"))
		return
	}
	if txSet(t, "SetMember", memberKey(t.orgID, m.UserID), m) {
		t.members[m.UserID] = true
	}
}

func (t *orgTx) DeleteMember(userID string) {
	t.write[memberKey(t.orgID, userID)] = nil
	t.members[userID] = false
}

func (t *orgTx) Personal(userID string) (*store.PersonalConnection, error) {
	return txGet[store.PersonalConnection](t, personalKey(t.orgID, userID))
}

func (t *orgTx) SetPersonal(p *store.PersonalConnection) {
	if p == nil {
		t.fail(backend.NilRecord("SetPersonal"))
		return
	}
	txSet(t, "SetPersonal", personalKey(t.orgID, p.UserID), p)
}

func (t *orgTx) DeletePersonal(userID string) { t.write[personalKey(t.orgID, userID)] = nil }

func (t *orgTx) Meeting(bookingID string) (*store.Meeting, error) {
	if err := backend.CheckID("booking id", bookingID); err != nil {
		t.fail(err)
		return nil, err
	}
	return txGet[store.Meeting](t, meetingKey(t.orgID, bookingID))
}

func (t *orgTx) SetMeeting(m *store.Meeting) {
	if m == nil {
		t.fail(backend.NilRecord("SetMeeting"))
		return
	}
	if err := backend.CheckID("booking id", m.BookingID); err != nil {
		t.fail(fmt.Errorf("SetMeeting: %w", err))
		return
	}
	txSet(t, "SetMeeting", meetingKey(t.orgID, m.BookingID), m)
}

func (t *orgTx) DeleteMeeting(bookingID string) {
	if err := backend.CheckID("booking id", bookingID); err != nil {
		t.fail(fmt.Errorf("DeleteMeeting: %w", err))
		return
	}
	t.write[meetingKey(t.orgID, bookingID)] = nil
}

func (t *orgTx) AppendActivity(e store.ActivityEntry) {
	e.ID = "" // the stream ID holds it
	data, err := json.Marshal(e)
	if err != nil {
		t.fail(fmt.Errorf("redisstore: encode activity entry: %w", err))
		return
	}
	t.activity = append(t.activity, pendingEntry{time: e.Time, data: data})
}

func (t *orgTx) fail(err error) {
	if t.err == nil {
		t.err = err
	}
}

// load returns the value of key as this transaction sees it.
func (t *orgTx) load(key string) ([]byte, error) {
	if data, ok := t.write[key]; ok {
		return data, nil
	}
	if data, ok := t.read[key]; ok {
		return data, nil
	}
	// Update watched the connection key already.
	if key != connKey(t.orgID) {
		if err := t.rtx.Watch(t.ctx, key).Err(); err != nil {
			return nil, t.readErr(err)
		}
	}
	data, err := t.rtx.Get(t.ctx, key).Bytes()
	if errors.Is(err, redis.Nil) {
		data, err = nil, nil
	}
	if err != nil {
		return nil, t.readErr(err)
	}
	t.read[key] = data
	return data, nil
}

func (t *orgTx) readErr(err error) error {
	err = redisErr(t.ctx, "update: read", err)
	t.fail(err)
	return err
}

// commit writes the buffered changes and announces them (unless they are
// only meetings), in one MULTI/EXEC. It returns redis.TxFailedErr if a
// watched key changed since it was read.
func (t *orgTx) commit() error {
	if len(t.write) == 0 && len(t.activity) == 0 && len(t.effects) == 0 {
		return nil
	}
	ids, err := t.activityIDs()
	if err != nil {
		return err
	}
	if len(t.effects) > 0 {
		// Before the commit: a relay must find the outbox even if this
		// process dies right after it (see effects.go).
		if err := markScript.Run(t.ctx, t.client, []string{pendingKey}, t.orgID).Err(); err != nil {
			return err
		}
	}
	minID := backend.ActivityCutoff(time.Now()).String()
	_, err = t.rtx.TxPipelined(t.ctx, func(p redis.Pipeliner) error {
		for key, data := range t.write {
			if data == nil {
				p.Del(t.ctx, key)
			} else {
				p.Set(t.ctx, key, data, 0)
			}
		}
		for userID, present := range t.members {
			if present {
				p.ZAdd(t.ctx, membersKey(t.orgID), redis.Z{Member: userID})
			} else {
				p.ZRem(t.ctx, membersKey(t.orgID), userID)
			}
		}
		for i, e := range t.activity {
			// Exact trimming: "~" would only drop whole stream nodes, of
			// up to 100 entries, so expired entries would linger.
			p.XAdd(t.ctx, &redis.XAddArgs{
				Stream: activityKey(t.orgID),
				MinID:  minID,
				ID:     ids[i].String(),
				Values: []string{entryField, string(e.data)},
			})
		}
		if len(t.effects) > 0 {
			entries := make([]any, len(t.effects))
			for i, e := range t.effects {
				entries[i] = e
			}
			p.RPush(t.ctx, outboxKey(t.orgID), entries...)
		}
		if t.notifies() {
			p.Publish(t.ctx, changesChannel, t.orgID)
		}
		return nil
	})
	return err
}

// notifies reports whether the buffered writes change what subscribers
// care about: anything but meetings, which no Snapshot reads. The members
// set changes only with member records, which are written too.
func (t *orgTx) notifies() bool {
	if len(t.activity) > 0 {
		return true
	}
	meetings := meetingKey(t.orgID, "")
	for key := range t.write {
		if !strings.HasPrefix(key, meetings) {
			return true
		}
	}
	return false
}

// activityIDs chooses the stream IDs of the appended entries. It watches
// the stream: its last ID decides, and a concurrent append would make ours
// fail inside EXEC, after the other writes.
func (t *orgTx) activityIDs() ([]backend.ActivityID, error) {
	if len(t.activity) == 0 {
		return nil, nil
	}
	key := activityKey(t.orgID)
	if err := t.rtx.Watch(t.ctx, key).Err(); err != nil {
		return nil, err
	}
	var last backend.ActivityID
	info, err := t.rtx.XInfoStream(t.ctx, key).Result()
	switch {
	case err == nil:
		if last, err = backend.ParseActivityID(info.LastGeneratedID); err != nil {
			return nil, err
		}
	case !redis.HasErrorPrefix(err, "no such key"):
		return nil, err
	}
	ids := make([]backend.ActivityID, len(t.activity))
	for i, e := range t.activity {
		last = backend.NextActivityID(last, e.time)
		ids[i] = last
	}
	return ids, nil
}

func txGet[T any](t *orgTx, key string) (*T, error) {
	data, err := t.load(key)
	if err != nil || data == nil {
		return nil, err
	}
	return decode[T](key, data)
}

// txSet buffers the write of v and reports whether it did.
func txSet[T any](t *orgTx, setter, key string, v *T) bool {
	if v == nil {
		t.fail(backend.NilRecord(setter))
		return false
	}
	data, err := json.Marshal(v)
	if err != nil {
		t.fail(fmt.Errorf("redisstore: %s: encode: %w", setter, err))
		return false
	}
	t.write[key] = data
	return true
}
