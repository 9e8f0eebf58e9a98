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
		store.ReasonDeauthorized, store.ReasonAdminRoleLost, store.ReasonInstallerRemoved, store.ReasonInvalidGrant} {
		if reasonProto[r] == zcv1.ConnectionStateReason_CONNECTION_STATE_REASON_UNSPECIFIED {
			t.Errorf("reason %q has no API value", r)
		}
	}
	for _, s := range []store.ConnectionState{store.StateNotConnected, store.StateActive, store.StateNeedsReconnect} {
		if stateProto[s] == zcv1.ConnectionState_CONNECTION_STATE_UNSPECIFIED {
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
