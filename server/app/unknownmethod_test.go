package app_test

import (
	"context"
	"testing"
	"time"

	"github.com/zoomconnect/zoomconnect/server/auth"
	"github.com/zoomconnect/zoomconnect/server/errs"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/emptypb"
)

// TestUnknownGRPCMethodsCarryAReason: a method or service the server does
// not have is UNIMPLEMENTED with ROUTE_NOT_FOUND in the ErrorInfo (gRPC's
// own answer carried none), and only after the caller is authenticated.
func TestUnknownGRPCMethodsCarryAReason(t *testing.T) {
	h := newHarness(t, "")
	for _, method := range []string{"/zoomconnect.v1.ConnectionService/NoSuchMethod", "/no.such.Service/Call"} {
		for _, tc := range []struct {
			token  string
			code   codes.Code
			reason errs.Reason
		}{{"", codes.Unauthenticated, auth.ReasonTokenMissing}, {internalToken(t), codes.Unimplemented, errs.ReasonRouteNotFound}} {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			if tc.token != "" {
				ctx = metadata.AppendToOutgoingContext(ctx, "authorization", "Bearer "+tc.token)
			}
			err := h.conn.Invoke(ctx, method, &emptypb.Empty{}, &emptypb.Empty{})
			cancel()
			st := status.Convert(err)
			reason := errs.ReasonOf(st)
			if st.Code() != tc.code || reason != tc.reason {
				t.Errorf("%s (token: %v): %s %q, reason %s; want %s, %s", method, tc.token != "", st.Code(), st.Message(), reason, tc.code, tc.reason)
			}
		}
	}
}
