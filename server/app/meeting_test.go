package app_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	zcv1 "github.com/zoomconnect/zoomconnect/gen/zoomconnect/v1"
	"github.com/zoomconnect/zoomconnect/server/zoomemu"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/fieldmaskpb"
	"google.golang.org/protobuf/types/known/timestamppb"
)

var meetingStart = time.Now().Add(48 * time.Hour).Truncate(time.Minute).UTC()

func createReq(o *org, booking, user string) *zcv1.CreateMeetingRequest {
	return &zcv1.CreateMeetingRequest{OrgId: o.id, BookingId: booking, UserId: user, Topic: "Intro call",
		StartTime: timestamppb.New(meetingStart), Duration: durationpb.New(30 * time.Minute),
		Timezone: "Europe/Berlin", Agenda: "Getting to know each other"}
}

func (o *org) createMeeting(t testing.TB, req *zcv1.CreateMeetingRequest) (*zcv1.Meeting, error) {
	t.Helper()
	resp := &zcv1.CreateMeetingResponse{}
	err := o.tr.call(t, internalToken(t), zcv1.MeetingService_CreateMeeting_FullMethodName, req, resp)
	return resp.GetMeeting(), err
}

func (o *org) deleteMeeting(t testing.TB, booking string) error {
	t.Helper()
	return o.tr.call(t, internalToken(t), zcv1.MeetingService_DeleteMeeting_FullMethodName,
		&zcv1.DeleteMeetingRequest{OrgId: o.id, BookingId: booking}, &zcv1.DeleteMeetingResponse{})
}

func (o *org) getMeeting(t testing.TB, booking string) (*zcv1.Meeting, error) {
	t.Helper()
	resp := &zcv1.GetMeetingResponse{}
	err := o.tr.call(t, internalToken(t), zcv1.MeetingService_GetMeeting_FullMethodName,
		&zcv1.GetMeetingRequest{OrgId: o.id, BookingId: booking}, resp)
	return resp.GetMeeting(), err
}

// zoomMeetings counts the meetings Zoom holds for host that belong to org o
// (the service marks each meeting's agenda with its org and booking).
func zoomMeetings(o *org, host string) int {
	n := 0
	for _, m := range o.h.zoom.Meetings(host) {
		if strings.Contains(m.Agenda, "[zoomconnect booking "+o.id+"/") {
			n++
		}
	}
	return n
}

func TestMeetings(t *testing.T) {
	forEachBackend(t, func(t *testing.T, redisURL string) {
		h := newHarness(t, redisURL)
		for _, tr := range transports(h) {
			t.Run(tr.name(), func(t *testing.T) {
				t.Run("create, retry, get, reschedule, cancel twice", func(t *testing.T) { meetingLifecycle(t, newOrg(h, t, tr, "meet")) })
				t.Run("no usable connection is a clear precondition", func(t *testing.T) { meetingPreconditions(t, newOrg(h, t, tr, "nomeet")) })
				t.Run("Zoom's 429 becomes RESOURCE_EXHAUSTED with RetryInfo", func(t *testing.T) { meetingRateLimited(t, newOrg(h, t, tr, "ratelimit")) })
				t.Run("Zoom down: UNAVAILABLE within the deadline, nothing half-written", func(t *testing.T) { meetingZoomDown(t, newOrg(h, t, tr, "down")) })
				t.Run("a lost answer after Zoom created the meeting, then a retry", func(t *testing.T) { meetingLostAnswer(t, newOrg(h, t, tr, "lost")) })
			})
		}
	})
}

func meetingLifecycle(t testing.TB, o *org) {
	h := o.h
	o.connect(t)
	_, err := o.updateSettings(t, o.admin, &zcv1.OrgZoomSettings{RequirePasscode: true, WaitingRoom: true}, "require_passcode", "waiting_room")
	must(t, err)
	o.upsertMembers(t)
	m, err := o.createMeeting(t, createReq(o, "b1", "mia"))
	must(t, err)
	if m.GetJoinUrl() == "" || m.GetZoomMeetingId() < 1<<32 || m.GetPasscode() == "" || m.GetHostEmail() != "member@acme.example" ||
		m.GetSource() != srcOrg || m.GetZoomAccountId() != zoomemu.DevAccountID {
		t.Fatalf("created meeting = %v", m)
	}
	again, err := o.createMeeting(t, createReq(o, "b1", "mia"))
	must(t, err)
	if again.GetZoomMeetingId() != m.GetZoomMeetingId() || again.GetJoinUrl() != m.GetJoinUrl() {
		t.Fatalf("a retry answered another meeting: %v vs %v", again, m)
	}
	if n := zoomMeetings(o, zoomemu.DevMemberID); n != 1 {
		t.Fatalf("Zoom has %d meetings for the host, want 1", n)
	}
	changed := createReq(o, "b1", "mia")
	changed.Topic = "Something else"
	_, err = o.createMeeting(t, changed)
	wantCode(t, err, codes.AlreadyExists, zcv1.ErrorReason_ERROR_REASON_BOOKING_CONFLICT)
	got, err := o.getMeeting(t, "b1")
	must(t, err)
	if got.GetZoomMeetingId() != m.GetZoomMeetingId() {
		t.Fatalf("get = %v", got)
	}

	// Reschedule after the meeting was deleted in Zoom: a new one is made.
	must(t, h.zoom.DeleteMeeting(m.GetZoomMeetingId()))
	resp := &zcv1.UpdateMeetingResponse{}
	later := meetingStart.Add(24 * time.Hour)
	must(t, o.tr.call(t, internalToken(t), zcv1.MeetingService_UpdateMeeting_FullMethodName, &zcv1.UpdateMeetingRequest{
		OrgId: o.id, BookingId: "b1", Meeting: &zcv1.Meeting{StartTime: timestamppb.New(later)},
		UpdateMask: &fieldmaskpb.FieldMask{Paths: []string{"start_time"}}}, resp))
	if r := resp.GetMeeting(); r.GetZoomMeetingId() == m.GetZoomMeetingId() || r.GetJoinUrl() == m.GetJoinUrl() ||
		!r.GetStartTime().AsTime().Equal(later) || r.GetTopic() != "Intro call" {
		t.Fatalf("rescheduled meeting = %v", r)
	}
	if n := zoomMeetings(o, zoomemu.DevMemberID); n != 1 {
		t.Fatalf("Zoom has %d meetings after the recreate, want 1", n)
	}

	must(t, o.deleteMeeting(t, "b1"))
	must(t, o.deleteMeeting(t, "b1"))
	if n := zoomMeetings(o, zoomemu.DevMemberID); n != 0 {
		t.Fatalf("Zoom still has %d meetings after cancelling", n)
	}
	_, err = o.getMeeting(t, "b1")
	wantCode(t, err, codes.NotFound, zcv1.ErrorReason_ERROR_REASON_MEETING_NOT_FOUND)

	// A personal connection takes precedence for new meetings.
	o.connectPersonal(t, "mia", zoomemu.DevOtherOwnerID)
	p, err := o.createMeeting(t, createReq(o, "b2", "mia"))
	must(t, err)
	if p.GetSource() != srcPersonal || p.GetZoomAccountId() != zoomemu.DevOtherAccountID || zoomMeetings(o, zoomemu.DevOtherOwnerID) != 1 {
		t.Fatalf("personal meeting = %v", p)
	}
	must(t, o.deleteMeeting(t, "b2"))
	must(t, o.tr.call(t, o.userToken(t, "mia"), zcv1.ConnectionService_DisconnectPersonalConnection_FullMethodName,
		&zcv1.DisconnectPersonalConnectionRequest{OrgId: o.id, UserId: "mia"}, &zcv1.DisconnectPersonalConnectionResponse{}))
	_, err = o.disconnect(t, o.owner)
	must(t, err)
}

func meetingPreconditions(t testing.TB, o *org) {
	o.upsertMembers(t)
	_, err := o.createMeeting(t, createReq(o, "b1", "mia"))
	wantCode(t, err, codes.FailedPrecondition, zcv1.ErrorReason_ERROR_REASON_NO_ZOOM_CONNECTION)
	o.connect(t)
	_, err = o.createMeeting(t, createReq(o, "b2", "liam"))
	wantCode(t, err, codes.FailedPrecondition, zcv1.ErrorReason_ERROR_REASON_USER_NOT_IN_ZOOM_ACCOUNT)
	bad := createReq(o, "b3", "mia")
	bad.Duration = durationpb.New(90 * time.Second)
	_, err = o.createMeeting(t, bad)
	wantCode(t, err, codes.InvalidArgument, zcv1.ErrorReason_ERROR_REASON_INVALID_MEETING)
	_, err = o.createMeeting(t, &zcv1.CreateMeetingRequest{OrgId: o.id, BookingId: "b4", UserId: "mia"})
	wantCode(t, err, codes.InvalidArgument, zcv1.ErrorReason_ERROR_REASON_INVALID_MEETING)
	err = o.tr.call(t, o.owner, zcv1.MeetingService_CreateMeeting_FullMethodName, createReq(o, "b5", "mia"), &zcv1.CreateMeetingResponse{})
	wantCode(t, err, codes.PermissionDenied, zcv1.ErrorReason_ERROR_REASON_INTERNAL_ONLY)

	// The org grant dies behind the service's back (uninstalled in Zoom):
	// the next use finds out, and the connection needs reconnecting.
	must(t, o.h.zoom.Uninstall(orgClientID, zoomemu.DevAdminID))
	_, err = o.createMeeting(t, createReq(o, "b6", "mia"))
	wantCode(t, err, codes.FailedPrecondition, zcv1.ErrorReason_ERROR_REASON_ORG_NEEDS_RECONNECT)
	o.wantState(t, zcv1.ConnectionState_CONNECTION_STATE_NEEDS_RECONNECT, zcv1.ConnectionStateReason_CONNECTION_STATE_REASON_INVALID_GRANT)
	if kinds := o.activityKinds(t); kinds[0] != zcv1.ActivityKind_ACTIVITY_KIND_ORG_NEEDS_RECONNECT {
		t.Fatalf("activity = %v", kinds)
	}
	_, err = o.createMeeting(t, createReq(o, "b7", "mia"))
	wantCode(t, err, codes.FailedPrecondition, zcv1.ErrorReason_ERROR_REASON_ORG_NEEDS_RECONNECT)
	_, err = o.disconnect(t, o.owner)
	must(t, err)
}

func meetingRateLimited(t testing.TB, o *org) {
	o.connect(t)
	o.upsertMembers(t)
	retryAt := time.Now().Add(90 * time.Minute).UTC().Truncate(time.Second)
	o.h.zoom.InjectFault(zoomemu.EndpointMeetings, zoomemu.Fault{Status: http.StatusTooManyRequests, Times: 1,
		Header: http.Header{"Retry-After": {retryAt.Format(time.RFC3339)}, "X-Ratelimit-Type": {"Daily-limit"}},
		Body:   `{"code":429,"message":"You have exceeded the daily rate limit (100) of Meeting Create/Update API requests permitted for this particular user. You may resume these requests at GMT 00:00:00."}`})
	_, err := o.createMeeting(t, createReq(o, "b1", "mia"))
	wantCode(t, err, codes.ResourceExhausted, zcv1.ErrorReason_ERROR_REASON_ZOOM_RATE_LIMITED)
	if d := err.(*apiError).retry; d < 85*time.Minute || d > 91*time.Minute {
		t.Fatalf("RetryInfo delay %v, want about 90 minutes", d)
	}
	m, err := o.createMeeting(t, createReq(o, "b1", "mia")) // the limit has passed
	must(t, err)
	must(t, o.deleteMeeting(t, m.GetBookingId()))
	_, err = o.disconnect(t, o.owner)
	must(t, err)
}

func meetingZoomDown(t testing.TB, o *org) {
	o.connect(t)
	o.upsertMembers(t)
	o.h.zoom.InjectFault(zoomemu.EndpointMeetings, zoomemu.Fault{Status: http.StatusServiceUnavailable, Body: "unavailable"})
	began := time.Now()
	_, err := o.createMeeting(t, createReq(o, "b1", "mia")) // the transports give 10 s
	wantCode(t, err, codes.Unavailable, zcv1.ErrorReason_ERROR_REASON_ZOOM_UNAVAILABLE)
	if took := time.Since(began); took > 10*time.Second {
		t.Fatalf("took %v", took)
	}
	_, err = o.getMeeting(t, "b1")
	wantCode(t, err, codes.NotFound, zcv1.ErrorReason_ERROR_REASON_MEETING_NOT_FOUND)
	o.h.zoom.ClearFaults()
	m, err := o.createMeeting(t, createReq(o, "b1", "mia"))
	must(t, err)
	if n := zoomMeetings(o, zoomemu.DevMemberID); n != 1 {
		t.Fatalf("Zoom has %d meetings, want 1", n)
	}
	must(t, o.deleteMeeting(t, m.GetBookingId()))
	_, err = o.disconnect(t, o.owner)
	must(t, err)
}

func meetingLostAnswer(t testing.TB, o *org) {
	o.connect(t)
	o.upsertMembers(t)
	o.h.zoom.InjectFault(zoomemu.EndpointMeetings, zoomemu.Fault{DropAfterProcessing: true, Times: 2})
	_, err := o.createMeeting(t, createReq(o, "b1", "mia"))
	wantCode(t, err, codes.Unavailable, 0)
	_, err = o.createMeeting(t, createReq(o, "b2", "mia"))
	wantCode(t, err, codes.Unavailable, 0)
	if n := zoomMeetings(o, zoomemu.DevMemberID); n != 2 {
		t.Fatalf("Zoom has %d meetings after the lost answers, want 2", n)
	}
	// Cancelling a booking whose creation went unanswered finds and
	// deletes the meeting Zoom made.
	must(t, o.deleteMeeting(t, "b2"))
	if n := zoomMeetings(o, zoomemu.DevMemberID); n != 1 {
		t.Fatalf("Zoom has %d meetings after cancelling b2, want 1", n)
	}
	m, err := o.createMeeting(t, createReq(o, "b1", "mia"))
	must(t, err)
	if n := zoomMeetings(o, zoomemu.DevMemberID); n != 1 || m.GetJoinUrl() == "" {
		t.Fatalf("after the retry Zoom has %d meetings (want 1): %v", n, m)
	}
	must(t, o.deleteMeeting(t, "b1"))
	_, err = o.disconnect(t, o.owner)
	must(t, err)
}

// TestMeetingsAcrossReplicas: many concurrent creates of one booking over
// two instances make one Zoom meeting; two instances refreshing one
// connection at the same moment spend its refresh token once.
func TestMeetingsAcrossReplicas(t *testing.T) {
	for _, b := range backends[1:] {
		t.Run(b.name, func(t *testing.T) {
			// Access tokens live 61 s, so each is due for refresh (60 s
			// early) a second after it was issued.
			a := newHarness(t, b.redisURL(t), withZoom(func(z *zoomemu.Config) { z.AccessTokenTTL = 61 * time.Second }))
			z := a.replica(t)
			oa := newOrg(a, t, grpcTransport{a}, "exactly-once")
			oa.connect(t)
			oa.upsertMembers(t)

			create := func(h *harness, booking string) (*zcv1.Meeting, error) {
				ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
				defer cancel()
				ctx = metadata.AppendToOutgoingContext(ctx, "authorization", "Bearer "+internalToken(t))
				resp, err := zcv1.NewMeetingServiceClient(h.conn).CreateMeeting(ctx, createReq(oa, booking, "mia"))
				return resp.GetMeeting(), err
			}

			for round := range 3 {
				time.Sleep(1100 * time.Millisecond) // the token is due
				before := a.zoom.Stats().Refreshes
				var wg sync.WaitGroup
				for i, h := range []*harness{a, z} {
					wg.Add(1)
					go func() {
						defer wg.Done()
						if _, err := create(h, fmt.Sprintf("refresh-%d-%d", round, i)); err != nil {
							t.Errorf("create on replica %d: %v", i, err)
						}
					}()
				}
				wg.Wait()
				if got := a.zoom.Stats().Refreshes - before; got != 1 {
					t.Fatalf("round %d: two replicas refreshed the connection %d times, want once", round, got)
				}
				oa.wantState(t, active, noReason)
			}

			var wg sync.WaitGroup
			ids := make(chan int64, 50)
			for i := range 50 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					m, err := create([]*harness{a, z}[i%2], "shared")
					if err != nil {
						t.Errorf("create %d: %v", i, err)
						return
					}
					ids <- m.GetZoomMeetingId()
				}()
			}
			wg.Wait()
			close(ids)
			seen := map[int64]bool{}
			for id := range ids {
				seen[id] = true
			}
			if len(seen) != 1 {
				t.Fatalf("50 creates of one booking answered %d different meetings", len(seen))
			}
			if n := zoomMeetings(oa, zoomemu.DevMemberID); n != 1+3*2 {
				t.Fatalf("Zoom has %d meetings for the host, want 7 (one shared booking, 6 others)", n)
			}
		})
	}
}
