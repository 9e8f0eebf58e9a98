package api

import (
	"strings"
	"time"

	zcv1 "github.com/zoomconnect/zoomconnect/gen/zoomconnect/v1"
	"github.com/zoomconnect/zoomconnect/server/connection"
	"github.com/zoomconnect/zoomconnect/server/errs"
	"github.com/zoomconnect/zoomconnect/server/store"
	"google.golang.org/protobuf/types/known/timestamppb"
)

func orgConnectionProto(v connection.OrgView) *zcv1.OrgConnection {
	state := connection.ProtoState[v.State]
	if v.Pending {
		state = zcv1.ConnectionState_CONNECTION_STATE_PENDING
	}
	return &zcv1.OrgConnection{
		OrgId:               v.OrgID,
		State:               state,
		Reason:              connection.ProtoReason[v.Reason],
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

var sourceProto = map[connection.Source]zcv1.ConnectionSource{
	connection.SourceNone:         zcv1.ConnectionSource_CONNECTION_SOURCE_NONE,
	connection.SourcePersonal:     zcv1.ConnectionSource_CONNECTION_SOURCE_PERSONAL,
	connection.SourceOrganization: zcv1.ConnectionSource_CONNECTION_SOURCE_ORGANIZATION,
}

var whyProto = map[string]zcv1.ResolutionReason{
	connection.WhyPersonalConnected:      zcv1.ResolutionReason_RESOLUTION_REASON_PERSONAL_CONNECTED,
	connection.WhyOrgConnected:           zcv1.ResolutionReason_RESOLUTION_REASON_ORG_CONNECTED,
	connection.WhyNoConnection:           zcv1.ResolutionReason_RESOLUTION_REASON_NO_CONNECTION,
	connection.WhyOrgNeedsReconnect:      zcv1.ResolutionReason_RESOLUTION_REASON_ORG_NEEDS_RECONNECT,
	connection.WhyUserNotInZoomAccount:   zcv1.ResolutionReason_RESOLUTION_REASON_USER_NOT_IN_ZOOM_ACCOUNT,
	connection.WhyUserDetached:           zcv1.ResolutionReason_RESOLUTION_REASON_USER_DETACHED,
	connection.WhyPersonalNeedsReconnect: zcv1.ResolutionReason_RESOLUTION_REASON_PERSONAL_NEEDS_RECONNECT,
	connection.WhyOrgPending:             zcv1.ResolutionReason_RESOLUTION_REASON_ORG_PENDING,
}

var rosterStatusProto = map[connection.RosterStatus]zcv1.ConnectedUserStatus{
	connection.StatusConnected:        zcv1.ConnectedUserStatus_CONNECTED_USER_STATUS_CONNECTED,
	connection.StatusNotConnected:     zcv1.ConnectedUserStatus_CONNECTED_USER_STATUS_NOT_CONNECTED,
	connection.StatusNeedsReconnect:   zcv1.ConnectedUserStatus_CONNECTED_USER_STATUS_NEEDS_RECONNECT,
	connection.StatusNotInZoomAccount: zcv1.ConnectedUserStatus_CONNECTED_USER_STATUS_NOT_IN_ZOOM_ACCOUNT,
	connection.StatusMatching:         zcv1.ConnectedUserStatus_CONNECTED_USER_STATUS_MATCHING,
}

var activityKindProto = map[string]zcv1.ActivityKind{
	connection.ActivityOrgConnectionStarted:   zcv1.ActivityKind_ACTIVITY_KIND_ORG_CONNECTION_STARTED,
	connection.ActivityOrgConnected:           zcv1.ActivityKind_ACTIVITY_KIND_ORG_CONNECTED,
	connection.ActivityOrgDisconnected:        zcv1.ActivityKind_ACTIVITY_KIND_ORG_DISCONNECTED,
	connection.ActivityOrgNeedsReconnect:      zcv1.ActivityKind_ACTIVITY_KIND_ORG_NEEDS_RECONNECT,
	connection.ActivityPersonalConnected:      zcv1.ActivityKind_ACTIVITY_KIND_PERSONAL_CONNECTED,
	connection.ActivityPersonalDisconnected:   zcv1.ActivityKind_ACTIVITY_KIND_PERSONAL_DISCONNECTED,
	connection.ActivityPersonalNeedsReconnect: zcv1.ActivityKind_ACTIVITY_KIND_PERSONAL_NEEDS_RECONNECT,
	connection.ActivityUserDetached:           zcv1.ActivityKind_ACTIVITY_KIND_USER_DETACHED,
	connection.ActivityUserReattached:         zcv1.ActivityKind_ACTIVITY_KIND_USER_REATTACHED,
	connection.ActivitySettingsChanged:        zcv1.ActivityKind_ACTIVITY_KIND_SETTINGS_CHANGED,
	connection.ActivityZoomScopeMissing:       zcv1.ActivityKind_ACTIVITY_KIND_ZOOM_SCOPE_MISSING,
}

// refState is the API state of a connection reference.
func refState(r connection.AccountRef) zcv1.ConnectionState {
	if r.Pending {
		return zcv1.ConnectionState_CONNECTION_STATE_PENDING
	}
	return connection.ProtoState[r.State]
}

func accountRefProto(r *connection.AccountRef) *zcv1.ZoomAccountRef {
	if r == nil {
		return nil
	}
	return &zcv1.ZoomAccountRef{Source: sourceProto[r.Source], State: refState(*r),
		ZoomUserId: r.ZoomUserID, ZoomEmail: r.ZoomEmail, ZoomAccountId: r.ZoomAccountID}
}

func effectiveProto(r connection.Resolution) *zcv1.EffectiveZoomAccount {
	return &zcv1.EffectiveZoomAccount{
		UserId:        r.UserID,
		Source:        sourceProto[r.Chosen.Source],
		State:         refState(r.Chosen),
		ZoomUserId:    r.Chosen.ZoomUserID,
		ZoomEmail:     r.Chosen.ZoomEmail,
		ZoomAccountId: r.Chosen.ZoomAccountID,
		Reason:        whyProto[r.Why],
		Explanation:   r.Explanation,
		Shadowed:      accountRefProto(r.Shadowed),
		Fallback:      accountRefProto(r.Fallback),
	}
}

func personalProto(p *store.PersonalConnection) *zcv1.PersonalConnection {
	return &zcv1.PersonalConnection{
		OrgId: p.OrgID, UserId: p.UserID, State: connection.ProtoState[p.State], Reason: connection.ProtoReason[p.Reason],
		ZoomAccountId: p.ZoomAccountID, ZoomUserId: p.ZoomUserID, ZoomEmail: p.ZoomEmail,
		ConnectedAt: timestampOrNil(p.ConnectedAt), UpdateTime: timestampOrNil(p.UpdatedAt),
	}
}

func setupProto(s *connection.Setup) *zcv1.UserZoomSetup {
	out := &zcv1.UserZoomSetup{OrgId: s.OrgID, UserId: s.UserID, Detached: s.Detached, CanDetach: s.CanDetach,
		Source: zcv1.ConnectionSource_CONNECTION_SOURCE_NONE}
	switch {
	case s.Personal != nil:
		out.Source = zcv1.ConnectionSource_CONNECTION_SOURCE_PERSONAL
		out.Connection = &zcv1.UserZoomSetup_Personal{Personal: personalProto(s.Personal)}
	case s.Org != nil:
		out.Source = zcv1.ConnectionSource_CONNECTION_SOURCE_ORGANIZATION
		out.Connection = &zcv1.UserZoomSetup_Organization{Organization: orgConnectionProto(*s.Org)}
	}
	return out
}

func connectedUserProto(row connection.RosterRow) *zcv1.ConnectedUser {
	r := row.Resolution
	return &zcv1.ConnectedUser{
		Member:     &zcv1.OrgMember{UserId: row.Member.UserID, Email: row.Member.Email, Name: row.Member.Name},
		Status:     rosterStatusProto[row.Status],
		Type:       sourceProto[row.Type],
		ZoomUserId: r.Chosen.ZoomUserID,
		ZoomEmail:  r.Chosen.ZoomEmail,
		Reason:     whyProto[r.Why],
	}
}

// rosterFilter reads the roster's filter fields; UNSPECIFIED means any.
func rosterFilter(status zcv1.ConnectedUserStatus, typ zcv1.ConnectionSource) (connection.RosterFilter, error) {
	var f connection.RosterFilter
	if status != zcv1.ConnectedUserStatus_CONNECTED_USER_STATUS_UNSPECIFIED {
		found := false
		for s, p := range rosterStatusProto {
			if p == status {
				f.Status, found = s, true
			}
		}
		if !found {
			return f, errs.InvalidArgument("status", ReasonInvalidFilter, "status %d is not a roster status", status)
		}
	}
	if typ != zcv1.ConnectionSource_CONNECTION_SOURCE_UNSPECIFIED {
		found := false
		for s, p := range sourceProto {
			if p == typ {
				f.Type, f.HasType, found = s, true, true
			}
		}
		if !found {
			return f, errs.InvalidArgument("type", ReasonInvalidFilter, "type %d is not a connection type", typ)
		}
	}
	return f, nil
}

func settingsProto(s store.OrgSettings) *zcv1.OrgZoomSettings {
	return &zcv1.OrgZoomSettings{
		AllowUsersToDetach: s.AllowUsersToDetach, ZoomDefaultLocation: s.ZoomDefaultLocation,
		AutoMeetingSummary: s.AutoMeetingSummary, WaitingRoom: s.WaitingRoom,
		JoinBeforeHost: s.JoinBeforeHost, RequirePasscode: s.RequirePasscode,
		UpdateTime: timestampOrNil(s.UpdatedAt),
	}
}

func settingsFromProto(p *zcv1.OrgZoomSettings) store.OrgSettings {
	return store.OrgSettings{
		AllowUsersToDetach: p.GetAllowUsersToDetach(), ZoomDefaultLocation: p.GetZoomDefaultLocation(),
		AutoMeetingSummary: p.GetAutoMeetingSummary(), WaitingRoom: p.GetWaitingRoom(),
		JoinBeforeHost: p.GetJoinBeforeHost(), RequirePasscode: p.GetRequirePasscode(),
	}
}

func activityProto(e store.ActivityEntry) *zcv1.ActivityEntry {
	return &zcv1.ActivityEntry{Id: e.ID, Time: timestampOrNil(e.Time), Kind: activityKindProto[e.Kind],
		Actor: e.Actor, UserId: e.UserID, Details: detailsProto(e.Details)}
}

// detailsProto names activity details as the API names its JSON fields
// (lowerCamelCase). The store keeps the snake_case keys it always had, so
// entries written before this rule read the same.
func detailsProto(d map[string]string) map[string]string {
	if d == nil {
		return nil
	}
	out := make(map[string]string, len(d))
	for k, v := range d {
		out[lowerCamel(k)] = v
	}
	return out
}

// lowerCamel turns a snake_case name into lowerCamelCase.
func lowerCamel(s string) string {
	parts := strings.Split(s, "_")
	for i := 1; i < len(parts); i++ {
		if p := parts[i]; p != "" {
			parts[i] = strings.ToUpper(p[:1]) + p[1:]
		}
	}
	return strings.Join(parts, "")
}

// orgMembersProto lists members as the API shows them.
func orgMembersProto(ms []store.Member) []*zcv1.OrgMember {
	out := make([]*zcv1.OrgMember, 0, len(ms))
	for _, m := range ms {
		out = append(out, &zcv1.OrgMember{UserId: m.UserID, Email: m.Email, Name: m.Name})
	}
	return out
}
