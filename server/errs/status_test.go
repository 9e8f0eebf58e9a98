package errs_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	zcv1 "github.com/zoomconnect/zoomconnect/gen/zoomconnect/v1"
	"github.com/zoomconnect/zoomconnect/server/errs"
	"github.com/zoomconnect/zoomconnect/server/store"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

func TestToStatus(t *testing.T) {
	for name, tc := range map[string]struct {
		err    error
		code   codes.Code
		reason errs.Reason
		hidden bool
	}{
		"domain error":         {errs.FailedPrecondition(zcv1.ErrorReason_ERROR_REASON_ORG_ALREADY_CONNECTED, "connected"), codes.FailedPrecondition, zcv1.ErrorReason_ERROR_REASON_ORG_ALREADY_CONNECTED, false},
		"wrapped domain":       {fmt.Errorf("ctx: %w", errs.PermissionDenied(zcv1.ErrorReason_ERROR_REASON_WRONG_ORG, "no")), codes.PermissionDenied, zcv1.ErrorReason_ERROR_REASON_WRONG_ORG, false},
		"invalid argument":     {errs.InvalidArgument("org_id", zcv1.ErrorReason_ERROR_REASON_INVALID_ORG_ID, "bad"), codes.InvalidArgument, zcv1.ErrorReason_ERROR_REASON_INVALID_ORG_ID, false},
		"store down":           {fmt.Errorf("%w: dial: refused", store.ErrUnavailable), codes.Unavailable, zcv1.ErrorReason_ERROR_REASON_STORE_UNAVAILABLE, true},
		"store contention":     {store.ErrConflict, codes.Aborted, zcv1.ErrorReason_ERROR_REASON_CONCURRENT_UPDATE, true},
		"deadline":             {fmt.Errorf("x: %w", context.DeadlineExceeded), codes.DeadlineExceeded, zcv1.ErrorReason_ERROR_REASON_DEADLINE_EXCEEDED, false},
		"unknown bug":          {errors.New("nil map"), codes.Internal, zcv1.ErrorReason_ERROR_REASON_INTERNAL, true},
		"unavailable domain":   {&errs.Error{Kind: errs.KindUnavailable, Reason: zcv1.ErrorReason_ERROR_REASON_ZOOM_UNAVAILABLE, Message: "m"}, codes.Unavailable, zcv1.ErrorReason_ERROR_REASON_ZOOM_UNAVAILABLE, true},
		"status gets a reason": {status.Error(codes.Unimplemented, "later"), codes.Unimplemented, errs.ReasonMethodNotAllowed, false},
		"cancelled":            {fmt.Errorf("x: %w", context.Canceled), codes.Canceled, errs.ReasonCancelled, false},
		"cancelled status":     {status.Error(codes.Canceled, "context canceled"), codes.Canceled, errs.ReasonCancelled, false},
	} {
		t.Run(name, func(t *testing.T) {
			st, hidden := errs.ToStatus(tc.err)
			if st.Code() != tc.code || hidden != tc.hidden {
				t.Fatalf("ToStatus = %s (hidden %v), want %s (hidden %v)", st.Code(), hidden, tc.code, tc.hidden)
			}
			var reason string
			for _, d := range st.Details() {
				if info, ok := d.(*errdetails.ErrorInfo); ok {
					reason = info.GetReason()
					if info.GetDomain() != errs.Domain {
						t.Errorf("domain %q", info.GetDomain())
					}
				}
			}
			if reason != errs.ReasonName(tc.reason) {
				t.Fatalf("reason %q, want %q", reason, tc.reason)
			}
			if tc.hidden && st.Message() == tc.err.Error() {
				t.Fatalf("a hidden cause leaked into the message: %q", st.Message())
			}
		})
	}
}

func TestDetails(t *testing.T) {
	e := errs.InvalidArgument("org_id", zcv1.ErrorReason_ERROR_REASON_INVALID_ORG_ID, "org_id must not be empty")
	e.RetryAfter = 3 * time.Second
	st, _ := errs.ToStatus(e)
	var field string
	var retry time.Duration
	for _, d := range st.Details() {
		switch d := d.(type) {
		case *errdetails.BadRequest:
			field = d.GetFieldViolations()[0].GetField()
		case *errdetails.RetryInfo:
			retry = d.GetRetryDelay().AsDuration()
		}
	}
	if field != "org_id" || retry != 3*time.Second {
		t.Fatalf("details: field %q retry %v", field, retry)
	}
	if !errors.Is(fmt.Errorf("w: %w", e), &errs.Error{Reason: zcv1.ErrorReason_ERROR_REASON_INVALID_ORG_ID}) {
		t.Fatal("errors.Is by reason does not match")
	}
}
