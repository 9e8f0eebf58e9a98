package storetest

import (
	"errors"
	"testing"
	"time"

	"github.com/zoomconnect/zoomconnect/server/store"
)

// fullMeeting sets every field of a meeting, with awkward values: a Zoom
// meeting id beyond float64's exact integers, a duration with nanoseconds.
func fullMeeting(orgID, bookingID string) *store.Meeting {
	return &store.Meeting{
		OrgID:         orgID,
		BookingID:     bookingID,
		RequestHash:   "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
		State:         store.MeetingCreated,
		ReservedBy:    "replica-\"1\"\n",
		ReservedUntil: ts(8 * time.Second),
		Uncertain:     true,
		UserID:        "user-a",
		Topic:         "Zoë's \"sync\" ☃\n",
		StartTime:     ts(24*time.Hour + time.Nanosecond),
		Duration:      90*time.Minute + time.Nanosecond,
		Timezone:      "America/Argentina/Buenos_Aires",
		Agenda:        "line 1\nline 2 <b>&amp;</b> \u2028",
		Source:        "personal",
		ZoomAccountID: "acct-éß-☃",
		ZoomUserID:    "zu-1",
		HostEmail:     "host@example.com",
		ZoomMeetingID: 1<<53 + 1,
		JoinURL:       "https://zoom.us/j/9007199254740993?pwd=a&b=<c>",
		Passcode:      "p@ss\"w0rd",
		Gone:          true,
		CreatedAt:     ts(9 * time.Second),
		UpdatedAt:     ts(10 * time.Second),
	}
}

// minimalMeeting is a fresh reservation: every instant zero, no Zoom
// meeting yet.
func minimalMeeting(orgID, bookingID string) *store.Meeting {
	return &store.Meeting{OrgID: orgID, BookingID: bookingID, State: store.MeetingReserved, UserID: "user-b"}
}

func getMeeting(t *testing.T, s store.Store, orgID, bookingID string) *store.Meeting {
	t.Helper()
	m, err := s.GetMeeting(t.Context(), orgID, bookingID)
	if err != nil {
		t.Fatalf("GetMeeting(%s, %s): %v", orgID, bookingID, err)
	}
	return m
}

func txMeeting(t *testing.T, tx store.OrgTx, bookingID string) *store.Meeting {
	t.Helper()
	m, err := tx.Meeting(bookingID)
	if err != nil {
		t.Fatalf("OrgTx.Meeting(%s): %v", bookingID, err)
	}
	return m
}

func testMeetingRoundTrip(t *testing.T, s store.Store) {
	orgID := newOrgID(t)
	_, err := s.GetMeeting(t.Context(), orgID, "booking-1")
	wantNotFound(t, "GetMeeting of a new org", err)
	update(t, s, orgID, func(tx store.OrgTx) error {
		tx.SetMeeting(fullMeeting(orgID, "booking-1"))
		tx.SetMeeting(minimalMeeting(orgID, "booking-2"))
		return nil
	})
	assertEqual(t, "GetMeeting of a full meeting", getMeeting(t, s, orgID, "booking-1"), fullMeeting(orgID, "booking-1"))
	assertEqual(t, "GetMeeting of a minimal meeting", getMeeting(t, s, orgID, "booking-2"), minimalMeeting(orgID, "booking-2"))
	if m := getMeeting(t, s, orgID, "booking-2"); !m.ReservedUntil.IsZero() || !m.StartTime.IsZero() || !m.CreatedAt.IsZero() || !m.UpdatedAt.IsZero() {
		t.Fatalf("zero instants came back as %+v", m)
	}
	_, err = s.GetMeeting(t.Context(), orgID, "booking-3")
	wantNotFound(t, "GetMeeting of an unknown booking", err)

	update(t, s, orgID, func(tx store.OrgTx) error {
		assertEqual(t, "OrgTx.Meeting of a committed meeting", txMeeting(t, tx, "booking-1"), fullMeeting(orgID, "booking-1"))
		assertEqual(t, "OrgTx.Meeting of a committed minimal meeting", txMeeting(t, tx, "booking-2"), minimalMeeting(orgID, "booking-2"))
		if m := txMeeting(t, tx, "booking-3"); m != nil {
			t.Fatalf("OrgTx.Meeting of an unknown booking = %+v, want nil", m)
		}
		return nil
	})

	// What GetMeeting returns is the caller's.
	m := getMeeting(t, s, orgID, "booking-1")
	m.State, m.ZoomMeetingID, m.StartTime = store.MeetingReserved, 1, time.Time{}
	assertEqual(t, "GetMeeting after changing what it returned", getMeeting(t, s, orgID, "booking-1"), fullMeeting(orgID, "booking-1"))
}

func testMeetingReadsOwnWrites(t *testing.T, s store.Store) {
	orgID := newOrgID(t)
	want := fullMeeting(orgID, "booking-1")
	update(t, s, orgID, func(tx store.OrgTx) error {
		if m := txMeeting(t, tx, "booking-1"); m != nil {
			t.Fatalf("meeting of a new org = %+v, want nil", m)
		}
		reserved := minimalMeeting(orgID, "booking-1")
		tx.SetMeeting(reserved)
		reserved.State = store.MeetingCreated // the store copied it
		assertEqual(t, "meeting set in this Update", txMeeting(t, tx, "booking-1"), minimalMeeting(orgID, "booking-1"))

		m := txMeeting(t, tx, "booking-1")
		m.UserID = "changed" // the caller's copy
		assertEqual(t, "meeting after changing what OrgTx.Meeting returned", txMeeting(t, tx, "booking-1"), minimalMeeting(orgID, "booking-1"))

		tx.SetMeeting(want)
		assertEqual(t, "meeting set twice in this Update", txMeeting(t, tx, "booking-1"), want)
		tx.DeleteMeeting("booking-1")
		if m := txMeeting(t, tx, "booking-1"); m != nil {
			t.Fatalf("meeting after deleting it = %+v, want nil", m)
		}
		tx.SetMeeting(want)
		assertEqual(t, "meeting set again after its deletion", txMeeting(t, tx, "booking-1"), want)
		return nil
	})
	assertEqual(t, "stored meeting", getMeeting(t, s, orgID, "booking-1"), want)

	// A reservation turned into a created meeting, as the service does.
	update(t, s, orgID, func(tx store.OrgTx) error {
		m := txMeeting(t, tx, "booking-1")
		m.State, m.Uncertain, m.ZoomMeetingID = store.MeetingCreated, false, 85746123098
		tx.SetMeeting(m)
		return nil
	})
	want.Uncertain, want.ZoomMeetingID = false, 85746123098
	assertEqual(t, "meeting changed by a later Update", getMeeting(t, s, orgID, "booking-1"), want)
}

func testDeleteMeeting(t *testing.T, s store.Store) {
	orgID := newOrgID(t)
	update(t, s, orgID, func(tx store.OrgTx) error {
		tx.SetMeeting(fullMeeting(orgID, "booking-1"))
		tx.SetMeeting(fullMeeting(orgID, "booking-2"))
		return nil
	})
	update(t, s, orgID, func(tx store.OrgTx) error {
		tx.DeleteMeeting("booking-1")
		tx.DeleteMeeting("nobody")
		return nil
	})
	_, err := s.GetMeeting(t.Context(), orgID, "booking-1")
	wantNotFound(t, "GetMeeting of a deleted meeting", err)
	assertEqual(t, "the other meeting", getMeeting(t, s, orgID, "booking-2"), fullMeeting(orgID, "booking-2"))
}

// testMeetingsIsolated: a booking id is scoped by its org, and a meeting is
// no member, even with the same id.
func testMeetingsIsolated(t *testing.T, s store.Store) {
	a, b := newOrgID(t), newOrgID(t)
	update(t, s, a, func(tx store.OrgTx) error {
		tx.SetMeeting(fullMeeting(a, "user-1"))
		return nil
	})
	_, err := s.GetMeeting(t.Context(), b, "user-1")
	wantNotFound(t, "GetMeeting of another org's booking", err)
	update(t, s, b, func(tx store.OrgTx) error {
		if m := txMeeting(t, tx, "user-1"); m != nil {
			t.Fatalf("OrgTx of another org read meeting %+v", m)
		}
		tx.SetMeeting(minimalMeeting(b, "user-1"))
		return nil
	})
	assertEqual(t, "first org's meeting after writing the second's", getMeeting(t, s, a, "user-1"), fullMeeting(a, "user-1"))
	assertEqual(t, "Snapshot of an org with a meeting only", snapshot(t, s, a, "user-1"),
		&store.OrgSnapshot{Users: []store.UserRecords{{UserID: "user-1"}}})
	if m := allMembers(t, s, a, 10); len(m) != 0 {
		t.Fatalf("ListMembers of an org with a meeting only = %+v, want none", m)
	}
}

// testMeetingArguments: booking ids are checked like other ids; a bad one
// fails the Update, which writes nothing.
func testMeetingArguments(t *testing.T, s store.Store) {
	orgID := newOrgID(t)
	for _, id := range []string{"", "booking\x00evil"} {
		_, err := s.GetMeeting(t.Context(), orgID, id)
		if err == nil || errors.Is(err, store.ErrNotFound) || errors.Is(err, store.ErrUnavailable) {
			t.Errorf("GetMeeting(%q): err = %v, want a rejection", id, err)
		}
		for name, use := range map[string]func(store.OrgTx) error{
			"SetMeeting":    func(tx store.OrgTx) error { tx.SetMeeting(minimalMeeting(orgID, id)); return nil },
			"DeleteMeeting": func(tx store.OrgTx) error { tx.DeleteMeeting(id); return nil },
			"Meeting":       func(tx store.OrgTx) error { _, err := tx.Meeting(id); return err },
			"Meeting, its error ignored": func(tx store.OrgTx) error {
				_, _ = tx.Meeting(id)
				return nil
			},
		} {
			err := s.Update(t.Context(), orgID, func(tx store.OrgTx) error {
				tx.SetSettings(fullSettings())
				tx.SetMeeting(fullMeeting(orgID, "booking-ok"))
				return use(tx)
			})
			if err == nil || errors.Is(err, store.ErrUnavailable) {
				t.Errorf("Update with %s(%q): err = %v, want a rejection", name, id, err)
			}
		}
	}
	if snap := snapshot(t, s, orgID); snap.Settings != nil {
		t.Errorf("Updates that failed stored settings %+v", snap.Settings)
	}
	_, err := s.GetMeeting(t.Context(), orgID, "booking-ok")
	wantNotFound(t, "GetMeeting of a meeting set by Updates that failed", err)
}

// testMeetingsDoNotNotify: no Snapshot reads meetings, so an Update that
// writes only meetings notifies nobody (it would drop every resolver cache
// of the org); one that also writes another record notifies as usual.
func testMeetingsDoNotNotify(t *testing.T, s store.Store) {
	orgID := newOrgID(t)
	ch := subscribe(t, t.Context(), s, orgID)
	update(t, s, orgID, func(tx store.OrgTx) error {
		tx.SetMeeting(minimalMeeting(orgID, "booking-1"))
		tx.SetMeeting(minimalMeeting(orgID, "booking-2"))
		return nil
	})
	update(t, s, orgID, func(tx store.OrgTx) error {
		m := txMeeting(t, tx, "booking-1")
		m.State = store.MeetingCreated
		tx.SetMeeting(m)
		tx.DeleteMeeting("booking-2")
		return nil
	})
	update(t, s, orgID, func(tx store.OrgTx) error {
		tx.DeleteMeeting("booking-1")
		return nil
	})
	assertQuiet(t, ch, "Updates that wrote only meetings")
	_, err := s.GetMeeting(t.Context(), orgID, "booking-1")
	wantNotFound(t, "GetMeeting after meetings-only Updates", err) // they did commit

	update(t, s, orgID, func(tx store.OrgTx) error {
		tx.SetMeeting(fullMeeting(orgID, "booking-3"))
		tx.SetMember(fullMember(orgID, "user-a"))
		return nil
	})
	waitNotified(t, ch, "an Update that wrote a meeting and a member")
	assertQuiet(t, ch, "a single Update")
	assertEqual(t, "meeting written with a member", getMeeting(t, s, orgID, "booking-3"), fullMeeting(orgID, "booking-3"))
}
