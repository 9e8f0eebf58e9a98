package app_test

import (
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	zcv1 "github.com/zoomconnect/zoomconnect/gen/zoomconnect/v1"
	"github.com/zoomconnect/zoomconnect/server/config"
	"github.com/zoomconnect/zoomconnect/server/internal/webtest"
	"github.com/zoomconnect/zoomconnect/server/zoom"
	"github.com/zoomconnect/zoomconnect/server/zoomemu"
	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/types/known/fieldmaskpb"
	"google.golang.org/protobuf/types/known/timestamppb"
)

// The tests in this file hold the service to Zoom's documented behaviour
// (zoom-api.md), which the emulator reproduces: lists that cut agendas to
// 250 characters, passcodes only as the host's settings or the request
// say, scopes checked on every call, and 429s without Retry-After.

// hostMeetings returns Zoom's meetings of host whose topic is topic.
func hostMeetings(h *harness, host, topic string) []zoomemu.Meeting {
	var out []zoomemu.Meeting
	for _, m := range h.zoom.Meetings(host) {
		if m.Topic == topic {
			out = append(out, m)
		}
	}
	return out
}

// sameTransport is o's transport kind on another instance.
func sameTransport(o *org, h *harness) transport {
	if o.tr.name() == "grpc" {
		return grpcTransport{h}
	}
	return restTransport{h}
}

func TestMeetingsAgainstZoomRules(t *testing.T) {
	forEachBackend(t, func(t *testing.T, redisURL string) {
		h := newHarness(t, redisURL, withZoom(func(z *zoomemu.Config) { z.MeetingPasscodeOptional = true }))
		// The retry after a lost answer goes to another replica where
		// replicas can share the store.
		retryOn := h
		if redisURL != "" {
			retryOn = h.replica(t)
		}
		for _, tr := range transports(h) {
			t.Run(tr.name(), func(t *testing.T) {
				t.Run("a lost answer, a long agenda, a retry on another replica: one meeting", func(t *testing.T) {
					lostAnswerLongAgenda(t, newOrg(h, t, tr, "agenda"), retryOn)
				})
				t.Run("require_passcode sends a passcode Zoom accepts", func(t *testing.T) { passcodes(t, newOrg(h, t, tr, "passcode")) })
				t.Run("Zoom's 429s without Retry-After", func(t *testing.T) { rateLimitsAsZoomSendsThem(t, newOrg(h, t, tr, "limits")) })
			})
		}
	})
}

func lostAnswerLongAgenda(t *testing.T, o *org, retryOn *harness) {
	o.connect(t)
	o.upsertMembers(t)
	other := *o
	other.h, other.tr = retryOn, sameTransport(o, retryOn)
	for _, n := range []int{600, 2000} {
		booking := fmt.Sprintf("long-%d", n)
		req := createReq(o, booking, "mia")
		req.Topic = o.id + " " + booking
		req.Agenda = strings.Repeat("Zoom lists only the first 250 characters. ", n/42+1)[:n-1] + "!"
		o.h.zoom.InjectFault(zoomemu.EndpointMeetings, zoomemu.Fault{DropAfterProcessing: true, Times: 1})
		_, err := o.createMeeting(t, req)
		wantCode(t, err, codes.Unavailable, zcv1.ErrorReason_ERROR_REASON_ZOOM_UNAVAILABLE)
		if msg := err.(*apiError).msg; !strings.Contains(msg, "unknown") || !strings.Contains(msg, "safe") || strings.Contains(msg, "nothing was changed") {
			t.Fatalf("the unknown outcome is misreported: %q", msg)
		}
		if got := hostMeetings(o.h, zoomemu.DevMemberID, req.Topic); len(got) != 1 {
			t.Fatalf("Zoom made %d meetings before the retry, want 1", len(got))
		}
		m, err := other.createMeeting(t, req)
		must(t, err)
		got := hostMeetings(o.h, zoomemu.DevMemberID, req.Topic)
		if len(got) != 1 || got[0].ID != m.GetZoomMeetingId() {
			t.Fatalf("agenda of %d characters: after the retry Zoom has %d meetings (want the one answered, %d)", n, len(got), m.GetZoomMeetingId())
		}
		if !strings.HasPrefix(got[0].Agenda, req.Agenda) || m.GetAgenda() != req.Agenda {
			t.Fatalf("agenda of %d characters: the booking's agenda was not kept whole", n)
		}
		must(t, o.deleteMeeting(t, booking))
		if got := hostMeetings(o.h, zoomemu.DevMemberID, req.Topic); len(got) != 0 {
			t.Fatalf("cancelled, yet Zoom keeps %d meetings", len(got))
		}
	}
	_, err := o.disconnect(t, o.owner)
	must(t, err)
}

// passcodes: the emulator's hosts do not require passcodes (as a Zoom
// account may be set up), so only an explicit passcode makes one.
func passcodes(t *testing.T, o *org) {
	o.connect(t)
	o.upsertMembers(t)
	m, err := o.createMeeting(t, createReq(o, "open", "mia"))
	must(t, err)
	if m.GetPasscode() != "" {
		t.Fatalf("a passcode without require_passcode: %q", m.GetPasscode())
	}
	_, err = o.updateSettings(t, o.admin, &zcv1.OrgZoomSettings{RequirePasscode: true}, "require_passcode")
	must(t, err)
	seen := map[string]bool{}
	for i := range 3 {
		m, err := o.createMeeting(t, createReq(o, fmt.Sprintf("locked-%d", i), "mia"))
		must(t, err)
		pc := m.GetPasscode()
		zm, ok := o.h.zoom.Meeting(m.GetZoomMeetingId())
		if !ok || zm.Password != pc || !validPasscode(pc) || seen[pc] {
			t.Fatalf("passcode %q (Zoom has %q): want a fresh one of at most 10 of [a-zA-Z0-9@-_*]", pc, zm.Password)
		}
		seen[pc] = true
	}
	reschedule := func(booking string) *zcv1.Meeting {
		t.Helper()
		resp := &zcv1.UpdateMeetingResponse{}
		must(t, o.tr.call(t, internalToken(t), zcv1.MeetingService_UpdateMeeting_FullMethodName, &zcv1.UpdateMeetingRequest{
			OrgId: o.id, BookingId: booking, Meeting: &zcv1.Meeting{StartTime: timestamppb.New(meetingStart.Add(time.Hour))},
			UpdateMask: &fieldmaskpb.FieldMask{Paths: []string{"start_time"}}}, resp))
		m := resp.GetMeeting()
		if zm, _ := o.h.zoom.Meeting(m.GetZoomMeetingId()); zm.Password != m.GetPasscode() || zm.JoinURL != m.GetJoinUrl() || !validPasscode(m.GetPasscode()) {
			t.Fatalf("after a reschedule Zoom has passcode %q and join URL %q, the service %q and %q", zm.Password, zm.JoinURL, m.GetPasscode(), m.GetJoinUrl())
		}
		return m
	}
	// A reschedule keeps the passcode (and join URL) the invitations carry.
	if m := reschedule("locked-0"); !seen[m.GetPasscode()] {
		t.Fatalf("the reschedule changed the passcode to %q", m.GetPasscode())
	}
	// One made before require_passcode was turned on gets one.
	reschedule("open")
	for _, b := range []string{"open", "locked-0", "locked-1", "locked-2"} {
		must(t, o.deleteMeeting(t, b))
	}
	_, err = o.disconnect(t, o.owner)
	must(t, err)
}

func validPasscode(pc string) bool {
	return pc != "" && len(pc) <= 10 && strings.Trim(pc, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789@-_*") == ""
}

func rateLimitsAsZoomSendsThem(t *testing.T, o *org) {
	o.connect(t)
	o.upsertMembers(t)
	untilMidnight := func() time.Duration { return zoom.NextUTCMidnight(time.Now()).Sub(time.Now()) }
	for name, f := range map[string]zoomemu.Fault{
		"account daily limit, no Retry-After": {Status: http.StatusTooManyRequests, Times: 1,
			Header: http.Header{"X-Ratelimit-Type": {"Daily-limit"}, "X-Ratelimit-Category": {"Medium"}},
			Body:   `{"code":429,"message":"You have reached the maximum daily rate limit for this API. Refer to the response header for details on when you can make another request."}`},
		"the host's 100 a day, no headers": {Status: http.StatusTooManyRequests, Times: 1,
			Header: http.Header{"X-Ratelimit-Category": {"Light"}},
			Body:   `{"code":429,"message":"You have exceeded the daily rate limit (100) of Meeting Create/Update API requests permitted for this particular user. You may resume these requests at GMT 00:00:00."}`},
	} {
		o.h.zoom.InjectFault(zoomemu.EndpointMeetings, f)
		_, err := o.createMeeting(t, createReq(o, "daily", "mia"))
		wantCode(t, err, codes.ResourceExhausted, zcv1.ErrorReason_ERROR_REASON_ZOOM_RATE_LIMITED)
		if d, want := err.(*apiError).retry, untilMidnight(); d < want-time.Minute || d > want+time.Minute {
			t.Fatalf("%s: RetryInfo %v, want the wait until 00:00 UTC (%v)", name, d, want)
		}
	}
	// A per-second 429 (no Retry-After) is retried after a jittered pause.
	before := o.h.zoom.Stats().FaultResponses
	o.h.zoom.InjectFault(zoomemu.EndpointMeetings, zoomemu.Fault{Status: http.StatusTooManyRequests, Times: 1,
		Header: http.Header{"X-Ratelimit-Type": {"QPS"}},
		Body:   `{"code":429,"message":"You have reached the maximum per-second rate limit for this API. Try again later."}`})
	began := time.Now()
	m, err := o.createMeeting(t, createReq(o, "daily", "mia"))
	must(t, err)
	if took := time.Since(began); o.h.zoom.Stats().FaultResponses != before+1 || took < time.Second {
		t.Fatalf("the per-second 429 was not met with a pause (took %v)", took)
	}
	must(t, o.deleteMeeting(t, m.GetBookingId()))
	_, err = o.disconnect(t, o.owner)
	must(t, err)
}

// TestZoomScopeMissing: an org app configured without the scope to list
// meetings cannot look for a meeting after a lost answer. The caller is
// told which scope and which app, once in the activity log, no retry
// loop; the booking can still be cancelled.
func TestZoomScopeMissing(t *testing.T) {
	forEachBackend(t, func(t *testing.T, redisURL string) {
		h := newHarness(t, redisURL, withZoom(func(z *zoomemu.Config) {
			for i := range z.Clients {
				if z.Clients[i].AdminManaged {
					z.Clients[i].Scopes = []string{"user:read:user:admin", "meeting:read:meeting:admin", "meeting:write:meeting:admin",
						"meeting:update:meeting:admin", "meeting:delete:meeting:admin"}
				} else {
					z.Clients[i].Scopes = []string{"meeting:read:list_meetings", "meeting:read:meeting", "meeting:write:meeting"}
				}
			}
		}))
		for _, tr := range transports(h) {
			t.Run(tr.name(), func(t *testing.T) {
				o := newOrg(h, t, tr, "scopes")
				o.connect(t)
				o.upsertMembers(t)
				h.zoom.InjectFault(zoomemu.EndpointMeetings, zoomemu.Fault{DropAfterProcessing: true, Times: 1})
				_, err := o.createMeeting(t, createReq(o, "b1", "mia"))
				wantCode(t, err, codes.Unavailable, zcv1.ErrorReason_ERROR_REASON_ZOOM_UNAVAILABLE)
				for range 3 {
					calls := h.zoom.Stats().MeetingsCalls
					_, err = o.createMeeting(t, createReq(o, "b1", "mia"))
					wantCode(t, err, codes.FailedPrecondition, zcv1.ErrorReason_ERROR_REASON_ZOOM_SCOPE_MISSING)
					if msg := err.(*apiError).msg; !strings.Contains(msg, "meeting:read:list_meetings:admin") ||
						!strings.Contains(msg, "admin-managed") || !strings.Contains(msg, "ZOOM_ORG_CLIENT_ID") {
						t.Fatalf("the message does not say which scope and app: %q", msg)
					}
					if n := h.zoom.Stats().MeetingsCalls - calls; n != 1 {
						t.Fatalf("%d Meetings API calls for one refused search, want 1 (no retry loop)", n)
					}
				}
				if noted := o.activityCount(t, zcv1.ActivityKind_ACTIVITY_KIND_ZOOM_SCOPE_MISSING); noted != 1 {
					t.Fatalf("the missing scope is in the activity log %d times, want once", noted)
				}
				if got := o.activityDetails(t, "missingScope"); len(got) != 1 || !strings.Contains(got[0], "meeting:read:list_meetings:admin") {
					t.Fatalf("activity details: %q", got)
				}
				must(t, o.deleteMeeting(t, "b1"))
				_, err = o.getMeeting(t, "b1")
				wantCode(t, err, codes.NotFound, zcv1.ErrorReason_ERROR_REASON_MEETING_NOT_FOUND)

				// The user-managed app cannot even read who approved it.
				resp := &zcv1.StartPersonalConnectionResponse{}
				must(t, o.tr.call(t, o.userToken(t, "mia"), zcv1.ConnectionService_StartPersonalConnection_FullMethodName,
					&zcv1.StartPersonalConnectionRequest{OrgId: o.id, UserId: "mia"}, resp))
				callback, _ := h.browser.SignInAtZoom(h.openPersonalLink(t, h.browser, resp.GetAuthorizeUrl()), zoomemu.DevMemberID, "allow")
				// FAILED_PRECONDITION is 400 on every HTTP path (errs.HTTPStatus)
				webtest.WantPage(t, h.browser.Get(callback), http.StatusBadRequest, "ZOOM_SCOPE_MISSING", "user:read:user", "ZOOM_USER_CLIENT_ID")
				_, err = o.disconnect(t, o.owner)
				must(t, err)
			})
		}
	})
}

// TestZoomPacing: with the default pacing, bursts of meetings for one Zoom
// account stay within Zoom's Free-plan Medium limit (2 a second), which
// the emulator enforces.
func TestZoomPacing(t *testing.T) {
	h := newHarness(t, "", withService(func(c *config.Config) { c.ZoomRate = config.DefaultZoomRate }),
		withZoom(func(z *zoomemu.Config) { z.MediumPerSecond = 2 }))
	o := newOrg(h, t, grpcTransport{h}, "pacing")
	o.connect(t)
	o.upsertMembers(t)
	var wg sync.WaitGroup
	for i := range 6 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := o.createMeeting(t, createReq(o, fmt.Sprintf("p%d", i), "mia")); err != nil {
				t.Errorf("create %d: %v", i, err)
			}
		}()
	}
	wg.Wait()
	if n := h.zoom.Stats().AccountRateLimited; n != 0 {
		t.Fatalf("Zoom refused %d calls over its per-second limit", n)
	}
	if n := len(h.zoom.Meetings(zoomemu.DevMemberID)); n != 6 {
		t.Fatalf("Zoom has %d meetings, want 6", n)
	}
}
