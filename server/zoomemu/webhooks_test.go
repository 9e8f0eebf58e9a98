package zoomemu

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

const testWebhookSecret = "whsec-test"

// received is one request as the receiver got it.
type received struct {
	header http.Header
	body   []byte
	// problem is what the receiver's Zoom-documented checks found wrong,
	// "" if nothing.
	problem string
}

// receiver is an app's event endpoint that checks every request as Zoom
// documents and answers as respond says (default 204).
type receiver struct {
	t   *testing.T
	srv *httptest.Server

	mu      sync.Mutex
	now     func() time.Time // the emulator's clock, set by webhookEnv
	reqs    []received
	respond func(n int, r *http.Request, body []byte) (status int, answer string)
}

func newReceiver(t *testing.T) *receiver {
	rc := &receiver{t: t}
	rc.srv = httptest.NewServer(http.HandlerFunc(rc.serve))
	t.Cleanup(rc.srv.Close)
	return rc
}

// zoomSignature is Zoom's documented algorithm, written out independently
// of Sign.
func zoomSignature(secret, ts string, body []byte) string {
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte("v0:" + ts + ":" + string(body)))
	return "v0=" + hex.EncodeToString(mac.Sum(nil))
}

func (rc *receiver) serve(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		return
	}
	rc.mu.Lock()
	now := rc.now
	rc.mu.Unlock()
	var problems []string
	check := func(ok bool, what string) {
		if !ok {
			problems = append(problems, what)
		}
	}
	h := r.Header
	check(r.Method == http.MethodPost, "method "+r.Method)
	check(h.Get("Content-Type") == "application/json; charset=utf-8", "content-type "+h.Get("Content-Type"))
	check(h.Get("User-Agent") == "Zoom Marketplace/1.0a", "user-agent "+h.Get("User-Agent"))
	ts := h.Get("x-zm-request-timestamp")
	sec, err := strconv.ParseInt(ts, 10, 64)
	check(err == nil && now != nil && sec == now().Unix(), "timestamp "+ts+" is not the clock's Unix seconds")
	check(hmac.Equal([]byte(h.Get("x-zm-signature")), []byte(zoomSignature(testWebhookSecret, ts, body))), "signature")
	check(regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`).MatchString(h.Get("x-zm-request-id")),
		"x-zm-request-id "+h.Get("x-zm-request-id"))
	check(h.Get("Authorization") != "" && !strings.Contains(h.Get("Authorization"), testWebhookSecret), "authorization")
	check(regexp.MustCompile(`^00-[0-9a-f]{32}-[0-9a-f]{16}-01$`).MatchString(h.Get("traceparent")), "traceparent")
	check(json.Valid(body), "body is not JSON")

	rc.mu.Lock()
	n := len(rc.reqs)
	rc.reqs = append(rc.reqs, received{header: h.Clone(), body: body, problem: strings.Join(problems, "; ")})
	respond := rc.respond
	rc.mu.Unlock()
	if len(problems) > 0 {
		rc.t.Errorf("request %d: %s", n, strings.Join(problems, "; "))
	}
	status, answer := http.StatusNoContent, ""
	if respond != nil {
		status, answer = respond(n, r, body)
	}
	if answer != "" {
		w.Header().Set("Content-Type", "application/json")
	}
	w.WriteHeader(status)
	_, _ = io.WriteString(w, answer)
}

func (rc *receiver) setRespond(f func(n int, r *http.Request, body []byte) (int, string)) {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	rc.respond = f
}

func (rc *receiver) requests() []received {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return append([]received(nil), rc.reqs...)
}

// statuses answers the n-th request with the n-th status, 204 after.
func statuses(s ...int) func(int, *http.Request, []byte) (int, string) {
	return func(n int, _ *http.Request, _ []byte) (int, string) {
		if n < len(s) {
			return s[n], ""
		}
		return http.StatusNoContent, ""
	}
}

// webhookEnv is an env whose emulator sends webhooks to a receiver, with
// retry delays of a millisecond.
func webhookEnv(t *testing.T, mutate ...func(*Config)) (*env, *receiver) {
	t.Helper()
	rc := newReceiver(t)
	env := newEnv(t, append([]func(*Config){func(c *Config) {
		c.WebhookURL = rc.srv.URL + "/webhooks/zoom"
		c.WebhookSecret = testWebhookSecret
		c.WebhookRetryDelays = []time.Duration{time.Millisecond, time.Millisecond, time.Millisecond}
	}}, mutate...)...)
	rc.mu.Lock()
	rc.now = env.clock.Now
	rc.mu.Unlock()
	t.Cleanup(env.emu.Close) // before rc.srv.Close
	return env, rc
}

func (e *env) waitWebhooks() []WebhookDelivery {
	e.t.Helper()
	ctx, cancel := context.WithTimeout(e.t.Context(), 10*time.Second)
	defer cancel()
	if err := e.emu.WaitWebhooks(ctx); err != nil {
		e.t.Fatal(err)
	}
	return e.emu.Webhooks()
}

func TestSign(t *testing.T) {
	// Computed with Python's hmac, independently of Go.
	body := []byte(`{"event":"x","payload":{"t":"Café <&>"}}`)
	const wantSig = "v0=5b131a76993f06d1d2dffdafc97947e2588cb4747801c422ebfbe9259081e9a9"
	if got := Sign(testWebhookSecret, "1739923528", body); got != wantSig {
		t.Errorf("Sign = %s", got)
	}
	if got := encryptedToken(testWebhookSecret, "qgg8vlvZRS6UYooatFL8Aw"); got != "98f761f5b6cab14b031182f6c5fd8e663f4d92b356a14765ebb485339514f4cf" {
		t.Errorf("encryptedToken = %s", got)
	}
}

func TestWebhookSignedOverExactBytes(t *testing.T) {
	env, rc := webhookEnv(t)
	const topic = "Café <Team> & 会議 ✓"
	d, err := env.emu.SendEvent(t.Context(), "meeting.updated", map[string]any{
		"account_id": DevAccountID, "object": map[string]any{"id": 81234567890, "topic": topic}})
	if err != nil {
		t.Fatal(err)
	}
	reqs := rc.requests()
	if len(reqs) != 1 {
		t.Fatalf("%d requests", len(reqs))
	}
	got := reqs[0]
	wantBody := `{"event":"meeting.updated","event_ts":` + strconv.FormatInt(env.clock.Now().UnixMilli(), 10) +
		`,"payload":{"account_id":"dev-acct-1","object":{"id":81234567890,"topic":"Café <Team> & 会議 ✓"}}}`
	if string(got.body) != wantBody || !bytes.Equal(d.Body, got.body) {
		t.Errorf("body\n got %s\nwant %s\nrecorded %s", got.body, wantBody, d.Body)
	}
	if sig := got.header.Get("x-zm-signature"); sig != Sign(testWebhookSecret, got.header.Get("x-zm-request-timestamp"), got.body) {
		t.Errorf("Sign disagrees with the header")
	}
	// A receiver that re-encodes the body with encoding/json (which escapes
	// <, > and &) gets another signature: the emulator catches that bug.
	var parsed any
	if err := json.Unmarshal(got.body, &parsed); err != nil {
		t.Fatal(err)
	}
	reencoded, _ := json.Marshal(parsed)
	if zoomSignature(testWebhookSecret, got.header.Get("x-zm-request-timestamp"), reencoded) == got.header.Get("x-zm-signature") {
		t.Error("re-encoded body verifies; the test body does not exercise exact bytes")
	}
	if d.Seq != 1 || d.Event != "meeting.updated" || !d.Done || !d.Delivered || len(d.Attempts) != 1 ||
		d.Attempts[0].Status != 204 || d.Attempts[0].Err != "" ||
		d.Attempts[0].RequestID != got.header.Get("x-zm-request-id") ||
		d.Attempts[0].Timestamp != strconv.FormatInt(env.clock.Now().Unix(), 10) {
		t.Errorf("delivery %+v", d)
	}
	// Nothing secret is logged.
	logs := env.logs.String()
	for _, s := range []string{testWebhookSecret, got.header.Get("x-zm-signature"), got.header.Get("Authorization")} {
		if strings.Contains(logs, s) {
			t.Errorf("log contains %q", s)
		}
	}
	if !strings.Contains(logs, "zoom emulator: webhook sent") {
		t.Error("attempt not logged")
	}
}

func TestWebhookRetries(t *testing.T) {
	t.Run("5xx retried until success, same body, fresh signature", func(t *testing.T) {
		env, rc := webhookEnv(t)
		rc.setRespond(func(n int, _ *http.Request, _ []byte) (int, string) {
			if n < 2 {
				env.clock.Advance(time.Minute) // the retry is signed at a later time
				return []int{500, 503}[n], ""
			}
			return 200, "ok"
		})
		d, err := env.emu.SendEvent(t.Context(), "user.created", map[string]any{"account_id": DevAccountID})
		if err != nil {
			t.Fatal(err)
		}
		reqs := rc.requests()
		if len(reqs) != 3 || len(d.Attempts) != 3 || !d.Delivered {
			t.Fatalf("requests %d, delivery %+v", len(reqs), d)
		}
		ids := map[string]bool{}
		for i, a := range d.Attempts {
			if a.Status != []int{500, 503, 200}[i] {
				t.Errorf("attempt %d: %+v", i, a)
			}
			if !bytes.Equal(reqs[i].body, reqs[0].body) {
				t.Errorf("attempt %d sent another body", i)
			}
			ids[reqs[i].header.Get("x-zm-request-id")] = true
		}
		if len(ids) != 3 {
			t.Errorf("request ids not fresh: %v", ids)
		}
		ts0, _ := strconv.ParseInt(reqs[0].header.Get("x-zm-request-timestamp"), 10, 64)
		ts2, _ := strconv.ParseInt(reqs[2].header.Get("x-zm-request-timestamp"), 10, 64)
		if ts2-ts0 != 120 || reqs[0].header.Get("x-zm-signature") == reqs[2].header.Get("x-zm-signature") {
			t.Errorf("timestamps %d, %d", ts0, ts2)
		}
	})
	t.Run("three retries at most", func(t *testing.T) {
		env, rc := webhookEnv(t)
		rc.setRespond(statuses(500, 500, 500, 500, 500))
		d, err := env.emu.SendEvent(t.Context(), "user.created", map[string]any{})
		if err == nil || !strings.Contains(err.Error(), "HTTP 500 after 4 attempt(s)") {
			t.Errorf("err = %v", err)
		}
		if n := len(rc.requests()); n != 4 || len(d.Attempts) != 4 || d.Delivered || !d.Done {
			t.Errorf("requests %d, delivery %+v", n, d)
		}
	})
	for _, status := range []int{400, 401, 404, 301, 302, 202} {
		t.Run("no retry on "+strconv.Itoa(status), func(t *testing.T) {
			env, rc := webhookEnv(t)
			rc.setRespond(func(int, *http.Request, []byte) (int, string) {
				if status/100 == 3 {
					return status, "" // Location-less is fine: it must not be followed anyway
				}
				return status, `{"error":"no"}`
			})
			d, err := env.emu.SendEvent(t.Context(), "user.created", map[string]any{})
			if err == nil {
				t.Error("no error")
			}
			if n := len(rc.requests()); n != 1 || len(d.Attempts) != 1 || d.Attempts[0].Status != status || d.Delivered {
				t.Errorf("requests %d, delivery %+v", n, d)
			}
		})
	}
	t.Run("redirect not followed", func(t *testing.T) {
		var followed atomic.Int32
		target := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { followed.Add(1) }))
		defer target.Close()
		redirector := httptest.NewServer(http.RedirectHandler(target.URL, http.StatusTemporaryRedirect))
		defer redirector.Close()
		env, rc := webhookEnv(t, func(c *Config) { c.WebhookURL = redirector.URL })
		d, err := env.emu.SendEvent(t.Context(), "user.created", map[string]any{})
		if err == nil || len(rc.requests()) != 0 || len(d.Attempts) != 1 || d.Attempts[0].Status != http.StatusTemporaryRedirect {
			t.Errorf("err %v, requests %d, delivery %+v", err, len(rc.requests()), d)
		}
		if followed.Load() != 0 {
			t.Error("redirect followed")
		}
	})
	t.Run("time-out is a failure and retried", func(t *testing.T) {
		env, rc := webhookEnv(t, func(c *Config) { c.WebhookTimeout = 100 * time.Millisecond })
		rc.setRespond(func(n int, r *http.Request, _ []byte) (int, string) {
			if n == 0 {
				<-r.Context().Done() // answers only after the sender gave up
			}
			return 204, ""
		})
		start := time.Now()
		d, err := env.emu.SendEvent(t.Context(), "user.created", map[string]any{})
		if err != nil {
			t.Fatal(err)
		}
		if len(d.Attempts) != 2 || d.Attempts[0].Status != 0 || d.Attempts[0].Err != "no answer within the time-out" ||
			d.Attempts[1].Status != 204 || !d.Delivered {
			t.Errorf("delivery %+v", d)
		}
		if el := time.Since(start); el < 100*time.Millisecond {
			t.Errorf("took %v", el)
		}
	})
	t.Run("a slow body counts as a time-out", func(t *testing.T) {
		slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(200)
			w.(http.Flusher).Flush()
			<-r.Context().Done()
		}))
		defer slow.Close()
		env, _ := webhookEnv(t, func(c *Config) {
			c.WebhookURL = slow.URL
			c.WebhookTimeout = 100 * time.Millisecond
			c.WebhookRetryDelays = []time.Duration{}
		})
		d, err := env.emu.SendEvent(t.Context(), "user.created", map[string]any{})
		if err == nil || len(d.Attempts) != 1 || d.Attempts[0].Status != 0 {
			t.Errorf("err %v, delivery %+v", err, d)
		}
	})
	t.Run("connection refused is retried", func(t *testing.T) {
		dead := httptest.NewServer(http.NotFoundHandler())
		dead.Close()
		env, _ := webhookEnv(t, func(c *Config) { c.WebhookURL = dead.URL })
		d, err := env.emu.SendEvent(t.Context(), "user.created", map[string]any{})
		if err == nil || len(d.Attempts) != 4 || d.Attempts[3].Status != 0 || d.Attempts[3].Err == "" ||
			strings.Contains(d.Attempts[3].Err, dead.URL) {
			t.Errorf("err %v, delivery %+v", err, d)
		}
	})
	t.Run("empty delays: no retries", func(t *testing.T) {
		env, rc := webhookEnv(t, func(c *Config) { c.WebhookRetryDelays = []time.Duration{} })
		rc.setRespond(statuses(500))
		d, _ := env.emu.SendEvent(t.Context(), "user.created", map[string]any{})
		if len(d.Attempts) != 1 || d.Delivered {
			t.Errorf("delivery %+v", d)
		}
	})
	t.Run("delays are waited", func(t *testing.T) {
		env, rc := webhookEnv(t, func(c *Config) { c.WebhookRetryDelays = []time.Duration{30 * time.Millisecond, 60 * time.Millisecond} })
		rc.setRespond(statuses(500, 502))
		start := time.Now()
		d, err := env.emu.SendEvent(t.Context(), "user.created", map[string]any{})
		if err != nil || len(d.Attempts) != 3 {
			t.Fatalf("err %v, delivery %+v", err, d)
		}
		if el := time.Since(start); el < 90*time.Millisecond {
			t.Errorf("retried after %v", el)
		}
	})
}

func TestWaitWebhooksAndClose(t *testing.T) {
	env, rc := webhookEnv(t, func(c *Config) { c.WebhookRetryDelays = nil }) // Zoom's: 5 minutes first
	rc.setRespond(statuses(500))
	if err := env.emu.DeleteMeeting(mustMeeting(t, env)); err != nil {
		t.Fatal(err)
	}
	// The first attempt fails; the retry is 5 minutes away.
	ctx, cancel := context.WithTimeout(t.Context(), 200*time.Millisecond)
	defer cancel()
	if err := env.emu.WaitWebhooks(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("WaitWebhooks = %v", err)
	}
	start := time.Now()
	env.emu.Close()
	if el := time.Since(start); el > 5*time.Second {
		t.Errorf("Close took %v", el)
	}
	if err := env.emu.WaitWebhooks(t.Context()); err != nil {
		t.Errorf("after Close: %v", err)
	}
	// Events after Close are recorded, not sent.
	if err := env.emu.RemoveUser(DevMemberID); err != nil {
		t.Fatal(err)
	}
	ds := env.emu.Webhooks()
	if len(ds) != 2 || len(ds[0].Attempts) != 1 || !ds[0].Done || ds[0].Delivered ||
		ds[1].Event != EventUserDeleted || !ds[1].Done || ds[1].Delivered || len(ds[1].Attempts) != 0 {
		t.Errorf("deliveries %+v", ds)
	}
	if n := len(rc.requests()); n != 1 {
		t.Errorf("%d requests", n)
	}
	if _, err := env.emu.SendEvent(t.Context(), "x", nil); err == nil || !strings.Contains(err.Error(), "closed") {
		t.Errorf("SendEvent after Close: %v", err)
	}
	if _, err := env.emu.SendURLValidation(t.Context()); err == nil || len(rc.requests()) != 1 {
		t.Errorf("SendURLValidation after Close: %v", err)
	}
	env.emu.Close() // twice is fine
}

// mustMeeting creates a meeting for the member through the org app.
func mustMeeting(t *testing.T, env *env) int64 {
	t.Helper()
	org := env.tokens(orgApp, DevAdminID).AccessToken
	return env.createMeeting(org, DevMemberID, `{"topic":"x","start_time":"2026-03-10T10:00:00Z"}`).ID
}

func TestURLValidation(t *testing.T) {
	answer := func(plain, enc string) string {
		b, _ := json.Marshal(map[string]string{"plainToken": plain, "encryptedToken": enc})
		return string(b)
	}
	plainOf := func(body []byte) string {
		var v struct {
			Payload struct {
				PlainToken string `json:"plainToken"`
			} `json:"payload"`
		}
		_ = json.Unmarshal(body, &v)
		return v.Payload.PlainToken
	}
	good := func(_ int, _ *http.Request, body []byte) (int, string) {
		p := plainOf(body)
		return 200, answer(p, encryptedToken(testWebhookSecret, p))
	}
	env, rc := webhookEnv(t)
	rc.setRespond(good)
	res, err := env.emu.SendURLValidation(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	reqs := rc.requests()
	wantBody := `{"payload":{"plainToken":"` + res.PlainToken + `"},"event_ts":` +
		strconv.FormatInt(env.clock.Now().UnixMilli(), 10) + `,"event":"endpoint.url_validation"}`
	if len(reqs) != 1 || string(reqs[0].body) != wantBody || len(res.PlainToken) < 16 || res.Status != 200 {
		t.Errorf("sent %s\nwant %s\nresult %+v", reqs[0].body, wantBody, res)
	}
	ds := env.emu.Webhooks()
	if len(ds) != 1 || ds[0].Event != EventURLValidation || !ds[0].Delivered || len(ds[0].Attempts) != 1 {
		t.Errorf("deliveries %+v", ds)
	}

	for name, respond := range map[string]func(int, *http.Request, []byte) (int, string){
		"wrong secret": func(_ int, _ *http.Request, body []byte) (int, string) {
			return 200, answer(plainOf(body), encryptedToken("other", plainOf(body)))
		},
		"upper-case hex": func(_ int, _ *http.Request, body []byte) (int, string) {
			return 200, answer(plainOf(body), strings.ToUpper(encryptedToken(testWebhookSecret, plainOf(body))))
		},
		"other plainToken": func(int, *http.Request, []byte) (int, string) {
			return 200, answer("abc", encryptedToken(testWebhookSecret, "abc"))
		},
		"hash of the body": func(_ int, _ *http.Request, body []byte) (int, string) {
			return 200, answer(plainOf(body), encryptedToken(testWebhookSecret, string(body)))
		},
		"no encryptedToken": func(_ int, _ *http.Request, body []byte) (int, string) {
			return 200, `{"plainToken":"` + plainOf(body) + `"}`
		},
		"not JSON":      func(int, *http.Request, []byte) (int, string) { return 200, "ok" },
		"204 no answer": func(int, *http.Request, []byte) (int, string) { return 204, "" },
		"right answer, status 500": func(n int, r *http.Request, body []byte) (int, string) {
			_, a := good(n, r, body)
			return 500, a
		},
	} {
		t.Run(name, func(t *testing.T) {
			env, rc := webhookEnv(t)
			rc.setRespond(respond)
			res, err := env.emu.SendURLValidation(t.Context())
			if err == nil {
				t.Errorf("accepted; answer %s", res.Answer)
			}
			if n := len(rc.requests()); n != 1 {
				t.Errorf("%d requests (validation is never retried)", n)
			}
			if ds := env.emu.Webhooks(); len(ds) != 1 || ds[0].Delivered || !ds[0].Done {
				t.Errorf("deliveries %+v", ds)
			}
		})
	}
	t.Run("time-out", func(t *testing.T) {
		env, rc := webhookEnv(t, func(c *Config) { c.WebhookTimeout = 50 * time.Millisecond })
		rc.setRespond(func(n int, r *http.Request, body []byte) (int, string) {
			<-r.Context().Done()
			return good(n, r, body)
		})
		if res, err := env.emu.SendURLValidation(t.Context()); err == nil || res.Status != 0 {
			t.Errorf("res %+v, err %v", res, err)
		}
	})
}

// eventOf decodes a delivery's body, checking the envelope.
func eventOf(t *testing.T, env *env, d WebhookDelivery, event string) map[string]any {
	t.Helper()
	var v struct {
		Event   string         `json:"event"`
		EventTS json.Number    `json:"event_ts"`
		Payload map[string]any `json:"payload"`
	}
	dec := json.NewDecoder(bytes.NewReader(d.Body))
	dec.UseNumber()
	if err := dec.Decode(&v); err != nil {
		t.Fatalf("%s: %v", d.Body, err)
	}
	if keys := jsonKeys(t, d.Body); !reflect.DeepEqual(keys, []string{"event", "event_ts", "payload"}) {
		t.Errorf("envelope keys %v", keys)
	}
	if v.Event != event || d.Event != event || v.EventTS.String() != strconv.FormatInt(env.clock.Now().UnixMilli(), 10) {
		t.Errorf("envelope %s", d.Body)
	}
	if !d.Delivered {
		t.Errorf("%s not delivered: %+v", event, d.Attempts)
	}
	return v.Payload
}

// wantPayload compares a payload with JSON, numbers as written.
func wantPayload(t *testing.T, got map[string]any, want string) {
	t.Helper()
	var w map[string]any
	dec := json.NewDecoder(strings.NewReader(want))
	dec.UseNumber()
	if err := dec.Decode(&w); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, w) {
		g, _ := json.Marshal(got)
		t.Errorf("payload\n got %s\nwant %s", g, want)
	}
}

func TestAppDeauthorizedEvent(t *testing.T) {
	env, _ := webhookEnv(t)
	tr := env.tokens(orgApp, DevAdminID)
	env.tokens(orgApp, DevAdminID) // re-authorization ends the first grant without an event
	if ds := env.waitWebhooks(); len(ds) != 0 {
		t.Fatalf("events before revoke: %+v", ds)
	}
	tr = env.tokens(orgApp, DevAdminID)
	want(t, env.revoke(orgApp, tr.AccessToken), 200, `{"status":"success"}`)
	env.waitWebhooks() // the receiver checks timestamps against the clock
	env.clock.Advance(time.Second)
	env.tokens(userApp, DevMemberID)
	if err := env.emu.Uninstall(userApp.ID, DevMemberID); err != nil {
		t.Fatal(err)
	}
	want(t, env.revoke(orgApp, tr.AccessToken), 400, `{"reason":"Invalid Token!","error":"invalid_request"}`)

	ds := env.waitWebhooks()
	if len(ds) != 2 {
		t.Fatalf("%d events", len(ds))
	}
	for i, c := range []struct {
		client, user string
		at           time.Time
	}{
		{orgApp.ID, DevAdminID, env.clock.Now().Add(-time.Second)},
		{userApp.ID, DevMemberID, env.clock.Now()},
	} {
		var p map[string]any
		if err := json.Unmarshal(ds[i].Body, &struct {
			Payload *map[string]any `json:"payload"`
		}{&p}); err != nil {
			t.Fatal(err)
		}
		sig, _ := p["signature"].(string)
		if !regexp.MustCompile(`^[0-9a-f]{64}$`).MatchString(sig) {
			t.Errorf("signature %q", sig)
		}
		var top struct {
			EventTS int64 `json:"event_ts"`
		}
		_ = json.Unmarshal(ds[i].Body, &top)
		if ds[i].Event != EventAppDeauthorized || top.EventTS != c.at.UnixMilli() {
			t.Errorf("event %s at %d", ds[i].Event, top.EventTS)
		}
		p["signature"] = "SIG"
		wantJSON, _ := json.Marshal(map[string]any{"account_id": DevAccountID, "user_id": c.user, "signature": "SIG",
			"deauthorization_time": c.at.UTC().Format("2006-01-02T15:04:05.000Z"), "client_id": c.client,
			"event_ts": c.at.UnixMilli()})
		var w map[string]any
		_ = json.Unmarshal(wantJSON, &w)
		if !reflect.DeepEqual(p, w) {
			t.Errorf("payload %v\nwant %v", p, w)
		}
	}
	if strings.Contains(string(ds[0].Body), "user_data_retention") {
		t.Errorf("Zoom removed user_data_retention, yet it is sent: %s", ds[0].Body)
	}
}

func TestUserEvents(t *testing.T) {
	env, _ := webhookEnv(t)
	ownerOp := `"account_id":"dev-acct-1","operator":"owner@acme.example","operator_id":"` + DevOwnerID + `"`

	if err := env.emu.SetUserRole(DevAdminID, "2", ""); err != nil {
		t.Fatal(err)
	}
	if err := env.emu.SetUserRole(DevAdminID, "2", "Member"); err != nil { // no change, no event
		t.Fatal(err)
	}
	ds := env.waitWebhooks()
	if len(ds) != 1 {
		t.Fatalf("%d events", len(ds))
	}
	ms := strconv.FormatInt(env.clock.Now().UnixMilli(), 10)
	wantPayload(t, eventOf(t, env, ds[0], EventUserUpdated), `{`+ownerOp+`,"time_stamp":`+ms+
		`,"object":{"id":"`+DevAdminID+`"},"old_object":{"id":"`+DevAdminID+`"}}`)

	if err := env.emu.DeactivateUser(DevMemberID); err != nil {
		t.Fatal(err)
	}
	if err := env.emu.DeactivateUser(DevMemberID); err == nil {
		t.Error("deactivated twice")
	}
	if err := env.emu.DeactivateUser("ghost"); err == nil {
		t.Error("deactivated a ghost")
	}
	ds = env.waitWebhooks()
	wantPayload(t, eventOf(t, env, ds[1], EventUserDeactivated), `{`+ownerOp+
		`,"object":{"id":"`+DevMemberID+`","first_name":"Mia","last_name":"Member","email":"member@acme.example","type":2}}`)
	checkErrorPage(t, env.authorize(userApp, DevMemberID, nil), http.StatusForbidden, "inactive")

	if err := env.emu.RemoveUser(DevAppManagerID); err != nil {
		t.Fatal(err)
	}
	if err := env.emu.DisassociateUser(DevMemberID); err != nil {
		t.Fatal(err)
	}
	if err := env.emu.DisassociateUser(DevMemberID); err == nil {
		t.Error("disassociated twice")
	}
	ds = env.waitWebhooks()
	if len(ds) != 4 {
		t.Fatalf("%d events", len(ds))
	}
	wantPayload(t, eventOf(t, env, ds[2], EventUserDeleted), `{`+ownerOp+
		`,"object":{"id":"`+DevAppManagerID+`","first_name":"Ida","last_name":"Integrations","email":"apps@acme.example","type":2}}`)
	wantPayload(t, eventOf(t, env, ds[3], EventUserDisassociated), `{`+ownerOp+
		`,"object":{"id":"`+DevMemberID+`","first_name":"Mia","last_name":"Member","email":"member@acme.example","type":2}}`)
	tr := env.tokens(orgApp, DevOwnerID)
	want(t, env.get("/v2/users/"+DevMemberID, tr.AccessToken), 404,
		`{"code":1001,"message":"User does not exist: `+DevMemberID+`."}`)

	t.Run("role fields", func(t *testing.T) {
		env, _ := webhookEnv(t, func(c *Config) { c.WebhookRoleFields = true })
		if err := env.emu.SetUserRole(DevAppManagerID, "1", ""); err != nil {
			t.Fatal(err)
		}
		ds := env.waitWebhooks()
		wantPayload(t, eventOf(t, env, ds[0], EventUserUpdated), `{`+ownerOp+`,"time_stamp":`+ms+
			`,"object":{"id":"`+DevAppManagerID+`","role_id":"1","role_name":"Admin"},`+
			`"old_object":{"id":"`+DevAppManagerID+`","role_id":"IntegrationMgrRole0001","role_name":"Integration Manager"}}`)
	})
	t.Run("operator is an admin without an owner, none without either", func(t *testing.T) {
		env, _ := webhookEnv(t)
		if err := env.emu.RemoveUser(DevOtherOwnerID); err != nil { // the only user of dev-acct-2
			t.Fatal(err)
		}
		if err := env.emu.RemoveUser(DevOwnerID); err != nil {
			t.Fatal(err)
		}
		if err := env.emu.RemoveUser(DevMemberID); err != nil {
			t.Fatal(err)
		}
		ds := env.waitWebhooks()
		p := eventOf(t, env, ds[0], EventUserDeleted)
		if _, ok := p["operator"]; ok {
			t.Errorf("operator in %v", p)
		}
		p = eventOf(t, env, ds[2], EventUserDeleted)
		if p["operator"] != "admin@acme.example" || p["operator_id"] != DevAdminID {
			t.Errorf("payload %v", p)
		}
	})
}

func TestMeetingDeletedEvent(t *testing.T) {
	env, rc := webhookEnv(t, longTokens)
	org := env.tokens(orgApp, DevAdminID).AccessToken
	m := env.createMeeting(org, DevMemberID, `{"topic":"Buchung <Café> & Ω","start_time":"2026-03-10T10:00:00Z","duration":45,"timezone":"Europe/Berlin"}`)
	wantEmpty(t, env.api(http.MethodDelete, meetingPath(m.ID), org, ""))
	want(t, env.api(http.MethodDelete, meetingPath(m.ID), org, ""), 404, notFound(strconv.FormatInt(m.ID, 10)))

	instant := env.createMeeting(org, DevOwnerID, `{}`)
	if err := env.emu.DeleteMeeting(instant.ID); err != nil {
		t.Fatal(err)
	}
	ds := env.waitWebhooks()
	if len(ds) != 2 {
		t.Fatalf("%d events", len(ds))
	}
	id := strconv.FormatInt(m.ID, 10)
	wantPayload(t, eventOf(t, env, ds[0], EventMeetingDeleted), `{"account_id":"dev-acct-1","operator":"admin@acme.example",`+
		`"operator_id":"`+DevAdminID+`","operation":"single","object":{"uuid":"`+m.UUID+`","id":`+id+`,"host_id":"`+DevMemberID+
		`","topic":"Buchung <Café> & Ω","type":2,"start_time":"2026-03-10T10:00:00Z","duration":45,"timezone":"Europe/Berlin"}}`)
	if !strings.Contains(string(ds[0].Body), `"id":`+id+`,`) || !strings.Contains(string(ds[0].Body), "Buchung <Café> & Ω") {
		t.Errorf("id not a number or topic escaped: %s", ds[0].Body)
	}
	wantPayload(t, eventOf(t, env, ds[1], EventMeetingDeleted), `{"account_id":"dev-acct-1","operator":"owner@acme.example",`+
		`"operator_id":"`+DevOwnerID+`","operation":"single","object":{"uuid":"`+instant.UUID+`","id":`+
		strconv.FormatInt(instant.ID, 10)+`,"host_id":"`+DevOwnerID+`","topic":"Zoom Meeting","type":1,`+
		`"start_time":"2026-03-02T09:00:00Z","duration":0,"timezone":"Europe/Berlin"}}`)
	for _, r := range rc.requests() {
		if r.problem != "" {
			t.Errorf("receiver: %s", r.problem)
		}
	}
}

func TestNoWebhookURL(t *testing.T) {
	rc := newReceiver(t)
	env := newEnv(t, func(c *Config) { c.WebhookSecret = testWebhookSecret }) // a secret alone sends nothing
	t.Cleanup(env.emu.Close)
	tr := env.tokens(orgApp, DevAdminID)
	m := env.createMeeting(tr.AccessToken, "me", `{}`)
	wantEmpty(t, env.api(http.MethodDelete, meetingPath(m.ID), tr.AccessToken, ""))
	want(t, env.revoke(orgApp, tr.AccessToken), 200, `{"status":"success"}`)
	for _, err := range []error{
		env.emu.SetUserRole(DevMemberID, "1", ""), env.emu.DeactivateUser(DevMemberID),
		env.emu.RemoveUser(DevMemberID), env.emu.DisassociateUser(DevAdminID),
	} {
		if err != nil {
			t.Fatal(err)
		}
	}
	if ds := env.waitWebhooks(); len(ds) != 0 {
		t.Errorf("deliveries %+v", ds)
	}
	if _, err := env.emu.SendEvent(t.Context(), "x", nil); err == nil {
		t.Error("SendEvent without URL")
	}
	if _, err := env.emu.SendURLValidation(t.Context()); err == nil {
		t.Error("SendURLValidation without URL")
	}
	if n := len(rc.requests()); n != 0 {
		t.Errorf("%d requests", n)
	}
}

func TestWebhookConfig(t *testing.T) {
	for name, c := range map[string]Config{
		"no secret":      {WebhookURL: "https://app.example/hook"},
		"relative URL":   {WebhookURL: "/hook", WebhookSecret: "s"},
		"ftp URL":        {WebhookURL: "ftp://app.example/hook", WebhookSecret: "s"},
		"negative delay": {WebhookURL: "https://app.example/hook", WebhookSecret: "s", WebhookRetryDelays: []time.Duration{-1}},
		"negative time":  {WebhookURL: "https://app.example/hook", WebhookSecret: "s", WebhookTimeout: -1},
	} {
		if _, err := New(c); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	emu, err := New(Config{WebhookURL: "https://app.example/hook", WebhookSecret: "s"})
	if err != nil {
		t.Fatal(err)
	}
	defer emu.Close()
	if !reflect.DeepEqual(emu.wh.delays, []time.Duration{5 * time.Minute, 20 * time.Minute, time.Hour}) || emu.wh.timeout != 3*time.Second {
		t.Errorf("defaults: %v %v", emu.wh.delays, emu.wh.timeout)
	}
}

func TestWebhookTLSClient(t *testing.T) {
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(200) }))
	defer srv.Close()
	emu, err := New(Config{WebhookURL: srv.URL, WebhookSecret: "s", WebhookHTTPClient: srv.Client()})
	if err != nil {
		t.Fatal(err)
	}
	defer emu.Close()
	if _, err := emu.SendEvent(t.Context(), "x", map[string]any{}); err != nil {
		t.Error(err)
	}
	if srv.Client().CheckRedirect != nil {
		t.Error("the caller's client was changed")
	}
}

func TestConcurrentWebhooks(t *testing.T) {
	env, rc := webhookEnv(t)
	var mu sync.Mutex
	seen := map[string]bool{}
	rc.setRespond(func(_ int, _ *http.Request, body []byte) (int, string) {
		mu.Lock()
		defer mu.Unlock()
		if !seen[string(body)] { // every event's first attempt fails
			seen[string(body)] = true
			return 500, ""
		}
		return 204, ""
	})
	var wg sync.WaitGroup
	for i := range 20 {
		wg.Go(func() {
			if i%2 == 0 {
				_, _ = env.emu.SendEvent(t.Context(), "custom.event", map[string]any{"i": i})
			} else {
				_ = env.emu.SetUserRole(DevMemberID, "Role"+strconv.Itoa(i), "R")
			}
		})
	}
	wg.Wait()
	ds := env.waitWebhooks()
	if len(ds) != 20 {
		t.Fatalf("%d deliveries", len(ds))
	}
	for i, d := range ds {
		if d.Seq != i+1 || !d.Done || !d.Delivered {
			t.Errorf("delivery %+v", d)
		}
	}
}
