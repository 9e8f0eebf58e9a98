// Package testbed builds what unit tests of the domain packages share: an
// embedded store and a keyring, both fresh for each test.
package testbed

import (
	"path/filepath"
	"testing"

	"github.com/zoomconnect/zoomconnect/server/secrets"
	"github.com/zoomconnect/zoomconnect/server/store/boltstore"
)

// Store opens an embedded store in the test's temp dir, closed when the
// test ends.
func Store(t testing.TB) *boltstore.Store {
	t.Helper()
	s, err := boltstore.Open(filepath.Join(t.TempDir(), "zoomconnect.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

// Keyring is a keyring with one fresh key.
func Keyring(t testing.TB) *secrets.Keyring {
	t.Helper()
	kr, err := secrets.ParseKeyring(secrets.GenerateKeyringSpec())
	if err != nil {
		t.Fatal(err)
	}
	return kr
}
