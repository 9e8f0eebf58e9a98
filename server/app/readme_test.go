package app_test

import (
	"net/http"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/zoomconnect/zoomconnect/server/gateway"
)

// TestREADMEAPITableIsTrue: the README's API table lists every REST route,
// and every write shows its request body, which the gateway accepts as
// written. The call carries a valid token, since without one the body is
// never read; it may be refused for the caller's role or the org's state,
// but not for the body (400 INVALID_REQUEST_BODY, as a misspelled field is).
func TestREADMEAPITableIsTrue(t *testing.T) {
	readme, err := os.ReadFile("../../README.md")
	must(t, err)
	row := regexp.MustCompile("(?m)^\\| `\\w+`(?: / `\\w+`)? \\| `([A-Z]+) (/v1/[^` ]+)`[^|]*\\|([^|]*)\\|")
	documented := map[string]string{} // "METHOD path" -> body cell
	for _, m := range row.FindAllStringSubmatch(string(readme), -1) {
		documented[m[1]+" "+m[2]] = strings.TrimSpace(m[3])
	}
	h := newHarness(t, "")
	for _, rt := range gateway.APIRoutes() {
		body, ok := documented[rt.String()]
		if !ok {
			t.Errorf("the README's API table lacks %s", rt)
			continue
		}
		if rt.Method != http.MethodPost && rt.Method != http.MethodPut && rt.Method != http.MethodPatch {
			continue
		}
		example := ""
		switch json := regexp.MustCompile("`(\\{.*\\})`").FindStringSubmatch(body); {
		case json != nil:
			example = json[1]
		case body == "none":
		default:
			t.Errorf("%s: the README shows no request body (%q)", rt, body)
			continue
		}
		path := strings.NewReplacer("{org_id}", "acme", "{user_id}", "mia", "{booking_id}", "b1").Replace(rt.Pattern)
		if res, st := rawREST(t, h, rt.Method, path, internalToken(t), example); st != nil && errorInfoOf(t, st).GetReason() == "INVALID_REQUEST_BODY" {
			t.Errorf("%s with the README's body %s: HTTP %d %v; want the body accepted", rt, example, res.StatusCode, st)
		}
		if example != "" {
			misspelled := strings.Replace(example, "{", `{"noSuchField":1,`, 1)
			res, st := rawREST(t, h, rt.Method, path, internalToken(t), misspelled)
			if res.StatusCode != http.StatusBadRequest || st == nil || errorInfoOf(t, st).GetReason() != "INVALID_REQUEST_BODY" {
				t.Errorf("%s with %s: HTTP %d %v; want 400 INVALID_REQUEST_BODY", rt, misspelled, res.StatusCode, st)
			}
		}
	}
}
