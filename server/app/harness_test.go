package app_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/zoomconnect/zoomconnect/server/app"
	"github.com/zoomconnect/zoomconnect/server/auth"
	"github.com/zoomconnect/zoomconnect/server/config"
	"github.com/zoomconnect/zoomconnect/server/errs"
	"github.com/zoomconnect/zoomconnect/server/internal/redistest"
	"github.com/zoomconnect/zoomconnect/server/internal/webtest"
	"github.com/zoomconnect/zoomconnect/server/zoomemu"
	"google.golang.org/genproto/googleapis/api/annotations"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	spb "google.golang.org/genproto/googleapis/rpc/status"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"
	"google.golang.org/protobuf/types/known/fieldmaskpb"
)

const (
	orgClientID     = "test-org-app"
	orgClientSecret = "test-org-secret"
	userClientID    = "test-user-app"
	userSecret      = "test-user-secret"
	testKeyring     = "k1:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8"
)

var authSecret = []byte("an-hs256-secret-for-tests-only-32bytes!")

// backend is a store the whole service runs on.
type backend struct {
	name string
	// redisURL starts a Redis for the test and returns its URL; nil selects
	// the embedded store.
	redisURL func(t testing.TB) string
}

var backends = []backend{
	{name: "embedded", redisURL: func(testing.TB) string { return "" }},
	{name: "redis", redisURL: func(t testing.TB) string { return redistest.StartStandalone(t).URL() }},
	{name: "redis-cluster", redisURL: func(t testing.TB) string { return redistest.StartCluster(t).URL() }},
}

// forEachBackend runs f once per store backend.
func forEachBackend(t *testing.T, f func(t *testing.T, redisURL string)) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) { f(t, b.redisURL(t)) })
	}
}

// harness runs the real service (gRPC, gateway, OAuth pages) on loopback
// against a Zoom emulator on its own server, and can restart it on the same
// ports, data dir and store.
type harness struct {
	t       testing.TB
	cfg     config.Config
	zoom    *zoomemu.Emulator
	app     *app.App
	cancel  context.CancelFunc
	done    chan error
	conn    *grpc.ClientConn
	browser *webtest.Browser
	// logs holds the service's whole log, debug level included, for tests
	// of what is (and is not) logged; the test log shows info and above.
	logs webtest.LogBuffer
	// appOpts are passed to every app.New of the harness.
	appOpts []app.Option
}

// option adjusts the service's or the Zoom emulator's configuration.
type option func(*config.Config, *zoomemu.Config)

func withService(f func(*config.Config)) option {
	return func(c *config.Config, _ *zoomemu.Config) { f(c) }
}

func withZoom(f func(*zoomemu.Config)) option {
	return func(_ *config.Config, z *zoomemu.Config) { f(z) }
}

// webhookSecret signs the emulator's events to the service.
const webhookSecret = "test-webhook-secret-token"

// withWebhooks makes the emulator deliver its events to the service.
func withWebhooks() option {
	return func(c *config.Config, z *zoomemu.Config) {
		c.ZoomWebhookSecret = "the-other-apps-secret-token," + webhookSecret // one per Zoom app
		z.WebhookURL, z.WebhookSecret = "http://"+c.HTTPAddr+"/webhooks/zoom", webhookSecret
		z.WebhookRetryDelays = []time.Duration{50 * time.Millisecond, 100 * time.Millisecond, 200 * time.Millisecond}
	}
}

// newHarness starts zoomconnect on redisURL (empty: the embedded store).
func newHarness(t testing.TB, redisURL string, opts ...option) *harness {
	t.Helper()
	return newHarnessWith(t, redisURL, nil, opts...)
}

// newHarnessWith also passes appOpts (tracing) to every start of the service.
func newHarnessWith(t testing.TB, redisURL string, appOpts []app.Option, opts ...option) *harness {
	t.Helper()
	zcfg := zoomemu.DevConfig(
		zoomemu.Client{ID: orgClientID, Secret: orgClientSecret, AdminManaged: true},
		zoomemu.Client{ID: userClientID, Secret: userSecret},
	)
	cfg := config.Defaults()
	// Zoom's Free-plan pacing (2 calls a second) would make every test
	// slow; TestZoomPacing runs the default against an emulator that
	// enforces that limit.
	cfg.ZoomRate = 100
	cfg.GRPCAddr = webtest.FreeAddr(t)
	cfg.HTTPAddr = webtest.FreeAddr(t)
	cfg.AdminAddr = webtest.FreeAddr(t)
	for _, o := range opts {
		o(&cfg, &zcfg)
	}
	emu, err := zoomemu.New(zcfg)
	if err != nil {
		t.Fatal(err)
	}
	zoomSrv := httptest.NewServer(emu.Handler())
	t.Cleanup(zoomSrv.Close)
	t.Cleanup(emu.Close) // runs first: no webhook retries after the test

	cfg.DataDir = t.TempDir()
	cfg.AuthHS256Secret = authSecret
	cfg.EncryptionKeys = testKeyring
	cfg.ZoomOAuthURL = zoomSrv.URL
	cfg.ZoomAPIURL = zoomSrv.URL + "/v2"
	cfg.ZoomOrgApp = config.ZoomApp{ClientID: orgClientID, ClientSecret: orgClientSecret}
	cfg.ZoomUserApp = config.ZoomApp{ClientID: userClientID, ClientSecret: userSecret}
	cfg.ShutdownTimeout = 5 * time.Second
	cfg.RedisURL = redisURL
	h := &harness{
		t: t, cfg: cfg, zoom: emu, appOpts: appOpts,
		browser: webtest.NewBrowser(t),
	}
	h.start()
	t.Cleanup(h.stop)
	return h
}

// replica starts a second instance of the service on the same store and
// Zoom, as a second replica behind a load balancer would be.
func (h *harness) replica(t testing.TB) *harness {
	t.Helper()
	cfg := h.cfg
	cfg.GRPCAddr, cfg.HTTPAddr, cfg.DataDir = webtest.FreeAddr(t), webtest.FreeAddr(t), t.TempDir()
	cfg.AdminAddr = webtest.FreeAddr(t)
	r := &harness{t: t, cfg: cfg, zoom: h.zoom, appOpts: h.appOpts, browser: webtest.NewBrowser(t)}
	r.start()
	t.Cleanup(r.stop)
	return r
}

func (h *harness) start() {
	h.t.Helper()
	logger := slog.New(slog.NewMultiHandler(
		slog.NewTextHandler(testWriter{h.t}, &slog.HandlerOptions{Level: slog.LevelInfo}),
		slog.NewTextHandler(&h.logs, &slog.HandlerOptions{Level: slog.LevelDebug}),
	))
	var err error
	for range 50 { // the previous instance's ports may linger briefly
		h.app, err = app.New(context.Background(), h.cfg, logger, h.appOpts...)
		if err == nil || !strings.Contains(err.Error(), "address already in use") {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if err != nil {
		h.t.Fatalf("starting zoomconnect: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	h.cancel, h.done = cancel, make(chan error, 1)
	go func() { h.done <- h.app.Run(ctx) }()
	h.conn, err = grpc.NewClient(h.app.GRPCAddr(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		h.t.Fatal(err)
	}
	h.waitReady()
}

func (h *harness) waitReady() {
	h.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		resp, err := http.Get("http://" + h.app.HTTPAddr() + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	h.t.Fatal("zoomconnect did not become ready")
}

func (h *harness) stop() {
	if h.cancel == nil {
		return
	}
	h.conn.Close()
	h.cancel()
	select {
	case err := <-h.done:
		if err != nil {
			h.t.Errorf("zoomconnect stopped with error: %v", err)
		}
	case <-time.After(15 * time.Second):
		h.t.Error("zoomconnect did not shut down")
	}
	h.cancel = nil
}

// restart stops the service and starts a new process-equivalent on the same
// configuration: nothing in memory survives.
func (h *harness) restart() {
	h.t.Helper()
	h.stop()
	h.start()
}

func (h *harness) baseURL() string { return "http://" + h.app.HTTPAddr() }

type testWriter struct{ t testing.TB }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

// token mints a caller token.
func token(t testing.TB, c auth.Claims) string {
	t.Helper()
	tok, err := auth.Mint(authSecret, c, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

func personToken(t testing.TB, sub, org string, role auth.Role) string {
	return token(t, auth.Claims{Subject: sub, OrgID: org, OrgRole: role, Email: sub + "@example.test"})
}

func internalToken(t testing.TB) string {
	return token(t, auth.Claims{Subject: "booking-service", Scope: auth.Scope{auth.InternalScope}})
}

// apiError is a failed call as a client sees it, over either transport.
type apiError struct {
	code   codes.Code
	reason string
	msg    string
	// retry is the google.rpc.RetryInfo delay, if any.
	retry time.Duration
}

func (e *apiError) Error() string { return fmt.Sprintf("%s (%s): %s", e.code, e.reason, e.msg) }

// transport performs API calls over gRPC or over the REST gateway; every
// API scenario runs over both.
type transport interface {
	name() string
	call(t testing.TB, tok, method string, req, resp proto.Message) error
}

type grpcTransport struct{ h *harness }

func (grpcTransport) name() string { return "grpc" }

func (g grpcTransport) call(t testing.TB, tok, method string, req, resp proto.Message) error {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if tok != "" {
		ctx = metadata.AppendToOutgoingContext(ctx, "authorization", "Bearer "+tok)
	}
	err := g.h.conn.Invoke(ctx, method, req, resp)
	if err == nil {
		return nil
	}
	st := status.Convert(err)
	ae := &apiError{code: st.Code(), msg: st.Message()}
	for _, d := range st.Details() {
		switch d := d.(type) {
		case *errdetails.ErrorInfo:
			ae.reason = d.GetReason()
		case *errdetails.RetryInfo:
			ae.retry = d.GetRetryDelay().AsDuration()
		}
	}
	return ae
}

type restTransport struct{ h *harness }

func (restTransport) name() string { return "rest" }

// restRoute reads an RPC's REST route from its google.api.http option, so
// the REST transport follows the contract rather than a copy of it.
func restRoute(t testing.TB, fullMethod string) (verb, path, body string) {
	t.Helper()
	name := strings.Replace(strings.TrimPrefix(fullMethod, "/"), "/", ".", 1)
	d, err := protoregistry.GlobalFiles.FindDescriptorByName(protoreflect.FullName(name))
	if err != nil {
		t.Fatalf("unknown method %s: %v", fullMethod, err)
	}
	rule, _ := proto.GetExtension(d.(protoreflect.MethodDescriptor).Options(), annotations.E_Http).(*annotations.HttpRule)
	switch p := rule.GetPattern().(type) {
	case *annotations.HttpRule_Get:
		return http.MethodGet, p.Get, rule.GetBody()
	case *annotations.HttpRule_Post:
		return http.MethodPost, p.Post, rule.GetBody()
	case *annotations.HttpRule_Put:
		return http.MethodPut, p.Put, rule.GetBody()
	case *annotations.HttpRule_Patch:
		return http.MethodPatch, p.Patch, rule.GetBody()
	case *annotations.HttpRule_Delete:
		return http.MethodDelete, p.Delete, rule.GetBody()
	}
	t.Fatalf("%s has no REST route", fullMethod)
	return "", "", ""
}

// restRequest lays req out as grpc-gateway expects: path variables, the
// body the route names, and every other set field as a query parameter.
func restRequest(t testing.TB, req proto.Message, path, body string) (string, []byte) {
	t.Helper()
	msg := req.ProtoReflect()
	fields := msg.Descriptor().Fields()
	used := map[protoreflect.Name]bool{}
	for i := range fields.Len() {
		fd := fields.Get(i)
		if v := "{" + string(fd.Name()) + "}"; strings.Contains(path, v) {
			path = strings.ReplaceAll(path, v, url.PathEscape(msg.Get(fd).String()))
			used[fd.Name()] = true
		}
	}
	var payload []byte
	var err error
	switch body {
	case "":
	case "*":
		payload, err = protojson.Marshal(req)
	default:
		fd := fields.ByName(protoreflect.Name(body))
		used[fd.Name()] = true
		payload, err = protojson.Marshal(msg.Get(fd).Message().Interface())
	}
	if err != nil {
		t.Fatal(err)
	}
	query := url.Values{}
	if body != "*" {
		msg.Range(func(fd protoreflect.FieldDescriptor, v protoreflect.Value) bool {
			switch {
			case used[fd.Name()]:
			case fd.IsList():
				for i := range v.List().Len() {
					query.Add(string(fd.Name()), v.List().Get(i).String())
				}
			case fd.Kind() == protoreflect.EnumKind:
				query.Set(string(fd.Name()), string(fd.Enum().Values().ByNumber(v.Enum()).Name()))
			case fd.Message() != nil && fd.Message().FullName() == "google.protobuf.FieldMask":
				query.Set(string(fd.Name()), strings.Join(v.Message().Interface().(*fieldmaskpb.FieldMask).GetPaths(), ","))
			default:
				query.Set(string(fd.Name()), v.String())
			}
			return true
		})
	}
	if len(query) > 0 {
		path += "?" + query.Encode()
	}
	return path, payload
}

func (r restTransport) call(t testing.TB, tok, method string, req, resp proto.Message) error {
	t.Helper()
	verb, path, body := restRoute(t, method)
	path, payload := restRequest(t, req, path, body)
	var reader io.Reader
	if payload != nil {
		reader = bytes.NewReader(payload)
	}
	httpReq, err := http.NewRequest(verb, r.h.baseURL()+path, reader)
	if err != nil {
		t.Fatal(err)
	}
	if tok != "" {
		httpReq.Header.Set("Authorization", "Bearer "+tok)
	}
	httpReq.Header.Set("Content-Type", "application/json")
	res, err := http.DefaultClient.Do(httpReq)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	if res.StatusCode == http.StatusOK {
		if err := protojson.Unmarshal(raw, resp); err != nil {
			t.Fatalf("decoding %s answer %s: %v", method, raw, err)
		}
		assertNoSecretsInJSON(t, raw)
		return nil
	}
	var st spb.Status
	if err := protojson.Unmarshal(raw, &st); err != nil {
		t.Fatalf("REST error body is not a google.rpc.Status: HTTP %d %s", res.StatusCode, raw)
	}
	if want := httpStatusOf(codes.Code(st.GetCode())); res.StatusCode != want {
		t.Errorf("%s: HTTP %d for gRPC code %s, want %d", method, res.StatusCode, codes.Code(st.GetCode()), want)
	}
	ae := &apiError{code: codes.Code(st.GetCode()), msg: st.GetMessage()}
	for _, d := range st.GetDetails() {
		var info errdetails.ErrorInfo
		var retry errdetails.RetryInfo
		switch {
		case d.MessageIs(&info) && d.UnmarshalTo(&info) == nil:
			ae.reason = info.GetReason()
		case d.MessageIs(&retry) && d.UnmarshalTo(&retry) == nil:
			ae.retry = retry.GetRetryDelay().AsDuration()
		}
	}
	return ae
}

// httpStatusOf is the mapping grpc-gateway documents for its default error
// handler, restated for the codes the API uses.
func httpStatusOf(c codes.Code) int {
	return map[codes.Code]int{
		codes.InvalidArgument:    http.StatusBadRequest,
		codes.Unauthenticated:    http.StatusUnauthorized,
		codes.PermissionDenied:   http.StatusForbidden,
		codes.NotFound:           http.StatusNotFound,
		codes.FailedPrecondition: http.StatusBadRequest,
		codes.Unimplemented:      http.StatusNotImplemented,
		codes.Unavailable:        http.StatusServiceUnavailable,
		codes.AlreadyExists:      http.StatusConflict,
		codes.ResourceExhausted:  http.StatusTooManyRequests,
		codes.DeadlineExceeded:   http.StatusGatewayTimeout,
		codes.Internal:           http.StatusInternalServerError,
	}[c]
}

func assertNoSecretsInJSON(t testing.TB, raw []byte) {
	t.Helper()
	for _, word := range []string{"accessToken", "refreshToken", "sealed", "secret", string(zoomTokenPrefix)} {
		if bytes.Contains(bytes.ToLower(raw), bytes.ToLower([]byte(word))) {
			t.Errorf("API answer mentions %q: %s", word, raw)
		}
	}
}

func transports(h *harness) []transport { return []transport{grpcTransport{h}, restTransport{h}} }

func wantCode(t testing.TB, err error, code codes.Code, reason errs.Reason) {
	t.Helper()
	var ae *apiError
	if !errors.As(err, &ae) {
		t.Fatalf("got %v, want %s/%s", err, code, reason)
	}
	if ae.code != code || (reason != 0 && ae.reason != errs.ReasonName(reason)) {
		t.Fatalf("got %s/%s (%q), want %s/%s", ae.code, ae.reason, ae.msg, code, reason)
	}
	if ae.msg == "" {
		t.Errorf("error %s/%s has no message", code, reason)
	}
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
