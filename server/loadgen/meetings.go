package loadgen

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/fieldmaskpb"
	"google.golang.org/protobuf/types/known/timestamppb"

	zcv1 "github.com/zoomconnect/zoomconnect/gen/zoomconnect/v1"
)

// meetingHost is the member of ZoomOrg whose meetings the workload books.
const meetingHost = "host"

// meetings connects ZoomOrg to the Zoom emulator (once per run), registers
// its host, then books at o.MeetingRate bookings per second: each booking
// is created on one replica, rescheduled on the next and cancelled on the
// first again, so that every booking crosses replicas. It stops after
// o.Duration or o.MeetingBookings bookings; every call is one sample.
func (r *runner) meetings(ctx context.Context, res *Result) error {
	if err := r.connectZoomOrg(ctx); err != nil {
		return fmt.Errorf("connecting %s to the Zoom emulator: %w", ZoomOrg, err)
	}
	rec := newRecorder()
	start := time.Now()
	ctx, cancel := context.WithTimeout(ctx, r.o.Duration)
	defer cancel()
	interval := time.Duration(float64(time.Second) / r.o.MeetingRate)
	run := fmt.Sprintf("%x", start.UnixNano())
	var wg sync.WaitGroup
	booked := 0
	for b := 0; r.o.MeetingBookings <= 0 || b < r.o.MeetingBookings; b++ {
		if !waitUntil(ctx, start.Add(time.Duration(b)*interval)) {
			break
		}
		booked++
		wg.Go(func() { r.book(context.WithoutCancel(ctx), rec, b, fmt.Sprintf("lg-%s-%06d", run, b)) })
	}
	wg.Wait()
	res.Stats = rec.stats(time.Since(start))
	res.Notes = append(res.Notes, fmt.Sprintf("%d bookings at %.1f/s, each created, updated and deleted across %d replica(s)",
		booked, r.o.MeetingRate, len(r.env.Replicas)))
	return nil
}

// book creates, updates and deletes one booking's meeting.
func (r *runner) book(ctx context.Context, rec *recorder, b int, bookingID string) {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	ctx = r.asInternal(ctx)
	on := func(i int) zcv1.MeetingServiceClient { return zcv1.NewMeetingServiceClient(r.replicaConn(b + i)) }
	call := func(f func() error) bool {
		t0 := time.Now()
		err := f()
		rec.record(time.Since(t0), err)
		return err == nil
	}
	start := time.Now().Add(24 * time.Hour).Truncate(time.Minute)
	ok := call(func() error {
		_, err := on(0).CreateMeeting(ctx, &zcv1.CreateMeetingRequest{OrgId: ZoomOrg, BookingId: bookingID, UserId: meetingHost,
			Topic: "Load test " + bookingID, StartTime: timestamppb.New(start), Duration: durationpb.New(30 * time.Minute), Timezone: "UTC"})
		return err
	}) && call(func() error {
		_, err := on(1).UpdateMeeting(ctx, &zcv1.UpdateMeetingRequest{OrgId: ZoomOrg, BookingId: bookingID,
			Meeting:    &zcv1.Meeting{StartTime: timestamppb.New(start.Add(time.Hour))},
			UpdateMask: &fieldmaskpb.FieldMask{Paths: []string{"start_time"}}})
		return err
	})
	if ok {
		call(func() error {
			_, err := on(0).DeleteMeeting(ctx, &zcv1.DeleteMeetingRequest{OrgId: ZoomOrg, BookingId: bookingID})
			return err
		})
	}
}

// connectZoomOrg connects ZoomOrg through the install link, the emulator's
// consent (env.ZoomAdminID allows) and the OAuth callback, registers the
// host with env.ZoomHostEmail, and waits until the host resolves to a Zoom
// user. An org already connected is left as it is.
func (r *runner) connectZoomOrg(ctx context.Context) error {
	client := zcv1.NewConnectionServiceClient(r.replicaConn(0))
	conn, err := client.GetOrgConnection(r.asOwner(ctx, ZoomOrg), &zcv1.GetOrgConnectionRequest{OrgId: ZoomOrg})
	if err != nil {
		return err
	}
	if conn.GetConnection().GetState() != zcv1.ConnectionState_CONNECTION_STATE_ACTIVE {
		start, err := client.StartOrgConnection(r.asOwner(ctx, ZoomOrg), &zcv1.StartOrgConnectionRequest{OrgId: ZoomOrg})
		if err != nil {
			return err
		}
		if err := consent(ctx, start.GetInstallUrl(), r.env.ZoomAdminID); err != nil {
			return err
		}
	}
	_, err = client.UpsertOrgMember(r.asInternal(ctx), &zcv1.UpsertOrgMemberRequest{OrgId: ZoomOrg, UserId: meetingHost,
		Member: &zcv1.OrgMember{UserId: meetingHost, Email: r.env.ZoomHostEmail, Name: "Load Host"}})
	if err != nil {
		return err
	}
	for deadline := time.Now().Add(15 * time.Second); ; {
		resp, err := client.GetEffectiveZoomAccount(r.asInternal(ctx), &zcv1.GetEffectiveZoomAccountRequest{OrgId: ZoomOrg, UserId: meetingHost})
		if err != nil {
			return err
		}
		if resp.GetAccount().GetZoomUserId() != "" {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("the host was not matched to a Zoom user within 15s: %s", resp.GetAccount().GetExplanation())
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// consent follows an install link as a browser would: to the emulator's
// authorize page, where adminID allows, and back to the service's callback.
func consent(ctx context.Context, installURL, adminID string) error {
	client := &http.Client{Timeout: 10 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	redirect := func(method, u string, form url.Values) (string, error) {
		var body io.Reader
		if form != nil {
			body = strings.NewReader(form.Encode())
		}
		req, err := http.NewRequestWithContext(ctx, method, u, body)
		if err != nil {
			return "", err
		}
		if form != nil {
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		}
		resp, err := client.Do(req)
		if err != nil {
			return "", err
		}
		defer resp.Body.Close()
		text, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
		if resp.StatusCode == http.StatusOK && form == nil {
			return "", nil // a page: the end of the flow
		}
		if resp.StatusCode/100 != 3 {
			return "", fmt.Errorf("%s %s: HTTP %d: %s", method, u, resp.StatusCode, text)
		}
		return resp.Header.Get("Location"), nil
	}
	authorize, err := redirect(http.MethodGet, installURL, nil)
	if err != nil {
		return err
	}
	au, err := url.Parse(authorize)
	if err != nil || au.Host == "" {
		return fmt.Errorf("the install link redirected to %q, not to Zoom", authorize)
	}
	form := au.Query()
	form.Set("user_id", adminID)
	form.Set("decision", "allow")
	au.RawQuery = ""
	callback, err := redirect(http.MethodPost, au.String(), form)
	if err != nil {
		return err
	}
	if callback == "" {
		return errors.New("the Zoom consent did not redirect to the callback")
	}
	if _, err := redirect(http.MethodGet, callback, nil); err != nil {
		return fmt.Errorf("OAuth callback: %w", err)
	}
	return nil
}
