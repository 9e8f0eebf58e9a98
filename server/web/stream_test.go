package web_test

import (
	"bufio"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/zoomconnect/zoomconnect/server/web"
)

const writeTimeout = 300 * time.Millisecond

// serveLongLived runs handler behind LongLived on a server whose
// WriteTimeout is writeTimeout.
func serveLongLived(t *testing.T, handler http.HandlerFunc) *httptest.Server {
	srv := httptest.NewUnstartedServer(web.LongLived(handler, writeTimeout))
	srv.Config.WriteTimeout = writeTimeout
	srv.Start()
	t.Cleanup(srv.Close)
	return srv
}

// A reader that keeps reading gets everything, long after the server's
// WriteTimeout.
func TestLongLivedOutlivesTheWriteTimeout(t *testing.T) {
	srv := serveLongLived(t, func(w http.ResponseWriter, r *http.Request) {
		rc := http.NewResponseController(w)
		for i := range 10 {
			if _, err := w.Write([]byte(strings.Repeat("x", i) + "\n")); err != nil {
				return
			}
			if err := rc.Flush(); err != nil {
				return
			}
			time.Sleep(writeTimeout / 3)
		}
	})
	began := time.Now()
	resp, err := http.Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	lines := 0
	for sc := bufio.NewScanner(resp.Body); sc.Scan(); {
		lines++
	}
	if lines != 10 || time.Since(began) < 3*writeTimeout {
		t.Fatalf("%d lines in %v; want 10 over more than %v", lines, time.Since(began), 3*writeTimeout)
	}
}

// A client that stops reading is still dropped: a write that cannot
// complete within the write timeout fails.
func TestLongLivedDropsAClientThatStopsReading(t *testing.T) {
	failed := make(chan time.Duration, 1)
	srv := serveLongLived(t, func(w http.ResponseWriter, r *http.Request) {
		rc := http.NewResponseController(w)
		began := time.Now()
		chunk := []byte(strings.Repeat("x", 1<<20))
		for time.Since(began) < 30*time.Second {
			if _, err := w.Write(chunk); err != nil {
				failed <- time.Since(began)
				return
			}
			if err := rc.Flush(); err != nil {
				failed <- time.Since(began)
				return
			}
		}
		failed <- -1
	})
	conn, err := net.Dial("tcp", srv.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := conn.Write([]byte("GET / HTTP/1.1\r\nHost: x\r\n\r\n")); err != nil {
		t.Fatal(err)
	}
	// ... and never reads.
	select {
	case after := <-failed:
		if after < 0 {
			t.Fatal("writes to a client that does not read went on for 30s")
		}
	case <-time.After(40 * time.Second):
		t.Fatal("the handler is still writing")
	}
}
