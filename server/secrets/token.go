package secrets

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
)

// NewToken returns 256 random bits, base64url without padding: unguessable
// and safe in URLs, headers and file names (OAuth state, API keys, ...).
func NewToken() string {
	return base64.RawURLEncoding.EncodeToString(randomBytes(32))
}

// Derive returns a token (256 bits, base64url without padding) computed
// from the secret key and label: as unguessable as key to whoever does not
// hold it, and the same every time for the same label.
func Derive(key, label string) string {
	m := hmac.New(sha256.New, []byte(key))
	m.Write([]byte(label))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// Hash returns the SHA-256 of s. Store the hash of a bearer secret, not the
// secret, and compare hashes with Equal.
func Hash(s string) []byte {
	h := sha256.Sum256([]byte(s))
	return h[:]
}

// Equal compares secrets in constant time, so timing does not reveal how
// much of a guess was right.
func Equal(a, b []byte) bool {
	return subtle.ConstantTimeCompare(a, b) == 1
}

// randomBytes returns n bytes from crypto/rand, whose Read never returns an
// error (it crashes the program if the system's generator fails).
func randomBytes(n int) []byte {
	b := make([]byte, n)
	rand.Read(b)
	return b
}
