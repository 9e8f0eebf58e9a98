package api

import (
	"context"
	"log/slog"
	"runtime/debug"
	"time"

	"github.com/zoomconnect/zoomconnect/server/errs"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// Interceptors are the cross-cutting layers around every RPC, outermost
// first: panic recovery, the one error mapping (with logging), and a default
// deadline. Authentication (package auth) runs after them.
type Interceptors struct {
	Logger         *slog.Logger
	DefaultTimeout time.Duration
}

// Unary returns the unary chain.
func (i Interceptors) Unary() grpc.UnaryServerInterceptor {
	return func(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (resp any, err error) {
		start := time.Now()
		defer func() {
			if r := recover(); r != nil {
				i.Logger.ErrorContext(ctx, "panic in RPC", "method", info.FullMethod, "panic", r, "stack", string(debug.Stack()))
				resp, err = nil, status.Error(codes.Internal, "internal error")
			}
		}()
		ctx, cancel := i.withDefaultDeadline(ctx)
		defer cancel()
		resp, err = handler(ctx, req)
		return resp, i.finish(ctx, info.FullMethod, start, err)
	}
}

// Stream returns the streaming chain.
func (i Interceptors) Stream() grpc.StreamServerInterceptor {
	return func(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, handler grpc.StreamHandler) (err error) {
		start := time.Now()
		defer func() {
			if r := recover(); r != nil {
				i.Logger.ErrorContext(ss.Context(), "panic in RPC", "method", info.FullMethod, "panic", r, "stack", string(debug.Stack()))
				err = status.Error(codes.Internal, "internal error")
			}
		}()
		return i.finish(ss.Context(), info.FullMethod, start, handler(srv, ss))
	}
}

func (i Interceptors) withDefaultDeadline(ctx context.Context) (context.Context, context.CancelFunc) {
	if _, ok := ctx.Deadline(); ok || i.DefaultTimeout <= 0 {
		return ctx, func() {}
	}
	return context.WithTimeout(ctx, i.DefaultTimeout)
}

// finish maps err to the status the caller sees and logs the call; causes
// hidden from the caller are logged here, once.
func (i Interceptors) finish(ctx context.Context, method string, start time.Time, err error) error {
	st, hidden := errs.ToStatus(err)
	attrs := []any{"method", method, "code", st.Code().String(), "duration", time.Since(start)}
	switch {
	case hidden:
		i.Logger.ErrorContext(ctx, "RPC failed", append(attrs, "error", err)...)
	case err != nil:
		i.Logger.InfoContext(ctx, "RPC refused", append(attrs, "reason", reasonOf(err))...)
	default:
		i.Logger.DebugContext(ctx, "RPC", attrs...)
	}
	if err == nil {
		return nil
	}
	return st.Err()
}

// reasonOf names a refusal for the log: the ErrorInfo reason when there is one.
func reasonOf(err error) string {
	if e := errs.As(err); e != nil {
		return e.Reason
	}
	st := status.Convert(err)
	for _, d := range st.Details() {
		if info, ok := d.(*errdetails.ErrorInfo); ok {
			return info.GetReason()
		}
	}
	return st.Code().String()
}
