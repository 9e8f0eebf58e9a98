package app_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	zcv1 "github.com/zoomconnect/zoomconnect/gen/zoomconnect/v1"
	"github.com/zoomconnect/zoomconnect/server/config"
	"github.com/zoomconnect/zoomconnect/server/internal/abusetest"
	"github.com/zoomconnect/zoomconnect/server/internal/redistest"
	"github.com/zoomconnect/zoomconnect/server/zoomemu"
	"golang.org/x/net/http2"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/connectivity"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
)

// putMember sends PUT /v1/orgs/{org}/members/{user} with a body of size
// bytes (chunked when !withLength) and returns the status, the error
// reason and domain of the answer, and how much of the body was sent.
func putMember(t testing.TB, h *harness, tok string, size int64, withLength bool) (httpStatus int, reason, domain string, sent int64) {
	t.Helper()
	body := abusetest.NewBody(size)
	req, err := http.NewRequest(http.MethodPut, h.baseURL()+"/v1/orgs/acme/members/mia", body)
	must(t, err)
	if withLength {
		req.ContentLength = size
	} else {
		req.ContentLength = -1
	}
	if tok != "" {
		req.Header.Set("Authorization", "Bearer "+tok)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := (&http.Client{Transport: &http.Transport{}}).Do(req)
	must(t, err)
	defer resp.Body.Close()
	var st struct {
		Details []struct {
			Type   string `json:"@type"`
			Reason string `json:"reason"`
			Domain string `json:"domain"`
		} `json:"details"`
	}
	raw, _ := io.ReadAll(resp.Body)
	if err := json.Unmarshal(raw, &st); err != nil {
		t.Fatalf("HTTP %d, body %q is not a google.rpc.Status", resp.StatusCode, raw)
	}
	for _, d := range st.Details {
		if strings.HasSuffix(d.Type, "google.rpc.ErrorInfo") {
			reason, domain = d.Reason, d.Domain
		}
	}
	return resp.StatusCode, reason, domain, body.Sent()
}

// TestRESTBodiesAreBoundedBeforeTheyAreRead: a body is read only for a
// caller with a valid token, and never beyond the limit.
func TestRESTBodiesAreBoundedBeforeTheyAreRead(t *testing.T) {
	h := newHarness(t, "")
	limit := int64(config.DefaultLimits().MaxRequestBytes)
	const hundredMB = 100 << 20
	tok := internalToken(t)
	for _, tc := range []struct {
		name       string
		tok        string
		size       int64
		withLength bool
		status     int
		reason     string
	}{
		{"100 MB without a token", "", hundredMB, true, http.StatusUnauthorized, "TOKEN_MISSING"},
		{"100 MB chunked without a token", "", hundredMB, false, http.StatusUnauthorized, "TOKEN_MISSING"},
		{"100 MB with a bad token", "not.a.jwt", hundredMB, true, http.StatusUnauthorized, "TOKEN_MALFORMED"},
		{"100 MB with a valid token", tok, hundredMB, true, http.StatusRequestEntityTooLarge, "REQUEST_TOO_LARGE"},
		{"100 MB chunked with a valid token", tok, hundredMB, false, http.StatusRequestEntityTooLarge, "REQUEST_TOO_LARGE"},
		{"one byte over the limit", tok, limit + 1, true, http.StatusRequestEntityTooLarge, "REQUEST_TOO_LARGE"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			status, reason, domain, sent := putMember(t, h, tc.tok, tc.size, tc.withLength)
			if status != tc.status || (tc.reason != "" && reason != tc.reason) || domain != "zoomconnect" {
				t.Fatalf("HTTP %d, reason %q, domain %q; want %d %s zoomconnect", status, reason, domain, tc.status, tc.reason)
			}
			// The server may drain a little to keep the connection; it
			// must not take in the whole body.
			if tc.size == hundredMB && sent > 8<<20 {
				t.Fatalf("the client sent %d MB before the answer", sent>>20)
			}
		})
	}

	// A member at the limit is decoded as usual: the body is whitespace
	// around a small JSON object.
	member := `{"userId":"mia","email":"mia@acme.example"}`
	req, err := http.NewRequest(http.MethodPut, h.baseURL()+"/v1/orgs/acme/members/mia",
		strings.NewReader(member+strings.Repeat(" ", int(limit)-len(member))))
	must(t, err)
	req.Header.Set("Authorization", "Bearer "+tok)
	resp, err := http.DefaultClient.Do(req)
	must(t, err)
	raw, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(raw), "mia@acme.example") {
		t.Fatalf("a body of exactly the limit: HTTP %d %s", resp.StatusCode, raw)
	}
}

// TestGRPCRequestsAreBounded: metadata and messages over the limits are
// refused before anything handles them, whatever the client believes.
func TestGRPCRequestsAreBounded(t *testing.T) {
	h := newHarness(t, "")
	limits := config.DefaultLimits()

	t.Run("metadata", func(t *testing.T) {
		check := func(metadataBytes int) string {
			c, err := abusetest.DialHTTP2(h.app.GRPCAddr(), 20*time.Second)
			must(t, err)
			defer c.Close()
			_ = c.HealthCheck(metadataBytes)
			return c.Answer()
		}
		if got := check(1 << 10); got != "grpc-status: 0" {
			t.Fatalf("a health check with 1 KB of metadata: %s", got)
		}
		if got := check(15 << 20); strings.HasPrefix(got, "grpc-status: ") {
			t.Fatalf("a health check with 15 MB of metadata was answered: %s", got)
		}
		if got := check(limits.MaxHeaderBytes); strings.HasPrefix(got, "grpc-status: ") {
			t.Fatalf("a health check with metadata just over the limit was answered: %s", got)
		}
		if got := check(1 << 10); got != "grpc-status: 0" {
			t.Fatalf("after the big ones, a health check with 1 KB of metadata: %s", got)
		}
		// The Go client refuses to send it at all.
		ctx := metadata.AppendToOutgoingContext(context.Background(), "x-padding", strings.Repeat("p", limits.MaxHeaderBytes))
		_, err := healthpb.NewHealthClient(h.conn).Check(ctx, &healthpb.HealthCheckRequest{})
		if err == nil {
			t.Fatal("a health check with metadata over the limit succeeded")
		}
	})

	t.Run("message", func(t *testing.T) {
		req := &zcv1.UpsertOrgMemberRequest{OrgId: "acme", UserId: "mia",
			Member: &zcv1.OrgMember{UserId: "mia", Name: strings.Repeat("n", limits.MaxRequestBytes)}}
		err := h.conn.Invoke(context.Background(), zcv1.ConnectionService_UpsertOrgMember_FullMethodName, req, &zcv1.UpsertOrgMemberResponse{})
		if status.Code(err) != codes.ResourceExhausted {
			t.Fatalf("a message over %d bytes: %v, want RESOURCE_EXHAUSTED", limits.MaxRequestBytes, err)
		}
	})

	t.Run("pings too often", func(t *testing.T) {
		c, err := abusetest.DialHTTP2(h.app.GRPCAddr(), 20*time.Second)
		must(t, err)
		defer c.Close()
		for i := range 5 {
			must(t, c.Framer().WritePing(false, [8]byte{byte(i)}))
		}
		if got := c.Answer(); got != "goaway: "+http2.ErrCodeEnhanceYourCalm.String() {
			t.Fatalf("a client pinging 5 times at once: %s, want GOAWAY ENHANCE_YOUR_CALM", got)
		}
	})
}

// TestIdleGRPCConnectionsAreClosed: a connection without calls is closed
// after GRPCMaxConnectionIdle; the client reconnects by itself.
func TestIdleGRPCConnectionsAreClosed(t *testing.T) {
	h := newHarness(t, "", withService(func(c *config.Config) { c.Limits.GRPCMaxConnectionIdle = 300 * time.Millisecond }))
	conn, err := grpc.NewClient(h.app.GRPCAddr(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	must(t, err)
	defer conn.Close()
	_, err = healthpb.NewHealthClient(conn).Check(context.Background(), &healthpb.HealthCheckRequest{})
	must(t, err)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	for s := conn.GetState(); s == connectivity.Ready; s = conn.GetState() {
		if !conn.WaitForStateChange(ctx, s) {
			t.Fatal("the idle connection stayed open")
		}
	}
	_, err = healthpb.NewHealthClient(conn).Check(context.Background(), &healthpb.HealthCheckRequest{})
	must(t, err)
}

// TestInstallLinkVisitsShareOneState: however often an install link is
// opened, it holds at most two OAuth states (one per StateTTL window), and
// every tab that opened it can still finish.
func TestInstallLinkVisitsShareOneState(t *testing.T) {
	srv := redistest.StartStandalone(t)
	h := newHarness(t, srv.URL())
	o := newOrg(h, t, grpcTransport{h}, "visits")
	link := o.mustStart(t).GetInstallUrl()
	first := h.openInstallLink(t, link)
	for range 1000 {
		if again := h.openInstallLink(t, link); again.Query().Get("state") != first.Query().Get("state") {
			t.Fatalf("a second visit got another state")
		}
	}
	rdb := redis.NewClient(&redis.Options{Addr: srv.Addr})
	defer rdb.Close()
	keys, err := rdb.Keys(context.Background(), fmt.Sprintf("zc:{org:%s}:state:*", o.id)).Result()
	must(t, err)
	if len(keys) < 1 || len(keys) > 2 {
		t.Fatalf("1001 visits of the link left %d OAuth states in Redis, want 1 or 2", len(keys))
	}
	// The first tab still finishes: its PKCE verifier was not replaced.
	callback, _ := h.browser.SignInAtZoom(first, zoomemu.DevAdminID, "allow")
	page := h.browser.Get(callback)
	if page.Status != http.StatusOK {
		t.Fatalf("finishing the first tab after 1000 more visits: HTTP %d %s", page.Status, page.Body)
	}
	if q, _ := url.ParseQuery(first.RawQuery); q.Get("code_challenge") == "" {
		t.Fatal("no PKCE challenge")
	}
	o.wantState(t, active, noReason)
}

// TestHTTPHeadersAreBounded: request headers over the limit are refused
// with 431 before any handler runs.
func TestHTTPHeadersAreBounded(t *testing.T) {
	h := newHarness(t, "")
	for _, tc := range []struct {
		size int
		want int
	}{{1 << 10, http.StatusOK}, {config.DefaultLimits().MaxHeaderBytes + 8<<10, http.StatusRequestHeaderFieldsTooLarge}} {
		req, err := http.NewRequest(http.MethodGet, h.baseURL()+"/healthz", nil)
		must(t, err)
		req.Header.Set("X-Padding", strings.Repeat("p", tc.size))
		resp, err := http.DefaultClient.Do(req)
		must(t, err)
		resp.Body.Close()
		if resp.StatusCode != tc.want {
			t.Fatalf("%d bytes of headers: HTTP %d, want %d", tc.size, resp.StatusCode, tc.want)
		}
	}
}

// TestLongTokensAreRefusedNotInternal: headers within the HTTP limit that
// the gateway cannot forward as gRPC metadata (a 28 KiB bearer token) get
// 431 with REQUEST_TOO_LARGE, not 500 INTERNAL; an attacker needs no valid
// token to send one.
func TestLongTokensAreRefusedNotInternal(t *testing.T) {
	h := newHarness(t, "")
	for _, path := range []string{"/v1/orgs/acme/zoom", "/v1/zoom/events:watch"} {
		resp, st := rawREST(t, h, http.MethodGet, path, strings.Repeat("t", 28<<10), "")
		if resp.StatusCode != http.StatusRequestHeaderFieldsTooLarge || st == nil || codes.Code(st.GetCode()) != codes.ResourceExhausted ||
			errorInfoOf(t, st).GetReason() != "REQUEST_TOO_LARGE" {
			t.Fatalf("GET %s with a 28 KiB token: HTTP %d, %v", path, resp.StatusCode, st)
		}
	}
}

// TestHalfOpenGRPCConnectionsAreClosed: a client that stops answering is
// pinged after GRPCKeepaliveTime of silence and dropped when the ping goes
// unanswered for GRPCKeepaliveTimeout.
func TestHalfOpenGRPCConnectionsAreClosed(t *testing.T) {
	h := newHarness(t, "", withService(func(c *config.Config) {
		c.Limits.GRPCKeepaliveTime = time.Second // grpc-go's smallest
		c.Limits.GRPCKeepaliveTimeout = 500 * time.Millisecond
	}))
	c, err := abusetest.DialHTTP2(h.app.GRPCAddr(), 10*time.Second)
	must(t, err)
	defer c.Close()
	began, pings := time.Now(), 0
	for {
		f, err := c.Framer().ReadFrame()
		if err != nil {
			// The server closes the connection (no GOAWAY: the peer is
			// presumed gone) after an unanswered ping.
			if !errors.Is(err, io.EOF) || pings == 0 {
				t.Fatalf("after %v and %d pings: %v; want the server to close the connection after a ping", time.Since(began), pings, err)
			}
			return
		}
		if _, ok := f.(*http2.PingFrame); ok {
			pings++ // never answered
		}
	}
}
