package zoomemu

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"maps"
	"net"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/zoomconnect/zoomconnect/server/internal/httprec"
)

// Endpoint names an emulated endpoint for fault injection.
type Endpoint string

const (
	EndpointAuthorize Endpoint = "authorize" // GET and POST /oauth/authorize
	EndpointToken     Endpoint = "token"     // POST /oauth/token
	EndpointRevoke    Endpoint = "revoke"    // POST /oauth/revoke
	EndpointUsers     Endpoint = "users"     // GET /v2/users/{userId}
	// EndpointMeetings is the whole Meetings API: /v2/users/{userId}/meetings
	// (GET, POST) and /v2/meetings/{meetingId} (GET, PATCH, DELETE).
	EndpointMeetings Endpoint = "meetings"
)

// Fault replaces an endpoint's normal behaviour, to test how a client copes
// with outages, rate limits, slow answers and lost answers.
type Fault struct {
	// Status is the HTTP status to answer with. 0 means "delay only": after
	// Delay the endpoint behaves normally.
	Status int
	// Body is sent verbatim; it is labelled JSON if it is valid JSON and
	// plain text otherwise, unless Header sets Content-Type.
	Body   string
	Header http.Header
	// Delay comes before the answer. If the client goes away meanwhile, the
	// request ends without an answer.
	Delay time.Duration
	// Times is how many requests get the fault; 0 (or less) means until
	// ClearFaults.
	Times int
	// DropAfterProcessing makes the endpoint process the request normally
	// (after Delay), then close the connection without answering, as when
	// the network or the client's process fails right after Zoom acted:
	// the client sees an error such as io.EOF although, for example, the
	// meeting now exists. Status, Body and Header are ignored. The
	// connection is hijacked (HTTP/1.x); where that is impossible (HTTP/2,
	// or a ResponseWriter without http.Hijacker such as
	// httptest.ResponseRecorder) the handler panics with
	// http.ErrAbortHandler, which makes Go's server abort the response.
	//
	// Go's http.Client silently resends a GET (or HEAD, OPTIONS, TRACE, or
	// a request with an Idempotency-Key header) whose reused connection
	// closed without an answer, so such a request may be processed twice;
	// POST, PATCH and DELETE are not resent.
	DropAfterProcessing bool
}

type activeFault struct {
	Fault
	left int // requests still to fault; ignored when Times <= 0
}

// InjectFault makes endpoint misbehave as f says, replacing any fault
// already injected there.
func (e *Emulator) InjectFault(endpoint Endpoint, f Fault) {
	f.Header = f.Header.Clone()
	e.mu.Lock()
	defer e.mu.Unlock()
	e.faults[endpoint] = &activeFault{Fault: f, left: f.Times}
}

// ClearFaults restores normal behaviour everywhere.
func (e *Emulator) ClearFaults() {
	e.mu.Lock()
	defer e.mu.Unlock()
	clear(e.faults)
}

// takeFault returns the fault for the next request to endpoint, counting it
// against Times.
func (e *Emulator) takeFault(endpoint Endpoint) (Fault, bool) {
	e.mu.Lock()
	defer e.mu.Unlock()
	af := e.faults[endpoint]
	if af == nil {
		return Fault{}, false
	}
	if af.Times > 0 {
		af.left--
		if af.left == 0 {
			delete(e.faults, endpoint)
		}
	}
	switch {
	case af.DropAfterProcessing:
		e.stats.DroppedResponses++
	case af.Status != 0:
		e.stats.FaultResponses++
	}
	return af.Fault, true
}

func (e *Emulator) routes() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("/oauth/authorize", e.endpoint(EndpointAuthorize, map[string]http.HandlerFunc{
		http.MethodGet: e.authorizePage, http.MethodPost: e.authorizeDecision}))
	mux.Handle("/oauth/token", e.endpoint(EndpointToken, map[string]http.HandlerFunc{http.MethodPost: e.token}))
	mux.Handle("/oauth/revoke", e.endpoint(EndpointRevoke, map[string]http.HandlerFunc{http.MethodPost: e.revoke}))
	mux.Handle("/oauth/data/compliance", e.endpoint(EndpointRevoke, map[string]http.HandlerFunc{http.MethodPost: e.compliance}))
	mux.Handle("/v2/users/{userId}", e.endpoint(EndpointUsers, map[string]http.HandlerFunc{http.MethodGet: e.getUser}))
	mux.Handle("/v2/users/{userId}/meetings", e.endpoint(EndpointMeetings, map[string]http.HandlerFunc{
		http.MethodGet: e.listMeetings, http.MethodPost: e.createMeeting}))
	mux.Handle("/v2/meetings/{meetingId}", e.endpoint(EndpointMeetings, map[string]http.HandlerFunc{
		http.MethodGet: e.getMeeting, http.MethodPatch: e.updateMeeting, http.MethodDelete: e.deleteMeeting}))
	mux.HandleFunc("GET /{$}", e.index)
	mux.HandleFunc("/", func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, http.StatusNotFound, &apiError{Code: http.StatusNotFound, Message: "Not found."})
	})
	return e.logRequests(mux)
}

// endpoint dispatches by method (answering 405 in JSON, which ServeMux's
// method patterns would not) and applies injected faults.
func (e *Emulator) endpoint(name Endpoint, byMethod map[string]http.HandlerFunc) http.Handler {
	allow := strings.Join(slices.Sorted(maps.Keys(byMethod)), ", ")
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h, ok := byMethod[r.Method]
		if !ok {
			w.Header().Set("Allow", allow)
			writeJSON(w, http.StatusMethodNotAllowed, &apiError{Code: http.StatusMethodNotAllowed, Message: "Method not allowed."})
			return
		}
		if f, ok := e.takeFault(name); ok {
			if f.Delay > 0 {
				// Go's server notices a client that went away only once the
				// body has been read; keep it for the handler afterwards.
				body, _ := io.ReadAll(http.MaxBytesReader(w, r.Body, maxFormBytes))
				r.Body = io.NopCloser(bytes.NewReader(body))
				t := time.NewTimer(f.Delay)
				select {
				case <-t.C:
				case <-r.Context().Done():
					t.Stop()
					return
				}
			}
			if f.DropAfterProcessing {
				h(&discardWriter{header: http.Header{}}, r)
				dropConnection(w)
				return
			}
			if f.Status != 0 {
				writeFault(w, f)
				return
			}
		}
		h(w, r)
	})
}

// discardWriter swallows the answer of a request whose connection will be
// dropped.
type discardWriter struct{ header http.Header }

func (d *discardWriter) Header() http.Header         { return d.header }
func (d *discardWriter) Write(b []byte) (int, error) { return len(b), nil }
func (d *discardWriter) WriteHeader(int)             {}

// dropConnection closes the client's connection without an answer.
func dropConnection(w http.ResponseWriter) {
	conn, _, err := http.NewResponseController(w).Hijack()
	if err != nil {
		panic(http.ErrAbortHandler)
	}
	_ = conn.Close()
}

func writeFault(w http.ResponseWriter, f Fault) {
	maps.Copy(w.Header(), f.Header)
	if w.Header().Get("Content-Type") == "" && f.Body != "" {
		if json.Valid([]byte(f.Body)) {
			w.Header().Set("Content-Type", jsonContentType)
		} else {
			w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		}
	}
	w.WriteHeader(f.Status)
	_, _ = w.Write([]byte(f.Body))
}

const jsonContentType = "application/json;charset=UTF-8"

func writeJSON(w http.ResponseWriter, status int, body any) {
	b, err := json.Marshal(body)
	if err != nil {
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", jsonContentType)
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

// logRequests logs every request at Debug. It logs the path but never the
// query string or body, which carry codes, tokens, state and secrets.
// Status 0 means the client went away before an answer.
func (e *Emulator) logRequests(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		rec := &httprec.Recorder{ResponseWriter: w}
		next.ServeHTTP(rec, r)
		e.log.LogAttrs(r.Context(), slog.LevelDebug, "zoom emulator request",
			slog.String("method", r.Method), slog.String("path", r.URL.Path),
			slog.Int("status", rec.Status), slog.Duration("duration", time.Since(start)))
	})
}

// Serve serves the emulator on ln until ctx is done, then shuts down
// gracefully (in-flight requests get 5 seconds). It returns nil after a
// shutdown caused by ctx.
func (e *Emulator) Serve(ctx context.Context, ln net.Listener) error {
	srv := &http.Server{
		Handler:           e.handler,
		ReadHeaderTimeout: 10 * time.Second,
		BaseContext:       func(net.Listener) context.Context { return ctx },
		ErrorLog:          slog.NewLogLogger(e.log.Handler(), slog.LevelWarn),
	}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	select {
	case err := <-served:
		return err
	case <-ctx.Done():
	}
	shutdownCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	err := srv.Shutdown(shutdownCtx)
	if serveErr := <-served; !errors.Is(serveErr, http.ErrServerClosed) {
		err = errors.Join(err, serveErr)
	}
	return err
}

// ListenAndServe listens on addr (for example "localhost:9090") and calls
// Serve.
func (e *Emulator) ListenAndServe(ctx context.Context, addr string) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	e.log.Info("zoom emulator listening", "addr", ln.Addr().String())
	return e.Serve(ctx, ln)
}
