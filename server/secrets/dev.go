package secrets

import (
	"encoding/base64"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// DevKeyringFile is the file, inside the dev state directory, that holds the
// generated dev keyring spec.
const DevKeyringFile = "dev-encryption-keys"

// LoadOrCreateDevKeyring returns the dev-mode keyring kept in
// dir/dev-encryption-keys, generating it on first use, so that tokens sealed
// before a restart can still be opened after it. created reports a new
// keyring (worth a log line: anything sealed before is now unreadable).
// Never use this in production: the key sits next to the data.
func LoadOrCreateDevKeyring(dir string) (kr *Keyring, created bool, err error) {
	spec, created, err := LoadOrCreateDevKeyringSpec(dir)
	if err != nil {
		return nil, false, err
	}
	kr, err = ParseKeyring(spec)
	return kr, created, err
}

// LoadOrCreateDevKeyringSpec is LoadOrCreateDevKeyring's keyring as its
// spec, for a configuration to carry; the spec is checked.
func LoadOrCreateDevKeyringSpec(dir string) (spec string, created bool, err error) {
	spec, created, err = loadOrCreate(dir, DevKeyringFile, GenerateKeyringSpec)
	if err != nil {
		return "", false, err
	}
	if _, err := ParseKeyring(spec); err != nil {
		return "", false, fmt.Errorf("secrets: %s: %w", filepath.Join(dir, DevKeyringFile), err)
	}
	return spec, created, nil
}

// LoadOrCreateDevSecret returns the dev-mode secret kept in dir/name
// (32 random bytes, stored base64), generating it on first use, so that dev
// tokens minted before a restart stay valid after it.
func LoadOrCreateDevSecret(dir, name string) (secret []byte, created bool, err error) {
	if err := checkDevSecretName(name); err != nil {
		return nil, false, err
	}
	encoded, created, err := loadOrCreate(dir, name, func() string {
		return base64.StdEncoding.EncodeToString(randomBytes(KeySize))
	})
	if err != nil {
		return nil, false, err
	}
	secret, err = decodeDevSecret(dir, name, encoded)
	return secret, created, err
}

// LoadDevSecret returns the dev-mode secret kept in dir/name by
// LoadOrCreateDevSecret, for tools that must use the server's secret and
// never make one of their own. A missing file is an error matching
// fs.ErrNotExist.
func LoadDevSecret(dir, name string) ([]byte, error) {
	if err := checkDevSecretName(name); err != nil {
		return nil, err
	}
	b, err := os.ReadFile(filepath.Join(dir, name))
	if err != nil {
		return nil, fmt.Errorf("secrets: %w", err)
	}
	return decodeDevSecret(dir, name, strings.TrimSpace(string(b)))
}

// checkDevSecretName keeps a secret's file inside its directory.
func checkDevSecretName(name string) error {
	if !keyIDPattern.MatchString(name) {
		return fmt.Errorf("secrets: dev secret name %q must be 1-32 characters of A-Z a-z 0-9 _ -", name)
	}
	return nil
}

func decodeDevSecret(dir, name, encoded string) ([]byte, error) {
	secret, err := base64.StdEncoding.DecodeString(encoded)
	if err != nil || len(secret) < KeySize {
		return nil, fmt.Errorf("secrets: %s does not hold a base64 secret of at least %d bytes; delete it to generate a new one",
			filepath.Join(dir, name), KeySize)
	}
	return secret, nil
}

// loadOrCreate returns the trimmed content of dir/name, first writing
// generate() there if the file does not exist.
func loadOrCreate(dir, name string, generate func() string) (content string, created bool, err error) {
	path := filepath.Join(dir, name)
	b, err := os.ReadFile(path)
	if err == nil {
		return strings.TrimSpace(string(b)), false, nil
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return "", false, fmt.Errorf("secrets: %w", err)
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", false, fmt.Errorf("secrets: %w", err)
	}
	content = generate()
	if err := writeFileAtomic(path, []byte(content+"\n")); err != nil {
		return "", false, fmt.Errorf("secrets: %w", err)
	}
	return content, true, nil
}

// writeFileAtomic writes data to path with mode 0600 through a temporary file
// and a rename, so a crash never leaves a half-written key behind.
func writeFileAtomic(path string, data []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp-*") // mode 0600
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name()) // fails harmlessly once renamed
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}
