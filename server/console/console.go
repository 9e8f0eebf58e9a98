// Package console serves the admin console: the Zoom integration pages of
// the scheduling product (organization connection, options, connected users,
// activity, and a member's own Zoom). The pages are static files embedded in
// the binary; they are a web client like any other and talk only to the
// public REST gateway with the caller's bearer token, so this package holds
// no business logic: it serves files under a strict Content-Security-Policy
// and, in dev mode only, mints tokens for the demo organization's people.
package console

import (
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"net/url"
	"strings"
)

// Path is where the console is mounted.
const Path = "/console/"

//go:embed static
var staticFiles embed.FS

// Config configures the console.
type Config struct {
	// FrameAncestors are the CSP frame-ancestors sources: the pages of the
	// host product allowed to embed the console. Empty means none.
	FrameAncestors []string
	// DevSignIn enables the dev-mode sign-in page; nil outside dev mode, and
	// then its endpoint does not exist.
	DevSignIn *DevSignIn
}

// ParseFrameAncestors reads ZOOMCONNECT_CONSOLE_FRAME_ANCESTORS: sources
// separated by spaces or commas, each 'self', 'none' (alone) or an http(s)
// origin, optionally with a leading "*." wildcard host. Anything else
// (paths, other schemes, quotes in the wrong place) is refused, since it
// would end up verbatim in a security header.
func ParseFrameAncestors(spec string) ([]string, error) {
	fields := strings.FieldsFunc(spec, func(r rune) bool { return r == ' ' || r == ',' || r == '\t' })
	var out []string
	for _, f := range fields {
		switch f {
		case "'none'":
			if len(fields) > 1 {
				return nil, errors.New("'none' cannot be combined with other sources")
			}
			return nil, nil
		case "'self'":
			out = append(out, f)
			continue
		}
		u, err := url.Parse(f)
		host := strings.TrimPrefix(u.Host, "*.")
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || host == "" || strings.ContainsAny(host, "*;'\"") ||
			(u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Fragment != "" || u.User != nil {
			return nil, fmt.Errorf("%q is not 'self', 'none' or an origin such as https://app.example.com", f)
		}
		out = append(out, u.Scheme+"://"+u.Host)
	}
	return out, nil
}

// Handler serves the console.
type Handler struct {
	cfg    Config
	files  http.Handler
	csp    string
	config []byte
}

// clientConfig is /console/config.json: what the pages need to know about
// this deployment before anyone signs in.
type clientConfig struct {
	// DevSignIn lists the people of the demo org in dev mode.
	DevSignIn []Person `json:"devSignIn,omitempty"`
	// HostOrigins may hand the console a token with postMessage.
	HostOrigins []string `json:"hostOrigins"`
}

// New builds the console handler.
func New(cfg Config) (*Handler, error) {
	sub, err := fs.Sub(staticFiles, "static")
	if err != nil {
		return nil, err
	}
	ancestors := "'none'"
	if len(cfg.FrameAncestors) > 0 {
		ancestors = strings.Join(cfg.FrameAncestors, " ")
	}
	cc := clientConfig{HostOrigins: []string{}}
	for _, a := range cfg.FrameAncestors {
		// only exact origins may post a token; wildcards only allow framing
		if a != "'self'" && !strings.Contains(a, "*") {
			cc.HostOrigins = append(cc.HostOrigins, a)
		}
	}
	if cfg.DevSignIn != nil {
		if err := cfg.DevSignIn.validate(); err != nil {
			return nil, err
		}
		cc.DevSignIn = cfg.DevSignIn.People
	}
	raw, err := json.Marshal(cc)
	if err != nil {
		return nil, err
	}
	return &Handler{
		cfg:   cfg,
		files: http.StripPrefix(strings.TrimSuffix(Path, "/"), http.FileServerFS(sub)),
		// Everything the pages load comes from this origin; no inline script
		// or style, no plugins, no framing except by the configured hosts.
		csp: "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; " +
			"base-uri 'none'; form-action 'self'; frame-ancestors " + ancestors,
		config: raw,
	}, nil
}

// Register mounts the console on mux: the pages, config.json and, in dev
// mode only, the dev sign-in endpoint.
func (h *Handler) Register(mux *http.ServeMux) {
	mux.Handle("GET "+Path, h.secured(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != Path && strings.HasSuffix(r.URL.Path, "/") {
			http.NotFound(w, r) // no directory listings
			return
		}
		h.files.ServeHTTP(w, r)
	})))
	mux.Handle("GET /console", http.RedirectHandler(Path, http.StatusMovedPermanently))
	mux.Handle("GET "+Path+"config.json", h.secured(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", "no-store")
		_, _ = w.Write(h.config)
	})))
	// the OAuth pages and the dev emulator's pages get the same icon
	mux.HandleFunc("GET /favicon.ico", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "image/svg+xml")
		w.Header().Set("Cache-Control", "public, max-age=86400")
		http.ServeFileFS(w, r, staticFiles, "static/favicon.svg")
	})
	if h.cfg.DevSignIn != nil {
		mux.Handle("POST "+DevTokenPath, h.secured(http.HandlerFunc(h.cfg.DevSignIn.mint)))
	}
}

// secured adds the security headers every console response carries.
func (h *Handler) secured(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hd := w.Header()
		hd.Set("Content-Security-Policy", h.csp)
		hd.Set("X-Content-Type-Options", "nosniff")
		hd.Set("Referrer-Policy", "no-referrer")
		if len(h.cfg.FrameAncestors) == 0 {
			hd.Set("X-Frame-Options", "DENY")
		}
		if hd.Get("Cache-Control") == "" {
			// the files change with the binary; revalidate instead of caching stale pages
			hd.Set("Cache-Control", "no-cache")
		}
		next.ServeHTTP(w, r)
	})
}
