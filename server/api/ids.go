package api

import (
	zcv1 "github.com/zoomconnect/zoomconnect/gen/zoomconnect/v1"
	"github.com/zoomconnect/zoomconnect/server/connection"
	"github.com/zoomconnect/zoomconnect/server/errs"
)

// Reasons of requests the handlers refuse before any domain call.
const (
	ReasonInvalidOrgID     = zcv1.ErrorReason_ERROR_REASON_INVALID_ORG_ID
	ReasonInvalidUserID    = zcv1.ErrorReason_ERROR_REASON_INVALID_USER_ID
	ReasonInvalidBookingID = zcv1.ErrorReason_ERROR_REASON_INVALID_BOOKING_ID
	ReasonUserIDMismatch   = zcv1.ErrorReason_ERROR_REASON_USER_ID_MISMATCH
	ReasonInvalidEmail     = zcv1.ErrorReason_ERROR_REASON_INVALID_EMAIL
	ReasonSettingsRequired = zcv1.ErrorReason_ERROR_REASON_SETTINGS_REQUIRED
	ReasonInvalidFilter    = zcv1.ErrorReason_ERROR_REASON_INVALID_FILTER
	ReasonQueryTooLong     = zcv1.ErrorReason_ERROR_REASON_QUERY_TOO_LONG
)

// idReasons is the reason for each id field a request (and a REST path)
// carries.
var idReasons = map[string]errs.Reason{
	"org_id":     ReasonInvalidOrgID,
	"user_id":    ReasonInvalidUserID,
	"booking_id": ReasonInvalidBookingID,
}

// CheckID validates the id in request field `field` (org_id, user_id or
// booking_id). The REST gateway checks path ids with it too, before they
// become proto strings: an id that is not UTF-8 cannot be marshalled, and
// must be the same INVALID_ARGUMENT there as over gRPC.
func CheckID(field, id string) error {
	if err := connection.ValidateID(id); err != nil {
		return errs.InvalidArgument(field, reasonOfField(field), "%s %v", field, err)
	}
	return nil
}

// reasonOfField is the reason for a bad value of a request field.
func reasonOfField(field string) errs.Reason {
	if r, ok := idReasons[field]; ok {
		return r
	}
	return errs.ReasonInvalidParameter
}
