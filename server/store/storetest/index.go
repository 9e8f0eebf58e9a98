package storetest

import (
	"crypto/rand"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/zoomconnect/zoomconnect/server/store"
)

// newIndexName returns an index name no other test or run uses.
func newIndexName() string { return "index-" + rand.Text()[:10] }

func mustIndexAdd(t *testing.T, s store.Store, index, key, member string) {
	t.Helper()
	if err := ApplyEffect(t.Context(), s, store.Effect{Index: []store.IndexChange{{Index: index, Key: key, Member: member}}}); err != nil {
		t.Fatalf("adding (%s, %s, %s): %v", index, key, member, err)
	}
}

func mustIndexRemove(t *testing.T, s store.Store, index, key, member string) {
	t.Helper()
	if err := ApplyEffect(t.Context(), s, store.Effect{Index: []store.IndexChange{{Index: index, Key: key, Member: member, Remove: true}}}); err != nil {
		t.Fatalf("removing (%s, %s, %s): %v", index, key, member, err)
	}
}

// wantMembers checks the members of an index key, in any order.
func wantMembers(t *testing.T, s store.Store, index, key string, want ...string) {
	t.Helper()
	got, err := s.IndexMembers(t.Context(), index, key)
	if err != nil {
		t.Fatalf("IndexMembers(%s, %s): %v", index, key, err)
	}
	got = slices.Sorted(slices.Values(got))
	want = slices.Sorted(slices.Values(want))
	if !slices.Equal(got, want) {
		t.Fatalf("IndexMembers(%s, %s) = %q, want %q", index, key, got, want)
	}
}

func testIndex(t *testing.T, s store.Store) {
	index := newIndexName()
	const key = "zoom-account-1"
	wantMembers(t, s, index, key)
	mustIndexRemove(t, s, index, key, "org-a") // never added: nothing to do
	mustIndexAdd(t, s, index, key, "org-a")
	mustIndexAdd(t, s, index, key, "org-b")
	mustIndexAdd(t, s, index, key, "org-a") // a set: no duplicate
	wantMembers(t, s, index, key, "org-a", "org-b")
	mustIndexRemove(t, s, index, key, "org-a")
	mustIndexRemove(t, s, index, key, "org-a")
	mustIndexRemove(t, s, index, key, "org-c")
	wantMembers(t, s, index, key, "org-b")
	// Members of every shape the service uses, and awkward ones.
	awkward := []string{"personal/org-1/user-1", "x:y{z}", "é ✓", " spaced ", "\x01", strings.Repeat("m", 200)}
	for _, m := range awkward {
		mustIndexAdd(t, s, index, key, m)
	}
	wantMembers(t, s, index, key, append([]string{"org-b"}, awkward...)...)
	for _, m := range append(awkward, "org-b") {
		mustIndexRemove(t, s, index, key, m)
	}
	wantMembers(t, s, index, key)
	mustIndexAdd(t, s, index, key, "org-d") // back after being emptied
	wantMembers(t, s, index, key, "org-d")
}

// testIndexesIsolated: the members of one key are not those of another,
// nor of the same key in another index, whatever the names share.
func testIndexesIsolated(t *testing.T, s store.Store) {
	a := newIndexName()
	b := a + "b"
	pairs := [][2]string{{a, "k"}, {a, "k1"}, {a, "k:1"}, {a, "bk"}, {a, "b:k"}, {b, "k"}, {a, "{k}"}, {a, "K"}}
	for i, p := range pairs {
		mustIndexAdd(t, s, p[0], p[1], fmt.Sprint("member-", i))
	}
	for i, p := range pairs {
		wantMembers(t, s, p[0], p[1], fmt.Sprint("member-", i))
	}
	mustIndexRemove(t, s, a, "k", "member-0")
	wantMembers(t, s, a, "k")
	wantMembers(t, s, a, "k1", "member-1")
	wantMembers(t, s, b, "k", "member-5")
}

// testIndexArguments: names, keys or members that the key schemes cannot
// hold are rejected, and change nothing.
func testIndexArguments(t *testing.T, s store.Store) {
	index := newIndexName()
	mustIndexAdd(t, s, index, "k", "m")
	long := strings.Repeat("x", 100_000)
	for _, args := range [][3]string{
		{"", "k", "m"}, {index, "", "m"}, {index, "k", ""},
		{index + "\x00", "k", "m"}, {index, "k\x00", "m"}, {index, "k", "m\x00"},
		{index + ":k", "k", "m"},
		{long, "k", "m"}, {index, long, "m"}, {index, "k", long},
	} {
		what := fmt.Sprintf("(%.30q, %.30q, %.30q)", args[0], args[1], args[2])
		for _, remove := range []bool{false, true} {
			c := store.IndexChange{Index: args[0], Key: args[1], Member: args[2], Remove: remove}
			rejected(t, fmt.Sprintf("effect (remove %v) %s", remove, what), ApplyEffect(t.Context(), s, store.Effect{Index: []store.IndexChange{c}}))
		}
		if args[2] == "m" {
			_, err := s.IndexMembers(t.Context(), args[0], args[1])
			rejected(t, "IndexMembers"+what, err)
		}
	}
	wantMembers(t, s, index, "k", "m")
}
