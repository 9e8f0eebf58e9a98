package webhook

import (
	"strconv"
	"testing"
	"time"
)

func TestVerify(t *testing.T) {
	secret := []byte("s3cret")
	now := time.Unix(1_739_923_528, 0)
	body := []byte(`{"event":"user.updated","payload":{"object":{"id":"x","first_name":"Jürgen"}}}`)
	ts := strconv.FormatInt(now.Unix(), 10)
	good := Sign(secret, ts, body)
	for name, tc := range map[string]struct {
		secret    [][]byte
		ts, sig   string
		body      []byte
		wantError bool
	}{
		"valid":                   {[][]byte{secret}, ts, good, body, false},
		"second app's secret":     {[][]byte{[]byte("org-app"), secret}, ts, good, body, false},
		"milliseconds":            {[][]byte{secret}, strconv.FormatInt(now.UnixMilli(), 10), Sign(secret, strconv.FormatInt(now.UnixMilli(), 10), body), body, false},
		"no secret: fail closed":  {nil, ts, good, body, true},
		"tampered body":           {[][]byte{secret}, ts, good, append([]byte(" "), body...), true},
		"other secret":            {[][]byte{[]byte("other")}, ts, good, body, true},
		"stale timestamp":         {[][]byte{secret}, strconv.FormatInt(now.Add(-6*time.Minute).Unix(), 10), Sign(secret, strconv.FormatInt(now.Add(-6*time.Minute).Unix(), 10), body), body, true},
		"future timestamp":        {[][]byte{secret}, strconv.FormatInt(now.Add(6*time.Minute).Unix(), 10), Sign(secret, strconv.FormatInt(now.Add(6*time.Minute).Unix(), 10), body), body, true},
		"missing timestamp":       {[][]byte{secret}, "", good, body, true},
		"signature of other time": {[][]byte{secret}, strconv.FormatInt(now.Unix()+1, 10), good, body, true},
		"empty signature":         {[][]byte{secret}, ts, "", body, true},
	} {
		t.Run(name, func(t *testing.T) {
			if _, err := Verify(tc.secret, tc.ts, tc.sig, tc.body, now); (err != nil) != tc.wantError {
				t.Fatalf("Verify = %v, want error %v", err, tc.wantError)
			}
		})
	}
}

// FuzzVerify: signatures and timestamps are attacker-controlled; checking
// them must never panic, and only the right signature passes.
func FuzzVerify(f *testing.F) {
	f.Add("1739923528", "v0=abc", []byte(`{}`))
	f.Add("", "", []byte(nil))
	f.Add("99999999999999999999", "v0=", []byte(`{"event":"x"}`))
	now := time.Unix(1_739_923_528, 0)
	f.Fuzz(func(t *testing.T, ts, sig string, body []byte) {
		_, err := Verify([][]byte{[]byte("k")}, ts, sig, body, now)
		if err == nil && sig != Sign([]byte("k"), ts, body) {
			t.Fatalf("accepted a wrong signature %q", sig)
		}
	})
}

// FuzzParse: event bodies are untrusted.
func FuzzParse(f *testing.F) {
	for _, seed := range []string{`{"event":"app_deauthorized","payload":{}}`, `{`, `null`, `{"event":5}`, `[]`, ``} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		if env, err := Parse(body); err == nil && env.Event == "" {
			t.Fatal("accepted an event without a name")
		}
	})
}
