package loadgen

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"sync"
	"time"

	zcv1 "github.com/zoomconnect/zoomconnect/gen/zoomconnect/v1"
	"github.com/zoomconnect/zoomconnect/server/webhook"
)

// webhookBurst sends o.WebhookEvents signed user.updated events, one per
// indexed member's Zoom user, evenly over o.WebhookWindow, to the replicas
// in turn. Each event makes the service forget that member's Zoom match,
// which the resolver then shows (no zoom_user_id): the run polls the
// targets until every one shows it (none lost) and reports when the last
// did (the queue's age back to 0). A resolver probe (2 callers on the hot
// members) runs for o.Duration before the burst (idle) and through it.
// On Redis, the queue's XADD and XACK counts show that each event was
// queued and acknowledged once.
func (r *runner) webhookBurst(ctx context.Context, res *Result) error {
	targets := r.o.Plan.indexedTargets()
	if len(targets) < r.o.WebhookEvents {
		return fmt.Errorf("the plan indexes %d members, fewer than the %d events asked for (Plan.IndexedMembers)", len(targets), r.o.WebhookEvents)
	}
	targets = targets[:r.o.WebhookEvents]
	hot := r.hotSet()
	probe := func(ctx context.Context, d time.Duration) Stats {
		return r.drive(ctx, 2, d, func(ctx context.Context, w int) error {
			return r.resolveOne(ctx, w, hot[w%len(hot)])
		})
	}
	idle := probe(ctx, r.o.Duration)

	// The probe during the burst runs until the events are processed; the
	// calls cut short by its end are not counted.
	burstCtx, endProbe := context.WithCancel(ctx)
	defer endProbe()
	var during Stats
	var probing sync.WaitGroup
	probing.Go(func() { during = probe(burstCtx, r.o.WebhookWindow+r.o.WebhookDrain) })

	rec := newRecorder()
	start := time.Now()
	client := &http.Client{Timeout: 10 * time.Second}
	interval := r.o.WebhookWindow / time.Duration(len(targets))
	var sending sync.WaitGroup
	sem := make(chan struct{}, 32)
	for i, t := range targets {
		if !waitUntil(ctx, start.Add(time.Duration(i)*interval)) {
			break
		}
		sem <- struct{}{}
		sending.Go(func() {
			defer func() { <-sem }()
			t0 := time.Now()
			err := r.postEvent(ctx, client, r.env.Replicas[i%len(r.env.Replicas)].HTTPAddr, t)
			rec.record(time.Since(t0), err)
		})
	}
	sending.Wait()
	sent := time.Since(start)
	res.Stats = rec.stats(sent)

	pending, drained, err := r.awaitProcessed(ctx, targets, start)
	endProbe()
	probing.Wait()
	if err != nil {
		return err
	}
	res.Notes = append(res.Notes,
		fmt.Sprintf("%d events sent in %s; all processed %s after the first was sent", len(targets), sent.Round(time.Millisecond), drained.Round(time.Millisecond)),
		fmt.Sprintf("resolver p99 idle %s, during the burst %s (%.2f×); p50 %s → %s",
			ms(idle.P99), ms(during.P99), float64(during.P99)/float64(max(idle.P99, 1)), ms(idle.P50), ms(during.P50)))
	if idle.ErrorCount()+during.ErrorCount() > 0 {
		res.Failures = append(res.Failures, fmt.Sprintf("resolver probe errors: idle %v, during %v", idle.Errors, during.Errors))
	}
	if len(pending) > 0 {
		res.Failures = append(res.Failures, fmt.Sprintf("%d of %d events not processed within %s of the last (lost), e.g. %s/%s",
			len(pending), len(targets), r.o.WebhookDrain, pending[0].orgID, pending[0].userID))
	}
	return nil
}

// postEvent posts one signed user.updated event about t's Zoom user.
func (r *runner) postEvent(ctx context.Context, client *http.Client, addr string, t target) error {
	now := time.Now()
	body, err := json.Marshal(map[string]any{
		"event":    "user.updated",
		"event_ts": now.UnixMilli(),
		"payload": map[string]any{
			"account_id": seededAccount(t.orgID),
			"operator":   "admin@" + t.orgID + ".example",
			"object":     map[string]any{"id": zoomUserID(t.orgID, t.userID), "first_name": "Renamed"},
		},
	})
	if err != nil {
		return err
	}
	ts := strconv.FormatInt(now.Unix(), 10)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, "http://"+addr+webhook.Path, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("x-zm-request-timestamp", ts)
	req.Header.Set("x-zm-signature", webhook.Sign([]byte(r.env.WebhookSecret), ts, body))
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, resp.Body)
	if resp.StatusCode != http.StatusNoContent {
		return fmt.Errorf("HTTP %d", resp.StatusCode)
	}
	return nil
}

// awaitProcessed polls the targets' resolutions until none has a Zoom user
// any more, for at most WebhookWindow+WebhookDrain after start. It returns
// the targets still pending and when the last one was seen processed
// (since start, to within the polling interval).
func (r *runner) awaitProcessed(ctx context.Context, targets []target, start time.Time) (pending []target, drained time.Duration, err error) {
	pending = targets
	deadline := start.Add(r.o.WebhookWindow + r.o.WebhookDrain)
	client := zcv1.NewConnectionServiceClient(r.conn(0))
	for {
		var still []target
		byOrg := map[string][]string{}
		for _, t := range pending {
			byOrg[t.orgID] = append(byOrg[t.orgID], t.userID)
		}
		for orgID, users := range byOrg {
			for first := 0; first < len(users); first += batchSize {
				ids := users[first:min(first+batchSize, len(users))]
				resp, err := client.BatchGetEffectiveZoomAccounts(r.asInternal(ctx),
					&zcv1.BatchGetEffectiveZoomAccountsRequest{OrgId: orgID, UserIds: ids})
				if err != nil {
					return pending, 0, fmt.Errorf("polling the targets: %w", err)
				}
				for _, a := range resp.GetAccounts() {
					if a.GetZoomUserId() != "" {
						still = append(still, target{orgID, a.GetUserId()})
					}
				}
			}
		}
		if len(still) < len(pending) {
			drained = time.Since(start)
		}
		pending = still
		if len(pending) == 0 || time.Now().After(deadline) {
			return pending, drained, nil
		}
		select {
		case <-ctx.Done():
			return pending, drained, ctx.Err()
		case <-time.After(250 * time.Millisecond):
		}
	}
}
