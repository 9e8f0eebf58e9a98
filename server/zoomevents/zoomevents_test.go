package zoomevents

import (
	"os"
	"regexp"
	"slices"
	"testing"
)

// TestHandledZoomEventsAreDocumented: the events the webhook endpoint
// queues are exactly those ProcessWebhook acts on (one list), and exactly
// those the README tells operators to subscribe to.
func TestHandledZoomEventsAreDocumented(t *testing.T) {
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	section := regexp.MustCompile(`(?s)\*\*Webhooks\*\*.*?\)`).Find(readme)
	var documented []string
	for _, m := range regexp.MustCompile("`([a-z_]+(?:\\.[a-z_]+)?)`").FindAllSubmatch(section, -1) {
		documented = append(documented, string(m[1]))
	}
	var handled []string
	for name := range handlers {
		handled = append(handled, name)
	}
	slices.Sort(documented)
	slices.Sort(handled)
	if !slices.Equal(documented, handled) {
		t.Fatalf("README documents %q, the service handles %q", documented, handled)
	}
	if Handles("recording.completed") || Handles("endpoint.url_validation") {
		t.Fatal("an event the service does not act on would be queued")
	}
}
