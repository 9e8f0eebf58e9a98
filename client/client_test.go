package client_test

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/zoomconnect/zoomconnect/client"
	"github.com/zoomconnect/zoomconnect/client/internal/fakezoom"
	zoomconnectv1 "github.com/zoomconnect/zoomconnect/gen/zoomconnect/v1"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"
)

const (
	getEffective   = zoomconnectv1.ConnectionService_GetEffectiveZoomAccount_FullMethodName
	getOrg         = zoomconnectv1.ConnectionService_GetOrgConnection_FullMethodName
	startOrg       = zoomconnectv1.ConnectionService_StartOrgConnection_FullMethodName
	batchEffective = zoomconnectv1.ConnectionService_BatchGetEffectiveZoomAccounts_FullMethodName
)

// startFake starts a fake zoomconnect for the test's duration.
func startFake(t *testing.T, opts ...grpc.ServerOption) *fakezoom.Server {
	t.Helper()
	srv, err := fakezoom.Start(opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Stop)
	return srv
}

// dial dials addr, closing the client when the test ends.
func dial(t *testing.T, addr string, opts ...client.Option) *client.Client {
	t.Helper()
	c, err := client.Dial(addr, opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func TestStaticTokenIsSentAsBearer(t *testing.T) {
	srv := startFake(t)
	c := dial(t, srv.Addr, client.WithInsecure(), client.WithToken("s3cret"))

	if _, err := c.OrgConnection(t.Context(), "acme"); err != nil {
		t.Fatal(err)
	}
	if got := srv.LastCall().Authorization; got != "Bearer s3cret" {
		t.Errorf("authorization = %q, want %q", got, "Bearer s3cret")
	}
}

func TestTokenSourceIsAskedOnEveryCall(t *testing.T) {
	srv := startFake(t)
	var n atomic.Int32
	source := func(context.Context) (string, error) { return fmt.Sprintf("tok-%d", n.Add(1)), nil }
	c := dial(t, srv.Addr, client.WithInsecure(), client.WithTokenSource(source))

	for _, want := range []string{"Bearer tok-1", "Bearer tok-2"} {
		if _, err := c.OrgConnection(t.Context(), "acme"); err != nil {
			t.Fatal(err)
		}
		if got := srv.LastCall().Authorization; got != want {
			t.Errorf("authorization = %q, want %q", got, want)
		}
	}
}

func TestTokenSourceErrorFailsTheCallUnsent(t *testing.T) {
	srv := startFake(t)
	source := func(context.Context) (string, error) { return "", errors.New("vault sealed") }
	c := dial(t, srv.Addr, client.WithInsecure(), client.WithTokenSource(source))

	_, err := c.OrgConnection(t.Context(), "acme")
	if status.Code(err) != codes.Unauthenticated || !strings.Contains(err.Error(), "vault sealed") {
		t.Errorf("err = %v, want UNAUTHENTICATED naming the cause", err)
	}
	if n := srv.Calls(getOrg); n != 0 {
		t.Errorf("server saw %d calls, want 0", n)
	}
}

func TestTokenTravelsOverTLSByDefault(t *testing.T) {
	cert, roots, err := fakezoom.SelfSignedTLS()
	if err != nil {
		t.Fatal(err)
	}
	srv := startFake(t, grpc.Creds(credentials.NewTLS(&tls.Config{Certificates: []tls.Certificate{cert}})))
	c := dial(t, srv.Addr, client.WithTLSConfig(&tls.Config{RootCAs: roots}), client.WithToken("s3cret"))

	if _, err := c.OrgConnection(t.Context(), "acme"); err != nil {
		t.Fatal(err)
	}
	if got := srv.LastCall().Authorization; got != "Bearer s3cret" {
		t.Errorf("authorization = %q, want %q", got, "Bearer s3cret")
	}
}

func TestTokenIsNotSentWithoutTLS(t *testing.T) {
	srv := startFake(t) // plaintext

	t.Run("plaintext transport without WithInsecure is refused at Dial", func(t *testing.T) {
		_, err := client.Dial(srv.Addr, client.WithToken("s3cret"),
			client.WithDialOptions(grpc.WithTransportCredentials(insecure.NewCredentials())))
		if err == nil || !strings.Contains(err.Error(), "transport level security") {
			t.Errorf("Dial err = %v, want a refusal to send credentials without transport security", err)
		}
	})
	t.Run("default TLS to a plaintext server fails before any call arrives", func(t *testing.T) {
		c := dial(t, srv.Addr, client.WithToken("s3cret"))
		_, err := c.OrgConnection(t.Context(), "acme")
		if status.Code(err) != codes.Unavailable {
			t.Errorf("err = %v, want UNAVAILABLE", err)
		}
		if n := srv.Calls(getOrg); n != 0 {
			t.Errorf("server saw %d calls, want 0", n)
		}
	})
}

func TestInsecureAndTLSConfigExcludeEachOther(t *testing.T) {
	_, err := client.Dial("127.0.0.1:1", client.WithInsecure(), client.WithTLSConfig(&tls.Config{}))
	if err == nil {
		t.Error("Dial succeeded, want an error")
	}
}

func TestDefaultDeadline(t *testing.T) {
	srv := startFake(t)
	withDeadline := func(d time.Duration) context.Context {
		ctx, cancel := context.WithTimeout(t.Context(), d)
		t.Cleanup(cancel)
		return ctx
	}
	for _, tc := range []struct {
		name         string
		opts         []client.Option
		ctx          context.Context
		min, max     time.Duration // of the deadline the server sees, from now
		wantDeadline bool
	}{
		{"none given: default 5s", nil, t.Context(), 3 * time.Second, 5 * time.Second, true},
		{"none given: WithDefaultTimeout", []client.Option{client.WithDefaultTimeout(2 * time.Second)}, t.Context(), time.Second, 2 * time.Second, true},
		{"caller's own is kept", []client.Option{client.WithDefaultTimeout(2 * time.Second)}, withDeadline(time.Hour), 50 * time.Minute, time.Hour, true},
		{"disabled", []client.Option{client.WithDefaultTimeout(0)}, t.Context(), 0, 0, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := dial(t, srv.Addr, append(tc.opts, client.WithInsecure())...)
			start := time.Now()
			if _, err := c.OrgConnection(tc.ctx, "acme"); err != nil {
				t.Fatal(err)
			}
			deadline := srv.LastCall().Deadline
			if !tc.wantDeadline {
				if !deadline.IsZero() {
					t.Errorf("server saw deadline in %v, want none", deadline.Sub(start))
				}
				return
			}
			// The server rebuilds the deadline from a rounded timeout on
			// arrival, so it may end a little after the client's.
			if left := deadline.Sub(start); left < tc.min || left > tc.max+100*time.Millisecond {
				t.Errorf("server saw deadline in %v, want between %v and %v", left, tc.min, tc.max)
			}
		})
	}
}

func TestIdempotentReadIsRetriedOnUnavailable(t *testing.T) {
	srv := startFake(t)
	unavailable := fakezoom.Error(codes.Unavailable, "STORE_UNAVAILABLE", "the connection store is unavailable; retry shortly", 0)
	srv.FailNext(getEffective, unavailable, unavailable)
	c := dial(t, srv.Addr, client.WithInsecure())

	acct, err := c.EffectiveZoomAccount(t.Context(), "acme", "olivia")
	if err != nil {
		t.Fatal(err)
	}
	if acct.GetUserId() != "olivia" {
		t.Errorf("account of %q, want olivia", acct.GetUserId())
	}
	if n := srv.Calls(getEffective); n != 3 {
		t.Errorf("server saw %d calls, want 3", n)
	}
}

func TestOtherFailuresAreNotRetried(t *testing.T) {
	for _, tc := range []struct {
		name   string
		method string
		code   codes.Code
		call   func(context.Context, *client.Client) error
	}{
		{"write on UNAVAILABLE", startOrg, codes.Unavailable, func(ctx context.Context, c *client.Client) error {
			_, err := c.Connections().StartOrgConnection(ctx, &zoomconnectv1.StartOrgConnectionRequest{OrgId: "acme"})
			return err
		}},
		{"read on INTERNAL", getOrg, codes.Internal, func(ctx context.Context, c *client.Client) error {
			_, err := c.OrgConnection(ctx, "acme")
			return err
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := startFake(t)
			srv.FailNext(tc.method, fakezoom.Error(tc.code, "SOME_REASON", "failed", 0))
			c := dial(t, srv.Addr, client.WithInsecure())

			if err := tc.call(t.Context(), c); status.Code(err) != tc.code {
				t.Errorf("err = %v, want %v", err, tc.code)
			}
			if n := srv.Calls(tc.method); n != 1 {
				t.Errorf("server saw %d calls, want 1", n)
			}
		})
	}
}

func TestEffectiveZoomAccountsBatchesInOrder(t *testing.T) {
	srv := startFake(t)
	c := dial(t, srv.Addr, client.WithInsecure())
	users := make([]string, 250)
	for i := range users {
		users[i] = fmt.Sprintf("user-%03d", 249-i) // not sorted, to see the order kept
	}

	accounts, err := c.EffectiveZoomAccounts(t.Context(), "acme", users)
	if err != nil {
		t.Fatal(err)
	}
	if got := fmt.Sprint(srv.BatchSizes()); got != "[100 100 50]" {
		t.Errorf("batch sizes = %s, want [100 100 50]", got)
	}
	if len(accounts) != len(users) {
		t.Fatalf("got %d accounts, want %d", len(accounts), len(users))
	}
	for i, a := range accounts {
		if a.GetUserId() != users[i] {
			t.Fatalf("account %d is of %q, want %q", i, a.GetUserId(), users[i])
		}
	}
}

func TestEffectiveZoomAccountsFailsAsAWhole(t *testing.T) {
	srv := startFake(t)
	srv.FailNext(batchEffective, nil, fakezoom.Error(codes.PermissionDenied, "INTERNAL_ONLY", "internal services only", 0))
	c := dial(t, srv.Addr, client.WithInsecure())

	accounts, err := c.EffectiveZoomAccounts(t.Context(), "acme", make([]string, 150))
	if accounts != nil || client.Reason(err) != "INTERNAL_ONLY" {
		t.Errorf("got %d accounts, err %v; want none and INTERNAL_ONLY", len(accounts), err)
	}
}

func TestEffectiveZoomAccountsOfNobodyCallsNothing(t *testing.T) {
	srv := startFake(t)
	c := dial(t, srv.Addr, client.WithInsecure())

	accounts, err := c.EffectiveZoomAccounts(t.Context(), "acme", nil)
	if err != nil || len(accounts) != 0 {
		t.Errorf("got %d accounts, err %v; want none", len(accounts), err)
	}
	if n := srv.Calls(batchEffective); n != 0 {
		t.Errorf("server saw %d calls, want 0", n)
	}
}

func TestOrgConnection(t *testing.T) {
	srv := startFake(t)
	c := dial(t, srv.Addr, client.WithInsecure())

	conn, err := c.OrgConnection(t.Context(), "acme")
	if err != nil {
		t.Fatal(err)
	}
	if conn.GetOrgId() != "acme" || conn.GetState() != zoomconnectv1.ConnectionState_CONNECTION_STATE_ACTIVE {
		t.Errorf("connection = %v, want acme ACTIVE", conn)
	}
}

func TestReasonAndRetryDelayFromTheWire(t *testing.T) {
	srv := startFake(t)
	srv.FailNext(getOrg, fakezoom.Error(codes.ResourceExhausted, "RATE_LIMITED", "slow down", 3*time.Second))
	c := dial(t, srv.Addr, client.WithInsecure())

	_, err := c.OrgConnection(t.Context(), "acme")
	if got := client.Reason(err); got != "RATE_LIMITED" {
		t.Errorf("Reason = %q, want RATE_LIMITED", got)
	}
	if d, ok := client.RetryDelay(err); !ok || d != 3*time.Second {
		t.Errorf("RetryDelay = %v, %v; want 3s, true", d, ok)
	}
	wrapped := fmt.Errorf("resolving host: %w", err)
	if got := client.Reason(wrapped); got != "RATE_LIMITED" {
		t.Errorf("Reason of a wrapped error = %q, want RATE_LIMITED", got)
	}
	if got := client.ErrorReason(err); got != zoomconnectv1.ErrorReason_ERROR_REASON_UNSPECIFIED {
		t.Errorf("ErrorReason of a reason the API lacks = %s, want UNSPECIFIED", got)
	}
}

func TestReasonAndRetryDelayWithoutDetails(t *testing.T) {
	for _, err := range []error{
		nil,
		errors.New("plain"),
		status.Error(codes.Internal, "no details"),
		fakezoom.Error(codes.NotFound, "", "a detail without a reason", 0),
	} {
		if got := client.Reason(err); got != "" {
			t.Errorf("Reason(%v) = %q, want empty", err, got)
		}
		if d, ok := client.RetryDelay(err); ok {
			t.Errorf("RetryDelay(%v) = %v, true; want false", err, d)
		}
	}
}
