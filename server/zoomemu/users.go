package zoomemu

import (
	"fmt"
	"hash/fnv"
	"net/http"
	"strings"
	"time"
)

// apiError is the REST API's error body.
type apiError struct {
	status  int
	header  http.Header  // extra response headers
	Code    int          `json:"code"`
	Message string       `json:"message"`
	Errors  []fieldError `json:"errors,omitempty"`
}

// fieldError is one entry of a validation error's "errors".
type fieldError struct {
	Field   string `json:"field"`
	Message string `json:"message"`
}

var (
	errNoAccessToken      = &apiError{status: http.StatusUnauthorized, Code: 124, Message: "Requires an access token."}
	errInvalidAccessToken = &apiError{status: http.StatusUnauthorized, Code: 124, Message: "Invalid access token."}
	errExpiredAccessToken = &apiError{status: http.StatusUnauthorized, Code: 124, Message: "Access token is expired."}
)

// missingScope is Zoom's answer to a token without the needed scope: HTTP
// 400, not 401, so clients must not take it for an expired token.
func missingScope(scopes string) *apiError {
	return &apiError{status: http.StatusBadRequest, Code: 4711, Message: "Invalid access token, does not contain scopes:[" + scopes + "]."}
}

func userNotFound(userID string) *apiError {
	return &apiError{status: http.StatusNotFound, Code: 1001, Message: "User does not exist: " + userID + "."}
}

// apiGrant authenticates a REST call by its bearer access token. A refresh
// token used as bearer is an invalid access token. Must be called with e.mu
// held.
func (e *Emulator) apiGrant(r *http.Request, now time.Time) (*grant, *apiError) {
	scheme, tok, ok := strings.Cut(r.Header.Get("Authorization"), " ")
	tok = strings.TrimSpace(tok)
	if !ok || !strings.EqualFold(scheme, "Bearer") || tok == "" {
		return nil, errNoAccessToken
	}
	g := e.tokens[tok]
	if g == nil {
		return nil, errInvalidAccessToken
	}
	exp, ok := g.access[tok]
	switch {
	case !ok:
		return nil, errInvalidAccessToken
	case !now.Before(exp):
		return nil, errExpiredAccessToken
	}
	return g, nil
}

// getUser is GET /v2/users/{userId}, where userId is "me", a user id or an
// email address.
//
// The scope check comes before the lookup, as at Zoom's gateway: a
// user-managed token asking for anyone but its owner gets 400 4711, even for
// users that do not exist. With the admin scope, users of other accounts are
// reported like unknown ones (404 1001; Zoom's variant for this case is
// undocumented).
func (e *Emulator) getUser(w http.ResponseWriter, r *http.Request) {
	userID := r.PathValue("userId")
	e.mu.Lock()
	e.stats.UsersCalls++
	body, aerr := e.lookupUser(r, userID)
	e.mu.Unlock()
	if aerr != nil {
		writeJSON(w, aerr.status, aerr)
		return
	}
	writeJSON(w, http.StatusOK, body)
}

// lookupUser must be called with e.mu held.
func (e *Emulator) lookupUser(r *http.Request, userID string) (*apiUser, *apiError) {
	g, aerr := e.apiGrant(r, e.cfg.Now())
	if aerr != nil {
		return nil, aerr
	}
	u, aerr := e.resolveUser(g, userID, scopeReadUser)
	if aerr != nil {
		return nil, aerr
	}
	return renderUser(u), nil
}

// resolveUser finds the user that the path's userId ("me", a user id or an
// email address) names for grant g, which must hold a scope of rule: one
// for its own user, or the ":admin" one for anyone else (else 400 4711,
// checked first as at Zoom's gateway); users of other accounts are reported
// like unknown ones (404 1001). Must be called with e.mu held.
func (e *Emulator) resolveUser(g *grant, userID string, rule scopeRule) (userRecord, *apiError) {
	var (
		u  userRecord
		ok bool
	)
	switch {
	case userID == "me":
		u, ok = e.users[g.userID]
	case strings.Contains(userID, "@"):
		u, ok = e.users[e.byEmail[strings.ToLower(userID)]]
	default:
		u, ok = e.users[userID]
	}
	self := userID == "me" || (ok && u.ID == g.userID)
	if !g.allows(rule, self) {
		return userRecord{}, rule.missing(self)
	}
	if !ok || u.AccountID != g.accountID {
		return userRecord{}, userNotFound(userID)
	}
	return u, nil
}

// apiUser is Zoom's user object (the fields of rivet's
// UsersGetUserResponse that a client may plausibly read).
type apiUser struct {
	ID                 string   `json:"id"`
	FirstName          string   `json:"first_name"`
	LastName           string   `json:"last_name"`
	DisplayName        string   `json:"display_name"`
	Email              string   `json:"email"`
	Type               int      `json:"type"`
	RoleName           string   `json:"role_name"`
	RoleID             string   `json:"role_id"`
	AccountID          string   `json:"account_id"`
	AccountNumber      int64    `json:"account_number"`
	Status             string   `json:"status"`
	PMI                int64    `json:"pmi"`
	UsePMI             bool     `json:"use_pmi"`
	PersonalMeetingURL string   `json:"personal_meeting_url"`
	Timezone           string   `json:"timezone"`
	Language           string   `json:"language"`
	Dept               string   `json:"dept"`
	Verified           int      `json:"verified"`
	CreatedAt          string   `json:"created_at"`
	UserCreatedAt      string   `json:"user_created_at"`
	GroupIDs           []string `json:"group_ids"`
	IMGroupIDs         []string `json:"im_group_ids"`
	JID                string   `json:"jid"`
	LoginTypes         []int    `json:"login_types"`
	Cluster            string   `json:"cluster"`
	PhoneNumber        string   `json:"phone_number"`
	PhoneCountry       string   `json:"phone_country"`
}

func renderUser(u userRecord) *apiUser {
	created := u.created.UTC().Format("2006-01-02T15:04:05Z")
	pmi := 1_000_000_000 + int64(hash(u.ID)%9_000_000_000)
	return &apiUser{
		ID: u.ID, FirstName: u.FirstName, LastName: u.LastName,
		DisplayName: strings.TrimSpace(u.FirstName + " " + u.LastName),
		Email:       u.Email, Type: u.Type, RoleName: u.RoleName, RoleID: u.RoleID,
		AccountID: u.AccountID, AccountNumber: 10_000_000 + int64(hash(u.AccountID)%90_000_000),
		Status: u.Status, PMI: pmi, PersonalMeetingURL: fmt.Sprintf("https://us05web.zoom.us/j/%d", pmi),
		Timezone: u.Timezone, Language: "en-US", Verified: 1, CreatedAt: created, UserCreatedAt: created,
		GroupIDs: []string{}, IMGroupIDs: []string{}, JID: strings.ToLower(u.ID) + "@xmpp.zoom.us",
		LoginTypes: []int{100}, Cluster: "us05",
	}
}

// hash derives stable fake numbers (PMI, account number) from ids.
func hash(s string) uint64 {
	h := fnv.New64a()
	h.Write([]byte(s))
	return h.Sum64()
}
