package metrics

import (
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/prometheus/client_golang/prometheus/testutil"
)

func TestZoomEndpointTemplates(t *testing.T) {
	dev := NewZoomEndpoints("http://127.0.0.1:8080/zoom-emulator", "http://127.0.0.1:8080/zoom-emulator/v2")
	prod := NewZoomEndpoints("https://zoom.us", "https://api.zoom.us/v2")
	for path, want := range map[string]string{
		"/v2/users/me":                                  "/users/me",
		"/v2/users/mia@acme.example":                    "/users/{userId}",
		"/v2/users/KDcuGIm1QgePTO8WbOqwIQ/meetings":     "/users/{userId}/meetings",
		"/v2/meetings/85746065432":                      "/meetings/{meetingId}",
		"/oauth/token":                                  "/oauth/token",
		"/oauth/revoke":                                 "/oauth/revoke",
		"/oauth/data/compliance":                        "/oauth/data/compliance",
		"/v2/accounts/abc/users/def/settings":           "/accounts/{id}/users/{userId}/settings",
		"/v2/unknown-thing/with/many/deep/segments/1/2": "/{id}/{id}/{id}/{id}/{id}/{id}/…",
	} {
		if got := prod.Template(path); got != want {
			t.Errorf("prod %s → %s, want %s", path, got, want)
		}
		if got := dev.Template("/zoom-emulator" + path); got != want {
			t.Errorf("dev %s → %s, want %s", path, got, want)
		}
	}
}

func TestZoomTransportCountsByTemplateCodeAndLimit(t *testing.T) {
	zoom := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/v2/users/someone@x.example/meetings":
			w.Header().Set("X-RateLimit-Type", "QPS")
			w.WriteHeader(http.StatusTooManyRequests)
			_, _ = io.WriteString(w, `{"code":429,"message":"slow down"}`)
		case "/oauth/token":
			w.WriteHeader(http.StatusBadRequest)
			_, _ = io.WriteString(w, `{"reason":"Invalid Token!","error":"invalid_grant"}`)
		default:
			_, _ = io.WriteString(w, `{}`)
		}
	}))
	defer zoom.Close()
	client := &http.Client{Transport: ZoomTransport(nil, NewZoomEndpoints(zoom.URL, zoom.URL+"/v2"))}
	meetings := ZoomRequests.WithLabelValues("POST", "/users/{userId}/meetings", "4xx", "429")
	limited := ZoomRateLimited.WithLabelValues("/users/{userId}/meetings", "qps")
	grant := ZoomRequests.WithLabelValues("POST", "/oauth/token", "4xx", "invalid_grant")
	ok := ZoomRequests.WithLabelValues("GET", "/users/{userId}", "2xx", "")
	before := []float64{testutil.ToFloat64(meetings), testutil.ToFloat64(limited), testutil.ToFloat64(grant), testutil.ToFloat64(ok)}

	post := func(path string) string {
		resp, err := client.Post(zoom.URL+path, "application/json", nil)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return string(b)
	}
	// The client still reads Zoom's error body after the transport peeked.
	if body := post("/v2/users/someone@x.example/meetings"); body != `{"code":429,"message":"slow down"}` {
		t.Fatalf("body after the peek: %q", body)
	}
	post("/oauth/token")
	resp, err := client.Get(zoom.URL + "/v2/users/mia@acme.example")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()

	after := []float64{testutil.ToFloat64(meetings), testutil.ToFloat64(limited), testutil.ToFloat64(grant), testutil.ToFloat64(ok)}
	for i, name := range []string{"429 by template and code", "429 by limit type", "invalid_grant", "2xx"} {
		if after[i]-before[i] != 1 {
			t.Errorf("%s moved by %v, want 1", name, after[i]-before[i])
		}
	}
}

func TestLimitType(t *testing.T) {
	for h, want := range map[string]string{"QPS": "qps", "Daily-limit": "daily-limit", "": "unknown", "Something-new": "other"} {
		if got := limitType(h); got != want {
			t.Errorf("limitType(%q) = %q, want %q", h, got, want)
		}
	}
}
