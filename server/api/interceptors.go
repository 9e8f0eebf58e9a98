package api

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime/debug"
	"time"

	"github.com/zoomconnect/zoomconnect/server/auth"
	"github.com/zoomconnect/zoomconnect/server/errs"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
)

// SlowCall is the duration from which a successful call is logged at info
// level (every call is logged at debug level).
const SlowCall = time.Second

// Interceptors are the cross-cutting layers around every RPC, outermost
// first: panic recovery, the one error mapping with the access log, the
// refusal of requests that are not UTF-8 (see Codec), and a default
// deadline. Authentication (package auth) runs after them and
// reports the caller to the access log through an auth.CallRecord.
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
				resp, err = nil, errs.New(errs.KindInternal, errs.ReasonInternal, "internal error").Status().Err()
			}
		}()
		var caller auth.CallRecord
		ctx = auth.WithCallRecord(ctx, &caller)
		if err := takeNotUTF8(req); err != nil {
			return nil, i.finish(ctx, info.FullMethod, start, &caller, err)
		}
		ctx, cancel := i.withDefaultDeadline(ctx)
		defer cancel()
		resp, err = handler(ctx, req)
		return resp, i.finish(ctx, info.FullMethod, start, &caller, err)
	}
}

// Stream returns the streaming chain.
func (i Interceptors) Stream() grpc.StreamServerInterceptor {
	return func(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, handler grpc.StreamHandler) (err error) {
		start := time.Now()
		defer func() {
			if r := recover(); r != nil {
				i.Logger.ErrorContext(ss.Context(), "panic in RPC", "method", info.FullMethod, "panic", r, "stack", string(debug.Stack()))
				err = errs.New(errs.KindInternal, errs.ReasonInternal, "internal error").Status().Err()
			}
		}()
		var caller auth.CallRecord
		ctx := auth.WithCallRecord(ss.Context(), &caller)
		err = handler(srv, utf8Stream{&recordedStream{ServerStream: ss, ctx: ctx}})
		return i.finish(ctx, info.FullMethod, start, &caller, err)
	}
}

type recordedStream struct {
	grpc.ServerStream
	ctx context.Context
}

func (s *recordedStream) Context() context.Context { return s.ctx }

func (i Interceptors) withDefaultDeadline(ctx context.Context) (context.Context, context.CancelFunc) {
	if _, ok := ctx.Deadline(); ok || i.DefaultTimeout <= 0 {
		return ctx, func() {}
	}
	return context.WithTimeout(ctx, i.DefaultTimeout)
}

// finish maps err to the status the caller sees and writes the access log
// line: debug for calls that went well, info for slow calls and refusals,
// error for failures whose cause is hidden from the caller (logged here,
// once). A call whose client went away is no failure of the service: it is
// CANCELLED, logged at debug level.
func (i Interceptors) finish(ctx context.Context, method string, start time.Time, caller *auth.CallRecord, err error) error {
	if err != nil && errors.Is(ctx.Err(), context.Canceled) {
		err = fmt.Errorf("%w (the client went away: %v)", context.Canceled, err)
	}
	st, hidden := errs.ToStatus(err)
	d := time.Since(start)
	attrs := []any{"method", method, "code", st.Code().String(), "duration", d, "caller", caller.Subject}
	if caller.Internal {
		attrs = append(attrs, "internal", true)
	}
	switch {
	case hidden:
		i.Logger.ErrorContext(ctx, "RPC failed", append(attrs, "error", err)...)
	case st.Code() == codes.Canceled:
		i.Logger.DebugContext(ctx, "RPC cancelled by the client", attrs...)
	case err != nil:
		i.Logger.InfoContext(ctx, "RPC refused", append(attrs, "reason", errs.ReasonName(errs.ReasonOf(st)))...)
	case d >= SlowCall:
		i.Logger.InfoContext(ctx, "slow RPC", attrs...)
	default:
		i.Logger.DebugContext(ctx, "RPC", attrs...)
	}
	if err == nil {
		return nil
	}
	return st.Err()
}
