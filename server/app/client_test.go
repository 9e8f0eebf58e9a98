package app_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/zoomconnect/zoomconnect/client"
	zcv1 "github.com/zoomconnect/zoomconnect/gen/zoomconnect/v1"
	"github.com/zoomconnect/zoomconnect/server/zoomemu"
)

// TestGoClientAgainstTheService drives the real service with the Go client
// internal services use: batching past the server's limit, order kept, and
// machine-readable reasons on refusals.
func TestGoClientAgainstTheService(t *testing.T) {
	h := newHarness(t, "")
	o := newOrg(h, t, grpcTransport{h}, "goclient")
	o.connect(t)
	o.upsertMembers(t)

	c, err := client.Dial(h.app.GRPCAddr(), client.WithInsecure(), client.WithToken(internalToken(t)))
	must(t, err)
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()

	a, err := c.EffectiveZoomAccount(ctx, o.id, "mia")
	must(t, err)
	if a.GetSource() != srcOrg || a.GetZoomUserId() != zoomemu.DevMemberID {
		t.Fatalf("EffectiveZoomAccount = %v", a)
	}
	ids := make([]string, 250)
	for i := range ids {
		ids[i] = fmt.Sprintf("user-%03d", i)
	}
	ids[137] = "mia"
	all, err := c.EffectiveZoomAccounts(ctx, o.id, ids)
	must(t, err)
	if len(all) != len(ids) || all[137].GetZoomUserId() != zoomemu.DevMemberID || all[0].GetUserId() != "user-000" {
		t.Fatalf("EffectiveZoomAccounts answered %d accounts; mia: %v", len(all), all[137])
	}

	member, err := client.Dial(h.app.GRPCAddr(), client.WithInsecure(), client.WithToken(o.mem))
	must(t, err)
	defer member.Close()
	_, err = member.Connections().StartOrgConnection(ctx, &zcv1.StartOrgConnectionRequest{OrgId: o.id})
	if client.Reason(err) != "ROLE_REQUIRED" || client.ErrorReason(err) != zcv1.ErrorReason_ERROR_REASON_ROLE_REQUIRED {
		t.Fatalf("a member starting the org connection: %v (reason %q, %s)", err, client.Reason(err), client.ErrorReason(err))
	}
}
