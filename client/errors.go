package client

import (
	"time"

	zoomconnectv1 "github.com/zoomconnect/zoomconnect/gen/zoomconnect/v1"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/status"
)

// Reason returns the machine-readable reason of a zoomconnect error (its
// google.rpc.ErrorInfo), such as "ORG_ALREADY_CONNECTED" or
// "TOKEN_EXPIRED", or "" when err carries none. Branch on reasons, not on
// messages: messages are written for people and may change.
func Reason(err error) string {
	return detail[*errdetails.ErrorInfo](err).GetReason()
}

// ErrorReason returns the reason of a zoomconnect error as the API's
// ErrorReason enum (its ErrorInfo reason is the value's name without the
// ERROR_REASON_ prefix), ERROR_REASON_UNSPECIFIED when err carries none or
// one this client does not know yet.
func ErrorReason(err error) zoomconnectv1.ErrorReason {
	info := detail[*errdetails.ErrorInfo](err)
	if info.GetDomain() != "zoomconnect" {
		return zoomconnectv1.ErrorReason_ERROR_REASON_UNSPECIFIED
	}
	return zoomconnectv1.ErrorReason(zoomconnectv1.ErrorReason_value["ERROR_REASON_"+info.GetReason()])
}

// RetryDelay returns how long the server asked the caller to wait before
// trying again (google.rpc.RetryInfo); ok is false when it did not say.
func RetryDelay(err error) (d time.Duration, ok bool) {
	delay := detail[*errdetails.RetryInfo](err).GetRetryDelay()
	if delay == nil {
		return 0, false
	}
	return delay.AsDuration(), true
}

// detail returns the first detail of type T of err's gRPC status, or T's
// zero value (a nil message, whose getters return zero values).
func detail[T any](err error) T {
	var zero T
	s, ok := status.FromError(err)
	if !ok {
		return zero
	}
	for _, d := range s.Details() {
		if t, ok := d.(T); ok {
			return t
		}
	}
	return zero
}
