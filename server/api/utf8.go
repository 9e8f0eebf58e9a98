package api

import (
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/zoomconnect/zoomconnect/server/errs"
	"google.golang.org/grpc"
	"google.golang.org/grpc/encoding"
	grpcproto "google.golang.org/grpc/encoding/proto"
	"google.golang.org/grpc/mem"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
)

// Codec is the server's gRPC codec: protobuf, except that a request whose
// strings are not UTF-8 is still decoded (its bad strings replaced by
// U+FFFD) and remembered, so that the interceptors refuse it with
// INVALID_ARGUMENT and the field's reason (INVALID_ORG_ID for org_id), as
// the REST gateway does. grpc-go would report the decoding failure as
// INTERNAL, before any interceptor runs.
func Codec() encoding.CodecV2 { return utf8Codec{encoding.GetCodecV2(grpcproto.Name)} }

type utf8Codec struct{ encoding.CodecV2 }

// notUTF8 maps a request decoded by the codec to its first field that was
// not UTF-8, until the interceptors take it (see takeNotUTF8).
var notUTF8 sync.Map // proto.Message -> string

func (c utf8Codec) Unmarshal(data mem.BufferSlice, v any) error {
	err := c.CodecV2.Unmarshal(data, v)
	m, ok := v.(proto.Message)
	if err == nil || !ok || !strings.Contains(err.Error(), "invalid UTF-8") {
		return err
	}
	var bad []string
	fixed, ok := sanitize(data.Materialize(), m.ProtoReflect().Descriptor(), "", &bad)
	if !ok || len(bad) == 0 {
		return err
	}
	if err := proto.Unmarshal(fixed, m); err != nil {
		return err
	}
	notUTF8.Store(m, bad[0])
	return nil
}

// sanitize copies the wire-format message b of type md, replacing the
// invalid UTF-8 in its string fields (nested messages and maps included) by
// U+FFFD and naming those fields in bad. ok is false for malformed input,
// which is left to the codec to refuse.
func sanitize(b []byte, md protoreflect.MessageDescriptor, prefix string, bad *[]string) (out []byte, ok bool) {
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			return nil, false
		}
		out, b = append(out, b[:n]...), b[n:]
		fd := md.Fields().ByNumber(num)
		if typ != protowire.BytesType || fd == nil {
			n = protowire.ConsumeFieldValue(num, typ, b)
			if n < 0 {
				return nil, false
			}
			out, b = append(out, b[:n]...), b[n:]
			continue
		}
		v, n := protowire.ConsumeBytes(b)
		if n < 0 {
			return nil, false
		}
		b = b[n:]
		switch {
		case fd.Kind() == protoreflect.StringKind && !utf8.Valid(v):
			*bad = append(*bad, prefix+string(fd.Name()))
			v = []byte(strings.ToValidUTF8(string(v), "\uFFFD"))
		case fd.Kind() == protoreflect.MessageKind:
			if v, ok = sanitize(v, fd.Message(), prefix+string(fd.Name())+".", bad); !ok {
				return nil, false
			}
		}
		out = protowire.AppendBytes(out, v)
	}
	return out, true
}

// takeNotUTF8 returns the refusal of a request the codec found not UTF-8,
// or nil, and forgets the request.
func takeNotUTF8(req any) error {
	m, ok := req.(proto.Message)
	if !ok {
		return nil
	}
	field, found := notUTF8.LoadAndDelete(m)
	if !found {
		return nil
	}
	name := field.(string)
	return errs.InvalidArgument(name, reasonOfField(name), "%s must be UTF-8 text", name)
}

// utf8Stream refuses a streamed request the codec found not UTF-8.
type utf8Stream struct{ grpc.ServerStream }

func (s utf8Stream) RecvMsg(m any) error {
	if err := s.ServerStream.RecvMsg(m); err != nil {
		return err
	}
	return takeNotUTF8(m)
}
