// Package secrets seals OAuth tokens before they reach the store, and holds
// the few cryptographic helpers the service shares (random tokens, hashes,
// constant-time comparison) so that they exist in exactly one place.
package secrets

import (
	"crypto/aes"
	"crypto/cipher"
	"encoding/base64"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"
)

const (
	// KeySize is the length of an encryption key: AES-256.
	KeySize = 32
	// formatVersion is the first byte of every sealed value, so the format
	// can change without guessing at old data.
	formatVersion byte = 1
	maxKeyIDLen        = 32
	nonceSize          = 12 // the standard GCM nonce
	tagSize            = 16
)

var keyIDPattern = regexp.MustCompile(`^[A-Za-z0-9_-]{1,32}$`)

var (
	// ErrUnknownKey: the value was sealed with a key that is not in the
	// keyring (a key was removed too early, or the wrong keyring is loaded).
	ErrUnknownKey = errors.New("secrets: sealed with a key that is not in the keyring")
	// ErrCorrupt: the value is truncated, was altered, or was sealed for
	// different additional data.
	ErrCorrupt = errors.New("secrets: sealed value is corrupt or belongs to a different context")
)

// Keyring holds the AES-256-GCM keys of the service. The first key seals;
// every key opens, so keys can be rotated by prepending a new one and
// dropping the old one once nothing sealed with it remains. A Keyring is
// safe for concurrent use.
type Keyring struct {
	primary string
	aeads   map[string]cipher.AEAD
}

// ParseKeyring parses the operator spec "id:base64key,id2:base64key". Keys
// are standard or URL-safe base64, padded or not, and must decode to 32
// bytes. Errors name the entry or the key id, never the key material.
func ParseKeyring(spec string) (*Keyring, error) {
	spec = strings.TrimSpace(spec)
	if spec == "" {
		return nil, errors.New("secrets: keyring spec is empty; want id:base64key[,id:base64key...]")
	}
	kr := &Keyring{aeads: make(map[string]cipher.AEAD)}
	for i, entry := range strings.Split(spec, ",") {
		n := i + 1
		id, encoded, ok := strings.Cut(strings.TrimSpace(entry), ":")
		if !ok {
			return nil, fmt.Errorf("secrets: keyring entry %d is not of the form id:base64key", n)
		}
		if !keyIDPattern.MatchString(id) {
			// The id is not echoed: a malformed entry may be key material.
			return nil, fmt.Errorf("secrets: keyring entry %d: key id must be 1-32 characters of A-Z a-z 0-9 _ -", n)
		}
		if _, dup := kr.aeads[id]; dup {
			return nil, fmt.Errorf("secrets: keyring entry %d: key id %q appears more than once", n, id)
		}
		key, err := decodeKey(encoded)
		if err != nil {
			return nil, fmt.Errorf("secrets: keyring key %q: %w", id, err)
		}
		block, err := aes.NewCipher(key)
		if err != nil {
			return nil, fmt.Errorf("secrets: keyring key %q: %w", id, err)
		}
		aead, err := cipher.NewGCM(block)
		if err != nil {
			return nil, fmt.Errorf("secrets: keyring key %q: %w", id, err)
		}
		kr.aeads[id] = aead
		if kr.primary == "" {
			kr.primary = id
		}
	}
	return kr, nil
}

// decodeKey accepts standard and URL-safe base64, with or without padding,
// because operators produce keys with whatever tool is at hand
// (openssl rand -base64 32, secrets.token_urlsafe(32), ...).
func decodeKey(s string) ([]byte, error) {
	s = strings.TrimRight(strings.TrimSpace(s), "=")
	enc := base64.RawURLEncoding
	if strings.ContainsAny(s, "+/") {
		enc = base64.RawStdEncoding
	}
	key, err := enc.DecodeString(s)
	if err != nil {
		return nil, errors.New("key is not valid base64")
	}
	if len(key) != KeySize {
		return nil, fmt.Errorf("key decodes to %d bytes, want %d (AES-256)", len(key), KeySize)
	}
	return key, nil
}

// PrimaryID is the id of the key that seals, for startup logs.
func (k *Keyring) PrimaryID() string { return k.primary }

// Seal encrypts plaintext with the primary key. aad binds the result to its
// context (for example the record it is stored in): Open must be given the
// same aad. The output is
//
//	version(1) | len(id)(1) | id | nonce(12) | ciphertext | tag(16)
//
// and the version and key id are authenticated too. Random 96-bit nonces are
// safe for far more values than one key will ever seal (NIST's 2^32 bound).
func (k *Keyring) Seal(plaintext, aad []byte) ([]byte, error) {
	aead := k.aeads[k.primary]
	if aead == nil {
		return nil, errors.New("secrets: the keyring has no keys; build it with ParseKeyring")
	}
	headerLen := 2 + len(k.primary)
	out := make([]byte, 0, headerLen+nonceSize+len(plaintext)+tagSize)
	out = append(out, formatVersion, byte(len(k.primary)))
	out = append(out, k.primary...)
	nonce := randomBytes(nonceSize)
	out = append(out, nonce...)
	return aead.Seal(out, nonce, plaintext, additionalData(out[:headerLen], aad)), nil
}

// Open decrypts a value produced by Seal with any key of the keyring. It
// fails with ErrUnknownKey or ErrCorrupt (possibly wrapped); it never panics
// on arbitrary input.
func (k *Keyring) Open(sealed, aad []byte) ([]byte, error) {
	if len(sealed) < 2 {
		return nil, fmt.Errorf("%w: too short", ErrCorrupt)
	}
	if sealed[0] != formatVersion {
		return nil, fmt.Errorf("%w: unsupported format version %d", ErrCorrupt, sealed[0])
	}
	idLen := int(sealed[1])
	if idLen == 0 || idLen > maxKeyIDLen || len(sealed) < 2+idLen+nonceSize+tagSize {
		return nil, fmt.Errorf("%w: truncated or malformed header", ErrCorrupt)
	}
	header, rest := sealed[:2+idLen], sealed[2+idLen:]
	id := string(header[2:])
	aead, ok := k.aeads[id]
	if !ok {
		return nil, fmt.Errorf("%w (key id %q)", ErrUnknownKey, id)
	}
	nonce, ciphertext := rest[:nonceSize], rest[nonceSize:]
	plaintext, err := aead.Open(nil, nonce, ciphertext, additionalData(header, aad))
	if err != nil {
		return nil, fmt.Errorf("%w: authentication failed", ErrCorrupt)
	}
	return plaintext, nil
}

// additionalData authenticates the header along with the caller's aad. The
// header is self-delimiting, so the concatenation is unambiguous.
func additionalData(header, aad []byte) []byte {
	ad := make([]byte, 0, len(header)+len(aad))
	return append(append(ad, header...), aad...)
}

// GenerateKeyringSpec returns a one-key spec with a fresh random key, for
// operators. The id is the UTC creation time, so ids sort by age; rotate by
// prepending a new spec to the existing one.
func GenerateKeyringSpec() string {
	return generateSpec(time.Now())
}

func generateSpec(now time.Time) string {
	key := randomBytes(KeySize)
	return "k" + now.UTC().Format("20060102T150405") + ":" + base64.StdEncoding.EncodeToString(key)
}
