package zoomemu

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"sync"
	"time"
)

// Zoom's documented delivery parameters.
var defaultWebhookRetryDelays = []time.Duration{5 * time.Minute, 20 * time.Minute, 60 * time.Minute}

const (
	defaultWebhookTimeout = 3 * time.Second
	webhookUserAgent      = "Zoom Marketplace/1.0a"
	webhookContentType    = "application/json; charset=utf-8"
	// maxWebhookAnswer bounds how much of an endpoint's answer is read.
	maxWebhookAnswer = 64 << 10
)

// WebhookDelivery is one event sent, or being sent, to Config.WebhookURL.
type WebhookDelivery struct {
	// Seq numbers deliveries from 1 in the order they were queued.
	Seq   int
	Event string
	// Body is the exact body of every attempt: retries resend the same
	// bytes (same event_ts), with a new timestamp, signature and request id.
	Body []byte
	// Attempts are the requests made so far, the first one and the retries.
	Attempts []WebhookAttempt
	// Done is set once the delivery succeeded, failed for good or was
	// abandoned by Close.
	Done bool
	// Delivered reports that an attempt got 200 or 204 in time (for URL
	// validation: and a correct answer).
	Delivered bool
}

// WebhookAttempt is one POST of a delivery.
type WebhookAttempt struct {
	// RequestID is the x-zm-request-id header, new for every attempt.
	RequestID string
	// Timestamp is the x-zm-request-timestamp header (Unix seconds by the
	// emulator's clock), the one the signature covers.
	Timestamp string
	// Status is the HTTP status, 0 when no answer came within
	// Config.WebhookTimeout.
	Status int
	// Err describes a transport error or time-out; "" when an answer came.
	Err string
}

// URLValidation is the outcome of SendURLValidation.
type URLValidation struct {
	// PlainToken is the token sent in the challenge.
	PlainToken string
	// Status is the endpoint's HTTP status, 0 if it did not answer in time.
	Status int
	// Answer is the endpoint's response body (at most 64 KiB).
	Answer []byte
}

// webhooks is the sender's state. Its mutex may be taken while e.mu is
// held, never the other way round.
type webhooks struct {
	url, secret       string
	verificationToken string // the legacy "authorization" header
	delays            []time.Duration
	timeout           time.Duration
	roleFields        bool
	client            *http.Client
	ownTransport      *http.Transport // closed by Close; nil for a caller's client

	ctx    context.Context // cancelled by Close
	cancel context.CancelFunc
	wg     sync.WaitGroup // delivery goroutines

	mu         sync.Mutex
	closed     bool
	deliveries []*delivery
	pending    int           // deliveries not done
	idle       chan struct{} // closed when pending drops to 0
}

type delivery struct {
	WebhookDelivery               // guarded by webhooks.mu
	done            chan struct{} // closed when Done is set
}

// newWebhooks validates the webhook part of cfg.
func newWebhooks(cfg *Config) (*webhooks, error) {
	w := &webhooks{url: cfg.WebhookURL, secret: cfg.WebhookSecret, roleFields: cfg.WebhookRoleFields,
		verificationToken: randomString(16), timeout: cfg.WebhookTimeout}
	w.ctx, w.cancel = context.WithCancel(context.Background())
	if w.url == "" {
		return w, nil
	}
	if u, err := url.Parse(w.url); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, errors.New("zoomemu: WebhookURL is not an absolute http(s) URL")
	}
	if w.secret == "" {
		return nil, errors.New("zoomemu: WebhookURL needs a WebhookSecret")
	}
	switch {
	case w.timeout < 0:
		return nil, errors.New("zoomemu: negative WebhookTimeout")
	case w.timeout == 0:
		w.timeout = defaultWebhookTimeout
	}
	w.delays = slices.Clone(cfg.WebhookRetryDelays)
	if cfg.WebhookRetryDelays == nil {
		w.delays = slices.Clone(defaultWebhookRetryDelays)
	}
	for _, d := range w.delays {
		if d < 0 {
			return nil, errors.New("zoomemu: negative WebhookRetryDelays")
		}
	}
	if cfg.WebhookHTTPClient != nil {
		c := *cfg.WebhookHTTPClient
		w.client = &c
	} else {
		w.ownTransport = http.DefaultTransport.(*http.Transport).Clone()
		w.client = &http.Client{Transport: w.ownTransport}
	}
	// Zoom does not follow redirects: a 3xx is a failed delivery.
	w.client.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return w, nil
}

// Sign returns Zoom's x-zm-signature of body sent with
// x-zm-request-timestamp ts: "v0=" + hex(HMAC-SHA256(secret, "v0:" + ts +
// ":" + body)). body must be the exact bytes sent.
func Sign(secret, ts string, body []byte) string {
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte("v0:" + ts + ":"))
	mac.Write(body)
	return "v0=" + hex.EncodeToString(mac.Sum(nil))
}

// encryptedToken is Zoom's answer to a URL validation: hex
// HMAC-SHA256(secret, plainToken), lower case as Zoom's samples produce.
func encryptedToken(secret, plainToken string) string {
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte(plainToken))
	return hex.EncodeToString(mac.Sum(nil))
}

// envelope is an event body in Zoom's field order.
type envelope struct {
	Event   string `json:"event"`
	EventTS int64  `json:"event_ts"`
	Payload any    `json:"payload"`
}

// marshalCompact encodes v as compact JSON the way Zoom (Node's
// JSON.stringify) does: UTF-8 as is and no HTML escaping of <, > and &, so
// a receiver that re-encodes the body instead of hashing the received bytes
// fails, as it would with Zoom.
func marshalCompact(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}

// emit queues an event stamped now for delivery, if webhooks are
// configured. It may be called with e.mu held. The delivery is registered
// before emit returns, so WaitWebhooks called afterwards waits for it.
func (e *Emulator) emit(event string, now time.Time, payload any) *delivery {
	if e.wh.url == "" {
		return nil
	}
	body, err := marshalCompact(envelope{Event: event, EventTS: now.UnixMilli(), Payload: payload})
	if err != nil {
		// Only SendEvent's payloads can fail to encode; it checks first.
		e.log.Error("zoom emulator: webhook payload cannot be encoded", "event", event, "error", err)
		return nil
	}
	return e.queue(event, body)
}

func (e *Emulator) queue(event string, body []byte) *delivery {
	w := e.wh
	w.mu.Lock()
	defer w.mu.Unlock()
	d := &delivery{WebhookDelivery: WebhookDelivery{Seq: len(w.deliveries) + 1, Event: event, Body: body},
		done: make(chan struct{})}
	w.deliveries = append(w.deliveries, d)
	if w.closed {
		d.Done = true
		close(d.done)
		e.log.Debug("zoom emulator: webhook dropped, the emulator is closed", "event", event)
		return d
	}
	if w.pending == 0 {
		w.idle = make(chan struct{})
	}
	w.pending++
	w.wg.Add(1)
	go e.deliver(d)
	return d
}

// deliver runs one delivery: the first attempt, then a retry after each of
// the configured delays while the endpoint answers 5xx or not at all.
func (e *Emulator) deliver(d *delivery) {
	w := e.wh
	defer w.wg.Done()
	delivered := false
	for i := 0; ; i++ {
		a := e.attempt(w.ctx, d.Body)
		w.mu.Lock()
		d.Attempts = append(d.Attempts, a.WebhookAttempt)
		w.mu.Unlock()
		e.log.Debug("zoom emulator: webhook sent", "event", d.Event, "seq", d.Seq, "attempt", i+1,
			"request_id", a.RequestID, "status", a.Status, "error", a.Err)
		if ok(a.Status) {
			delivered = true
			break
		}
		if (a.Status != 0 && a.Status < 500) || i >= len(w.delays) || w.ctx.Err() != nil {
			break
		}
		t := time.NewTimer(w.delays[i])
		select {
		case <-t.C:
		case <-w.ctx.Done():
			t.Stop()
		}
		if w.ctx.Err() != nil {
			break
		}
	}
	if !delivered {
		e.log.Info("zoom emulator: webhook not delivered", "event", d.Event, "seq", d.Seq, "attempts", len(d.Attempts))
	}
	w.mu.Lock()
	d.Done, d.Delivered = true, delivered
	close(d.done)
	w.pending--
	if w.pending == 0 {
		close(w.idle)
	}
	w.mu.Unlock()
}

func ok(status int) bool { return status == http.StatusOK || status == http.StatusNoContent }

// attemptResult is an attempt with the endpoint's answer.
type attemptResult struct {
	WebhookAttempt
	answer []byte
}

// attempt POSTs body once, signed as Zoom signs it, and waits at most
// WebhookTimeout for the status and the whole answer.
func (e *Emulator) attempt(ctx context.Context, body []byte) attemptResult {
	w := e.wh
	ts := strconv.FormatInt(e.cfg.Now().Unix(), 10)
	res := attemptResult{WebhookAttempt: WebhookAttempt{RequestID: newRequestID(), Timestamp: ts}}
	ctx, cancel := context.WithTimeout(ctx, w.timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, w.url, bytes.NewReader(body))
	if err != nil {
		res.Err = err.Error()
		return res
	}
	h := req.Header
	h.Set("Content-Type", webhookContentType)
	h.Set("User-Agent", webhookUserAgent)
	h.Set("x-zm-request-timestamp", ts)
	h.Set("x-zm-signature", Sign(w.secret, ts, body))
	h.Set("x-zm-request-id", res.RequestID)
	h.Set("traceparent", "00-"+hex.EncodeToString(randomBytes(16))+"-"+hex.EncodeToString(randomBytes(8))+"-01")
	h.Set("Authorization", w.verificationToken)
	resp, err := w.client.Do(req)
	if err != nil {
		res.Err = transportError(err, ctx)
		return res
	}
	defer resp.Body.Close()
	answer, err := io.ReadAll(io.LimitReader(resp.Body, maxWebhookAnswer))
	if err != nil {
		// The status alone does not count: Zoom needs the whole answer
		// within the time-out.
		res.Err = transportError(err, ctx)
		return res
	}
	res.Status, res.answer = resp.StatusCode, answer
	return res
}

// transportError describes err without the URL, which url.Error adds.
func transportError(err error, ctx context.Context) string {
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		return "no answer within the time-out"
	}
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	return err.Error()
}

// newRequestID is shaped like Zoom's x-zm-request-id (a UUID).
func newRequestID() string {
	b := randomBytes(16)
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b)
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}

// WaitWebhooks waits until every queued delivery, retries included, is done
// (also deliveries queued while it waits), or until ctx is done. Retry
// delays are real time, not the emulator's clock, so tests should set short
// WebhookRetryDelays.
func (e *Emulator) WaitWebhooks(ctx context.Context) error {
	w := e.wh
	for {
		w.mu.Lock()
		n, idle := w.pending, w.idle
		w.mu.Unlock()
		if n == 0 {
			return nil
		}
		select {
		case <-idle:
		case <-ctx.Done():
			return fmt.Errorf("zoomemu: %d webhook deliveries still pending: %w", n, ctx.Err())
		}
	}
}

// Webhooks returns copies of all deliveries so far, in the order they were
// queued, including URL validations.
func (e *Emulator) Webhooks() []WebhookDelivery {
	w := e.wh
	w.mu.Lock()
	defer w.mu.Unlock()
	out := make([]WebhookDelivery, len(w.deliveries))
	for i, d := range w.deliveries {
		out[i] = d.snapshot()
	}
	return out
}

// snapshot must be called with webhooks.mu held.
func (d *delivery) snapshot() WebhookDelivery {
	c := d.WebhookDelivery
	c.Body = slices.Clone(d.Body)
	c.Attempts = slices.Clone(d.Attempts)
	return c
}

// SendEvent sends an arbitrary event {"event": event, "event_ts": now,
// "payload": payload}, signed and retried like the emulator's own events,
// and waits until it is done. The error reports a delivery that failed for
// good, ctx ending first (the delivery then goes on; WaitWebhooks waits for
// it), or webhooks not being configured. The delivery is returned whenever
// it was queued.
func (e *Emulator) SendEvent(ctx context.Context, event string, payload map[string]any) (WebhookDelivery, error) {
	if e.wh.url == "" {
		return WebhookDelivery{}, errors.New("zoomemu: no WebhookURL configured")
	}
	if event == "" {
		return WebhookDelivery{}, errors.New("zoomemu: SendEvent needs an event name")
	}
	if _, err := marshalCompact(payload); err != nil {
		return WebhookDelivery{}, fmt.Errorf("zoomemu: payload: %w", err)
	}
	d := e.emit(event, e.cfg.Now(), payload)
	select {
	case <-d.done:
	case <-ctx.Done():
	}
	e.wh.mu.Lock()
	snap := d.snapshot()
	e.wh.mu.Unlock()
	switch {
	case !snap.Done:
		return snap, fmt.Errorf("zoomemu: %s not delivered yet: %w", event, ctx.Err())
	case !snap.Delivered:
		return snap, fmt.Errorf("zoomemu: %s not delivered: %s", event, describe(snap.Attempts))
	}
	return snap, nil
}

// describe summarises the last attempt of a failed delivery.
func describe(attempts []WebhookAttempt) string {
	if len(attempts) == 0 {
		return "the emulator is closed"
	}
	a := attempts[len(attempts)-1]
	what := a.Err
	if a.Status != 0 {
		what = "HTTP " + strconv.Itoa(a.Status)
	}
	return fmt.Sprintf("%s after %d attempt(s)", what, len(attempts))
}

// SendURLValidation sends Zoom's endpoint.url_validation challenge (signed
// like every event) with a random plainToken, once and synchronously, as
// Zoom does when an app's endpoint is saved and every 72 hours after. It
// returns an error unless the endpoint answers 200 or 204 within
// WebhookTimeout with a JSON object holding the same plainToken and
// encryptedToken = hex HMAC-SHA256(secret, plainToken) in lower case, as
// Zoom's samples compute it (whether Zoom accepts upper case is unknown).
// The challenge is recorded in Webhooks but never retried. After Close it
// fails without sending.
func (e *Emulator) SendURLValidation(ctx context.Context) (URLValidation, error) {
	w := e.wh
	if w.url == "" {
		return URLValidation{}, errors.New("zoomemu: no WebhookURL configured")
	}
	w.mu.Lock()
	closed := w.closed
	w.mu.Unlock()
	if closed {
		return URLValidation{}, errors.New("zoomemu: the emulator is closed")
	}
	plain := randomString(16)
	// Zoom's own field order for this event.
	body, err := marshalCompact(struct {
		Payload struct {
			PlainToken string `json:"plainToken"`
		} `json:"payload"`
		EventTS int64  `json:"event_ts"`
		Event   string `json:"event"`
	}{Payload: struct {
		PlainToken string `json:"plainToken"`
	}{plain}, EventTS: e.cfg.Now().UnixMilli(), Event: EventURLValidation})
	if err != nil {
		return URLValidation{}, err
	}

	w.mu.Lock()
	d := &delivery{WebhookDelivery: WebhookDelivery{Seq: len(w.deliveries) + 1, Event: EventURLValidation, Body: body},
		done: make(chan struct{})}
	w.deliveries = append(w.deliveries, d)
	w.mu.Unlock()

	a := e.attempt(ctx, body)
	res := URLValidation{PlainToken: plain, Status: a.Status, Answer: a.answer}
	verr := checkValidationAnswer(a, plain, w.secret)
	e.log.Debug("zoom emulator: URL validation sent", "request_id", a.RequestID, "status", a.Status,
		"error", a.Err, "valid", verr == nil)

	w.mu.Lock()
	d.Attempts = append(d.Attempts, a.WebhookAttempt)
	d.Done, d.Delivered = true, verr == nil
	close(d.done)
	w.mu.Unlock()
	if verr != nil {
		return res, fmt.Errorf("zoomemu: URL validation failed: %w", verr)
	}
	return res, nil
}

func checkValidationAnswer(a attemptResult, plain, secret string) error {
	switch {
	case a.Status == 0:
		return errors.New(a.Err)
	case !ok(a.Status):
		return fmt.Errorf("HTTP %d", a.Status)
	}
	var ans map[string]any
	if err := json.Unmarshal(a.answer, &ans); err != nil || ans == nil {
		return errors.New("the answer is not a JSON object")
	}
	gotPlain, _ := ans["plainToken"].(string)
	gotEnc, _ := ans["encryptedToken"].(string)
	switch {
	case gotPlain != plain:
		return errors.New("plainToken differs from the one sent")
	case !hmac.Equal([]byte(gotEnc), []byte(encryptedToken(secret, plain))):
		return errors.New("encryptedToken is not hex HMAC-SHA256(secret token, plainToken)")
	}
	return nil
}

// Close stops webhook delivery: requests in flight are cancelled, pending
// retries dropped (those deliveries end undelivered), and events emitted
// afterwards are recorded but not sent. It waits for the delivery
// goroutines to end. The emulator keeps serving HTTP.
func (e *Emulator) Close() {
	w := e.wh
	w.mu.Lock()
	w.closed = true
	w.mu.Unlock()
	w.cancel()
	w.wg.Wait()
	if w.ownTransport != nil {
		w.ownTransport.CloseIdleConnections()
	}
}
