// Package abusetest is hostile clients for tests: request bodies that cost
// the client nothing, and an HTTP/2 client that sends what the server's
// settings forbid (which a well-behaved client, such as grpc-go's, refuses
// to send).
package abusetest

import (
	"bytes"
	"io"
	"net"
	"strings"
	"sync/atomic"
	"time"

	"golang.org/x/net/http2"
	"golang.org/x/net/http2/hpack"
)

// Body is a request body of a given size made of spaces; it holds no
// memory, and counts what was read of it.
type Body struct {
	left int64
	read atomic.Int64
}

// NewBody returns a body of n bytes.
func NewBody(n int64) *Body { return &Body{left: n} }

func (b *Body) Read(p []byte) (int, error) {
	if b.left <= 0 {
		return 0, io.EOF
	}
	n := int(min(int64(len(p)), b.left))
	for i := range n {
		p[i] = ' '
	}
	b.left -= int64(n)
	b.read.Add(int64(n))
	return n, nil
}

// Sent is how many bytes were read from the body so far.
func (b *Body) Sent() int64 { return b.read.Load() }

// HTTP2 is a raw HTTP/2 client connection.
type HTTP2 struct {
	conn net.Conn
	fr   *http2.Framer
}

// DialHTTP2 opens a cleartext HTTP/2 connection (as gRPC without TLS uses)
// and sends the preface and empty settings. The connection gives up after
// timeout.
func DialHTTP2(addr string, timeout time.Duration) (*HTTP2, error) {
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		return nil, err
	}
	_ = conn.SetDeadline(time.Now().Add(timeout))
	fr := http2.NewFramer(conn, conn)
	if _, err := io.WriteString(conn, http2.ClientPreface); err != nil {
		conn.Close()
		return nil, err
	}
	if err := fr.WriteSettings(); err != nil {
		conn.Close()
		return nil, err
	}
	fr.ReadMetaHeaders = hpack.NewDecoder(4096, nil)
	return &HTTP2{conn: conn, fr: fr}, nil
}

// Close closes the connection.
func (c *HTTP2) Close() error { return c.conn.Close() }

// Framer gives direct access to the frames.
func (c *HTTP2) Framer() *http2.Framer { return c.fr }

// HealthCheck sends a gRPC health check on stream 1 carrying extra
// metadata of metadataBytes, split over CONTINUATION frames. It stops at
// the first write error: the server may cut the connection midway.
func (c *HTTP2) HealthCheck(metadataBytes int) error {
	var block bytes.Buffer
	enc := hpack.NewEncoder(&block)
	for _, f := range []hpack.HeaderField{
		{Name: ":method", Value: "POST"}, {Name: ":scheme", Value: "http"},
		{Name: ":path", Value: "/grpc.health.v1.Health/Check"}, {Name: ":authority", Value: c.conn.RemoteAddr().String()},
		{Name: "content-type", Value: "application/grpc"}, {Name: "te", Value: "trailers"},
		{Name: "x-padding", Value: strings.Repeat("p", metadataBytes)},
	} {
		if err := enc.WriteField(f); err != nil {
			return err
		}
	}
	const frameSize = 16 << 10 // the smallest maximum frame size a server may set
	b := block.Bytes()
	first := b[:min(len(b), frameSize)]
	b = b[len(first):]
	if err := c.fr.WriteHeaders(http2.HeadersFrameParam{StreamID: 1, BlockFragment: first, EndHeaders: len(b) == 0}); err != nil {
		return err
	}
	for len(b) > 0 {
		chunk := b[:min(len(b), frameSize)]
		b = b[len(chunk):]
		if err := c.fr.WriteContinuation(1, len(b) == 0, chunk); err != nil {
			return err
		}
	}
	return c.fr.WriteData(1, true, []byte{0, 0, 0, 0, 0}) // an empty HealthCheckRequest
}

// Answer reads frames until stream 1 ends or the connection does, and says
// how: "grpc-status: <code>", "reset: <code>", "goaway: <code>" or
// "closed: <error>".
func (c *HTTP2) Answer() string {
	for {
		f, err := c.fr.ReadFrame()
		if err != nil {
			return "closed: " + err.Error()
		}
		switch f := f.(type) {
		case *http2.SettingsFrame:
			if !f.IsAck() {
				_ = c.fr.WriteSettingsAck() // fails once the server has cut the connection
			}
		case *http2.RSTStreamFrame:
			return "reset: " + f.ErrCode.String()
		case *http2.GoAwayFrame:
			return "goaway: " + f.ErrCode.String()
		case *http2.MetaHeadersFrame:
			if f.StreamEnded() {
				for _, hf := range f.RegularFields() {
					if hf.Name == "grpc-status" {
						return "grpc-status: " + hf.Value
					}
				}
				return "grpc-status: none"
			}
		}
	}
}
