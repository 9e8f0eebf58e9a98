package meeting

import (
	"cmp"
	"context"
	"errors"

	"github.com/zoomconnect/zoomconnect/server/connection"
	"github.com/zoomconnect/zoomconnect/server/errs"
	"github.com/zoomconnect/zoomconnect/server/metrics"
	"github.com/zoomconnect/zoomconnect/server/store"
	"github.com/zoomconnect/zoomconnect/server/zoom"
)

// Change names the fields of a reschedule or rename.
type Change struct {
	Details
	// Fields lists what to change: "topic", "start_time", "duration",
	// "timezone", "agenda".
	Fields []string
}

var changeable = map[string]func(dst *store.Meeting, src Details){
	"topic":      func(dst *store.Meeting, src Details) { dst.Topic = src.Topic },
	"start_time": func(dst *store.Meeting, src Details) { dst.StartTime = src.StartTime },
	"duration":   func(dst *store.Meeting, src Details) { dst.Duration = src.Duration },
	"timezone":   func(dst *store.Meeting, src Details) { dst.Timezone = src.Timezone },
	"agenda":     func(dst *store.Meeting, src Details) { dst.Agenda = src.Agenda },
}

// connectionOf is the connection that created m: its changes go through
// it even if the host's effective account changed since.
func connectionOf(m *store.Meeting) host {
	if m.Source == SourcePersonal {
		return host{ref: connection.ConnRef{OrgID: m.OrgID, UserID: m.UserID}, source: SourcePersonal, account: m.ZoomAccountID, zoomUser: "me"}
	}
	return host{ref: connection.ConnRef{OrgID: m.OrgID}, source: SourceOrganization, account: m.ZoomAccountID, zoomUser: cmp.Or(m.ZoomUserID, m.HostEmail)}
}

// Update reschedules or renames a booking's meeting. If Zoom no longer has
// it, a new one is created with the same connection and returned.
func (s *Service) Update(ctx context.Context, orgID, bookingID string, c Change) (*store.Meeting, error) {
	m, err := s.Get(ctx, orgID, bookingID)
	if err != nil {
		return nil, err
	}
	next := *m
	for _, f := range c.Fields {
		apply, ok := changeable[f]
		if !ok {
			return nil, errs.InvalidArgument("update_mask", connection.ReasonInvalidUpdateMask, "%q cannot be changed; changeable: topic, start_time, duration, timezone, agenda", f)
		}
		apply(&next, c.Details)
	}
	h := connectionOf(m)
	settings, err := s.cfg.Connections.Settings(ctx, orgID)
	if err != nil {
		return nil, err
	}
	req := meetingRequest(&next, settings)
	var ae *zoom.APIError
	if !m.Gone {
		patch := req
		if patch.Password == m.Passcode {
			patch.Password = "" // unchanged: the invitations' join URL stays valid
		}
		err = s.call(ctx, h.ref, h.account, true, func(token string) error {
			return s.cfg.Zoom.UpdateMeeting(ctx, token, m.ZoomMeetingID, patch)
		})
		if err == nil && patch.Password != "" {
			// A new passcode (require_passcode was turned on) changes the
			// join URL, which Zoom's 204 does not show.
			var zm *zoom.Meeting
			if zm, err = s.read(ctx, h, m.ZoomMeetingID); err == nil && zm != nil {
				next.JoinURL, next.Passcode = zm.JoinURL, cmp.Or(zm.Password, patch.Password)
			}
		}
	}
	if m.Gone || (errors.As(err, &ae) && ae.Code == zoom.CodeMeetingNotFound) {
		// Deleted in Zoom meanwhile: recreate it on the same connection.
		var zm *zoom.Meeting
		err = s.call(ctx, h.ref, h.account, false, func(token string) error {
			zm, err = s.cfg.Zoom.CreateMeeting(ctx, token, h.zoomUser, req)
			return err
		})
		if err == nil {
			metrics.Meetings.WithLabelValues("recreated").Inc()
			next.ZoomMeetingID, next.JoinURL, next.Passcode, next.HostEmail = zm.ID, zm.JoinURL, cmp.Or(zm.Password, req.Password), zm.HostEmail
			next.ZoomUserID, next.Gone = zm.HostID, false
		}
	}
	if err != nil {
		return nil, mapZoomError(err, m)
	}
	next.UpdatedAt = s.cfg.Now()
	err = s.cfg.Effects.Update(context.WithoutCancel(ctx), orgID, func(tx store.OrgTx) error {
		tx.SetMeeting(&next)
		if changes := connection.MeetingIndexes(orgID, bookingID, m.ZoomMeetingID, next.ZoomMeetingID); changes != nil {
			tx.AddEffect(store.Effect{Index: changes})
		}
		return nil
	})
	return &next, err
}

// deleteInZoom deletes a meeting through h; already gone is success.
func (s *Service) deleteInZoom(ctx context.Context, h host, m *store.Meeting, id int64) error {
	err := s.call(ctx, h.ref, h.account, true, func(token string) error {
		return s.cfg.Zoom.DeleteMeeting(ctx, token, id)
	})
	var ae *zoom.APIError
	if err != nil && !(errors.As(err, &ae) && (ae.Code == zoom.CodeMeetingNotFound || ae.HTTPStatus == 404)) {
		return mapZoomError(err, m)
	}
	return nil
}

// Delete cancels a booking's meeting; a meeting already gone (here or in
// Zoom) is success.
func (s *Service) Delete(ctx context.Context, orgID, bookingID string) error {
	m, err := s.cfg.Store.GetMeeting(ctx, orgID, bookingID)
	if errors.Is(err, store.ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	switch {
	case m.State == store.MeetingCreated && !m.Gone:
		if err := s.deleteInZoom(ctx, connectionOf(m), m, m.ZoomMeetingID); err != nil {
			return err
		}
	case m.State == store.MeetingReserved && s.cfg.Now().Before(m.ReservedUntil):
		return errs.New(errs.KindUnavailable, ReasonCreationInProgress, "the meeting of booking %s is being created; retry the cancellation shortly", bookingID)
	case m.State == store.MeetingReserved && m.Uncertain:
		// A failed creation may have made the meeting after all.
		h, err := s.hostFor(ctx, orgID, m.UserID)
		if err != nil {
			break // no connection left to look with
		}
		zm, err := s.find(ctx, h, m)
		if errors.Is(err, &errs.Error{Reason: errs.ReasonZoomScopeMissing}) {
			// Zoom will not let this connection look until the app is
			// fixed; the cancellation must not wait for that.
			s.cfg.Logger.WarnContext(ctx, "cancelled a booking without searching Zoom for a meeting its lost creation may have made",
				"org_id", orgID, "booking_id", bookingID, "error", err)
			break
		}
		if err != nil {
			return err
		}
		if zm != nil {
			if err := s.deleteInZoom(ctx, h, m, zm.ID); err != nil {
				return err
			}
		}
	}
	err = s.cfg.Effects.Update(context.WithoutCancel(ctx), orgID, func(tx store.OrgTx) error {
		cur, err := tx.Meeting(bookingID)
		if err != nil || cur == nil {
			return err
		}
		tx.DeleteMeeting(bookingID)
		if changes := connection.MeetingIndexes(orgID, bookingID, cur.ZoomMeetingID, 0); changes != nil {
			tx.AddEffect(store.Effect{Index: changes})
		}
		return nil
	})
	if err == nil {
		metrics.Meetings.WithLabelValues("cancelled").Inc()
	}
	return err
}
