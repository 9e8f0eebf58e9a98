// Package errs is the one vocabulary of failures that zoomconnect reports to
// callers, and the one place where failures become gRPC statuses.
//
// Domain code returns *Error values (or wraps them); everything else that
// reaches ToStatus (a store outage, a Zoom failure, a bug) is reported as
// INTERNAL or UNAVAILABLE without its details, which are logged instead.
package errs

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// Kind is the class of a failure; it decides the gRPC code.
type Kind int

const (
	KindInternal Kind = iota
	KindInvalidArgument
	KindNotFound
	KindAlreadyExists
	KindFailedPrecondition
	KindPermissionDenied
	KindUnauthenticated
	KindResourceExhausted
	KindUnavailable
	KindDeadlineExceeded
	KindAborted
	KindCanceled
	KindUnimplemented
)

// Error is a failure meant for the caller: a kind, a machine-readable reason
// (reported in google.rpc.ErrorInfo, see ReasonName) and a message a person
// can act on. Err, if set, is the cause: it is logged, never sent.
type Error struct {
	Kind    Kind
	Reason  Reason
	Message string
	// RetryAfter, if positive, is reported as google.rpc.RetryInfo.
	RetryAfter time.Duration
	// Field names the offending request field for INVALID_ARGUMENT
	// (reported as google.rpc.BadRequest).
	Field string
	Err   error
}

func (e *Error) Error() string {
	if e.Err != nil {
		return fmt.Sprintf("%s: %s: %v", ReasonName(e.Reason), e.Message, e.Err)
	}
	return ReasonName(e.Reason) + ": " + e.Message
}

func (e *Error) Unwrap() error { return e.Err }

// Is makes errors.Is(err, &Error{Reason: r}) match any *Error with reason r.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	return ok && t.Reason != 0 && t.Reason == e.Reason
}

// New returns an *Error of the given kind.
func New(kind Kind, reason Reason, format string, args ...any) *Error {
	return &Error{Kind: kind, Reason: reason, Message: fmt.Sprintf(format, args...)}
}

// InvalidArgument reports a bad request field.
func InvalidArgument(field string, reason Reason, format string, args ...any) *Error {
	e := New(KindInvalidArgument, reason, format, args...)
	e.Field = field
	return e
}

// PermissionDenied reports an authenticated caller that may not do this.
func PermissionDenied(reason Reason, format string, args ...any) *Error {
	return New(KindPermissionDenied, reason, format, args...)
}

// Unauthenticated reports a missing or invalid caller credential.
func Unauthenticated(reason Reason, format string, args ...any) *Error {
	return New(KindUnauthenticated, reason, format, args...)
}

// FailedPrecondition reports a request that the current state forbids.
func FailedPrecondition(reason Reason, format string, args ...any) *Error {
	return New(KindFailedPrecondition, reason, format, args...)
}

// NotFound reports a missing resource.
func NotFound(reason Reason, format string, args ...any) *Error {
	return New(KindNotFound, reason, format, args...)
}

// Wrap attaches a cause to e and returns e.
func (e *Error) Wrap(cause error) *Error {
	e.Err = cause
	return e
}

// As returns the *Error in err's chain, or nil.
func As(err error) *Error {
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	return nil
}

// IsContextError reports whether err comes from a cancelled or expired context.
func IsContextError(err error) bool {
	return errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded)
}
