package api

import (
	"github.com/zoomconnect/zoomconnect/server/errs"
	"google.golang.org/grpc"
)

// UnknownMethod answers a call of a method or service the server does not
// have (grpc.UnknownServiceHandler), which gRPC would otherwise refuse
// itself, as UNIMPLEMENTED without the google.rpc.ErrorInfo every error of
// the service carries. It runs behind the same interceptors as the real
// methods, so an unauthenticated caller learns nothing about the methods.
func UnknownMethod(_ any, stream grpc.ServerStream) error {
	method, _ := grpc.MethodFromServerStream(stream)
	return errs.New(errs.KindUnimplemented, errs.ReasonRouteNotFound,
		"this server has no method %s; the services are in proto/zoomconnect/v1 (and listed by server reflection)", method)
}
