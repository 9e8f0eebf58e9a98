package console

import (
	"context"
	"encoding/json"
	"io"
	"io/fs"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"regexp"
	"slices"
	"strings"
	"testing"
)

func TestParseFrameAncestors(t *testing.T) {
	for spec, want := range map[string][]string{
		"":                         nil,
		"'none'":                   nil,
		"'self'":                   {"'self'"},
		"https://app.example.com":  {"https://app.example.com"},
		"https://app.example.com/": {"https://app.example.com"},
		"'self', https://a.example.com  http://localhost:3000": {"'self'", "https://a.example.com", "http://localhost:3000"},
		"https://*.example.com":                                {"https://*.example.com"},
	} {
		got, err := ParseFrameAncestors(spec)
		if err != nil || !slices.Equal(got, want) {
			t.Errorf("ParseFrameAncestors(%q) = %q, %v; want %q", spec, got, err, want)
		}
	}
	for _, bad := range []string{
		"'none' https://a.example.com", "javascript:alert(1)", "https://a.example.com/path", "https://a.example.com?x",
		"https://a.example.com;script-src *", "*", "app.example.com", "https://*", "'unsafe-inline'", "https://user@a.example.com",
	} {
		if got, err := ParseFrameAncestors(bad); err == nil {
			t.Errorf("ParseFrameAncestors(%q) = %q, want an error", bad, got)
		}
	}
}

func serve(t *testing.T, cfg Config) *httptest.Server {
	t.Helper()
	h, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	h.Register(mux)
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv
}

func get(t *testing.T, url string) (*http.Response, string) {
	t.Helper()
	res, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	return res, string(body)
}

// Every file the console serves carries the strict policy, and framing
// follows the configuration.
func TestSecurityHeaders(t *testing.T) {
	var files []string
	if err := fs.WalkDir(staticFiles, "static", func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			files = append(files, strings.TrimPrefix(p, "static/"))
		}
		return err
	}); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		ancestors []string
		want      string
		deny      bool
	}{
		{nil, "frame-ancestors 'none'", true},
		{[]string{"'self'", "https://app.example.com"}, "frame-ancestors 'self' https://app.example.com", false},
	} {
		srv := serve(t, Config{FrameAncestors: tc.ancestors})
		for _, f := range append(files, "", "config.json") {
			res, _ := get(t, srv.URL+Path+f)
			if res.StatusCode != http.StatusOK {
				t.Errorf("%s: HTTP %d", f, res.StatusCode)
			}
			csp := res.Header.Get("Content-Security-Policy")
			for _, part := range []string{"default-src 'none'", "script-src 'self'", "style-src 'self'", "connect-src 'self'", "base-uri 'none'", tc.want} {
				if !strings.Contains(csp, part) {
					t.Errorf("%s: CSP %q lacks %q", f, csp, part)
				}
			}
			if strings.Contains(csp, "unsafe") {
				t.Errorf("%s: CSP allows unsafe sources: %q", f, csp)
			}
			if got := res.Header.Get("X-Frame-Options") == "DENY"; got != tc.deny {
				t.Errorf("%s: X-Frame-Options DENY = %v, want %v", f, got, tc.deny)
			}
			if res.Header.Get("X-Content-Type-Options") != "nosniff" || res.Header.Get("Referrer-Policy") != "no-referrer" {
				t.Errorf("%s: headers %v", f, res.Header)
			}
		}
	}
}

// The pages have no inline script or style, which the policy would block,
// and never write markup from strings.
func TestStaticFilesNeedNoUnsafeInline(t *testing.T) {
	inline := regexp.MustCompile(`<script(?:\s[^>]*)?>\s*[^<\s]|<style|\sstyle=|\son[a-z]+=`)
	err := fs.WalkDir(staticFiles, "static", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		raw, err := staticFiles.ReadFile(p)
		if err != nil {
			return err
		}
		src := string(raw)
		switch {
		case strings.HasSuffix(p, ".html"):
			if m := inline.FindString(src); m != "" {
				t.Errorf("%s has inline script or style: %q", p, m)
			}
		case strings.HasSuffix(p, ".js"):
			for _, banned := range []string{"innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval(", "new Function", ".style.", "setAttribute('style'"} {
				if strings.Contains(src, banned) {
					t.Errorf("%s uses %s", p, banned)
				}
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// Both catalogs have exactly the same keys, and every key the scripts name
// literally is in them.
func TestCatalogsAreComplete(t *testing.T) {
	load := func(lang string) map[string]string {
		raw, err := staticFiles.ReadFile("static/i18n/" + lang + ".json")
		if err != nil {
			t.Fatal(err)
		}
		m := map[string]string{}
		if err := json.Unmarshal(raw, &m); err != nil {
			t.Fatalf("%s.json: %v", lang, err)
		}
		return m
	}
	en, de := load("en"), load("de")
	for k := range en {
		if de[k] == "" {
			t.Errorf("de.json lacks %s", k)
		}
	}
	for k := range de {
		if en[k] == "" {
			t.Errorf("en.json lacks %s", k)
		}
	}
	placeholders := regexp.MustCompile(`\{\w+\}`)
	for k, v := range en {
		if a, b := placeholders.FindAllString(v, -1), placeholders.FindAllString(de[k], -1); !slices.Equal(slices.Sorted(slices.Values(a)), slices.Sorted(slices.Values(b))) {
			t.Errorf("%s: placeholders differ: en %v, de %v", k, a, b)
		}
	}
	literal := regexp.MustCompile(`\bt\('([a-zA-Z0-9_.]+)'`)
	used := 0
	_ = fs.WalkDir(staticFiles, "static/js", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		raw, _ := staticFiles.ReadFile(p)
		for _, m := range literal.FindAllStringSubmatch(string(raw), -1) {
			used++
			if _, ok := en[m[1]]; !ok {
				t.Errorf("%s uses %s, which the catalogs lack", p, m[1])
			}
		}
		return nil
	})
	if used < 50 {
		t.Fatalf("found only %d catalog keys in the scripts: the pattern is wrong", used)
	}
}

func devSignIn(registered *[]string) *DevSignIn {
	return &DevSignIn{
		OrgID: DemoOrgID, People: DemoPeople, Logger: slog.New(slog.DiscardHandler),
		Mint: func(p Person) (string, error) { return "token-for-" + p.ID, nil },
		Register: func(_ context.Context, p Person) error {
			*registered = append(*registered, p.ID)
			return nil
		},
	}
}

func post(t *testing.T, url, contentType, body string) (int, map[string]string) {
	t.Helper()
	res, err := http.Post(url, contentType, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	out := map[string]string{}
	_ = json.NewDecoder(res.Body).Decode(&out)
	if res.Header.Get("Cache-Control") != "no-store" && res.StatusCode != http.StatusNotFound && res.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("dev token answer is cacheable: %v", res.Header)
	}
	return res.StatusCode, out
}

func TestDevSignIn(t *testing.T) {
	var registered []string
	srv := serve(t, Config{DevSignIn: devSignIn(&registered)})
	_, cfg := get(t, srv.URL+Path+"config.json")
	if !strings.Contains(cfg, `"devSignIn":[{"id":"olivia"`) {
		t.Fatalf("config.json = %s", cfg)
	}
	status, out := post(t, srv.URL+DevTokenPath, "application/json", `{"person":"mia"}`)
	if status != http.StatusOK || out["token"] != "token-for-mia" {
		t.Fatalf("dev token: HTTP %d %v", status, out)
	}
	if !slices.Equal(registered, []string{"olivia", "adam", "mia"}) {
		t.Fatalf("registered %v, want every demo person", registered)
	}
	for _, tc := range []struct {
		contentType, body string
		status            int
	}{
		{"application/x-www-form-urlencoded", "person=mia", http.StatusUnsupportedMediaType}, // a cross-site form cannot mint
		{"application/json", `{"person":"mallory"}`, http.StatusNotFound},
		{"application/json", `{"person":`, http.StatusBadRequest},
		{"application/json", `{"person":"` + strings.Repeat("a", 2000) + `"}`, http.StatusBadRequest},
	} {
		if status, out := post(t, srv.URL+DevTokenPath, tc.contentType, tc.body); status != tc.status || out["token"] != "" || out["message"] == "" {
			t.Errorf("%s %q: HTTP %d %v, want %d with a message", tc.contentType, tc.body[:min(len(tc.body), 30)], status, out, tc.status)
		}
	}
}

// Outside dev mode the endpoint does not exist and config.json offers no
// sign-in.
func TestNoDirectoryListings(t *testing.T) {
	srv := serve(t, Config{})
	for _, dir := range []string{"js/", "js/pages/", "i18n/"} {
		if res, body := get(t, srv.URL+Path+dir); res.StatusCode != http.StatusNotFound || strings.Contains(body, ".js") || strings.Contains(body, ".json") {
			t.Errorf("%s: HTTP %d %s", dir, res.StatusCode, body)
		}
	}
}

func TestNoDevSignInOutsideDevMode(t *testing.T) {
	srv := serve(t, Config{FrameAncestors: []string{"https://app.example.com"}})
	_, cfg := get(t, srv.URL+Path+"config.json")
	if cfg != `{"hostOrigins":["https://app.example.com"]}` {
		t.Fatalf("config.json = %s", cfg)
	}
	if status, out := post(t, srv.URL+DevTokenPath, "application/json", `{"person":"olivia"}`); status/100 == 2 || out["token"] != "" {
		t.Fatalf("dev token outside dev mode: HTTP %d %v", status, out)
	}
	if res, _ := get(t, srv.URL+DevTokenPath); res.StatusCode != http.StatusNotFound {
		t.Fatalf("GET %s: HTTP %d, want 404", DevTokenPath, res.StatusCode)
	}
}
