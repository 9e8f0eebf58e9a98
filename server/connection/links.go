package connection

import (
	"encoding/base64"
	"strings"
)

// Install links and OAuth states are "<org>.<secret>": the org part (base64url
// of the org id) finds the record without a global index, so every key of an
// org stays in the org's Redis hash slot; the secret part is compared by hash
// in constant time and never stored.

// encodeOrgScoped builds "<base64url(orgID)>.<secret>".
func encodeOrgScoped(orgID, secret string) string {
	return base64.RawURLEncoding.EncodeToString([]byte(orgID)) + "." + secret
}

// decodeOrgScoped splits an untrusted "<org>.<secret>" value; ok is false for
// anything malformed.
func decodeOrgScoped(v string) (orgID, secret string, ok bool) {
	if len(v) > maxOrgScopedLen {
		return "", "", false
	}
	orgPart, secret, found := strings.Cut(v, ".")
	// The base64 decoder skips CR and LF, so check the alphabet first: only
	// one spelling of each value may be accepted.
	if !found || !isBase64URL(orgPart) || !isBase64URL(secret) {
		return "", "", false
	}
	raw, err := base64.RawURLEncoding.Strict().DecodeString(orgPart)
	if err != nil || ValidateID(string(raw)) != nil {
		return "", "", false
	}
	return string(raw), secret, true
}

const maxOrgScopedLen = 512

// isBase64URL reports whether s is a non-empty string of the base64url alphabet.
func isBase64URL(s string) bool {
	if s == "" {
		return false
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_') {
			return false
		}
	}
	return true
}
