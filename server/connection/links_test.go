package connection

import (
	"strings"
	"testing"
)

func TestOrgScopedRoundTrip(t *testing.T) {
	for _, org := range []string{"acme", "a", "org:with.dots@and-dashes_", strings.Repeat("x", MaxIDLen)} {
		v := encodeOrgScoped(org, "c2VjcmV0LXBhcnQ")
		gotOrg, gotSecret, ok := decodeOrgScoped(v)
		if !ok || gotOrg != org || gotSecret != "c2VjcmV0LXBhcnQ" {
			t.Errorf("decode(encode(%q)) = %q, %q, %v", org, gotOrg, gotSecret, ok)
		}
	}
}

func TestDecodeOrgScopedRejects(t *testing.T) {
	for _, v := range []string{
		"", ".", "abc", "YWNtZQ.", ".c2Vj", "YWNtZQ.a.b", "YWNtZQ.sp ace", "YWNtZQ.pl+us",
		"!!!.abc",        // org part not base64url
		"e30.abc",        // "{}": not a valid id (hash tag braces)
		"YWJjIGRlZg.abc", // "abc def": space in id
		strings.Repeat("A", maxOrgScopedLen+1),
	} {
		if org, secret, ok := decodeOrgScoped(v); ok {
			t.Errorf("decodeOrgScoped(%q) accepted: %q, %q", v, org, secret)
		}
	}
}

func TestValidateID(t *testing.T) {
	for _, ok := range []string{"a", "org_1", "user@example.com", "a:b.c-d", strings.Repeat("z", MaxIDLen)} {
		if err := ValidateID(ok); err != nil {
			t.Errorf("ValidateID(%q) = %v", ok, err)
		}
	}
	for _, bad := range []string{"", "{org}", "a b", "ä", "a/b", strings.Repeat("z", MaxIDLen+1), "x\x00"} {
		if err := ValidateID(bad); err == nil {
			t.Errorf("ValidateID(%q) accepted", bad)
		}
	}
}

// FuzzDecodeOrgScoped: install links and OAuth states come from anyone's
// browser; decoding must never panic, and whatever it accepts must be a
// valid id and re-encode to the same value.
func FuzzDecodeOrgScoped(f *testing.F) {
	for _, seed := range []string{"YWNtZQ.c2VjcmV0", "", ".", "e30.x", "YWNtZQ..", strings.Repeat("Q", 600)} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, v string) {
		org, secret, ok := decodeOrgScoped(v)
		if !ok {
			return
		}
		if err := ValidateID(org); err != nil {
			t.Fatalf("accepted invalid org id %q: %v", org, err)
		}
		if got := encodeOrgScoped(org, secret); got != v {
			t.Fatalf("re-encoding %q gave %q", v, got)
		}
	})
}
