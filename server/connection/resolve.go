package connection

import (
	"cmp"
	"context"
	"time"

	"github.com/zoomconnect/zoomconnect/server/errs"
	"github.com/zoomconnect/zoomconnect/server/store"
)

// Source is which connection serves a member.
type Source int

const (
	SourceNone Source = iota
	SourcePersonal
	SourceOrganization
)

// Why the resolver decided as it did (machine-readable).
const (
	WhyPersonalConnected      = "PERSONAL_CONNECTED"
	WhyOrgConnected           = "ORG_CONNECTED"
	WhyNoConnection           = "NO_CONNECTION"
	WhyOrgNeedsReconnect      = "ORG_NEEDS_RECONNECT"
	WhyUserNotInZoomAccount   = "USER_NOT_IN_ZOOM_ACCOUNT"
	WhyUserDetached           = "USER_DETACHED"
	WhyPersonalNeedsReconnect = "PERSONAL_NEEDS_RECONNECT"
	WhyOrgPending             = "ORG_PENDING"
)

// AccountRef names a connection and the Zoom user it would use.
type AccountRef struct {
	Source        Source
	State         store.ConnectionState
	Pending       bool
	ZoomUserID    string
	ZoomEmail     string
	ZoomAccountID string
}

// Resolution is the precedence resolver's answer for one member:
// personal > organization > none.
type Resolution struct {
	UserID string
	// Chosen is the connection that serves the member; Source is
	// SourceNone (and the rest describes what is missing) when none does.
	Chosen      AccountRef
	Why         string
	Explanation string
	// Shadowed is the usable org connection a personal one takes
	// precedence over.
	Shadowed *AccountRef
	// Fallback is the usable org connection when the chosen personal one
	// needs reconnecting.
	Fallback *AccountRef
	// Matching: the org connection serves the member by email while their
	// Zoom user is looked up in the org's account (see matching.go).
	Matching bool
	// needsMatch: the member's Zoom identity should be looked up (again).
	needsMatch bool
}

// orgOption is what the org connection offers one member.
type orgOption struct {
	ref      *AccountRef // nil when there is no org connection at all
	usable   bool
	matching bool
	why      string
	explain  string
}

func (s *Service) orgOptionFor(snap *store.OrgSnapshot, m *store.Member, now time.Time) (opt orgOption, needsMatch bool) {
	c := snap.Connection
	v := viewOf("", c, now)
	switch {
	case c == nil || (v.State == store.StateNotConnected && !v.Pending):
		return orgOption{why: WhyNoConnection, explain: "Neither a personal nor an organization Zoom connection exists."}, false
	case v.Pending && c.State != store.StateNeedsReconnect:
		return orgOption{ref: &AccountRef{Source: SourceOrganization, State: c.State, Pending: true}, why: WhyOrgPending,
			explain: "The organization's Zoom connection is waiting for a Zoom admin to approve the install link."}, false
	case c.State == store.StateNeedsReconnect:
		return orgOption{ref: &AccountRef{Source: SourceOrganization, State: c.State, ZoomAccountID: c.ZoomAccountID}, why: WhyOrgNeedsReconnect,
			explain: "The organization's Zoom connection needs an owner or admin to reconnect it."}, false
	}
	ref := &AccountRef{Source: SourceOrganization, State: store.StateActive, ZoomAccountID: c.ZoomAccountID}
	detachAllowed := snap.Settings != nil && snap.Settings.AllowUsersToDetach
	switch {
	case m != nil && m.Detached && detachAllowed:
		return orgOption{ref: ref, why: WhyUserDetached, explain: "The member detached from the organization's Zoom connection."}, false
	case m == nil || m.Email == "":
		return orgOption{ref: ref, why: WhyUserNotInZoomAccount,
			explain: "The service does not know this member's email, so it cannot find their Zoom user; register the member (UpsertOrgMember)."}, false
	case m.Match != nil && m.Match.ZoomAccountID == c.ZoomAccountID && m.Match.NotInAccount:
		return orgOption{ref: ref, why: WhyUserNotInZoomAccount,
			explain: "The member (" + m.Email + ") has no Zoom user in the organization's Zoom account " + c.ZoomAccountID +
				"; a Zoom admin must add them to the account, or the member connects a personal Zoom account."}, s.matchStale(m, c)
	}
	ref.ZoomEmail = m.Email
	matched := m.Match != nil && m.Match.ZoomAccountID == c.ZoomAccountID
	if matched {
		ref.ZoomUserID, ref.ZoomEmail = m.Match.ZoomUserID, cmp.Or(m.Match.ZoomEmail, m.Email)
	}
	return orgOption{ref: ref, usable: true, matching: !matched, why: WhyOrgConnected, explain: "The organization's Zoom connection serves the member."}, s.matchStale(m, c)
}

// resolve applies the precedence rules to one member's records.
func (s *Service) resolve(snap *store.OrgSnapshot, u store.UserRecords, now time.Time) Resolution {
	org, needsMatch := s.orgOptionFor(snap, u.Member, now)
	r := Resolution{UserID: u.UserID, needsMatch: needsMatch}
	if p := u.Personal; p != nil && p.State != store.StateNotConnected {
		r.Chosen = AccountRef{Source: SourcePersonal, State: p.State, ZoomUserID: p.ZoomUserID, ZoomEmail: p.ZoomEmail, ZoomAccountID: p.ZoomAccountID}
		if p.State == store.StateActive {
			r.Why, r.Explanation = WhyPersonalConnected, "The member's personal Zoom account takes precedence."
			if org.usable {
				r.Shadowed = org.ref
			}
			return r
		}
		r.Why, r.Explanation = WhyPersonalNeedsReconnect, "The member's personal Zoom connection needs reconnecting."
		if org.usable {
			r.Fallback = org.ref
			r.Explanation += " Until then the organization's Zoom connection can serve them."
		}
		return r
	}
	r.Why, r.Explanation = org.why, org.explain
	switch {
	case org.usable:
		r.Chosen, r.Matching = *org.ref, org.matching
	case org.ref != nil:
		r.Chosen = AccountRef{Source: SourceNone, State: org.ref.State, Pending: org.ref.Pending, ZoomAccountID: org.ref.ZoomAccountID}
	default:
		r.Chosen = AccountRef{Source: SourceNone, State: store.StateNotConnected}
	}
	return r
}

// EffectiveAccounts resolves members of one org from one store snapshot. It
// never calls Zoom: stale identity matches are refreshed in the background.
func (s *Service) EffectiveAccounts(ctx context.Context, orgID string, userIDs []string) ([]Resolution, error) {
	if len(userIDs) > store.MaxSnapshotUsers {
		return nil, errs.InvalidArgument("user_ids", ReasonTooManyUsers, "at most %d users per call (got %d)", store.MaxSnapshotUsers, len(userIDs))
	}
	snap, err := s.cfg.Store.Snapshot(ctx, orgID, userIDs)
	if err != nil {
		return nil, err
	}
	now := s.cfg.Now()
	out := make([]Resolution, len(snap.Users))
	for i, u := range snap.Users {
		out[i] = s.resolve(snap, u, now)
		if out[i].needsMatch {
			s.nudge(orgID, u.UserID)
		}
	}
	return out, nil
}

// Setup is what a member's Zoom setup page shows: only the personal
// connection when there is one, else the org connection as it applies.
type Setup struct {
	OrgID, UserID string
	Personal      *store.PersonalConnection
	Org           *OrgView
	Resolution    Resolution
	Detached      bool
	CanDetach     bool
}

// UserSetup returns a member's setup page.
func (s *Service) UserSetup(ctx context.Context, orgID, userID string) (*Setup, error) {
	snap, err := s.cfg.Store.Snapshot(ctx, orgID, []string{userID})
	if err != nil {
		return nil, err
	}
	now := s.cfg.Now()
	u := snap.Users[0]
	setup := &Setup{OrgID: orgID, UserID: userID, Resolution: s.resolve(snap, u, now),
		CanDetach: snap.Settings != nil && snap.Settings.AllowUsersToDetach}
	if u.Member != nil {
		setup.Detached = u.Member.Detached
	}
	switch {
	case u.Personal != nil:
		setup.Personal = u.Personal
	case snap.Connection != nil:
		v := viewOf(orgID, snap.Connection, now)
		setup.Org = &v
	}
	return setup, nil
}
