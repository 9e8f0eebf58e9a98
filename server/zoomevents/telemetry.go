package zoomevents

import (
	"encoding/json"
	"time"

	"github.com/zoomconnect/zoomconnect/server/store"
	"github.com/zoomconnect/zoomconnect/server/webhook"
)

// oldestSent is when Zoom sent the oldest of the claimed events (its
// event_ts, milliseconds), for the webhook queue's age metric; zero when
// there are none or none says.
func oldestSent(items []store.WebhookDelivery) time.Time {
	var oldest time.Time
	for _, it := range items {
		env, err := webhook.Parse(it.Body)
		if err != nil {
			continue
		}
		var ms int64
		if json.Unmarshal(env.EventTS, &ms) != nil || ms <= 0 {
			continue
		}
		if t := time.UnixMilli(ms); oldest.IsZero() || t.Before(oldest) {
			oldest = t
		}
	}
	return oldest
}
