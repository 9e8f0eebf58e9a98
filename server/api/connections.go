// Package api holds the gRPC handlers. Each handler validates its request,
// authorizes the caller, calls one domain function and converts the answer;
// errors pass unchanged to the interceptor that maps them (errs.ToStatus).
package api

import (
	"context"
	"net/mail"
	"unicode/utf8"

	zcv1 "github.com/zoomconnect/zoomconnect/gen/zoomconnect/v1"
	"github.com/zoomconnect/zoomconnect/server/auth"
	"github.com/zoomconnect/zoomconnect/server/connection"
	"github.com/zoomconnect/zoomconnect/server/errs"
	"google.golang.org/protobuf/types/known/timestamppb"
)

// ConnectionServer implements zoomconnect.v1.ConnectionService.
type ConnectionServer struct {
	zcv1.UnimplementedConnectionServiceServer
	Connections *connection.Service
}

// StartOrgConnection issues a shareable install link.
func (s *ConnectionServer) StartOrgConnection(ctx context.Context, req *zcv1.StartOrgConnectionRequest) (*zcv1.StartOrgConnectionResponse, error) {
	p, err := callerFor(ctx, req.GetOrgId(), (*auth.Principal).RequireOrgAdmin)
	if err != nil {
		return nil, err
	}
	res, err := s.Connections.StartOrg(ctx, req.GetOrgId(), p.Subject)
	if err != nil {
		return nil, err
	}
	return &zcv1.StartOrgConnectionResponse{
		InstallUrl: res.InstallURL,
		ExpiresAt:  timestamppb.New(res.ExpiresAt),
		Connection: orgConnectionProto(res.View),
	}, nil
}

// GetOrgConnection returns the organization's connection.
func (s *ConnectionServer) GetOrgConnection(ctx context.Context, req *zcv1.GetOrgConnectionRequest) (*zcv1.GetOrgConnectionResponse, error) {
	if _, err := callerFor(ctx, req.GetOrgId(), (*auth.Principal).RequireOrgMember); err != nil {
		return nil, err
	}
	v, err := s.Connections.GetOrg(ctx, req.GetOrgId())
	if err != nil {
		return nil, err
	}
	return &zcv1.GetOrgConnectionResponse{Connection: orgConnectionProto(v)}, nil
}

// DisconnectOrgConnection disconnects the organization from Zoom.
func (s *ConnectionServer) DisconnectOrgConnection(ctx context.Context, req *zcv1.DisconnectOrgConnectionRequest) (*zcv1.DisconnectOrgConnectionResponse, error) {
	p, err := callerFor(ctx, req.GetOrgId(), (*auth.Principal).RequireOrgAdmin)
	if err != nil {
		return nil, err
	}
	v, affected, err := s.Connections.DisconnectOrg(ctx, req.GetOrgId(), p.Subject)
	if err != nil {
		return nil, err
	}
	return &zcv1.DisconnectOrgConnectionResponse{Connection: orgConnectionProto(v), AffectedUsers: orgMembersProto(affected)}, nil
}

// StartPersonalConnection returns where the member connects their own Zoom.
func (s *ConnectionServer) StartPersonalConnection(ctx context.Context, req *zcv1.StartPersonalConnectionRequest) (*zcv1.StartPersonalConnectionResponse, error) {
	if _, err := s.person(ctx, req.GetOrgId(), req.GetUserId(), (*auth.Principal).RequireSelf, true); err != nil {
		return nil, err
	}
	url, expires, err := s.Connections.StartPersonal(ctx, req.GetOrgId(), req.GetUserId())
	if err != nil {
		return nil, err
	}
	return &zcv1.StartPersonalConnectionResponse{AuthorizeUrl: url, ExpiresAt: timestamppb.New(expires)}, nil
}

// DisconnectPersonalConnection removes the member's own Zoom connection.
func (s *ConnectionServer) DisconnectPersonalConnection(ctx context.Context, req *zcv1.DisconnectPersonalConnectionRequest) (*zcv1.DisconnectPersonalConnectionResponse, error) {
	p, err := s.person(ctx, req.GetOrgId(), req.GetUserId(), (*auth.Principal).RequireSelf, true)
	if err != nil {
		return nil, err
	}
	setup, err := s.Connections.DisconnectPersonal(ctx, req.GetOrgId(), req.GetUserId(), p.Subject)
	if err != nil {
		return nil, err
	}
	return &zcv1.DisconnectPersonalConnectionResponse{Setup: setupProto(setup)}, nil
}

// GetUserZoomSetup returns the member's setup page.
func (s *ConnectionServer) GetUserZoomSetup(ctx context.Context, req *zcv1.GetUserZoomSetupRequest) (*zcv1.GetUserZoomSetupResponse, error) {
	if _, err := s.person(ctx, req.GetOrgId(), req.GetUserId(), (*auth.Principal).RequireSelfOrOrgAdmin, false); err != nil {
		return nil, err
	}
	setup, err := s.Connections.UserSetup(ctx, req.GetOrgId(), req.GetUserId())
	if err != nil {
		return nil, err
	}
	return &zcv1.GetUserZoomSetupResponse{Setup: setupProto(setup)}, nil
}

// DetachFromOrgConnection detaches the member from the org connection.
func (s *ConnectionServer) DetachFromOrgConnection(ctx context.Context, req *zcv1.DetachFromOrgConnectionRequest) (*zcv1.DetachFromOrgConnectionResponse, error) {
	if _, err := s.person(ctx, req.GetOrgId(), req.GetUserId(), (*auth.Principal).RequireSelf, true); err != nil {
		return nil, err
	}
	setup, err := s.Connections.Detach(ctx, req.GetOrgId(), req.GetUserId())
	if err != nil {
		return nil, err
	}
	return &zcv1.DetachFromOrgConnectionResponse{Setup: setupProto(setup)}, nil
}

// ReattachToOrgConnection reattaches the member to the org connection.
func (s *ConnectionServer) ReattachToOrgConnection(ctx context.Context, req *zcv1.ReattachToOrgConnectionRequest) (*zcv1.ReattachToOrgConnectionResponse, error) {
	if _, err := s.person(ctx, req.GetOrgId(), req.GetUserId(), (*auth.Principal).RequireSelf, true); err != nil {
		return nil, err
	}
	setup, err := s.Connections.Reattach(ctx, req.GetOrgId(), req.GetUserId())
	if err != nil {
		return nil, err
	}
	return &zcv1.ReattachToOrgConnectionResponse{Setup: setupProto(setup)}, nil
}

// GetEffectiveZoomAccount answers which Zoom account serves a member.
func (s *ConnectionServer) GetEffectiveZoomAccount(ctx context.Context, req *zcv1.GetEffectiveZoomAccountRequest) (*zcv1.GetEffectiveZoomAccountResponse, error) {
	if _, err := s.person(ctx, req.GetOrgId(), req.GetUserId(), (*auth.Principal).RequireSelfOrInternal, false); err != nil {
		return nil, err
	}
	res, err := s.Connections.EffectiveAccounts(ctx, req.GetOrgId(), []string{req.GetUserId()})
	if err != nil {
		return nil, err
	}
	return &zcv1.GetEffectiveZoomAccountResponse{Account: effectiveProto(res[0])}, nil
}

// BatchGetEffectiveZoomAccounts resolves up to 100 members at once.
func (s *ConnectionServer) BatchGetEffectiveZoomAccounts(ctx context.Context, req *zcv1.BatchGetEffectiveZoomAccountsRequest) (*zcv1.BatchGetEffectiveZoomAccountsResponse, error) {
	if _, err := callerFor(ctx, req.GetOrgId(), internalOnly); err != nil {
		return nil, err
	}
	if len(req.GetUserIds()) == 0 {
		return nil, errs.InvalidArgument("user_ids", ReasonInvalidUserID, "user_ids must name at least one user")
	}
	for _, id := range req.GetUserIds() {
		if err := validateUserID(id); err != nil {
			return nil, err
		}
	}
	res, err := s.Connections.EffectiveAccounts(ctx, req.GetOrgId(), req.GetUserIds())
	if err != nil {
		return nil, err
	}
	out := &zcv1.BatchGetEffectiveZoomAccountsResponse{Accounts: make([]*zcv1.EffectiveZoomAccount, len(res))}
	for i, r := range res {
		out.Accounts[i] = effectiveProto(r)
	}
	return out, nil
}

// UpsertOrgMember creates or replaces a member.
func (s *ConnectionServer) UpsertOrgMember(ctx context.Context, req *zcv1.UpsertOrgMemberRequest) (*zcv1.UpsertOrgMemberResponse, error) {
	if _, err := callerFor(ctx, req.GetOrgId(), internalOnly); err != nil {
		return nil, err
	}
	if err := validateUserID(req.GetUserId()); err != nil {
		return nil, err
	}
	m := req.GetMember()
	if m.GetUserId() != "" && m.GetUserId() != req.GetUserId() {
		return nil, errs.InvalidArgument("member.user_id", ReasonUserIDMismatch,
			"member.user_id %q differs from the user id %q in the path", m.GetUserId(), req.GetUserId())
	}
	if _, err := mail.ParseAddress(m.GetEmail()); err != nil || len(m.GetEmail()) > 320 {
		return nil, errs.InvalidArgument("member.email", ReasonInvalidEmail, "member.email must be an email address")
	}
	stored, err := s.Connections.UpsertMember(ctx, req.GetOrgId(), connection.Member{UserID: req.GetUserId(), Email: m.GetEmail(), Name: m.GetName()})
	if err != nil {
		return nil, err
	}
	return &zcv1.UpsertOrgMemberResponse{Member: &zcv1.OrgMember{UserId: stored.UserID, Email: stored.Email, Name: stored.Name}}, nil
}

// RemoveOrgMember forgets a member.
func (s *ConnectionServer) RemoveOrgMember(ctx context.Context, req *zcv1.RemoveOrgMemberRequest) (*zcv1.RemoveOrgMemberResponse, error) {
	p, err := callerFor(ctx, req.GetOrgId(), internalOnly)
	if err != nil {
		return nil, err
	}
	if err := validateUserID(req.GetUserId()); err != nil {
		return nil, err
	}
	if err := s.Connections.RemoveMember(ctx, req.GetOrgId(), req.GetUserId(), p.Subject); err != nil {
		return nil, err
	}
	return &zcv1.RemoveOrgMemberResponse{}, nil
}

// ListConnectedUsers lists members with their Zoom status.
func (s *ConnectionServer) ListConnectedUsers(ctx context.Context, req *zcv1.ListConnectedUsersRequest) (*zcv1.ListConnectedUsersResponse, error) {
	if _, err := callerFor(ctx, req.GetOrgId(), (*auth.Principal).RequireOrgAdmin); err != nil {
		return nil, err
	}
	filter, err := rosterFilter(req.GetStatus(), req.GetType())
	if err != nil {
		return nil, err
	}
	if utf8.RuneCountInString(req.GetQuery()) > connection.MaxRosterQuery {
		return nil, errs.InvalidArgument("query", ReasonQueryTooLong, "query must be at most %d characters", connection.MaxRosterQuery)
	}
	filter.Query = req.GetQuery()
	rows, next, err := s.Connections.Roster(ctx, req.GetOrgId(), filter, req.GetPageSize(), req.GetPageToken())
	if err != nil {
		return nil, err
	}
	out := &zcv1.ListConnectedUsersResponse{NextPageToken: next}
	for _, row := range rows {
		out.Users = append(out.Users, connectedUserProto(row))
	}
	return out, nil
}

// GetOrgZoomSettings returns the org's Zoom settings.
func (s *ConnectionServer) GetOrgZoomSettings(ctx context.Context, req *zcv1.GetOrgZoomSettingsRequest) (*zcv1.GetOrgZoomSettingsResponse, error) {
	if _, err := callerFor(ctx, req.GetOrgId(), (*auth.Principal).RequireOrgAdminOrInternal); err != nil {
		return nil, err
	}
	settings, err := s.Connections.Settings(ctx, req.GetOrgId())
	if err != nil {
		return nil, err
	}
	return &zcv1.GetOrgZoomSettingsResponse{Settings: settingsProto(settings)}, nil
}

// UpdateOrgZoomSettings changes the settings named in the field mask.
func (s *ConnectionServer) UpdateOrgZoomSettings(ctx context.Context, req *zcv1.UpdateOrgZoomSettingsRequest) (*zcv1.UpdateOrgZoomSettingsResponse, error) {
	p, err := callerFor(ctx, req.GetOrgId(), (*auth.Principal).RequireOrgAdmin)
	if err != nil {
		return nil, err
	}
	if req.GetSettings() == nil {
		return nil, errs.InvalidArgument("settings", ReasonSettingsRequired, "settings must be set")
	}
	settings, err := s.Connections.UpdateSettings(ctx, req.GetOrgId(), p.Subject, settingsFromProto(req.GetSettings()), req.GetUpdateMask().GetPaths())
	if err != nil {
		return nil, err
	}
	return &zcv1.UpdateOrgZoomSettingsResponse{Settings: settingsProto(settings)}, nil
}

// ListActivity lists the org's activity log, newest first.
func (s *ConnectionServer) ListActivity(ctx context.Context, req *zcv1.ListActivityRequest) (*zcv1.ListActivityResponse, error) {
	if _, err := callerFor(ctx, req.GetOrgId(), (*auth.Principal).RequireOrgAdmin); err != nil {
		return nil, err
	}
	entries, next, err := s.Connections.ListActivity(ctx, req.GetOrgId(), req.GetPageSize(), req.GetPageToken())
	if err != nil {
		return nil, err
	}
	out := &zcv1.ListActivityResponse{NextPageToken: next}
	for _, e := range entries {
		out.Entries = append(out.Entries, activityProto(e))
	}
	return out, nil
}

// PreviewOrgDisconnect lists who would lose Zoom with a disconnect.
func (s *ConnectionServer) PreviewOrgDisconnect(ctx context.Context, req *zcv1.PreviewOrgDisconnectRequest) (*zcv1.PreviewOrgDisconnectResponse, error) {
	if _, err := callerFor(ctx, req.GetOrgId(), (*auth.Principal).RequireOrgAdmin); err != nil {
		return nil, err
	}
	members, next, err := s.Connections.PreviewDisconnect(ctx, req.GetOrgId(), req.GetPageSize(), req.GetPageToken())
	if err != nil {
		return nil, err
	}
	return &zcv1.PreviewOrgDisconnectResponse{AffectedUsers: orgMembersProto(members), NextPageToken: next}, nil
}

// WatchConnectionEvents streams connection changes to internal services.
func (s *ConnectionServer) WatchConnectionEvents(req *zcv1.WatchConnectionEventsRequest, stream zcv1.ConnectionService_WatchConnectionEventsServer) error {
	p, _ := auth.FromContext(stream.Context())
	if err := p.RequireInternal(); err != nil {
		return err
	}
	if req.GetOrgId() != "" {
		if err := CheckID("org_id", req.GetOrgId()); err != nil {
			return err
		}
	}
	return s.Connections.WatchEvents(stream.Context(), req.GetAfterEventId(), req.GetOrgId(), func(_ string, ev *zcv1.ConnectionEvent) error {
		return stream.Send(&zcv1.WatchConnectionEventsResponse{Event: ev})
	})
}

// callerFor validates orgID and returns the caller if require allows them.
func callerFor(ctx context.Context, orgID string, require func(*auth.Principal, string) error) (*auth.Principal, error) {
	if err := CheckID("org_id", orgID); err != nil {
		return nil, err
	}
	p, _ := auth.FromContext(ctx)
	if err := require(p, orgID); err != nil {
		return nil, err
	}
	return p, nil
}

func internalOnly(p *auth.Principal, _ string) error { return p.RequireInternal() }

// person validates a user-scoped request and authorizes it; a request that
// changes something (writes) also registers a person calling about
// themself as a member of their org. Reads never write.
func (s *ConnectionServer) person(ctx context.Context, orgID, userID string, require func(*auth.Principal, string, string) error, writes bool) (*auth.Principal, error) {
	if err := CheckID("org_id", orgID); err != nil {
		return nil, err
	}
	if err := validateUserID(userID); err != nil {
		return nil, err
	}
	p, _ := auth.FromContext(ctx)
	if err := require(p, orgID, userID); err != nil {
		return nil, err
	}
	if writes && !p.Internal && p.Subject == userID {
		if err := s.Connections.RegisterCaller(ctx, orgID, connection.Member{UserID: p.Subject, Email: p.Email, Name: p.Name}); err != nil {
			return nil, err
		}
	}
	return p, nil
}

func validateUserID(id string) error { return CheckID("user_id", id) }
