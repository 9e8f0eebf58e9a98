package secrets

import (
	"bytes"
	"encoding/base64"
	"errors"
	"strings"
	"testing"
	"time"
)

func testKey(b byte) []byte { return bytes.Repeat([]byte{b}, KeySize) }

func mustKeyring(t testing.TB, spec string) *Keyring {
	t.Helper()
	kr, err := ParseKeyring(spec)
	if err != nil {
		t.Fatalf("ParseKeyring: %v", err)
	}
	return kr
}

var (
	keyA = base64.StdEncoding.EncodeToString(testKey(0xA1))
	keyB = base64.RawURLEncoding.EncodeToString(testKey(0xB2))
)

func TestSealOpenRoundTrip(t *testing.T) {
	kr := mustKeyring(t, "a:"+keyA)
	for _, plaintext := range [][]byte{nil, {}, []byte("x"), bytes.Repeat([]byte("token"), 1000)} {
		sealed, err := kr.Seal(plaintext, []byte("org/1"))
		if err != nil {
			t.Fatal(err)
		}
		got, err := kr.Open(sealed, []byte("org/1"))
		if err != nil {
			t.Fatalf("Open: %v", err)
		}
		if !bytes.Equal(got, plaintext) {
			t.Fatalf("Open = %q, want %q", got, plaintext)
		}
	}
}

func TestSealFormat(t *testing.T) {
	kr := mustKeyring(t, "key-1:"+keyA)
	s1, _ := kr.Seal([]byte("secret"), nil)
	s2, _ := kr.Seal([]byte("secret"), nil)
	if bytes.Equal(s1, s2) {
		t.Fatal("two seals of the same plaintext are identical: nonce is not random")
	}
	if s1[0] != formatVersion || int(s1[1]) != len("key-1") || string(s1[2:7]) != "key-1" {
		t.Fatalf("header = %v, want version, id length and id", s1[:7])
	}
	if want := 2 + len("key-1") + nonceSize + len("secret") + tagSize; len(s1) != want {
		t.Fatalf("len = %d, want %d", len(s1), want)
	}
	if bytes.Contains(s1, []byte("secret")) {
		t.Fatal("plaintext visible in sealed value")
	}
}

func TestKeyRotation(t *testing.T) {
	old := mustKeyring(t, "old:"+keyA)
	sealedOld, _ := old.Seal([]byte("tok"), []byte("aad"))

	rotated := mustKeyring(t, "new:"+keyB+", old:"+keyA)
	if rotated.PrimaryID() != "new" {
		t.Fatalf("PrimaryID = %q, want new", rotated.PrimaryID())
	}
	if got, err := rotated.Open(sealedOld, []byte("aad")); err != nil || string(got) != "tok" {
		t.Fatalf("rotated keyring cannot open old value: %q, %v", got, err)
	}
	sealedNew, _ := rotated.Seal([]byte("tok2"), []byte("aad"))
	if id := string(sealedNew[2 : 2+sealedNew[1]]); id != "new" {
		t.Fatalf("sealed with %q, want new", id)
	}
	if _, err := old.Open(sealedNew, []byte("aad")); !errors.Is(err, ErrUnknownKey) {
		t.Fatalf("old keyring opening new value: %v, want ErrUnknownKey", err)
	}
	// Same id, different key: authentication fails instead of yielding garbage.
	impostor := mustKeyring(t, "new:"+keyA)
	if _, err := impostor.Open(sealedNew, []byte("aad")); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("impostor key: %v, want ErrCorrupt", err)
	}
}

func TestOpenFailures(t *testing.T) {
	kr := mustKeyring(t, "a:"+keyA)
	sealed, _ := kr.Seal([]byte("refresh-token"), []byte("org/1"))

	if _, err := kr.Open(sealed, []byte("org/2")); !errors.Is(err, ErrCorrupt) {
		t.Errorf("wrong aad: %v, want ErrCorrupt", err)
	}
	if _, err := kr.Open(sealed, nil); !errors.Is(err, ErrCorrupt) {
		t.Errorf("missing aad: %v, want ErrCorrupt", err)
	}
	for i := range sealed {
		tampered := bytes.Clone(sealed)
		tampered[i] ^= 0x01
		_, err := kr.Open(tampered, []byte("org/1"))
		if !errors.Is(err, ErrCorrupt) && !errors.Is(err, ErrUnknownKey) {
			t.Errorf("flipping byte %d: %v, want ErrCorrupt or ErrUnknownKey", i, err)
		}
	}
	for n := range len(sealed) {
		if _, err := kr.Open(sealed[:n], []byte("org/1")); !errors.Is(err, ErrCorrupt) {
			t.Errorf("truncated to %d bytes: %v, want ErrCorrupt", n, err)
		}
	}
	unknown := bytes.Clone(sealed)
	unknown[2] = 'z'
	if _, err := kr.Open(unknown, []byte("org/1")); !errors.Is(err, ErrUnknownKey) {
		t.Errorf("unknown key id: %v, want ErrUnknownKey", err)
	}
	if _, err := new(Keyring).Seal([]byte("x"), nil); err == nil {
		t.Error("zero Keyring sealed without error")
	}
}

func TestParseKeyring(t *testing.T) {
	key := testKey(0x5C)
	for _, good := range []string{
		"a:" + base64.StdEncoding.EncodeToString(key),
		"a:" + base64.RawStdEncoding.EncodeToString(key),
		"a:" + base64.URLEncoding.EncodeToString(key),
		"a:" + base64.RawURLEncoding.EncodeToString(key),
		" a:" + keyA + " , B_2-x:" + keyB + " ",
		strings.Repeat("k", 32) + ":" + keyA,
	} {
		if _, err := ParseKeyring(good); err != nil {
			t.Errorf("ParseKeyring(%q): %v", good, err)
		}
	}

	short := base64.StdEncoding.EncodeToString(key[:16])
	for _, tc := range []struct{ name, spec, want string }{
		{"empty", "", "empty"},
		{"blank", "  ", "empty"},
		{"no colon", keyA, "entry 1 is not of the form"},
		{"trailing comma", "a:" + keyA + ",", "entry 2 is not of the form"},
		{"empty id", ":" + keyA, "entry 1: key id must be"},
		{"bad id chars", "a.b:" + keyA, "entry 1: key id must be"},
		{"long id", strings.Repeat("k", 33) + ":" + keyA, "entry 1: key id must be"},
		{"duplicate id", "a:" + keyA + ",a:" + keyB, `key id "a" appears more than once`},
		{"short key", "a:" + short, "decodes to 16 bytes, want 32"},
		{"long key", "a:" + base64.StdEncoding.EncodeToString(append(key, 1)), "decodes to 33 bytes"},
		{"not base64", "a:" + strings.Repeat("!", 43), "not valid base64"},
		{"mixed alphabets", "a:+" + keyB[1:] + "-", "not valid base64"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseKeyring(tc.spec)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error = %v, want it to contain %q", err, tc.want)
			}
			for _, material := range []string{keyA, keyB, short, strings.TrimRight(keyA, "=")} {
				if strings.Contains(err.Error(), material) {
					t.Fatalf("error %q echoes key material", err)
				}
			}
		})
	}
}

func TestGenerateKeyringSpec(t *testing.T) {
	spec := generateSpec(time.Date(2026, 1, 15, 10, 30, 0, 0, time.UTC))
	if !strings.HasPrefix(spec, "k20260115T103000:") {
		t.Fatalf("spec %q: want id k20260115T103000", spec)
	}
	kr := mustKeyring(t, spec)
	if kr.PrimaryID() != "k20260115T103000" {
		t.Fatalf("PrimaryID = %q", kr.PrimaryID())
	}
	if GenerateKeyringSpec() == GenerateKeyringSpec() {
		t.Fatal("two generated specs are equal")
	}
	mustKeyring(t, GenerateKeyringSpec())
}

func FuzzOpen(f *testing.F) {
	kr := mustKeyring(f, "a:"+keyA+",b:"+keyB)
	sealed, _ := kr.Seal([]byte("plaintext"), []byte("aad"))
	f.Add(sealed, []byte("aad"))
	f.Add(sealed[:len(sealed)-1], []byte("aad"))
	f.Add(sealed, []byte("other"))
	f.Add([]byte{}, []byte{})
	f.Add([]byte{formatVersion}, []byte{})
	f.Add([]byte{formatVersion, 255, 'a'}, []byte{})
	f.Add([]byte{formatVersion, 1, 'a'}, []byte{})
	f.Add([]byte{2, 1, 'a', 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}, []byte{})
	f.Fuzz(func(t *testing.T, sealed, aad []byte) {
		plaintext, err := kr.Open(sealed, aad)
		if err != nil {
			if !errors.Is(err, ErrCorrupt) && !errors.Is(err, ErrUnknownKey) {
				t.Fatalf("Open error %v is neither ErrCorrupt nor ErrUnknownKey", err)
			}
			return
		}
		// Anything that opens must be a genuine seal: resealing round-trips.
		resealed, err := kr.Seal(plaintext, aad)
		if err != nil {
			t.Fatal(err)
		}
		if again, err := kr.Open(resealed, aad); err != nil || !bytes.Equal(again, plaintext) {
			t.Fatalf("reseal round trip failed: %v", err)
		}
	})
}

func FuzzParseKeyring(f *testing.F) {
	f.Add("a:" + keyA)
	f.Add("a:" + keyA + ",b:" + keyB)
	f.Add("a:" + keyA + ",a:" + keyB)
	f.Add("")
	f.Add(",")
	f.Add(":")
	f.Add("a:")
	f.Add("a:====")
	f.Add("a:" + keyB + "-+/_")
	f.Fuzz(func(t *testing.T, spec string) {
		kr, err := ParseKeyring(spec)
		if err != nil {
			return
		}
		sealed, err := kr.Seal([]byte("x"), nil)
		if err != nil {
			t.Fatal(err)
		}
		if got, err := kr.Open(sealed, nil); err != nil || string(got) != "x" {
			t.Fatalf("round trip with parsed keyring failed: %v", err)
		}
	})
}
