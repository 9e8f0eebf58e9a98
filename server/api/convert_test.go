package api

import (
	"testing"
	"time"

	zcv1 "github.com/zoomconnect/zoomconnect/gen/zoomconnect/v1"
	"github.com/zoomconnect/zoomconnect/server/connection"
	"github.com/zoomconnect/zoomconnect/server/store"
)

// Every stored reason must have its API name; a new reason without one
// would silently be sent as UNSPECIFIED.
func TestEveryReasonHasAnAPIName(t *testing.T) {
	for _, r := range []store.StateReason{store.ReasonDisconnectedByAdmin, store.ReasonInstallLinkExpired,
		store.ReasonDeauthorized, store.ReasonAdminRoleLost, store.ReasonInstallerRemoved, store.ReasonInvalidGrant,
		store.ReasonDisconnectedByUser} {
		if connection.ProtoReason[r] == zcv1.ConnectionStateReason_CONNECTION_STATE_REASON_UNSPECIFIED {
			t.Errorf("reason %q has no API value", r)
		}
	}
	for _, s := range []store.ConnectionState{store.StateNotConnected, store.StateActive, store.StateNeedsReconnect} {
		if connection.ProtoState[s] == zcv1.ConnectionState_CONNECTION_STATE_UNSPECIFIED {
			t.Errorf("state %q has no API value", s)
		}
	}
}

func TestPendingViewAndUnsetTimes(t *testing.T) {
	exp := time.Date(2026, 12, 6, 0, 0, 0, 0, time.UTC)
	p := orgConnectionProto(connection.OrgView{OrgID: "o", State: store.StateNotConnected, Pending: true, LinkExpiresAt: exp})
	if p.GetState() != zcv1.ConnectionState_CONNECTION_STATE_PENDING || !p.GetExpiresAt().AsTime().Equal(exp) {
		t.Fatalf("pending view = %v", p)
	}
	if p.GetConnectedAt() != nil || p.GetUpdateTime() != nil {
		t.Fatalf("unset times were sent: %v", p)
	}
}

// Every activity kind and resolution reason the domain uses has its API name.
func TestEveryKindHasAnAPIName(t *testing.T) {
	for _, k := range []string{connection.ActivityOrgConnectionStarted, connection.ActivityOrgConnected, connection.ActivityOrgDisconnected,
		connection.ActivityOrgNeedsReconnect, connection.ActivityPersonalConnected, connection.ActivityPersonalDisconnected,
		connection.ActivityPersonalNeedsReconnect, connection.ActivityUserDetached, connection.ActivityUserReattached,
		connection.ActivitySettingsChanged} {
		if activityKindProto[k] == zcv1.ActivityKind_ACTIVITY_KIND_UNSPECIFIED {
			t.Errorf("activity kind %q has no API value", k)
		}
	}
	for _, w := range []string{connection.WhyPersonalConnected, connection.WhyOrgConnected, connection.WhyNoConnection,
		connection.WhyOrgNeedsReconnect, connection.WhyUserNotInZoomAccount, connection.WhyUserDetached,
		connection.WhyPersonalNeedsReconnect, connection.WhyOrgPending} {
		if whyProto[w] == zcv1.ResolutionReason_RESOLUTION_REASON_UNSPECIFIED {
			t.Errorf("resolution reason %q has no API value", w)
		}
	}
}

func TestActivityDetailsAreLowerCamelCase(t *testing.T) {
	got := activityProto(store.ActivityEntry{Details: map[string]string{
		"zoom_account_id": "a1", "reason": "deauthorized", "allow_users_to_detach": "false → true",
	}}).GetDetails()
	want := map[string]string{"zoomAccountId": "a1", "reason": "deauthorized", "allowUsersToDetach": "false → true"}
	if len(got) != len(want) {
		t.Fatalf("details = %v, want %v", got, want)
	}
	for k, v := range want {
		if got[k] != v {
			t.Fatalf("details = %v, want %v", got, want)
		}
	}
}
