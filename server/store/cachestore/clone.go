package cachestore

import (
	"bytes"

	"github.com/zoomconnect/zoomconnect/server/store"
)

// The clones are deep: cached records are shared by every hit, and callers
// own what they get. TestCloneCoversReferenceFields notices a new field
// that a clone would share.

func cloneSnapshot(s *store.OrgSnapshot) *store.OrgSnapshot {
	c := &store.OrgSnapshot{
		Connection: cloneConn(s.Connection),
		Settings:   clonePtr(s.Settings),
		Users:      make([]store.UserRecords, len(s.Users)),
	}
	for i, u := range s.Users {
		c.Users[i] = store.UserRecords{UserID: u.UserID, Member: cloneMember(u.Member), Personal: clonePersonal(u.Personal)}
	}
	return c
}

func cloneConn(c *store.OrgConnection) *store.OrgConnection {
	if c == nil {
		return nil
	}
	cp := *c
	cp.SealedTokens = bytes.Clone(c.SealedTokens)
	if c.Pending != nil {
		p := *c.Pending
		p.LinkHash = bytes.Clone(p.LinkHash)
		cp.Pending = &p
	}
	return &cp
}

func cloneMember(m *store.Member) *store.Member {
	if m == nil {
		return nil
	}
	cp := *m
	cp.Match = clonePtr(m.Match)
	return &cp
}

func clonePersonal(p *store.PersonalConnection) *store.PersonalConnection {
	if p == nil {
		return nil
	}
	cp := *p
	cp.SealedTokens = bytes.Clone(p.SealedTokens)
	return &cp
}

// clonePtr copies a record without reference fields.
func clonePtr[T any](p *T) *T {
	if p == nil {
		return nil
	}
	cp := *p
	return &cp
}
