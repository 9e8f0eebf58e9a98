package loadgen

import (
	"fmt"
	"testing"
)

// TestPlanAddressesEveryMemberOnce: resolve-wide's uniform pick covers
// every seeded member exactly once, and the webhook targets are distinct
// matched members (an event about anyone else would change nothing).
func TestPlanAddressesEveryMemberOnce(t *testing.T) {
	p := Plan{Orgs: 7, MembersPerOrg: 13, BigOrgMembers: 250, MidOrgMembers: 120, IndexedMembers: 150}
	seen := map[target]bool{}
	for i := range p.Members() {
		m := p.memberAt(i)
		if seen[m] {
			t.Fatalf("memberAt(%d) = %v again", i, m)
		}
		seen[m] = true
	}
	for _, o := range p.orgSizes() {
		for i := range o.members {
			if !seen[target{o.orgID, UserID(i)}] {
				t.Fatalf("member %d of %s is never picked", i, o.orgID)
			}
		}
	}
	targets := p.indexedTargets()
	if len(targets) != p.IndexedMembers {
		t.Fatalf("%d webhook targets, want %d", len(targets), p.IndexedMembers)
	}
	distinct := map[target]bool{}
	for _, tg := range targets {
		var i int
		if _, err := fmt.Sscanf(tg.userID, "u%d", &i); err != nil || classOf(i) != classMatched || distinct[tg] || !seen[tg] {
			t.Fatalf("target %v: not a distinct seeded matched member (%v)", tg, err)
		}
		distinct[tg] = true
	}
	counts := countClasses(100)
	if counts[classMatched] != 87 || counts[classNotInAccount] != 10 || counts[classPersonalActive] != 2 || counts[classPersonalNeedsReconn] != 1 {
		t.Fatalf("classes of 100 members: %v, want 87/10/2/1", counts)
	}
}
