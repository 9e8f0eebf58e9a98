package api

import (
	"time"

	zcv1 "github.com/zoomconnect/zoomconnect/gen/zoomconnect/v1"
	"github.com/zoomconnect/zoomconnect/server/connection"
	"github.com/zoomconnect/zoomconnect/server/store"
	"google.golang.org/protobuf/types/known/timestamppb"
)

var stateProto = map[store.ConnectionState]zcv1.ConnectionState{
	store.StateNotConnected:   zcv1.ConnectionState_CONNECTION_STATE_NOT_CONNECTED,
	store.StateActive:         zcv1.ConnectionState_CONNECTION_STATE_ACTIVE,
	store.StateNeedsReconnect: zcv1.ConnectionState_CONNECTION_STATE_NEEDS_RECONNECT,
}

var reasonProto = map[store.StateReason]zcv1.ConnectionStateReason{
	store.ReasonNone:                zcv1.ConnectionStateReason_CONNECTION_STATE_REASON_UNSPECIFIED,
	store.ReasonDisconnectedByAdmin: zcv1.ConnectionStateReason_CONNECTION_STATE_REASON_DISCONNECTED_BY_ADMIN,
	store.ReasonInstallLinkExpired:  zcv1.ConnectionStateReason_CONNECTION_STATE_REASON_INSTALL_LINK_EXPIRED,
	store.ReasonDeauthorized:        zcv1.ConnectionStateReason_CONNECTION_STATE_REASON_DEAUTHORIZED,
	store.ReasonAdminRoleLost:       zcv1.ConnectionStateReason_CONNECTION_STATE_REASON_ADMIN_ROLE_LOST,
	store.ReasonInstallerRemoved:    zcv1.ConnectionStateReason_CONNECTION_STATE_REASON_INSTALLER_REMOVED,
	store.ReasonInvalidGrant:        zcv1.ConnectionStateReason_CONNECTION_STATE_REASON_INVALID_GRANT,
}

func orgConnectionProto(v connection.OrgView) *zcv1.OrgConnection {
	state := stateProto[v.State]
	if v.Pending {
		state = zcv1.ConnectionState_CONNECTION_STATE_PENDING
	}
	return &zcv1.OrgConnection{
		OrgId:               v.OrgID,
		State:               state,
		Reason:              reasonProto[v.Reason],
		ZoomAccountId:       v.ZoomAccountID,
		InstallerEmail:      v.InstallerEmail,
		InstallerZoomUserId: v.InstallerZoomUserID,
		ConnectedAt:         timestampOrNil(v.ConnectedAt),
		ConnectedBy:         v.ConnectedBy,
		ExpiresAt:           timestampOrNil(v.LinkExpiresAt),
		PendingStartedBy:    v.PendingStartedBy,
		UpdateTime:          timestampOrNil(v.UpdatedAt),
	}
}

// timestampOrNil leaves unset times unset instead of sending 1970.
func timestampOrNil(t time.Time) *timestamppb.Timestamp {
	if t.IsZero() {
		return nil
	}
	return timestamppb.New(t)
}
