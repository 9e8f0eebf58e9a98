// Package web serves the plain HTTP endpoints beside the REST gateway: the
// shareable install link, the OAuth callback (both answer people in a
// browser, so they render pages), and the health probes.
package web

import (
	"context"
	"html/template"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/zoomconnect/zoomconnect/server/connection"
	"github.com/zoomconnect/zoomconnect/server/errs"
	"github.com/zoomconnect/zoomconnect/server/secrets"
	"google.golang.org/grpc/codes"
)

// OAuthPages handles /oauth/zoom/install/{link}, /oauth/zoom/personal/{state}
// and /oauth/zoom/callback.
type OAuthPages struct {
	Connections *connection.Service
	Logger      *slog.Logger
	// BindingTTL is the life of the browser-binding cookie (the OAuth
	// state's lifetime).
	BindingTTL time.Duration
	// SecureCookies marks cookies Secure (the public URL is https).
	SecureCookies bool
}

// Register adds the OAuth endpoints to mux.
func (h *OAuthPages) Register(mux *http.ServeMux) {
	mux.HandleFunc("GET "+connection.InstallPath+"{link}", h.install)
	mux.HandleFunc("GET "+connection.PersonalPath+"{state}", h.personal)
	mux.HandleFunc("GET "+connection.CallbackPath, h.callback)
}

// bindingCookie holds a random secret of the member's browser; a personal
// connection attempt is bound to it on the way to Zoom and checked when
// Zoom sends the browser back (OAuth login-CSRF defence). HttpOnly, so no
// script reads it; SameSite=Lax, so Zoom's top-level redirect back carries
// it; scoped to the OAuth paths; as short-lived as the attempt.
const bindingCookie = "zoomconnect_oauth_browser"

// browserKey returns the browser's binding secret, if it sent a
// well-formed one.
func browserKey(r *http.Request) string {
	c, err := r.Cookie(bindingCookie)
	if err != nil || len(c.Value) < 32 || len(c.Value) > 64 || strings.Trim(c.Value, base64URL) != "" {
		return ""
	}
	return c.Value
}

const base64URL = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"

func (h *OAuthPages) personal(w http.ResponseWriter, r *http.Request) {
	key := browserKey(r)
	if key == "" {
		key = secrets.NewToken()
	}
	target, err := h.Connections.BeginPersonal(r.Context(), r.PathValue("state"), key)
	if err != nil {
		h.fail(w, r, "This Zoom sign-in link does not work", err)
		return
	}
	http.SetCookie(w, &http.Cookie{Name: bindingCookie, Value: key, Path: "/oauth/zoom/",
		MaxAge: int(h.BindingTTL / time.Second), HttpOnly: true, Secure: h.SecureCookies, SameSite: http.SameSiteLaxMode})
	w.Header().Set("Referrer-Policy", "no-referrer")
	w.Header().Set("Cache-Control", "no-store")
	http.Redirect(w, r, target, http.StatusFound)
}

func (h *OAuthPages) install(w http.ResponseWriter, r *http.Request) {
	target, err := h.Connections.BeginInstall(r.Context(), r.PathValue("link"))
	if err != nil {
		h.fail(w, r, "This install link does not work", err)
		return
	}
	noFraming(w.Header())
	w.Header().Set("Referrer-Policy", "no-referrer")
	w.Header().Set("Cache-Control", "no-store")
	http.Redirect(w, r, target, http.StatusFound)
}

func (h *OAuthPages) callback(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	if zoomErr := q.Get("error"); zoomErr != "" {
		err := h.Connections.Deny(r.Context(), q.Get("state"))
		if e := errs.As(err); e != nil && e.Reason == connection.ReasonZoomAccessDenied {
			h.Logger.InfoContext(r.Context(), "Zoom authorization declined", "zoom_error", zoomErr)
		}
		h.fail(w, r, "Zoom was not connected", err)
		return
	}
	done, err := h.Connections.Complete(r.Context(), q.Get("state"), q.Get("code"), browserKey(r))
	if err != nil {
		h.fail(w, r, "Zoom was not connected", err)
		return
	}
	lines := []string{
		"Your scheduling organization " + done.OrgID + " is now connected to Zoom account " + done.ZoomAccountID + ".",
		"Approved by Zoom admin " + done.ZoomEmail + ". Every member can now get Zoom meetings on their bookings; personal Zoom accounts stay as they are.",
	}
	if done.UserID != "" {
		who := done.ZoomEmail
		if done.ZoomName != "" {
			who = done.ZoomName + " (" + done.ZoomEmail + ")"
		}
		lines = []string{
			"You approved as the Zoom user " + who + " of Zoom account " + done.ZoomAccountID + ".",
			"That Zoom user is now your personal Zoom connection: it hosts your bookings' meetings, ahead of your organization's Zoom connection.",
			"If this is not your Zoom user, disconnect your personal Zoom account in the app and connect again.",
		}
	}
	render(w, http.StatusOK, page{Title: "Zoom is connected", Lines: append(lines, "You can close this window."), OK: true})
}

// fail renders the page for a failed step, with the status and reason the
// one error classification (errs) gives err on every path. Messages of
// *errs.Error are written for people; anything else is logged and shown as
// a generic fault.
func (h *OAuthPages) fail(w http.ResponseWriter, r *http.Request, title string, err error) {
	st, hidden := errs.ToStatus(err)
	if hidden {
		// r.Pattern, not the path: the path of an install link is a secret.
		h.Logger.ErrorContext(r.Context(), "OAuth page failed", "route", r.Pattern, "error", err)
	}
	msg := st.Message()
	if st.Code() == codes.Internal {
		msg = "Something went wrong on our side. Please try again in a moment."
	}
	render(w, errs.HTTPStatus(st), page{Title: title, Lines: []string{msg}, Reason: errs.ReasonName(errs.ReasonOf(st))})
}

type page struct {
	Title  string
	Lines  []string
	Reason string
	OK     bool
}

var pageTemplate = template.Must(template.New("page").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer"><title>{{.Title}} · zoomconnect</title>
<style>body{font-family:system-ui,sans-serif;max-width:40rem;margin:4rem auto;padding:0 1rem;line-height:1.5}
h1{color:{{if .OK}}#0b6b2b{{else}}#8a1c1c{{end}}}code{color:#555}</style></head>
<body><h1>{{.Title}}</h1>{{range .Lines}}<p>{{.}}</p>{{end}}
{{if .Reason}}<p><code>reason: {{.Reason}}</code></p>{{end}}</body></html>
`))

// noFraming forbids other sites to frame the OAuth pages (clickjacking: a
// framed consent step is a click the admin did not mean). Browsers that
// ignore the CSP's frame-ancestors honour X-Frame-Options.
func noFraming(h http.Header) {
	if h.Get("Content-Security-Policy") == "" {
		h.Set("Content-Security-Policy", "frame-ancestors 'none'")
	}
	h.Set("X-Frame-Options", "DENY")
}

func render(w http.ResponseWriter, status int, p page) {
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'")
	noFraming(h)
	h.Set("Referrer-Policy", "no-referrer")
	w.WriteHeader(status)
	_ = pageTemplate.Execute(w, p)
}

// NotFound answers a path no handler serves with the API's error body.
func NotFound(w http.ResponseWriter, r *http.Request) {
	errs.WriteHTTP(w, errs.NotFound(errs.ReasonRouteNotFound, "no route matches %s %s", r.Method, r.URL.Path))
}

// Probes serves /healthz (the process is up) and /readyz (it can serve:
// the store answers).
type Probes struct {
	Ready func(ctx context.Context) error
}

// Register adds the probes to mux.
func (p Probes) Register(mux *http.ServeMux) {
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		writeText(w, http.StatusOK, "ok")
	})
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) {
		if err := p.Ready(r.Context()); err != nil {
			writeText(w, http.StatusServiceUnavailable, "not ready: store unavailable")
			return
		}
		writeText(w, http.StatusOK, "ready")
	})
}

func writeText(w http.ResponseWriter, status int, msg string) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write([]byte(strings.TrimSpace(msg) + "\n"))
}
