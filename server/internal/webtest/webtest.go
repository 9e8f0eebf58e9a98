// Package webtest plays a person's browser in tests of the OAuth flow: it
// never follows redirects, so every hop can be checked, and it can sign in
// on the Zoom emulator's consent page.
package webtest

import (
	"bytes"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// Page is what the browser got for one request.
type Page struct {
	Status   int
	Location string
	Body     string
	Header   http.Header
}

// Browser is a no-redirect HTTP client bound to a test, with its own
// cookies (as one person's browser has).
type Browser struct {
	t      testing.TB
	client *http.Client
}

// NewBrowser returns a Browser for t.
func NewBrowser(t testing.TB) *Browser {
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	return &Browser{t: t, client: &http.Client{
		Timeout:       10 * time.Second,
		Jar:           jar,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}}
}

// Get loads rawURL.
func (b *Browser) Get(rawURL string) Page {
	b.t.Helper()
	resp, err := b.client.Get(rawURL)
	if err != nil {
		b.t.Fatalf("GET %s: %v", rawURL, err)
	}
	return read(b.t, resp)
}

func read(t testing.TB, resp *http.Response) Page {
	t.Helper()
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return Page{Status: resp.StatusCode, Location: resp.Header.Get("Location"), Body: string(body), Header: resp.Header}
}

// SignInAtZoom plays the person on the emulator's consent page at authorize:
// userID signs in and clicks decision ("allow" or "deny"). It returns where
// Zoom sends the browser next (the app's callback), or, when Zoom does not
// redirect, the page it shows.
func (b *Browser) SignInAtZoom(authorize *url.URL, userID, decision string) (callback string, zoomPage Page) {
	b.t.Helper()
	if p := b.Get(authorize.String()); p.Status != http.StatusOK || !strings.Contains(p.Body, userID) {
		b.t.Fatalf("Zoom sign-in page: HTTP %d: %s", p.Status, p.Body)
	}
	form := authorize.Query()
	form.Set("user_id", userID)
	form.Set("decision", decision)
	target := *authorize
	target.RawQuery = ""
	resp, err := b.client.PostForm(target.String(), form)
	if err != nil {
		b.t.Fatal(err)
	}
	p := read(b.t, resp)
	if p.Status == http.StatusFound {
		return p.Location, Page{}
	}
	return "", p
}

// WantPage fails the test unless p has status and contains every word.
func WantPage(t testing.TB, p Page, status int, words ...string) {
	t.Helper()
	if p.Status != status {
		t.Fatalf("page: HTTP %d, want %d: %s", p.Status, status, p.Body)
	}
	for _, w := range words {
		if !strings.Contains(p.Body, w) {
			t.Fatalf("page lacks %q: %s", w, p.Body)
		}
	}
}

// FreeAddr reserves a loopback address for a server the test starts later
// (and may restart on the same address). The port is drawn below Linux's
// ephemeral range (32768 and up): a port the kernel hands out for ":0" is
// also one it may give an outgoing connection (to Redis, say) before the
// server binds it, which failed tests with "address already in use". Ports
// are never handed out twice in one process.
func FreeAddr(t testing.TB) string {
	t.Helper()
	freeMu.Lock()
	defer freeMu.Unlock()
	for range 10000 {
		port := 10000 + rand.IntN(32768-10000)
		if freeTaken[port] {
			continue
		}
		addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
		ln, err := net.Listen("tcp", addr)
		if err != nil {
			continue
		}
		ln.Close()
		freeTaken[port] = true
		return addr
	}
	t.Fatal("webtest: no free loopback port below 32768")
	return ""
}

var (
	freeMu    sync.Mutex
	freeTaken = map[int]bool{}
)

// LogBuffer collects a server's log, written from many goroutines, so a
// test can check what was (and was not) logged.
type LogBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *LogBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *LogBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
