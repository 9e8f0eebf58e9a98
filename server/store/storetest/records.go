package storetest

import (
	"crypto/sha256"
	"time"

	"github.com/zoomconnect/zoomconnect/server/store"
)

// everyByte returns every byte value, for round trips of []byte fields.
func everyByte() []byte {
	b := make([]byte, 256)
	for i := range b {
		b[i] = byte(i)
	}
	return b
}

// The full* records set every field, with awkward values: bytes of every
// kind, instants with nanoseconds, text with quotes, newlines and non-ASCII.

func fullConn(orgID string) *store.OrgConnection {
	linkHash := sha256.Sum256([]byte(orgID))
	return &store.OrgConnection{
		OrgID:               orgID,
		State:               store.StateNeedsReconnect,
		Reason:              store.ReasonAdminRoleLost,
		ZoomAccountID:       "acct-éß-☃",
		InstallerEmail:      "admin@example.com",
		InstallerZoomUserID: "zu-1",
		ConnectedAt:         ts(0),
		ConnectedBy:         "user-\"quoted\"\n",
		Pending: &store.PendingInstall{
			AttemptID: "attempt-1",
			LinkHash:  linkHash[:],
			StartedBy: "user-2",
			StartedAt: ts(time.Minute + time.Nanosecond),
			ExpiresAt: ts(time.Hour + 999*time.Nanosecond),
		},
		SealedTokens: everyByte(),
		UpdatedAt:    ts(2 * time.Hour),
	}
}

func fullSettings() *store.OrgSettings {
	return &store.OrgSettings{
		AllowUsersToDetach:  true,
		ZoomDefaultLocation: true,
		AutoMeetingSummary:  true,
		WaitingRoom:         true,
		JoinBeforeHost:      true,
		RequirePasscode:     true,
		UpdatedAt:           ts(3 * time.Second),
	}
}

func fullMember(orgID, userID string) *store.Member {
	return &store.Member{
		OrgID:    orgID,
		UserID:   userID,
		Email:    userID + "@example.com",
		Name:     "Zoë \"Z\" Ünïcode\n",
		Detached: true,
		Match: &store.ZoomMatch{
			ZoomAccountID: "acct-1",
			NotInAccount:  true,
			ZoomUserID:    "zu-" + userID,
			ZoomEmail:     "zoom-" + userID + "@example.com",
			CheckedAt:     ts(4 * time.Second),
		},
		UpdatedAt: ts(5 * time.Second),
	}
}

func fullPersonal(orgID, userID string) *store.PersonalConnection {
	return &store.PersonalConnection{
		OrgID:         orgID,
		UserID:        userID,
		State:         store.StateActive,
		Reason:        store.ReasonInvalidGrant,
		ZoomAccountID: "acct-2",
		ZoomUserID:    "zu-p-" + userID,
		ZoomEmail:     "p-" + userID + "@example.com",
		ConnectedAt:   ts(6 * time.Second),
		SealedTokens:  everyByte(),
		UpdatedAt:     ts(7 * time.Second),
	}
}

// fullEntry is an entry of time t (recent: older entries are trimmed).
func fullEntry(t time.Time, kind string) store.ActivityEntry {
	return store.ActivityEntry{
		Time:    t,
		Kind:    kind,
		Actor:   "user-\"1\"",
		UserID:  "user-2",
		Details: map[string]string{"from": "active", "to": "needs_reconnect", "ü": "☃\n"},
	}
}

// setAll writes a full record of every kind for the users.
func setAll(tx store.OrgTx, orgID string, userIDs ...string) {
	tx.SetOrgConnection(fullConn(orgID))
	tx.SetSettings(fullSettings())
	for _, u := range userIDs {
		tx.SetMember(fullMember(orgID, u))
		tx.SetPersonal(fullPersonal(orgID, u))
	}
}
