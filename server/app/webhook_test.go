package app_test

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	zcv1 "github.com/zoomconnect/zoomconnect/gen/zoomconnect/v1"
	"github.com/zoomconnect/zoomconnect/server/config"
	"github.com/zoomconnect/zoomconnect/server/store"
	"github.com/zoomconnect/zoomconnect/server/zoomemu"
	"google.golang.org/grpc/metadata"
	"google.golang.org/protobuf/types/known/fieldmaskpb"
)

// postWebhook sends body to the service as Zoom would, signed with secret
// at ts (seconds).
func (h *harness) postWebhook(t testing.TB, body []byte, secret string, ts time.Time) int {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, h.baseURL()+"/webhooks/zoom", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	stamp := strconv.FormatInt(ts.Unix(), 10)
	req.Header.Set("Content-Type", "application/json; charset=utf-8")
	req.Header.Set("x-zm-request-timestamp", stamp)
	req.Header.Set("x-zm-signature", zoomemu.Sign(secret, stamp, body))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// waitState polls the org connection until it has state and reason.
func (o *org) waitState(t testing.TB, state zcv1.ConnectionState, reason zcv1.ConnectionStateReason) {
	t.Helper()
	eventually(t, fmt.Sprintf("org connection %s/%s", state, reason), func() bool {
		c, err := o.get(t, o.mem)
		return err == nil && c.GetState() == state && c.GetReason() == reason
	})
}

func TestWebhooks(t *testing.T) {
	for _, b := range []backend{backends[0], backends[2]} { // embedded and cluster
		t.Run(b.name, func(t *testing.T) {
			url := b.redisURL(t)
			t.Run("validation, signatures and bad input", func(t *testing.T) {
				h := newHarness(t, url, withWebhooks())
				ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
				defer cancel()
				if _, err := h.zoom.SendURLValidation(ctx); err != nil {
					t.Fatalf("URL validation: %v", err)
				}
				o := newOrg(h, t, grpcTransport{h}, "sig")
				o.connect(t)
				body := []byte(`{"event":"user.deleted","event_ts":1,"payload":{"account_id":"` + zoomemu.DevAccountID + `","object":{"id":"` + zoomemu.DevAdminID + `"}}}`)
				now := time.Now()
				for name, status := range map[string]int{
					"forged signature": h.postWebhook(t, body, "not-the-secret", now),
					"stale timestamp":  h.postWebhook(t, body, webhookSecret, now.Add(-6*time.Minute)),
					"2 MB body":        h.postWebhook(t, bytes.Repeat([]byte(" "), 2<<20), webhookSecret, now),
					"garbage JSON":     h.postWebhook(t, []byte(`{"event":`), webhookSecret, now),
					"unknown event":    h.postWebhook(t, []byte(`{"event":"recording.completed","payload":{}}`), webhookSecret, now),
				} {
					want := map[string]int{"forged signature": 401, "stale timestamp": 401, "2 MB body": 413, "garbage JSON": 400, "unknown event": 204}[name]
					if status != want {
						t.Errorf("%s: HTTP %d, want %d", name, status, want)
					}
				}
				time.Sleep(300 * time.Millisecond)
				o.wantState(t, active, noReason) // nothing above changed anything

				// The same event twice (Zoom's retry): processed once.
				if s := h.postWebhook(t, body, webhookSecret, now); s != http.StatusNoContent {
					t.Fatalf("signed event: HTTP %d", s)
				}
				if s := h.postWebhook(t, body, webhookSecret, now.Add(time.Second)); s != http.StatusNoContent {
					t.Fatalf("replayed event: HTTP %d", s)
				}
				o.waitState(t, zcv1.ConnectionState_CONNECTION_STATE_NEEDS_RECONNECT, zcv1.ConnectionStateReason_CONNECTION_STATE_REASON_INSTALLER_REMOVED)
				time.Sleep(300 * time.Millisecond)
				if n := o.activityCount(t, zcv1.ActivityKind_ACTIVITY_KIND_ORG_NEEDS_RECONNECT); n != 1 {
					t.Fatalf("the replayed event was applied %d times", n)
				}
			})

			t.Run("without a secret every event is refused", func(t *testing.T) {
				h := newHarness(t, url)
				body := []byte(`{"event":"user.deleted","payload":{"object":{"id":"x"}}}`)
				for _, secret := range []string{"", webhookSecret} {
					if s := h.postWebhook(t, body, secret, time.Now()); s != http.StatusUnauthorized {
						t.Fatalf("HTTP %d with no secret configured, want 401", s)
					}
				}
			})

			t.Run("app_deauthorized for the org app and the user app", func(t *testing.T) {
				h := newHarness(t, url, withWebhooks())
				o := newOrg(h, t, grpcTransport{h}, "deauth")
				o.connect(t)
				o.upsertMembers(t)
				o.connectPersonal(t, "adam", zoomemu.DevOtherOwnerID)
				must(t, h.zoom.Uninstall(userClientID, zoomemu.DevOtherOwnerID))
				eventually(t, "personal connection removed", func() bool {
					return o.resolve(t, "adam").GetSource() == srcOrg
				})
				must(t, h.zoom.Uninstall(orgClientID, zoomemu.DevAdminID))
				o.waitState(t, notConnected, zcv1.ConnectionStateReason_CONNECTION_STATE_REASON_DEAUTHORIZED)
				// Both events processed before assertTokensDeleted, which
				// stops the embedded store's service: stopped mid-event, the
				// event would be retried only after the 30 s claim timeout.
				eventually(t, "both deauthorizations recorded as deletions", func() bool {
					return len(o.activityDetails(t, "deleted")) == 2
				})
				h.assertTokensDeleted(t, o.id)
				h.inspectStore(t, func(s store.Store) {
					members, err := s.ListMembers(context.Background(), o.id, "", 100)
					must(t, err)
					for _, m := range members {
						if m.Member != nil && m.Member.Match != nil {
							t.Errorf("member %s keeps the Zoom match %+v after the account deauthorized the app", m.UserID, m.Member.Match)
						}
					}
				})
				deleted := o.activityDetails(t, "deleted")
				if len(deleted) != 2 || !strings.Contains(deleted[0], "tokens") || !strings.Contains(deleted[1], "tokens") {
					t.Fatalf("the activity log does not say what was deleted: %q", deleted)
				}
				if n := h.zoom.Stats().ComplianceConfirmations; n != 0 {
					t.Fatalf("the deprecated Data Compliance API was called %d times", n)
				}
				wantResolution(t, o.resolve(t, "mia"), srcNone, zcv1.ResolutionReason_RESOLUTION_REASON_NO_CONNECTION, "")
			})

			t.Run("installer demoted or removed; member's Zoom user removed; meeting deleted", func(t *testing.T) {
				h := newHarness(t, url, withWebhooks())
				o := newOrg(h, t, grpcTransport{h}, "installer")
				o.connect(t)
				o.upsertMembers(t)
				m, err := o.createMeeting(t, createReq(o, "b1", "mia"))
				must(t, err)

				// meeting.deleted: the next update recreates the meeting.
				must(t, h.zoom.DeleteMeeting(m.GetZoomMeetingId()))
				ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
				defer cancel()
				must(t, h.zoom.WaitWebhooks(ctx))
				time.Sleep(200 * time.Millisecond)
				calls := h.zoom.Stats().MeetingsCalls
				resp := &zcv1.UpdateMeetingResponse{}
				must(t, o.tr.call(t, internalToken(t), zcv1.MeetingService_UpdateMeeting_FullMethodName, &zcv1.UpdateMeetingRequest{
					OrgId: o.id, BookingId: "b1", Meeting: &zcv1.Meeting{Topic: "Renamed"},
					UpdateMask: &fieldmaskpb.FieldMask{Paths: []string{"topic"}}}, resp))
				if resp.GetMeeting().GetZoomMeetingId() == m.GetZoomMeetingId() {
					t.Fatal("the meeting Zoom deleted was not recreated")
				}
				if n := h.zoom.Stats().MeetingsCalls - calls; n != 1 {
					t.Fatalf("the update made %d meeting calls; want 1 (a create: the webhook said the meeting is gone)", n)
				}

				// A member's Zoom user is deleted: the resolver stops using it.
				must(t, h.zoom.RemoveUser(zoomemu.DevMemberID))
				eventually(t, "member's identity dropped", func() bool {
					return o.resolve(t, "mia").GetReason() == zcv1.ResolutionReason_RESOLUTION_REASON_USER_NOT_IN_ZOOM_ACCOUNT
				})

				// The installer is demoted.
				must(t, h.zoom.SetUserRole(zoomemu.DevAdminID, "2", "Member"))
				o.waitState(t, zcv1.ConnectionState_CONNECTION_STATE_NEEDS_RECONNECT, zcv1.ConnectionStateReason_CONNECTION_STATE_REASON_ADMIN_ROLE_LOST)
			})

			t.Run("the installer leaves the Zoom account (user.disassociated)", func(t *testing.T) {
				h := newHarness(t, url, withWebhooks())
				o := newOrg(h, t, grpcTransport{h}, "leaver")
				o.connect(t)
				must(t, h.zoom.DisassociateUser(zoomemu.DevAdminID))
				o.waitState(t, zcv1.ConnectionState_CONNECTION_STATE_NEEDS_RECONNECT, zcv1.ConnectionStateReason_CONNECTION_STATE_REASON_INSTALLER_REMOVED)
			})

			t.Run("the monitor catches a demotion whose webhook never arrived", func(t *testing.T) {
				h := newHarness(t, url, withService(func(c *config.Config) { c.MonitorInterval = 300 * time.Millisecond }))
				o := newOrg(h, t, grpcTransport{h}, "monitor")
				o.connect(t)
				// Zoom down: probes fail, the connection stays healthy.
				h.zoom.InjectFault(zoomemu.EndpointUsers, zoomemu.Fault{Status: http.StatusServiceUnavailable, Body: "down"})
				time.Sleep(1200 * time.Millisecond)
				o.wantState(t, active, noReason)
				h.zoom.ClearFaults()
				must(t, h.zoom.SetUserRole(zoomemu.DevAdminID, "2", "Member"))
				o.waitState(t, zcv1.ConnectionState_CONNECTION_STATE_NEEDS_RECONNECT, zcv1.ConnectionStateReason_CONNECTION_STATE_REASON_ADMIN_ROLE_LOST)
			})

			t.Run("an acknowledged event survives a crash before processing", func(t *testing.T) {
				h := newHarness(t, url, withWebhooks(), withService(func(c *config.Config) { c.WebhookWorker = false }))
				o := newOrg(h, t, grpcTransport{h}, "crash")
				o.connect(t)
				body := []byte(`{"event":"user.deactivated","event_ts":2,"payload":{"account_id":"` + zoomemu.DevAccountID + `","object":{"id":"` + zoomemu.DevAdminID + `"}}}`)
				if s := h.postWebhook(t, body, webhookSecret, time.Now()); s != http.StatusNoContent {
					t.Fatalf("HTTP %d", s)
				}
				time.Sleep(300 * time.Millisecond)
				o.wantState(t, active, noReason) // acknowledged, not processed
				h.stop()                         // the process dies
				h.cfg.WebhookWorker = true
				h.start()
				o.waitState(t, zcv1.ConnectionState_CONNECTION_STATE_NEEDS_RECONNECT, zcv1.ConnectionStateReason_CONNECTION_STATE_REASON_INSTALLER_REMOVED)
			})
		})
	}
}

// TestWatchConnectionEvents: a watcher that reconnects from its last event
// id misses nothing; a disconnect's event lists the members who lose Zoom,
// as PreviewOrgDisconnect said beforehand.
func TestWatchConnectionEvents(t *testing.T) {
	for _, b := range []backend{backends[0], backends[1]} {
		t.Run(b.name, func(t *testing.T) {
			h := newHarness(t, b.redisURL(t))
			o := newOrg(h, t, grpcTransport{h}, "watch")
			watch := func(after string) (zcv1.ConnectionService_WatchConnectionEventsClient, context.CancelFunc) {
				ctx, cancel := context.WithCancel(metadata.AppendToOutgoingContext(context.Background(), "authorization", "Bearer "+internalToken(t)))
				stream, err := zcv1.NewConnectionServiceClient(h.conn).WatchConnectionEvents(ctx, &zcv1.WatchConnectionEventsRequest{AfterEventId: after, OrgId: o.id})
				must(t, err)
				return stream, cancel
			}
			stream, cancel := watch("")
			time.Sleep(200 * time.Millisecond) // the watch is in place
			o.connect(t)
			first := nextEvent(t, stream)
			if first.GetEvent().GetType() != zcv1.ConnectionEventType_CONNECTION_EVENT_TYPE_CONNECTED || first.GetEvent().GetId() == "" {
				t.Fatalf("first event = %v", first)
			}
			cancel() // the watcher goes away

			o.upsertMembers(t)
			o.connectPersonal(t, "adam", zoomemu.DevOtherOwnerID)
			preview := &zcv1.PreviewOrgDisconnectResponse{}
			must(t, o.tr.call(t, o.owner, zcv1.ConnectionService_PreviewOrgDisconnect_FullMethodName,
				&zcv1.PreviewOrgDisconnectRequest{OrgId: o.id}, preview))
			var previewed []string
			for _, m := range preview.GetAffectedUsers() {
				previewed = append(previewed, m.GetUserId())
			}
			if strings.Join(previewed, ",") != "mia" {
				t.Fatalf("preview lists %v; want mia (adam has a personal connection, liam no Zoom user)", previewed)
			}
			_, err := o.updateSettings(t, o.admin, &zcv1.OrgZoomSettings{ZoomDefaultLocation: true}, "zoom_default_location")
			must(t, err)
			_, err = o.disconnect(t, o.owner)
			must(t, err)

			stream, cancel = watch(first.GetEvent().GetId())
			defer cancel()
			want := []zcv1.ConnectionEventType{
				zcv1.ConnectionEventType_CONNECTION_EVENT_TYPE_CONNECTED, // adam's personal connection
				zcv1.ConnectionEventType_CONNECTION_EVENT_TYPE_SETTINGS_CHANGED,
				zcv1.ConnectionEventType_CONNECTION_EVENT_TYPE_DISCONNECTED,
			}
			for i, w := range want {
				ev := nextEvent(t, stream).GetEvent()
				if ev.GetType() != w {
					t.Fatalf("event %d = %v, want %s", i, ev, w)
				}
				switch w {
				case zcv1.ConnectionEventType_CONNECTION_EVENT_TYPE_SETTINGS_CHANGED:
					if !ev.GetSettings().GetZoomDefaultLocation() {
						t.Fatalf("settings event = %v", ev)
					}
				case zcv1.ConnectionEventType_CONNECTION_EVENT_TYPE_DISCONNECTED:
					if strings.Join(ev.GetAffectedUserIds(), ",") != "mia" || ev.GetReason() != byAdmin {
						t.Fatalf("disconnect event = %v", ev)
					}
				}
			}
		})
	}
}
