package app_test

import (
	"net/http"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/zoomconnect/zoomconnect/server/gateway"
	"google.golang.org/grpc/codes"
)

// TestREADMEAPITableIsTrue: the README's API table lists every REST route,
// and every write shows its request body, which the gateway accepts as
// written (it answers 401 for want of a token, not 400 for the body).
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
		res, st := rawREST(t, h, rt.Method, path, "", example)
		if res.StatusCode != http.StatusUnauthorized || codes.Code(st.GetCode()) != codes.Unauthenticated {
			t.Errorf("%s with the README's body %s: HTTP %d %v; want 401 (body accepted, no token)", rt, example, res.StatusCode, st)
		}
	}
}
