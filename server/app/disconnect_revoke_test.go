package app_test

import (
	"context"
	"testing"
	"time"

	zcv1 "github.com/zoomconnect/zoomconnect/gen/zoomconnect/v1"
	"github.com/zoomconnect/zoomconnect/server/zoomemu"
	"google.golang.org/grpc/metadata"
)

// TestDisconnectIsNotRecordedAsZoomsDeauthorization: Zoom answers a token
// revocation with app_deauthorized. The disconnects revoke, so that webhook
// must find nothing left to take away; it once won the race (the emulator
// delivers it, and the worker processes it, while the revoke call is still
// open), and the activity log and event stream said "Zoom deauthorized"
// instead of who disconnected, with no DISCONNECTED event of the person's.
func TestDisconnectIsNotRecordedAsZoomsDeauthorization(t *testing.T) {
	h := newHarness(t, "", withWebhooks())
	o := newOrg(h, t, grpcTransport{h}, "revoke-race")
	o.connect(t)
	o.upsertMembers(t)
	o.connectPersonal(t, "adam", zoomemu.DevOtherOwnerID)

	activity := func() []*zcv1.ActivityEntry {
		resp := &zcv1.ListActivityResponse{}
		must(t, o.tr.call(t, o.owner, zcv1.ConnectionService_ListActivity_FullMethodName, &zcv1.ListActivityRequest{OrgId: o.id}, resp))
		return resp.GetEntries()
	}
	byZoom := func() *zcv1.ActivityEntry {
		for _, e := range activity() {
			if e.GetActor() == "zoom" {
				return e
			}
		}
		return nil
	}
	// While the service waits for the revocation, let the app_deauthorized
	// it caused be delivered and give the worker a second to process it:
	// the order in which a fast Zoom and a busy service meet.
	h.zoom.OnRevoke(func(zoomemu.RevokeEvent) {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		must(t, h.zoom.WaitWebhooks(ctx))
		for deadline := time.Now().Add(time.Second); time.Now().Before(deadline) && byZoom() == nil; {
			time.Sleep(50 * time.Millisecond)
		}
	})

	ctx, cancel := context.WithTimeout(metadata.AppendToOutgoingContext(context.Background(), "authorization", "Bearer "+internalToken(t)), 30*time.Second)
	defer cancel()
	stream, err := zcv1.NewConnectionServiceClient(h.conn).WatchConnectionEvents(ctx, &zcv1.WatchConnectionEventsRequest{OrgId: o.id})
	must(t, err)
	time.Sleep(200 * time.Millisecond) // the watch is in place

	must(t, o.tr.call(t, o.userToken(t, "adam"), zcv1.ConnectionService_DisconnectPersonalConnection_FullMethodName,
		&zcv1.DisconnectPersonalConnectionRequest{OrgId: o.id, UserId: "adam"}, &zcv1.DisconnectPersonalConnectionResponse{}))
	resp := &zcv1.DisconnectOrgConnectionResponse{}
	must(t, o.tr.call(t, o.owner, disconnectRPC, &zcv1.DisconnectOrgConnectionRequest{OrgId: o.id}, resp))

	deauths := 0
	for _, d := range h.zoom.Webhooks() {
		if d.Event == "app_deauthorized" && d.Delivered {
			deauths++
		}
	}
	if deauths != 2 {
		t.Fatalf("Zoom delivered %d app_deauthorized events; want 2 (one per revoked grant)", deauths)
	}
	if e := byZoom(); e != nil {
		t.Fatalf("activity records %s by Zoom (%v); the people disconnected", e.GetKind(), e.GetDetails())
	}
	if got := resp.GetConnection().GetReason(); got != zcv1.ConnectionStateReason_CONNECTION_STATE_REASON_DISCONNECTED_BY_ADMIN {
		t.Fatalf("disconnected connection's reason = %s", got)
	}
	// adam's personal account is gone, so the org connection served him too
	if got := memberIDs(resp.GetAffectedUsers()); got != "adam,mia" {
		t.Fatalf("disconnect lists %q as losing Zoom; want adam,mia", got)
	}
	for _, want := range []struct{ user, actor string }{{"adam", "adam"}, {"", "olivia"}} {
		ev := nextEvent(t, stream).GetEvent()
		if ev.GetType() != zcv1.ConnectionEventType_CONNECTION_EVENT_TYPE_DISCONNECTED || ev.GetUserId() != want.user || ev.GetActor() != want.actor {
			t.Fatalf("event = %v; want DISCONNECTED of user %q by %s", ev, want.user, want.actor)
		}
	}
}
