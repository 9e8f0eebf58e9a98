package web

import (
	"net/http"
	"time"
)

// LongLived serves requests that stay open, such as event streams, which
// the server's WriteTimeout (a deadline for the whole response) would cut.
// It lifts that deadline for the request, and instead gives every write
// writeTimeout to complete: a client that stops reading is still dropped,
// one that keeps reading stays as long as it likes. (ReadTimeout does not
// need this: it bounds reading the request, and net/http lifts it once the
// request is read.)
func LongLived(next http.Handler, writeTimeout time.Duration) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rc := http.NewResponseController(w)
		_ = rc.SetWriteDeadline(time.Now().Add(writeTimeout))
		next.ServeHTTP(&writeDeadlines{ResponseWriter: w, rc: rc, timeout: writeTimeout}, r)
	})
}

// writeDeadlines moves the connection's write deadline before each write.
type writeDeadlines struct {
	http.ResponseWriter
	rc      *http.ResponseController
	timeout time.Duration
}

func (w *writeDeadlines) extend() { _ = w.rc.SetWriteDeadline(time.Now().Add(w.timeout)) }

func (w *writeDeadlines) WriteHeader(status int) {
	w.extend()
	w.ResponseWriter.WriteHeader(status)
}

func (w *writeDeadlines) Write(p []byte) (int, error) {
	w.extend()
	return w.ResponseWriter.Write(p)
}

// FlushError is what http.ResponseController.Flush calls.
func (w *writeDeadlines) FlushError() error {
	w.extend()
	return w.rc.Flush()
}

// Unwrap lets http.ResponseController reach the server's writer.
func (w *writeDeadlines) Unwrap() http.ResponseWriter { return w.ResponseWriter }
