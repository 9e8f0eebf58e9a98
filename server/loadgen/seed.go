package loadgen

import (
	"context"
	"fmt"
	"sync/atomic"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/zoomconnect/zoomconnect/server/connection"
	"github.com/zoomconnect/zoomconnect/server/store"
)

// Plan is the data a run seeds and drives: Orgs orgs of MembersPerOrg
// members each, plus one big org (the roster workload pages through it)
// and one mid-sized org (to compare page cost across org sizes).
type Plan struct {
	Orgs          int
	MembersPerOrg int
	BigOrgMembers int
	MidOrgMembers int
	// IndexedMembers is how many members (the first of each org, round
	// robin over the orgs) also get the Zoom-user index entry the service
	// keeps for a matched member: the webhook-burst targets. Indexing every
	// member would cost one store write each; the index's cost per member
	// is measured from these.
	IndexedMembers int
}

// Fixed org ids of the plan; the others are OrgID(i).
const (
	BigOrg = "lg-big"
	MidOrg = "lg-mid"
	// ZoomOrg is the org connected to the Zoom emulator through the real
	// OAuth flow (the meetings workload); it is not seeded.
	ZoomOrg = "lg-zoom"
)

// OrgID names the i-th small org.
func OrgID(i int) string { return fmt.Sprintf("lg%06d", i) }

// UserID names the i-th member of an org.
func UserID(i int) string { return fmt.Sprintf("u%06d", i) }

// zoomUserID is the synthetic Zoom user a matched member is served by.
func zoomUserID(orgID, userID string) string { return "z" + orgID + "." + userID }

// class is what the seeded records make of a member, deterministically
// from the member's index, so that the roster workload knows how many rows
// each filter must return.
type class int

const (
	classMatched             class = iota // served by the org connection (~87%)
	classNotInAccount                     // no Zoom user in the org's account (~10%)
	classPersonalActive                   // own Zoom account (2%)
	classPersonalNeedsReconn              // own Zoom account, broken (1%)
)

func classOf(i int) class {
	switch {
	case i%100 == 0:
		return classPersonalNeedsReconn
	case i%100 <= 2:
		return classPersonalActive
	case i%10 == 9:
		return classNotInAccount
	}
	return classMatched
}

// countClasses counts the members of each class among the first n.
func countClasses(n int) map[class]int {
	counts := map[class]int{}
	for i := range n {
		counts[classOf(i)]++
	}
	return counts
}

// orgSizes lists every seeded org with its member count.
func (p Plan) orgSizes() []orgSize {
	sizes := make([]orgSize, 0, p.Orgs+2)
	for i := range p.Orgs {
		sizes = append(sizes, orgSize{OrgID(i), p.MembersPerOrg})
	}
	if p.BigOrgMembers > 0 {
		sizes = append(sizes, orgSize{BigOrg, p.BigOrgMembers})
	}
	if p.MidOrgMembers > 0 {
		sizes = append(sizes, orgSize{MidOrg, p.MidOrgMembers})
	}
	return sizes
}

type orgSize struct {
	orgID   string
	members int
}

// Members is the number of members the plan seeds.
func (p Plan) Members() int { return p.Orgs*p.MembersPerOrg + p.BigOrgMembers + p.MidOrgMembers }

// indexedTargets lists the members that get a Zoom-user index entry: the
// matched members, spread over the small orgs first.
func (p Plan) indexedTargets() []target {
	var out []target
	for i := 0; len(out) < p.IndexedMembers && i < max(p.MembersPerOrg, p.BigOrgMembers); i++ {
		if classOf(i) != classMatched {
			continue
		}
		for _, o := range p.orgSizes() {
			if i < o.members && len(out) < p.IndexedMembers {
				out = append(out, target{o.orgID, UserID(i)})
			}
		}
	}
	return out
}

type target struct{ orgID, userID string }

// seedChunk bounds the members written by one Update: one transaction per
// chunk keeps a Redis MULTI or a bbolt transaction small.
const seedChunk = 250

// SeedReport says what Seed wrote and how fast.
type SeedReport struct {
	Orgs, Members, IndexEntries int
	Elapsed                     time.Duration
}

// Seed writes the plan's records through st, as the service would have
// written them after each org connected and each member was registered
// and matched: an active org connection (without tokens: the resolver and
// the roster never use them), and members of every class. It is the bulk
// seeding path: workers write one Update per org (per chunk of seedChunk
// members) in parallel, then the index entries. The org connections are
// not added to the service's cross-org indexes, so the connection monitor
// and Zoom's account events leave them alone.
func Seed(ctx context.Context, st store.Store, p Plan, workers int) (SeedReport, error) {
	start := time.Now()
	now := start.UTC()
	sizes := p.orgSizes()
	var members atomic.Int64
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(max(workers, 1))
	for _, o := range sizes {
		for first := 0; first < max(o.members, 1); first += seedChunk {
			g.Go(func() error {
				last := min(first+seedChunk, o.members)
				err := st.Update(gctx, o.orgID, func(tx store.OrgTx) error {
					if first == 0 {
						tx.SetOrgConnection(seededConnection(o.orgID, now))
					}
					for i := first; i < last; i++ {
						m, pc := seededMember(o.orgID, i, now)
						tx.SetMember(m)
						if pc != nil {
							tx.SetPersonal(pc)
						}
					}
					return nil
				})
				if err != nil {
					return fmt.Errorf("seeding org %s: %w", o.orgID, err)
				}
				members.Add(int64(last - first))
				return nil
			})
		}
	}
	if err := g.Wait(); err != nil {
		return SeedReport{}, err
	}
	// The index entries go through each org's effects, as the service
	// writes them: one Update per org and chunk, then applied.
	targets := p.indexedTargets()
	byOrg := map[string][]store.IndexChange{}
	for _, t := range targets {
		index, key, member := connection.MemberIndexEntry(t.orgID, t.userID, zoomUserID(t.orgID, t.userID))
		byOrg[t.orgID] = append(byOrg[t.orgID], store.IndexChange{Index: index, Key: key, Member: member})
	}
	g, gctx = errgroup.WithContext(ctx)
	g.SetLimit(max(workers, 1))
	for orgID, changes := range byOrg {
		for first := 0; first < len(changes); first += seedChunk {
			chunk := changes[first:min(first+seedChunk, len(changes))]
			g.Go(func() error {
				if err := st.Update(gctx, orgID, func(tx store.OrgTx) error {
					tx.AddEffect(store.Effect{Index: chunk})
					return nil
				}); err != nil {
					return err
				}
				return st.ApplyEffects(gctx, orgID)
			})
		}
	}
	if err := g.Wait(); err != nil {
		return SeedReport{}, fmt.Errorf("seeding the Zoom-user index: %w", err)
	}
	return SeedReport{Orgs: len(sizes), Members: int(members.Load()), IndexEntries: len(targets), Elapsed: time.Since(start)}, nil
}

func seededAccount(orgID string) string { return "acct-" + orgID }

func seededConnection(orgID string, now time.Time) *store.OrgConnection {
	return &store.OrgConnection{
		OrgID: orgID, State: store.StateActive, ZoomAccountID: seededAccount(orgID),
		InstallerEmail: "admin@" + orgID + ".example", InstallerZoomUserID: "zadmin." + orgID,
		ConnectedAt: now, ConnectedBy: "owner", UpdatedAt: now,
	}
}

// seededMember returns the i-th member of an org and, for the personal
// classes, their personal connection.
func seededMember(orgID string, i int, now time.Time) (*store.Member, *store.PersonalConnection) {
	userID := UserID(i)
	m := &store.Member{
		OrgID: orgID, UserID: userID, Email: userID + "@" + orgID + ".example",
		Name: "Member " + userID, UpdatedAt: now,
		Match: &store.ZoomMatch{ZoomAccountID: seededAccount(orgID), CheckedAt: now},
	}
	var pc *store.PersonalConnection
	switch classOf(i) {
	case classMatched:
		m.Match.ZoomUserID, m.Match.ZoomEmail = zoomUserID(orgID, userID), m.Email
	case classNotInAccount:
		m.Match.NotInAccount = true
	case classPersonalActive, classPersonalNeedsReconn:
		m.Match.ZoomUserID, m.Match.ZoomEmail = zoomUserID(orgID, userID), m.Email
		pc = &store.PersonalConnection{
			OrgID: orgID, UserID: userID, State: store.StateActive, ZoomAccountID: "acct-own." + userID,
			ZoomUserID: "zown." + orgID + "." + userID, ZoomEmail: m.Email, ConnectedAt: now, UpdatedAt: now,
		}
		if classOf(i) == classPersonalNeedsReconn {
			pc.State, pc.Reason = store.StateNeedsReconnect, store.ReasonInvalidGrant
		}
	}
	return m, pc
}
