package zoomctl_test

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/zoomconnect/zoomconnect/client/internal/fakezoom"
	"github.com/zoomconnect/zoomconnect/client/internal/zoomctl"
	zoomconnectv1 "github.com/zoomconnect/zoomconnect/gen/zoomconnect/v1"
	"google.golang.org/grpc/codes"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"
)

type result struct {
	code           int
	stdout, stderr string
}

// run runs zoomctl against srv over plaintext loopback with token "tok".
func run(t *testing.T, srv *fakezoom.Server, args ...string) result {
	t.Helper()
	return runRaw(t, append([]string{"--addr", srv.Addr, "--insecure", "--token", "tok"}, args...)...)
}

func runRaw(t *testing.T, args ...string) result {
	t.Helper()
	var stdout, stderr bytes.Buffer
	code := zoomctl.Run(t.Context(), args, &stdout, &stderr)
	return result{code, stdout.String(), stderr.String()}
}

func startFake(t *testing.T) *fakezoom.Server {
	t.Helper()
	srv, err := fakezoom.Start()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Stop)
	return srv
}

// wantOutput checks a successful run and that its stdout is want as JSON.
func wantOutput(t *testing.T, r result, want proto.Message) {
	t.Helper()
	if r.code != 0 || r.stderr != "" {
		t.Fatalf("exit %d, stderr %q; want 0 and nothing", r.code, r.stderr)
	}
	if !strings.HasPrefix(r.stdout, "{\n") || !strings.HasSuffix(r.stdout, "}\n") {
		t.Errorf("stdout is not multi-line JSON:\n%s", r.stdout)
	}
	got := want.ProtoReflect().New().Interface()
	if err := protojson.Unmarshal([]byte(r.stdout), got); err != nil {
		t.Fatalf("stdout is not a %T: %v\n%s", want, err, r.stdout)
	}
	if !proto.Equal(got, want) {
		t.Errorf("stdout is\n%s\nwant %v", r.stdout, want)
	}
}

func TestCommands(t *testing.T) {
	srv := startFake(t)
	expiry := timestamppb.New(time.Date(2030, 1, 8, 12, 0, 0, 0, time.UTC))
	for _, tc := range []struct {
		args []string
		want proto.Message
	}{
		{[]string{"resolve", "--org", "acme", "--user", "olivia"}, &zoomconnectv1.GetEffectiveZoomAccountResponse{
			Account: fakezoom.Account("acme", "olivia"),
		}},
		{[]string{"resolve-batch", "--org", "acme", "--users", "olivia,ada,bob"}, &zoomconnectv1.BatchGetEffectiveZoomAccountsResponse{
			Accounts: []*zoomconnectv1.EffectiveZoomAccount{fakezoom.Account("acme", "olivia"), fakezoom.Account("acme", "ada"), fakezoom.Account("acme", "bob")},
		}},
		{[]string{"org", "--org", "acme"}, &zoomconnectv1.GetOrgConnectionResponse{Connection: &zoomconnectv1.OrgConnection{
			OrgId:          "acme",
			State:          zoomconnectv1.ConnectionState_CONNECTION_STATE_ACTIVE,
			ZoomAccountId:  "za-acme",
			InstallerEmail: "admin@acme.example",
		}}},
		{[]string{"connect", "--org", "acme"}, &zoomconnectv1.StartOrgConnectionResponse{
			InstallUrl: "https://zoomconnect.example/oauth/zoom/install/acme",
			ExpiresAt:  expiry,
			Connection: &zoomconnectv1.OrgConnection{OrgId: "acme", State: zoomconnectv1.ConnectionState_CONNECTION_STATE_PENDING, ExpiresAt: expiry},
		}},
		{[]string{"disconnect", "--org", "acme"}, &zoomconnectv1.DisconnectOrgConnectionResponse{Connection: &zoomconnectv1.OrgConnection{
			OrgId:  "acme",
			State:  zoomconnectv1.ConnectionState_CONNECTION_STATE_NOT_CONNECTED,
			Reason: zoomconnectv1.ConnectionStateReason_CONNECTION_STATE_REASON_DISCONNECTED_BY_ADMIN,
		}}},
		{[]string{"users", "--org", "acme", "--status", "needs_reconnect"}, &zoomconnectv1.ListConnectedUsersResponse{
			Users: []*zoomconnectv1.ConnectedUser{fakezoom.Roster[1], fakezoom.Roster[4]},
		}},
		{[]string{"health"}, &healthpb.HealthCheckResponse{Status: healthpb.HealthCheckResponse_SERVING}},
	} {
		t.Run(tc.args[0], func(t *testing.T) {
			wantOutput(t, run(t, srv, tc.args...), tc.want)
			if got := srv.LastCall().Authorization; got != "Bearer tok" {
				t.Errorf("authorization = %q, want Bearer tok", got)
			}
		})
	}
}

func TestUsersReadsEveryPage(t *testing.T) {
	srv := startFake(t)

	wantOutput(t, run(t, srv, "users", "--org", "acme"), &zoomconnectv1.ListConnectedUsersResponse{Users: fakezoom.Roster})
	// The fake's pages hold 2 members: 5 members take 3 pages.
	if n := srv.Calls(zoomconnectv1.ConnectionService_ListConnectedUsers_FullMethodName); n != 3 {
		t.Errorf("server saw %d calls, want 3", n)
	}
}

func TestTokenFromEnvironment(t *testing.T) {
	srv := startFake(t)
	t.Setenv("ZOOMCTL_TOKEN", "from-env")

	if r := runRaw(t, "--addr", srv.Addr, "--insecure", "org", "--org", "acme"); r.code != 0 {
		t.Fatalf("exit %d, stderr %q", r.code, r.stderr)
	}
	if got := srv.LastCall().Authorization; got != "Bearer from-env" {
		t.Errorf("authorization = %q, want Bearer from-env", got)
	}
}

func TestErrorIsOneLineWithCodeAndReason(t *testing.T) {
	srv := startFake(t)
	srv.FailNext(zoomconnectv1.ConnectionService_StartOrgConnection_FullMethodName,
		fakezoom.Error(codes.FailedPrecondition, "ORG_ALREADY_CONNECTED", "acme is already connected to Zoom; disconnect it first", 0))

	r := run(t, srv, "connect", "--org", "acme")
	want := "zoomctl: FAILED_PRECONDITION (ORG_ALREADY_CONNECTED): acme is already connected to Zoom; disconnect it first\n"
	if r.code != 1 || r.stdout != "" || r.stderr != want {
		t.Errorf("exit %d, stdout %q, stderr %q; want 1, nothing, %q", r.code, r.stdout, r.stderr, want)
	}
}

func TestNotServingFails(t *testing.T) {
	srv := startFake(t)
	srv.Health.SetServingStatus("", healthpb.HealthCheckResponse_NOT_SERVING)

	r := run(t, srv, "health")
	if r.code != 1 || !strings.Contains(r.stdout, "NOT_SERVING") || r.stderr != "zoomctl: not serving: NOT_SERVING\n" {
		t.Errorf("exit %d, stdout %q, stderr %q; want 1, the status and one line", r.code, r.stdout, r.stderr)
	}
}

func TestUsageErrors(t *testing.T) {
	srv := startFake(t)
	for _, args := range [][]string{
		{},
		{"bogus"},
		{"--nope", "org", "--org", "acme"},
		{"org"},
		{"org", "--org", "acme", "extra"},
		{"resolve", "--org", "acme"},
		{"users", "--org", "acme", "--status", "happy"},
		{"resolve-batch", "--users", "a,b"},
	} {
		r := run(t, srv, args...)
		if r.code != 2 || r.stdout != "" || !strings.Contains(r.stderr, "usage: zoomctl") {
			t.Errorf("zoomctl %q: exit %d, stdout %q, stderr %q; want 2 and usage", args, r.code, r.stdout, r.stderr)
		}
	}
	if n := srv.LastCall(); n != (fakezoom.Call{}) {
		t.Errorf("a usage error reached the server: %+v", n)
	}
}

// TestHelpExitsZero: asked for, the usage is the output (stdout, exit 0),
// so that zoomctl --help | less works, as zoomconnect --help does.
func TestHelpExitsZero(t *testing.T) {
	for _, args := range [][]string{{"-h"}, {"--help"}, {"org", "-h"}} {
		if r := runRaw(t, args...); r.code != 0 || !strings.HasPrefix(r.stdout, "usage: zoomctl") || r.stderr != "" {
			t.Errorf("zoomctl %q: exit %d, stdout %q, stderr %q; want 0 and the usage on stdout", args, r.code, r.stdout, r.stderr)
		}
	}
}

// TestPlaintextServerNeedsInsecure: without --insecure zoomctl speaks TLS;
// against a plaintext server its error says to add --insecure.
func TestPlaintextServerNeedsInsecure(t *testing.T) {
	srv := startFake(t)
	r := runRaw(t, "--addr", srv.Addr, "--token", "tok", "--timeout", "3s", "org", "--org", "acme")
	if r.code != 1 || !strings.Contains(r.stderr, "add --insecure") || strings.Count(r.stderr, "\n") != 1 {
		t.Fatalf("exit %d, stderr %q; want 1 and one line saying to add --insecure", r.code, r.stderr)
	}
}
