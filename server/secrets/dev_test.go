package secrets

import (
	"bytes"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestLoadOrCreateDevKeyring(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "state")
	kr, created, err := LoadOrCreateDevKeyring(dir)
	if err != nil || !created {
		t.Fatalf("first call: created=%v, %v", created, err)
	}
	assertMode(t, dir, 0o700)
	assertMode(t, filepath.Join(dir, DevKeyringFile), 0o600)
	sealed, _ := kr.Seal([]byte("tok"), nil)

	again, created, err := LoadOrCreateDevKeyring(dir)
	if err != nil || created {
		t.Fatalf("second call: created=%v, %v", created, err)
	}
	if got, err := again.Open(sealed, nil); err != nil || string(got) != "tok" {
		t.Fatalf("reloaded keyring cannot open: %v", err)
	}
	assertNoTempFiles(t, dir)

	if err := os.WriteFile(filepath.Join(dir, DevKeyringFile), []byte("garbage"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, _, err := LoadOrCreateDevKeyring(dir); err == nil || !strings.Contains(err.Error(), DevKeyringFile) {
		t.Fatalf("corrupt file: %v, want an error naming the file", err)
	}
}

func TestLoadOrCreateDevSecret(t *testing.T) {
	dir := t.TempDir()
	s1, created, err := LoadOrCreateDevSecret(dir, "dev-jwt-secret")
	if err != nil || !created || len(s1) != 32 {
		t.Fatalf("first call: %d bytes, created=%v, %v", len(s1), created, err)
	}
	assertMode(t, filepath.Join(dir, "dev-jwt-secret"), 0o600)
	s2, created, err := LoadOrCreateDevSecret(dir, "dev-jwt-secret")
	if err != nil || created || !bytes.Equal(s1, s2) {
		t.Fatalf("second call: created=%v, same=%v, %v", created, bytes.Equal(s1, s2), err)
	}
	other, _, _ := LoadOrCreateDevSecret(dir, "other")
	if bytes.Equal(s1, other) {
		t.Fatal("two secrets are equal")
	}
	assertNoTempFiles(t, dir)

	for _, bad := range []string{"", "../x", "a/b", "."} {
		if _, _, err := LoadOrCreateDevSecret(dir, bad); err == nil {
			t.Errorf("name %q accepted", bad)
		}
	}
	if err := os.WriteFile(filepath.Join(dir, "short"), []byte("c2hvcnQ="), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, _, err := LoadOrCreateDevSecret(dir, "short"); err == nil {
		t.Fatal("short stored secret accepted")
	}
}

func assertMode(t *testing.T, path string, want os.FileMode) {
	t.Helper()
	info, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if got := info.Mode().Perm(); got != want {
		t.Fatalf("%s: mode %o, want %o", path, got, want)
	}
}

func assertNoTempFiles(t *testing.T, dir string) {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if strings.Contains(e.Name(), ".tmp-") {
			t.Fatalf("temporary file %s left behind", e.Name())
		}
	}
}

func TestLoadDevSecret(t *testing.T) {
	dir := t.TempDir()
	if _, err := LoadDevSecret(dir, "dev-jwt-secret"); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("a missing secret: %v, want fs.ErrNotExist", err)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Fatalf("LoadDevSecret created %d files", len(entries))
	}
	made, _, err := LoadOrCreateDevSecret(dir, "dev-jwt-secret")
	if err != nil {
		t.Fatal(err)
	}
	loaded, err := LoadDevSecret(dir, "dev-jwt-secret")
	if err != nil || !bytes.Equal(made, loaded) {
		t.Fatalf("loaded %x (%v), want the secret made before", loaded, err)
	}
	if err := os.WriteFile(filepath.Join(dir, "short"), []byte("c2hvcnQ="), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadDevSecret(dir, "short"); err == nil {
		t.Fatal("short stored secret accepted")
	}
	if _, err := LoadDevSecret(dir, "../x"); err == nil {
		t.Fatal("name ../x accepted")
	}
}
