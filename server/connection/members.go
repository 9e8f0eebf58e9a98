package connection

import (
	"cmp"
	"context"
	"errors"
	"strings"
	"time"

	"github.com/zoomconnect/zoomconnect/server/store"
	"github.com/zoomconnect/zoomconnect/server/zoom"
)

// Member is who the service knows as an org member.
type Member struct {
	UserID, Email, Name string
}

// UpsertMember creates or replaces the service's view of a member. A changed
// email drops the member's Zoom identity match, which is looked up again
// right away while the org is connected (off the booking hot path).
func (s *Service) UpsertMember(ctx context.Context, orgID string, m Member) (Member, error) {
	now := s.cfg.Now()
	err := s.cfg.Store.Update(ctx, orgID, func(tx store.OrgTx) error {
		cur, err := tx.Member(m.UserID)
		if err != nil {
			return err
		}
		if cur == nil {
			cur = &store.Member{OrgID: orgID, UserID: m.UserID}
		}
		if !strings.EqualFold(cur.Email, m.Email) {
			cur.Match = nil
		}
		cur.Email, cur.Name, cur.UpdatedAt = m.Email, m.Name, now
		tx.SetMember(cur)
		return nil
	})
	if err != nil {
		return Member{}, err
	}
	s.matchMember(ctx, orgID, m.UserID)
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

// matchStale reports whether a member's Zoom identity must be looked up
// (again) in the org's account.
func (s *Service) matchStale(m *store.Member, conn *store.OrgConnection) bool {
	if m == nil || m.Email == "" || conn == nil || conn.State != store.StateActive {
		return false
	}
	return m.Match == nil || m.Match.ZoomAccountID != conn.ZoomAccountID || s.cfg.Now().Sub(m.Match.CheckedAt) > s.cfg.MatchTTL
}

// matchMember looks the member up in the org's Zoom account by email and
// stores the result. Failures are logged: the match stays unknown and is
// retried later; they never fail the caller.
func (s *Service) matchMember(ctx context.Context, orgID, userID string) {
	_, _, _ = s.matches.Do(orgID+"\x00"+userID, func() (any, error) {
		ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 15*time.Second)
		defer cancel()
		snap, err := s.cfg.Store.Snapshot(ctx, orgID, []string{userID})
		if err != nil {
			return nil, err
		}
		m := snap.Users[0].Member
		if !s.matchStale(m, snap.Connection) {
			return nil, nil
		}
		token, err := s.AccessToken(ctx, ConnRef{OrgID: orgID}, "")
		if err != nil {
			s.log.WarnContext(ctx, "cannot look up member in Zoom", "org_id", orgID, "user_id", userID, "error", err)
			return nil, err
		}
		match := &store.ZoomMatch{ZoomAccountID: snap.Connection.ZoomAccountID, CheckedAt: s.cfg.Now()}
		u, err := s.cfg.Zoom.GetUser(ctx, token, m.Email)
		var ae *zoom.APIError
		switch {
		case errors.As(err, &ae) && ae.Code == zoom.CodeUserNotFound:
			match.NotInAccount = true
		case err != nil:
			s.log.WarnContext(ctx, "Zoom user lookup failed", "org_id", orgID, "user_id", userID, "error", err)
			return nil, err
		case u.AccountID != "" && u.AccountID != snap.Connection.ZoomAccountID:
			match.NotInAccount = true
		default:
			match.ZoomUserID, match.ZoomEmail = u.ID, u.Email
		}
		err = s.cfg.Effects.Update(ctx, orgID, func(tx store.OrgTx) error {
			cur, err := tx.Member(userID)
			if err != nil || cur == nil || !strings.EqualFold(cur.Email, m.Email) {
				return err // gone or changed meanwhile: that change matches anew
			}
			cur.Match = match
			tx.SetMember(cur)
			if changes := indexChange(false, indexZoomUser, match.ZoomUserID, "member/"+orgID+"/"+userID); changes != nil {
				tx.AddEffect(store.Effect{Index: changes})
			}
			return nil
		})
		return nil, err
	})
}

// matchInBackground refreshes a member's match off the request path,
// dropping the work when too much is already running (the next resolve
// asks again).
func (s *Service) matchInBackground(orgID, userID string) {
	select {
	case s.background <- struct{}{}:
	default:
		return
	}
	go func() {
		defer func() { <-s.background }()
		s.matchMember(context.Background(), orgID, userID)
	}()
}

// matchAllInBackground looks up every known member after the org connects,
// a page at a time, without holding the caller.
func (s *Service) matchAllInBackground(orgID string) {
	go func() {
		ctx := context.Background()
		after := ""
		for {
			page, err := s.cfg.Store.ListMembers(ctx, orgID, after, 100)
			if err != nil {
				s.log.WarnContext(ctx, "listing members to match them in Zoom", "org_id", orgID, "error", err)
				return
			}
			for _, u := range page {
				s.background <- struct{}{}
				s.matchMember(ctx, orgID, u.UserID)
				<-s.background
			}
			if len(page) < 100 {
				return
			}
			after = page[len(page)-1].UserID
		}
	}()
}
