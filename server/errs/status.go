package errs

import (
	"context"
	"errors"

	"github.com/zoomconnect/zoomconnect/server/store"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/protoadapt"
	"google.golang.org/protobuf/types/known/durationpb"
)

// Domain is the google.rpc.ErrorInfo domain of every reason this service sends.
const Domain = "zoomconnect"

var kindCodes = map[Kind]codes.Code{
	KindInternal:           codes.Internal,
	KindInvalidArgument:    codes.InvalidArgument,
	KindNotFound:           codes.NotFound,
	KindAlreadyExists:      codes.AlreadyExists,
	KindFailedPrecondition: codes.FailedPrecondition,
	KindPermissionDenied:   codes.PermissionDenied,
	KindUnauthenticated:    codes.Unauthenticated,
	KindResourceExhausted:  codes.ResourceExhausted,
	KindUnavailable:        codes.Unavailable,
	KindDeadlineExceeded:   codes.DeadlineExceeded,
	KindAborted:            codes.Aborted,
	KindCanceled:           codes.Canceled,
	KindUnimplemented:      codes.Unimplemented,
}

// ToStatus turns any error into the status a caller may see. It is the only
// place that decides gRPC codes. The second result tells whether the error
// hides a cause that should be logged (an unexpected failure).
func ToStatus(err error) (*status.Status, bool) {
	if err == nil {
		return status.New(codes.OK, ""), false
	}
	if e := As(err); e != nil {
		return e.Status(), e.Kind == KindInternal || e.Kind == KindUnavailable
	}
	if s, ok := status.FromError(err); ok {
		return WithReason(s, codeReasons[s.Code()]), false
	}
	switch {
	case errors.Is(err, context.DeadlineExceeded):
		return New(KindDeadlineExceeded, ReasonDeadlineExceeded, "the request deadline expired").Status(), false
	case errors.Is(err, context.Canceled):
		return New(KindCanceled, ReasonCancelled, "the request was cancelled").Status(), false
	case errors.Is(err, store.ErrUnavailable):
		return New(KindUnavailable, ReasonStoreUnavailable, "the connection store is unavailable; retry shortly").Status(), true
	case errors.Is(err, store.ErrConflict):
		return New(KindAborted, ReasonConcurrentUpdate, "the record changed concurrently too often; retry").Status(), true
	}
	return New(KindInternal, ReasonInternal, "internal error").Status(), true
}

// codeReasons gives statuses made outside this package (by gRPC or the REST
// gateway) a reason; any other code is INTERNAL.
var codeReasons = map[codes.Code]Reason{
	codes.Canceled:         ReasonCancelled,
	codes.DeadlineExceeded: ReasonDeadlineExceeded,
	codes.InvalidArgument:  ReasonInvalidParameter,
	codes.NotFound:         ReasonRouteNotFound,
	codes.Unimplemented:    ReasonMethodNotAllowed,
}

// Status is the status e is reported as.
func (e *Error) Status() *status.Status {
	code, ok := kindCodes[e.Kind]
	if !ok {
		code = codes.Internal
	}
	s := status.New(code, e.Message)
	details := []protoadapt.MessageV1{&errdetails.ErrorInfo{Reason: ReasonName(e.Reason), Domain: Domain}}
	if e.RetryAfter > 0 {
		details = append(details, &errdetails.RetryInfo{RetryDelay: durationpb.New(e.RetryAfter)})
	}
	if e.Field != "" {
		details = append(details, &errdetails.BadRequest{FieldViolations: []*errdetails.BadRequest_FieldViolation{{
			Field: e.Field, Description: e.Message, Reason: ReasonName(e.Reason),
		}}})
	}
	withDetails, err := s.WithDetails(details...)
	if err != nil {
		return s
	}
	return withDetails
}
