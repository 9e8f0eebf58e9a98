package meeting

import (
	"strings"
	"testing"
)

// TestPasscodes: Zoom's rules (at most 10 of [a-zA-Z0-9@-_*]), one
// character of each class for accounts with complexity rules, and no
// repeats over many draws.
func TestPasscodes(t *testing.T) {
	const zoomAllowed = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789@-_*"
	seen := map[string]bool{}
	for range 2000 {
		pc := newPasscode()
		if len(pc) != passcodeLength || strings.Trim(pc, zoomAllowed) != "" {
			t.Fatalf("passcode %q breaks Zoom's rules", pc)
		}
		for _, class := range []string{passcodeLower, passcodeUpper, passcodeDigits, passcodeSpecial} {
			if !strings.ContainsAny(pc, class) {
				t.Fatalf("passcode %q lacks one of %q", pc, class)
			}
		}
		if seen[pc] {
			t.Fatalf("passcode %q drawn twice", pc)
		}
		seen[pc] = true
	}
}
