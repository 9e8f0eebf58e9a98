package gateway

import (
	"net/http"
	"slices"
	"strings"

	zcv1 "github.com/zoomconnect/zoomconnect/gen/zoomconnect/v1"
	"google.golang.org/genproto/googleapis/api/annotations"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
)

// Route is one REST binding of an RPC, read from its google.api.http option.
type Route struct {
	Method string
	// Pattern is the path template, e.g. /v1/orgs/{org_id}/zoom:connect.
	Pattern  string
	segments []string
}

// String names the route for logs: method and template, never the raw
// path (whose ids may be personal data).
func (r *Route) String() string { return r.Method + " " + r.Pattern }

// match returns the path variables of path if it fits the template.
func (r *Route) match(path string) (map[string]string, bool) {
	rest, ok := strings.CutPrefix(path, "/")
	if !ok {
		return nil, false
	}
	parts := strings.Split(rest, "/")
	if len(parts) != len(r.segments) {
		return nil, false
	}
	vars := map[string]string{}
	for i, seg := range r.segments {
		if name, ok := strings.CutPrefix(seg, "{"); ok {
			if parts[i] == "" {
				return nil, false
			}
			vars[strings.TrimSuffix(name, "}")] = parts[i]
			continue
		}
		if parts[i] != seg {
			return nil, false
		}
	}
	return vars, true
}

// Routes is the REST API: every binding of the API's services.
type Routes []*Route

// APIRoutes reads the bindings from the generated descriptors, so the table
// can never drift from what the gateway serves.
func APIRoutes() Routes {
	var out Routes
	for _, fd := range []protoreflect.FileDescriptor{zcv1.File_zoomconnect_v1_connection_proto, zcv1.File_zoomconnect_v1_meeting_proto} {
		services := fd.Services()
		for i := range services.Len() {
			methods := services.Get(i).Methods()
			for j := range methods.Len() {
				rule, _ := proto.GetExtension(methods.Get(j).Options(), annotations.E_Http).(*annotations.HttpRule)
				if rt := routeOf(rule); rt != nil {
					out = append(out, rt)
				}
			}
		}
	}
	return out
}

func routeOf(rule *annotations.HttpRule) *Route {
	var method, pattern string
	switch p := rule.GetPattern().(type) {
	case *annotations.HttpRule_Get:
		method, pattern = http.MethodGet, p.Get
	case *annotations.HttpRule_Post:
		method, pattern = http.MethodPost, p.Post
	case *annotations.HttpRule_Put:
		method, pattern = http.MethodPut, p.Put
	case *annotations.HttpRule_Patch:
		method, pattern = http.MethodPatch, p.Patch
	case *annotations.HttpRule_Delete:
		method, pattern = http.MethodDelete, p.Delete
	default:
		return nil
	}
	return &Route{Method: method, Pattern: pattern, segments: strings.Split(strings.TrimPrefix(pattern, "/"), "/")}
}

// Match finds the route of method and path (r.URL.Path, unescaped) and its
// path variables; with no route for method, allowed lists the methods the
// path has routes for.
func (rs Routes) Match(method, path string) (route *Route, vars map[string]string, allowed []string) {
	for _, rt := range rs {
		v, ok := rt.match(path)
		if !ok {
			continue
		}
		if rt.Method == method {
			return rt, v, nil
		}
		if !slices.Contains(allowed, rt.Method) {
			allowed = append(allowed, rt.Method)
		}
	}
	slices.Sort(allowed)
	return nil, nil, allowed
}
