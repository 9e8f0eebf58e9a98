// Package fakezoom is a stand-in zoomconnect for the client's tests: a real
// gRPC server on loopback with canned answers to the few RPCs the client
// tests use. Tests thereby exercise the client's real transport (TLS,
// metadata, deadlines, retries) without depending on the server packages,
// which change independently.
package fakezoom

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"math/big"
	"net"
	"strconv"
	"sync"
	"time"

	zoomconnectv1 "github.com/zoomconnect/zoomconnect/gen/zoomconnect/v1"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/health"
	healthgrpc "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/protoadapt"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/timestamppb"
)

// Server is a fake zoomconnect serving ConnectionService and grpc.health.v1.
type Server struct {
	zoomconnectv1.UnimplementedConnectionServiceServer

	// Addr is the loopback address the server listens on.
	Addr string
	// Health answers grpc.health.v1 checks: SERVING until told otherwise.
	Health *health.Server

	srv *grpc.Server

	mu       sync.Mutex
	calls    map[string]int     // by full method name
	failures map[string][]error // to return before answering, by full method name
	last     Call
	batches  []int
}

// Call is what the server saw of the last call.
type Call struct {
	// Authorization is the "authorization" metadata, "" if none was sent.
	Authorization string
	// Deadline is the call's deadline, zero if it had none.
	Deadline time.Time
}

// Start serves on a free loopback port until Stop.
func Start(opts ...grpc.ServerOption) (*Server, error) {
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	s := &Server{
		Addr:     lis.Addr().String(),
		Health:   health.NewServer(),
		calls:    map[string]int{},
		failures: map[string][]error{},
	}
	s.srv = grpc.NewServer(append(opts, grpc.ChainUnaryInterceptor(s.observe))...)
	zoomconnectv1.RegisterConnectionServiceServer(s.srv, s)
	healthgrpc.RegisterHealthServer(s.srv, s.Health)
	go s.srv.Serve(lis) // returns once stopped
	return s, nil
}

// Stop closes the listener and every connection.
func (s *Server) Stop() { s.srv.Stop() }

// FailNext makes the next len(errs) calls of method (a full method name such
// as zoomconnectv1.ConnectionService_GetOrgConnection_FullMethodName) fail
// with errs, in order (a nil error lets its call through), before it
// answers normally again.
func (s *Server) FailNext(method string, errs ...error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.failures[method] = append(s.failures[method], errs...)
}

// Calls returns how many calls of method (a full method name) arrived.
func (s *Server) Calls(method string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.calls[method]
}

// LastCall returns what the server saw of the last call.
func (s *Server) LastCall() Call {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.last
}

// BatchSizes returns the number of users of every
// BatchGetEffectiveZoomAccounts call, in arrival order.
func (s *Server) BatchSizes() []int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]int(nil), s.batches...)
}

func (s *Server) observe(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
	var call Call
	if auth := metadata.ValueFromIncomingContext(ctx, "authorization"); len(auth) > 0 {
		call.Authorization = auth[0]
	}
	call.Deadline, _ = ctx.Deadline()

	s.mu.Lock()
	s.calls[info.FullMethod]++
	s.last = call
	var err error
	if q := s.failures[info.FullMethod]; len(q) > 0 {
		err, s.failures[info.FullMethod] = q[0], q[1:]
	}
	s.mu.Unlock()
	if err != nil {
		return nil, err
	}
	return handler(ctx, req)
}

// Error returns a status error the way zoomconnect sends one: with a
// google.rpc.ErrorInfo reason and, if retryAfter > 0, a google.rpc.RetryInfo.
func Error(code codes.Code, reason, message string, retryAfter time.Duration) error {
	details := []protoadapt.MessageV1{&errdetails.ErrorInfo{Reason: reason, Domain: "zoomconnect"}}
	if retryAfter > 0 {
		details = append(details, &errdetails.RetryInfo{RetryDelay: durationpb.New(retryAfter)})
	}
	s, err := status.New(code, message).WithDetails(details...)
	if err != nil {
		panic(err) // only for code OK
	}
	return s.Err()
}

// Account is the fake's answer for a member: the organization's Zoom
// account serves everyone.
func Account(orgID, userID string) *zoomconnectv1.EffectiveZoomAccount {
	return &zoomconnectv1.EffectiveZoomAccount{
		UserId:        userID,
		Source:        zoomconnectv1.ConnectionSource_CONNECTION_SOURCE_ORGANIZATION,
		State:         zoomconnectv1.ConnectionState_CONNECTION_STATE_ACTIVE,
		ZoomUserId:    "zu-" + userID,
		ZoomEmail:     userID + "@" + orgID + ".example",
		ZoomAccountId: "za-" + orgID,
		Reason:        zoomconnectv1.ResolutionReason_RESOLUTION_REASON_ORG_CONNECTED,
		Explanation:   "the organization's Zoom account serves this member",
	}
}

// installExpiry is the fixed expiry of install links, for stable output.
var installExpiry = timestamppb.New(time.Date(2030, 1, 8, 12, 0, 0, 0, time.UTC))

// Roster is the fake's members, in user id order, as ListConnectedUsers
// returns them.
var Roster = []*zoomconnectv1.ConnectedUser{
	rosterRow("ada", zoomconnectv1.ConnectedUserStatus_CONNECTED_USER_STATUS_CONNECTED),
	rosterRow("bob", zoomconnectv1.ConnectedUserStatus_CONNECTED_USER_STATUS_NEEDS_RECONNECT),
	rosterRow("cyd", zoomconnectv1.ConnectedUserStatus_CONNECTED_USER_STATUS_CONNECTED),
	rosterRow("dee", zoomconnectv1.ConnectedUserStatus_CONNECTED_USER_STATUS_NOT_IN_ZOOM_ACCOUNT),
	rosterRow("eve", zoomconnectv1.ConnectedUserStatus_CONNECTED_USER_STATUS_NEEDS_RECONNECT),
}

func rosterRow(userID string, st zoomconnectv1.ConnectedUserStatus) *zoomconnectv1.ConnectedUser {
	return &zoomconnectv1.ConnectedUser{
		Member: &zoomconnectv1.OrgMember{UserId: userID, Email: userID + "@acme.example"},
		Status: st,
		Type:   zoomconnectv1.ConnectionSource_CONNECTION_SOURCE_ORGANIZATION,
	}
}

// defaultPageSize is small so that listing the roster takes several pages.
const defaultPageSize = 2

func (s *Server) GetEffectiveZoomAccount(_ context.Context, req *zoomconnectv1.GetEffectiveZoomAccountRequest) (*zoomconnectv1.GetEffectiveZoomAccountResponse, error) {
	return &zoomconnectv1.GetEffectiveZoomAccountResponse{Account: Account(req.GetOrgId(), req.GetUserId())}, nil
}

func (s *Server) BatchGetEffectiveZoomAccounts(_ context.Context, req *zoomconnectv1.BatchGetEffectiveZoomAccountsRequest) (*zoomconnectv1.BatchGetEffectiveZoomAccountsResponse, error) {
	s.mu.Lock()
	s.batches = append(s.batches, len(req.GetUserIds()))
	s.mu.Unlock()
	if len(req.GetUserIds()) > 100 {
		return nil, Error(codes.InvalidArgument, "TOO_MANY_USERS", "at most 100 users per call", 0)
	}
	resp := &zoomconnectv1.BatchGetEffectiveZoomAccountsResponse{}
	for _, u := range req.GetUserIds() {
		resp.Accounts = append(resp.Accounts, Account(req.GetOrgId(), u))
	}
	return resp, nil
}

func (s *Server) GetOrgConnection(_ context.Context, req *zoomconnectv1.GetOrgConnectionRequest) (*zoomconnectv1.GetOrgConnectionResponse, error) {
	return &zoomconnectv1.GetOrgConnectionResponse{Connection: &zoomconnectv1.OrgConnection{
		OrgId:          req.GetOrgId(),
		State:          zoomconnectv1.ConnectionState_CONNECTION_STATE_ACTIVE,
		ZoomAccountId:  "za-" + req.GetOrgId(),
		InstallerEmail: "admin@" + req.GetOrgId() + ".example",
	}}, nil
}

func (s *Server) StartOrgConnection(_ context.Context, req *zoomconnectv1.StartOrgConnectionRequest) (*zoomconnectv1.StartOrgConnectionResponse, error) {
	return &zoomconnectv1.StartOrgConnectionResponse{
		InstallUrl: "https://zoomconnect.example/oauth/zoom/install/" + req.GetOrgId(),
		ExpiresAt:  installExpiry,
		Connection: &zoomconnectv1.OrgConnection{
			OrgId:     req.GetOrgId(),
			State:     zoomconnectv1.ConnectionState_CONNECTION_STATE_PENDING,
			ExpiresAt: installExpiry,
		},
	}, nil
}

func (s *Server) DisconnectOrgConnection(_ context.Context, req *zoomconnectv1.DisconnectOrgConnectionRequest) (*zoomconnectv1.DisconnectOrgConnectionResponse, error) {
	return &zoomconnectv1.DisconnectOrgConnectionResponse{Connection: &zoomconnectv1.OrgConnection{
		OrgId:  req.GetOrgId(),
		State:  zoomconnectv1.ConnectionState_CONNECTION_STATE_NOT_CONNECTED,
		Reason: zoomconnectv1.ConnectionStateReason_CONNECTION_STATE_REASON_DISCONNECTED_BY_ADMIN,
	}}, nil
}

// ListConnectedUsers pages through Roster; its page token is an offset.
func (s *Server) ListConnectedUsers(_ context.Context, req *zoomconnectv1.ListConnectedUsersRequest) (*zoomconnectv1.ListConnectedUsersResponse, error) {
	var rows []*zoomconnectv1.ConnectedUser
	for _, u := range Roster {
		if req.GetStatus() == zoomconnectv1.ConnectedUserStatus_CONNECTED_USER_STATUS_UNSPECIFIED || u.GetStatus() == req.GetStatus() {
			rows = append(rows, u)
		}
	}
	offset := 0
	if t := req.GetPageToken(); t != "" {
		n, err := strconv.Atoi(t)
		if err != nil || n < 0 || n > len(rows) {
			return nil, Error(codes.InvalidArgument, "INVALID_PAGE_TOKEN", "the page token is not valid", 0)
		}
		offset = n
	}
	size := int(req.GetPageSize())
	if size <= 0 {
		size = defaultPageSize
	}
	end := min(offset+size, len(rows))
	resp := &zoomconnectv1.ListConnectedUsersResponse{Users: rows[offset:end]}
	if end < len(rows) {
		resp.NextPageToken = strconv.Itoa(end)
	}
	return resp, nil
}

// SelfSignedTLS returns a server certificate for 127.0.0.1 and a pool that
// trusts it, to test the client over real TLS.
func SelfSignedTLS() (tls.Certificate, *x509.CertPool, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return tls.Certificate{}, nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		IPAddresses:  []net.IP{net.IPv4(127, 0, 0, 1)},
		KeyUsage:     x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		IsCA:         true,

		BasicConstraintsValid: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return tls.Certificate{}, nil, err
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		return tls.Certificate{}, nil, err
	}
	pool := x509.NewCertPool()
	pool.AddCert(leaf)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}, pool, nil
}
