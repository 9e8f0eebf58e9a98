// Package httprec records the status an http.Handler writes, for request
// logs, without hiding what the underlying ResponseWriter can do.
package httprec

import "net/http"

// Recorder remembers the first status written through it (200 when the
// handler writes a body without one). It passes flushes on (grpc-gateway
// streams need them) and unwraps for http.ResponseController.
type Recorder struct {
	http.ResponseWriter
	Status int
}

func (r *Recorder) WriteHeader(code int) {
	if r.Status == 0 {
		r.Status = code
	}
	r.ResponseWriter.WriteHeader(code)
}

func (r *Recorder) Write(p []byte) (int, error) {
	if r.Status == 0 {
		r.Status = http.StatusOK
	}
	return r.ResponseWriter.Write(p)
}

// Flush sends buffered data to the client.
func (r *Recorder) Flush() { _ = http.NewResponseController(r.ResponseWriter).Flush() }

// Unwrap lets http.ResponseController reach the server's ResponseWriter.
func (r *Recorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }
