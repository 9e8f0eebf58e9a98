package app_test

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	zcv1 "github.com/zoomconnect/zoomconnect/gen/zoomconnect/v1"
	"github.com/zoomconnect/zoomconnect/server/errs"
	"github.com/zoomconnect/zoomconnect/server/zoomemu"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	spb "google.golang.org/genproto/googleapis/rpc/status"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/mem"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
)

// rawREST sends one HTTP request to the service and returns the answer; an
// error body is decoded as the google.rpc.Status every REST error is.
func rawREST(t testing.TB, h *harness, method, path, tok, body string) (*http.Response, *spb.Status) {
	t.Helper()
	req, err := http.NewRequest(method, h.baseURL()+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if tok != "" {
		req.Header.Set("Authorization", "Bearer "+tok)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	if res.StatusCode < 400 || method == http.MethodHead {
		return res, nil
	}
	var st spb.Status
	if err := protojson.Unmarshal(raw, &st); err != nil {
		t.Fatalf("%s %s: HTTP %d body is not a google.rpc.Status: %s", method, path, res.StatusCode, raw)
	}
	return res, &st
}

// errorInfoOf returns the ErrorInfo of a REST error body, failing the test
// when there is none of domain zoomconnect.
func errorInfoOf(t testing.TB, st *spb.Status) *errdetails.ErrorInfo {
	t.Helper()
	for _, d := range st.GetDetails() {
		var info errdetails.ErrorInfo
		if d.MessageIs(&info) && d.UnmarshalTo(&info) == nil && info.GetDomain() == errs.Domain {
			return &info
		}
	}
	t.Fatalf("error %v carries no google.rpc.ErrorInfo of domain %s", st, errs.Domain)
	return nil
}

// TestGatewayErrorsCarryTheErrorModel: what the gateway refuses itself (ids
// that are not UTF-8, malformed or unknown JSON, unknown routes, wrong
// methods) is answered like every other error: a google.rpc.Status with the
// service's ErrorInfo and the HTTP status of its code.
func TestGatewayErrorsCarryTheErrorModel(t *testing.T) {
	h := newHarness(t, "")
	owner := personToken(t, "olivia", "acme", "owner")
	internal := internalToken(t)
	for _, tc := range []struct {
		name, method, path, tok, body string
		status                        int
		code                          codes.Code
		reason                        errs.Reason
	}{
		{"org id not UTF-8", http.MethodGet, "/v1/orgs/%FF/zoom", owner, "", 400, codes.InvalidArgument, zcv1.ErrorReason_ERROR_REASON_INVALID_ORG_ID},
		{"org id not UTF-8, no token", http.MethodGet, "/v1/orgs/%C3%28/zoom", "", "", 400, codes.InvalidArgument, zcv1.ErrorReason_ERROR_REASON_INVALID_ORG_ID},
		{"user id not UTF-8", http.MethodGet, "/v1/orgs/acme/users/%FF/zoom", owner, "", 400, codes.InvalidArgument, zcv1.ErrorReason_ERROR_REASON_INVALID_USER_ID},
		{"booking id not UTF-8", http.MethodGet, "/v1/orgs/acme/meetings/%FE", internal, "", 400, codes.InvalidArgument, zcv1.ErrorReason_ERROR_REASON_INVALID_BOOKING_ID},
		{"query parameter not UTF-8", http.MethodGet, "/v1/orgs/acme/zoom/activity?page_token=%FF", owner, "", 400, codes.InvalidArgument, errs.ReasonInvalidParameter},
		{"malformed JSON", http.MethodPost, "/v1/orgs/acme/zoom:connect", owner, "{", 400, codes.InvalidArgument, errs.ReasonInvalidBody},
		{"unknown field on POST", http.MethodPost, "/v1/orgs/acme/zoom:connect", owner, `{"orgId":"acme","bogus":1}`, 400, codes.InvalidArgument, errs.ReasonInvalidBody},
		{"member wrapped in PUT", http.MethodPut, "/v1/orgs/acme/members/mia", internal, `{"member":{"userId":"mia","email":"mia@acme.example"}}`, 400, codes.InvalidArgument, errs.ReasonInvalidBody},
		{"misspelled field on PUT", http.MethodPut, "/v1/orgs/acme/members/mia", internal, `{"userId":"mia","emial":"mia@acme.example"}`, 400, codes.InvalidArgument, errs.ReasonInvalidBody},
		{"unknown field on PATCH", http.MethodPatch, "/v1/orgs/acme/zoom/settings", owner, `{"zoomDefaultLocaton":true}`, 400, codes.InvalidArgument, errs.ReasonInvalidBody},
		{"query parameter twice on PATCH", http.MethodPatch, "/v1/orgs/acme/zoom/settings?update_mask=waiting_room&update_mask=waiting_room", owner, `{"waitingRoom":true}`, 400, codes.InvalidArgument, errs.ReasonInvalidParameter},
		{"unknown route", http.MethodGet, "/v1/orgs/acme/nothing", owner, "", 404, codes.NotFound, errs.ReasonRouteNotFound},
		{"unknown path outside the API", http.MethodGet, "/nothing/here", "", "", 404, codes.NotFound, errs.ReasonRouteNotFound},
		{"wrong method", http.MethodDelete, "/v1/orgs/acme/zoom", owner, "", 405, codes.Unimplemented, errs.ReasonMethodNotAllowed},
		{"unsigned webhook", http.MethodPost, "/webhooks/zoom", "", `{"event":"app_deauthorized"}`, 401, codes.Unauthenticated, errs.ReasonWebhookUnverified},
		{"webhook GET", http.MethodGet, "/webhooks/zoom", "", "", 405, codes.Unimplemented, errs.ReasonMethodNotAllowed},
		{"no token", http.MethodGet, "/v1/orgs/acme/zoom", "", "", 401, codes.Unauthenticated, zcv1.ErrorReason_ERROR_REASON_TOKEN_MISSING},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res, st := rawREST(t, h, tc.method, tc.path, tc.tok, tc.body)
			if res.StatusCode != tc.status || st == nil || codes.Code(st.GetCode()) != tc.code {
				t.Fatalf("HTTP %d %v; want %d %s", res.StatusCode, st, tc.status, tc.code)
			}
			if info := errorInfoOf(t, st); info.GetReason() != errs.ReasonName(tc.reason) {
				t.Fatalf("reason %q, want %s (message %q)", info.GetReason(), errs.ReasonName(tc.reason), st.GetMessage())
			}
			if st.GetMessage() == "" {
				t.Fatal("no message")
			}
		})
	}

	t.Run("405 says what is allowed", func(t *testing.T) {
		for path, allow := range map[string]string{
			"/v1/orgs/acme/zoom":              "GET",
			"/v1/orgs/acme/members/mia":       "DELETE, PUT",
			"/v1/orgs/acme/meetings/b1":       "DELETE, GET, PATCH",
			"/v1/orgs/acme/zoom:disconnect":   "POST",
			"/v1/orgs/acme/zoom/settings":     "GET, PATCH",
			"/v1/orgs/acme/users/mia/zoom":    "GET",
			"/v1/orgs/acme/zoom:previewDisco": "",
		} {
			res, _ := rawREST(t, h, http.MethodHead, path, owner, "")
			if allow == "" {
				if res.StatusCode != http.StatusNotFound {
					t.Errorf("HEAD %s: HTTP %d, want 404", path, res.StatusCode)
				}
				continue
			}
			if res.StatusCode != http.StatusMethodNotAllowed || res.Header.Get("Allow") != allow {
				t.Errorf("HEAD %s: HTTP %d, Allow %q; want 405, Allow %q", path, res.StatusCode, res.Header.Get("Allow"), allow)
			}
		}
	})

	t.Run("the same ids over gRPC and REST", func(t *testing.T) {
		for _, tr := range transports(h) {
			err := tr.call(t, owner, getMethod, &zcv1.GetOrgConnectionRequest{OrgId: "no spaces"}, &zcv1.GetOrgConnectionResponse{})
			wantCode(t, err, codes.InvalidArgument, zcv1.ErrorReason_ERROR_REASON_INVALID_ORG_ID)
		}
	})
}

// TestDisconnectListsAffectedUsers: the disconnect answer lists the members
// who lost Zoom, as PreviewOrgDisconnect did just before and as the
// disconnect event does.
func TestDisconnectListsAffectedUsers(t *testing.T) {
	h := newHarness(t, "")
	for _, tr := range transports(h) {
		t.Run(tr.name(), func(t *testing.T) {
			o := newOrg(h, t, tr, "affected")
			o.connect(t)
			o.upsertMembers(t)
			o.connectPersonal(t, "adam", zoomemu.DevOtherOwnerID)
			preview := &zcv1.PreviewOrgDisconnectResponse{}
			must(t, o.tr.call(t, o.owner, zcv1.ConnectionService_PreviewOrgDisconnect_FullMethodName,
				&zcv1.PreviewOrgDisconnectRequest{OrgId: o.id}, preview))

			ctx, cancel := context.WithTimeout(metadata.AppendToOutgoingContext(context.Background(), "authorization", "Bearer "+internalToken(t)), 10*time.Second)
			defer cancel()
			stream, err := zcv1.NewConnectionServiceClient(h.conn).WatchConnectionEvents(ctx, &zcv1.WatchConnectionEventsRequest{OrgId: o.id})
			must(t, err)
			time.Sleep(200 * time.Millisecond) // the watch is in place

			resp := &zcv1.DisconnectOrgConnectionResponse{}
			must(t, o.tr.call(t, o.owner, disconnectRPC, &zcv1.DisconnectOrgConnectionRequest{OrgId: o.id}, resp))
			got := memberIDs(resp.GetAffectedUsers())
			if got != "mia" || got != memberIDs(preview.GetAffectedUsers()) {
				t.Fatalf("disconnect lists %q, preview %q; want mia in both", got, memberIDs(preview.GetAffectedUsers()))
			}
			if m := resp.GetAffectedUsers()[0]; m.GetEmail() != "member@acme.example" || m.GetName() != "Mia Member" {
				t.Fatalf("affected member = %v", m)
			}
			ev := nextEvent(t, stream)
			if ids := strings.Join(ev.GetEvent().GetAffectedUserIds(), ","); ids != got {
				t.Fatalf("event lists %q, answer %q", ids, got)
			}

			// activity details are named as the API's JSON fields are
			activity := &zcv1.ListActivityResponse{}
			must(t, o.tr.call(t, o.owner, zcv1.ConnectionService_ListActivity_FullMethodName, &zcv1.ListActivityRequest{OrgId: o.id}, activity))
			for _, e := range activity.GetEntries() {
				for k := range e.GetDetails() {
					if strings.Contains(k, "_") {
						t.Errorf("activity %s has detail key %q; want lowerCamelCase", e.GetKind(), k)
					}
				}
			}
			if d := activity.GetEntries()[0].GetDetails(); activity.GetEntries()[0].GetKind() != zcv1.ActivityKind_ACTIVITY_KIND_ORG_DISCONNECTED || d["zoomAccountId"] == "" {
				t.Errorf("latest activity = %v; want ORG_DISCONNECTED with zoomAccountId", activity.GetEntries()[0])
			}

			again := &zcv1.DisconnectOrgConnectionResponse{}
			must(t, o.tr.call(t, o.owner, disconnectRPC, &zcv1.DisconnectOrgConnectionRequest{OrgId: o.id}, again))
			if len(again.GetAffectedUsers()) != 0 {
				t.Fatalf("a second disconnect lists %v", again.GetAffectedUsers())
			}
		})
	}
}

func memberIDs(ms []*zcv1.OrgMember) string {
	var ids []string
	for _, m := range ms {
		ids = append(ids, m.GetUserId())
	}
	return strings.Join(ids, ",")
}

// TestClientHangingUpIsNoFailure: a watcher that goes away is logged at
// debug level as CANCELLED, not as a refused or failed call.
func TestClientHangingUpIsNoFailure(t *testing.T) {
	h := newHarness(t, "")
	logs := &h.logs
	ctx, cancel := context.WithCancel(metadata.AppendToOutgoingContext(context.Background(), "authorization", "Bearer "+internalToken(t)))
	stream, err := zcv1.NewConnectionServiceClient(h.conn).WatchConnectionEvents(ctx, &zcv1.WatchConnectionEventsRequest{})
	must(t, err)
	time.Sleep(200 * time.Millisecond)
	cancel()
	for {
		got, err := stream.Recv()
		if err != nil {
			break
		}
		if got.GetEvent() != nil {
			t.Fatalf("an event on an idle stream: %v", got)
		}
		// a heartbeat sent before the cancel; the stream must end next
	}
	deadline := time.Now().Add(5 * time.Second)
	for !strings.Contains(logs.String(), "RPC cancelled by the client") {
		if time.Now().After(deadline) {
			t.Fatalf("no debug line for the cancelled stream; log:\n%s", logs.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	for _, bad := range []string{"RPC refused", "RPC failed", "reason=Unknown", "level=ERROR"} {
		if strings.Contains(logs.String(), bad) {
			t.Fatalf("log mentions %q for a client that hung up:\n%s", bad, logs.String())
		}
	}
}

// rawCodec sends requests as the bytes given, so a test can send what a Go
// client would refuse to marshal (strings that are not UTF-8).
type rawCodec struct{}

func (rawCodec) Marshal(v any) (mem.BufferSlice, error) {
	return mem.BufferSlice{mem.SliceBuffer(v.([]byte))}, nil
}

func (rawCodec) Unmarshal(data mem.BufferSlice, v any) error {
	return proto.Unmarshal(data.Materialize(), v.(proto.Message))
}

func (rawCodec) Name() string { return "proto" }

// stringField is the wire encoding of string field num holding s.
func stringField(num protowire.Number, s string) []byte {
	return protowire.AppendString(protowire.AppendTag(nil, num, protowire.BytesType), s)
}

// TestGRPCRequestsThatAreNotUTF8: a gRPC request (from a client in any
// language) with a string that is not UTF-8 is INVALID_ARGUMENT with the
// field's reason, as over REST, not INTERNAL.
func TestGRPCRequestsThatAreNotUTF8(t *testing.T) {
	h := newHarness(t, "")
	ctx := func(tok string) context.Context {
		return metadata.AppendToOutgoingContext(t.Context(), "authorization", "Bearer "+tok)
	}
	owner, internal := personToken(t, "olivia", "acme", "owner"), internalToken(t)
	for _, tc := range []struct {
		name, method, tok string
		req               []byte
		reason            errs.Reason
		field             string
	}{
		{"org id", getMethod, owner, stringField(1, "\xff"), zcv1.ErrorReason_ERROR_REASON_INVALID_ORG_ID, "org_id"},
		{"nested member email", zcv1.ConnectionService_UpsertOrgMember_FullMethodName, internal,
			append(append(stringField(1, "acme"), stringField(2, "mia")...), protowire.AppendBytes(protowire.AppendTag(nil, 3, protowire.BytesType), stringField(2, "mia@\xc3\x28"))...),
			errs.ReasonInvalidParameter, "member.email"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := h.conn.Invoke(ctx(tc.tok), tc.method, tc.req, &zcv1.GetOrgConnectionResponse{}, grpc.ForceCodecV2(rawCodec{}))
			st := status.Convert(err)
			if st.Code() != codes.InvalidArgument || errs.ReasonOf(st) != tc.reason || !strings.Contains(st.Message(), tc.field) {
				t.Fatalf("got %v (reason %s); want INVALID_ARGUMENT %s about %s", err, errs.ReasonOf(st), errs.ReasonName(tc.reason), tc.field)
			}
		})
	}

	t.Run("stream", func(t *testing.T) {
		desc := &grpc.StreamDesc{StreamName: "WatchConnectionEvents", ServerStreams: true}
		stream, err := h.conn.NewStream(ctx(internal), desc, zcv1.ConnectionService_WatchConnectionEvents_FullMethodName, grpc.ForceCodecV2(rawCodec{}))
		must(t, err)
		must(t, stream.SendMsg(stringField(2, "\xfe")))
		must(t, stream.CloseSend())
		err = stream.RecvMsg(&zcv1.WatchConnectionEventsResponse{})
		if st := status.Convert(err); st.Code() != codes.InvalidArgument || errs.ReasonOf(st) != zcv1.ErrorReason_ERROR_REASON_INVALID_ORG_ID {
			t.Fatalf("got %v; want INVALID_ARGUMENT INVALID_ORG_ID", err)
		}
	})
}
