package api

import (
	"strings"
	"testing"

	zcv1 "github.com/zoomconnect/zoomconnect/gen/zoomconnect/v1"
	"google.golang.org/protobuf/proto"
)

// FuzzSanitize: any bytes (an untrusted request) are either refused as
// malformed or come out with every string UTF-8, and a request that was
// UTF-8 comes out unchanged.
func FuzzSanitize(f *testing.F) {
	seed, _ := proto.Marshal(&zcv1.UpsertOrgMemberRequest{OrgId: "acme", UserId: "mia", Member: &zcv1.OrgMember{UserId: "mia", Email: "m@x", Name: "Mia"}})
	f.Add(seed)
	f.Add([]byte{0x0a, 0x01, 0xff})
	f.Add([]byte{0x1a, 0x05, 0x12, 0x03, 'a', 0xc3, 0x28})
	f.Fuzz(func(t *testing.T, b []byte) {
		md := (&zcv1.UpsertOrgMemberRequest{}).ProtoReflect().Descriptor()
		var bad []string
		out, ok := sanitize(b, md, "", &bad)
		if !ok {
			return
		}
		var m zcv1.UpsertOrgMemberRequest
		err := proto.Unmarshal(out, &m)
		if err != nil && strings.Contains(err.Error(), "invalid UTF-8") {
			t.Fatalf("sanitized %x still has invalid UTF-8: %v", out, err)
		}
		if len(bad) == 0 && string(out) != string(b) {
			t.Fatalf("a clean request changed: %x -> %x", b, out)
		}
	})
}
