package app_test

import (
	"bufio"
	"context"
	"encoding/json"
	"net/http"
	"testing"
	"time"

	zcv1 "github.com/zoomconnect/zoomconnect/gen/zoomconnect/v1"
	"github.com/zoomconnect/zoomconnect/server/config"
	"google.golang.org/grpc/metadata"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
)

// nextEvent returns the next event of a watch stream, skipping heartbeats.
func nextEvent(t testing.TB, stream zcv1.ConnectionService_WatchConnectionEventsClient) *zcv1.WatchConnectionEventsResponse {
	t.Helper()
	for {
		got, err := stream.Recv()
		must(t, err)
		if got.GetEvent() != nil {
			return got
		}
	}
}

// Short server timeouts, so that the test proves in seconds what
// production does in minutes.
const (
	testWriteTimeout = time.Second
	testHeartbeat    = 250 * time.Millisecond
)

func withShortStreamTimeouts() option {
	return withService(func(c *config.Config) {
		c.Limits.HTTPWriteTimeout = testWriteTimeout
		c.Limits.HTTPReadTimeout = testWriteTimeout
		c.StreamHeartbeat = testHeartbeat
	})
}

// TestWatchOutlivesTheWriteTimeout: a watcher is told at once that its
// stream is open, gets heartbeats while nothing happens, and receives a
// change made long after the HTTP server's write (and read) timeout, on the
// same stream, over gRPC and REST.
func TestWatchOutlivesTheWriteTimeout(t *testing.T) {
	h := newHarness(t, "", withShortStreamTimeouts())
	outlive := 3 * testWriteTimeout

	t.Run("grpc", func(t *testing.T) {
		o := newOrg(h, t, grpcTransport{h}, "longwatch")
		ctx, cancel := context.WithCancel(metadata.AppendToOutgoingContext(context.Background(), "authorization", "Bearer "+internalToken(t)))
		defer cancel()
		stream, err := zcv1.NewConnectionServiceClient(h.conn).WatchConnectionEvents(ctx, &zcv1.WatchConnectionEventsRequest{OrgId: o.id})
		must(t, err)
		began := time.Now()
		heartbeats := 0
		for time.Since(began) < outlive {
			got, err := stream.Recv()
			must(t, err)
			if got.GetEvent() != nil {
				t.Fatalf("an event before any change: %v", got)
			}
			if heartbeats == 0 && time.Since(began) > time.Second {
				t.Fatalf("the first heartbeat took %v", time.Since(began))
			}
			heartbeats++
		}
		wantHeartbeats(t, heartbeats, outlive)
		o.connect(t)
		if ev := nextEvent(t, stream).GetEvent(); ev.GetType() != zcv1.ConnectionEventType_CONNECTION_EVENT_TYPE_CONNECTED || ev.GetOrgId() != o.id {
			t.Fatalf("event after %v = %v", time.Since(began), ev)
		}
	})

	t.Run("rest", func(t *testing.T) {
		o := newOrg(h, t, restTransport{h}, "longwatch")
		began := time.Now()
		next := watchREST(t, h, "orgId="+o.id)
		heartbeats := 0
		for time.Since(began) < outlive {
			if got := next(); !proto.Equal(got, &zcv1.WatchConnectionEventsResponse{}) {
				t.Fatalf("an event before any change: %v", got)
			}
			heartbeats++
		}
		wantHeartbeats(t, heartbeats, outlive)
		o.connect(t)
		connected := nextRESTEvent(t, next)
		if connected.GetType() != zcv1.ConnectionEventType_CONNECTION_EVENT_TYPE_CONNECTED || connected.GetOrgId() != o.id {
			t.Fatalf("event after %v = %v", time.Since(began), connected)
		}

		// A client that lost the stream resumes after the last event it saw.
		_, err := o.disconnect(t, o.owner)
		must(t, err)
		resumed := nextRESTEvent(t, watchREST(t, h, "orgId="+o.id+"&afterEventId="+connected.GetId()))
		if resumed.GetType() != zcv1.ConnectionEventType_CONNECTION_EVENT_TYPE_DISCONNECTED {
			t.Fatalf("first event after resuming = %v", resumed)
		}
	})
}

// watchREST opens GET /v1/zoom/events:watch?query and returns a function
// that reads the next response from it. The headers must come at once, not
// with the first event.
func watchREST(t *testing.T, h *harness, query string) func() *zcv1.WatchConnectionEventsResponse {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, h.baseURL()+"/v1/zoom/events:watch?"+query, nil)
	must(t, err)
	req.Header.Set("Authorization", "Bearer "+internalToken(t))
	client := &http.Client{Transport: &http.Transport{ResponseHeaderTimeout: 2 * time.Second}}
	opened := time.Now()
	resp, err := client.Do(req)
	must(t, err)
	t.Cleanup(func() { resp.Body.Close() })
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("HTTP %d", resp.StatusCode)
	}
	lines := make(chan string)
	go func() {
		defer close(lines)
		sc := bufio.NewScanner(resp.Body)
		for sc.Scan() {
			lines <- sc.Text()
		}
	}()
	return func() *zcv1.WatchConnectionEventsResponse {
		t.Helper()
		select {
		case line, ok := <-lines:
			if !ok {
				t.Fatalf("the stream ended after %v", time.Since(opened))
			}
			var chunk struct {
				Result json.RawMessage `json:"result"`
				Error  json.RawMessage `json:"error"`
			}
			if err := json.Unmarshal([]byte(line), &chunk); err != nil || chunk.Error != nil {
				t.Fatalf("stream line %q (%v)", line, err)
			}
			got := &zcv1.WatchConnectionEventsResponse{}
			must(t, protojson.Unmarshal(chunk.Result, got))
			return got
		case <-time.After(5 * time.Second):
			t.Fatalf("nothing on the stream for 5s, %v after it opened", time.Since(opened))
			return nil
		}
	}
}

// nextRESTEvent returns the next event from next, skipping heartbeats.
func nextRESTEvent(t *testing.T, next func() *zcv1.WatchConnectionEventsResponse) *zcv1.ConnectionEvent {
	t.Helper()
	for {
		if ev := next().GetEvent(); ev != nil {
			return ev
		}
	}
}

// wantHeartbeats checks that heartbeats came about every testHeartbeat.
func wantHeartbeats(t *testing.T, n int, over time.Duration) {
	t.Helper()
	if want := int(over / testHeartbeat); n < want/2 || n > 2*want {
		t.Fatalf("%d heartbeats in %v; want about %d", n, over, want)
	}
}
