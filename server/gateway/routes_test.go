package gateway

import (
	"net/http"
	"strings"
	"testing"
)

func TestAPIRoutesMatchTheirOwnPaths(t *testing.T) {
	routes := APIRoutes()
	if len(routes) < 20 {
		t.Fatalf("read only %d routes from the descriptors", len(routes))
	}
	for _, rt := range routes {
		path := strings.NewReplacer("{org_id}", "acme", "{user_id}", "mia", "{booking_id}", "b1").Replace(rt.Pattern)
		got, vars, _ := routes.Match(rt.Method, path)
		if got != rt {
			t.Errorf("%s %s matched %v, want %s", rt.Method, path, got, rt)
			continue
		}
		for name, v := range vars {
			if want := map[string]string{"org_id": "acme", "user_id": "mia", "booking_id": "b1"}[name]; v != want {
				t.Errorf("%s: %s = %q, want %q", rt, name, v, want)
			}
		}
	}
}

func TestMatchListsAllowedMethods(t *testing.T) {
	routes := APIRoutes()
	for path, want := range map[string]string{
		"/v1/orgs/acme/members/mia":  "DELETE,PUT",
		"/v1/orgs/acme/zoom:connect": "POST",
		"/v1/orgs/acme/zoom:nothing": "",
		"/v1/orgs//zoom":             "",
		"/v1/orgs/acme/zoom/extra":   "",
	} {
		rt, _, allowed := routes.Match(http.MethodHead, path)
		if rt != nil || strings.Join(allowed, ",") != want {
			t.Errorf("HEAD %s: route %v, allowed %q; want none and %q", path, rt, allowed, want)
		}
	}
}

// FuzzMatch: any path (untrusted input) is matched without panicking, and a
// match's variables put back into the template give the path again.
func FuzzMatch(f *testing.F) {
	for _, s := range []string{"/v1/orgs/acme/zoom", "/v1/orgs/\xff/zoom", "/v1/orgs/a/users/b/zoom:effective", "//", "", "/v1/orgs/{org_id}/zoom", "v1/orgs/acme/zoom"} {
		f.Add(http.MethodGet, s)
	}
	routes := APIRoutes()
	f.Fuzz(func(t *testing.T, method, path string) {
		rt, vars, _ := routes.Match(method, path)
		if rt == nil {
			return
		}
		rebuilt := rt.Pattern
		for name, v := range vars {
			if v == "" || strings.Contains(v, "/") {
				t.Fatalf("%s: variable %s = %q", rt, name, v)
			}
			rebuilt = strings.Replace(rebuilt, "{"+name+"}", v, 1)
		}
		if rebuilt != path {
			t.Fatalf("%s matched %q but rebuilds %q", rt, path, rebuilt)
		}
	})
}
