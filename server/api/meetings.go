package api

import (
	"context"
	"time"
	"unicode/utf8"

	zcv1 "github.com/zoomconnect/zoomconnect/gen/zoomconnect/v1"
	"github.com/zoomconnect/zoomconnect/server/errs"
	"github.com/zoomconnect/zoomconnect/server/meeting"
	"github.com/zoomconnect/zoomconnect/server/store"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/timestamppb"
)

// MeetingServer implements zoomconnect.v1.MeetingService for internal
// services.
type MeetingServer struct {
	zcv1.UnimplementedMeetingServiceServer
	Meetings *meeting.Service
}

// CreateMeeting creates a booking's meeting exactly once.
func (s *MeetingServer) CreateMeeting(ctx context.Context, req *zcv1.CreateMeetingRequest) (*zcv1.CreateMeetingResponse, error) {
	if err := s.authorize(ctx, req.GetOrgId(), req.GetBookingId()); err != nil {
		return nil, err
	}
	if err := validateUserID(req.GetUserId()); err != nil {
		return nil, err
	}
	d := meeting.Details{UserID: req.GetUserId(), Topic: req.GetTopic(), Timezone: req.GetTimezone(), Agenda: req.GetAgenda()}
	if req.GetStartTime() == nil {
		return nil, errs.InvalidArgument("start_time", meeting.ReasonInvalidMeeting, "start_time is required")
	}
	if req.GetDuration() == nil {
		return nil, errs.InvalidArgument("duration", meeting.ReasonInvalidMeeting, "duration is required")
	}
	d.StartTime, d.Duration = req.GetStartTime().AsTime(), req.GetDuration().AsDuration()
	if err := validateDetails(d, allMeetingFields); err != nil {
		return nil, err
	}
	m, err := s.Meetings.Create(ctx, req.GetOrgId(), req.GetBookingId(), d)
	if err != nil {
		return nil, err
	}
	return &zcv1.CreateMeetingResponse{Meeting: meetingProto(m)}, nil
}

// GetMeeting returns a booking's meeting.
func (s *MeetingServer) GetMeeting(ctx context.Context, req *zcv1.GetMeetingRequest) (*zcv1.GetMeetingResponse, error) {
	if err := s.authorize(ctx, req.GetOrgId(), req.GetBookingId()); err != nil {
		return nil, err
	}
	m, err := s.Meetings.Get(ctx, req.GetOrgId(), req.GetBookingId())
	if err != nil {
		return nil, err
	}
	return &zcv1.GetMeetingResponse{Meeting: meetingProto(m)}, nil
}

// UpdateMeeting reschedules or renames a booking's meeting.
func (s *MeetingServer) UpdateMeeting(ctx context.Context, req *zcv1.UpdateMeetingRequest) (*zcv1.UpdateMeetingResponse, error) {
	if err := s.authorize(ctx, req.GetOrgId(), req.GetBookingId()); err != nil {
		return nil, err
	}
	in := req.GetMeeting()
	if in == nil {
		return nil, errs.InvalidArgument("meeting", meeting.ReasonInvalidMeeting, "meeting must be set")
	}
	c := meeting.Change{Details: meeting.Details{Topic: in.GetTopic(), Timezone: in.GetTimezone(), Agenda: in.GetAgenda(),
		StartTime: in.GetStartTime().AsTime(), Duration: in.GetDuration().AsDuration()}}
	c.Fields = req.GetUpdateMask().GetPaths()
	if len(c.Fields) == 0 { // AIP-134: no mask means the populated fields
		for f, set := range map[string]bool{"topic": in.GetTopic() != "", "start_time": in.GetStartTime() != nil,
			"duration": in.GetDuration() != nil, "timezone": in.GetTimezone() != "", "agenda": in.GetAgenda() != ""} {
			if set {
				c.Fields = append(c.Fields, f)
			}
		}
	}
	if err := validateDetails(c.Details, c.Fields); err != nil {
		return nil, err
	}
	m, err := s.Meetings.Update(ctx, req.GetOrgId(), req.GetBookingId(), c)
	if err != nil {
		return nil, err
	}
	return &zcv1.UpdateMeetingResponse{Meeting: meetingProto(m)}, nil
}

// DeleteMeeting cancels a booking's meeting.
func (s *MeetingServer) DeleteMeeting(ctx context.Context, req *zcv1.DeleteMeetingRequest) (*zcv1.DeleteMeetingResponse, error) {
	if err := s.authorize(ctx, req.GetOrgId(), req.GetBookingId()); err != nil {
		return nil, err
	}
	if err := s.Meetings.Delete(ctx, req.GetOrgId(), req.GetBookingId()); err != nil {
		return nil, err
	}
	return &zcv1.DeleteMeetingResponse{}, nil
}

func (s *MeetingServer) authorize(ctx context.Context, orgID, bookingID string) error {
	if _, err := callerFor(ctx, orgID, internalOnly); err != nil {
		return err
	}
	if err := CheckID("booking_id", bookingID); err != nil {
		return err
	}
	return nil
}

var allMeetingFields = []string{"topic", "start_time", "duration", "timezone", "agenda"}

// validateDetails checks the named fields against Zoom's limits, so that
// Zoom's refusal never surfaces as an opaque error.
func validateDetails(d meeting.Details, fields []string) error {
	bad := func(field, format string, args ...any) error {
		return errs.InvalidArgument(field, meeting.ReasonInvalidMeeting, format, args...)
	}
	for _, f := range fields {
		switch f {
		case "topic":
			if d.Topic == "" || utf8.RuneCountInString(d.Topic) > 200 {
				return bad("topic", "topic must be 1 to 200 characters")
			}
		case "start_time":
			if d.StartTime.IsZero() || d.StartTime.Year() > 9999 || d.StartTime.Before(time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)) {
				return bad("start_time", "start_time must be a real time")
			}
		case "duration":
			if d.Duration < time.Minute || d.Duration > 24*time.Hour || d.Duration%time.Minute != 0 {
				return bad("duration", "duration must be whole minutes between 1 minute and 24 hours")
			}
		case "timezone":
			if d.Timezone != "" {
				if _, err := time.LoadLocation(d.Timezone); err != nil || d.Timezone == "Local" {
					return bad("timezone", "timezone %q is not an IANA time zone such as Europe/Berlin", d.Timezone)
				}
			}
		case "agenda":
			if utf8.RuneCountInString(d.Agenda) > 2000 {
				return bad("agenda", "agenda must be at most 2000 characters (Zoom's limit)")
			}
		}
	}
	return nil
}

var meetingSourceProto = map[string]zcv1.ConnectionSource{
	meeting.SourcePersonal:     zcv1.ConnectionSource_CONNECTION_SOURCE_PERSONAL,
	meeting.SourceOrganization: zcv1.ConnectionSource_CONNECTION_SOURCE_ORGANIZATION,
}

func meetingProto(m *store.Meeting) *zcv1.Meeting {
	return &zcv1.Meeting{
		OrgId: m.OrgID, BookingId: m.BookingID, UserId: m.UserID, Topic: m.Topic,
		StartTime: timestamppb.New(m.StartTime), Duration: durationpb.New(m.Duration),
		Timezone: m.Timezone, Agenda: m.Agenda, JoinUrl: m.JoinURL, ZoomMeetingId: m.ZoomMeetingID,
		Passcode: m.Passcode, HostEmail: m.HostEmail, Source: meetingSourceProto[m.Source],
		ZoomAccountId: m.ZoomAccountID, CreateTime: timestampOrNil(m.CreatedAt), UpdateTime: timestampOrNil(m.UpdatedAt),
	}
}
