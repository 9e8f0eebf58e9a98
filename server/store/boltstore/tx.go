package boltstore

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"

	bolt "go.etcd.io/bbolt"

	"github.com/zoomconnect/zoomconnect/server/store"
	"github.com/zoomconnect/zoomconnect/server/store/internal/backend"
)

// errTxDone guards against an OrgTx kept past its Update: its bbolt
// transaction is gone, and bbolt would crash rather than fail.
var errTxDone = errors.New("boltstore: OrgTx used after its Update returned")

// orgTx is the store.OrgTx of Update. It reads and writes the bbolt
// transaction directly, so reads see the earlier writes.
type orgTx struct {
	store    *Store
	tx       *bolt.Tx
	orgID    string
	written  bool  // something was written: commit
	changed  bool  // something but meetings was written: notify
	appended bool  // activity was appended: trim it
	events   bool  // an effect appended an event: wake the readers
	done     bool  // Update returned
	err      error // the first failed write, which Update returns
}

func (t *orgTx) OrgConnection() (*store.OrgConnection, error) {
	return txGet[store.OrgConnection](t, connBucket, []byte(t.orgID))
}

func (t *orgTx) SetOrgConnection(c *store.OrgConnection) {
	txPut(t, "SetOrgConnection", connBucket, []byte(t.orgID), c)
}

func (t *orgTx) Settings() (*store.OrgSettings, error) {
	return txGet[store.OrgSettings](t, settingsBucket, []byte(t.orgID))
}

func (t *orgTx) SetSettings(s *store.OrgSettings) {
	txPut(t, "SetSettings", settingsBucket, []byte(t.orgID), s)
}

func (t *orgTx) Member(userID string) (*store.Member, error) {
	return txGet[store.Member](t, memberBucket, userKey(t.orgID, userID))
}

func (t *orgTx) SetMember(m *store.Member) {
	if m == nil {
		t.fail(backend.NilRecord("SetMember"))
		return
	}
	txPut(t, "SetMember", memberBucket, userKey(t.orgID, m.UserID), m)
}

func (t *orgTx) DeleteMember(userID string) { t.delete(memberBucket, userKey(t.orgID, userID)) }

func (t *orgTx) Personal(userID string) (*store.PersonalConnection, error) {
	return txGet[store.PersonalConnection](t, personalBucket, userKey(t.orgID, userID))
}

func (t *orgTx) SetPersonal(p *store.PersonalConnection) {
	if p == nil {
		t.fail(backend.NilRecord("SetPersonal"))
		return
	}
	txPut(t, "SetPersonal", personalBucket, userKey(t.orgID, p.UserID), p)
}

func (t *orgTx) DeletePersonal(userID string) { t.delete(personalBucket, userKey(t.orgID, userID)) }

func (t *orgTx) Meeting(bookingID string) (*store.Meeting, error) {
	if err := backend.CheckID("booking id", bookingID); err != nil {
		t.fail(err)
		return nil, err
	}
	return txGet[store.Meeting](t, meetingBucket, userKey(t.orgID, bookingID))
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
	txPut(t, "SetMeeting", meetingBucket, userKey(t.orgID, m.BookingID), m)
}

func (t *orgTx) DeleteMeeting(bookingID string) {
	if err := backend.CheckID("booking id", bookingID); err != nil {
		t.fail(fmt.Errorf("DeleteMeeting: %w", err))
		return
	}
	t.delete(meetingBucket, userKey(t.orgID, bookingID))
}

// AppendActivity writes the entry under the ID that follows the org's
// newest entry (see backend.NextActivityID); Update trims before commit.
func (t *orgTx) AppendActivity(e store.ActivityEntry) {
	if t.done || t.err != nil {
		return
	}
	prefix := orgPrefix(t.orgID)
	var last backend.ActivityID
	if k, _ := lastBefore(t.tx.Bucket(activityBucket).Cursor(), orgEnd(t.orgID)); bytes.HasPrefix(k, prefix) {
		var ok bool
		if last, ok = keyActivityID(k[len(prefix):]); !ok {
			t.fail(fmt.Errorf("%s: malformed key", where(activityBucket, k)))
			return
		}
	}
	e.ID = "" // the key holds it
	txPut(t, "AppendActivity", activityBucket, activityKey(t.orgID, backend.NextActivityID(last, e.Time)), &e)
	t.appended = true
}

// AddEffect applies the effect in this transaction (see applyEffect).
// Effects alone notify nobody: no Snapshot reads indexes or events.
func (t *orgTx) AddEffect(e store.Effect) {
	if t.done || t.err != nil {
		return
	}
	appended, err := t.store.applyEffect(t.tx, e)
	if err != nil {
		t.fail(fmt.Errorf("boltstore: AddEffect: %w", err))
		return
	}
	t.written = true
	t.events = t.events || appended
}

func (t *orgTx) fail(err error) {
	if t.err == nil {
		t.err = err
	}
}

func (t *orgTx) delete(bucket, key []byte) {
	if t.done || t.err != nil {
		return
	}
	if err := t.tx.Bucket(bucket).Delete(key); err != nil {
		t.fail(fmt.Errorf("%s: delete: %w", where(bucket, key), err))
		return
	}
	t.wrote(bucket)
}

// wrote records a write to bucket: Update commits, and notifies unless
// only meetings were written, which no Snapshot reads.
func (t *orgTx) wrote(bucket []byte) {
	t.written = true
	if !bytes.Equal(bucket, meetingBucket) {
		t.changed = true
	}
}

func txGet[T any](t *orgTx, bucket, key []byte) (*T, error) {
	if t.done {
		return nil, errTxDone
	}
	return get[T](t.tx, bucket, key)
}

// txPut encodes v at once: the caller may reuse it.
func txPut[T any](t *orgTx, setter string, bucket, key []byte, v *T) {
	if t.done || t.err != nil {
		return
	}
	if v == nil {
		t.fail(backend.NilRecord(setter))
		return
	}
	data, err := json.Marshal(v)
	if err == nil {
		err = t.tx.Bucket(bucket).Put(key, data)
	}
	if err != nil {
		t.fail(fmt.Errorf("%s: %s: %w", where(bucket, key), setter, err))
		return
	}
	t.wrote(bucket)
}

// lastBefore positions c on the last key before start.
func lastBefore(c *bolt.Cursor, start []byte) (k, v []byte) {
	if k, _ := c.Seek(start); k == nil {
		return c.Last()
	}
	return c.Prev()
}
