package app_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	zcv1 "github.com/zoomconnect/zoomconnect/gen/zoomconnect/v1"
	"github.com/zoomconnect/zoomconnect/server/app"
	"github.com/zoomconnect/zoomconnect/server/store"
	"github.com/zoomconnect/zoomconnect/server/zoomemu"
	"google.golang.org/protobuf/proto"
)

// faultyStore wraps the store backend of the service under test. Armed for
// one org, it counts that org's commits and effect applications (the steps
// of a writing flow) and makes step n fail (nothing happens) or crash (the
// step happens, then the process is as good as dead: no later commit or
// effect application of any org gets through, as if the process stopped
// right there, before any after-commit code ran).
type faultyStore struct {
	store.Store

	mu      sync.Mutex
	org     string
	n, step int
	crash   bool
	hit     bool // step n was reached
	dead    bool
}

func (f *faultyStore) arm(org string, n int, crash bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.org, f.n, f.step, f.crash, f.hit, f.dead = org, n, 0, crash, false, false
}

func (f *faultyStore) reached() bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.hit
}

// disarm stops counting (the relay would go on counting an org's steps
// after the flow) and reports whether the fault was injected.
func (f *faultyStore) disarm() bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.org = ""
	return f.hit
}

// before decides about a step of org: whether to run it, and whether the
// process dies after it.
func (f *faultyStore) before(org string) (run, dieAfter bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.dead {
		return false, false
	}
	if org != f.org || f.hit {
		return true, false
	}
	f.step++
	if f.step != f.n {
		return true, false
	}
	f.hit = true
	return f.crash, f.crash
}

func (f *faultyStore) die() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.dead = true
}

var errInjected = fmt.Errorf("%w: injected store fault", store.ErrUnavailable)

func (f *faultyStore) Update(ctx context.Context, orgID string, fn func(store.OrgTx) error) error {
	run, dieAfter := f.before(orgID)
	if !run {
		return errInjected
	}
	err := f.Store.Update(ctx, orgID, fn)
	if dieAfter {
		f.die()
		return errInjected
	}
	return err
}

func (f *faultyStore) ApplyEffects(ctx context.Context, orgID string) error {
	run, dieAfter := f.before(orgID)
	if !run || dieAfter { // a crash "after" applying is one before: it never happened
		if dieAfter {
			f.die()
		}
		return errInjected
	}
	return f.Store.ApplyEffects(ctx, orgID)
}

// crashScenario is one writing flow: setup brings a fresh org to where the
// flow starts and returns the flow (whose failures are expected); done, if
// set, reports that the part the service runs in the background (a
// webhook) is over.
type crashScenario struct {
	name  string
	setup func(t *testing.T, o *org) (act func())
	done  func(t *testing.T, o *org) bool
}

const crashUser = "adam" // the member whose personal connection the flows use

// The deauthorizations come last: a webhook that failed on purpose is
// retried after a while, and then deauthorizes every connection of the
// Zoom account (or user), also those of later scenarios.
var crashScenarios = []crashScenario{
	{
		name: "org connect",
		setup: func(t *testing.T, o *org) func() {
			authorize := o.h.openInstallLink(t, o.mustStart(t).GetInstallUrl())
			return func() {
				if callback, _ := o.h.browser.SignInAtZoom(authorize, zoomemu.DevAdminID, "allow"); callback != "" {
					o.h.browser.Get(callback)
				}
			}
		},
	},
	{
		name: "org disconnect",
		setup: func(t *testing.T, o *org) func() {
			o.connect(t)
			return func() { _, _ = o.disconnect(t, o.owner) }
		},
	},
	{
		name: "personal connect",
		setup: func(t *testing.T, o *org) func() {
			authorize := startPersonal(t, o)
			return func() {
				if callback, _ := o.h.browser.SignInAtZoom(authorize, zoomemu.DevOtherOwnerID, "allow"); callback != "" {
					o.h.browser.Get(callback)
				}
			}
		},
	},
	{
		name: "personal disconnect",
		setup: func(t *testing.T, o *org) func() {
			o.connectPersonal(t, crashUser, zoomemu.DevOtherOwnerID)
			return func() {
				_ = o.tr.call(t, o.userToken(t, crashUser), zcv1.ConnectionService_DisconnectPersonalConnection_FullMethodName,
					&zcv1.DisconnectPersonalConnectionRequest{OrgId: o.id, UserId: crashUser}, &zcv1.DisconnectPersonalConnectionResponse{})
			}
		},
	},
	{
		name: "needs reconnect",
		setup: func(t *testing.T, o *org) func() {
			o.connect(t)
			o.upsertMembers(t)
			return func() {
				// Zoom refuses the access token, then the refresh token.
				o.h.zoom.InjectFault(zoomemu.EndpointMeetings, zoomemu.Fault{Status: http.StatusUnauthorized, Times: 1,
					Body: `{"code":124,"message":"Invalid access token."}`})
				o.h.zoom.InjectFault(zoomemu.EndpointToken, zoomemu.Fault{Status: http.StatusBadRequest, Times: 1,
					Body: `{"error":"invalid_grant","reason":"Invalid Token!"}`})
				_, _ = o.createMeeting(t, createReq(o, "b1", "mia"))
				o.h.zoom.ClearFaults()
			}
		},
	},
	{
		name: "meeting create",
		setup: func(t *testing.T, o *org) func() {
			o.connect(t)
			o.upsertMembers(t)
			return func() { _, _ = o.createMeeting(t, createReq(o, "b1", "mia")) }
		},
	},
	{
		name: "meeting delete",
		setup: func(t *testing.T, o *org) func() {
			o.connect(t)
			o.upsertMembers(t)
			_, err := o.createMeeting(t, createReq(o, "b1", "mia"))
			must(t, err)
			return func() { _ = o.deleteMeeting(t, "b1") }
		},
	},
	{
		name: "org deauthorized",
		setup: func(t *testing.T, o *org) func() {
			o.connect(t)
			return func() { must(t, o.h.zoom.Uninstall(orgClientID, zoomemu.DevAdminID)) }
		},
		done: func(t *testing.T, o *org) bool {
			c, err := o.get(t, o.mem)
			return err == nil && c.GetState() == notConnected
		},
	},
	{
		name: "personal deauthorized",
		setup: func(t *testing.T, o *org) func() {
			o.connectPersonal(t, crashUser, zoomemu.DevOtherOwnerID)
			return func() { must(t, o.h.zoom.Uninstall(userClientID, zoomemu.DevOtherOwnerID)) }
		},
		done: func(t *testing.T, o *org) bool {
			return o.setup(t, crashUser).GetPersonal().GetState() != active
		},
	},
}

// startPersonal starts crashUser's personal connection and returns where
// their browser goes.
func startPersonal(t *testing.T, o *org) *url.URL {
	resp := &zcv1.StartPersonalConnectionResponse{}
	must(t, o.tr.call(t, o.userToken(t, crashUser), zcv1.ConnectionService_StartPersonalConnection_FullMethodName,
		&zcv1.StartPersonalConnectionRequest{OrgId: o.id, UserId: crashUser}, resp))
	// The link is zoomconnect's own: it binds the browser, then sends it
	// on to Zoom.
	return o.h.openPersonalLink(t, o.h.browser, resp.GetAuthorizeUrl())
}

// TestCrashSafeEffects fails or kills the service at each step of every
// flow that writes (a commit, or applying its effects), restarts it when
// killed, and checks that within 5 s every committed change has its index
// entries and its event, once: the indexes match the records, and the
// events match the activity log (written in the same commit) one to one.
func TestCrashSafeEffects(t *testing.T) {
	forEachBackend(t, func(t *testing.T, redisURL string) {
		faulty := &faultyStore{}
		h := newHarness(t, redisURL, withWebhooks())
		h.appOpts = []app.Option{app.WithStoreWrapper(func(inner store.Store) store.Store {
			faulty.Store = inner
			faulty.arm("", 0, false)
			return faulty
		})}
		h.restart()
		for _, sc := range crashScenarios {
			t.Run(sc.name, func(t *testing.T) {
				for n := 1; ; n++ {
					reached := false
					for _, crash := range []bool{false, true} {
						mode := map[bool]string{false: "fail", true: "crash"}[crash]
						o := newOrg(h, t, grpcTransport{h}, fmt.Sprintf("crash-%s-%d-%s", strings.ReplaceAll(sc.name, " ", "-"), n, mode))
						act := sc.setup(t, o)
						faulty.arm(o.id, n, crash)
						act()
						if sc.done != nil {
							waitFor(func() bool { return faulty.reached() || sc.done(t, o) })
						}
						if !faulty.disarm() {
							continue
						}
						reached = true
						if crash {
							h.restart()
						} else {
							faulty.arm("", 0, false)
						}
						checkEffects(t, h, faulty, o.id, fmt.Sprintf("%s at step %d", mode, n))
					}
					if !reached {
						if n == 1 {
							t.Fatal("the flow took no step: nothing was tested")
						}
						t.Logf("%d steps, each failed and crashed", n-1)
						return
					}
				}
			})
		}
	})
}

// waitFor polls ok for up to 5 s.
func waitFor(ok func() bool) {
	for deadline := time.Now().Add(5 * time.Second); !ok() && time.Now().Before(deadline); {
		time.Sleep(20 * time.Millisecond)
	}
}

// checkEffects waits up to 5 s for the effects of org's committed changes
// to be complete and unique, and fails the test with what is wrong if
// they are not.
func checkEffects(t *testing.T, h *harness, s store.Store, orgID, when string) {
	t.Helper()
	var problems []string
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		problems = effectProblems(t, s, orgID)
		if len(problems) == 0 {
			return
		}
		if time.Now().After(deadline) {
			break
		}
	}
	t.Errorf("%s, %s: not within 5 s:\n  %s", orgID, when, strings.Join(problems, "\n  "))
}

// eventOf is the event an activity entry's change appends.
var eventOf = map[zcv1.ActivityKind]zcv1.ConnectionEventType{
	zcv1.ActivityKind_ACTIVITY_KIND_ORG_CONNECTED:            zcv1.ConnectionEventType_CONNECTION_EVENT_TYPE_CONNECTED,
	zcv1.ActivityKind_ACTIVITY_KIND_ORG_DISCONNECTED:         zcv1.ConnectionEventType_CONNECTION_EVENT_TYPE_DISCONNECTED,
	zcv1.ActivityKind_ACTIVITY_KIND_ORG_NEEDS_RECONNECT:      zcv1.ConnectionEventType_CONNECTION_EVENT_TYPE_NEEDS_RECONNECT,
	zcv1.ActivityKind_ACTIVITY_KIND_PERSONAL_CONNECTED:       zcv1.ConnectionEventType_CONNECTION_EVENT_TYPE_CONNECTED,
	zcv1.ActivityKind_ACTIVITY_KIND_PERSONAL_DISCONNECTED:    zcv1.ConnectionEventType_CONNECTION_EVENT_TYPE_DISCONNECTED,
	zcv1.ActivityKind_ACTIVITY_KIND_PERSONAL_NEEDS_RECONNECT: zcv1.ConnectionEventType_CONNECTION_EVENT_TYPE_NEEDS_RECONNECT,
}

func effectProblems(t *testing.T, s store.Store, orgID string) []string {
	ctx := t.Context()
	var problems []string
	fail := func(format string, args ...any) { problems = append(problems, fmt.Sprintf(format, args...)) }
	has := func(index, key, member string) bool {
		members, err := s.IndexMembers(ctx, index, key)
		must(t, err)
		return slices.Contains(members, member)
	}

	// Indexes follow the records.
	snap, err := s.Snapshot(ctx, orgID, []string{crashUser})
	must(t, err)
	if c := snap.Connection; c != nil && c.State != store.StateNotConnected {
		if !has("account", c.ZoomAccountID, orgID) || !has("installer", c.InstallerZoomUserID, orgID) || !has("orgs", "connected", orgID) {
			fail("org connection %s but not in the account, installer and connected-orgs indexes", c.State)
		}
	} else if has("account", zoomemu.DevAccountID, orgID) || has("orgs", "connected", orgID) {
		fail("no org connection but still indexed")
	}
	personal := "personal/" + orgID + "/" + crashUser
	if p := snap.Users[0].Personal; p != nil {
		if !has("zoomuser", p.ZoomUserID, personal) {
			fail("personal connection not in the Zoom user index")
		}
	} else if has("zoomuser", zoomemu.DevOtherOwnerID, personal) {
		fail("no personal connection but still indexed")
	}
	m, err := s.GetMeeting(ctx, orgID, "b1")
	switch {
	case err == nil && m.ZoomMeetingID != 0:
		if !has("meeting", strconv.FormatInt(m.ZoomMeetingID, 10), orgID+"/b1") {
			fail("meeting %d not in the meeting index", m.ZoomMeetingID)
		}
	case err != nil && !errors.Is(err, store.ErrNotFound):
		t.Fatalf("GetMeeting: %v", err)
	}

	// Events follow the activity log, one to one.
	var want, got []string
	entries, err := s.ListActivity(ctx, orgID, "", 1000)
	must(t, err)
	for _, e := range entries {
		kind := zcv1.ActivityKind(zcv1.ActivityKind_value["ACTIVITY_KIND_"+strings.ToUpper(e.Kind)])
		if ev, ok := eventOf[kind]; ok {
			want = append(want, ev.String()+"/"+e.UserID)
		}
	}
	seen := map[string]bool{}
	for after := "0"; ; {
		events, err := s.ReadEvents(ctx, after, 1000, 0)
		must(t, err)
		if len(events) == 0 {
			break
		}
		for _, e := range events {
			after = e.ID
			var ev zcv1.ConnectionEvent
			must(t, proto.Unmarshal(e.Payload, &ev))
			if ev.GetOrgId() != orgID {
				continue
			}
			if seen[e.ID] {
				fail("event id %s twice", e.ID)
			}
			seen[e.ID] = true
			got = append(got, ev.GetType().String()+"/"+ev.GetUserId())
		}
	}
	slices.Sort(want)
	slices.Sort(got)
	if !slices.Equal(got, want) {
		fail("events %q, want %q (from the activity log)", got, want)
	}
	return problems
}
