// Package zoomevents acts on what Zoom says happened: the webhook events
// queued by package webhook (one list of the events handled, and a worker
// that processes the queue on any replica, retrying until done) and, since
// webhooks get lost, a monitor that probes every org connection. It reads
// Zoom to decide; the changes themselves are the connections' (Connections).
package zoomevents

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"time"

	"github.com/zoomconnect/zoomconnect/server/errs"
	"github.com/zoomconnect/zoomconnect/server/metrics"
	"github.com/zoomconnect/zoomconnect/server/secrets"
	"github.com/zoomconnect/zoomconnect/server/store"
	"github.com/zoomconnect/zoomconnect/server/tokens"
	"github.com/zoomconnect/zoomconnect/server/webhook"
	"github.com/zoomconnect/zoomconnect/server/zoom"
)

// Connections is what Zoom's events change (*connection.Service is one).
// Its lookups apply every pending effect first: they decide about
// security and must not miss a committed change.
type Connections interface {
	// Deauthorize deletes the connections (and tokens) Zoom says the app
	// lost: every org connection to accountID (the org app), or every
	// personal connection of zoomUserID (the user app).
	Deauthorize(ctx context.Context, app zoom.App, accountID, zoomUserID string) error
	// OrgsInstalledBy lists the orgs whose connection zoomUserID installed.
	OrgsInstalledBy(ctx context.Context, zoomUserID string) ([]string, error)
	// ConnectedOrgs lists the orgs with an org connection.
	ConnectedOrgs(ctx context.Context) ([]string, error)
	// InstallerLost makes the org connection installed by zoomUserID need
	// reconnecting, for reason.
	InstallerLost(ctx context.Context, orgID, zoomUserID string, reason store.StateReason) error
	// ForgetZoomUser drops the members' identity matches naming
	// zoomUserID; removed settles them as "not in the account".
	ForgetZoomUser(ctx context.Context, zoomUserID string, removed bool) error
	// MeetingDeleted marks the bookings' meetings Zoom deleted as gone.
	MeetingDeleted(ctx context.Context, zoomMeetingID string) error
}

// Tokens calls Zoom with a usable token of a connection (package tokens).
type Tokens interface {
	Call(ctx context.Context, r tokens.Ref, f func(token string) error) error
}

// Config wires a Service.
type Config struct {
	Store       store.Store
	Connections Connections
	Tokens      Tokens
	Zoom        *zoom.Client
	Logger      *slog.Logger
}

// Service processes Zoom's events and runs the monitor.
type Service struct {
	cfg Config
	log *slog.Logger
}

// New returns a Service.
func New(cfg Config) *Service {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	return &Service{cfg: cfg, log: cfg.Logger}
}

// flexID decodes an id Zoom sends as a string in some events and as a
// number in others.
type flexID string

func (f *flexID) UnmarshalJSON(b []byte) error {
	var s string
	if json.Unmarshal(b, &s) == nil {
		*f = flexID(s)
		return nil
	}
	var n json.Number
	if err := json.Unmarshal(b, &n); err != nil {
		return fmt.Errorf("id is neither a string nor a number")
	}
	*f = flexID(n.String())
	return nil
}

type payload struct {
	AccountID string `json:"account_id"`
	UserID    string `json:"user_id"`
	ClientID  string `json:"client_id"`
	Object    struct {
		ID flexID `json:"id"`
	} `json:"object"`
}

// handler acts on one event; raw is its payload as Zoom sent it.
type handler func(s *Service, ctx context.Context, p payload, raw json.RawMessage) error

// handlers are the Zoom events the service acts on, each with what it
// does: the one list, which also decides which events the webhook endpoint
// queues (Handles), so that no event is acknowledged and then dropped.
var handlers = map[string]handler{
	"app_deauthorized": func(s *Service, ctx context.Context, p payload, _ json.RawMessage) error {
		app, ok := s.cfg.Zoom.AppOf(p.ClientID)
		if !ok {
			return nil
		}
		return s.cfg.Connections.Deauthorize(ctx, app, p.AccountID, p.UserID)
	},
	"user.updated":       userChanged(false),
	"user.deactivated":   userChanged(true),
	"user.deleted":       userChanged(true),
	"user.disassociated": userChanged(true),
	"meeting.deleted": func(s *Service, ctx context.Context, p payload, _ json.RawMessage) error {
		return s.cfg.Connections.MeetingDeleted(ctx, string(p.Object.ID))
	},
}

// Handles reports whether Process acts on a Zoom event type.
func Handles(event string) bool {
	_, ok := handlers[event]
	return ok
}

// Process applies one queued, verified Zoom event. An error means "try
// again later" (Zoom or the store is down); events that name nothing the
// service knows are done.
func (s *Service) Process(ctx context.Context, body []byte) error {
	env, err := webhook.Parse(body)
	if err != nil {
		return nil // verified before queueing; nothing to retry
	}
	var p payload
	if err := json.Unmarshal(env.Payload, &p); err != nil {
		s.log.WarnContext(ctx, "ignoring a Zoom event with an unexpected payload", "event", env.Event, "error", err)
		return nil
	}
	if handle, ok := handlers[env.Event]; ok {
		return handle(s, ctx, p, env.Payload)
	}
	return nil
}

// userChanged re-checks a Zoom user the service depends on: as an org
// connection's installer it must still be an Owner or Admin (Zoom does not
// say how a role change appears in user.updated, so the user is read
// again); as a member's Zoom identity, the match is dropped. removed: the
// user is gone from the account.
func userChanged(removed bool) handler {
	return func(s *Service, ctx context.Context, p payload, _ json.RawMessage) error {
		zoomUserID := string(p.Object.ID)
		if zoomUserID == "" {
			return nil
		}
		orgs, err := s.cfg.Connections.OrgsInstalledBy(ctx, zoomUserID)
		if err != nil {
			return err
		}
		for _, orgID := range orgs {
			if err := s.checkInstaller(ctx, orgID, zoomUserID, removed); err != nil {
				return err
			}
		}
		return s.cfg.Connections.ForgetZoomUser(ctx, zoomUserID, removed)
	}
}

// checkInstaller decides whether the org connection still stands. Zoom
// being down never marks a healthy connection broken: the error is
// returned for a later retry instead.
func (s *Service) checkInstaller(ctx context.Context, orgID, zoomUserID string, removed bool) error {
	if removed {
		return s.cfg.Connections.InstallerLost(ctx, orgID, zoomUserID, store.ReasonInstallerRemoved)
	}
	var u *zoom.User
	err := s.cfg.Tokens.Call(ctx, tokens.Ref{OrgID: orgID}, func(token string) error {
		var err error
		u, err = s.cfg.Zoom.GetUser(ctx, token, zoomUserID)
		return err
	})
	if e := errs.As(err); e != nil && (e.Reason == tokens.ReasonOrgNeedsReconnect || e.Reason == tokens.ReasonOrgNotConnected) {
		return nil // nothing left to check
	}
	var ae *zoom.APIError
	switch {
	case errors.As(err, &ae) && ae.Code == zoom.CodeUserNotFound:
		return s.cfg.Connections.InstallerLost(ctx, orgID, zoomUserID, store.ReasonInstallerRemoved)
	case err != nil:
		return err
	case u.Status == "inactive":
		return s.cfg.Connections.InstallerLost(ctx, orgID, zoomUserID, store.ReasonInstallerRemoved)
	case !u.IsAccountAdmin():
		return s.cfg.Connections.InstallerLost(ctx, orgID, zoomUserID, store.ReasonAdminRoleLost)
	}
	return nil
}

// webhookRetryIdle is how long a claimed event may stay unacknowledged
// before another worker (in any replica) takes it over.
const webhookRetryIdle = 30 * time.Second

// RunWorker processes queued Zoom events until ctx ends. wake shortens
// the wait after this process queued an event.
func (s *Service) RunWorker(ctx context.Context, consumer string, wake <-chan struct{}, idle time.Duration) {
	if idle <= 0 {
		idle = webhookRetryIdle
	}
	for ctx.Err() == nil {
		items, err := s.cfg.Store.ClaimWebhooks(ctx, consumer, 20, idle)
		if err != nil && ctx.Err() == nil {
			s.log.WarnContext(ctx, "claiming Zoom events", "error", err)
		}
		metrics.SetWebhookQueueOldest(oldestSent(items))
		for _, it := range items {
			if err := s.Process(ctx, it.Body); err != nil {
				if it.Deliveries < 10 {
					metrics.WebhooksProcessed.WithLabelValues("retry").Inc()
					s.log.WarnContext(ctx, "processing a Zoom event failed; it will be retried", "attempt", it.Deliveries, "error", err)
					continue
				}
				metrics.WebhooksProcessed.WithLabelValues("dropped").Inc()
				s.log.ErrorContext(ctx, "giving up on a Zoom event after 10 attempts", "error", err)
			} else {
				metrics.WebhooksProcessed.WithLabelValues("ok").Inc()
			}
			if err := s.cfg.Store.AckWebhook(ctx, it.ID); err != nil {
				s.log.WarnContext(ctx, "acknowledging a processed Zoom event", "error", err)
			}
		}
		if len(items) > 0 {
			continue
		}
		select {
		case <-ctx.Done():
		case <-wake:
		case <-time.After(time.Second):
		}
	}
}

// RunMonitor probes every active org connection about every interval
// (jittered), because webhooks get lost: it refreshes the token when due
// and checks that the installer is still an Owner or Admin. A lease makes
// one replica probe a given connection per interval; Zoom being down never
// marks a healthy connection broken.
func (s *Service) RunMonitor(ctx context.Context, interval time.Duration) {
	owner := secrets.NewToken()
	for {
		jitter := time.Duration(rand.Int64N(int64(interval)/5 + 1))
		select {
		case <-ctx.Done():
			return
		case <-time.After(interval - interval/10 + jitter):
		}
		orgs, err := s.cfg.Connections.ConnectedOrgs(ctx)
		if err != nil {
			s.log.WarnContext(ctx, "monitor: listing connected orgs", "error", err)
			continue
		}
		for _, orgID := range orgs {
			if ctx.Err() != nil {
				return
			}
			held, err := s.cfg.Store.AcquireLease(ctx, orgID, "monitor", owner, interval/2)
			if err != nil || !held {
				continue
			}
			if err := s.probe(ctx, orgID); err != nil {
				s.log.InfoContext(ctx, "monitor: probe inconclusive; will try again", "org_id", orgID, "error", err)
			}
		}
	}
}

// probe checks one org connection.
func (s *Service) probe(ctx context.Context, orgID string) error {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	conn, err := store.GetOrgConnection(ctx, s.cfg.Store, orgID)
	if err != nil || conn.State != store.StateActive {
		return nil
	}
	return s.checkInstaller(ctx, orgID, conn.InstallerZoomUserID, false)
}
