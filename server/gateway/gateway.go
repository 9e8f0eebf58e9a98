// Package gateway is the REST facade: grpc-gateway in front of the gRPC
// server (over loopback, so every REST call passes the same interceptors),
// with the service's one error model on the paths the gateway answers
// itself (malformed JSON, unknown routes, wrong methods, path ids that
// cannot become proto strings).
package gateway

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"unicode/utf8"

	"github.com/grpc-ecosystem/grpc-gateway/v2/runtime"
	zcv1 "github.com/zoomconnect/zoomconnect/gen/zoomconnect/v1"
	"github.com/zoomconnect/zoomconnect/server/api"
	"github.com/zoomconnect/zoomconnect/server/errs"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/protojson"
)

// Handler serves /v1/.
type Handler struct {
	mux    *runtime.ServeMux
	routes Routes
}

// New registers the API's services on a gateway that calls them over cc.
func New(ctx context.Context, cc *grpc.ClientConn) (*Handler, error) {
	h := &Handler{routes: APIRoutes()}
	h.mux = runtime.NewServeMux(
		// One rule for every write: a field the API does not know is
		// refused (400 INVALID_REQUEST_BODY), never silently dropped. The
		// answers keep grpc-gateway's defaults.
		runtime.WithMarshalerOption(runtime.MIMEWildcard, &runtime.HTTPBodyMarshaler{Marshaler: &runtime.JSONPb{
			MarshalOptions:   protojson.MarshalOptions{EmitUnpopulated: true},
			UnmarshalOptions: protojson.UnmarshalOptions{DiscardUnknown: false},
		}}),
		runtime.WithErrorHandler(h.handleError),
		runtime.WithRoutingErrorHandler(h.handleRoutingError),
	)
	if err := zcv1.RegisterConnectionServiceHandler(ctx, h.mux, cc); err != nil {
		return nil, err
	}
	if err := zcv1.RegisterMeetingServiceHandler(ctx, h.mux, cc); err != nil {
		return nil, err
	}
	return h, nil
}

// Route names the route of r for the access log ("" when none matches).
func (h *Handler) Route(r *http.Request) string {
	if rt, _, _ := h.routes.Match(r.Method, r.URL.Path); rt != nil {
		return rt.String()
	}
	return ""
}

func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	// Answers carry install links, authorize URLs and members' data: no
	// cache (browser or proxy) may keep them.
	w.Header().Set("Cache-Control", "no-store")
	if rt, vars, _ := h.routes.Match(r.Method, r.URL.Path); rt != nil {
		for name, v := range vars {
			// Not UTF-8: it cannot become a proto string, so refuse it as
			// the handler would an id of the wrong shape.
			if !utf8.ValidString(v) {
				h.WriteError(w, r, api.CheckID(name, v))
				return
			}
		}
	}
	h.mux.ServeHTTP(w, r)
}

// WriteError answers r with err in the facade's error model, for requests
// refused before the gateway reads them (an early token check, a body over
// the limit).
func (h *Handler) WriteError(w http.ResponseWriter, r *http.Request, err error) {
	_, m := runtime.MarshalerForRequest(h.mux, r)
	h.handleError(r.Context(), h.mux, m, w, r, err)
}

// handleError writes every error of the REST facade: the status the gRPC
// server sent, or one classified here for errors the gateway makes itself,
// always with the google.rpc.ErrorInfo of the service and the HTTP status
// errs gives it.
func (h *Handler) handleError(ctx context.Context, mux *runtime.ServeMux, m runtime.Marshaler, w http.ResponseWriter, r *http.Request, err error) {
	st := classify(r, err)
	httpStatus := errs.HTTPStatus(st)
	if headersTooLargeToForward(err) {
		httpStatus = http.StatusRequestHeaderFieldsTooLarge // as the HTTP server's own limit answers
	}
	runtime.DefaultHTTPErrorHandler(ctx, mux, m, w, r, &runtime.HTTPStatusError{HTTPStatus: httpStatus, Err: st.Err()})
}

// headersTooLargeToForward recognizes the gateway's gRPC client refusing to
// send headers that passed the HTTP server's limit but, as gRPC metadata
// (32 bytes more per field, plus what the gateway adds), exceed the gRPC
// server's: a long token, or many Grpc-Metadata-* headers.
func headersTooLargeToForward(err error) bool {
	st, ok := status.FromError(err)
	return ok && st.Code() == codes.Internal && strings.Contains(st.Message(), "header list size")
}

func (h *Handler) handleRoutingError(ctx context.Context, mux *runtime.ServeMux, m runtime.Marshaler, w http.ResponseWriter, r *http.Request, httpStatus int) {
	var err error
	switch httpStatus {
	case http.StatusMethodNotAllowed:
		_, _, allowed := h.routes.Match(r.Method, r.URL.Path)
		w.Header().Set("Allow", strings.Join(allowed, ", "))
		err = errs.New(errs.KindUnimplemented, errs.ReasonMethodNotAllowed, "%s is not allowed here; allowed: %s", r.Method, strings.Join(allowed, ", "))
	case http.StatusNotFound:
		err = errs.NotFound(errs.ReasonRouteNotFound, "no API route matches %s %s; the routes are in the README and gen/openapiv2/zoomconnect.swagger.json", r.Method, r.URL.Path)
	default:
		err = errs.InvalidArgument("", errs.ReasonInvalidParameter, "the request path cannot be read")
	}
	h.handleError(ctx, mux, m, w, r, err)
}

// classify gives a reason to the errors grpc-gateway makes itself, which
// carry none: a body or parameter it cannot decode, or a request it cannot
// marshal for the gRPC server.
func classify(r *http.Request, err error) *status.Status {
	var custom *runtime.HTTPStatusError
	if errors.As(err, &custom) && custom.HTTPStatus == http.StatusBadRequest {
		if _, ok := status.FromError(custom.Err); !ok {
			err = errs.InvalidArgument("", errs.ReasonInvalidParameter, "the request path cannot be read: %v", custom.Err)
		}
	}
	if errs.As(err) == nil {
		if st, ok := status.FromError(err); ok && errs.ReasonOf(st) == 0 {
			switch {
			case st.Code() == codes.InvalidArgument && readsBody(r) && !parameterError(st.Message()):
				return errs.WithReason(st, errs.ReasonInvalidBody)
			case headersTooLargeToForward(err):
				err = errs.New(errs.KindResourceExhausted, errs.ReasonRequestTooLarge, "the request headers (the token included) are too large to forward: %s", st.Message())
			case st.Code() == codes.Internal && strings.Contains(st.Message(), "error while marshaling"):
				// a query parameter that is not UTF-8, for one
				err = errs.InvalidArgument("", errs.ReasonInvalidParameter, "a request parameter is not valid: %s", st.Message())
			}
		}
	}
	st, _ := errs.ToStatus(err)
	return st
}

func readsBody(r *http.Request) bool {
	return r.Method == http.MethodPost || r.Method == http.MethodPut || r.Method == http.MethodPatch
}

// parameterError recognizes grpc-gateway's messages for path and query
// parameters (runtime.PopulateQueryParameters), which a write has too.
func parameterError(msg string) bool {
	for _, prefix := range []string{"type mismatch, parameter", "missing parameter", "parsing field", "parsing list",
		"too many values for field", "duplicate field", "invalid path:", "field already set for oneof"} {
		if strings.HasPrefix(msg, prefix) {
			return true
		}
	}
	return false
}
