package metrics

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"
)

// ZoomEndpoints names Zoom's endpoints by template (/users/{userId}/meetings),
// never by raw URL, which holds ids and emails.
type ZoomEndpoints struct{ prefixes []string }

// NewZoomEndpoints takes Zoom's base URLs (REST and OAuth): their paths are
// cut off, so that an endpoint is named the same against Zoom and against
// the dev emulator.
func NewZoomEndpoints(bases ...string) ZoomEndpoints {
	var e ZoomEndpoints
	for _, b := range bases {
		if u, err := url.Parse(b); err == nil {
			e.prefixes = append(e.prefixes, strings.TrimRight(u.Path, "/"))
		}
	}
	// Longest first, so that /zoom-emulator/v2 wins over /zoom-emulator.
	sort.Slice(e.prefixes, func(i, j int) bool { return len(e.prefixes[i]) > len(e.prefixes[j]) })
	return e
}

// ZoomTransport records every call to Zoom that passes through it: count by
// endpoint template, status class and Zoom error code, latency, and 429s by
// limit type. Instrumenting the transport keeps the Zoom client unaware of
// metrics.
func ZoomTransport(next http.RoundTripper, endpoints ZoomEndpoints) http.RoundTripper {
	if next == nil {
		next = http.DefaultTransport
	}
	return &zoomTransport{next: next, endpoints: endpoints}
}

type zoomTransport struct {
	next      http.RoundTripper
	endpoints ZoomEndpoints
}

func (t *zoomTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	endpoint := t.endpoints.Template(req.URL.Path)
	start := time.Now()
	resp, err := t.next.RoundTrip(req)
	ZoomRequestDuration.WithLabelValues(req.Method, endpoint).Observe(time.Since(start).Seconds())
	if err != nil {
		ZoomRequests.WithLabelValues(req.Method, endpoint, "error", "").Inc()
		return resp, err
	}
	code := ""
	if resp.StatusCode/100 != 2 {
		code = peekZoomCode(resp)
	}
	ZoomRequests.WithLabelValues(req.Method, endpoint, strconv.Itoa(resp.StatusCode/100)+"xx", code).Inc()
	if resp.StatusCode == http.StatusTooManyRequests {
		ZoomRateLimited.WithLabelValues(endpoint, limitType(resp.Header.Get("X-RateLimit-Type"))).Inc()
	}
	return resp, nil
}

// zoomWords are the literal path segments of Zoom's endpoints; any other
// segment is an id (a user id or email, a meeting id) and is replaced by a
// placeholder, which bounds the label's values.
var zoomWords = map[string]bool{
	"users": true, "meetings": true, "me": true, "oauth": true, "token": true, "revoke": true,
	"authorize": true, "data": true, "compliance": true, "accounts": true, "settings": true,
	"status": true, "webinars": true, "registrants": true, "recordings": true, "past_meetings": true,
	"roles": true, "members": true, "report": true, "summary": true, "meeting_summary": true,
}

// maxTemplateSegments bounds a template's depth.
const maxTemplateSegments = 6

// Template names the endpoint of path, e.g. /users/{userId}/meetings.
func (e ZoomEndpoints) Template(path string) string {
	for _, p := range e.prefixes {
		if p != "" && strings.HasPrefix(path, p+"/") {
			path = path[len(p):]
			break
		}
	}
	segs := strings.Split(strings.Trim(path, "/"), "/")
	if len(segs) > maxTemplateSegments {
		segs = append(segs[:maxTemplateSegments], "…")
	}
	for i, s := range segs {
		if zoomWords[s] || s == "…" {
			continue
		}
		switch {
		case i > 0 && segs[i-1] == "users":
			segs[i] = "{userId}"
		case i > 0 && segs[i-1] == "meetings":
			segs[i] = "{meetingId}"
		default:
			segs[i] = "{id}"
		}
	}
	return "/" + strings.Join(segs, "/")
}

// oauthCodes are the OAuth `error` values kept as they are.
var oauthCodes = map[string]bool{
	"invalid_grant": true, "invalid_request": true, "invalid_client": true, "unauthorized_client": true,
	"unsupported_grant_type": true, "invalid_scope": true, "access_denied": true,
}

// peekZoomCode reads Zoom's error code from an error answer (REST
// `{"code": 124}` or OAuth `{"error": "invalid_grant"}`) and puts the body
// back for the client.
func peekZoomCode(resp *http.Response) string {
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	_ = resp.Body.Close()
	resp.Body = io.NopCloser(bytes.NewReader(body))
	if err != nil {
		return ""
	}
	var e struct {
		Code  json.Number `json:"code"`
		Error string      `json:"error"`
	}
	if json.Unmarshal(body, &e) != nil {
		return ""
	}
	if n, err := e.Code.Int64(); err == nil && n > 0 && n < 1_000_000 {
		return strconv.FormatInt(n, 10)
	}
	if e.Error != "" {
		if oauthCodes[e.Error] {
			return e.Error
		}
		return "other"
	}
	return ""
}

// limitType names Zoom's X-RateLimit-Type (QPS, Daily-limit) in lower case.
func limitType(h string) string {
	switch v := strings.ToLower(strings.TrimSpace(h)); v {
	case "qps", "daily-limit":
		return v
	case "":
		return "unknown"
	default:
		return "other"
	}
}
