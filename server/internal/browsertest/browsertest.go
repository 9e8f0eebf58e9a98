// Package browsertest drives a real headless Chromium for tests of the
// service's pages: it starts the browser with a fresh profile, opens tabs in
// separate browser contexts (one per person), fails the test on any
// JavaScript error, console error, CSP violation or failed request of a
// watched tab, saves screenshots, and runs axe-core for WCAG 2.1 A/AA.
//
// Chromium is required in CI (CI=true): there the tests fail when it is
// missing; elsewhere they skip with a note on how to install it.
package browsertest

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/cdproto/target"
	"github.com/chromedp/chromedp"
)

// AxeVersion is the axe-core release .ci/run installs into .ci/node.
const AxeVersion = "4.11.0"

// Browser is one headless Chromium.
type Browser struct {
	t        testing.TB
	ctx      context.Context
	shotsDir string
	shots    int
	axe      string
}

// inCI reports whether missing tools must fail the test rather than skip it.
func inCI() bool { return os.Getenv("CI") == "true" }

// require fails (in CI) or skips (elsewhere) when something is missing.
func require(t testing.TB, what, how string) {
	t.Helper()
	if inCI() {
		t.Fatalf("%s is missing (CI=true, so this fails instead of skipping): %s", what, how)
	}
	t.Skipf("%s is missing; %s (in CI, with CI=true, this test fails instead)", what, how)
}

// repoRoot is the directory with go.mod above the test's working directory.
func repoRoot(t testing.TB) string {
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("no go.mod above the test's directory")
		}
		dir = parent
	}
}

func chromiumPath() string {
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	return ""
}

// Start launches Chromium for the test and closes it when the test ends.
// Screenshots go to .ci/screenshots/<name>/ (git-ignored).
func Start(t testing.TB, name string) *Browser {
	t.Helper()
	path := chromiumPath()
	if path == "" {
		require(t, "chromium", "install it with `apt-get install -y chromium` (.ci/run does)")
	}
	root := repoRoot(t)
	axePath := filepath.Join(root, ".ci", "node", "node_modules", "axe-core", "axe.min.js")
	axe, err := os.ReadFile(axePath)
	if err != nil {
		require(t, "axe-core", "run `npm install --prefix .ci/node axe-core@"+AxeVersion+"` (.ci/run does)")
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(path),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1280, 900),
	)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(allocCtx)
	t.Cleanup(func() { cancel(); cancelAlloc() })
	if err := chromedp.Do(ctx); err != nil { // starts the browser
		t.Fatalf("starting chromium: %v", err)
	}
	dir := filepath.Join(root, ".ci", "screenshots", name)
	_ = os.RemoveAll(dir)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return &Browser{t: t, ctx: ctx, shotsDir: dir, axe: string(axe)}
}

// Tab is a page in its own browser context (own cookies and storage).
type Tab struct {
	b    *Browser
	Name string
	ctx  context.Context
	mu   sync.Mutex
	// problems are JavaScript errors and failed requests seen so far.
	problems []string
	// allowed are URL substrings whose HTTP errors the test expects.
	allowed []string
	// requests maps request ids to URLs, for the loading failures.
	requests map[network.RequestID]string
}

// NewTab opens a tab in a fresh browser context.
func (b *Browser) NewTab(name string) *Tab {
	b.t.Helper()
	ctx, cancel := chromedp.NewContext(b.ctx, chromedp.WithNewBrowserContext())
	b.t.Cleanup(cancel)
	tab := &Tab{b: b, Name: name, ctx: ctx, requests: map[network.RequestID]string{}}
	if err := chromedp.Listen(ctx, tab.watch); err != nil {
		b.t.Fatalf("watching tab %s: %v", name, err)
	}
	return tab
}

// Opened returns the tab that trigger makes this tab open (window.open or a
// link with a target), watched like every tab.
func (tab *Tab) Opened(t testing.TB, name string, trigger func()) *Tab {
	t.Helper()
	created := chromedp.WaitNewTarget(tab.ctx, func(info *target.Info) bool { return info.Type == "page" })
	trigger()
	var id target.ID
	select {
	case id = <-created:
	case <-time.After(30 * time.Second):
		t.Fatalf("tab %s opened no tab", tab.Name)
	}
	ctx, cancel := chromedp.NewContext(tab.ctx, chromedp.WithTargetID(id))
	t.Cleanup(cancel)
	opened := &Tab{b: tab.b, Name: name, ctx: ctx, requests: map[network.RequestID]string{}}
	if err := chromedp.Listen(ctx, opened.watch); err != nil {
		t.Fatalf("watching tab %s: %v", name, err)
	}
	return opened
}

// Ctx is the tab's chromedp context, for actions this package lacks.
func (tab *Tab) Ctx() context.Context { return tab.ctx }

func (tab *Tab) watch(ev any) {
	tab.mu.Lock()
	defer tab.mu.Unlock()
	switch ev := ev.(type) {
	case *runtime.EventExceptionThrown:
		d := ev.ExceptionDetails
		msg := d.Text
		if d.Exception != nil && d.Exception.Description != "" {
			msg = d.Exception.Description
		}
		tab.problems = append(tab.problems, fmt.Sprintf("JavaScript exception at %s:%d: %s", d.URL, d.LineNumber+1, msg))
	case *runtime.EventConsoleAPICalled:
		if ev.Type == runtime.ConsoleAPICalledTypeError || ev.Type == runtime.ConsoleAPICalledTypeWarning {
			var parts []string
			for _, a := range ev.Args {
				parts = append(parts, strings.Trim(string(a.Value), `"`)+a.Description)
			}
			tab.problems = append(tab.problems, fmt.Sprintf("console.%s: %s", ev.Type, strings.Join(parts, " ")))
		}
	case *log.EventEntryAdded:
		// CSP violations, failed resource loads and the like
		if ev.Entry.Level == log.EntryLevelError && !tab.allowedURL(ev.Entry.URL) {
			tab.problems = append(tab.problems, fmt.Sprintf("browser log error (%s): %s %s", ev.Entry.Source, ev.Entry.Text, ev.Entry.URL))
		}
	case *network.EventRequestWillBeSent:
		tab.requests[ev.RequestID] = ev.Request.URL
	case *network.EventResponseReceived:
		if ev.Response.Status >= 400 && !tab.allowedURL(ev.Response.URL) {
			tab.problems = append(tab.problems, fmt.Sprintf("HTTP %d for %s", ev.Response.Status, ev.Response.URL))
		}
	case *network.EventLoadingFailed:
		// A navigation away cancels the page's pending polls: not a failure.
		if u := tab.requests[ev.RequestID]; !ev.Canceled && !tab.allowedURL(u) {
			tab.problems = append(tab.problems, fmt.Sprintf("request failed: %s %s", ev.ErrorText, u))
		}
	}
}

func (tab *Tab) allowedURL(u string) bool {
	for _, a := range tab.allowed {
		if u != "" && strings.Contains(u, a) {
			return true
		}
	}
	return false
}

// AllowHTTPErrors lets responses whose URL contains urlPart fail, for pages
// that are expected to refuse (such as Zoom refusing a non-admin).
func (tab *Tab) AllowHTTPErrors(urlPart string) {
	tab.mu.Lock()
	defer tab.mu.Unlock()
	tab.allowed = append(tab.allowed, urlPart)
}

// Check fails the test with every JavaScript error and failed request seen
// since the last Check.
func (tab *Tab) Check(t testing.TB) {
	t.Helper()
	tab.mu.Lock()
	problems := tab.problems
	tab.problems = nil
	tab.mu.Unlock()
	for _, p := range problems {
		t.Errorf("tab %s: %s", tab.Name, p)
	}
}

// Do runs actions, failing the test on an error.
func (tab *Tab) Do(t testing.TB, what string, actions ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	ctx, cancel := context.WithTimeout(tab.ctx, 20*time.Second)
	defer cancel()
	if err := chromedp.Do(ctx, actions...); err != nil {
		tab.Screenshot(t, "failed-"+sanitize(what))
		t.Fatalf("tab %s: %s: %v", tab.Name, what, err)
	}
}

// Eval evaluates a JavaScript expression and decodes its result.
func Eval[T any](t testing.TB, tab *Tab, expr string) T {
	t.Helper()
	ctx, cancel := context.WithTimeout(tab.ctx, 20*time.Second)
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](expr, chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatalf("tab %s: evaluating %s: %v", tab.Name, expr, err)
	}
	return v
}

// WaitFor polls a JavaScript condition until it is true.
func (tab *Tab) WaitFor(t testing.TB, what, cond string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second) // generous: CI machines can be busy
	for {
		ctx, cancel := context.WithTimeout(tab.ctx, 5*time.Second)
		ok, err := chromedp.Run(ctx, chromedp.Evaluate[bool]("Boolean("+cond+")"))
		cancel()
		if err == nil && ok {
			return
		}
		if time.Now().After(deadline) {
			tab.Screenshot(t, "timeout-"+sanitize(what))
			body, _ := chromedp.Run(tab.ctx, chromedp.Evaluate[string]("document.body ? document.body.innerText : ''"))
			t.Fatalf("tab %s: waiting for %s (%s): last error %v; the page says:\n%s", tab.Name, what, cond, err, body)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// Screenshot saves the viewport as a PNG under the browser's screenshot
// folder, numbered in the order taken, and returns its path.
func (tab *Tab) Screenshot(t testing.TB, name string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(tab.ctx, 10*time.Second)
	defer cancel()
	png, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
	if err != nil {
		t.Errorf("tab %s: screenshot %s: %v", tab.Name, name, err)
		return ""
	}
	tab.b.shots++
	path := filepath.Join(tab.b.shotsDir, fmt.Sprintf("%02d-%s.png", tab.b.shots, sanitize(name)))
	if err := os.WriteFile(path, png, 0o644); err != nil {
		t.Error(err)
	}
	return path
}

func sanitize(s string) string {
	return strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' {
			return r
		}
		return '-'
	}, s)
}

// Violation is one axe-core finding.
type Violation struct {
	ID     string   `json:"id"`
	Impact string   `json:"impact"`
	Help   string   `json:"help"`
	Nodes  []string `json:"nodes"`
}

// Axe runs axe-core on the tab's page for WCAG 2.1 A and AA and fails the
// test with each violation.
func (tab *Tab) Axe(t testing.TB, page string) {
	t.Helper()
	if Eval[bool](t, tab, "typeof window.axe === 'undefined'") {
		// DevTools evaluation is not subject to the page's CSP.
		Eval[chromedp.Void](t, tab, tab.b.axe+"\n;true")
	}
	raw := Eval[string](t, tab, `axe.run(document, {runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']}})
		.then(r => JSON.stringify(r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,
			nodes: v.nodes.slice(0, 5).map(n => n.target.join(' ') + ' ' + n.failureSummary)}))))`)
	var vs []Violation
	if err := json.Unmarshal([]byte(raw), &vs); err != nil {
		t.Fatalf("axe answer: %v: %s", err, raw)
	}
	for _, v := range vs {
		t.Errorf("axe on %s (%s): %s [%s]: %s", page, tab.Name, v.ID, v.Impact, strings.Join(append([]string{v.Help}, v.Nodes...), "\n\t"))
	}
}
