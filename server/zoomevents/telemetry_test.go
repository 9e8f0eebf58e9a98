package zoomevents

import (
	"testing"
	"time"

	"github.com/zoomconnect/zoomconnect/server/store"
)

func TestOldestSentReadsEventTimestamps(t *testing.T) {
	items := []store.WebhookDelivery{
		{Body: []byte(`{"event":"user.updated","event_ts":1764500000500}`)},
		{Body: []byte(`{"event":"meeting.deleted","event_ts":1764499999000}`)},
		{Body: []byte(`not json`)},
		{Body: []byte(`{"event":"user.deleted","event_ts":"soon"}`)},
	}
	if got, want := oldestSent(items), time.UnixMilli(1764499999000); !got.Equal(want) {
		t.Fatalf("oldest = %v, want %v", got, want)
	}
	if got := oldestSent(items[2:]); !got.IsZero() {
		t.Fatalf("events without a usable event_ts gave %v", got)
	}
	if got := oldestSent(nil); !got.IsZero() {
		t.Fatalf("no events gave %v", got)
	}
}
