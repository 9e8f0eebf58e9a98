package web

import (
	"bytes"
	"errors"
	"io"
	"net/http"

	"github.com/zoomconnect/zoomconnect/server/errs"
)

// APIGuard checks a REST request before anything reads its body: first the
// caller's token, then the size of the body, so that nobody can make the
// service read (or the gateway decode) more than MaxBodyBytes, and nobody
// without a valid token can make it read anything.
type APIGuard struct {
	MaxBodyBytes int64
	// Authenticate checks the caller's credentials in the request headers
	// (every API route needs them).
	Authenticate func(r *http.Request) error
	// Fail writes err as the API's error response.
	Fail func(w http.ResponseWriter, r *http.Request, err error)
}

// Wrap returns next behind the guard.
func (g APIGuard) Wrap(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.ContentLength == 0 { // no body: the gRPC interceptors check the rest
			next.ServeHTTP(w, r)
			return
		}
		if err := g.Authenticate(r); err != nil {
			g.Fail(w, r, err)
			return
		}
		tooLarge := errs.New(errs.KindResourceExhausted, errs.ReasonRequestTooLarge,
			"the request body is larger than %d bytes", g.MaxBodyBytes)
		if r.ContentLength > g.MaxBodyBytes {
			g.Fail(w, r, tooLarge)
			return
		}
		// Read here (at most the limit) rather than hand the gateway a
		// MaxBytesReader: its decoder would report the cut as malformed JSON.
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, g.MaxBodyBytes))
		var maxErr *http.MaxBytesError
		switch {
		case errors.As(err, &maxErr):
			g.Fail(w, r, tooLarge)
			return
		case err != nil:
			g.Fail(w, r, errs.New(errs.KindInvalidArgument, errs.ReasonInvalidBody, "the request body could not be read"))
			return
		}
		r.Body, r.ContentLength = io.NopCloser(bytes.NewReader(body)), int64(len(body))
		next.ServeHTTP(w, r)
	})
}
