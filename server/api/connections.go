// Package api holds the gRPC handlers. Each handler validates its request,
// authorizes the caller, calls one domain function and converts the answer;
// errors pass unchanged to the interceptor that maps them (errs.ToStatus).
package api

import (
	"context"

	zcv1 "github.com/zoomconnect/zoomconnect/gen/zoomconnect/v1"
	"github.com/zoomconnect/zoomconnect/server/auth"
	"github.com/zoomconnect/zoomconnect/server/connection"
	"github.com/zoomconnect/zoomconnect/server/errs"
	"google.golang.org/protobuf/types/known/timestamppb"
)

// ConnectionServer implements zoomconnect.v1.ConnectionService. RPCs of later
// milestones answer UNIMPLEMENTED through the embedded type.
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
	v, err := s.Connections.DisconnectOrg(ctx, req.GetOrgId(), p.Subject)
	if err != nil {
		return nil, err
	}
	return &zcv1.DisconnectOrgConnectionResponse{Connection: orgConnectionProto(v)}, nil
}

// callerFor validates orgID and returns the caller if require allows them.
func callerFor(ctx context.Context, orgID string, require func(*auth.Principal, string) error) (*auth.Principal, error) {
	if err := connection.ValidateID(orgID); err != nil {
		return nil, errs.InvalidArgument("org_id", "INVALID_ORG_ID", "org_id %v", err)
	}
	p, _ := auth.FromContext(ctx)
	if err := require(p, orgID); err != nil {
		return nil, err
	}
	return p, nil
}
