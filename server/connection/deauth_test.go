package connection

import (
	"log/slog"
	"testing"

	"github.com/zoomconnect/zoomconnect/server/internal/redistest"
	"github.com/zoomconnect/zoomconnect/server/store"
	"github.com/zoomconnect/zoomconnect/server/store/redisstore"
	"github.com/zoomconnect/zoomconnect/server/zoom"
)

// TestDeauthorizationSeesPendingEffects: an org whose connection committed
// but whose index entries are still pending (its process died right after
// the commit) is found by a deauthorization all the same, and loses its
// connection and tokens, as Zoom's rules require.
func TestDeauthorizationSeesPendingEffects(t *testing.T) {
	s, err := redisstore.New(t.Context(), redistest.StartStandalone(t).URL())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	svc := New(Config{Store: s, Logger: slog.New(slog.DiscardHandler)})
	const org, account = "org-pending", "acct-pending"
	err = s.Update(t.Context(), org, func(tx store.OrgTx) error {
		tx.SetOrgConnection(&store.OrgConnection{OrgID: org, State: store.StateActive, ZoomAccountID: account,
			InstallerZoomUserID: "zu-1", SealedTokens: []byte("sealed")})
		tx.AddEffect(store.Effect{Index: orgIndexes(false, org, account, "zu-1")})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if orgs, err := s.IndexMembers(t.Context(), indexAccount, account); err != nil || len(orgs) != 0 {
		t.Fatalf("account index = %q, %v; want the entry still pending", orgs, err)
	}

	if err := svc.Deauthorize(t.Context(), zoom.OrgApp, account, "zu-1"); err != nil {
		t.Fatalf("Deauthorize: %v", err)
	}
	c, err := store.GetOrgConnection(t.Context(), s, org)
	if err != nil {
		t.Fatal(err)
	}
	if c.State != store.StateNotConnected || c.Reason != store.ReasonDeauthorized || c.SealedTokens != nil {
		t.Fatalf("after app_deauthorized: %+v; want NOT_CONNECTED, deauthorized, no tokens", c)
	}
}
