package errs_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

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
		reason string
		hidden bool
	}{
		"domain error":        {errs.FailedPrecondition("ORG_ALREADY_CONNECTED", "connected"), codes.FailedPrecondition, "ORG_ALREADY_CONNECTED", false},
		"wrapped domain":      {fmt.Errorf("ctx: %w", errs.PermissionDenied("WRONG_ORG", "no")), codes.PermissionDenied, "WRONG_ORG", false},
		"invalid argument":    {errs.InvalidArgument("org_id", "INVALID_ORG_ID", "bad"), codes.InvalidArgument, "INVALID_ORG_ID", false},
		"store down":          {fmt.Errorf("%w: dial: refused", store.ErrUnavailable), codes.Unavailable, "STORE_UNAVAILABLE", true},
		"store contention":    {store.ErrConflict, codes.Aborted, "CONCURRENT_UPDATE", true},
		"deadline":            {fmt.Errorf("x: %w", context.DeadlineExceeded), codes.DeadlineExceeded, "DEADLINE_EXCEEDED", false},
		"unknown bug":         {errors.New("nil map"), codes.Internal, "INTERNAL", true},
		"unavailable domain":  {&errs.Error{Kind: errs.KindUnavailable, Reason: "ZOOM_UNAVAILABLE", Message: "m"}, codes.Unavailable, "ZOOM_UNAVAILABLE", true},
		"status passes as is": {status.Error(codes.Unimplemented, "later"), codes.Unimplemented, "", false},
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
			if reason != tc.reason {
				t.Fatalf("reason %q, want %q", reason, tc.reason)
			}
			if tc.hidden && st.Message() == tc.err.Error() {
				t.Fatalf("a hidden cause leaked into the message: %q", st.Message())
			}
		})
	}
}

func TestDetails(t *testing.T) {
	e := errs.InvalidArgument("org_id", "INVALID_ORG_ID", "org_id must not be empty")
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
	if !errors.Is(fmt.Errorf("w: %w", e), &errs.Error{Reason: "INVALID_ORG_ID"}) {
		t.Fatal("errors.Is by reason does not match")
	}
}
