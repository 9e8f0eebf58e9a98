// Package auth authenticates callers (a bearer JWT in the "authorization"
// metadata) and answers the authorization questions the API asks: is this
// caller a member, an admin, the user in question, or an internal service?
//
// Every failure is an *errs.Error: Unauthenticated when the credential is
// missing or bad, PermissionDenied when a valid caller may not act.
package auth

import (
	"context"
	"fmt"

	zcv1 "github.com/zoomconnect/zoomconnect/gen/zoomconnect/v1"
	"github.com/zoomconnect/zoomconnect/server/errs"
)

// Reasons reported in google.rpc.ErrorInfo, for clients and tests to match.
const (
	ReasonTokenMissing     = zcv1.ErrorReason_ERROR_REASON_TOKEN_MISSING
	ReasonTokenMalformed   = zcv1.ErrorReason_ERROR_REASON_TOKEN_MALFORMED
	ReasonTokenExpired     = zcv1.ErrorReason_ERROR_REASON_TOKEN_EXPIRED
	ReasonTokenNotYetValid = zcv1.ErrorReason_ERROR_REASON_TOKEN_NOT_YET_VALID
	ReasonTokenInvalid     = zcv1.ErrorReason_ERROR_REASON_TOKEN_INVALID
	// ReasonTokenIssuerMismatch and ReasonTokenAudienceMismatch: a valid
	// token of the identity provider, for another issuer or service.
	ReasonTokenIssuerMismatch   = zcv1.ErrorReason_ERROR_REASON_TOKEN_ISSUER_MISMATCH
	ReasonTokenAudienceMismatch = zcv1.ErrorReason_ERROR_REASON_TOKEN_AUDIENCE_MISMATCH
	// ReasonTokenLifetimeTooLong: a person token lives longer than allowed.
	ReasonTokenLifetimeTooLong = zcv1.ErrorReason_ERROR_REASON_TOKEN_LIFETIME_TOO_LONG
	// ReasonAuthUnavailable: the signing keys cannot be fetched and none are
	// cached (UNAVAILABLE, not the caller's fault).
	ReasonAuthUnavailable = zcv1.ErrorReason_ERROR_REASON_AUTH_UNAVAILABLE

	ReasonWrongOrg           = zcv1.ErrorReason_ERROR_REASON_WRONG_ORG
	ReasonRoleRequired       = zcv1.ErrorReason_ERROR_REASON_ROLE_REQUIRED
	ReasonNotTheUser         = zcv1.ErrorReason_ERROR_REASON_NOT_THE_USER
	ReasonInternalOnly       = zcv1.ErrorReason_ERROR_REASON_INTERNAL_ONLY
	ReasonInternalNotAllowed = zcv1.ErrorReason_ERROR_REASON_INTERNAL_NOT_ALLOWED
)

// InternalScope marks a token as an internal service's: it has no org and
// may act on any org.
const InternalScope = "zoomconnect.internal"

// Role is a person's role in their org.
type Role string

const (
	RoleOwner  Role = "owner"
	RoleAdmin  Role = "admin"
	RoleMember Role = "member"
)

func (r Role) valid() bool {
	return r == RoleOwner || r == RoleAdmin || r == RoleMember
}

// ParseRole returns the role named s, so that tools minting tokens refuse
// what the service would refuse.
func ParseRole(s string) (Role, error) {
	if r := Role(s); r.valid() {
		return r, nil
	}
	return "", fmt.Errorf("%q is not a role; want owner, admin or member", s)
}

// Principal is an authenticated caller. Either Internal is true (a service;
// OrgID and Role are empty) or Subject, OrgID and Role are all set.
type Principal struct {
	Subject string
	OrgID   string
	Role    Role
	Email   string
	Name    string
	Scopes  []string
	// Internal marks a service token (scope zoomconnect.internal).
	Internal bool
}

type principalKey struct{}

// NewContext returns ctx carrying p.
func NewContext(ctx context.Context, p *Principal) context.Context {
	return context.WithValue(ctx, principalKey{}, p)
}

// FromContext returns the caller put there by the interceptors.
func FromContext(ctx context.Context) (*Principal, bool) {
	p, ok := ctx.Value(principalKey{}).(*Principal)
	return p, ok && p != nil
}

// The Require methods return nil or an *errs.Error. They are safe to call on
// a nil *Principal (no caller): that fails closed with Unauthenticated.

// RequireOrgMember allows any member of orgID, and internal services.
func (p *Principal) RequireOrgMember(orgID string) error {
	if p == nil {
		return errNoPrincipal()
	}
	if p.Internal {
		return nil
	}
	return p.requireOrg(orgID)
}

// RequireOrgAdmin allows an owner or admin of orgID. Internal services are
// refused: admin actions (connecting or disconnecting the org's Zoom
// account, changing its settings) must be traceable to a person. Services
// read through RequireOrgMember.
func (p *Principal) RequireOrgAdmin(orgID string) error {
	if p == nil {
		return errNoPrincipal()
	}
	if p.Internal {
		return errs.PermissionDenied(ReasonInternalNotAllowed,
			"only an owner or admin of org %q may do this; internal services may not", orgID)
	}
	if err := p.requireOrg(orgID); err != nil {
		return err
	}
	if p.Role != RoleOwner && p.Role != RoleAdmin {
		return errs.PermissionDenied(ReasonRoleRequired,
			"only an owner or admin of org %q may do this; your role is %s", orgID, p.Role)
	}
	return nil
}

// RequireOrgAdminOrInternal allows an owner or admin of orgID, or an
// internal service (reading settings that scheduling services act on).
func (p *Principal) RequireOrgAdminOrInternal(orgID string) error {
	if p != nil && p.Internal {
		return nil
	}
	return p.RequireOrgAdmin(orgID)
}

// RequireInternal allows internal services only.
func (p *Principal) RequireInternal() error {
	if p == nil {
		return errNoPrincipal()
	}
	if !p.Internal {
		return errs.PermissionDenied(ReasonInternalOnly, "only internal services may do this")
	}
	return nil
}

// RequireSelf allows only user userID of org orgID: a person acting on their
// own behalf (their own Zoom connection, for example).
func (p *Principal) RequireSelf(orgID, userID string) error {
	if p == nil {
		return errNoPrincipal()
	}
	if p.Internal {
		return errs.PermissionDenied(ReasonInternalNotAllowed,
			"only user %q of org %q may do this; internal services may not", userID, orgID)
	}
	if err := p.requireOrg(orgID); err != nil {
		return err
	}
	if p.Subject != userID {
		return errs.PermissionDenied(ReasonNotTheUser,
			"only user %q may do this for themselves; you are user %q", userID, p.Subject)
	}
	return nil
}

// RequireSelfOrOrgAdmin allows user userID of orgID, or an owner or admin of
// orgID acting for them (an admin may revoke a member's connection).
func (p *Principal) RequireSelfOrOrgAdmin(orgID, userID string) error {
	if p == nil {
		return errNoPrincipal()
	}
	if p.Internal {
		return errs.PermissionDenied(ReasonInternalNotAllowed,
			"only user %q or an owner or admin of org %q may do this; internal services may not", userID, orgID)
	}
	if err := p.requireOrg(orgID); err != nil {
		return err
	}
	if p.Subject != userID && p.Role != RoleOwner && p.Role != RoleAdmin {
		return errs.PermissionDenied(ReasonNotTheUser,
			"only user %q or an owner or admin of org %q may do this; you are user %q with role %s",
			userID, orgID, p.Subject, p.Role)
	}
	return nil
}

// RequireSelfOrInternal allows user userID of orgID, or an internal service
// acting for them (fetching the user's Zoom token, for example).
func (p *Principal) RequireSelfOrInternal(orgID, userID string) error {
	if p == nil {
		return errNoPrincipal()
	}
	if p.Internal {
		return nil
	}
	return p.RequireSelf(orgID, userID)
}

func (p *Principal) requireOrg(orgID string) error {
	if p.OrgID != orgID {
		return errs.PermissionDenied(ReasonWrongOrg,
			"only members of org %q may do this; your token is for org %q", orgID, p.OrgID)
	}
	return nil
}

func errNoPrincipal() error {
	return errs.Unauthenticated(ReasonTokenMissing, "this call requires a bearer token")
}
