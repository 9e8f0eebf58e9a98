package storetest

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/zoomconnect/zoomconnect/server/store"
)

func testSnapshotMissing(t *testing.T, s store.Store) {
	orgID := newOrgID(t)
	assertEqual(t, "Snapshot of a new org", snapshot(t, s, orgID), &store.OrgSnapshot{})
	assertEqual(t, "Snapshot of a new org's users", snapshot(t, s, orgID, "user-a", "user-b"),
		&store.OrgSnapshot{Users: []store.UserRecords{{UserID: "user-a"}, {UserID: "user-b"}}})
	_, err := store.GetOrgConnection(t.Context(), s, orgID)
	wantNotFound(t, "GetOrgConnection of a new org", err)

	// Records exist independently of each other.
	update(t, s, orgID, func(tx store.OrgTx) error {
		tx.SetSettings(fullSettings())
		tx.SetPersonal(fullPersonal(orgID, "user-b"))
		return nil
	})
	assertEqual(t, "Snapshot of an org with settings only", snapshot(t, s, orgID, "user-a", "user-b"), &store.OrgSnapshot{
		Settings: fullSettings(),
		Users:    []store.UserRecords{{UserID: "user-a"}, {UserID: "user-b", Personal: fullPersonal(orgID, "user-b")}},
	})
	_, err = store.GetOrgConnection(t.Context(), s, orgID)
	wantNotFound(t, "GetOrgConnection of an org with settings only", err)
}

func testSnapshotOrder(t *testing.T, s store.Store) {
	orgID := newOrgID(t)
	update(t, s, orgID, func(tx store.OrgTx) error {
		setAll(tx, orgID, "user-b", "user-d")
		tx.SetMember(fullMember(orgID, "user-a"))
		return nil
	})
	a, b, d := fullUser(orgID, "user-a"), fullUser(orgID, "user-b"), fullUser(orgID, "user-d")
	a.Personal = nil
	snap := snapshot(t, s, orgID, "user-d", "user-a", "nobody", "user-d", "user-b")
	assertEqual(t, "Snapshot.Users", snap.Users, []store.UserRecords{d, a, {UserID: "nobody"}, d, b})
}

func testSnapshotMaxUsers(t *testing.T, s store.Store) {
	orgID := newOrgID(t)
	userIDs := make([]string, store.MaxSnapshotUsers+1)
	for i := range userIDs {
		userIDs[i] = fmt.Sprintf("user-%d", i)
	}
	update(t, s, orgID, func(tx store.OrgTx) error {
		setAll(tx, orgID, userIDs[len(userIDs)-2])
		return nil
	})
	snap := snapshot(t, s, orgID, userIDs[:store.MaxSnapshotUsers]...)
	assertEqual(t, "last user of a maximal Snapshot", snap.Users[len(snap.Users)-1], fullUser(orgID, userIDs[len(userIDs)-2]))

	_, err := s.Snapshot(t.Context(), orgID, userIDs)
	if err == nil || errors.Is(err, store.ErrUnavailable) || errors.Is(err, store.ErrNotFound) {
		t.Fatalf("Snapshot of %d users: err = %v, want a rejection", len(userIDs), err)
	}
}

func testListMembersPaging(t *testing.T, s store.Store) {
	orgID := newOrgID(t)
	// Ids of all the characters the service allows, in byte order.
	var userIDs []string
	for i := range 240 {
		userIDs = append(userIDs, fmt.Sprintf("user-%03d", i))
	}
	userIDs = append(userIDs, "User-Z", "Z", "a", "a.b", "a:b", "a@b", "a_b", "a-b", "0", "9-x")
	want := map[string]store.UserRecords{}
	for i, u := range userIDs {
		r := store.UserRecords{UserID: u, Member: &store.Member{OrgID: orgID, UserID: u, Name: "n" + u}}
		if i%3 == 0 {
			r.Personal = &store.PersonalConnection{OrgID: orgID, UserID: u, State: store.StateActive}
		}
		want[u] = r
	}
	// Written in a random order, a batch per Update; plus someone who has
	// a personal connection but is no member.
	rand.Shuffle(len(userIDs), func(i, j int) { userIDs[i], userIDs[j] = userIDs[j], userIDs[i] })
	for batch := range slices.Chunk(userIDs, 50) {
		update(t, s, orgID, func(tx store.OrgTx) error {
			for _, u := range batch {
				tx.SetMember(want[u].Member)
				if p := want[u].Personal; p != nil {
					tx.SetPersonal(p)
				}
			}
			return nil
		})
	}
	update(t, s, orgID, func(tx store.OrgTx) error {
		tx.SetPersonal(&store.PersonalConnection{OrgID: orgID, UserID: "user-100x"})
		return nil
	})
	slices.Sort(userIDs)
	wantList := func(ids []string) []store.UserRecords {
		var l []store.UserRecords
		for _, u := range ids {
			l = append(l, want[u])
		}
		return l
	}
	assertEqual(t, "all members, 100 a page", allMembers(t, s, orgID, 100), wantList(userIDs))
	page, err := s.ListMembers(t.Context(), orgID, "user-100x", 3)
	if err != nil {
		t.Fatalf("ListMembers after a non-member: %v", err)
	}
	assertEqual(t, "members after user-100x", page, wantList([]string{"user-101", "user-102", "user-103"}))

	// Deleted members are gone from the list.
	var deleted, kept []string
	for i, u := range userIDs {
		if i%10 == 0 {
			deleted = append(deleted, u)
		} else {
			kept = append(kept, u)
		}
	}
	update(t, s, orgID, func(tx store.OrgTx) error {
		for _, u := range deleted {
			tx.DeleteMember(u)
		}
		return nil
	})
	assertEqual(t, "members after deletions", allMembers(t, s, orgID, 100), wantList(kept))
}

func testListActivityPaging(t *testing.T, s store.Store) {
	orgID := newOrgID(t)
	// Several entries per millisecond, several entries per Update.
	base := time.Now().Add(-time.Hour)
	var appended []store.ActivityEntry
	for i := range 25 {
		appended = append(appended, fullEntry(base.Add(time.Duration(i)*300*time.Microsecond), fmt.Sprint("kind-", i)))
	}
	for batch := range slices.Chunk(appended, 5) {
		update(t, s, orgID, func(tx store.OrgTx) error {
			for _, e := range batch {
				tx.AppendActivity(e)
			}
			return nil
		})
	}
	slices.Reverse(appended)
	all := allActivity(t, s, orgID, 10)
	if older, err := s.ListActivity(t.Context(), orgID, all[len(all)-1].ID, 10); err != nil || len(older) != 0 {
		t.Fatalf("ListActivity before the oldest entry = %+v, %v; want none", older, err)
	}
	first, err := s.ListActivity(t.Context(), orgID, "", 10)
	if err != nil {
		t.Fatalf("ListActivity: %v", err)
	}
	assertEqual(t, "first page", first, all[:10])
	assertEqual(t, "all activity, newest first", withoutIDs(t, all), appended)
}

func testActivityTrimmed(t *testing.T, s store.Store) {
	orgID := newOrgID(t)
	now := time.Now()
	old, kept, last := fullEntry(now.Add(-91*24*time.Hour), "old"), fullEntry(now.Add(-89*24*time.Hour), "kept"), fullEntry(now, "last")
	for _, e := range []store.ActivityEntry{old, kept, last} {
		update(t, s, orgID, func(tx store.OrgTx) error {
			tx.AppendActivity(e)
			return nil
		})
	}
	want := []store.ActivityEntry{last, kept}
	assertEqual(t, "activity after appending to an entry older than the retention", withoutIDs(t, allActivity(t, s, orgID, 10)), want)
}

func testPageArguments(t *testing.T, s store.Store) {
	orgID := newOrgID(t)
	calls := map[string]func() error{
		"ListMembers limit 0":        func() error { _, err := s.ListMembers(t.Context(), orgID, "", 0); return err },
		"ListMembers limit -1":       func() error { _, err := s.ListMembers(t.Context(), orgID, "", -1); return err },
		"ListActivity limit 0":       func() error { _, err := s.ListActivity(t.Context(), orgID, "", 0); return err },
		"ListActivity before a typo": func() error { _, err := s.ListActivity(t.Context(), orgID, "not an id", 10); return err },
	}
	for name, call := range calls {
		if err := call(); err == nil || errors.Is(err, store.ErrUnavailable) {
			t.Errorf("%s: err = %v, want a rejection", name, err)
		}
	}
}
