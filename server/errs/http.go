package errs

import (
	"net/http"

	"github.com/grpc-ecosystem/grpc-gateway/v2/runtime"
	zcv1 "github.com/zoomconnect/zoomconnect/gen/zoomconnect/v1"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/types/known/anypb"
)

// reasonHTTPStatus lists the reasons for which HTTP has a more precise
// status than the one grpc-gateway gives their gRPC code.
var reasonHTTPStatus = map[Reason]int{
	// the link worked once but no longer does
	zcv1.ErrorReason_ERROR_REASON_INSTALL_LINK_EXPIRED:  http.StatusGone,
	zcv1.ErrorReason_ERROR_REASON_INSTALL_LINK_REPLACED: http.StatusGone,
	// Zoom, upstream of this service, refused
	zcv1.ErrorReason_ERROR_REASON_ZOOM_CODE_EXCHANGE_FAILED: http.StatusBadGateway,
	ReasonMethodNotAllowed: http.StatusMethodNotAllowed,
	ReasonRequestTooLarge:  http.StatusRequestEntityTooLarge,
}

// HTTPStatus is the HTTP status of st on every HTTP path (REST gateway,
// OAuth pages, webhooks): grpc-gateway's mapping of the gRPC code, refined
// by the reason where HTTP says more.
func HTTPStatus(st *status.Status) int {
	if s, ok := reasonHTTPStatus[ReasonOf(st)]; ok {
		return s
	}
	return runtime.HTTPStatusFromCode(st.Code())
}

// ReasonOf returns the reason st carries in its google.rpc.ErrorInfo, or
// ERROR_REASON_UNSPECIFIED.
func ReasonOf(st *status.Status) Reason {
	for _, d := range st.Details() {
		if info, ok := d.(*errdetails.ErrorInfo); ok && info.GetDomain() == Domain {
			r, _ := ParseReason(info.GetReason())
			return r
		}
	}
	return 0
}

// WithReason returns st with reason added when st carries none: statuses
// made outside this package (by grpc-gateway, or by gRPC itself) get the
// ErrorInfo every error of this service carries.
func WithReason(st *status.Status, reason Reason) *status.Status {
	if ReasonOf(st) != 0 {
		return st
	}
	if reason == 0 {
		reason = ReasonInternal
	}
	info, err := anypb.New(&errdetails.ErrorInfo{Reason: ReasonName(reason), Domain: Domain})
	if err != nil {
		return st
	}
	p := st.Proto()
	p.Details = append(p.Details, info)
	return status.FromProto(p)
}

// WriteHTTP answers a plain HTTP request with err as the REST gateway does:
// a google.rpc.Status in JSON, with the status HTTPStatus gives. The second
// result tells whether err hides a cause that should be logged.
func WriteHTTP(w http.ResponseWriter, err error) (*status.Status, bool) {
	st, hidden := ToStatus(err)
	body, merr := protojson.Marshal(st.Proto())
	if merr != nil {
		body = []byte(`{"code":13,"message":"internal error"}`)
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(HTTPStatus(st))
	_, _ = w.Write(body)
	return st, hidden
}
