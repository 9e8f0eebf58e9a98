// Package meeting creates the Zoom meetings of bookings through the
// connection that serves the host, exactly once per booking across any
// number of replicas, and keeps them in step with reschedules and
// cancellations.
package meeting

import (
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"strings"
	"time"
	"unicode/utf8"

	zcv1 "github.com/zoomconnect/zoomconnect/gen/zoomconnect/v1"
	"github.com/zoomconnect/zoomconnect/server/connection"
	"github.com/zoomconnect/zoomconnect/server/errs"
	"github.com/zoomconnect/zoomconnect/server/metrics"
	"github.com/zoomconnect/zoomconnect/server/outbox"
	"github.com/zoomconnect/zoomconnect/server/secrets"
	"github.com/zoomconnect/zoomconnect/server/store"
	"github.com/zoomconnect/zoomconnect/server/tokens"
	"github.com/zoomconnect/zoomconnect/server/zoom"
)

// Reasons this package reports.
const (
	ReasonBookingConflict     = zcv1.ErrorReason_ERROR_REASON_BOOKING_CONFLICT
	ReasonCreationInProgress  = zcv1.ErrorReason_ERROR_REASON_MEETING_CREATION_IN_PROGRESS
	ReasonMeetingNotFound     = zcv1.ErrorReason_ERROR_REASON_MEETING_NOT_FOUND
	ReasonZoomRateLimited     = zcv1.ErrorReason_ERROR_REASON_ZOOM_RATE_LIMITED
	ReasonInvalidMeeting      = zcv1.ErrorReason_ERROR_REASON_INVALID_MEETING
	ReasonZoomRejectedMeeting = zcv1.ErrorReason_ERROR_REASON_ZOOM_REJECTED_MEETING
)

// Connection sources recorded on a meeting (store.Meeting.Source).
const (
	SourcePersonal     = "personal"
	SourceOrganization = "organization"
)

// Config wires a Service.
type Config struct {
	Store store.Store
	// Effects commits the changes that index a meeting (see
	// connection.MeetingIndexes); New makes one over Store if nil.
	Effects     *outbox.Relay
	Connections Connections
	Tokens      Tokens
	Zoom        *zoom.Client
	// ReservationTTL is how long a caller may take to create a meeting
	// before another caller may take over (and first search Zoom for it).
	ReservationTTL time.Duration
	// ZoomRate paces calls per Zoom account (requests per second; default
	// 2, Zoom's Medium rate on the Free plan).
	ZoomRate float64
	Now      func() time.Time
	Logger   *slog.Logger
}

// Connections is what meetings need of the Zoom connections: which
// connection serves a host, and the org's meeting settings.
// *connection.Service is one.
type Connections interface {
	EffectiveAccounts(ctx context.Context, orgID string, userIDs []string) ([]connection.Resolution, error)
	Settings(ctx context.Context, orgID string) (store.OrgSettings, error)
}

// Tokens hands out a usable access token of a connection, refreshed when
// failed is the token Zoom just refused. *tokens.Service is one.
type Tokens interface {
	AccessToken(ctx context.Context, r tokens.Ref, failed string) (string, error)
}

// Service implements the meeting RPCs.
type Service struct {
	cfg     Config
	limiter *accountLimiter
}

// New returns a Service.
func New(cfg Config) *Service {
	if cfg.ReservationTTL <= 0 {
		cfg.ReservationTTL = 30 * time.Second
	}
	if cfg.ZoomRate <= 0 {
		cfg.ZoomRate = 2
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Effects == nil {
		cfg.Effects = outbox.New(cfg.Store, cfg.Logger)
	}
	return &Service{cfg: cfg, limiter: newAccountLimiter(cfg.ZoomRate)}
}

// Details are the booking's meaningful meeting fields.
type Details struct {
	UserID    string
	Topic     string
	StartTime time.Time
	Duration  time.Duration
	Timezone  string
	Agenda    string
}

func (d Details) fingerprint() string {
	h := sha256.New()
	fmt.Fprintf(h, "%q|%q|%d|%d|%q|%q", d.UserID, d.Topic, d.StartTime.UnixNano(), d.Duration, d.Timezone, d.Agenda)
	return hex.EncodeToString(h.Sum(nil))
}

// marker goes into the meeting's agenda so that a retry can find a meeting
// whose creation was not recorded (Zoom has no idempotency key).
func marker(orgID, bookingID string) string {
	return "[zoomconnect booking " + orgID + "/" + bookingID + "]"
}

// Get returns a booking's meeting.
func (s *Service) Get(ctx context.Context, orgID, bookingID string) (*store.Meeting, error) {
	m, err := s.cfg.Store.GetMeeting(ctx, orgID, bookingID)
	if errors.Is(err, store.ErrNotFound) || (err == nil && m.State != store.MeetingCreated) {
		return nil, errs.NotFound(ReasonMeetingNotFound, "booking %s has no Zoom meeting", bookingID)
	}
	return m, err
}

// Create returns the booking's Zoom meeting, creating it exactly once: one
// caller reserves the booking and creates the meeting; concurrent callers
// (on any replica) wait for its result; a retry after a failure that may
// have created the meeting searches Zoom for it first.
func (s *Service) Create(ctx context.Context, orgID, bookingID string, d Details) (*store.Meeting, error) {
	owner := secrets.NewToken()
	hash := d.fingerprint()
	for {
		m, reserved, err := s.reserve(ctx, orgID, bookingID, d, hash, owner)
		if err != nil {
			return nil, err
		}
		if m.State == store.MeetingCreated {
			metrics.Meetings.WithLabelValues("reused").Inc()
			return m, nil
		}
		if reserved {
			return s.createReserved(ctx, m, owner)
		}
		// Another caller is creating it: wait for its result.
		wait := 20*time.Millisecond + time.Duration(rand.Int64N(int64(30*time.Millisecond)))
		if dl, ok := ctx.Deadline(); ok && time.Until(dl) < wait {
			return nil, errs.New(errs.KindUnavailable, ReasonCreationInProgress,
				"the meeting of booking %s is being created by another request; retry shortly", bookingID)
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(wait):
		}
	}
}

// reserve returns the booking's record; reserved tells whether owner now
// holds the reservation.
func (s *Service) reserve(ctx context.Context, orgID, bookingID string, d Details, hash, owner string) (m *store.Meeting, reserved bool, err error) {
	now := s.cfg.Now()
	err = s.cfg.Store.Update(ctx, orgID, func(tx store.OrgTx) error {
		reserved = false
		cur, err := tx.Meeting(bookingID)
		if err != nil {
			return err
		}
		if cur != nil && cur.RequestHash != hash {
			return errs.New(errs.KindAlreadyExists, ReasonBookingConflict,
				"booking %s already has a meeting request with different details; update the meeting instead", bookingID)
		}
		if cur != nil && (cur.State == store.MeetingCreated || (cur.ReservedBy != owner && now.Before(cur.ReservedUntil))) {
			m = cur
			return nil
		}
		m = &store.Meeting{
			OrgID: orgID, BookingID: bookingID, RequestHash: hash, State: store.MeetingReserved,
			ReservedBy: owner, ReservedUntil: now.Add(s.cfg.ReservationTTL),
			// An expired reservation's holder may have created the meeting.
			Uncertain: cur != nil,
			UserID:    d.UserID, Topic: d.Topic, StartTime: d.StartTime, Duration: d.Duration,
			Timezone: d.Timezone, Agenda: d.Agenda, UpdatedAt: now,
		}
		tx.SetMeeting(m)
		reserved = true
		return nil
	})
	return m, reserved, err
}

// host is the connection and Zoom user a new meeting is created with.
type host struct {
	ref      connection.ConnRef
	source   string
	account  string
	zoomUser string // Zoom user id or email, or "me"
}

// hostFor applies the precedence resolver to the booking's host.
func (s *Service) hostFor(ctx context.Context, orgID, userID string) (host, error) {
	res, err := s.cfg.Connections.EffectiveAccounts(ctx, orgID, []string{userID})
	if err != nil {
		return host{}, err
	}
	r := res[0]
	org := func(ref *connection.AccountRef) host {
		return host{ref: connection.ConnRef{OrgID: orgID}, source: SourceOrganization, account: ref.ZoomAccountID,
			zoomUser: cmp.Or(ref.ZoomUserID, ref.ZoomEmail)}
	}
	switch {
	case r.Chosen.Source == connection.SourcePersonal && r.Chosen.State == store.StateActive:
		return host{ref: connection.ConnRef{OrgID: orgID, UserID: userID}, source: SourcePersonal,
			account: r.Chosen.ZoomAccountID, zoomUser: "me"}, nil
	case r.Fallback != nil:
		return org(r.Fallback), nil
	case r.Chosen.Source == connection.SourceOrganization:
		return org(&r.Chosen), nil
	}
	reason := connection.ReasonNoZoomConnection
	switch r.Why {
	case connection.WhyOrgNeedsReconnect:
		reason = connection.ReasonOrgNeedsReconnect
	case connection.WhyUserNotInZoomAccount:
		reason = connection.ReasonUserNotInZoomAccount
	case connection.WhyPersonalNeedsReconnect:
		reason = connection.ReasonPersonalNeedsReconnect
	}
	return host{}, errs.FailedPrecondition(reason, "no Zoom meeting can be created for user %s: %s", userID, r.Explanation)
}

// createReserved creates the meeting while holding the reservation.
func (s *Service) createReserved(ctx context.Context, m *store.Meeting, owner string) (*store.Meeting, error) {
	h, err := s.hostFor(ctx, m.OrgID, m.UserID)
	if err != nil {
		s.release(ctx, m, owner, false)
		return nil, err
	}
	settings, err := s.cfg.Connections.Settings(ctx, m.OrgID)
	if err != nil {
		s.release(ctx, m, owner, false)
		return nil, err
	}
	var zm *zoom.Meeting
	outcome := "reused" // found in Zoom after a lost answer
	if m.Uncertain {
		if zm, err = s.find(ctx, h, m); err != nil {
			s.release(ctx, m, owner, true)
			return nil, err
		}
	}
	if zm == nil {
		outcome = "created"
		req := meetingRequest(m, settings)
		m.Passcode = req.Password
		err = s.call(ctx, h.ref, h.account, false, func(token string) error {
			var err error
			zm, err = s.cfg.Zoom.CreateMeeting(ctx, token, h.zoomUser, req)
			return err
		})
	}
	if err != nil {
		// Without Zoom's answer the meeting may exist: the next attempt
		// searches for it first.
		s.release(ctx, m, owner, !certainlyNotCreated(err))
		return nil, mapZoomError(err, m)
	}
	rec, err := s.record(ctx, m, owner, h, zm)
	if err == nil {
		metrics.Meetings.WithLabelValues(outcome).Inc()
	}
	return rec, err
}

// find looks for the meeting an earlier attempt of this booking may have
// created, among the host's upcoming meetings. Zoom's list cuts agendas to
// 250 characters, so the list only names candidates (the booking's topic,
// start and duration); each is read in full (GET /meetings/{id}) and is the
// booking's meeting when its agenda is the one this booking sends, which
// carries the booking's marker whenever the booking's own agenda leaves
// room for it.
func (s *Service) find(ctx context.Context, h host, m *store.Meeting) (*zoom.Meeting, error) {
	want := zoomAgenda(m)
	start := m.StartTime.UTC().Truncate(time.Second)
	page := ""
	for {
		var list []zoom.Meeting
		var next string
		err := s.call(ctx, h.ref, h.account, true, func(token string) error {
			var err error
			list, next, err = s.cfg.Zoom.ListMeetings(ctx, token, h.zoomUser, page)
			return err
		})
		if err != nil {
			return nil, mapZoomError(err, m)
		}
		for _, c := range list {
			at, err := time.Parse(time.RFC3339, c.StartTime)
			if err != nil || c.Topic != m.Topic || !at.Equal(start) || c.Duration != int(m.Duration/time.Minute) {
				continue
			}
			full, err := s.read(ctx, h, c.ID)
			if err != nil {
				return nil, mapZoomError(err, m)
			}
			if full != nil && strings.TrimSpace(full.Agenda) == strings.TrimSpace(want) {
				return full, nil
			}
		}
		if next == "" {
			return nil, nil
		}
		page = next
	}
}

// read gets a meeting in full; one deleted meanwhile is nil.
func (s *Service) read(ctx context.Context, h host, id int64) (*zoom.Meeting, error) {
	var zm *zoom.Meeting
	err := s.call(ctx, h.ref, h.account, true, func(token string) error {
		var err error
		zm, err = s.cfg.Zoom.GetMeeting(ctx, token, id)
		return err
	})
	var ae *zoom.APIError
	if errors.As(err, &ae) && ae.Code == zoom.CodeMeetingNotFound {
		return nil, nil
	}
	return zm, err
}

// record stores the created meeting, unless the reservation was lost and
// another caller recorded one meanwhile (then ours is a duplicate and is
// deleted at Zoom).
func (s *Service) record(ctx context.Context, m *store.Meeting, owner string, h host, zm *zoom.Meeting) (*store.Meeting, error) {
	now := s.cfg.Now()
	var result *store.Meeting
	duplicate := false
	err := s.cfg.Effects.Update(context.WithoutCancel(ctx), m.OrgID, func(tx store.OrgTx) error {
		cur, err := tx.Meeting(m.BookingID)
		if err != nil {
			return err
		}
		if cur != nil && cur.State == store.MeetingCreated && cur.ZoomMeetingID != zm.ID {
			result, duplicate = cur, true
			return nil
		}
		if changes := connection.MeetingIndexes(m.OrgID, m.BookingID, 0, zm.ID); changes != nil {
			tx.AddEffect(store.Effect{Index: changes})
		}
		next := *m
		next.State, next.ReservedBy, next.ReservedUntil, next.Uncertain = store.MeetingCreated, "", time.Time{}, false
		next.Source, next.ZoomAccountID, next.ZoomUserID, next.HostEmail = h.source, h.account, zm.HostID, zm.HostEmail
		next.ZoomMeetingID, next.JoinURL, next.Passcode = zm.ID, zm.JoinURL, cmp.Or(zm.Password, m.Passcode)
		next.CreatedAt, next.UpdatedAt = now, now
		tx.SetMeeting(&next)
		result = &next
		return nil
	})
	if err != nil {
		return nil, err
	}
	if duplicate {
		_ = s.call(ctx, h.ref, h.account, true, func(token string) error { return s.cfg.Zoom.DeleteMeeting(ctx, token, zm.ID) })
	}
	return result, nil
}

// release gives up owner's reservation. A booking whose meeting certainly
// does not exist is forgotten, so a later call starts afresh; otherwise the
// record says that Zoom must be searched first.
func (s *Service) release(ctx context.Context, m *store.Meeting, owner string, uncertain bool) {
	err := s.cfg.Store.Update(context.WithoutCancel(ctx), m.OrgID, func(tx store.OrgTx) error {
		cur, err := tx.Meeting(m.BookingID)
		if err != nil || cur == nil || cur.ReservedBy != owner || cur.State != store.MeetingReserved {
			return err
		}
		if !uncertain && !cur.Uncertain {
			tx.DeleteMeeting(m.BookingID)
			return nil
		}
		cur.ReservedBy, cur.ReservedUntil, cur.Uncertain = "", time.Time{}, true
		tx.SetMeeting(cur)
		return nil
	})
	if err != nil {
		s.cfg.Logger.WarnContext(ctx, "releasing a meeting reservation", "org_id", m.OrgID, "booking_id", m.BookingID, "error", err)
	}
}

// certainlyNotCreated tells failures that prove Zoom created nothing (a
// refusal, a rate limit, no usable token) from those that leave it open (no
// answer, a server error).
func certainlyNotCreated(err error) bool {
	var ae *zoom.APIError
	if errors.As(err, &ae) {
		return ae.HTTPStatus < 500
	}
	e := errs.As(err)
	return e != nil && (e.Kind == errs.KindResourceExhausted || e.Kind == errs.KindFailedPrecondition)
}

// maxZoomAgenda is Zoom's limit on an agenda, in characters.
const maxZoomAgenda = 2000

// zoomAgenda is the agenda sent to Zoom: the booking's own text, whole,
// followed by the booking's marker when both fit in Zoom's 2,000
// characters. A longer agenda goes without the marker rather than lose
// text; its meeting is then recognised by its details (see find).
func zoomAgenda(m *store.Meeting) string {
	mark := marker(m.OrgID, m.BookingID)
	switch {
	case m.Agenda == "":
		return mark
	case utf8.RuneCountInString(m.Agenda)+2+utf8.RuneCountInString(mark) <= maxZoomAgenda:
		return m.Agenda + "\n\n" + mark
	}
	return m.Agenda
}

// meetingRequest is the create or update body of m. With the org's
// require_passcode setting on, the meeting's passcode is sent explicitly
// (Zoom's default_password only applies the host's own settings): m's
// passcode if it has one, so that an update or a recreation keeps the one
// the invitations carry.
func meetingRequest(m *store.Meeting, st store.OrgSettings) zoom.MeetingRequest {
	req := zoom.MeetingRequest{
		Topic: m.Topic, Type: 2, StartTime: m.StartTime.UTC().Format("2006-01-02T15:04:05Z"),
		Duration: int(m.Duration / time.Minute), Timezone: m.Timezone, Agenda: zoomAgenda(m),
		Settings: &zoom.MeetingSettings{
			WaitingRoom: &st.WaitingRoom, JoinBeforeHost: &st.JoinBeforeHost, AutoStartMeetingSummary: &st.AutoMeetingSummary,
		},
	}
	if st.RequirePasscode {
		req.Password = cmp.Or(m.Passcode, newPasscode())
	} else {
		req.DefaultPassword = new(bool)
	}
	return req
}

// mapZoomError turns Zoom's answers into what callers can act on; a
// failure without an answer is UNAVAILABLE.
func mapZoomError(err error, m *store.Meeting) error {
	var ae *zoom.APIError
	switch {
	case err == nil || errs.As(err) != nil || errs.IsContextError(err):
		return err
	case !errors.As(err, &ae):
		return unavailable(err)
	}
	switch {
	case ae.Code == zoom.CodeUserNotFound:
		return errs.FailedPrecondition(connection.ReasonUserNotInZoomAccount,
			"Zoom says the host of booking %s has no Zoom user in the connected account; a Zoom admin must add them, or they connect a personal Zoom account", m.BookingID).Wrap(err)
	case ae.HTTPStatus == 400:
		return errs.FailedPrecondition(ReasonZoomRejectedMeeting, "Zoom refused the meeting: %s", ae.Message).Wrap(err)
	case ae.HTTPStatus == 401 || ae.HTTPStatus == 403:
		return errs.FailedPrecondition(connection.ReasonNoZoomConnection, "Zoom refused the connection's access: %s", ae.Message).Wrap(err)
	}
	return unavailable(err)
}
