package meeting

import "crypto/rand"

// Zoom's passcode rules: at most 10 characters from [a-zA-Z0-9@-_*].
// Accounts may add complexity rules (a letter, a digit, both cases, a
// special character), so every passcode holds one of each.
const (
	passcodeLength  = 10
	passcodeLower   = "abcdefghijkmnpqrstuvwxyz"
	passcodeUpper   = "ABCDEFGHJKLMNPQRSTUVWXYZ"
	passcodeDigits  = "23456789"
	passcodeSpecial = "@-_*"
	passcodeAny     = passcodeLower + passcodeUpper + passcodeDigits
)

// newPasscode returns a fresh meeting passcode from crypto/rand: one
// character of each class, the rest letters and digits (without the
// look-alikes 0/O, 1/l/I), shuffled. About 57 bits of entropy.
func newPasscode() string {
	b := []byte{pick(passcodeLower), pick(passcodeUpper), pick(passcodeDigits), pick(passcodeSpecial)}
	for len(b) < passcodeLength {
		b = append(b, pick(passcodeAny))
	}
	for i := len(b) - 1; i > 0; i-- { // Fisher–Yates
		j := randInt(i + 1)
		b[i], b[j] = b[j], b[i]
	}
	return string(b)
}

func pick(alphabet string) byte { return alphabet[randInt(len(alphabet))] }

// randInt is uniform in [0, n), 0 < n <= 256, from crypto/rand (bytes
// past the largest multiple of n are drawn again, so there is no bias).
func randInt(n int) int {
	limit := 256 - 256%n
	var b [1]byte
	for {
		_, _ = rand.Read(b[:]) // never fails (crypto/rand since Go 1.24)
		if int(b[0]) < limit {
			return int(b[0]) % n
		}
	}
}
