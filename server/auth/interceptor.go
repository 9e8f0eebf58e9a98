package auth

import (
	"context"
	"net/http"
	"strings"

	"google.golang.org/grpc"
	"google.golang.org/grpc/metadata"

	"github.com/zoomconnect/zoomconnect/server/errs"
)

// UnaryServerInterceptor authenticates every call except those for which
// public(fullMethod) is true (health, reflection; a nil public makes every
// method protected), and puts the caller in the context (see FromContext).
func UnaryServerInterceptor(v *Verifier, public func(fullMethod string) bool) grpc.UnaryServerInterceptor {
	return func(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
		if public != nil && public(info.FullMethod) {
			return handler(ctx, req)
		}
		ctx, err := v.authenticate(ctx, info.FullMethod)
		if err != nil {
			return nil, err
		}
		return handler(ctx, req)
	}
}

// StreamServerInterceptor is UnaryServerInterceptor for streaming calls.
func StreamServerInterceptor(v *Verifier, public func(fullMethod string) bool) grpc.StreamServerInterceptor {
	return func(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, handler grpc.StreamHandler) error {
		if public != nil && public(info.FullMethod) {
			return handler(srv, ss)
		}
		ctx, err := v.authenticate(ss.Context(), info.FullMethod)
		if err != nil {
			return err
		}
		return handler(srv, &authenticatedStream{ServerStream: ss, ctx: ctx})
	}
}

type authenticatedStream struct {
	grpc.ServerStream
	ctx context.Context
}

func (s *authenticatedStream) Context() context.Context { return s.ctx }

// authenticate verifies the bearer token in ctx's metadata and returns ctx
// carrying the Principal, or a status error.
func (v *Verifier) authenticate(ctx context.Context, method string) (context.Context, error) {
	p, err := v.fromMetadata(ctx)
	if err != nil {
		s, hidden := errs.ToStatus(err)
		if hidden {
			v.log.ErrorContext(ctx, "auth: cannot authenticate", "method", method, "error", err)
		} else if e := errs.As(err); e != nil {
			v.log.DebugContext(ctx, "auth: refused", "method", method, "reason", errs.ReasonName(e.Reason))
		}
		return nil, s.Err()
	}
	if rec, ok := ctx.Value(callRecordKey{}).(*CallRecord); ok {
		rec.Subject, rec.Internal = p.Subject, p.Internal
	}
	return NewContext(ctx, p), nil
}

// CallRecord receives the authenticated caller of a call for the access
// log, which runs before authentication. It never holds the token.
type CallRecord struct {
	Subject  string
	Internal bool
}

type callRecordKey struct{}

// WithCallRecord returns ctx carrying rec, which the interceptors fill in
// once the caller is authenticated.
func WithCallRecord(ctx context.Context, rec *CallRecord) context.Context {
	return context.WithValue(ctx, callRecordKey{}, rec)
}

func (v *Verifier) fromMetadata(ctx context.Context) (*Principal, error) {
	return v.fromAuthorization(ctx, metadata.ValueFromIncomingContext(ctx, "authorization"))
}

// FromHTTP verifies the bearer token of an HTTP request, with the same rules
// and errors as a gRPC call's: the REST facade checks it before it reads a
// request body.
func (v *Verifier) FromHTTP(r *http.Request) (*Principal, error) {
	return v.fromAuthorization(r.Context(), r.Header.Values("Authorization"))
}

// fromAuthorization verifies the values of the authorization header.
func (v *Verifier) fromAuthorization(ctx context.Context, values []string) (*Principal, error) {
	switch len(values) {
	case 0:
		return nil, errs.Unauthenticated(ReasonTokenMissing, "this call requires an authorization header: Bearer <token>")
	case 1:
	default:
		return nil, errs.Unauthenticated(ReasonTokenMalformed, "send exactly one authorization header, not %d", len(values))
	}
	return v.FromHeader(ctx, values[0])
}

// FromHeader verifies an authorization header ("Bearer <token>").
func (v *Verifier) FromHeader(ctx context.Context, header string) (*Principal, error) {
	scheme, token, _ := strings.Cut(strings.TrimSpace(header), " ")
	if !strings.EqualFold(scheme, "Bearer") {
		return nil, errs.Unauthenticated(ReasonTokenMalformed, "the authorization header must be: Bearer <token>")
	}
	return v.Verify(ctx, strings.TrimSpace(token))
}
