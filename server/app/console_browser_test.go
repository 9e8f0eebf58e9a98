package app_test

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"
	"github.com/zoomconnect/zoomconnect/server/app"
	"github.com/zoomconnect/zoomconnect/server/auth"
	"github.com/zoomconnect/zoomconnect/server/config"
	"github.com/zoomconnect/zoomconnect/server/internal/apptest"
	bt "github.com/zoomconnect/zoomconnect/server/internal/browsertest"
	"github.com/zoomconnect/zoomconnect/server/internal/webtest"
	"github.com/zoomconnect/zoomconnect/server/zoomemu"
)

// startDevApp runs the service as `go run ./server/cmd/zoomconnect` does:
// no Zoom app configured, so dev mode with the built-in Zoom emulator at
// /zoom-emulator and the console's dev sign-in.
func startDevApp(t testing.TB, opts ...func(*config.Config)) *app.App {
	t.Helper()
	cfg := config.Defaults()
	cfg.GRPCAddr, cfg.HTTPAddr, cfg.DataDir = webtest.FreeAddr(t), webtest.FreeAddr(t), t.TempDir()
	// Not the default admin port: a test may run two apps at once, and
	// other programs on the machine may hold it.
	cfg.AdminAddr = webtest.FreeAddr(t)
	cfg.ShutdownTimeout = 5 * time.Second
	cfg.AuthHS256Secret = authSecret // so that tests can mint internal tokens too
	for _, o := range opts {
		o(&cfg)
	}
	if !cfg.DevMode() {
		t.Fatal("startDevApp needs a configuration without Zoom apps")
	}
	logger := slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelWarn}))
	a, err := app.New(context.Background(), cfg, logger)
	if err != nil {
		t.Fatal(err)
	}
	apptest.Serve(t, a)
	(&harness{t: t, app: a}).waitReady()
	return a
}

// catalog reads one of the console's language catalogs, so that the test
// finds the texts a person reads without copying them.
func catalog(t testing.TB, lang string) func(key string, vars ...any) string {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("..", "console", "static", "i18n", lang+".json"))
	if err != nil {
		t.Fatal(err)
	}
	m := map[string]string{}
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatal(err)
	}
	return func(key string, vars ...any) string {
		s, ok := m[key]
		if !ok {
			t.Fatalf("catalog %s has no %s", lang, key)
		}
		for i := 0; i+1 < len(vars); i += 2 {
			s = strings.ReplaceAll(s, "{"+vars[i].(string)+"}", fmt.Sprint(vars[i+1]))
		}
		return s
	}
}

// js quotes s as a JavaScript string literal.
func js(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// textShown is a JavaScript condition: the page shows s.
func textShown(s string) string { return "document.body.innerText.includes(" + js(s) + ")" }

// clickButton clicks the button labelled text, as a person would find it.
func clickButton(t testing.TB, tab *bt.Tab, text string) {
	t.Helper()
	tab.WaitFor(t, "button "+text, "[...document.querySelectorAll('button')].some(b => b.textContent === "+js(text)+" && !b.disabled)")
	bt.Eval[chromedp.Void](t, tab, "[...document.querySelectorAll('button')].find(b => b.textContent === "+js(text)+" && !b.disabled).click()")
}

func signIn(t testing.TB, tab *bt.Tab, base, person string) {
	t.Helper()
	tab.Do(t, "open the console", chromedp.Navigate(base+"/console/"))
	tab.WaitFor(t, "the dev sign-in page", `document.querySelector('input[name=person][value="`+person+`"]')`)
	tab.Do(t, "sign in as "+person,
		chromedp.Click(chromedp.CSS(`input[name=person][value="`+person+`"]`)),
		chromedp.Click(chromedp.CSS(`form button[type=submit]`)))
	tab.WaitFor(t, "the console's navigation", "document.querySelector('nav.side')")
}

// go visits a console page by its navigation link.
func visit(t testing.TB, tab *bt.Tab, page string) {
	t.Helper()
	bt.Eval[chromedp.Void](t, tab, `document.querySelector('nav.side a[href="#/`+page+`"]').click()`)
	tab.WaitFor(t, page+" loaded", `location.hash === "#/`+page+`" && document.querySelector('main h1') && !document.querySelector('main [aria-busy=true]')`)
}

// approveAtZoom opens the install link in the Zoom admin's own browser and
// signs in at the emulator's Zoom page as userID.
func approveAtZoom(t testing.TB, tab *bt.Tab, installURL, userID string) {
	t.Helper()
	tab.Do(t, "open the install link", chromedp.Navigate(installURL))
	tab.WaitFor(t, "Zoom's sign-in page", `document.querySelector('input[name=user_id][value="`+userID+`"]')`)
	tab.Do(t, "approve as "+userID,
		chromedp.Click(chromedp.CSS(`input[name=user_id][value="`+userID+`"]`)),
		chromedp.Click(chromedp.CSS(`button[value=allow]`)))
}

// TestConsoleInChromium walks the whole feature through the console in a
// real browser, against the service in dev mode: each person in their own
// browser context, a screenshot per step, axe-core on every page, and no
// JavaScript error or failed request anywhere unless the step expects it.
func TestConsoleInChromium(t *testing.T) {
	dev := startDevApp(t)
	base := dev.PublicURL
	b := bt.Start(t, "console")
	en, de := catalog(t, "en"), catalog(t, "de")
	owner, zoomAdmin, member := b.NewTab("owner"), b.NewTab("zoom-admin"), b.NewTab("member")
	// Zoom refusing a non-admin is an error page by design.
	zoomAdmin.AllowHTTPErrors("/zoom-emulator/oauth/authorize")
	zoomAdmin.AllowHTTPErrors("/oauth/zoom/callback")
	check := func(t *testing.T) {
		for _, tab := range []*bt.Tab{owner, zoomAdmin, member} {
			tab.Check(t)
			// a missing value must never reach the page as a word
			if bt.Eval[bool](t, tab, `location.pathname.startsWith('/console/') && /\b(null|undefined|NaN|\[object Object\])\b/.test(document.body.innerText)`) {
				t.Errorf("tab %s shows a raw null/undefined: %s", tab.Name, bt.Eval[string](t, tab, "document.body.innerText"))
			}
		}
	}
	var installURL string

	step := func(name string, f func(t *testing.T)) {
		if !t.Run(name, func(t *testing.T) { f(t); check(t) }) {
			t.FailNow()
		}
	}

	step("1a the owner signs in and connects using only the keyboard", func(t *testing.T) {
		signIn(t, owner, base, "olivia")
		owner.Axe(t, "org, not connected")
		owner.WaitFor(t, "the not-connected state", textShown(en("org.state.NOT_CONNECTED")))
		owner.Screenshot(t, "owner-not-connected")
		bt.Eval[chromedp.Void](t, owner, "window.zcNoReload = true; document.activeElement.blur()")
		found := false
		for range 40 {
			owner.Do(t, "Tab", chromedp.KeyEvent("\t"))
			if bt.Eval[string](t, owner, "document.activeElement.textContent") == en("org.connect") {
				found = true
				break
			}
		}
		if !found {
			t.Fatal("Tab never reached the connect button")
		}
		owner.Do(t, "Enter", chromedp.KeyEvent("\r"))
		owner.WaitFor(t, "the install link, focused", "document.activeElement && document.activeElement.id === 'install-link'")
		owner.Do(t, "Tab to the copy button", chromedp.KeyEvent("\t"))
		if got := bt.Eval[string](t, owner, "document.activeElement.textContent"); got != en("org.copy") {
			t.Fatalf("after the link, Tab reaches %q, want the copy button", got)
		}
		owner.Do(t, "Enter", chromedp.KeyEvent("\r"))
		owner.WaitFor(t, "copy feedback", textShown(en("org.copied"))+" || "+textShown(en("org.copyManually")))
		installURL = bt.Eval[string](t, owner, "document.getElementById('install-link').value")
		if !strings.HasPrefix(installURL, base+"/oauth/zoom/install/") {
			t.Fatalf("install link %q", installURL)
		}
		owner.WaitFor(t, "the pending state", textShown(en("state.PENDING"))+" && "+textShown(en("org.waiting")))
		owner.Screenshot(t, "owner-link")
		owner.Axe(t, "org, pending")
	})

	step("2 a Zoom member and a custom role trying to approve are told why not", func(t *testing.T) {
		approveAtZoom(t, zoomAdmin, installURL, zoomemu.DevMemberID)
		zoomAdmin.WaitFor(t, "Zoom's refusal", textShown("An account admin is required to install this type of app"))
		zoomAdmin.Screenshot(t, "zoom-member-refused")
		approveAtZoom(t, zoomAdmin, installURL, zoomemu.DevAppManagerID)
		zoomAdmin.WaitFor(t, "zoomconnect's refusal", textShown("is not an Owner or Admin of Zoom account")+" && "+textShown("send it to your Zoom admin"))
		zoomAdmin.Screenshot(t, "zoom-custom-role-refused")
		if !bt.Eval[bool](t, owner, textShown(en("state.PENDING"))) {
			t.Fatal("the owner's page left the pending state after refusals")
		}

		// Replacing the link makes the old one stop working.
		clickButton(t, owner, en("org.replace"))
		owner.WaitFor(t, "a new link", "document.getElementById('install-link').value !== "+js(installURL))
		old := installURL
		installURL = bt.Eval[string](t, owner, "document.getElementById('install-link').value")
		zoomAdmin.AllowHTTPErrors(old)
		zoomAdmin.Do(t, "open the replaced link", chromedp.Navigate(old))
		zoomAdmin.WaitFor(t, "the replaced link's page", textShown("was replaced by a newer link"))
	})

	step("1b the Zoom admin approves and the owner's page turns active without a reload", func(t *testing.T) {
		approveAtZoom(t, zoomAdmin, installURL, zoomemu.DevAdminID)
		zoomAdmin.WaitFor(t, "the callback page", textShown("Zoom is connected"))
		zoomAdmin.Screenshot(t, "zoom-admin-approved")
		owner.WaitFor(t, "the active state", textShown(en("org.nowActive"))+" && "+textShown(en("state.ACTIVE"))+" && "+textShown("admin@acme.example"))
		if !bt.Eval[bool](t, owner, "window.zcNoReload === true") {
			t.Fatal("the owner's page was reloaded")
		}
		owner.Screenshot(t, "owner-active")
		owner.Axe(t, "org, active")
	})

	step("3 a member sees the organization, connects a personal account, and the roster shows both types", func(t *testing.T) {
		signIn(t, member, base, "mia")
		member.WaitFor(t, "My Zoom: the organization", textShown(en("me.source.ORGANIZATION"))+" && "+textShown(en("resolution.ORG_CONNECTED")))
		if bt.Eval[bool](t, member, "!!document.querySelector('nav.side a[href=\"#/org\"]')") {
			t.Error("a member sees the admin pages in the navigation")
		}
		member.Screenshot(t, "member-org")
		member.Axe(t, "my zoom, organization")
		bt.Eval[chromedp.Void](t, member, "window.zcNoReload = true")
		zoomTab := member.Opened(t, "member-zoom", func() { clickButton(t, member, en("me.connectPersonal")) })
		member.WaitFor(t, "the hint to finish in the new tab", textShown(en("me.finishInTab")))
		zoomTab.WaitFor(t, "Zoom's sign-in page", `document.querySelector('input[name=user_id][value="`+zoomemu.DevOtherOwnerID+`"]')`)
		zoomTab.Do(t, "sign in at Zoom",
			chromedp.Click(chromedp.CSS(`input[name=user_id][value="`+zoomemu.DevOtherOwnerID+`"]`)),
			chromedp.Click(chromedp.CSS(`button[value=allow]`)))
		zoomTab.WaitFor(t, "the callback page", textShown("You approved as the Zoom user Gus Globex (owner@globex.example)"))
		zoomTab.Check(t)
		member.WaitFor(t, "My Zoom: personal, without a reload", textShown(en("me.personalNow"))+" && "+textShown(en("me.source.PERSONAL"))+" && "+textShown(en("resolution.PERSONAL_CONNECTED"))+
			" && "+textShown("The member's personal Zoom account takes precedence.")+" && "+textShown("owner@globex.example")+" && window.zcNoReload === true")
		member.Screenshot(t, "member-personal")
		member.Axe(t, "my zoom, personal")

		visit(t, owner, "users")
		rows := func() map[string]string {
			return bt.Eval[map[string]string](t, owner, `Object.fromEntries([...document.querySelectorAll('main tbody tr')].map(r => [r.cells[0].textContent, [...r.cells].slice(2, 4).map(c => c.textContent).join('/')]))`)
		}
		got := rows()
		if got["Mia Member"] != en("source.PERSONAL")+"/"+en("userStatus.CONNECTED") || got["Olivia Owner"] != en("source.ORGANIZATION")+"/"+en("userStatus.CONNECTED") {
			t.Fatalf("roster = %v", got)
		}
		owner.Screenshot(t, "owner-users")
		owner.Axe(t, "connected users")
		owner.Do(t, "search", chromedp.SendKeys(chromedp.CSS("main input[type=search]"), "ADMIN@"), chromedp.Click(chromedp.CSS("form[role=search] button")))
		owner.WaitFor(t, "one search result", "document.querySelectorAll('main tbody tr').length === 1")
		if got := rows(); len(got) != 1 || got["Adam Admin"] == "" {
			t.Fatalf("search for ADMIN@ = %v", got)
		}
		bt.Eval[chromedp.Void](t, owner, `document.querySelector('main input[type=search]').value = ''; document.getElementById('type').value = 'CONNECTION_SOURCE_PERSONAL'`)
		owner.Do(t, "filter personal", chromedp.Click(chromedp.CSS("form[role=search] button")))
		owner.WaitFor(t, "the personal filter", `document.querySelectorAll('main tbody tr').length === 1 && document.querySelector('main tbody th').textContent === 'Mia Member'`)
	})

	step("4 options change, survive a reload, and the activity log shows each step with its actor", func(t *testing.T) {
		visit(t, owner, "options")
		for _, name := range []string{"allowUsersToDetach", "waitingRoom"} {
			owner.Do(t, "switch "+name, chromedp.Click(chromedp.CSS("#opt-"+name)))
			owner.WaitFor(t, name+" saved", textShown(en("options.savedOn", "name", en("options."+name))))
		}
		owner.Do(t, "reload", chromedp.Reload())
		owner.WaitFor(t, "options read back", "document.querySelector('#opt-allowUsersToDetach') && document.querySelector('#opt-allowUsersToDetach').checked && document.querySelector('#opt-waitingRoom').checked && !document.querySelector('#opt-joinBeforeHost').checked")
		owner.Screenshot(t, "owner-options")
		owner.Axe(t, "options")

		// now that the org allows it, the member detaches and reattaches
		member.Do(t, "reload My Zoom", chromedp.Reload())
		clickButton(t, member, en("me.detach"))
		member.WaitFor(t, "detached", textShown(en("me.detachedDone"))+" && "+textShown(en("me.detached")))
		clickButton(t, member, en("me.reattach"))
		member.WaitFor(t, "reattached", textShown(en("me.reattached"))+" && "+textShown(en("me.canDetach")))

		visit(t, owner, "activity")
		type row struct {
			Kind  string   `json:"kind"`
			Cells []string `json:"cells"`
		}
		entries := bt.Eval[[]row](t, owner, `[...document.querySelectorAll('tr.activity-row')].map(r => ({kind: r.dataset.kind, cells: [...r.cells].map(c => c.textContent)}))`)
		var kinds []string
		actors := map[string]string{}
		for _, e := range entries {
			kinds = append(kinds, e.Kind)
			actors[e.Kind] = e.Cells[1]
			if e.Cells[0] == "" || e.Cells[2] != en("activityKind."+e.Kind) {
				t.Errorf("activity row %v", e)
			}
		}
		want := []string{"USER_REATTACHED", "USER_DETACHED", "SETTINGS_CHANGED", "SETTINGS_CHANGED", "PERSONAL_CONNECTED", "ORG_CONNECTED", "ORG_CONNECTION_STARTED", "ORG_CONNECTION_STARTED"} // the link was replaced once
		if strings.Join(kinds, ",") != strings.Join(want, ",") {
			t.Fatalf("activity kinds, newest first = %v, want %v", kinds, want)
		}
		you := en("actor.you", "id", "olivia")
		if actors["SETTINGS_CHANGED"] != you || actors["ORG_CONNECTION_STARTED"] != you || actors["PERSONAL_CONNECTED"] != "mia" || actors["USER_DETACHED"] != "mia" {
			t.Fatalf("actors = %v", actors)
		}
		owner.Screenshot(t, "owner-activity")
		owner.Axe(t, "activity")
	})

	step("4b when the Zoom admin loses the role, the page says why and reconnecting with another Zoom admin works", func(t *testing.T) {
		if err := dev.Emulator.SetUserRole(zoomemu.DevAdminID, "2", ""); err != nil { // user.updated goes to the service
			t.Fatal(err)
		}
		visit(t, owner, "org")
		for deadline := time.Now().Add(15 * time.Second); !bt.Eval[bool](t, owner, textShown(en("state.NEEDS_RECONNECT"))); {
			if time.Now().After(deadline) {
				t.Fatal("the connection never needed reconnecting after the Zoom admin lost the role")
			}
			time.Sleep(100 * time.Millisecond) // the webhook is processed in the background
			owner.Do(t, "reload", chromedp.Reload())
			owner.WaitFor(t, "the page", "document.querySelector('main h1') && !document.querySelector('main [aria-busy=true]')")
		}
		owner.WaitFor(t, "the reason", textShown(en("stateReason.ADMIN_ROLE_LOST")))
		owner.Screenshot(t, "owner-needs-reconnect")
		owner.Axe(t, "org, needs reconnect")
		clickButton(t, owner, en("org.reconnect"))
		owner.WaitFor(t, "a new link", "document.getElementById('install-link')")
		link := bt.Eval[string](t, owner, "document.getElementById('install-link').value")
		approveAtZoom(t, zoomAdmin, link, zoomemu.DevOwnerID)
		zoomAdmin.WaitFor(t, "the callback page", textShown("Zoom is connected"))
		owner.WaitFor(t, "active again", textShown(en("org.nowActive"))+" && "+textShown("owner@acme.example"))
	})

	step("5 disconnect lists the affected members first; after it, personal connections survive", func(t *testing.T) {
		visit(t, owner, "org")
		clickButton(t, owner, en("org.disconnect"))
		owner.WaitFor(t, "the preview", "document.querySelector('dialog[open] ul.affected')")
		affected := bt.Eval[[]string](t, owner, "[...document.querySelectorAll('dialog[open] ul.affected strong')].map(s => s.textContent)")
		if strings.Join(affected, ",") != "Adam Admin,Olivia Owner" {
			t.Fatalf("affected members = %v, want Adam and Olivia (Mia has a personal account)", affected)
		}
		if !bt.Eval[bool](t, owner, textShown(en("state.ACTIVE"))) {
			t.Fatal("the preview changed something")
		}
		owner.Screenshot(t, "owner-disconnect-preview")
		owner.Axe(t, "disconnect confirmation")
		clickButton(t, owner, en("org.disconnectConfirm"))
		owner.WaitFor(t, "disconnected", textShown(en("org.disconnected", "n", 2))+" && "+textShown(en("state.NOT_CONNECTED"))+" && !document.querySelector('dialog')")
		owner.Screenshot(t, "owner-disconnected")

		member.Do(t, "reload My Zoom", chromedp.Reload())
		member.WaitFor(t, "still personal", textShown(en("me.source.PERSONAL"))+" && "+textShown("owner@globex.example"))
		visit(t, owner, "me")
		owner.WaitFor(t, "the owner falls back to none", textShown(en("me.source.NONE"))+" && "+textShown(en("resolution.NO_CONNECTION"))+" && "+textShown(en("me.noOrg")))
		owner.Screenshot(t, "owner-my-zoom-none")
		owner.Axe(t, "my zoom, none")

		// the member disconnects the personal account too: nothing serves her now
		clickButton(t, member, en("me.disconnectPersonal"))
		member.WaitFor(t, "personal disconnected", textShown(en("me.personalDisconnected"))+" && "+textShown(en("me.source.NONE"))+" && "+textShown(en("me.connectPersonal")))
	})

	step("6 German and English both render, from the switch and from the browser's language", func(t *testing.T) {
		bt.Eval[chromedp.Void](t, owner, `(() => { const s = document.getElementById('language-switch'); s.value = 'de'; s.dispatchEvent(new Event('change')); })()`)
		owner.WaitFor(t, "German", `document.documentElement.lang === 'de' && document.querySelector('main h1').textContent === `+js(de("me.title"))+` && `+textShown(de("resolution.NO_CONNECTION")))
		owner.Screenshot(t, "owner-german")
		owner.Axe(t, "my zoom, German")
		visit(t, owner, "activity")
		owner.WaitFor(t, "German activity", textShown(de("activityKind.ORG_DISCONNECTED")))
		owner.Axe(t, "activity, German")
		bt.Eval[chromedp.Void](t, owner, `(() => { const s = document.getElementById('language-switch'); s.value = 'en'; s.dispatchEvent(new Event('change')); })()`)
		owner.WaitFor(t, "English again", `document.documentElement.lang === 'en' && document.querySelector('main h1').textContent === `+js(en("activity.title")))

		german := b.NewTab("german-browser")
		german.Do(t, "a German browser", chromedp.Func(func(ctx context.Context, _ *chromedp.Target) error {
			_, err := chromedp.Call(ctx, emulation.SetUserAgentOverride, emulation.SetUserAgentOverrideParams{UserAgent: "Mozilla/5.0 zoomconnect-test", AcceptLanguage: "de-DE"})
			return err
		}), chromedp.Navigate(base+"/console/"))
		german.WaitFor(t, "the German sign-in page", `document.documentElement.lang === 'de' && `+textShown(de("signin.devTitle")))
		german.Screenshot(t, "german-sign-in")
		german.Axe(t, "sign-in, German")
		german.Check(t)
	})

	// dev mode's issuer and audience
	internal := token(t, auth.Claims{Subject: "booking-service", Scope: auth.Scope{auth.InternalScope}}.
		IssuedFor(config.DevAuthIssuer, config.DevAuthAudience))
	register := func(t *testing.T, id, name string) {
		req, err := http.NewRequest(http.MethodPut, base+"/v1/orgs/acme/members/"+id,
			strings.NewReader(fmt.Sprintf(`{"email":"%s@acme.example","name":%q}`, id, name)))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Authorization", "Bearer "+internal)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != http.StatusOK {
			t.Fatalf("registering %s: HTTP %d", id, res.StatusCode)
		}
	}
	step("7 the roster pages through members 25 at a time", func(t *testing.T) {
		for i := range 30 {
			register(t, fmt.Sprintf("user-%03d", i), fmt.Sprintf("User %03d", i))
		}
		visit(t, owner, "users")
		names := func() []string {
			return bt.Eval[[]string](t, owner, "[...document.querySelectorAll('main tbody th')].map(c => c.textContent)")
		}
		first := names()
		if len(first) != 25 || first[0] != "Adam Admin" || !bt.Eval[bool](t, owner, textShown(en("common.page", "n", 1))) {
			t.Fatalf("first page = %v", first)
		}
		clickButton(t, owner, en("common.next"))
		owner.WaitFor(t, "page 2", textShown(en("common.page", "n", 2)))
		if second := names(); len(second) != 8 || second[len(second)-1] != "User 029" {
			t.Fatalf("second page = %v", second)
		}
		if bt.Eval[bool](t, owner, `[...document.querySelectorAll('nav.pager button')].find(b => b.textContent === `+js(en("common.next"))+`).disabled`) == false {
			t.Error("Next is enabled on the last page")
		}
		owner.Screenshot(t, "owner-users-page-2")
		owner.Axe(t, "connected users, page 2")
		clickButton(t, owner, en("common.previous"))
		owner.WaitFor(t, "page 1 again", textShown(en("common.page", "n", 1)))
		if again := names(); strings.Join(again, ",") != strings.Join(first, ",") {
			t.Fatalf("back on page 1 = %v, want %v", again, first)
		}
	})
	step("8 a search finds a member past the members one filtered call reads", func(t *testing.T) {
		// A filtered roster call reads a bounded number of members and may
		// answer an empty page with a token; ids sorting before user-029
		// make the first calls come back empty.
		for i := range 400 {
			register(t, fmt.Sprintf("bulk-%03d", i), fmt.Sprintf("Bulk %03d", i))
		}
		visit(t, owner, "users")
		bt.Eval[chromedp.Void](t, owner, `(() => { const q = document.querySelector('input[name=query]'); q.value = 'user 029'; q.form.requestSubmit(); })()`)
		owner.WaitFor(t, "the search result", `[...document.querySelectorAll('main tbody th')].map(c => c.textContent).join() === "User 029"`)
		owner.Axe(t, "connected users, searched")
	})
}

// TestConsoleHostSignIn checks the two ways a host product hands the console
// a token: the URL fragment (read once and removed from the address bar)
// and postMessage from the embedding page, accepted from a configured
// origin in a cross-site iframe.
func TestConsoleHostSignIn(t *testing.T) {
	host := httptest.NewUnstartedServer(nil)
	hostOrigin := "http://localhost:" + strings.TrimPrefix(host.Listener.Addr().String(), "127.0.0.1:")
	base := startDevApp(t, func(c *config.Config) { c.ConsoleFrameAncestors = hostOrigin }).PublicURL
	_, tok := devToken(t, base, "olivia")
	host.Config.Handler = http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprintf(w, `<!doctype html><html lang="en"><title>host</title><iframe src=%q title="Zoom integration" width="1000" height="700"></iframe>
<script>
const consoleOrigin = %q;
window.addEventListener('message', (ev) => {
  if (ev.origin !== consoleOrigin) return;
  if (ev.data.type === 'zoomconnect:ready') ev.source.postMessage({type: 'zoomconnect:token', token: %q}, consoleOrigin);
  else document.title = ev.data.type;
});
</script>`, base+"/console/", base, tok)
	})
	host.Start()
	t.Cleanup(host.Close)

	b := bt.Start(t, "console-host")
	fragment := b.NewTab("fragment")
	fragment.Do(t, "open with a token in the fragment", chromedp.Navigate(base+"/console/#access_token="+tok))
	fragment.WaitFor(t, "signed in", "document.querySelector('nav.side') && document.querySelector('main h1')")
	if href := bt.Eval[string](t, fragment, "location.href"); strings.Contains(href, tok) || strings.Contains(href, "access_token") {
		t.Fatalf("the token stays in the address bar: %s", href)
	}
	fragment.Check(t)

	// A token the service does not accept (another service's secret signed
	// it) ends in the sign-in page with a notice, not in a broken page.
	other := startDevApp(t, func(c *config.Config) { c.AuthHS256Secret = []byte("another-secret-so-the-token-is-foreign!") }).PublicURL
	stranger := b.NewTab("foreign-token")
	stranger.AllowHTTPErrors("/v1/orgs/acme/") // the 401 is the point
	stranger.Do(t, "open with a token this service did not sign", chromedp.Navigate(other+"/console/#access_token="+tok))
	stranger.WaitFor(t, "back at sign-in", `document.querySelector('input[name=person]') && `+textShown(catalog(t, "en")("signin.expired")))
	stranger.Check(t)

	embedded := b.NewTab("embedded")
	embedded.Do(t, "open the host page", chromedp.Navigate(hostOrigin+"/"))
	embedded.WaitFor(t, "the console's answer", "document.title !== 'host'")
	if title := bt.Eval[string](t, embedded, "document.title"); title != "zoomconnect:signedIn" {
		t.Fatalf("the console answered %q to the host's token", title)
	}
	embedded.Screenshot(t, "embedded")
	embedded.Check(t)
}
