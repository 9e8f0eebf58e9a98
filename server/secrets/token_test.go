package secrets

import (
	"encoding/base64"
	"encoding/hex"
	"testing"
)

func TestNewToken(t *testing.T) {
	a, b := NewToken(), NewToken()
	if a == b {
		t.Fatal("two tokens are equal")
	}
	raw, err := base64.RawURLEncoding.DecodeString(a)
	if err != nil || len(raw) != 32 {
		t.Fatalf("token %q: %d bytes, %v; want 32 bytes of base64url without padding", a, len(raw), err)
	}
}

func TestHashAndEqual(t *testing.T) {
	// SHA-256("abc"), FIPS 180-2 test vector.
	want, _ := hex.DecodeString("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
	if !Equal(Hash("abc"), want) {
		t.Fatalf("Hash(abc) = %x", Hash("abc"))
	}
	if Equal(Hash("abc"), Hash("abd")) {
		t.Fatal("different hashes compare equal")
	}
	if Equal([]byte("abc"), []byte("ab")) {
		t.Fatal("different lengths compare equal")
	}
}

func TestDerive(t *testing.T) {
	a := Derive("key", "label")
	if a != Derive("key", "label") {
		t.Fatal("Derive is not deterministic")
	}
	if a == Derive("key", "label2") || a == Derive("key2", "label") {
		t.Fatal("Derive ignores its key or label")
	}
	raw, err := base64.RawURLEncoding.DecodeString(a)
	if err != nil || len(raw) != 32 {
		t.Fatalf("Derive = %q: %d bytes, %v; want 32 bytes of base64url", a, len(raw), err)
	}
}
