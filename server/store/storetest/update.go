package storetest

import (
	"errors"
	"fmt"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/zoomconnect/zoomconnect/server/store"
)

func fullUser(orgID, userID string) store.UserRecords {
	return store.UserRecords{UserID: userID, Member: fullMember(orgID, userID), Personal: fullPersonal(orgID, userID)}
}

// txRecords reads every record of the org and of userID inside tx.
func txRecords(t *testing.T, tx store.OrgTx, userID string) (*store.OrgConnection, *store.OrgSettings, store.UserRecords) {
	t.Helper()
	c, err := tx.OrgConnection()
	if err != nil {
		t.Fatalf("OrgTx.OrgConnection: %v", err)
	}
	s, err := tx.Settings()
	if err != nil {
		t.Fatalf("OrgTx.Settings: %v", err)
	}
	m, err := tx.Member(userID)
	if err != nil {
		t.Fatalf("OrgTx.Member(%s): %v", userID, err)
	}
	p, err := tx.Personal(userID)
	if err != nil {
		t.Fatalf("OrgTx.Personal(%s): %v", userID, err)
	}
	return c, s, store.UserRecords{UserID: userID, Member: m, Personal: p}
}

// assertTxFull checks that tx reads full records for the org and userID.
func assertTxFull(t *testing.T, tx store.OrgTx, orgID, userID string) {
	t.Helper()
	c, s, u := txRecords(t, tx, userID)
	assertEqual(t, "OrgTx.OrgConnection", c, fullConn(orgID))
	assertEqual(t, "OrgTx.Settings", s, fullSettings())
	assertEqual(t, "OrgTx records of "+userID, u, fullUser(orgID, userID))
}

// withoutIDs checks that the store gave every entry an ID, then clears them
// for comparison with what was appended.
func withoutIDs(t *testing.T, entries []store.ActivityEntry) []store.ActivityEntry {
	t.Helper()
	seen := map[string]bool{}
	for i := range entries {
		id := entries[i].ID
		if id == "" || seen[id] {
			t.Fatalf("activity entry %d has ID %q: want a unique, non-empty ID", i, id)
		}
		seen[id] = true
		entries[i].ID = ""
	}
	return entries
}

func testRoundTrip(t *testing.T, s store.Store) {
	orgID := newOrgID(t)
	now := time.Now()
	entries := []store.ActivityEntry{fullEntry(now.Add(-time.Hour), "first"), fullEntry(now, "second")}
	update(t, s, orgID, func(tx store.OrgTx) error {
		setAll(tx, orgID, "user-a", "user-b")
		for _, e := range entries {
			tx.AppendActivity(e)
		}
		return nil
	})

	snap := snapshot(t, s, orgID, "user-a", "user-b")
	assertEqual(t, "Snapshot.Connection", snap.Connection, fullConn(orgID))
	assertEqual(t, "Snapshot.Settings", snap.Settings, fullSettings())
	want := []store.UserRecords{fullUser(orgID, "user-a"), fullUser(orgID, "user-b")}
	assertEqual(t, "Snapshot.Users", snap.Users, want)
	assertEqual(t, "ListMembers", allMembers(t, s, orgID, 10), want)
	assertEqual(t, "ListActivity", withoutIDs(t, allActivity(t, s, orgID, 10)), []store.ActivityEntry{entries[1], entries[0]})
	update(t, s, orgID, func(tx store.OrgTx) error {
		assertTxFull(t, tx, orgID, "user-b")
		return nil
	})
	conn, err := store.GetOrgConnection(t.Context(), s, orgID)
	if err != nil {
		t.Fatalf("GetOrgConnection: %v", err)
	}
	assertEqual(t, "GetOrgConnection", conn, fullConn(orgID))
}

func testUpdateReadsOwnWrites(t *testing.T, s store.Store) {
	orgID := newOrgID(t)
	update(t, s, orgID, func(tx store.OrgTx) error {
		c, st, u := txRecords(t, tx, "user-a")
		if c != nil || st != nil || u.Member != nil || u.Personal != nil {
			t.Fatalf("records of a new org = %+v, %+v, %+v; want none", c, st, u)
		}
		setAll(tx, orgID, "user-a")
		assertTxFull(t, tx, orgID, "user-a")

		// What the getters return is the caller's to change.
		c, st, u = txRecords(t, tx, "user-a")
		c.SealedTokens[0], c.Pending.LinkHash[0], c.State = 42, 42, store.StateNotConnected
		st.WaitingRoom = false
		u.Member.Match.ZoomUserID, u.Member.Name = "changed", "changed"
		u.Personal.SealedTokens[0] = 42
		assertTxFull(t, tx, orgID, "user-a")

		tx.DeleteMember("user-a")
		tx.DeletePersonal("user-a")
		if _, _, u := txRecords(t, tx, "user-a"); u.Member != nil || u.Personal != nil {
			t.Fatalf("records of user-a after deleting them = %+v", u)
		}
		tx.SetMember(fullMember(orgID, "user-a"))
		_, _, u = txRecords(t, tx, "user-a")
		assertEqual(t, "member set again after its deletion", u.Member, fullMember(orgID, "user-a"))
		return nil
	})
	snap := snapshot(t, s, orgID, "user-a")
	assertEqual(t, "stored records", snap.Users[0], store.UserRecords{UserID: "user-a", Member: fullMember(orgID, "user-a")})
}

func testUpdateSeesCommitted(t *testing.T, s store.Store) {
	orgID := newOrgID(t)
	update(t, s, orgID, func(tx store.OrgTx) error {
		setAll(tx, orgID, "user-a")
		return nil
	})
	update(t, s, orgID, func(tx store.OrgTx) error {
		assertTxFull(t, tx, orgID, "user-a")
		c, _, u := txRecords(t, tx, "user-a")
		c.State = store.StateActive
		tx.SetOrgConnection(c)
		u.Member.Name = "renamed"
		tx.SetMember(u.Member)
		return nil
	})
	wantConn, wantMember := fullConn(orgID), fullMember(orgID, "user-a")
	wantConn.State, wantMember.Name = store.StateActive, "renamed"
	snap := snapshot(t, s, orgID, "user-a")
	assertEqual(t, "Connection", snap.Connection, wantConn)
	assertEqual(t, "Member", snap.Users[0].Member, wantMember)
}

func testUpdateErrorAborts(t *testing.T, s store.Store) {
	errFn := errors.New("fn refused")
	for _, existing := range []bool{false, true} {
		orgID := newOrgID(t)
		if existing {
			update(t, s, orgID, func(tx store.OrgTx) error {
				setAll(tx, orgID, "user-a")
				tx.AppendActivity(fullEntry(time.Now(), "kept"))
				tx.SetMeeting(fullMeeting(orgID, "booking-kept"))
				return nil
			})
		}
		before := snapshot(t, s, orgID, "user-a", "user-b")
		membersBefore := allMembers(t, s, orgID, 10)
		activityBefore := allActivity(t, s, orgID, 10)

		err := s.Update(t.Context(), orgID, func(tx store.OrgTx) error {
			if c, _ := tx.OrgConnection(); c != nil {
				c.State = store.StateNotConnected
				tx.SetOrgConnection(c)
			}
			setAll(tx, orgID, "user-b")
			tx.DeleteMember("user-a")
			tx.DeletePersonal("user-a")
			tx.AppendActivity(fullEntry(time.Now(), "dropped"))
			tx.SetMeeting(fullMeeting(orgID, "booking-dropped"))
			tx.DeleteMeeting("booking-kept")
			return errFn
		})
		if err != errFn { // "as is": not even wrapped
			t.Fatalf("existing=%v: Update = %v, want fn's error as is", existing, err)
		}
		assertEqual(t, "Snapshot after an aborted Update", snapshot(t, s, orgID, "user-a", "user-b"), before)
		assertEqual(t, "ListMembers after an aborted Update", allMembers(t, s, orgID, 10), membersBefore)
		assertEqual(t, "ListActivity after an aborted Update", allActivity(t, s, orgID, 10), activityBefore)
		_, err = s.GetMeeting(t.Context(), orgID, "booking-dropped")
		wantNotFound(t, "GetMeeting of a meeting set by an aborted Update", err)
		if existing {
			assertEqual(t, "meeting deleted by an aborted Update", getMeeting(t, s, orgID, "booking-kept"), fullMeeting(orgID, "booking-kept"))
		}
		// Nor does an aborted Update of meetings only write anything.
		err = s.Update(t.Context(), orgID, func(tx store.OrgTx) error {
			tx.SetMeeting(fullMeeting(orgID, "booking-dropped"))
			return errFn
		})
		if err != errFn {
			t.Fatalf("existing=%v: meetings-only Update = %v, want fn's error as is", existing, err)
		}
		_, err = s.GetMeeting(t.Context(), orgID, "booking-dropped")
		wantNotFound(t, "GetMeeting of a meeting set by an aborted meetings-only Update", err)
	}
}

// testUpdateSetNil: a nil record is a caller's bug, which must not be
// stored as an empty record (nor crash the store).
func testUpdateSetNil(t *testing.T, s store.Store) {
	orgID := newOrgID(t)
	for name, set := range map[string]func(store.OrgTx){
		"SetOrgConnection": func(tx store.OrgTx) { tx.SetOrgConnection(nil) },
		"SetSettings":      func(tx store.OrgTx) { tx.SetSettings(nil) },
		"SetMember":        func(tx store.OrgTx) { tx.SetMember(nil) },
		"SetPersonal":      func(tx store.OrgTx) { tx.SetPersonal(nil) },
		"SetMeeting":       func(tx store.OrgTx) { tx.SetMeeting(nil) },
	} {
		err := s.Update(t.Context(), orgID, func(tx store.OrgTx) error {
			tx.SetSettings(fullSettings())
			set(tx)
			return nil
		})
		if err == nil {
			t.Errorf("Update with %s(nil) succeeded, want an error", name)
		}
	}
	if snap := snapshot(t, s, orgID); snap.Settings != nil {
		t.Errorf("Updates that failed stored settings %+v", snap.Settings)
	}
}

// testConcurrentUpdates has writers increment a counter (a member's name)
// and append an entry each: no update may be lost or applied twice.
func testConcurrentUpdates(t *testing.T, s store.Store) {
	const writers = 32
	orgID := newOrgID(t)
	start := make(chan struct{})
	errs := make(chan error, writers)
	var wg sync.WaitGroup
	for i := range writers {
		wg.Go(func() {
			<-start
			errs <- s.Update(t.Context(), orgID, func(tx store.OrgTx) error {
				m, err := tx.Member("counter")
				if err != nil {
					return err
				}
				if m == nil {
					m = &store.Member{OrgID: orgID, UserID: "counter", Name: "0"}
				}
				n, err := strconv.Atoi(m.Name)
				if err != nil {
					return err
				}
				m.Name = strconv.Itoa(n + 1)
				tx.SetMember(m)
				tx.AppendActivity(store.ActivityEntry{Time: time.Now(), Kind: "increment", Actor: fmt.Sprint("w", i)})
				return nil
			})
		})
	}
	close(start)
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Errorf("concurrent Update: %v", err)
		}
	}
	if m := snapshot(t, s, orgID, "counter").Users[0].Member; m == nil || m.Name != strconv.Itoa(writers) {
		t.Errorf("counter after %d concurrent increments = %+v, want %d", writers, m, writers)
	}
	actors := map[string]int{}
	for _, e := range withoutIDs(t, allActivity(t, s, orgID, 10)) {
		actors[e.Actor]++
	}
	for i := range writers {
		if n := actors[fmt.Sprint("w", i)]; n != 1 {
			t.Errorf("writer %d's entry is present %d times, want once", i, n)
		}
	}
}

func testOrgsIsolated(t *testing.T, s store.Store) {
	a, b := newOrgID(t), newOrgID(t)
	update(t, s, a, func(tx store.OrgTx) error {
		setAll(tx, a, "user-1")
		tx.AppendActivity(fullEntry(time.Now(), "a"))
		return nil
	})
	snapB := snapshot(t, s, b, "user-1")
	assertEqual(t, "Snapshot of another org", snapB, &store.OrgSnapshot{Users: []store.UserRecords{{UserID: "user-1"}}})
	if m := allMembers(t, s, b, 10); len(m) != 0 {
		t.Fatalf("ListMembers of another org = %+v, want none", m)
	}
	if e := allActivity(t, s, b, 10); len(e) != 0 {
		t.Fatalf("ListActivity of another org = %+v, want none", e)
	}

	// The same user id in another org is another member.
	update(t, s, b, func(tx store.OrgTx) error {
		if _, _, u := txRecords(t, tx, "user-1"); u.Member != nil {
			t.Fatalf("OrgTx of another org read member %+v", u.Member)
		}
		tx.SetMember(&store.Member{OrgID: b, UserID: "user-1", Name: "in b"})
		return nil
	})
	snapA := snapshot(t, s, a, "user-1")
	assertEqual(t, "first org after writing the second", snapA.Users[0], fullUser(a, "user-1"))
	assertEqual(t, "second org", snapshot(t, s, b, "user-1").Users[0].Member, &store.Member{OrgID: b, UserID: "user-1", Name: "in b"})
}

// testCopies: no record handed to or by the store aliases what it keeps.
func testCopies(t *testing.T, s store.Store) {
	orgID := newOrgID(t)
	entry := fullEntry(time.Now(), "e")
	conn, settings := fullConn(orgID), fullSettings()
	member, personal := fullMember(orgID, "user-a"), fullPersonal(orgID, "user-a")
	update(t, s, orgID, func(tx store.OrgTx) error {
		tx.SetOrgConnection(conn)
		tx.SetSettings(settings)
		tx.SetMember(member)
		tx.SetPersonal(personal)
		tx.AppendActivity(entry)
		return nil
	})
	mutate := func(c *store.OrgConnection, st *store.OrgSettings, u store.UserRecords) {
		c.State, c.SealedTokens[0], c.Pending.LinkHash[0] = store.StateNotConnected, 42, 42
		st.WaitingRoom = false
		u.Member.Name, u.Member.Match.ZoomUserID = "changed", "changed"
		u.Personal.SealedTokens[1] = 42
	}
	check := func(when string) {
		t.Helper()
		snap := snapshot(t, s, orgID, "user-a")
		assertEqual(t, "Connection after changing "+when, snap.Connection, fullConn(orgID))
		assertEqual(t, "Settings after changing "+when, snap.Settings, fullSettings())
		assertEqual(t, "records after changing "+when, snap.Users[0], fullUser(orgID, "user-a"))
		assertEqual(t, "members after changing "+when, allMembers(t, s, orgID, 10), []store.UserRecords{fullUser(orgID, "user-a")})
		assertEqual(t, "activity after changing "+when, withoutIDs(t, allActivity(t, s, orgID, 10)), []store.ActivityEntry{fullEntry(entry.Time, "e")})
	}

	mutate(conn, settings, store.UserRecords{Member: member, Personal: personal})
	entry.Details["from"] = "changed"
	check("the records given to Update")

	snap := snapshot(t, s, orgID, "user-a")
	mutate(snap.Connection, snap.Settings, snap.Users[0])
	check("what Snapshot returned")

	members := allMembers(t, s, orgID, 10)
	members[0].Member.Match.CheckedAt = time.Time{}
	members[0].Personal.SealedTokens[0] = 42
	activity := allActivity(t, s, orgID, 10)
	activity[0].Details["from"] = "changed"
	check("what ListMembers and ListActivity returned")
}

func testDelete(t *testing.T, s store.Store) {
	orgID := newOrgID(t)
	update(t, s, orgID, func(tx store.OrgTx) error {
		setAll(tx, orgID, "user-a", "user-b", "user-c")
		return nil
	})
	update(t, s, orgID, func(tx store.OrgTx) error {
		tx.DeleteMember("user-b")
		tx.DeletePersonal("user-c")
		tx.DeleteMember("nobody")
		tx.DeletePersonal("nobody")
		return nil
	})
	a, b, c := fullUser(orgID, "user-a"), fullUser(orgID, "user-b"), fullUser(orgID, "user-c")
	b.Member, c.Personal = nil, nil
	assertEqual(t, "Snapshot.Users after deletions", snapshot(t, s, orgID, "user-a", "user-b", "user-c").Users, []store.UserRecords{a, b, c})
	// user-b has a personal connection but is no member.
	assertEqual(t, "ListMembers after deletions", allMembers(t, s, orgID, 10), []store.UserRecords{a, c})
}
