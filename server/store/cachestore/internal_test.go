package cachestore

import (
	"fmt"
	"path/filepath"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/zoomconnect/zoomconnect/server/store"
	"github.com/zoomconnect/zoomconnect/server/store/boltstore"
)

func TestBounded(t *testing.T) {
	inner, err := boltstore.Open(filepath.Join(t.TempDir(), "zoomconnect.db"))
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	s := New(inner, WithMaxOrgs(3), WithMaxUsersPerOrg(store.MaxSnapshotUsers))
	defer s.Close()
	if err := s.Start(t.Context()); err != nil {
		t.Fatalf("Start: %v", err)
	}
	for i := range 10 {
		if _, err := s.Snapshot(t.Context(), fmt.Sprint("org-", i), nil); err != nil {
			t.Fatalf("Snapshot: %v", err)
		}
	}
	for i := range 3 {
		userIDs := make([]string, store.MaxSnapshotUsers)
		for j := range userIDs {
			userIDs[j] = fmt.Sprintf("user-%d-%d", i, j)
		}
		if _, err := s.Snapshot(t.Context(), "org-0", userIDs); err != nil {
			t.Fatalf("Snapshot: %v", err)
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if n := len(s.orgs); n > 3 {
		t.Errorf("%d orgs cached, want at most 3", n)
	}
	if c := s.orgs["org-0"]; c == nil || len(c.users) != store.MaxSnapshotUsers {
		t.Errorf("org-0 cached as %+v, want %d users", c, store.MaxSnapshotUsers)
	}
}

// TestCloneCoversReferenceFields fails when a record gains a field that
// the clones would share between the cache and its callers: the clones
// must then copy it, and this list be updated.
func TestCloneCoversReferenceFields(t *testing.T) {
	var got []string
	for _, r := range []any{store.OrgConnection{}, store.OrgSettings{}, store.Member{}, store.PersonalConnection{}} {
		got = append(got, referenceFields(reflect.TypeOf(r), reflect.TypeOf(r).Name())...)
	}
	want := []string{
		"OrgConnection.Pending",
		"OrgConnection.Pending.LinkHash",
		"OrgConnection.SealedTokens",
		"Member.Match",
		"PersonalConnection.SealedTokens",
	}
	slices.Sort(got)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("reference fields of the records = %q, want %q: update clone.go", got, want)
	}
}

// referenceFields lists the pointer, slice and map fields of a struct type,
// recursively; time.Time is a value.
func referenceFields(typ reflect.Type, path string) []string {
	var fields []string
	for f := range typ.Fields() {
		p := path + "." + f.Name
		ft := f.Type
		switch ft.Kind() {
		case reflect.Pointer, reflect.Slice, reflect.Map:
			fields = append(fields, p)
			if ft.Kind() == reflect.Pointer && ft.Elem().Kind() == reflect.Struct {
				fields = append(fields, referenceFields(ft.Elem(), p)...)
			}
		case reflect.Struct:
			if ft != reflect.TypeFor[time.Time]() {
				fields = append(fields, referenceFields(ft, p)...)
			}
		}
	}
	return fields
}
