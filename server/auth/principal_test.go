package auth

import (
	"context"
	"testing"

	"github.com/zoomconnect/zoomconnect/server/errs"
)

func TestContext(t *testing.T) {
	if p, ok := FromContext(context.Background()); ok || p != nil {
		t.Fatal("empty context has a Principal")
	}
	if _, ok := FromContext(NewContext(context.Background(), nil)); ok {
		t.Fatal("a nil Principal counts as a caller")
	}
	want := &Principal{Subject: "u"}
	if p, ok := FromContext(NewContext(context.Background(), want)); !ok || p != want {
		t.Fatalf("FromContext = %v, %v", p, ok)
	}
}

func TestAuthorizationMatrix(t *testing.T) {
	var (
		owner    = &Principal{Subject: "owner-1", OrgID: "org-1", Role: RoleOwner}
		admin    = &Principal{Subject: "admin-1", OrgID: "org-1", Role: RoleAdmin}
		member   = &Principal{Subject: "user-1", OrgID: "org-1", Role: RoleMember}
		stranger = &Principal{Subject: "user-1", OrgID: "org-2", Role: RoleOwner} // same user id, other org
		internal = &Principal{Subject: "scheduler", Internal: true, Scopes: []string{InternalScope}}
		nobody   *Principal
	)
	const ok errs.Reason = 0
	checks := []struct {
		name  string
		check func(*Principal) error
		want  map[*Principal]errs.Reason // reason per caller
	}{
		{"RequireOrgMember(org-1)", func(p *Principal) error { return p.RequireOrgMember("org-1") },
			map[*Principal]errs.Reason{owner: ok, admin: ok, member: ok, stranger: ReasonWrongOrg, internal: ok, nobody: ReasonTokenMissing}},
		{"RequireOrgAdmin(org-1)", func(p *Principal) error { return p.RequireOrgAdmin("org-1") },
			map[*Principal]errs.Reason{owner: ok, admin: ok, member: ReasonRoleRequired, stranger: ReasonWrongOrg, internal: ReasonInternalNotAllowed, nobody: ReasonTokenMissing}},
		{"RequireOrgAdminOrInternal(org-1)", func(p *Principal) error { return p.RequireOrgAdminOrInternal("org-1") },
			map[*Principal]errs.Reason{owner: ok, admin: ok, member: ReasonRoleRequired, stranger: ReasonWrongOrg, internal: ok, nobody: ReasonTokenMissing}},
		{"RequireInternal", func(p *Principal) error { return p.RequireInternal() },
			map[*Principal]errs.Reason{owner: ReasonInternalOnly, admin: ReasonInternalOnly, member: ReasonInternalOnly, stranger: ReasonInternalOnly, internal: ok, nobody: ReasonTokenMissing}},
		{"RequireSelf(org-1, user-1)", func(p *Principal) error { return p.RequireSelf("org-1", "user-1") },
			map[*Principal]errs.Reason{owner: ReasonNotTheUser, admin: ReasonNotTheUser, member: ok, stranger: ReasonWrongOrg, internal: ReasonInternalNotAllowed, nobody: ReasonTokenMissing}},
		{"RequireSelfOrOrgAdmin(org-1, user-1)", func(p *Principal) error { return p.RequireSelfOrOrgAdmin("org-1", "user-1") },
			map[*Principal]errs.Reason{owner: ok, admin: ok, member: ok, stranger: ReasonWrongOrg, internal: ReasonInternalNotAllowed, nobody: ReasonTokenMissing}},
		{"RequireSelfOrOrgAdmin(org-1, user-2)", func(p *Principal) error { return p.RequireSelfOrOrgAdmin("org-1", "user-2") },
			map[*Principal]errs.Reason{owner: ok, admin: ok, member: ReasonNotTheUser, stranger: ReasonWrongOrg, internal: ReasonInternalNotAllowed, nobody: ReasonTokenMissing}},
		{"RequireSelfOrInternal(org-1, user-1)", func(p *Principal) error { return p.RequireSelfOrInternal("org-1", "user-1") },
			map[*Principal]errs.Reason{owner: ReasonNotTheUser, admin: ReasonNotTheUser, member: ok, stranger: ReasonWrongOrg, internal: ok, nobody: ReasonTokenMissing}},
	}
	names := map[*Principal]string{owner: "owner", admin: "admin", member: "member", stranger: "other org", internal: "internal", nobody: "nil"}
	for _, c := range checks {
		for p, reason := range c.want {
			t.Run(c.name+"/"+names[p], func(t *testing.T) {
				err := c.check(p)
				switch {
				case reason == ok:
					if err != nil {
						t.Fatalf("denied: %v", err)
					}
				case reason == ReasonTokenMissing:
					wantReason(t, err, errs.KindUnauthenticated, reason)
				default:
					wantReason(t, err, errs.KindPermissionDenied, reason)
					if errs.As(err).Message == "" {
						t.Fatal("no message")
					}
				}
			})
		}
	}
}
