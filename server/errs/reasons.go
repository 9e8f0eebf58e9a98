package errs

import (
	"strings"

	zcv1 "github.com/zoomconnect/zoomconnect/gen/zoomconnect/v1"
)

// Reason is a machine-readable reason: a value of the API's ErrorReason enum
// (proto/zoomconnect/v1/errors.proto). Using the enum type, not strings,
// makes a reason the API does not declare a compile error.
type Reason = zcv1.ErrorReason

// reasonPrefix starts every ErrorReason value name (buf's enum lint); the
// google.rpc.ErrorInfo.reason string is the name without it.
const reasonPrefix = "ERROR_REASON_"

// Reasons of failures that no single domain package owns.
const (
	ReasonInternal          = zcv1.ErrorReason_ERROR_REASON_INTERNAL
	ReasonStoreUnavailable  = zcv1.ErrorReason_ERROR_REASON_STORE_UNAVAILABLE
	ReasonConcurrentUpdate  = zcv1.ErrorReason_ERROR_REASON_CONCURRENT_UPDATE
	ReasonDeadlineExceeded  = zcv1.ErrorReason_ERROR_REASON_DEADLINE_EXCEEDED
	ReasonCancelled         = zcv1.ErrorReason_ERROR_REASON_CANCELLED
	ReasonInvalidParameter  = zcv1.ErrorReason_ERROR_REASON_INVALID_PARAMETER
	ReasonInvalidBody       = zcv1.ErrorReason_ERROR_REASON_INVALID_REQUEST_BODY
	ReasonRouteNotFound     = zcv1.ErrorReason_ERROR_REASON_ROUTE_NOT_FOUND
	ReasonMethodNotAllowed  = zcv1.ErrorReason_ERROR_REASON_METHOD_NOT_ALLOWED
	ReasonRequestTooLarge   = zcv1.ErrorReason_ERROR_REASON_REQUEST_TOO_LARGE
	ReasonWebhookUnverified = zcv1.ErrorReason_ERROR_REASON_WEBHOOK_UNVERIFIED
	ReasonWebhookMalformed  = zcv1.ErrorReason_ERROR_REASON_WEBHOOK_MALFORMED
	// ReasonZoomScopeMissing: Zoom refused a call because the Zoom app's
	// grant lacks a scope (HTTP 400, code 4711). Only the app's
	// configuration in the Zoom App Marketplace, and a new approval, fix
	// it; retrying does not.
	ReasonZoomScopeMissing = zcv1.ErrorReason_ERROR_REASON_ZOOM_SCOPE_MISSING
)

// ReasonName is the string a reason is sent as in google.rpc.ErrorInfo:
// its enum value name without "ERROR_REASON_", e.g. "ORG_ALREADY_CONNECTED".
func ReasonName(r Reason) string {
	return strings.TrimPrefix(r.String(), reasonPrefix)
}

// ParseReason is the inverse of ReasonName; ok is false for a name the enum
// does not declare.
func ParseReason(name string) (r Reason, ok bool) {
	v, ok := zcv1.ErrorReason_value[reasonPrefix+name]
	if !ok || v == 0 {
		return 0, false
	}
	return Reason(v), true
}
