package zoomemu

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
	_ "time/tzdata" // the tests' time zones, whatever the machine has
)

// api sends a REST request with an optional JSON body.
func (e *env) api(method, path, bearer, body string) response {
	e.t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, e.base+path, rd)
	if err != nil {
		e.t.Fatal(err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if bearer != "" {
		req.Header.Set("Authorization", "Bearer "+bearer)
	}
	return e.do(req)
}

// apiMeetingJSON is what a client reads from a meeting answer.
type apiMeetingJSON struct {
	UUID              string         `json:"uuid"`
	ID                int64          `json:"id"`
	HostID            string         `json:"host_id"`
	HostEmail         string         `json:"host_email"`
	Topic             string         `json:"topic"`
	Type              int            `json:"type"`
	Status            string         `json:"status"`
	StartTime         string         `json:"start_time"`
	Duration          int            `json:"duration"`
	Timezone          string         `json:"timezone"`
	Agenda            string         `json:"agenda"`
	CreatedAt         string         `json:"created_at"`
	StartURL          string         `json:"start_url"`
	JoinURL           string         `json:"join_url"`
	Password          string         `json:"password"`
	H323Password      string         `json:"h323_password"`
	PSTNPassword      string         `json:"pstn_password"`
	EncryptedPassword string         `json:"encrypted_password"`
	Settings          map[string]any `json:"settings"`
	PreSchedule       bool           `json:"pre_schedule"`
	CreationSource    string         `json:"creation_source"`
}

// createMeeting posts body for userID and expects 201.
func (e *env) createMeeting(token, userID, body string) apiMeetingJSON {
	e.t.Helper()
	r := e.api(http.MethodPost, "/v2/users/"+url.PathEscape(userID)+"/meetings", token, body)
	if r.status != http.StatusCreated {
		e.t.Fatalf("create: %d %s", r.status, r.body)
	}
	return decodeMeeting(e.t, r)
}

func (e *env) getMeeting(token string, id int64) apiMeetingJSON {
	e.t.Helper()
	r := e.get(meetingPath(id), token)
	if r.status != http.StatusOK {
		e.t.Fatalf("get: %d %s", r.status, r.body)
	}
	return decodeMeeting(e.t, r)
}

func meetingPath(id int64) string { return "/v2/meetings/" + strconv.FormatInt(id, 10) }

func decodeMeeting(t *testing.T, r response) apiMeetingJSON {
	t.Helper()
	if ct := r.header.Get("Content-Type"); ct != jsonContentType {
		t.Errorf("Content-Type %q", ct)
	}
	var m apiMeetingJSON
	if err := json.Unmarshal([]byte(r.body), &m); err != nil {
		t.Fatalf("meeting %s: %v", r.body, err)
	}
	return m
}

// jsonKeys are the sorted keys of a JSON object.
func jsonKeys(t *testing.T, raw []byte) []string {
	t.Helper()
	var m map[string]json.RawMessage
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatalf("%s: %v", raw, err)
	}
	return slices.Sorted(maps.Keys(m))
}

// wantEmpty checks a 204 without body or content type.
func wantEmpty(t *testing.T, r response) {
	t.Helper()
	if r.status != http.StatusNoContent || r.body != "" || r.header.Get("Content-Type") != "" {
		t.Errorf("got %d %q (Content-Type %q), want an empty 204", r.status, r.body, r.header.Get("Content-Type"))
	}
}

func wantRemaining(t *testing.T, r response, remaining int) {
	t.Helper()
	if r.header.Get("X-RateLimit-Limit") != "100" || r.header.Get("X-RateLimit-Remaining") != strconv.Itoa(remaining) {
		t.Errorf("rate limit headers: limit %q remaining %q, want 100 and %d",
			r.header.Get("X-RateLimit-Limit"), r.header.Get("X-RateLimit-Remaining"), remaining)
	}
}

func notFound(id string) string {
	return `{"code":3001,"message":"Meeting does not exist: ` + id + `."}`
}

var meetingFields = []string{"agenda", "created_at", "creation_source", "duration", "encrypted_password", "h323_password",
	"host_email", "host_id", "id", "join_url", "password", "pre_schedule", "pstn_password", "settings", "start_time",
	"start_url", "status", "timezone", "topic", "type", "uuid"}

func TestMeetingLifecycle(t *testing.T) {
	env := newEnv(t)
	org := env.tokens(orgApp, DevAdminID).AccessToken
	r := env.api(http.MethodPost, "/v2/users/member@acme.example/meetings", org, `{
		"topic": "Booking #123", "type": 2, "start_time": "2026-03-10T10:00:00", "timezone": "Europe/Berlin",
		"duration": 30, "agenda": "Intro call [zc:booking=b1]", "pre_schedule": false, "schedule_for": "ignored@acme.example",
		"settings": {"waiting_room": true, "join_before_host": true, "auto_start_meeting_summary": true,
			"meeting_authentication": true, "mute_upon_entry": true, "no_such_setting": 1}}`)
	if r.status != http.StatusCreated {
		t.Fatalf("create: %d %s", r.status, r.body)
	}
	wantRemaining(t, r, 99)
	if keys := jsonKeys(t, []byte(r.body)); !slices.Equal(keys, meetingFields) {
		t.Errorf("fields %v\nwant   %v", keys, meetingFields)
	}
	if !strings.Contains(r.body, `"id":81234567890,`) {
		t.Errorf("id is not the 11-digit number: %s", r.body)
	}
	m := decodeMeeting(t, r)
	if m.ID != firstMeetingID || m.HostID != DevMemberID || m.HostEmail != "member@acme.example" || m.Topic != "Booking #123" ||
		m.Type != 2 || m.Status != "waiting" || m.StartTime != "2026-03-10T09:00:00Z" || m.Duration != 30 ||
		m.Timezone != "Europe/Berlin" || m.Agenda != "Intro call [zc:booking=b1]" || m.CreatedAt != "2026-03-02T09:00:00Z" ||
		m.PreSchedule || m.CreationSource != "open_api" {
		t.Errorf("meeting: %+v", m)
	}
	if uuid, err := base64.StdEncoding.DecodeString(m.UUID); err != nil || len(uuid) != 16 {
		t.Errorf("uuid %q", m.UUID)
	}
	if len(m.Password) != 6 || m.JoinURL != "https://us05web.zoom.us/j/81234567890?pwd="+m.EncryptedPassword ||
		!strings.HasSuffix(m.EncryptedPassword, ".1") || len(m.H323Password) != 6 || m.PSTNPassword != m.H323Password ||
		strings.Trim(m.H323Password, "0123456789") != "" {
		t.Errorf("passcodes: %+v", m)
	}
	if !strings.HasPrefix(m.StartURL, "https://us05web.zoom.us/s/81234567890?zak=eyJ") {
		t.Errorf("start_url %q", m.StartURL)
	}
	for k, v := range map[string]any{"waiting_room": true, "join_before_host": true, "auto_start_meeting_summary": true,
		"meeting_authentication": true, "mute_upon_entry": true, "host_video": false, "approval_type": 2.0,
		"audio": "both", "auto_recording": "none", "encryption_type": "enhanced_encryption", "email_notification": true} {
		if m.Settings[k] != v {
			t.Errorf("settings.%s = %v, want %v", k, m.Settings[k], v)
		}
	}
	if _, ok := m.Settings["no_such_setting"]; ok {
		t.Error("unknown setting echoed")
	}

	// GET shows the same meeting with a fresh start_url.
	got := env.getMeeting(org, m.ID)
	if got.StartURL == m.StartURL {
		t.Error("start_url did not change")
	}
	got.StartURL, m.StartURL = "", ""
	if fmt.Sprint(got) != fmt.Sprint(m) {
		t.Errorf("get:\n%+v\nwant\n%+v", got, m)
	}
	stored, ok := env.emu.Meeting(m.ID)
	if !ok || stored.CreatedBy != orgApp.ID || stored.AccountID != DevAccountID ||
		!stored.StartTime.Equal(time.Date(2026, 3, 10, 9, 0, 0, 0, time.UTC)) || !stored.Settings.WaitingRoom {
		t.Errorf("stored: %+v", stored)
	}

	// PATCH changes only what it sends; settings merge.
	path := meetingPath(m.ID)
	r = env.api(http.MethodPatch, path, org, `{"topic":"Renamed","agenda":"Renamed [zc:booking=b1]",
		"start_time":"2026-03-11T08:00:00Z","duration":45,"type":1,"settings":{"waiting_room":false}}`)
	wantEmpty(t, r)
	wantRemaining(t, r, 98)
	got = env.getMeeting(org, m.ID)
	if got.Topic != "Renamed" || got.Agenda != "Renamed [zc:booking=b1]" || got.StartTime != "2026-03-11T08:00:00Z" ||
		got.Duration != 45 || got.Type != 2 || got.Timezone != "Europe/Berlin" || got.JoinURL != m.JoinURL ||
		got.Settings["waiting_room"] != false || got.Settings["join_before_host"] != true || got.Settings["mute_upon_entry"] != true {
		t.Errorf("after patch: %+v", got)
	}
	// A local start_time is read in the request's new timezone.
	wantEmpty(t, env.api(http.MethodPatch, path, org, `{"timezone":"America/New_York","start_time":"2026-03-12T09:00:00"}`))
	if got = env.getMeeting(org, m.ID); got.StartTime != "2026-03-12T13:00:00Z" || got.Timezone != "America/New_York" {
		t.Errorf("after timezone patch: %s %s", got.StartTime, got.Timezone)
	}
	// ... and otherwise in the meeting's.
	wantEmpty(t, env.api(http.MethodPatch, path, org, `{"start_time":"2026-03-13T09:00:00"}`))
	if got = env.getMeeting(org, m.ID); got.StartTime != "2026-03-13T13:00:00Z" {
		t.Errorf("after local patch: %s", got.StartTime)
	}
	// A start_time in the past is ignored, as Zoom documents.
	wantEmpty(t, env.api(http.MethodPatch, path, org, `{"start_time":"2026-03-01T09:00:00Z","duration":50}`))
	if got = env.getMeeting(org, m.ID); got.StartTime != "2026-03-13T13:00:00Z" || got.Duration != 50 {
		t.Errorf("after past start_time: %s %d", got.StartTime, got.Duration)
	}
	// A new passcode gives a new join URL.
	wantEmpty(t, env.api(http.MethodPatch, path, org, `{"password":"424242","password_ignored":""}`))
	if got = env.getMeeting(org, m.ID); got.Password != "424242" || got.H323Password != "424242" || got.JoinURL == m.JoinURL ||
		got.JoinURL != "https://us05web.zoom.us/j/81234567890?pwd="+got.EncryptedPassword {
		t.Errorf("after passcode patch: %+v", got)
	}
	wantEmpty(t, env.api(http.MethodPatch, path, org, `{"password":""}`))
	if got2 := env.getMeeting(org, m.ID); got2.Password != "424242" || got2.JoinURL != got.JoinURL {
		t.Errorf("empty passcode changed the meeting: %+v", got2)
	}

	wantEmpty(t, env.api(http.MethodDelete, path+"?schedule_for_reminder=true", org, ""))
	want(t, env.api(http.MethodDelete, path, org, ""), 404, notFound("81234567890"))
	want(t, env.get(path, org), 404, notFound("81234567890"))
	want(t, env.api(http.MethodPatch, path, org, `{"topic":"x"}`), 404, notFound("81234567890"))
	if ms := env.emu.Meetings(""); len(ms) != 0 {
		t.Errorf("meetings left: %+v", ms)
	}
	if st := env.emu.Stats(); st.MeetingCreates != 1 || st.MeetingUpdates != 6 || st.MeetingDeletes != 1 || st.MeetingsCalls != 18 {
		t.Errorf("stats: %+v", st)
	}
}

func TestCreateMeetingAccess(t *testing.T) {
	env := newEnv(t)
	if err := env.emu.AddUser(User{ID: "inactive1", AccountID: DevAccountID, Email: "gone@acme.example", Status: "inactive"}); err != nil {
		t.Fatal(err)
	}
	org := env.tokens(orgApp, DevAdminID).AccessToken
	personal := env.tokens(userApp, DevMemberID)
	expired := env.tokens(userApp, DevOwnerID).AccessToken
	const noScope = `{"code":4711,"message":"Invalid access token, does not contain scopes:[meeting:write:meeting:admin]."}`
	tests := []struct {
		name, token, userID string
		status              int
		host                string // for 201
		body                string // for errors
	}{
		{"admin-managed me", org, "me", 201, DevAdminID, ""},
		{"admin-managed other user by id", org, DevMemberID, 201, DevMemberID, ""},
		{"admin-managed other user by email", org, "OWNER@acme.example", 201, DevOwnerID, ""},
		{"admin-managed other account", org, DevOtherOwnerID, 404, "",
			`{"code":1001,"message":"User does not exist: GlobexOwner_0000000001."}`},
		{"admin-managed unknown", org, "nobody@acme.example", 404, "",
			`{"code":1001,"message":"User does not exist: nobody@acme.example."}`},
		{"admin-managed inactive user", org, "inactive1", 400, "",
			`{"code":3161,"message":"Your user account is not allowed meeting hosting and scheduling capabilities."}`},
		{"user-managed me", personal.AccessToken, "me", 201, DevMemberID, ""},
		{"user-managed self by id", personal.AccessToken, DevMemberID, 201, DevMemberID, ""},
		{"user-managed self by email", personal.AccessToken, "Member@Acme.example", 201, DevMemberID, ""},
		{"user-managed other user", personal.AccessToken, DevAdminID, 400, "", noScope},
		{"user-managed unknown user", personal.AccessToken, "nobody@acme.example", 400, "", noScope},
		{"no token", "", "me", 401, "", `{"code":124,"message":"Requires an access token."}`},
		{"unknown token", "garbage", "me", 401, "", `{"code":124,"message":"Invalid access token."}`},
		{"refresh token as bearer", personal.RefreshToken, "me", 401, "", `{"code":124,"message":"Invalid access token."}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := env.api(http.MethodPost, "/v2/users/"+url.PathEscape(tt.userID)+"/meetings", tt.token,
				`{"topic":"t","start_time":"2026-03-10T10:00:00Z"}`)
			if tt.status != 201 {
				want(t, r, tt.status, tt.body)
				if r.header.Get("X-RateLimit-Limit") != "" {
					t.Error("refused request carries rate limit headers")
				}
				return
			}
			if m := decodeMeeting(t, r); r.status != 201 || m.HostID != tt.host {
				t.Errorf("got %d %s", r.status, r.body)
			}
		})
	}
	env.clock.Advance(time.Hour)
	want(t, env.api(http.MethodPost, "/v2/users/me/meetings", expired, `{}`), 401, `{"code":124,"message":"Access token is expired."}`)
	if n := len(env.emu.Meetings("")); n != 6 {
		t.Errorf("%d meetings, want 6", n)
	}
}

func TestMeetingAccessByID(t *testing.T) {
	env := newEnv(t)
	creator := env.tokens(orgApp, DevAdminID).AccessToken
	m := env.createMeeting(creator, DevMemberID, `{"topic":"t","start_time":"2026-03-10T10:00:00Z"}`)
	id := strconv.FormatInt(m.ID, 10)
	hostPersonal := env.tokens(userApp, DevMemberID).AccessToken
	ownerOrg := env.tokens(orgApp, DevOwnerID).AccessToken
	adminPersonal := env.tokens(userApp, DevAdminID).AccessToken // same account, not the host
	otherOrg := env.tokens(orgApp, DevOtherOwnerID).AccessToken  // admin of another account

	for name, tok := range map[string]string{"user-managed non-host": adminPersonal, "other account's admin": otherOrg} {
		t.Run(name, func(t *testing.T) {
			want(t, env.get(meetingPath(m.ID), tok), 404, notFound(id))
			want(t, env.api(http.MethodPatch, meetingPath(m.ID), tok, `{"topic":"hijacked"}`), 404, notFound(id))
			want(t, env.api(http.MethodDelete, meetingPath(m.ID), tok, ""), 404, notFound(id))
		})
	}
	if got := env.getMeeting(hostPersonal, m.ID); got.Topic != "t" {
		t.Errorf("topic %q", got.Topic)
	}
	wantEmpty(t, env.api(http.MethodPatch, meetingPath(m.ID), ownerOrg, `{"topic":"by the owner"}`))
	if got := env.getMeeting(ownerOrg, m.ID); got.Topic != "by the owner" {
		t.Errorf("topic %q", got.Topic)
	}
	want(t, env.get("/v2/meetings/abc", ownerOrg), 404, notFound("abc"))
	want(t, env.get("/v2/meetings/99999999999", ownerOrg), 404, notFound("99999999999"))
	want(t, env.get(meetingPath(m.ID), ""), 401, `{"code":124,"message":"Requires an access token."}`)
	want(t, env.api(http.MethodDelete, meetingPath(m.ID), "nope", ""), 401, `{"code":124,"message":"Invalid access token."}`)
	wantEmpty(t, env.api(http.MethodDelete, meetingPath(m.ID), hostPersonal, ""))
	if st := env.emu.Stats(); st.MeetingUpdates != 1 || st.MeetingDeletes != 1 {
		t.Errorf("stats: %+v", st)
	}
}

func TestMeetingsAfterRevoke(t *testing.T) {
	env := newEnv(t)
	var events []RevokeEvent
	env.emu.OnRevoke(func(ev RevokeEvent) { events = append(events, ev) })
	tr := env.tokens(orgApp, DevAdminID)
	m := env.createMeeting(tr.AccessToken, "me", `{"topic":"t","start_time":"2026-03-10T10:00:00Z"}`)
	want(t, env.revoke(orgApp, tr.AccessToken), 200, `{"status":"success"}`)
	want(t, env.get(meetingPath(m.ID), tr.AccessToken), 401, `{"code":124,"message":"Invalid access token."}`)
	if len(events) != 1 || events[0].UserID != DevAdminID {
		t.Errorf("events: %+v", events)
	}
	if _, ok := env.emu.Meeting(m.ID); !ok {
		t.Error("revoking the grant deleted its meetings")
	}
}

func TestMeetingValidation(t *testing.T) {
	env := newEnv(t)
	org := env.tokens(orgApp, DevAdminID).AccessToken
	invalid := func(fields ...string) string {
		var b strings.Builder
		b.WriteString(`{"code":300,"message":"Validation Failed.","errors":[`)
		for i, f := range fields {
			if i > 0 {
				b.WriteString(",")
			}
			b.WriteString(`{"field":"` + f + `","message":"Invalid field."}`)
		}
		return b.String() + "]}"
	}
	const badBody = `{"code":300,"message":"Request Body should be a valid JSON object."}`
	tests := []struct{ name, body, want string }{
		{"topic of 201 characters", `{"topic":"` + strings.Repeat("é", 201) + `"}`, invalid("topic")},
		{"agenda of 2001 characters", `{"agenda":"` + strings.Repeat("a", 2001) + `"}`, invalid("agenda")},
		{"passcode of 11 characters", `{"password":"12345678901"}`, invalid("password")},
		{"passcode with a space", `{"password":"ab cd"}`, invalid("password")},
		{"unknown type", `{"type":5}`, invalid("type")},
		{"negative duration", `{"duration":-1}`, invalid("duration")},
		{"duration as a string", `{"duration":"60"}`, invalid("duration")},
		{"topic as a number", `{"topic":42}`, invalid("topic")},
		{"bad start_time", `{"start_time":"tomorrow at ten"}`, invalid("start_time")},
		{"unknown timezone", `{"timezone":"Mars/Olympus_Mons"}`, invalid("timezone")},
		{"Local timezone", `{"timezone":"Local"}`, invalid("timezone")},
		{"bad audio", `{"settings":{"audio":"loud"}}`, invalid("settings.audio")},
		{"bad approval_type", `{"settings":{"approval_type":7}}`, invalid("settings.approval_type")},
		{"bad jbh_time", `{"settings":{"jbh_time":3}}`, invalid("settings.jbh_time")},
		{"bad auto_recording", `{"settings":{"auto_recording":"tape"}}`, invalid("settings.auto_recording")},
		{"bad encryption_type", `{"settings":{"encryption_type":"rot13"}}`, invalid("settings.encryption_type")},
		{"setting of the wrong type", `{"settings":{"waiting_room":"yes"}}`, invalid("settings.waiting_room")},
		{"settings not an object", `{"settings":5}`, invalid("settings")},
		{"several problems", `{"topic":"` + strings.Repeat("x", 201) + `","password":"12345678901","settings":{"audio":"x"}}`,
			invalid("topic", "password", "settings.audio")},
		{"invalid JSON", `{"topic":`, badBody},
		{"empty body", ``, badBody},
		{"array", `[{"topic":"x"}]`, badBody},
		{"null", `null`, badBody},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			want(t, env.api(http.MethodPost, "/v2/users/me/meetings", org, tt.body), 400, tt.want)
		})
	}
	if n := len(env.emu.Meetings("")); n != 0 {
		t.Fatalf("invalid requests created %d meetings", n)
	}

	// The limits themselves are fine; lengths count characters, not bytes.
	m := env.createMeeting(org, "me", `{"topic":"`+strings.Repeat("é", 200)+`","agenda":"`+strings.Repeat("a", 2000)+
		`","password":"Ab1@-_*xyz","settings":null,"type":null}`)
	if m.Password != "Ab1@-_*xyz" || len(m.H323Password) != 6 || strings.Trim(m.H323Password, "0123456789") != "" || m.Type != 1 {
		t.Errorf("meeting at the limits: %+v", m)
	}

	// PATCH validates the same way and changes nothing when it fails.
	r := env.api(http.MethodPatch, meetingPath(m.ID), org, `{"topic":"ok","agenda":"`+strings.Repeat("a", 2001)+`"}`)
	want(t, r, 400, invalid("agenda"))
	if r.header.Get("X-RateLimit-Remaining") == "" {
		t.Error("an update refused by validation carries no rate limit headers")
	}
	want(t, env.api(http.MethodPatch, meetingPath(m.ID), org, ``), 400, badBody)
	if got := env.getMeeting(org, m.ID); got.Topic != m.Topic {
		t.Errorf("failed patch changed the topic to %q", got.Topic)
	}
	r = env.api(http.MethodPost, "/v2/users/me/meetings", org, strings.Repeat(" ", maxFormBytes+1))
	want(t, r, 400, badBody)
}

func TestInstantMeetings(t *testing.T) {
	env := newEnv(t)
	org := env.tokens(orgApp, DevAdminID).AccessToken
	const now = "2026-03-02T09:00:00Z"
	tests := []struct {
		body      string
		typ       int
		startTime string // "" means absent
	}{
		{`{"topic":"no type, no start"}`, 1, now},
		{`{"type":2}`, 1, now},
		{`{"type":2,"start_time":""}`, 1, now},
		{`{"type":1,"start_time":"2026-03-10T10:00:00Z"}`, 1, now},
		{`{"type":3}`, 3, ""},
		{`{"type":3,"start_time":"2026-03-10T10:00:00Z"}`, 3, "2026-03-10T10:00:00Z"},
		{`{"type":8,"start_time":"2026-03-10T10:00:00Z"}`, 8, "2026-03-10T10:00:00Z"},
		{`{"type":10}`, 10, now},
		{`{"start_time":"2026-03-10T10:00:00+02:00"}`, 2, "2026-03-10T08:00:00Z"},
		{`{"start_time":"2026-03-10T10:00:00.75Z"}`, 2, "2026-03-10T10:00:00Z"},
		{`{"start_time":"2026-03-10T10:00:00"}`, 2, "2026-03-10T09:00:00Z"}, // the host's zone, Europe/Berlin
	}
	for _, tt := range tests {
		r := env.api(http.MethodPost, "/v2/users/me/meetings", org, tt.body)
		m := decodeMeeting(t, r)
		if r.status != 201 || m.Type != tt.typ || m.StartTime != tt.startTime {
			t.Errorf("%s: got %d type %d start %q, want type %d start %q", tt.body, r.status, m.Type, m.StartTime, tt.typ, tt.startTime)
		}
		if _, has := jsonMap(t, r.body)["start_time"]; has != (tt.startTime != "") {
			t.Errorf("%s: start_time present = %v", tt.body, has)
		}
		if m.Timezone != "Europe/Berlin" {
			t.Errorf("%s: timezone %q, want the host's", tt.body, m.Timezone)
		}
	}
	// Lists leave instant meetings out.
	var list struct {
		TotalRecords int `json:"total_records"`
		Meetings     []struct {
			Type int `json:"type"`
		} `json:"meetings"`
	}
	if err := json.Unmarshal([]byte(env.get("/v2/users/me/meetings", org).body), &list); err != nil {
		t.Fatal(err)
	}
	if list.TotalRecords != 7 || len(list.Meetings) != 7 || slices.ContainsFunc(list.Meetings, func(m struct {
		Type int `json:"type"`
	}) bool {
		return m.Type == 1
	}) {
		t.Errorf("list: %+v", list)
	}
}

func jsonMap(t *testing.T, body string) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal([]byte(body), &m); err != nil {
		t.Fatalf("%s: %v", body, err)
	}
	return m
}

func TestMeetingPasscodes(t *testing.T) {
	t.Run("required by default", func(t *testing.T) {
		env := newEnv(t)
		org := env.tokens(orgApp, DevAdminID).AccessToken
		m := env.createMeeting(org, "me", `{"default_password":false}`)
		if len(m.Password) != 6 || !strings.Contains(m.JoinURL, "?pwd=") {
			t.Errorf("meeting: %+v", m)
		}
		if m := env.createMeeting(org, "me", `{"password":"4242"}`); m.Password != "4242" || m.H323Password != "4242" || m.PSTNPassword != "4242" {
			t.Errorf("numeric passcode: %+v", m)
		}
	})
	t.Run("optional", func(t *testing.T) {
		env := newEnv(t, func(c *Config) { c.MeetingPasscodeOptional = true })
		org := env.tokens(orgApp, DevAdminID).AccessToken
		r := env.api(http.MethodPost, "/v2/users/me/meetings", org, `{"topic":"open"}`)
		m := decodeMeeting(t, r)
		if m.Password != "" || m.JoinURL != fmt.Sprintf("https://us05web.zoom.us/j/%d", m.ID) {
			t.Errorf("meeting: %+v", m)
		}
		for _, k := range []string{"password", "h323_password", "pstn_password", "encrypted_password"} {
			if _, ok := jsonMap(t, r.body)[k]; ok {
				t.Errorf("%s present without a passcode", k)
			}
		}
		// default_password applies the host's own settings, which do not
		// require a passcode here: it guarantees none.
		if m := env.createMeeting(org, "me", `{"default_password":true}`); m.Password != "" {
			t.Errorf("default_password true on a host without required passcodes: %+v", m)
		}
		if m := env.createMeeting(org, "me", `{"password":"a@B-c_D*9z"}`); m.Password != "a@B-c_D*9z" || !strings.Contains(m.JoinURL, "?pwd=") {
			t.Errorf("explicit passcode: %+v", m)
		}
	})
}

// listPage is a list answer.
type listPage struct {
	PageSize      int    `json:"page_size"`
	TotalRecords  int    `json:"total_records"`
	NextPageToken string `json:"next_page_token"`
	Meetings      []struct {
		ID     int64  `json:"id"`
		Topic  string `json:"topic"`
		Agenda string `json:"agenda"`
	} `json:"meetings"`
}

func (e *env) list(token, userID, query string) listPage {
	e.t.Helper()
	r := e.get("/v2/users/"+url.PathEscape(userID)+"/meetings?"+query, token)
	if r.status != http.StatusOK {
		e.t.Fatalf("list %s: %d %s", query, r.status, r.body)
	}
	var p listPage
	if err := json.Unmarshal([]byte(r.body), &p); err != nil {
		e.t.Fatal(err)
	}
	return p
}

func (p listPage) topics() []string {
	var out []string
	for _, m := range p.Meetings {
		out = append(out, m.Topic)
	}
	return out
}

// longTokens keeps access tokens valid while a test moves the clock by days.
func longTokens(c *Config) { c.AccessTokenTTL = 30 * 24 * time.Hour }

func TestListMeetings(t *testing.T) {
	env := newEnv(t, longTokens)
	org := env.tokens(orgApp, DevAdminID).AccessToken
	// Created in reverse order of their start: the list is by start time.
	for day := 9; day >= 3; day-- {
		env.createMeeting(org, DevMemberID, fmt.Sprintf(`{"topic":"day %d","agenda":"[zc:%d]","start_time":"2026-03-%02dT10:00:00Z","duration":60}`, day, day, day))
	}
	env.createMeeting(org, DevMemberID, `{"topic":"instant"}`)
	env.createMeeting(org, DevOwnerID, `{"topic":"owner's","start_time":"2026-03-04T10:00:00Z"}`)

	r := env.get("/v2/users/member@acme.example/meetings?type=scheduled&page_size=3", org)
	if r.status != 200 {
		t.Fatalf("list: %d %s", r.status, r.body)
	}
	var raw struct {
		Meetings []json.RawMessage `json:"meetings"`
	}
	if err := json.Unmarshal([]byte(r.body), &raw); err != nil {
		t.Fatal(err)
	}
	if keys := jsonKeys(t, []byte(r.body)); !slices.Equal(keys, []string{"meetings", "next_page_token", "page_size", "total_records"}) {
		t.Errorf("list fields %v", keys)
	}
	wantItem := []string{"agenda", "created_at", "duration", "host_id", "id", "join_url", "start_time", "timezone", "topic", "type", "uuid"}
	if keys := jsonKeys(t, raw.Meetings[0]); !slices.Equal(keys, wantItem) {
		t.Errorf("item fields %v\nwant        %v", keys, wantItem)
	}
	var p1 listPage
	if err := json.Unmarshal([]byte(r.body), &p1); err != nil {
		t.Fatal(err)
	}
	if p1.PageSize != 3 || p1.TotalRecords != 7 || p1.NextPageToken == "" ||
		!slices.Equal(p1.topics(), []string{"day 3", "day 4", "day 5"}) || p1.Meetings[0].Agenda != "[zc:3]" {
		t.Fatalf("page 1: %+v", p1)
	}
	// A meeting deleted between pages does not shift the next page.
	wantEmpty(t, env.api(http.MethodDelete, meetingPath(p1.Meetings[2].ID), org, ""))
	p2 := env.list(org, DevMemberID, "page_size=3&next_page_token="+p1.NextPageToken)
	if p2.TotalRecords != 6 || !slices.Equal(p2.topics(), []string{"day 6", "day 7", "day 8"}) || p2.NextPageToken == "" {
		t.Fatalf("page 2: %+v", p2)
	}
	p3 := env.list(org, DevMemberID, "page_size=3&next_page_token="+p2.NextPageToken)
	if !slices.Equal(p3.topics(), []string{"day 9"}) || p3.NextPageToken != "" {
		t.Fatalf("page 3: %+v", p3)
	}
	// Tokens can be reused while they last.
	if again := env.list(org, DevMemberID, "page_size=3&next_page_token="+p2.NextPageToken); !slices.Equal(again.topics(), p3.topics()) {
		t.Errorf("reused token: %+v", again)
	}

	if p := env.list(org, DevMemberID, ""); p.PageSize != 30 || len(p.Meetings) != 6 || p.NextPageToken != "" {
		t.Errorf("defaults: %+v", p)
	}
	if p := env.list(org, DevMemberID, "page_size=0"); p.PageSize != 30 {
		t.Errorf("page_size=0: %+v", p)
	}
	if p := env.list(org, DevMemberID, "page_size=1000"); p.PageSize != 300 {
		t.Errorf("page_size=1000: %+v", p)
	}
	if p := env.list(org, DevOwnerID, ""); !slices.Equal(p.topics(), []string{"owner's"}) {
		t.Errorf("owner's list: %+v", p)
	}

	// Time-based types, on 2026-03-04 at 10:30 (day 4 is running).
	env.clock.Advance(2*24*time.Hour + 90*time.Minute)
	if p := env.list(org, DevMemberID, "type=upcoming"); !slices.Equal(p.topics(), []string{"day 4", "day 6", "day 7", "day 8", "day 9"}) {
		t.Errorf("upcoming: %v", p.topics())
	}
	if p := env.list(org, DevMemberID, "type=upcoming_meetings&page_size=1"); p.TotalRecords != 5 || len(p.Meetings) != 1 {
		t.Errorf("upcoming_meetings: %+v", p)
	}
	if p := env.list(org, DevMemberID, "type=previous_meetings"); !slices.Equal(p.topics(), []string{"day 3"}) {
		t.Errorf("previous_meetings: %v", p.topics())
	}
	want(t, env.get("/v2/users/me/meetings?type=live", org), 200, `{"page_size":30,"total_records":0,"next_page_token":"","meetings":[]}`)

	const badToken = `{"code":300,"message":"The next page token is invalid or expired."}`
	p1 = env.list(org, DevMemberID, "page_size=2")
	want(t, env.get("/v2/users/"+DevMemberID+"/meetings?next_page_token=nope", org), 400, badToken)
	want(t, env.get("/v2/users/"+DevMemberID+"/meetings?type=upcoming&next_page_token="+p1.NextPageToken, org), 400, badToken)
	want(t, env.get("/v2/users/"+DevOwnerID+"/meetings?next_page_token="+p1.NextPageToken, org), 400, badToken)
	env.clock.Advance(pageTokenTTL)
	want(t, env.get("/v2/users/"+DevMemberID+"/meetings?next_page_token="+p1.NextPageToken, org), 400, badToken)

	want(t, env.get("/v2/users/me/meetings?type=bogus&page_size=x", org), 400,
		`{"code":300,"message":"Validation Failed.","errors":[{"field":"type","message":"Invalid field."},{"field":"page_size","message":"Invalid field."}]}`)

	personal := env.tokens(userApp, DevMemberID).AccessToken
	if p := env.list(personal, "me", ""); p.TotalRecords != 6 {
		t.Errorf("user-managed me: %+v", p)
	}
	want(t, env.get("/v2/users/"+DevOwnerID+"/meetings", personal), 400,
		`{"code":4711,"message":"Invalid access token, does not contain scopes:[meeting:read:list_meetings:admin]."}`)
	want(t, env.get("/v2/users/owner@globex.example/meetings", org), 404,
		`{"code":1001,"message":"User does not exist: owner@globex.example."}`)
	want(t, env.get("/v2/users/me/meetings", ""), 401, `{"code":124,"message":"Requires an access token."}`)
	if st := env.emu.Stats(); st.MeetingCreates != 9 || st.MeetingUpdates != 0 {
		t.Errorf("listing changed stats: %+v", st)
	}
}

func TestMeetingDailyLimit(t *testing.T) {
	env := newEnv(t, longTokens) // 2026-03-02 09:00 UTC
	org := env.tokens(orgApp, DevAdminID).AccessToken
	personal := env.tokens(userApp, DevMemberID).AccessToken
	m := env.createMeeting(org, DevMemberID, `{"topic":"t","start_time":"2026-03-10T10:00:00Z"}`)
	// Creates and updates through both apps share the host's budget.
	for i := 2; i <= 99; i++ {
		tok := org
		if i%2 == 0 {
			tok = personal
		}
		r := env.api(http.MethodPatch, meetingPath(m.ID), tok, fmt.Sprintf(`{"topic":"update %d"}`, i))
		wantEmpty(t, r)
		wantRemaining(t, r, 100-i)
	}
	r := env.api(http.MethodPost, "/v2/users/me/meetings", personal, `{"topic":"hundredth"}`)
	if r.status != 201 {
		t.Fatalf("100th request: %d %s", r.status, r.body)
	}
	wantRemaining(t, r, 0)

	const limited = `{"code":429,"message":"You have exceeded the daily rate limit (100) of Meeting Create/Update API requests permitted for this particular user. You may resume these requests at GMT 00:00:00."}`
	// As observed at Zoom: no Retry-After and no X-RateLimit-Type; only the
	// message says when the cap resets.
	check429 := func(r response, _ string) {
		t.Helper()
		want(t, r, 429, limited)
		for k, v := range map[string]string{"X-RateLimit-Category": "Light", "X-RateLimit-Type": "",
			"X-RateLimit-Limit": "100", "X-RateLimit-Remaining": "0", "Retry-After": ""} {
			if got := r.header.Get(k); got != v {
				t.Errorf("%s = %q, want %q", k, got, v)
			}
		}
	}
	check429(env.api(http.MethodPatch, meetingPath(m.ID), org, `{"topic":"101st"}`), "2026-03-03T00:00:00Z")
	check429(env.api(http.MethodPost, "/v2/users/"+DevMemberID+"/meetings", org, `{"topic":"x"}`), "2026-03-03T00:00:00Z")
	check429(env.api(http.MethodPost, "/v2/users/me/meetings", personal, `{"topic":`), "2026-03-03T00:00:00Z") // before validation
	// Reads and deletes do not count and still work; other hosts are not affected.
	if got := env.getMeeting(org, m.ID); got.Topic != "update 99" {
		t.Errorf("topic %q", got.Topic)
	}
	env.list(org, DevMemberID, "")
	wantEmpty(t, env.api(http.MethodDelete, meetingPath(env.emu.Meetings(DevMemberID)[1].ID), org, ""))
	wantRemaining(t, env.api(http.MethodPost, "/v2/users/me/meetings", org, `{}`), 99)

	env.clock.Advance(14*time.Hour + 59*time.Minute + 59*time.Second) // 23:59:59
	check429(env.api(http.MethodPatch, meetingPath(m.ID), org, `{"topic":"late"}`), "2026-03-03T00:00:00Z")
	env.clock.Advance(time.Second) // midnight UTC
	r = env.api(http.MethodPatch, meetingPath(m.ID), org, `{"topic":"next day"}`)
	wantEmpty(t, r)
	wantRemaining(t, r, 99)
	env.clock.Advance(24 * time.Hour)
	wantRemaining(t, env.api(http.MethodPost, "/v2/users/me/meetings", personal, `{}`), 99)

	if st := env.emu.Stats(); st.MeetingsRateLimited != 4 || st.MeetingCreates != 4 || st.MeetingUpdates != 99 {
		t.Errorf("stats: %+v", st)
	}
	if n := len(env.emu.Meetings(DevMemberID)); n != 2 {
		t.Errorf("%d meetings for the host, want 2", n)
	}

	t.Run("configurable", func(t *testing.T) {
		env := newEnv(t, func(c *Config) { c.MeetingDailyLimit = 2 })
		org := env.tokens(orgApp, DevAdminID).AccessToken
		env.createMeeting(org, "me", `{}`)
		env.createMeeting(org, "me", `{}`)
		r := env.api(http.MethodPost, "/v2/users/me/meetings", org, `{}`)
		if r.status != 429 || !strings.Contains(r.body, "daily rate limit (2) of") || r.header.Get("X-RateLimit-Limit") != "2" {
			t.Errorf("got %d %s %v", r.status, r.body, r.header)
		}
	})
	t.Run("disabled", func(t *testing.T) {
		env := newEnv(t, func(c *Config) { c.MeetingDailyLimit = -1 })
		org := env.tokens(orgApp, DevAdminID).AccessToken
		for range 3 {
			r := env.api(http.MethodPost, "/v2/users/me/meetings", org, `{}`)
			if r.status != 201 || r.header.Get("X-RateLimit-Limit") != "" {
				t.Errorf("got %d, headers %v", r.status, r.header)
			}
		}
	})
}

func TestMeetingFaults(t *testing.T) {
	const body = `{"topic":"t","start_time":"2026-03-10T10:00:00Z"}`
	t.Run("429 with headers, once", func(t *testing.T) {
		env := newEnv(t)
		org := env.tokens(orgApp, DevAdminID).AccessToken
		const limited = `{"code":429,"message":"You have reached the maximum per-second rate limit for this API. Try again later."}`
		env.emu.InjectFault(EndpointMeetings, Fault{Status: 429, Body: limited, Times: 1,
			Header: http.Header{"Retry-After": {"2026-03-03T00:00:00Z"}, "X-Ratelimit-Type": {"QPS"}}})
		r := env.api(http.MethodPost, "/v2/users/me/meetings", org, body)
		want(t, r, 429, limited)
		if r.header.Get("Retry-After") != "2026-03-03T00:00:00Z" || r.header.Get("X-RateLimit-Type") != "QPS" ||
			r.header.Get("Content-Type") != jsonContentType {
			t.Errorf("headers: %v", r.header)
		}
		env.createMeeting(org, "me", body)
		if st := env.emu.Stats(); st.FaultResponses != 1 || st.MeetingCreates != 1 || st.MeetingsCalls != 1 {
			t.Errorf("stats: %+v", st)
		}
	})
	t.Run("503 on every meetings route until cleared", func(t *testing.T) {
		env := newEnv(t)
		org := env.tokens(orgApp, DevAdminID).AccessToken
		m := env.createMeeting(org, "me", body)
		env.emu.InjectFault(EndpointMeetings, Fault{Status: 503, Body: "upstream unavailable"})
		for _, r := range []response{
			env.get(meetingPath(m.ID), org),
			env.api(http.MethodPatch, meetingPath(m.ID), org, `{"topic":"x"}`),
			env.api(http.MethodDelete, meetingPath(m.ID), org, ""),
			env.get("/v2/users/me/meetings", org),
			env.api(http.MethodPost, "/v2/users/me/meetings", org, body),
		} {
			want(t, r, 503, "upstream unavailable")
		}
		if r := env.get("/v2/users/me", org); r.status != 200 {
			t.Errorf("users endpoint faulted too: %d", r.status)
		}
		env.emu.ClearFaults()
		if got := env.getMeeting(org, m.ID); got.Topic != "t" {
			t.Errorf("topic %q", got.Topic)
		}
		if st := env.emu.Stats(); st.FaultResponses != 5 || st.MeetingCreates != 1 || st.MeetingUpdates != 0 {
			t.Errorf("stats: %+v", st)
		}
	})
	t.Run("slow answer", func(t *testing.T) {
		env := newEnv(t)
		org := env.tokens(orgApp, DevAdminID).AccessToken
		env.emu.InjectFault(EndpointMeetings, Fault{Delay: 50 * time.Millisecond, Times: 1})
		start := time.Now()
		env.createMeeting(org, "me", body)
		if d := time.Since(start); d < 50*time.Millisecond {
			t.Errorf("answered after %v", d)
		}
	})
	t.Run("client gives up on a slow answer: nothing happens", func(t *testing.T) {
		env := newEnv(t)
		org := env.tokens(orgApp, DevAdminID).AccessToken
		env.emu.InjectFault(EndpointMeetings, Fault{Delay: time.Hour})
		ctx, cancel := context.WithTimeout(t.Context(), 100*time.Millisecond)
		defer cancel()
		req, _ := http.NewRequestWithContext(ctx, http.MethodPost, env.base+"/v2/users/me/meetings", strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+org)
		if _, err := env.http.Do(req); !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("err = %v", err)
		}
		env.srv.Close() // waits for the handler
		if n := len(env.emu.Meetings("")); n != 0 {
			t.Errorf("%d meetings", n)
		}
	})
	t.Run("drop after processing", func(t *testing.T) {
		env := newEnv(t)
		org := env.tokens(orgApp, DevAdminID).AccessToken
		env.emu.InjectFault(EndpointMeetings, Fault{DropAfterProcessing: true, Status: 500, Times: 1})
		req, _ := http.NewRequest(http.MethodPost, env.base+"/v2/users/"+DevMemberID+"/meetings", strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+org)
		resp, err := env.http.Do(req)
		if err == nil {
			resp.Body.Close()
			t.Fatalf("got an answer: %d", resp.StatusCode)
		}
		if !errors.Is(err, io.EOF) {
			t.Errorf("err = %v, want EOF", err)
		}
		ms := env.emu.Meetings(DevMemberID)
		if len(ms) != 1 || ms[0].Topic != "t" {
			t.Fatalf("meetings after the lost answer: %+v", ms)
		}
		// The fault is spent; the meeting is really there.
		if got := env.getMeeting(org, ms[0].ID); got.ID != ms[0].ID {
			t.Errorf("get: %+v", got)
		}
		// A lost update is applied too.
		env.emu.InjectFault(EndpointMeetings, Fault{DropAfterProcessing: true, Times: 1})
		req, _ = http.NewRequest(http.MethodPatch, env.base+meetingPath(ms[0].ID), strings.NewReader(`{"topic":"moved"}`))
		req.Header.Set("Authorization", "Bearer "+org)
		if resp, err := env.http.Do(req); err == nil {
			resp.Body.Close()
			t.Fatalf("got an answer: %d", resp.StatusCode)
		}
		if got := env.getMeeting(org, ms[0].ID); got.Topic != "moved" {
			t.Errorf("topic %q", got.Topic)
		}
		if st := env.emu.Stats(); st.DroppedResponses != 2 || st.FaultResponses != 0 || st.MeetingCreates != 1 || st.MeetingUpdates != 1 {
			t.Errorf("stats: %+v", st)
		}
		// The handler logs after it closed the connection, so possibly after
		// the client saw the drop; and httptest.Server.Close does not wait
		// for handlers of hijacked connections. Wait for the line.
		for _, logged := range []string{
			"method=POST path=/v2/users/" + DevMemberID + "/meetings status=0",
			"method=PATCH path=" + meetingPath(ms[0].ID) + " status=0",
		} {
			for deadline := time.Now().Add(5 * time.Second); !strings.Contains(env.logs.String(), logged); {
				if time.Now().After(deadline) {
					t.Fatalf("dropped request not logged with status 0 (%s):\n%s", logged, env.logs)
				}
				time.Sleep(5 * time.Millisecond)
			}
		}
	})
	t.Run("drop without a hijackable connection aborts the handler", func(t *testing.T) {
		env := newEnv(t)
		org := env.tokens(orgApp, DevAdminID).AccessToken
		env.emu.InjectFault(EndpointMeetings, Fault{DropAfterProcessing: true})
		req := httptest.NewRequest(http.MethodPost, "/v2/users/me/meetings", strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+org)
		rec := httptest.NewRecorder()
		func() {
			defer func() {
				if p := recover(); p != http.ErrAbortHandler {
					t.Errorf("panic %v, want http.ErrAbortHandler", p)
				}
			}()
			env.emu.Handler().ServeHTTP(rec, req)
		}()
		if rec.Body.Len() != 0 || len(env.emu.Meetings(DevAdminID)) != 1 {
			t.Errorf("body %q, meetings %d", rec.Body, len(env.emu.Meetings(DevAdminID)))
		}
	})
}

func TestDeleteMeetingBehindTheAppsBack(t *testing.T) {
	env := newEnv(t)
	org := env.tokens(orgApp, DevAdminID).AccessToken
	m := env.createMeeting(org, "me", `{}`)
	if err := env.emu.DeleteMeeting(m.ID); err != nil {
		t.Fatal(err)
	}
	if err := env.emu.DeleteMeeting(m.ID); err == nil {
		t.Error("second DeleteMeeting succeeded")
	}
	if _, ok := env.emu.Meeting(m.ID); ok {
		t.Error("Meeting still finds it")
	}
	want(t, env.api(http.MethodDelete, meetingPath(m.ID), org, ""), 404, notFound(strconv.FormatInt(m.ID, 10)))
	if st := env.emu.Stats(); st.MeetingDeletes != 0 {
		t.Errorf("stats: %+v", st)
	}
}

func TestConcurrentMeetingCreates(t *testing.T) {
	env := newEnv(t)
	org := env.tokens(orgApp, DevAdminID).AccessToken
	personal := env.tokens(userApp, DevMemberID).AccessToken
	const n = 20
	var wg sync.WaitGroup
	ids := make(chan int64, n)
	for i := range n {
		tok := org
		if i%2 == 0 {
			tok = personal
		}
		wg.Go(func() {
			req, _ := http.NewRequest(http.MethodPost, env.base+"/v2/users/"+DevMemberID+"/meetings",
				bytes.NewReader([]byte(`{"start_time":"2026-03-10T10:00:00Z"}`)))
			req.Header.Set("Authorization", "Bearer "+tok)
			resp, err := env.http.Do(req)
			if err != nil {
				t.Error(err)
				return
			}
			defer resp.Body.Close()
			var m apiMeetingJSON
			if err := json.NewDecoder(resp.Body).Decode(&m); err != nil || resp.StatusCode != 201 {
				t.Errorf("%d %v", resp.StatusCode, err)
			}
			ids <- m.ID
		})
	}
	wg.Wait()
	close(ids)
	seen := map[int64]bool{}
	for id := range ids {
		seen[id] = true
	}
	if len(seen) != n || len(env.emu.Meetings(DevMemberID)) != n {
		t.Errorf("%d distinct ids, %d meetings", len(seen), len(env.emu.Meetings(DevMemberID)))
	}
}

func TestListOrder(t *testing.T) {
	env := newEnv(t)
	if err := env.emu.AddUser(User{ID: "zoneless", AccountID: DevAccountID, Email: "zoneless@acme.example", Timezone: "Nowhere/Land"}); err != nil {
		t.Fatal(err)
	}
	org := env.tokens(orgApp, DevAdminID).AccessToken
	for _, b := range []string{
		`{"topic":"recurring","type":3}`,
		`{"topic":"day 5","start_time":"2026-03-05T10:00:00Z"}`,
		`{"topic":"day 4 a","start_time":"2026-03-04T10:00:00Z"}`,
		`{"topic":"day 4 b","start_time":"2026-03-04T10:00:00Z"}`,
		`{"topic":"recurring 2","type":3}`,
	} {
		env.createMeeting(org, "zoneless", b)
	}
	if p := env.list(org, "zoneless", ""); !slices.Equal(p.topics(), []string{"day 4 a", "day 4 b", "day 5", "recurring", "recurring 2"}) {
		t.Errorf("scheduled: %v", p.topics())
	}
	if p := env.list(org, "zoneless", "type=upcoming"); !slices.Equal(p.topics(), []string{"day 4 a", "day 4 b", "day 5"}) {
		t.Errorf("upcoming: %v", p.topics())
	}
	if p := env.list(org, "zoneless", "type=previous_meetings"); len(p.Meetings) != 0 {
		t.Errorf("previous: %v", p.topics())
	}
	// A host whose zone is unknown gets local start times read as UTC.
	if m := env.createMeeting(org, "zoneless", `{"start_time":"2026-03-10T10:00:00"}`); m.StartTime != "2026-03-10T10:00:00Z" || m.Timezone != "Nowhere/Land" {
		t.Errorf("meeting: %+v", m)
	}
}
