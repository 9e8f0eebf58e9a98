package connection

import (
	"context"
	"errors"
	"regexp"
	"slices"
	"strconv"
	"time"

	zcv1 "github.com/zoomconnect/zoomconnect/gen/zoomconnect/v1"
	"github.com/zoomconnect/zoomconnect/server/errs"
	"github.com/zoomconnect/zoomconnect/server/store"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"
)

// Indexes across orgs (see store.Store.IndexMembers), changed only as the
// effects of the changes that make them true. Members are "org" or
// "kind/org/user"; ids never contain "/".
const (
	indexAccount   = "account"   // Zoom account id → orgs connected to it
	indexInstaller = "installer" // Zoom user id → orgs it installed
	indexZoomUser  = "zoomuser"  // Zoom user id → personal/org/user, member/org/user
	indexMeeting   = "meeting"   // Zoom meeting id → org/booking
	indexOrgs      = "orgs"      // "connected" → orgs with an org connection
	orgsConnected  = "connected"
)

// indexChange adds (or removes) member under key; nothing for an empty key.
func indexChange(remove bool, index, key, member string) []store.IndexChange {
	if key == "" {
		return nil
	}
	return []store.IndexChange{{Index: index, Key: key, Member: member, Remove: remove}}
}

// orgIndexes are the index entries of an org connected to Zoom account
// accountID by installer.
func orgIndexes(remove bool, orgID, accountID, installer string) []store.IndexChange {
	return slices.Concat(
		indexChange(remove, indexAccount, accountID, orgID),
		indexChange(remove, indexInstaller, installer, orgID),
		indexChange(remove, indexOrgs, orgsConnected, orgID))
}

// MeetingIndexes are the index changes that let Zoom's meeting.deleted
// events find a booking's meeting: the entry of its new Zoom meeting id
// (if any) replaces the one of the old (if any).
func MeetingIndexes(orgID, bookingID string, oldZoomID, newZoomID int64) []store.IndexChange {
	if oldZoomID == newZoomID {
		return nil
	}
	var changes []store.IndexChange
	if oldZoomID != 0 {
		changes = indexChange(true, indexMeeting, strconv.FormatInt(oldZoomID, 10), orgID+"/"+bookingID)
	}
	if newZoomID != 0 {
		changes = append(changes, indexChange(false, indexMeeting, strconv.FormatInt(newZoomID, 10), orgID+"/"+bookingID)...)
	}
	return changes
}

// indexMembers reads an index after applying every pending effect: the
// lookups that use it decide about security (deauthorization, webhook
// routing, the monitor) and must not miss an entry whose change committed.
func (s *Service) indexMembers(ctx context.Context, index, key string) ([]string, error) {
	if err := s.cfg.Effects.Flush(ctx); err != nil {
		return nil, err
	}
	return s.cfg.Store.IndexMembers(ctx, index, key)
}

// ProtoState and ProtoReason name stored states and reasons as the API
// does (the one mapping, for answers and events alike).
var ProtoState = map[store.ConnectionState]zcv1.ConnectionState{
	store.StateNotConnected:   zcv1.ConnectionState_CONNECTION_STATE_NOT_CONNECTED,
	store.StateActive:         zcv1.ConnectionState_CONNECTION_STATE_ACTIVE,
	store.StateNeedsReconnect: zcv1.ConnectionState_CONNECTION_STATE_NEEDS_RECONNECT,
}

var ProtoReason = map[store.StateReason]zcv1.ConnectionStateReason{
	store.ReasonNone:                zcv1.ConnectionStateReason_CONNECTION_STATE_REASON_UNSPECIFIED,
	store.ReasonInstallLinkExpired:  zcv1.ConnectionStateReason_CONNECTION_STATE_REASON_INSTALL_LINK_EXPIRED,
	store.ReasonDisconnectedByAdmin: zcv1.ConnectionStateReason_CONNECTION_STATE_REASON_DISCONNECTED_BY_ADMIN,
	store.ReasonDeauthorized:        zcv1.ConnectionStateReason_CONNECTION_STATE_REASON_DEAUTHORIZED,
	store.ReasonAdminRoleLost:       zcv1.ConnectionStateReason_CONNECTION_STATE_REASON_ADMIN_ROLE_LOST,
	store.ReasonInstallerRemoved:    zcv1.ConnectionStateReason_CONNECTION_STATE_REASON_INSTALLER_REMOVED,
	store.ReasonInvalidGrant:        zcv1.ConnectionStateReason_CONNECTION_STATE_REASON_INVALID_GRANT,
	store.ReasonDisconnectedByUser:  zcv1.ConnectionStateReason_CONNECTION_STATE_REASON_DISCONNECTED_BY_USER,
}

// change describes a connection change for the event stream.
type change struct {
	kind     zcv1.ConnectionEventType
	orgID    string
	userID   string // personal connections, detach/reattach
	state    store.ConnectionState
	reason   store.StateReason
	actor    string
	affected []string
	settings *store.OrgSettings
}

// effect is what change c causes outside the org's records: the index
// changes given, and its event.
func (s *Service) effect(c change, index ...[]store.IndexChange) store.Effect {
	ev := &zcv1.ConnectionEvent{
		Time: timestamppb.New(s.cfg.Now()), Type: c.kind, OrgId: c.orgID, UserId: c.userID,
		Source: zcv1.ConnectionSource_CONNECTION_SOURCE_ORGANIZATION,
		State:  ProtoState[c.state], Reason: ProtoReason[c.reason], AffectedUserIds: c.affected, Actor: c.actor,
	}
	if c.userID != "" && c.kind != zcv1.ConnectionEventType_CONNECTION_EVENT_TYPE_DETACHED && c.kind != zcv1.ConnectionEventType_CONNECTION_EVENT_TYPE_REATTACHED {
		ev.Source = zcv1.ConnectionSource_CONNECTION_SOURCE_PERSONAL
	}
	if st := c.settings; st != nil {
		ev.Settings = &zcv1.OrgZoomSettings{
			AllowUsersToDetach: st.AllowUsersToDetach, ZoomDefaultLocation: st.ZoomDefaultLocation,
			AutoMeetingSummary: st.AutoMeetingSummary, WaitingRoom: st.WaitingRoom,
			JoinBeforeHost: st.JoinBeforeHost, RequirePasscode: st.RequirePasscode,
		}
	}
	// Marshalling a message built here cannot fail.
	payload, _ := proto.Marshal(ev)
	return store.Effect{Index: slices.Concat(index...), Event: payload}
}

// affectedBy lists the ids of the members that conn (the org connection as
// it was) served without a personal connection: those whose Zoom stops
// working when it goes away.
func (s *Service) affectedBy(ctx context.Context, orgID string, conn *store.OrgConnection) []string {
	var ids []string
	for _, m := range s.affectedMembers(ctx, orgID, conn) {
		ids = append(ids, m.UserID)
	}
	return ids
}

// affectedMembers is affectedBy with the members' details.
func (s *Service) affectedMembers(ctx context.Context, orgID string, conn *store.OrgConnection) []store.Member {
	if conn == nil || conn.State != store.StateActive {
		return nil
	}
	var out []store.Member
	err := s.forEachAffected(ctx, orgID, conn, "", func(u store.UserRecords) bool {
		out = append(out, *u.Member)
		return true
	})
	if err != nil {
		s.log.WarnContext(ctx, "listing the members a change affects", "org_id", orgID, "error", err)
	}
	return out
}

// forEachAffected calls f for each member after `after` that conn serves
// without a personal connection, until f returns false.
func (s *Service) forEachAffected(ctx context.Context, orgID string, conn *store.OrgConnection, after string, f func(store.UserRecords) bool) error {
	snap, err := s.cfg.Store.Snapshot(ctx, orgID, nil)
	if err != nil {
		return err
	}
	snap.Connection = conn
	now := s.cfg.Now()
	for {
		page, err := s.cfg.Store.ListMembers(ctx, orgID, after, 200)
		if err != nil {
			return err
		}
		for _, u := range page {
			after = u.UserID
			if r := s.resolve(snap, u, now); r.Chosen.Source == SourceOrganization && !f(u) {
				return nil
			}
		}
		if len(page) < 200 {
			return nil
		}
	}
}

// PreviewDisconnect lists, a page at a time, the members who would lose
// Zoom if the org connection were disconnected now.
func (s *Service) PreviewDisconnect(ctx context.Context, orgID string, size int32, token string) ([]store.Member, string, error) {
	after, err := decodePageToken(token)
	if err != nil {
		return nil, "", err
	}
	conn, err := store.GetOrgConnection(ctx, s.cfg.Store, orgID)
	if err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return nil, "", nil
		}
		return nil, "", err
	}
	limit := pageSize(size)
	var out []store.Member
	next := ""
	err = s.forEachAffected(ctx, orgID, conn, after, func(u store.UserRecords) bool {
		out = append(out, *u.Member)
		if len(out) == limit {
			next = encodePageToken(u.UserID)
			return false
		}
		return true
	})
	return out, next, err
}

// eventID is the shape of event stream ids ("0" means the oldest kept).
var eventID = regexp.MustCompile(`^[0-9]{1,20}(-[0-9]{1,20})?$`)

// WatchEvents streams connection events after `after` ("" for new events
// only) to send, filtered to orgID when set, until ctx ends. A nil event is
// a heartbeat: one is sent as soon as the stream is in place (so that the
// caller learns at once that it is), and again whenever no event was sent
// for the configured StreamHeartbeat, so that proxies keep the stream open.
func (s *Service) WatchEvents(ctx context.Context, after, orgID string, send func(id string, ev *zcv1.ConnectionEvent) error) error {
	if after != "" && !eventID.MatchString(after) {
		return errs.InvalidArgument("after_event_id", ReasonInvalidEventID, "after_event_id %q is not an event id this service issued", after)
	}
	if after == "" {
		// A fixed cursor from the start: "" on every read would skip
		// what is appended between two reads.
		var err error
		if after, err = s.cfg.Store.LastEventID(ctx); err != nil {
			return err
		}
	}
	if err := send("", nil); err != nil {
		return err
	}
	heartbeat := s.cfg.StreamHeartbeat
	lastSent := time.Now()
	for ctx.Err() == nil {
		wait := min(5*time.Second, time.Until(lastSent.Add(heartbeat)))
		if wait <= 0 {
			if err := send("", nil); err != nil {
				return err
			}
			lastSent = time.Now()
			continue
		}
		events, err := s.cfg.Store.ReadEvents(ctx, after, 100, wait)
		if err != nil {
			return err
		}
		for _, e := range events {
			after = e.ID
			var ev zcv1.ConnectionEvent
			if err := proto.Unmarshal(e.Payload, &ev); err != nil {
				s.log.WarnContext(ctx, "skipping an undecodable event", "id", e.ID, "error", err)
				continue
			}
			if orgID != "" && ev.GetOrgId() != orgID {
				continue
			}
			ev.Id = e.ID
			if err := send(e.ID, &ev); err != nil {
				return err
			}
			lastSent = time.Now()
		}
	}
	return ctx.Err()
}
