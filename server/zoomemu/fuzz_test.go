package zoomemu

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
)

// FuzzTokenEndpoint feeds arbitrary query strings, content types, bodies and
// Authorization headers to POST /oauth/token: it must never panic and always
// answer with a well-formed OAuth JSON body.
func FuzzTokenEndpoint(f *testing.F) {
	emu, err := New(DevConfig(orgApp, userApp))
	if err != nil {
		f.Fatal(err)
	}
	h := emu.Handler()

	// A real code, so that the success path is in the corpus too.
	rec := httptest.NewRecorder()
	req := httptest.NewRequest(http.MethodPost, "/oauth/authorize", strings.NewReader(url.Values{
		"response_type": {"code"}, "client_id": {orgApp.ID}, "redirect_uri": {orgRedirect},
		"user_id": {DevOwnerID}, "decision": {"allow"}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	h.ServeHTTP(rec, req)
	loc, err := url.Parse(rec.Header().Get("Location"))
	if err != nil {
		f.Fatal(err)
	}
	basic := "Basic " + base64.StdEncoding.EncodeToString([]byte(orgApp.ID+":"+orgApp.Secret))
	const form = "application/x-www-form-urlencoded"
	f.Add("", form, url.Values{"grant_type": {"authorization_code"}, "code": {loc.Query().Get("code")},
		"redirect_uri": {orgRedirect}}.Encode(), basic)
	f.Add("grant_type=refresh_token&refresh_token=%zz", "", "", basic)
	f.Add("", form, "grant_type=refresh_token&refresh_token=x&client_id="+orgApp.ID+"&client_secret="+orgApp.Secret, "")
	f.Add("a=%", "multipart/form-data; boundary=x", "--x\r\n\r\n--x--", "Basic !!!")
	f.Add("", "text/plain; charset", "grant_type=authorization_code", "Basic "+base64.StdEncoding.EncodeToString([]byte("%zz:%")))
	f.Add("", form, strings.Repeat("grant_type=x&", 6000), basic)

	f.Fuzz(func(t *testing.T, query, contentType, body, authorization string) {
		req := httptest.NewRequest(http.MethodPost, "/oauth/token", strings.NewReader(body))
		req.URL.RawQuery = query
		req.Header.Set("Content-Type", contentType)
		req.Header.Set("Authorization", authorization)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)

		if rec.Code != http.StatusOK && rec.Code != http.StatusBadRequest {
			t.Fatalf("status %d", rec.Code)
		}
		if ct := rec.Header().Get("Content-Type"); ct != jsonContentType {
			t.Fatalf("Content-Type %q", ct)
		}
		var resp struct {
			AccessToken string `json:"access_token"`
			Error       string `json:"error"`
		}
		if err := json.Unmarshal(rec.Body.Bytes(), &resp); err != nil {
			t.Fatalf("body %q: %v", rec.Body, err)
		}
		if (rec.Code == http.StatusOK) != (resp.AccessToken != "") || (rec.Code == http.StatusBadRequest) != (resp.Error != "") {
			t.Fatalf("status %d with body %s", rec.Code, rec.Body)
		}
	})
}
