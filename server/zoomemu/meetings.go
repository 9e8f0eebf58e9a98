package zoomemu

import (
	"bytes"
	"cmp"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// Meeting is a meeting as the emulator holds it; Meetings and Meeting return
// copies.
type Meeting struct {
	// ID is Zoom's meeting number: 64 bits, beyond int32 (the first is
	// 81234567890).
	ID int64
	// UUID is base64 of 16 random bytes and may contain '/' and '+'.
	UUID string
	// HostID, HostEmail and AccountID are the host's.
	HostID, HostEmail, AccountID string
	// CreatedBy is the client id of the app whose token created the meeting.
	CreatedBy string
	Topic     string
	// Type is 1 (instant), 2 (scheduled), 3 (recurring, no fixed time), 8
	// (recurring, fixed time) or 10 (screen share only).
	Type int
	// Status is "waiting"; the emulator never starts meetings.
	Status string
	// StartTime is in UTC, whole seconds; zero only for a type 3 meeting
	// created without one.
	StartTime time.Time
	// Duration is in minutes.
	Duration  int
	Timezone  string
	Agenda    string
	CreatedAt time.Time
	// Password is the passcode ("" for none); H323Password and PSTNPassword
	// are its numeric form, EncryptedPassword the join URL's pwd parameter.
	Password, H323Password, PSTNPassword, EncryptedPassword string
	JoinURL                                                 string
	PreSchedule                                             bool
	Settings                                                MeetingSettings
}

// MeetingSettings are the meeting settings the emulator keeps: requests may
// set any of them (others are ignored, as Zoom ignores unknown fields) and
// every response shows all of them. Zoom documents that waiting_room
// disables join_before_host in the meeting; the emulator echoes both as set.
type MeetingSettings struct {
	HostVideo                         bool   `json:"host_video"`
	ParticipantVideo                  bool   `json:"participant_video"`
	JoinBeforeHost                    bool   `json:"join_before_host"`
	JBHTime                           int    `json:"jbh_time"`
	MuteUponEntry                     bool   `json:"mute_upon_entry"`
	Watermark                         bool   `json:"watermark"`
	UsePMI                            bool   `json:"use_pmi"`
	ApprovalType                      int    `json:"approval_type"`
	Audio                             string `json:"audio"`
	AutoRecording                     string `json:"auto_recording"`
	EnforceLogin                      bool   `json:"enforce_login"`
	EnforceLoginDomains               string `json:"enforce_login_domains"`
	AlternativeHosts                  string `json:"alternative_hosts"`
	AlternativeHostsEmailNotification bool   `json:"alternative_hosts_email_notification"`
	WaitingRoom                       bool   `json:"waiting_room"`
	MeetingAuthentication             bool   `json:"meeting_authentication"`
	EmailNotification                 bool   `json:"email_notification"`
	RegistrantsEmailNotification      bool   `json:"registrants_email_notification"`
	PrivateMeeting                    bool   `json:"private_meeting"`
	EncryptionType                    string `json:"encryption_type"`
	FocusMode                         bool   `json:"focus_mode"`
	AutoStartMeetingSummary           bool   `json:"auto_start_meeting_summary"`
	AutoStartAICompanionQuestions     bool   `json:"auto_start_ai_companion_questions"`
}

// defaultMeetingSettings are Zoom's documented defaults.
func defaultMeetingSettings() MeetingSettings {
	return MeetingSettings{ApprovalType: 2, Audio: "both", AutoRecording: "none", AlternativeHostsEmailNotification: true,
		EmailNotification: true, RegistrantsEmailNotification: true, EncryptionType: "enhanced_encryption"}
}

const (
	firstMeetingID = 81234567890
	// pageTokenTTL is how long Zoom honours a next_page_token.
	pageTokenTTL = 15 * time.Minute
)

func meetingNotFound(meetingID string) *apiError {
	return &apiError{status: http.StatusNotFound, Code: 3001, Message: "Meeting does not exist: " + meetingID + "."}
}

var (
	errInvalidBody = &apiError{status: http.StatusBadRequest, Code: 300, Message: "Request Body should be a valid JSON object."}
	// errCannotHost answers a create for an inactive or pending user. Zoom's
	// answer for that case is undocumented; this is its documented error
	// for users who may not host.
	errCannotHost = &apiError{status: http.StatusBadRequest, Code: 3161,
		Message: "Your user account is not allowed meeting hosting and scheduling capabilities."}
	// errInvalidPageToken answers an unknown, expired or foreign
	// next_page_token (Zoom's exact answer is undocumented).
	errInvalidPageToken = &apiError{status: http.StatusBadRequest, Code: 300, Message: "The next page token is invalid or expired."}
)

func validationFailed(errs []fieldError) *apiError {
	return &apiError{status: http.StatusBadRequest, Code: 300, Message: "Validation Failed.", Errors: errs}
}

// apiResult is a REST answer computed while e.mu is held and written after.
type apiResult struct {
	status int
	header http.Header
	body   any // nil: no body (204)
}

func failed(aerr *apiError) apiResult {
	return apiResult{status: aerr.status, header: aerr.header, body: aerr}
}

func (res apiResult) write(w http.ResponseWriter) {
	maps.Copy(w.Header(), res.header)
	if res.body == nil {
		w.WriteHeader(res.status)
		return
	}
	writeJSON(w, res.status, res.body)
}

// meetingsHandler authenticates a Meetings API request like the Users API
// does and runs f with e.mu held. The body is read first, outside the lock;
// an unreadable or oversized body reaches f as nil.
func (e *Emulator) meetingsHandler(f func(r *http.Request, g *grant, body []byte, now time.Time) apiResult) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxFormBytes))
		if err != nil {
			body = nil
		}
		e.mu.Lock()
		e.stats.MeetingsCalls++
		now := e.cfg.Now()
		var res apiResult
		if g, aerr := e.apiGrant(r, now); aerr != nil {
			res = failed(aerr)
		} else if aerr := e.takeAccountRate(g.accountID, r, now); aerr != nil {
			res = failed(aerr)
		} else {
			res = f(r, g, body, now)
		}
		e.mu.Unlock()
		res.write(w)
	}
}

// createMeeting is POST /v2/users/{userId}/meetings. userId is resolved as
// in GET /v2/users/{userId}: admin-managed grants may create for any user of
// their account, user-managed ones only for their own user (others: 400
// 4711; unknown users and other accounts: 404 1001). Requests that get this
// far count against the host's daily limit, also when the body then fails
// validation (Zoom does not document which requests count).
func (e *Emulator) createMeeting(w http.ResponseWriter, r *http.Request) {
	e.meetingsHandler(e.createMeetingLocked)(w, r)
}

func (e *Emulator) createMeetingLocked(r *http.Request, g *grant, body []byte, now time.Time) apiResult {
	host, aerr := e.resolveUser(g, r.PathValue("userId"), scopeCreateMeeting)
	if aerr != nil {
		return failed(aerr)
	}
	if host.Status != "active" {
		return failed(errCannotHost)
	}
	quotaHeader, aerr := e.takeMeetingQuota(host.ID, now)
	if aerr != nil {
		return failed(aerr)
	}
	in, aerr := parseMeetingRequest(body, defaultMeetingSettings(), host.Timezone)
	if aerr != nil {
		res := failed(aerr)
		res.header = quotaHeader
		return res
	}
	req := in.req
	m := &Meeting{ID: e.nextMeetingID, UUID: base64.StdEncoding.EncodeToString(randomBytes(16)),
		HostID: host.ID, HostEmail: host.Email, AccountID: host.AccountID, CreatedBy: g.clientID,
		Topic: "Zoom Meeting", Type: 2, Status: "waiting", Timezone: host.Timezone,
		CreatedAt: now.UTC().Truncate(time.Second), Settings: in.settings}
	e.nextMeetingID++
	if req.Topic != nil {
		m.Topic = *req.Topic
	}
	if req.Type != nil {
		m.Type = *req.Type
	}
	if req.Duration != nil {
		m.Duration = *req.Duration
	}
	if in.timezone != "" {
		m.Timezone = in.timezone
	}
	if req.Agenda != nil {
		m.Agenda = *req.Agenda
	}
	if req.PreSchedule != nil {
		m.PreSchedule = *req.PreSchedule
	}
	switch {
	case m.Type == 1 || (m.Type == 2 && !in.hasStart):
		// Zoom: a scheduled meeting without start_time is an instant one,
		// and an instant meeting starts now whatever start_time says.
		m.Type, m.StartTime = 1, m.CreatedAt
	case in.hasStart:
		m.StartTime = in.start
	case m.Type != 3:
		m.StartTime = m.CreatedAt
	}
	pw := ""
	switch {
	case req.Password != nil && *req.Password != "":
		pw = *req.Password
	case !e.cfg.MeetingPasscodeOptional:
		pw = randomFrom(passcodeAlphabet, 6)
	}
	m.setPassword(pw)
	e.meetings[m.ID] = m
	e.stats.MeetingCreates++
	e.saveState()
	return apiResult{status: http.StatusCreated, header: quotaHeader, body: renderMeeting(m, now)}
}

// getMeeting is GET /v2/meetings/{meetingId}.
//
// A grant may see, change and delete a meeting when it may act for the
// host: an admin-managed grant of the host's account, or any grant of the
// host themselves. Other meetings, like unknown ones and ids that are not
// numbers, are 404 3001, so that a token cannot probe for meetings it may
// not use (Zoom's answer for that case is undocumented).
func (e *Emulator) getMeeting(w http.ResponseWriter, r *http.Request) {
	e.meetingsHandler(func(r *http.Request, g *grant, _ []byte, now time.Time) apiResult {
		m, aerr := e.accessibleMeeting(g, r.PathValue("meetingId"), scopeReadMeeting)
		if aerr != nil {
			return failed(aerr)
		}
		return apiResult{status: http.StatusOK, body: renderMeeting(m, now)}
	})(w, r)
}

// updateMeeting is PATCH /v2/meetings/{meetingId}: 204 without a body. It
// changes topic, start_time, duration, timezone, agenda, password and any
// settings sent; other fields (type included) are ignored. As Zoom
// documents, a start_time in the past is ignored. A start_time without
// offset is read in the request's timezone, else the meeting's; a new
// timezone alone keeps the start instant. Updates count against the host's
// daily limit as creates do.
func (e *Emulator) updateMeeting(w http.ResponseWriter, r *http.Request) {
	e.meetingsHandler(e.updateMeetingLocked)(w, r)
}

func (e *Emulator) updateMeetingLocked(r *http.Request, g *grant, body []byte, now time.Time) apiResult {
	m, aerr := e.accessibleMeeting(g, r.PathValue("meetingId"), scopeUpdateMeeting)
	if aerr != nil {
		return failed(aerr)
	}
	quotaHeader, aerr := e.takeMeetingQuota(m.HostID, now)
	if aerr != nil {
		return failed(aerr)
	}
	in, aerr := parseMeetingRequest(body, m.Settings, m.Timezone)
	if aerr != nil {
		res := failed(aerr)
		res.header = quotaHeader
		return res
	}
	req := in.req
	if req.Topic != nil {
		m.Topic = *req.Topic
	}
	if req.Agenda != nil {
		m.Agenda = *req.Agenda
	}
	if req.Duration != nil {
		m.Duration = *req.Duration
	}
	if in.timezone != "" {
		m.Timezone = in.timezone
	}
	if in.hasStart && !in.start.Before(now) {
		m.StartTime = in.start
	}
	if req.Password != nil && *req.Password != "" {
		m.setPassword(*req.Password)
	}
	m.Settings = in.settings
	e.stats.MeetingUpdates++
	e.saveState()
	return apiResult{status: http.StatusNoContent, header: quotaHeader}
}

// deleteMeeting is DELETE /v2/meetings/{meetingId}: 204, and 404 3001 once
// the meeting is gone. Query parameters (occurrence_id, reminders) are
// ignored. Deletes do not count against the daily limit. The meeting.deleted
// webhook goes out for API deletes too, with the token's user as operator
// (whether Zoom sends it to the deleting app is undocumented; likely).
func (e *Emulator) deleteMeeting(w http.ResponseWriter, r *http.Request) {
	e.meetingsHandler(func(r *http.Request, g *grant, _ []byte, now time.Time) apiResult {
		m, aerr := e.accessibleMeeting(g, r.PathValue("meetingId"), scopeDeleteMeeting)
		if aerr != nil {
			return failed(aerr)
		}
		delete(e.meetings, m.ID)
		e.emitMeetingDeleted(m, g.userID, now)
		e.stats.MeetingDeletes++
		e.saveState()
		return apiResult{status: http.StatusNoContent}
	})(w, r)
}

// accessibleMeeting finds the meeting the path names if g may act for its
// host. A grant without any scope of rule gets 400 4711 first, as at Zoom's
// gateway. Must be called with e.mu held.
func (e *Emulator) accessibleMeeting(g *grant, raw string, rule scopeRule) (*Meeting, *apiError) {
	if !g.allows(rule, true) {
		return nil, rule.missing(true)
	}
	id, err := strconv.ParseInt(raw, 10, 64)
	m := e.meetings[id]
	if err != nil || m == nil || (m.HostID != g.userID && (m.AccountID != g.accountID || !g.allows(rule, false))) {
		return nil, meetingNotFound(raw)
	}
	return m, nil
}

// quota counts one host's create and update requests on one UTC day.
type quota struct {
	day time.Time
	n   int
}

// takeMeetingQuota counts a create or update request against the host's
// daily limit. It returns the X-RateLimit headers for the answer, or Zoom's
// 429 once the limit is spent (without Retry-After, as Zoom sends it). Must
// be called with e.mu held.
func (e *Emulator) takeMeetingQuota(hostID string, now time.Time) (http.Header, *apiError) {
	limit := e.cfg.MeetingDailyLimit
	if limit < 0 {
		return nil, nil
	}
	now = now.UTC()
	day := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, time.UTC)
	q := e.meetingQuota[hostID]
	if !q.day.Equal(day) {
		q = quota{day: day}
	}
	h := http.Header{}
	h.Set("X-RateLimit-Limit", strconv.Itoa(limit))
	if q.n >= limit {
		e.stats.MeetingsRateLimited++
		// As captured from Zoom: neither Retry-After nor X-RateLimit-Type;
		// the message alone says the cap resets at 00:00 UTC.
		h.Set("X-RateLimit-Category", "Light")
		h.Set("X-RateLimit-Remaining", "0")
		return nil, &apiError{status: http.StatusTooManyRequests, header: h, Code: http.StatusTooManyRequests,
			Message: fmt.Sprintf("You have exceeded the daily rate limit (%d) of Meeting Create/Update API requests "+
				"permitted for this particular user. You may resume these requests at GMT 00:00:00.", limit)}
	}
	q.n++
	e.meetingQuota[hostID] = q
	h.Set("X-RateLimit-Remaining", strconv.Itoa(limit-q.n))
	return h, nil
}

// meetingRequest is a create or update body. Absent and null fields are nil.
type meetingRequest struct {
	Topic           *string         `json:"topic"`
	Type            *int            `json:"type"`
	StartTime       *string         `json:"start_time"`
	Duration        *int            `json:"duration"`
	Timezone        *string         `json:"timezone"`
	Agenda          *string         `json:"agenda"`
	Password        *string         `json:"password"`
	DefaultPassword *bool           `json:"default_password"`
	PreSchedule     *bool           `json:"pre_schedule"`
	Settings        json.RawMessage `json:"settings"`
}

// meetingInput is a validated meetingRequest.
type meetingInput struct {
	req      meetingRequest
	settings MeetingSettings // the base settings with the request's applied
	timezone string          // the request's timezone, "" if none
	start    time.Time       // UTC, when hasStart
	hasStart bool
}

const (
	maxTopic  = 200
	maxAgenda = 2000
	// listedAgenda is how much of an agenda the meeting list shows.
	listedAgenda = 250
	maxPasscode  = 10
	// passcodeChars are the characters Zoom allows in a passcode.
	passcodeChars    = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789@-_*"
	passcodeAlphabet = "abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"
	digits           = "0123456789"
	alphanumerics    = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
)

var (
	meetingTypes   = []int{1, 2, 3, 8, 10}
	approvalTypes  = []int{0, 1, 2}
	jbhTimes       = []int{0, 5, 10, 15}
	audioTypes     = []string{"both", "telephony", "voip", "thirdParty"}
	recordingTypes = []string{"local", "cloud", "none"}
	encryptions    = []string{"enhanced_encryption", "e2ee"}
)

// parseMeetingRequest decodes and validates a create or update body. Any
// invalid field makes Zoom's 400 300 "Validation Failed." listing every
// such field with "Invalid field." (the text Zoom uses, for example for a
// topic that is too long); a body that is not a JSON object gets 300
// "Request Body should be a valid JSON object.". defaultTZ reads a
// start_time without offset when the request has no timezone.
func parseMeetingRequest(body []byte, base MeetingSettings, defaultTZ string) (meetingInput, *apiError) {
	body = bytes.TrimSpace(body)
	if len(body) == 0 || body[0] != '{' || !json.Valid(body) {
		return meetingInput{}, errInvalidBody
	}
	in := meetingInput{settings: base}
	var errs []fieldError
	bad := func(field string) { errs = append(errs, fieldError{Field: field, Message: "Invalid field."}) }
	// Valid JSON: an error is a value of the wrong type; Unmarshal still
	// decodes the other fields.
	if err := json.Unmarshal(body, &in.req); err != nil {
		bad(typeErrorField(err, ""))
	}
	req := in.req
	if len(req.Settings) > 0 && string(req.Settings) != "null" {
		if err := json.Unmarshal(req.Settings, &in.settings); err != nil {
			bad(typeErrorField(err, "settings"))
		}
	}
	if req.Topic != nil && utf8.RuneCountInString(*req.Topic) > maxTopic {
		bad("topic")
	}
	if req.Type != nil && !slices.Contains(meetingTypes, *req.Type) {
		bad("type")
	}
	if req.Duration != nil && *req.Duration < 0 {
		bad("duration")
	}
	if req.Agenda != nil && utf8.RuneCountInString(*req.Agenda) > maxAgenda {
		bad("agenda")
	}
	if pw := req.Password; pw != nil && (utf8.RuneCountInString(*pw) > maxPasscode ||
		strings.IndexFunc(*pw, func(r rune) bool { return !strings.ContainsRune(passcodeChars, r) }) >= 0) {
		bad("password")
	}
	loc := loadLocation(defaultTZ)
	if req.Timezone != nil && *req.Timezone != "" {
		if l, err := time.LoadLocation(*req.Timezone); err != nil || *req.Timezone == "Local" {
			bad("timezone")
		} else {
			in.timezone, loc = *req.Timezone, l
		}
	}
	if req.StartTime != nil && *req.StartTime != "" {
		if t, ok := parseStartTime(*req.StartTime, loc); ok {
			in.start, in.hasStart = t, true
		} else {
			bad("start_time")
		}
	}
	s := in.settings
	if !slices.Contains(jbhTimes, s.JBHTime) {
		bad("settings.jbh_time")
	}
	if !slices.Contains(approvalTypes, s.ApprovalType) {
		bad("settings.approval_type")
	}
	if !slices.Contains(audioTypes, s.Audio) {
		bad("settings.audio")
	}
	if !slices.Contains(recordingTypes, s.AutoRecording) {
		bad("settings.auto_recording")
	}
	if !slices.Contains(encryptions, s.EncryptionType) {
		bad("settings.encryption_type")
	}
	if errs != nil {
		return meetingInput{}, validationFailed(errs)
	}
	return in, nil
}

// typeErrorField names the field of a json.Unmarshal type error, under
// prefix.
func typeErrorField(err error, prefix string) string {
	var te *json.UnmarshalTypeError
	field := ""
	if errors.As(err, &te) {
		field = te.Field
	}
	if prefix != "" && field != "" {
		return prefix + "." + field
	}
	return cmp.Or(field, prefix, "body")
}

// loadLocation is the zone named tz, UTC if it is unknown.
func loadLocation(tz string) *time.Location {
	if l, err := time.LoadLocation(tz); err == nil {
		return l
	}
	return time.UTC
}

// parseStartTime accepts Zoom's two documented forms, GMT
// "2006-01-02T15:04:05Z" and local "2006-01-02T15:04:05" (in loc), and any
// other RFC 3339 time. The result is UTC, cut to whole seconds.
func parseStartTime(s string, loc *time.Location) (time.Time, bool) {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		if t, err = time.ParseInLocation("2006-01-02T15:04:05", s, loc); err != nil {
			return time.Time{}, false
		}
	}
	return t.UTC().Truncate(time.Second), true
}

// setPassword sets the passcode and what Zoom derives from it.
func (m *Meeting) setPassword(pw string) {
	m.Password = pw
	m.JoinURL = fmt.Sprintf("https://us05web.zoom.us/j/%d", m.ID)
	if pw == "" {
		m.H323Password, m.PSTNPassword, m.EncryptedPassword = "", "", ""
		return
	}
	numeric := pw
	if strings.Trim(pw, digits) != "" {
		numeric = randomFrom(digits, 6)
	}
	m.H323Password, m.PSTNPassword = numeric, numeric
	m.EncryptedPassword = randomFrom(alphanumerics, 32) + ".1"
	m.JoinURL += "?pwd=" + m.EncryptedPassword
}

// apiMeeting is Zoom's meeting object, as create and get return it.
type apiMeeting struct {
	UUID              string          `json:"uuid"`
	ID                int64           `json:"id"`
	HostID            string          `json:"host_id"`
	HostEmail         string          `json:"host_email"`
	Topic             string          `json:"topic"`
	Type              int             `json:"type"`
	Status            string          `json:"status"`
	StartTime         string          `json:"start_time,omitempty"`
	Duration          int             `json:"duration"`
	Timezone          string          `json:"timezone"`
	Agenda            string          `json:"agenda"`
	CreatedAt         string          `json:"created_at"`
	StartURL          string          `json:"start_url"`
	JoinURL           string          `json:"join_url"`
	Password          string          `json:"password,omitempty"`
	H323Password      string          `json:"h323_password,omitempty"`
	PSTNPassword      string          `json:"pstn_password,omitempty"`
	EncryptedPassword string          `json:"encrypted_password,omitempty"`
	Settings          MeetingSettings `json:"settings"`
	PreSchedule       bool            `json:"pre_schedule"`
	CreationSource    string          `json:"creation_source"`
}

// renderMeeting shows m with a fresh start_url, as Zoom does on every read
// (a start_url lasts two hours, so clients must not keep it).
func renderMeeting(m *Meeting, now time.Time) *apiMeeting {
	return &apiMeeting{
		UUID: m.UUID, ID: m.ID, HostID: m.HostID, HostEmail: m.HostEmail, Topic: m.Topic, Type: m.Type,
		Status: m.Status, StartTime: zoomTime(m.StartTime), Duration: m.Duration, Timezone: m.Timezone,
		Agenda: m.Agenda, CreatedAt: zoomTime(m.CreatedAt),
		StartURL: fmt.Sprintf("https://us05web.zoom.us/s/%d?zak=%s", m.ID, zak(m, now)), JoinURL: m.JoinURL,
		Password: m.Password, H323Password: m.H323Password, PSTNPassword: m.PSTNPassword,
		EncryptedPassword: m.EncryptedPassword, Settings: m.Settings, PreSchedule: m.PreSchedule,
		CreationSource: "open_api",
	}
}

// zak makes a host key shaped like Zoom's (a JWT valid for two hours).
func zak(m *Meeting, now time.Time) string {
	header, _ := json.Marshal(map[string]string{"typ": "JWT", "alg": "HS256"})
	claims, _ := json.Marshal(map[string]any{"aud": "clientsm", "uid": m.HostID, "iss": "web", "sty": 100,
		"wcd": "us05", "clt": 0, "mnum": strconv.FormatInt(m.ID, 10), "iat": now.Unix(),
		"exp": now.Add(2 * time.Hour).Unix(), "aid": m.AccountID, "cid": ""})
	enc := base64.RawURLEncoding.EncodeToString
	return enc(header) + "." + enc(claims) + "." + randomString(32)
}

// zoomTime formats t as Zoom does, "" for the zero time.
func zoomTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format("2006-01-02T15:04:05Z")
}

// apiMeetingSummary is a meeting in a list.
type apiMeetingSummary struct {
	UUID      string `json:"uuid"`
	ID        int64  `json:"id"`
	HostID    string `json:"host_id"`
	Topic     string `json:"topic"`
	Type      int    `json:"type"`
	StartTime string `json:"start_time,omitempty"`
	Duration  int    `json:"duration"`
	Timezone  string `json:"timezone"`
	Agenda    string `json:"agenda"`
	CreatedAt string `json:"created_at"`
	JoinURL   string `json:"join_url"`
}

type apiMeetingList struct {
	PageSize      int                 `json:"page_size"`
	TotalRecords  int                 `json:"total_records"`
	NextPageToken string              `json:"next_page_token"`
	Meetings      []apiMeetingSummary `json:"meetings"`
}

// meetingKey orders a list: by start time, meetings without one last, then
// by id.
type meetingKey struct {
	noStart bool
	start   time.Time
	id      int64
}

func keyOf(m *Meeting) meetingKey { return meetingKey{m.StartTime.IsZero(), m.StartTime, m.ID} }

func (a meetingKey) compare(b meetingKey) int {
	switch {
	case a.noStart != b.noStart:
		if a.noStart {
			return 1
		}
		return -1
	case !a.start.Equal(b.start):
		return a.start.Compare(b.start)
	}
	return cmp.Compare(a.id, b.id)
}

// pageCursor is what a next_page_token stands for: the list continues after
// the key of the last meeting shown, so deletions between pages skip
// nothing.
type pageCursor struct {
	hostID, listType string
	after            meetingKey
	expires          time.Time
}

const (
	defaultPageSize = 30
	maxPageSize     = 300
)

// listFilters are the list types Zoom documents. Instant meetings are never
// listed (Zoom: "This API does not return information about instant
// meetings"). A meeting counts as upcoming until its scheduled end; nothing
// is ever live, since the emulator never starts meetings.
var listFilters = map[string]func(m *Meeting, now time.Time) bool{
	"scheduled":         func(*Meeting, time.Time) bool { return true },
	"live":              func(m *Meeting, _ time.Time) bool { return m.Status == "started" },
	"upcoming":          isUpcoming,
	"upcoming_meetings": isUpcoming,
	"previous_meetings": func(m *Meeting, now time.Time) bool { return !m.StartTime.IsZero() && !isUpcoming(m, now) },
}

func isUpcoming(m *Meeting, now time.Time) bool {
	return !m.StartTime.IsZero() && m.StartTime.Add(time.Duration(m.Duration)*time.Minute).After(now)
}

// listMeetings is GET /v2/users/{userId}/meetings with type (default
// "scheduled"), page_size (default 30; values above 300 are cut to 300 and
// values below 1 mean the default) and next_page_token (valid for 15
// minutes, for the same user and type). userId is resolved as for create.
// It needs meeting:read:list_meetings[:admin] (or classic meeting:read[:admin]),
// and shows each agenda cut to 250 characters, as Zoom does. An unknown type or a non-numeric page_size is 400 300
// "Validation Failed." (Zoom's exact answers are undocumented).
func (e *Emulator) listMeetings(w http.ResponseWriter, r *http.Request) {
	e.meetingsHandler(e.listMeetingsLocked)(w, r)
}

func (e *Emulator) listMeetingsLocked(r *http.Request, g *grant, _ []byte, now time.Time) apiResult {
	host, aerr := e.resolveUser(g, r.PathValue("userId"), scopeListMeetings)
	if aerr != nil {
		return failed(aerr)
	}
	q := r.URL.Query()
	listType := cmp.Or(q.Get("type"), "scheduled")
	filter, ok := listFilters[listType]
	var errs []fieldError
	if !ok {
		errs = append(errs, fieldError{Field: "type", Message: "Invalid field."})
	}
	pageSize := defaultPageSize
	if s := q.Get("page_size"); s != "" {
		n, err := strconv.Atoi(s)
		switch {
		case err != nil:
			errs = append(errs, fieldError{Field: "page_size", Message: "Invalid field."})
		case n > maxPageSize:
			pageSize = maxPageSize
		case n > 0:
			pageSize = n
		}
	}
	if errs != nil {
		return failed(validationFailed(errs))
	}

	var list []*Meeting
	for _, m := range e.meetings {
		if m.HostID == host.ID && m.Type != 1 && filter(m, now) {
			list = append(list, m)
		}
	}
	slices.SortFunc(list, func(a, b *Meeting) int { return keyOf(a).compare(keyOf(b)) })
	total := len(list)
	maps.DeleteFunc(e.pageTokens, func(_ string, c pageCursor) bool { return !now.Before(c.expires) })
	if tok := q.Get("next_page_token"); tok != "" {
		c, ok := e.pageTokens[tok]
		if !ok || c.hostID != host.ID || c.listType != listType {
			return failed(errInvalidPageToken)
		}
		i, _ := slices.BinarySearchFunc(list, c.after, func(m *Meeting, k meetingKey) int { return keyOf(m).compare(k) })
		if i < len(list) && keyOf(list[i]) == c.after {
			i++
		}
		list = list[i:]
	}
	page := list[:min(pageSize, len(list))]
	resp := apiMeetingList{PageSize: pageSize, TotalRecords: total, Meetings: make([]apiMeetingSummary, 0, len(page))}
	if len(list) > len(page) {
		resp.NextPageToken = randomFrom(alphanumerics, 35)
		e.pageTokens[resp.NextPageToken] = pageCursor{hostID: host.ID, listType: listType,
			after: keyOf(page[len(page)-1]), expires: now.Add(pageTokenTTL)}
	}
	for _, m := range page {
		resp.Meetings = append(resp.Meetings, apiMeetingSummary{UUID: m.UUID, ID: m.ID, HostID: m.HostID,
			Topic: m.Topic, Type: m.Type, StartTime: zoomTime(m.StartTime), Duration: m.Duration,
			Timezone: m.Timezone, Agenda: truncateRunes(m.Agenda, listedAgenda), CreatedAt: zoomTime(m.CreatedAt), JoinURL: m.JoinURL})
	}
	return apiResult{status: http.StatusOK, body: resp}
}

// Meetings returns copies of the meetings hosted by hostUserID (every
// host's for ""), ordered by id, which is creation order.
func (e *Emulator) Meetings(hostUserID string) []Meeting {
	e.mu.Lock()
	defer e.mu.Unlock()
	var out []Meeting
	for _, m := range e.meetings {
		if hostUserID == "" || m.HostID == hostUserID {
			out = append(out, *m)
		}
	}
	slices.SortFunc(out, func(a, b Meeting) int { return cmp.Compare(a.ID, b.ID) })
	return out
}

// Meeting returns a copy of the meeting with the given id.
func (e *Emulator) Meeting(id int64) (Meeting, bool) {
	e.mu.Lock()
	defer e.mu.Unlock()
	m, ok := e.meetings[id]
	if !ok {
		return Meeting{}, false
	}
	return *m, true
}

// DeleteMeeting deletes a meeting behind the app's back, as its host would
// in Zoom's web portal, and sends meeting.deleted with the host as
// operator. It is not counted in Stats.
func (e *Emulator) DeleteMeeting(id int64) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	m, ok := e.meetings[id]
	if !ok {
		return fmt.Errorf("zoomemu: no meeting %d", id)
	}
	delete(e.meetings, id)
	e.saveState()
	e.emitMeetingDeleted(m, m.HostID, e.cfg.Now())
	return nil
}

// truncateRunes cuts s to at most n characters.
func truncateRunes(s string, n int) string {
	i := 0
	for pos := range s {
		if i == n {
			return s[:pos]
		}
		i++
	}
	return s
}

func randomBytes(n int) []byte {
	b := make([]byte, n)
	_, _ = rand.Read(b) // never fails (crypto/rand since Go 1.24)
	return b
}

// randomFrom returns n random characters of alphabet (slightly biased,
// which does not matter here).
func randomFrom(alphabet string, n int) string {
	b := randomBytes(n)
	for i := range b {
		b[i] = alphabet[int(b[i])%len(alphabet)]
	}
	return string(b)
}
