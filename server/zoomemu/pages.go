package zoomemu

import (
	"bytes"
	"cmp"
	"html/template"
	"net/http"
	"slices"
	"strings"
)

// pages are the emulator's HTML pages. Links and form actions are relative
// because the handler may be mounted under a path prefix.
var pages = template.Must(template.New("").Parse(`
{{- define "head" -}}
<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{.}} · Zoom emulator</title>
<style>
body{font-family:system-ui,sans-serif;margin:0;background:#f4f6fa;color:#222}
main{max-width:44rem;margin:2rem auto;background:#fff;padding:1.5rem 2rem;border-radius:8px;box-shadow:0 1px 4px #0002}
.banner{background:#fff4ce;padding:.4rem .8rem;border-radius:4px;font-size:.9rem}
fieldset{border:1px solid #ccd;border-radius:6px;margin:1rem 0}
label{display:block;padding:.3rem 0}
.muted{color:#667}
button{font-size:1rem;padding:.5rem 1.4rem;margin-right:.5rem;border-radius:6px;border:1px solid #0b5cff;cursor:pointer}
button.allow{background:#0b5cff;color:#fff}
button.deny{background:#fff;color:#0b5cff}
</style></head><body><main>
<p class="banner">Zoom emulator: no real Zoom account is involved.</p>
{{- end}}

{{- define "foot"}}</main></body></html>
{{end}}

{{- define "signin" -}}
{{template "head" "Sign in"}}
<h1>Sign in to Zoom</h1>
<p>The app <strong>{{.ClientID}}</strong> ({{if .AdminManaged}}admin-managed: installed for the whole account{{else}}user-managed{{end}}) requests access to:</p>
<ul>{{range .Scopes}}<li><code>{{.}}</code></li>{{end}}</ul>
{{if .AdminManaged}}<p class="muted">Only an account Owner or Admin, or a role with app permissions, can install this app.</p>{{end}}
<form method="post" action="authorize">
{{range .Hidden}}<input type="hidden" name="{{.Name}}" value="{{.Value}}">
{{end -}}
<fieldset><legend>Choose the Zoom user who signs in</legend>
{{range .Accounts}}<p><strong>Account {{.ID}}</strong></p>
{{range .Users}}<label><input type="radio" name="user_id" value="{{.ID}}"{{if not .Active}} disabled{{end}} required> {{.Email}} · {{.Name}} · {{.RoleName}} (role {{.RoleID}}){{if not .Active}} · {{.Status}}{{end}}</label>
{{end}}{{else}}<p>No users are configured.</p>
{{end}}</fieldset>
<p class="muted">Zoom then sends you back to {{.RedirectURI}}</p>
<button class="allow" type="submit" name="decision" value="allow">Allow</button>
<button class="deny" type="submit" name="decision" value="deny" formnovalidate>Deny</button>
</form>
{{template "foot"}}
{{- end}}

{{- define "index" -}}
{{template "head" "Zoom emulator"}}
<h1>Zoom emulator</h1>
<p>This server stands in for Zoom: zoomconnect sends people here to approve its apps, and calls
its OAuth and REST endpoints as it would call zoom.us and api.zoom.us.</p>
<h2>How to use it</h2>
<p>Start connecting an organization (<code>POST /v1/orgs/{org_id}/zoom:connect</code> on zoomconnect) and
open the <code>installUrl</code> it answers: it leads to this emulator's sign-in page, where you pick who
approves. An account Owner or Admin connects the organization; a member is refused by Zoom, a custom
role by zoomconnect.</p>
<h2>Endpoints</h2>
<ul>
<li><code>GET oauth/authorize</code>: the sign-in and consent page</li>
<li><code>POST oauth/token</code>, <code>POST oauth/revoke</code>, <code>POST oauth/data/compliance</code></li>
<li><code>GET v2/users/{userId}</code>, <code>GET|POST v2/users/{userId}/meetings</code>, <code>GET|PATCH|DELETE v2/meetings/{meetingId}</code></li>
</ul>
<h2>Zoom users</h2>
{{range .Accounts}}<p><strong>Account {{.ID}}</strong></p><ul>
{{range .Users}}<li>{{.Email}} · {{.Name}} · {{.RoleName}} (role {{.RoleID}}){{if not .Active}} · {{.Status}}{{end}}</li>
{{end}}</ul>{{else}}<p>No users are configured.</p>
{{end}}
{{template "foot"}}
{{- end}}

{{- define "error" -}}
{{template "head" .Title}}
<h1>{{.Title}}</h1>
<p>{{.Message}}</p>
{{template "foot"}}
{{- end}}
`))

type signInData struct {
	ClientID     string
	RedirectURI  string
	AdminManaged bool
	Scopes       []string
	Hidden       []hiddenField
	Accounts     []accountUsers
}

type hiddenField struct{ Name, Value string }

type accountUsers struct {
	ID    string
	Users []pageUser
}

type pageUser struct {
	ID, Email, Name, RoleID, RoleName, Status string
	Active                                    bool
}

// index is the emulator's home page: what it is, how to use it, and who
// can sign in.
func (e *Emulator) index(w http.ResponseWriter, _ *http.Request) {
	e.renderPage(w, http.StatusOK, "index", struct{ Accounts []accountUsers }{e.accountUsers()})
}

// signInData lists every emulated user, grouped by account, so the person
// can pick who signs in; the request's parameters travel in hidden fields.
func (e *Emulator) signInData(req authRequest) signInData {
	d := signInData{ClientID: req.client.ID, RedirectURI: req.params.Get("redirect_uri"), AdminManaged: req.client.AdminManaged, Scopes: strings.Fields(scopesFor(req.client))}
	for _, p := range authParams {
		if v := req.params.Get(p); v != "" {
			d.Hidden = append(d.Hidden, hiddenField{p, v})
		}
	}

	d.Accounts = e.accountUsers()
	return d
}

// accountUsers lists every emulated user, grouped by account.
func (e *Emulator) accountUsers() []accountUsers {
	e.mu.Lock()
	users := make([]userRecord, 0, len(e.users))
	for _, u := range e.users {
		users = append(users, u)
	}
	e.mu.Unlock()
	slices.SortFunc(users, func(a, b userRecord) int {
		return cmp.Or(cmp.Compare(a.AccountID, b.AccountID), cmp.Compare(a.RoleID, b.RoleID), cmp.Compare(a.Email, b.Email))
	})
	var out []accountUsers
	for _, u := range users {
		if n := len(out); n == 0 || out[n-1].ID != u.AccountID {
			out = append(out, accountUsers{ID: u.AccountID})
		}
		a := &out[len(out)-1]
		a.Users = append(a.Users, pageUser{ID: u.ID, Email: u.Email, Name: strings.TrimSpace(u.FirstName + " " + u.LastName),
			RoleID: u.RoleID, RoleName: u.RoleName, Status: u.Status, Active: u.Status == "active"})
	}
	return out
}

func (e *Emulator) errorPage(w http.ResponseWriter, status int, title, message string) {
	e.renderPage(w, status, "error", struct{ Title, Message string }{title, message})
}

// renderPage renders into a buffer first so that a template failure becomes
// a clean 500 instead of half a page.
func (e *Emulator) renderPage(w http.ResponseWriter, status int, name string, data any) {
	var buf bytes.Buffer
	if err := pages.ExecuteTemplate(&buf, name, data); err != nil {
		e.log.Error("zoom emulator: rendering page", "page", name, "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Frame-Options", "DENY")
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}
