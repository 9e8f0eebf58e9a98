package connection

import (
	"cmp"
	"context"
	"strings"

	"github.com/zoomconnect/zoomconnect/server/store"
)

// Member is who the service knows as an org member.
type Member struct {
	UserID, Email, Name string
}

// UpsertMember creates or replaces the service's view of a member. A new
// email drops the member's Zoom identity match and queues the lookup of
// the new one (see matching.go), in the same commit; the lookup runs in
// the background, never on the caller's time.
func (s *Service) UpsertMember(ctx context.Context, orgID string, m Member) (Member, error) {
	now := s.cfg.Now()
	err := s.cfg.Effects.Update(ctx, orgID, func(tx store.OrgTx) error {
		cur, err := tx.Member(m.UserID)
		if err != nil {
			return err
		}
		if cur == nil {
			cur = &store.Member{OrgID: orgID, UserID: m.UserID}
		}
		if !strings.EqualFold(cur.Email, m.Email) {
			cur.Match = nil
			if m.Email != "" {
				tx.AddEffect(store.Effect{Index: []store.IndexChange{queueMatch(orgID, m.UserID)}})
			}
		}
		cur.Email, cur.Name, cur.UpdatedAt = m.Email, m.Name, now
		tx.SetMember(cur)
		return nil
	})
	if err != nil {
		return Member{}, err
	}
	s.nudge(orgID, m.UserID)
	return m, nil
}

// RegisterCaller records a person calling about their own org, so that
// members are known even before an internal service registers them. It
// writes only when something changed.
func (s *Service) RegisterCaller(ctx context.Context, orgID string, m Member) error {
	snap, err := s.cfg.Store.Snapshot(ctx, orgID, []string{m.UserID})
	if err != nil {
		return err
	}
	cur := snap.Users[0].Member
	if cur != nil && (m.Email == "" || strings.EqualFold(cur.Email, m.Email)) && (m.Name == "" || cur.Name == m.Name) {
		return nil
	}
	if cur != nil {
		m.Email, m.Name = cmp.Or(m.Email, cur.Email), cmp.Or(m.Name, cur.Name)
	}
	_, err = s.UpsertMember(ctx, orgID, m)
	return err
}

// RemoveMember forgets a member: their record and their personal
// connection (revoked at Zoom, best effort).
func (s *Service) RemoveMember(ctx context.Context, orgID, userID, actor string) error {
	if _, err := s.DisconnectPersonal(ctx, orgID, userID, actor); err != nil {
		return err
	}
	return s.cfg.Store.Update(ctx, orgID, func(tx store.OrgTx) error {
		tx.DeleteMember(userID)
		return nil
	})
}
