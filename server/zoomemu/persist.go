package zoomemu

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"
)

// savedState is what Config.StateFile keeps: the grants with their live
// tokens, and the meetings. Authorization codes, page tokens, quotas and
// queued webhooks are short-lived and not kept.
type savedState struct {
	Grants        []savedGrant `json:"grants"`
	Meetings      []*Meeting   `json:"meetings"`
	NextMeetingID int64        `json:"next_meeting_id"`
}

type savedGrant struct {
	ClientID   string               `json:"client_id"`
	UserID     string               `json:"user_id"`
	AccountID  string               `json:"account_id"`
	Scope      string               `json:"scope"`
	Refresh    string               `json:"refresh"`
	RefreshExp time.Time            `json:"refresh_exp"`
	Access     map[string]time.Time `json:"access"`
}

// loadState restores what an earlier emulator saved in Config.StateFile; a
// missing file is a fresh start. Grants of clients or users that are no
// longer configured are dropped.
func (e *Emulator) loadState() error {
	b, err := os.ReadFile(e.cfg.StateFile)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("zoomemu: state file: %w", err)
	}
	var st savedState
	if err := json.Unmarshal(b, &st); err != nil {
		return fmt.Errorf("zoomemu: state file %s is damaged (delete it to start afresh): %w", e.cfg.StateFile, err)
	}
	for _, sg := range st.Grants {
		if _, ok := e.clients[sg.ClientID]; !ok {
			continue
		}
		if _, ok := e.users[sg.UserID]; !ok {
			continue
		}
		g := &grant{clientID: sg.ClientID, userID: sg.UserID, accountID: sg.AccountID, scope: sg.Scope,
			refresh: sg.Refresh, refreshExp: sg.RefreshExp, access: sg.Access}
		if g.access == nil {
			g.access = map[string]time.Time{}
		}
		e.grants[grantKey{g.clientID, g.userID}] = g
		e.tokens[g.refresh] = g
		for tok := range g.access {
			e.tokens[tok] = g
		}
	}
	for _, m := range st.Meetings {
		e.meetings[m.ID] = m
	}
	e.nextMeetingID = max(e.nextMeetingID, st.NextMeetingID)
	return nil
}

// saveState writes the state to Config.StateFile (if set) atomically, after
// every change to grants or meetings, so that a restart keeps the tokens
// the app holds working. Failures are logged. Must be called with e.mu
// held.
func (e *Emulator) saveState() {
	if e.cfg.StateFile == "" {
		return
	}
	st := savedState{NextMeetingID: e.nextMeetingID, Meetings: make([]*Meeting, 0, len(e.meetings)), Grants: make([]savedGrant, 0, len(e.grants))}
	for _, g := range e.grants {
		st.Grants = append(st.Grants, savedGrant{ClientID: g.clientID, UserID: g.userID, AccountID: g.accountID, Scope: g.scope,
			Refresh: g.refresh, RefreshExp: g.refreshExp, Access: g.access})
	}
	for _, m := range e.meetings {
		st.Meetings = append(st.Meetings, m)
	}
	b, err := json.Marshal(st)
	if err == nil {
		err = writeFileAtomic(e.cfg.StateFile, b)
	}
	if err != nil {
		e.log.Warn("zoom emulator: saving its state", "file", e.cfg.StateFile, "error", err)
	}
}

// writeFileAtomic replaces path with b (owner-only: it holds tokens).
func writeFileAtomic(path string, b []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), filepath.Base(path)+".*.tmp")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name()) // after a successful rename: nothing to remove
	if _, err := tmp.Write(b); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}
