package connection

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/zoomconnect/zoomconnect/server/secrets"
	"github.com/zoomconnect/zoomconnect/server/store"
	"github.com/zoomconnect/zoomconnect/server/zoom"
)

// Member matching finds a member's Zoom user (by email) in the org's Zoom
// account. It is durable background work: a change that makes a lookup
// necessary (a member registered, or their email changed; the org
// connected) queues it in its own commit, as an entry of the "match" index
// ("org/user", or "org" for every member of the org); RunMatcher, on every
// replica, works through the queue, retrying with backoff while Zoom or
// the store fail, and takes an entry out in the commit that stores its
// match. Meanwhile the roster shows the member as MATCHING and the
// resolver serves them by email. Matches older than MatchTTL are refreshed
// when the resolver or the roster come across them: they only nudge the
// matcher, which does the work off their time.

const (
	indexMatch   = "match"   // "pending" → org/user, or org: lookups to do
	matchPending = "pending" // the one key of the match index
	// matchPoll is how often the matcher reads the queue; a nudge starts
	// the work at once.
	matchPoll = 2 * time.Second
	// matchLease keeps one replica on one entry; it outlasts a lookup.
	matchLease = 30 * time.Second
	// maxMatchBackoff caps the wait between attempts of a failing entry.
	maxMatchBackoff = 5 * time.Minute
)

// queueMatch is the index change that queues the lookup of one member
// (userID "": every member of the org); dequeueMatch takes it out.
func queueMatch(orgID, userID string) store.IndexChange {
	return store.IndexChange{Index: indexMatch, Key: matchPending, Member: matchEntry(orgID, userID)}
}

func dequeueMatch(orgID, userID string) store.IndexChange {
	c := queueMatch(orgID, userID)
	c.Remove = true
	return c
}

func matchEntry(orgID, userID string) string {
	if userID == "" {
		return orgID
	}
	return orgID + "/" + userID
}

// matchRef names a lookup: one member, or every member of an org.
type matchRef struct{ orgID, userID string }

// nudge asks the matcher to look at a member now; when it is busy the
// nudge is dropped (queued work is found by its poll anyway).
func (s *Service) nudge(orgID, userID string) {
	select {
	case s.nudges <- matchRef{orgID, userID}:
	default:
	}
}

// matchStale reports whether a member's Zoom identity must be looked up
// (again) in the org's account.
func (s *Service) matchStale(m *store.Member, conn *store.OrgConnection) bool {
	if m == nil || m.Email == "" || conn == nil || conn.State != store.StateActive {
		return false
	}
	return m.Match == nil || m.Match.ZoomAccountID != conn.ZoomAccountID || s.cfg.Now().Sub(m.Match.CheckedAt) > s.cfg.MatchTTL
}

// RunMatcher looks members up until ctx ends (see above).
func (s *Service) RunMatcher(ctx context.Context) {
	owner := secrets.NewToken()
	retries := map[matchRef]retry{}
	attempt := func(r matchRef) {
		if next, ok := retries[r]; ok && s.cfg.Now().Before(next.at) {
			return
		}
		if err := s.matchQueued(ctx, owner, r); err != nil {
			if ctx.Err() == nil {
				s.log.WarnContext(ctx, "matching members in Zoom failed; will retry", "org_id", r.orgID, "user_id", r.userID, "error", err)
			}
			retries[r] = retries[r].next(s.cfg.Now())
			return
		}
		delete(retries, r)
	}
	poll := time.NewTicker(matchPoll)
	defer poll.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case r := <-s.nudges:
			attempt(r)
			continue
		case <-poll.C:
		}
		entries, err := s.cfg.Store.IndexMembers(ctx, indexMatch, matchPending)
		if err != nil {
			if ctx.Err() == nil {
				s.log.WarnContext(ctx, "reading the member matching queue", "error", err)
			}
			continue
		}
		for _, e := range entries {
			if ctx.Err() != nil {
				return
			}
			orgID, userID, _ := strings.Cut(e, "/")
			attempt(matchRef{orgID, userID})
		}
	}
}

// retry is when a failed lookup may run again: exponential backoff.
type retry struct {
	at    time.Time
	delay time.Duration
}

func (r retry) next(now time.Time) retry {
	d := min(max(2*r.delay, matchPoll), maxMatchBackoff)
	return retry{at: now.Add(d), delay: d}
}

// matchQueued runs one lookup (a member, or every member of an org) under
// its lease, so that one replica at a time asks Zoom.
func (s *Service) matchQueued(ctx context.Context, owner string, r matchRef) error {
	lease := "match:" + r.userID
	held, err := s.cfg.Store.AcquireLease(ctx, r.orgID, lease, owner, matchLease)
	if err != nil || !held {
		return err
	}
	defer func() {
		if err := s.cfg.Store.ReleaseLease(context.WithoutCancel(ctx), r.orgID, lease, owner); err != nil {
			s.log.WarnContext(ctx, "releasing a matching lease", "org_id", r.orgID, "error", err)
		}
	}()
	ctx, cancel := context.WithTimeout(ctx, matchLease)
	defer cancel()
	if r.userID != "" {
		return s.matchMember(ctx, r.orgID, r.userID, true)
	}
	for after := ""; ; {
		page, err := s.cfg.Store.ListMembers(ctx, r.orgID, after, 100)
		if err != nil {
			return err
		}
		for _, u := range page {
			if err := s.matchMember(ctx, r.orgID, u.UserID, false); err != nil {
				return err
			}
		}
		if len(page) < 100 {
			break
		}
		after = page[len(page)-1].UserID
	}
	return s.cfg.Effects.Update(ctx, r.orgID, func(tx store.OrgTx) error {
		tx.AddEffect(store.Effect{Index: []store.IndexChange{dequeueMatch(r.orgID, "")}})
		return nil
	})
}

// matchMember looks the member up in the org's Zoom account by email, if
// due, and stores the result with the member's queue entry taken out,
// unless the member changed meanwhile (that change queued its own lookup).
// With dequeue, the entry goes also when there was nothing to look up.
func (s *Service) matchMember(ctx context.Context, orgID, userID string, dequeue bool) error {
	snap, err := s.cfg.Store.Snapshot(ctx, orgID, []string{userID})
	if err != nil {
		return err
	}
	m := snap.Users[0].Member
	var match *store.ZoomMatch
	if s.matchStale(m, snap.Connection) {
		if match, err = s.lookUp(ctx, orgID, snap.Connection.ZoomAccountID, m.Email); err != nil {
			return err
		}
	} else if !dequeue {
		return nil
	}
	return s.cfg.Effects.Update(ctx, orgID, func(tx store.OrgTx) error {
		cur, err := tx.Member(userID)
		if err != nil {
			return err
		}
		changes := []store.IndexChange{dequeueMatch(orgID, userID)}
		if match != nil {
			if cur == nil || m == nil || !strings.EqualFold(cur.Email, m.Email) {
				return nil // gone or changed meanwhile: that change matches anew
			}
			cur.Match = match
			tx.SetMember(cur)
			changes = append(changes, indexChange(false, indexZoomUser, match.ZoomUserID, "member/"+orgID+"/"+userID)...)
		}
		tx.AddEffect(store.Effect{Index: changes})
		return nil
	})
}

// lookUp asks Zoom for the user with email in the org's Zoom account.
func (s *Service) lookUp(ctx context.Context, orgID, accountID, email string) (*store.ZoomMatch, error) {
	var u *zoom.User
	err := s.cfg.Tokens.Call(ctx, ConnRef{OrgID: orgID}, func(token string) error {
		var err error
		u, err = s.cfg.Zoom.GetUser(ctx, token, email)
		return err
	})
	match := &store.ZoomMatch{ZoomAccountID: accountID, CheckedAt: s.cfg.Now()}
	var ae *zoom.APIError
	switch {
	case errors.As(err, &ae) && ae.Code == zoom.CodeUserNotFound:
		match.NotInAccount = true
	case err != nil:
		return nil, err
	case u.AccountID != "" && u.AccountID != accountID:
		match.NotInAccount = true
	default:
		match.ZoomUserID, match.ZoomEmail = u.ID, u.Email
	}
	return match, nil
}
