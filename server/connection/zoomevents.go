package connection

import (
	"context"
	"errors"
	"strconv"
	"strings"

	zcv1 "github.com/zoomconnect/zoomconnect/gen/zoomconnect/v1"
	"github.com/zoomconnect/zoomconnect/server/store"
	"github.com/zoomconnect/zoomconnect/server/zoom"
)

// The changes Zoom's events make (package zoomevents decides when), and
// the lookups they route by.

// Deauthorize handles the app's removal from a Zoom account (org app) or
// by a user (user app) by deleting what the service holds from that grant:
// the connection with its tokens and Zoom identity, and for the org app the
// members' Zoom user matches in that account. Zoom has deprecated its Data
// Compliance API (and user_data_retention), so nothing is confirmed to it.
func (s *Service) Deauthorize(ctx context.Context, app zoom.App, accountID, zoomUserID string) error {
	if app == zoom.UserApp {
		return s.forIndexed(ctx, indexZoomUser, zoomUserID, "personal", func(orgID, userID string) error {
			return s.dropPersonal(ctx, orgID, userID, zoomUserID)
		})
	}
	if accountID == "" {
		return nil
	}
	orgs, err := s.indexMembers(ctx, indexAccount, accountID)
	if err != nil {
		return err
	}
	for _, orgID := range orgs {
		// Matches first: once the connection reads NOT_CONNECTED, all is gone
		// (no new match can be made meanwhile: Zoom revoked the tokens).
		if err := s.forgetMatches(ctx, orgID, accountID); err != nil {
			return err
		}
		if err := s.breakOrg(ctx, orgID, func(c *store.OrgConnection) bool { return c.ZoomAccountID == accountID },
			store.StateNotConnected, store.ReasonDeauthorized); err != nil {
			return err
		}
	}
	return nil
}

// forgetMatches deletes the Zoom users (id, email) the org's members were
// matched to in a Zoom account that deauthorized the app.
func (s *Service) forgetMatches(ctx context.Context, orgID, accountID string) error {
	after := ""
	for {
		page, err := s.cfg.Store.ListMembers(ctx, orgID, after, maxPageSize)
		if err != nil || len(page) == 0 {
			return err
		}
		for _, u := range page {
			if u.Member == nil || u.Member.Match == nil || u.Member.Match.ZoomAccountID != accountID {
				continue
			}
			userID, zoomUserID := u.Member.UserID, u.Member.Match.ZoomUserID
			err := s.cfg.Effects.Update(ctx, orgID, func(tx store.OrgTx) error {
				m, err := tx.Member(userID)
				if err != nil || m == nil || m.Match == nil || m.Match.ZoomAccountID != accountID {
					return err
				}
				m.Match = nil
				tx.SetMember(m)
				if unindex := indexChange(true, indexZoomUser, zoomUserID, "member/"+orgID+"/"+userID); unindex != nil {
					tx.AddEffect(store.Effect{Index: unindex})
				}
				return nil
			})
			if err != nil {
				return err
			}
		}
		after = page[len(page)-1].UserID
	}
}

// What a deauthorization deletes, as the activity log states it.
const (
	deletedOnPersonalDeauth = "Zoom tokens; the member's Zoom user id, email and account"
	deletedOnOrgDeauth      = "Zoom tokens; the Zoom account and installer details; members' Zoom user matches in the account"
)

// OrgsInstalledBy lists the orgs whose connection zoomUserID installed.
func (s *Service) OrgsInstalledBy(ctx context.Context, zoomUserID string) ([]string, error) {
	return s.indexMembers(ctx, indexInstaller, zoomUserID)
}

// ConnectedOrgs lists the orgs with an org connection.
func (s *Service) ConnectedOrgs(ctx context.Context) ([]string, error) {
	return s.indexMembers(ctx, indexOrgs, orgsConnected)
}

// InstallerLost makes the org connection need reconnecting when its
// installer is zoomUserID: they left the account, or are no longer an
// Owner or Admin.
func (s *Service) InstallerLost(ctx context.Context, orgID, zoomUserID string, reason store.StateReason) error {
	return s.breakOrg(ctx, orgID, func(c *store.OrgConnection) bool { return c.InstallerZoomUserID == zoomUserID },
		store.StateNeedsReconnect, reason)
}

// ForgetZoomUser drops (or, for a removed Zoom user, settles as "not in
// the account") the members' identity matches naming zoomUserID.
func (s *Service) ForgetZoomUser(ctx context.Context, zoomUserID string, removed bool) error {
	return s.forIndexed(ctx, indexZoomUser, zoomUserID, "member", func(orgID, userID string) error {
		return s.dropMatch(ctx, orgID, userID, zoomUserID, removed)
	})
}

// dropPersonal removes a personal connection Zoom deauthorized.
func (s *Service) dropPersonal(ctx context.Context, orgID, userID, zoomUserID string) error {
	now := s.cfg.Now()
	return s.cfg.Effects.Update(ctx, orgID, func(tx store.OrgTx) error {
		p, err := tx.Personal(userID)
		if err != nil || p == nil || p.ZoomUserID != zoomUserID {
			return err
		}
		tx.DeletePersonal(userID)
		tx.AppendActivity(store.ActivityEntry{Time: now, Kind: ActivityPersonalDisconnected, Actor: ActorZoom, UserID: userID,
			Details: map[string]string{"reason": string(store.ReasonDeauthorized), "zoom_account_id": p.ZoomAccountID,
				"deleted": deletedOnPersonalDeauth}})
		tx.AddEffect(s.effect(change{kind: zcv1.ConnectionEventType_CONNECTION_EVENT_TYPE_DISCONNECTED, orgID: orgID, userID: userID,
			state: store.StateNotConnected, reason: store.ReasonDeauthorized, actor: ActorZoom},
			indexChange(true, indexZoomUser, zoomUserID, "personal/"+orgID+"/"+userID)))
		return nil
	})
}

// breakOrg moves the org connection, if match(it) holds, to state with
// reason: tokens are deleted (NOT_CONNECTED) or kept unusable
// (NEEDS_RECONNECT), the activity log and the event stream say so, and the
// event lists the members who lose Zoom.
func (s *Service) breakOrg(ctx context.Context, orgID string, match func(*store.OrgConnection) bool, state store.ConnectionState, reason store.StateReason) error {
	pre, err := store.GetOrgConnection(ctx, s.cfg.Store, orgID)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return err
	}
	affected := s.affectedBy(ctx, orgID, pre)
	now := s.cfg.Now()
	var before *store.OrgConnection
	err = s.cfg.Effects.Update(ctx, orgID, func(tx store.OrgTx) error {
		before = nil
		c, err := tx.OrgConnection()
		if err != nil || c == nil || c.State == store.StateNotConnected || !match(c) {
			return err
		}
		if c.State == state && c.Reason == reason {
			return nil
		}
		prev := *c
		before = &prev
		c.State, c.Reason, c.UpdatedAt, c.SealedTokens = state, reason, now, nil
		if state == store.StateNotConnected {
			*c = store.OrgConnection{OrgID: orgID, State: state, Reason: reason, UpdatedAt: now}
		}
		kind := ActivityOrgNeedsReconnect
		if state == store.StateNotConnected {
			kind = ActivityOrgDisconnected
		}
		tx.SetOrgConnection(c)
		details := map[string]string{"reason": string(reason), "zoom_account_id": before.ZoomAccountID}
		if reason == store.ReasonDeauthorized {
			details["deleted"] = deletedOnOrgDeauth
		}
		tx.AppendActivity(store.ActivityEntry{Time: now, Kind: kind, Actor: ActorZoom, Details: details})
		event := zcv1.ConnectionEventType_CONNECTION_EVENT_TYPE_NEEDS_RECONNECT
		var unindex []store.IndexChange
		if state == store.StateNotConnected {
			event = zcv1.ConnectionEventType_CONNECTION_EVENT_TYPE_DISCONNECTED
			unindex = orgIndexes(true, orgID, before.ZoomAccountID, before.InstallerZoomUserID)
		}
		tx.AddEffect(s.effect(change{kind: event, orgID: orgID, state: state, reason: reason, actor: ActorZoom, affected: affected}, unindex))
		return nil
	})
	if err != nil || before == nil {
		return err
	}
	s.log.WarnContext(ctx, "Zoom took the organization connection away", "org_id", orgID, "state", string(state), "reason", string(reason))
	return nil
}

// dropMatch forgets (or, for a removed Zoom user, settles as "not in the
// account") a member's Zoom identity.
func (s *Service) dropMatch(ctx context.Context, orgID, userID, zoomUserID string, removed bool) error {
	now := s.cfg.Now()
	return s.cfg.Store.Update(ctx, orgID, func(tx store.OrgTx) error {
		m, err := tx.Member(userID)
		if err != nil || m == nil || m.Match == nil || m.Match.ZoomUserID != zoomUserID {
			return err
		}
		if removed {
			m.Match = &store.ZoomMatch{ZoomAccountID: m.Match.ZoomAccountID, NotInAccount: true, CheckedAt: now}
		} else {
			m.Match = nil
		}
		tx.SetMember(m)
		return nil
	})
}

// MeetingDeleted marks the bookings' meetings Zoom deleted as gone.
func (s *Service) MeetingDeleted(ctx context.Context, zoomMeetingID string) error {
	id, err := strconv.ParseInt(zoomMeetingID, 10, 64)
	if err != nil {
		return nil
	}
	refs, err := s.indexMembers(ctx, indexMeeting, zoomMeetingID)
	if err != nil {
		return err
	}
	for _, ref := range refs {
		orgID, bookingID, ok := strings.Cut(ref, "/")
		if !ok {
			continue
		}
		err := s.cfg.Store.Update(ctx, orgID, func(tx store.OrgTx) error {
			m, err := tx.Meeting(bookingID)
			if err != nil || m == nil || m.ZoomMeetingID != id || m.Gone {
				return err
			}
			m.Gone, m.UpdatedAt = true, s.cfg.Now()
			tx.SetMeeting(m)
			return nil
		})
		if err != nil {
			return err
		}
	}
	return nil
}

// forIndexed calls f for each "kind/org/user" entry of index[key].
func (s *Service) forIndexed(ctx context.Context, index, key, kind string, f func(orgID, userID string) error) error {
	if key == "" {
		return nil
	}
	refs, err := s.indexMembers(ctx, index, key)
	if err != nil {
		return err
	}
	for _, ref := range refs {
		parts := strings.Split(ref, "/")
		if len(parts) != 3 || parts[0] != kind {
			continue
		}
		if err := f(parts[1], parts[2]); err != nil {
			return err
		}
	}
	return nil
}
