package connection

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	zcv1 "github.com/zoomconnect/zoomconnect/gen/zoomconnect/v1"
	"github.com/zoomconnect/zoomconnect/server/errs"
	"github.com/zoomconnect/zoomconnect/server/store"
	"github.com/zoomconnect/zoomconnect/server/webhook"
	"github.com/zoomconnect/zoomconnect/server/zoom"
)

// flexID decodes an id Zoom sends as a string in some events and as a
// number in others.
type flexID string

func (f *flexID) UnmarshalJSON(b []byte) error {
	var s string
	if json.Unmarshal(b, &s) == nil {
		*f = flexID(s)
		return nil
	}
	var n json.Number
	if err := json.Unmarshal(b, &n); err != nil {
		return fmt.Errorf("id is neither a string nor a number")
	}
	*f = flexID(n.String())
	return nil
}

type zoomPayload struct {
	AccountID string `json:"account_id"`
	UserID    string `json:"user_id"`
	ClientID  string `json:"client_id"`
	// UserDataRetention is documented as a boolean but sent as a string.
	UserDataRetention json.RawMessage `json:"user_data_retention"`
	Object            struct {
		ID flexID `json:"id"`
	} `json:"object"`
}

// ProcessWebhook applies one queued, verified Zoom event. An error means
// "try again later" (Zoom or the store is down); events that name nothing
// the service knows are done.
func (s *Service) ProcessWebhook(ctx context.Context, body []byte) error {
	env, err := webhook.Parse(body)
	if err != nil {
		return nil // verified before queueing; nothing to retry
	}
	var p zoomPayload
	if err := json.Unmarshal(env.Payload, &p); err != nil {
		s.log.WarnContext(ctx, "ignoring a Zoom event with an unexpected payload", "event", env.Event, "error", err)
		return nil
	}
	if handle, ok := zoomEventHandlers[env.Event]; ok {
		return handle(s, ctx, p, env.Payload)
	}
	return nil
}

// zoomEventHandlers are the Zoom events the service acts on, each with
// what it does: the one list, which also decides which events the webhook
// endpoint queues (HandlesZoomEvent), so that no event is acknowledged and
// then dropped.
var zoomEventHandlers = map[string]func(s *Service, ctx context.Context, p zoomPayload, raw json.RawMessage) error{
	"app_deauthorized": func(s *Service, ctx context.Context, p zoomPayload, raw json.RawMessage) error {
		if err := s.deauthorized(ctx, p); err != nil {
			return err
		}
		s.confirmCompliance(ctx, p, raw)
		return nil
	},
	"user.updated":       userChanged(false),
	"user.deactivated":   userChanged(true),
	"user.deleted":       userChanged(true),
	"user.disassociated": userChanged(true),
	"meeting.deleted": func(s *Service, ctx context.Context, p zoomPayload, _ json.RawMessage) error {
		return s.meetingDeleted(ctx, string(p.Object.ID))
	},
}

// userChanged handles an event about a Zoom user; removed: the user is
// gone from the account.
func userChanged(removed bool) func(s *Service, ctx context.Context, p zoomPayload, _ json.RawMessage) error {
	return func(s *Service, ctx context.Context, p zoomPayload, _ json.RawMessage) error {
		return s.installerChanged(ctx, string(p.Object.ID), removed)
	}
}

// HandlesZoomEvent reports whether ProcessWebhook acts on a Zoom event.
func HandlesZoomEvent(event string) bool {
	_, ok := zoomEventHandlers[event]
	return ok
}

// deauthorized handles the app's removal from a Zoom account (org app) or
// by a user (user app): the connection and its tokens are deleted, as
// Zoom's data-compliance rules ask.
func (s *Service) deauthorized(ctx context.Context, p zoomPayload) error {
	app, ok := s.cfg.Zoom.AppOf(p.ClientID)
	if !ok {
		return nil
	}
	if app == zoom.UserApp {
		return s.forIndexed(ctx, indexZoomUser, p.UserID, "personal", func(orgID, userID string) error {
			return s.dropPersonal(ctx, orgID, userID, p.UserID)
		})
	}
	orgs, err := s.indexMembers(ctx, indexAccount, p.AccountID)
	if err != nil {
		return err
	}
	for _, orgID := range orgs {
		if err := s.breakOrg(ctx, orgID, func(c *store.OrgConnection) bool { return c.ZoomAccountID == p.AccountID },
			store.StateNotConnected, store.ReasonDeauthorized); err != nil {
			return err
		}
	}
	return nil
}

// confirmCompliance tells Zoom, unless it said the user's data may be
// kept, that it was deleted (deauthorized did: tokens and records). Zoom's
// Data Compliance API is legacy and its status undocumented, so a failure
// is logged, not retried.
func (s *Service) confirmCompliance(ctx context.Context, p zoomPayload, payload json.RawMessage) {
	if r := strings.Trim(string(p.UserDataRetention), `"`); r == "true" {
		return
	}
	app, ok := s.cfg.Zoom.AppOf(p.ClientID)
	if !ok {
		return
	}
	if err := s.cfg.Zoom.ConfirmDataCompliance(ctx, app, p.UserID, p.AccountID, payload); err != nil {
		s.log.WarnContext(ctx, "could not confirm data compliance to Zoom", "error", err)
	}
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
			Details: map[string]string{"reason": string(store.ReasonDeauthorized), "zoom_account_id": p.ZoomAccountID}})
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
		tx.AppendActivity(store.ActivityEntry{Time: now, Kind: kind, Actor: ActorZoom,
			Details: map[string]string{"reason": string(reason), "zoom_account_id": before.ZoomAccountID}})
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

// installerChanged re-checks a Zoom user the service depends on: as an org
// connection's installer it must still be an Owner or Admin (Zoom does not
// say how a role change appears in user.updated, so the user is read
// again); as a member's Zoom identity, the cached match is dropped.
func (s *Service) installerChanged(ctx context.Context, zoomUserID string, removed bool) error {
	if zoomUserID == "" {
		return nil
	}
	orgs, err := s.indexMembers(ctx, indexInstaller, zoomUserID)
	if err != nil {
		return err
	}
	for _, orgID := range orgs {
		if err := s.checkInstaller(ctx, orgID, zoomUserID, removed); err != nil {
			return err
		}
	}
	return s.forIndexed(ctx, indexZoomUser, zoomUserID, "member", func(orgID, userID string) error {
		return s.dropMatch(ctx, orgID, userID, zoomUserID, removed)
	})
}

// checkInstaller decides whether the org connection still stands. Zoom
// being down never marks a healthy connection broken: the error is
// returned for a later retry instead.
func (s *Service) checkInstaller(ctx context.Context, orgID, zoomUserID string, removed bool) error {
	isInstaller := func(c *store.OrgConnection) bool { return c.InstallerZoomUserID == zoomUserID }
	if removed {
		return s.breakOrg(ctx, orgID, isInstaller, store.StateNeedsReconnect, store.ReasonInstallerRemoved)
	}
	var u *zoom.User
	err := s.cfg.Tokens.Call(ctx, ConnRef{OrgID: orgID}, func(token string) error {
		var err error
		u, err = s.cfg.Zoom.GetUser(ctx, token, zoomUserID)
		return err
	})
	if e := errs.As(err); e != nil && (e.Reason == ReasonOrgNeedsReconnect || e.Reason == ReasonOrgNotConnected) {
		return nil // nothing left to check
	}
	var ae *zoom.APIError
	switch {
	case errors.As(err, &ae) && ae.Code == zoom.CodeUserNotFound:
		return s.breakOrg(ctx, orgID, isInstaller, store.StateNeedsReconnect, store.ReasonInstallerRemoved)
	case err != nil:
		return err
	case u.Status == "inactive":
		return s.breakOrg(ctx, orgID, isInstaller, store.StateNeedsReconnect, store.ReasonInstallerRemoved)
	case !u.IsAccountAdmin():
		return s.breakOrg(ctx, orgID, isInstaller, store.StateNeedsReconnect, store.ReasonAdminRoleLost)
	}
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

// meetingDeleted marks a booking's meeting gone when Zoom deleted it.
func (s *Service) meetingDeleted(ctx context.Context, zoomMeetingID string) error {
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

// webhookRetryIdle is how long a claimed event may stay unacknowledged
// before another worker (in any replica) takes it over.
const webhookRetryIdle = 30 * time.Second

// RunWebhookWorker processes queued Zoom events until ctx ends. wake
// shortens the wait after this process queued an event.
func (s *Service) RunWebhookWorker(ctx context.Context, consumer string, wake <-chan struct{}, idle time.Duration) {
	if idle <= 0 {
		idle = webhookRetryIdle
	}
	for ctx.Err() == nil {
		items, err := s.cfg.Store.ClaimWebhooks(ctx, consumer, 20, idle)
		if err != nil && ctx.Err() == nil {
			s.log.WarnContext(ctx, "claiming Zoom events", "error", err)
		}
		for _, it := range items {
			if err := s.ProcessWebhook(ctx, it.Body); err != nil {
				if it.Deliveries < 10 {
					s.log.WarnContext(ctx, "processing a Zoom event failed; it will be retried", "attempt", it.Deliveries, "error", err)
					continue
				}
				s.log.ErrorContext(ctx, "giving up on a Zoom event after 10 attempts", "error", err)
			}
			if err := s.cfg.Store.AckWebhook(ctx, it.ID); err != nil {
				s.log.WarnContext(ctx, "acknowledging a processed Zoom event", "error", err)
			}
		}
		if len(items) > 0 {
			continue
		}
		select {
		case <-ctx.Done():
		case <-wake:
		case <-time.After(time.Second):
		}
	}
}
