// Package webhook receives Zoom's event notifications at POST
// /webhooks/zoom: it answers Zoom's URL validation, verifies every event's
// signature and timestamp, and queues events durably before acknowledging
// them, so that slow work happens after Zoom's 3-second answer window and
// an acknowledged event is processed even across a crash.
package webhook

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/zoomconnect/zoomconnect/server/errs"
	"github.com/zoomconnect/zoomconnect/server/metrics"
	"github.com/zoomconnect/zoomconnect/server/store"
)

// Path is where Zoom posts events.
const Path = "/webhooks/zoom"

// MaxBody bounds an event body; Zoom's events are a few KiB.
const MaxBody = 1 << 20

// MaxSkew is how far an event's timestamp may be from now.
const MaxSkew = 5 * time.Minute

// Handler serves Path.
type Handler struct {
	// Secrets are the webhook secret tokens of the service's Zoom apps (each
	// app has its own; both post here). Without one every event is refused
	// (fail closed).
	Secrets [][]byte
	// Handles (required) reports whether the service acts on an event type
	// (the one list is the processor's): those are queued, others
	// acknowledged and ignored.
	Handles func(event string) bool
	Store   store.Store
	// Queued is told (without blocking) that an event was queued, so a
	// worker in this process can start at once.
	Queued func()
	Now    func() time.Time
	Logger *slog.Logger
}

// Envelope is the common shape of Zoom's events.
type Envelope struct {
	Event   string          `json:"event"`
	EventTS json.RawMessage `json:"event_ts"`
	Payload json.RawMessage `json:"payload"`
}

// Parse reads an untrusted event body.
func Parse(body []byte) (*Envelope, error) {
	var e Envelope
	if err := json.Unmarshal(body, &e); err != nil {
		return nil, fmt.Errorf("not a JSON event: %w", err)
	}
	if e.Event == "" || len(e.Event) > 128 {
		return nil, errors.New("the event has no valid name")
	}
	return &e, nil
}

// Sign returns Zoom's signature of body sent at ts: "v0=" + hex
// HMAC-SHA256(secret, "v0:{ts}:{body}").
func Sign(secret []byte, ts string, body []byte) string {
	mac := hmac.New(sha256.New, secret)
	mac.Write([]byte("v0:" + ts + ":"))
	mac.Write(body)
	return "v0=" + hex.EncodeToString(mac.Sum(nil))
}

// Verify checks a signature and its timestamp (seconds; milliseconds are
// accepted too) against now, in constant time, with each secret, and
// returns the secret that signed.
func Verify(secrets [][]byte, tsHeader, signature string, body []byte, now time.Time) ([]byte, error) {
	if len(secrets) == 0 {
		return nil, errors.New("no webhook secret is configured")
	}
	ts, err := strconv.ParseInt(tsHeader, 10, 64)
	if err != nil || ts <= 0 {
		return nil, errors.New("missing or malformed x-zm-request-timestamp")
	}
	if ts > 1e12 { // milliseconds
		ts /= 1000
	}
	if d := now.Sub(time.Unix(ts, 0)); d > MaxSkew || d < -MaxSkew {
		return nil, errors.New("x-zm-request-timestamp is more than 5 minutes off")
	}
	for _, secret := range secrets {
		if len(secret) > 0 && hmac.Equal([]byte(Sign(secret, tsHeader, body)), []byte(signature)) {
			return secret, nil
		}
	}
	return nil, errors.New("x-zm-signature does not match")
}

func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	metrics.WebhooksReceived.Inc()
	if r.Method != http.MethodPost {
		metrics.WebhooksRefused.WithLabelValues("method").Inc()
		w.Header().Set("Allow", http.MethodPost)
		errs.WriteHTTP(w, errs.New(errs.KindUnimplemented, errs.ReasonMethodNotAllowed, "POST only"))
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxBody))
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) {
		metrics.WebhooksRefused.WithLabelValues("too_large").Inc()
		errs.WriteHTTP(w, errs.New(errs.KindResourceExhausted, errs.ReasonRequestTooLarge, "event body too large"))
		return
	}
	if err != nil {
		metrics.WebhooksRefused.WithLabelValues("unreadable").Inc()
		errs.WriteHTTP(w, errs.New(errs.KindInvalidArgument, errs.ReasonWebhookMalformed, "unreadable body"))
		return
	}
	secret, err := Verify(h.Secrets, r.Header.Get("x-zm-request-timestamp"), r.Header.Get("x-zm-signature"), body, h.Now())
	if err != nil {
		metrics.WebhooksRefused.WithLabelValues("signature").Inc()
		h.Logger.WarnContext(r.Context(), "refused a Zoom webhook", "reason", err.Error())
		errs.WriteHTTP(w, errs.Unauthenticated(errs.ReasonWebhookUnverified, "%v", err))
		return
	}
	metrics.WebhooksVerified.Inc()
	env, err := Parse(body)
	if err != nil {
		metrics.WebhooksRefused.WithLabelValues("malformed").Inc()
		errs.WriteHTTP(w, errs.New(errs.KindInvalidArgument, errs.ReasonWebhookMalformed, "%v", err))
		return
	}
	switch {
	case env.Event == "endpoint.url_validation":
		validate(w, env, secret)
	case !h.Handles(env.Event):
		h.Logger.InfoContext(r.Context(), "ignored a Zoom event the service does not act on", "event", env.Event)
		w.WriteHeader(http.StatusNoContent)
	default:
		sum := sha256.Sum256(body) // Zoom's retries resend the same body
		enqueued, err := h.Store.EnqueueWebhook(r.Context(), hex.EncodeToString(sum[:]), body)
		if err != nil {
			metrics.WebhooksQueued.WithLabelValues("error").Inc()
			h.Logger.ErrorContext(r.Context(), "could not queue a Zoom event; Zoom will retry", "event", env.Event, "error", err)
			errs.WriteHTTP(w, err)
			return
		}
		if !enqueued {
			metrics.WebhooksQueued.WithLabelValues("duplicate").Inc()
		} else {
			metrics.WebhooksQueued.WithLabelValues("queued").Inc()
		}
		if h.Queued != nil {
			h.Queued()
		}
		w.WriteHeader(http.StatusNoContent)
	}
}

// validate answers Zoom's endpoint.url_validation challenge with the
// secret of the app that sent it.
func validate(w http.ResponseWriter, env *Envelope, secret []byte) {
	var p struct {
		PlainToken string `json:"plainToken"`
	}
	if json.Unmarshal(env.Payload, &p) != nil || p.PlainToken == "" || len(p.PlainToken) > 256 {
		errs.WriteHTTP(w, errs.New(errs.KindInvalidArgument, errs.ReasonWebhookMalformed, "url_validation without a plainToken"))
		return
	}
	mac := hmac.New(sha256.New, secret)
	mac.Write([]byte(p.PlainToken))
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]string{"plainToken": p.PlainToken, "encryptedToken": hex.EncodeToString(mac.Sum(nil))})
}
