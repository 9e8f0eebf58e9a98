package meeting

import (
	"context"
	"strings"
	"time"

	"github.com/zoomconnect/zoomconnect/server/connection"
	"github.com/zoomconnect/zoomconnect/server/secrets"
	"github.com/zoomconnect/zoomconnect/server/store"
	"github.com/zoomconnect/zoomconnect/server/zoom"
)

// scopeNoteInterval is how often one missing scope of one connection is
// written to the activity log: once, and again a day later if it is still
// missing, however many bookings hit it meanwhile.
const scopeNoteInterval = 24 * time.Hour

// scopeMissing reports that the Zoom app behind ref lacks a scope, and
// records it in the org's activity log once. Retrying cannot help: the app
// must request the scope in the Zoom App Marketplace and be approved again.
func (s *Service) scopeMissing(ctx context.Context, ref connection.ConnRef, scopes []string, cause *zoom.APIError) error {
	app := zoom.OrgApp
	if ref.Personal() {
		app = zoom.UserApp
	}
	e := connection.ScopeMissing(app, scopes, cause)
	s.noteScopeMissing(ctx, ref, app.String(), strings.Join(scopes, " or "))
	return e
}

// noteScopeMissing appends the activity entry unless this connection's
// missing scope was noted within scopeNoteInterval (a store lease makes
// that hold across replicas). Failures are logged: the caller gets its
// answer regardless.
func (s *Service) noteScopeMissing(ctx context.Context, ref connection.ConnRef, app, scopes string) {
	ctx = context.WithoutCancel(ctx)
	held, err := s.cfg.Store.AcquireLease(ctx, ref.OrgID, "scope-missing:"+app+":"+ref.UserID+":"+scopes, secrets.NewToken(), scopeNoteInterval)
	if err == nil && held {
		s.cfg.Logger.WarnContext(ctx, "Zoom app lacks a scope", "org_id", ref.OrgID, "zoom_app", app, "missing_scope", scopes)
		err = s.cfg.Store.Update(ctx, ref.OrgID, func(tx store.OrgTx) error {
			tx.AppendActivity(store.ActivityEntry{Time: s.cfg.Now(), Kind: connection.ActivityZoomScopeMissing, Actor: connection.ActorZoom,
				UserID: ref.UserID, Details: map[string]string{"zoom_app": app, "missing_scope": scopes}})
			return nil
		})
	}
	if err != nil {
		s.cfg.Logger.WarnContext(ctx, "recording a missing Zoom scope", "org_id", ref.OrgID, "error", err)
	}
}
