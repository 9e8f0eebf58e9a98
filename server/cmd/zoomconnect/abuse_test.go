package main_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/zoomconnect/zoomconnect/server/auth"
	"github.com/zoomconnect/zoomconnect/server/config"
	"github.com/zoomconnect/zoomconnect/server/internal/abusetest"
	"github.com/zoomconnect/zoomconnect/server/internal/webtest"
)

// abuseRSSBound is the resident memory zoomconnect may reach under
// BenchmarkAbuse (the README states it).
const abuseRSSBound = 64 << 20

// BenchmarkAbuse builds zoomconnect, runs it in dev mode, sends it what an
// attacker would, and reports its resident memory (VmRSS, and VmHWM, the
// peak, from /proc/<pid>/status) before and after. It fails when the peak
// passes abuseRSSBound. One round per b.N:
//
//   - 8 PUTs of 100 MB without a token (4 with Content-Length, 4 chunked)
//     and 4 with a valid token;
//   - 40 health checks carrying 15 MB of gRPC metadata, 8 at a time;
//   - 1,000 GETs of one live install link.
//
// Run: go test -run '^$' -bench BenchmarkAbuse -benchtime 1x ./server/cmd/zoomconnect/
func BenchmarkAbuse(b *testing.B) {
	secret := []byte("an-hs256-secret-for-the-abuse-benchmark")
	srv := startBinary(b, secret)
	owner, err := auth.Mint(secret, auth.Claims{Subject: "olivia", OrgID: "acme", OrgRole: auth.RoleOwner}.IssuedFor(config.DevAuthIssuer, config.DevAuthAudience), time.Hour)
	if err != nil {
		b.Fatal(err)
	}
	link := installLink(b, srv, owner)
	before := srv.memory(b)

	b.ResetTimer()
	for range b.N {
		var wg sync.WaitGroup
		for i := range 12 {
			wg.Go(func() {
				tok := ""
				if i >= 8 {
					tok = owner
				}
				put100MB(b, srv, tok, i%2 == 0)
			})
		}
		sem := make(chan struct{}, 8)
		for range 40 {
			wg.Go(func() {
				sem <- struct{}{}
				defer func() { <-sem }()
				c, err := abusetest.DialHTTP2(srv.grpcAddr, time.Minute)
				if err != nil {
					b.Error(err)
					return
				}
				defer c.Close()
				_ = c.HealthCheck(15 << 20)
				if got := c.Answer(); strings.HasPrefix(got, "grpc-status: ") {
					b.Errorf("a health check with 15 MB of metadata was answered: %s", got)
				}
			})
		}
		wg.Wait()
		visit := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
		for range 1000 {
			resp, err := visit.Get(link)
			if err != nil {
				b.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusFound {
				b.Fatalf("install link: HTTP %d", resp.StatusCode)
			}
		}
	}
	b.StopTimer()

	after := srv.memory(b)
	b.ReportMetric(float64(before.rss)/(1<<20), "MB-rss-before")
	b.ReportMetric(float64(after.rss)/(1<<20), "MB-rss-after")
	b.ReportMetric(float64(after.peak)/(1<<20), "MB-rss-peak")
	if after.peak > abuseRSSBound {
		b.Fatalf("zoomconnect reached %d MB of resident memory; the bound is %d MB", after.peak>>20, abuseRSSBound>>20)
	}
}

type server struct {
	pid      int
	grpcAddr string
	base     string
}

type memory struct{ rss, peak int64 }

// memory reads the server's VmRSS and VmHWM.
func (s *server) memory(b *testing.B) memory {
	b.Helper()
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", s.pid))
	if err != nil {
		b.Fatalf("reading the server's memory needs Linux /proc: %v", err)
	}
	defer f.Close()
	var m memory
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		name, value, _ := strings.Cut(sc.Text(), ":")
		kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(value), " kB"), 10, 64)
		switch {
		case err != nil:
		case name == "VmRSS":
			m.rss = kb << 10
		case name == "VmHWM":
			m.peak = kb << 10
		}
	}
	if m.rss == 0 || m.peak == 0 {
		b.Fatal("no VmRSS/VmHWM in /proc/<pid>/status")
	}
	return m
}

// startBinary builds zoomconnect and starts it in dev mode on free ports.
func startBinary(b *testing.B, secret []byte) *server {
	b.Helper()
	dir := b.TempDir()
	bin := filepath.Join(dir, "zoomconnect")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		b.Fatalf("go build: %v\n%s", err, out)
	}
	grpcAddr, httpAddr := webtest.FreeAddr(b), webtest.FreeAddr(b)
	cmd := exec.Command(bin)
	cmd.Env = append(os.Environ(),
		"ZOOMCONNECT_DATA_DIR="+filepath.Join(dir, "data"),
		"ZOOMCONNECT_GRPC_ADDR="+grpcAddr,
		"ZOOMCONNECT_HTTP_ADDR="+httpAddr,
		"ZOOMCONNECT_ADMIN_ADDR="+webtest.FreeAddr(b),
		"ZOOMCONNECT_AUTH_HS256_SECRET="+string(secret),
		"ZOOMCONNECT_LOG_LEVEL=warn",
	)
	var logs bytes.Buffer
	cmd.Stdout, cmd.Stderr = &logs, &logs
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() {
		_ = cmd.Process.Signal(os.Interrupt)
		_ = cmd.Wait()
	})
	s := &server{pid: cmd.Process.Pid, grpcAddr: grpcAddr, base: "http://" + httpAddr}
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		if resp, err := http.Get(s.base + "/readyz"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return s
			}
		}
		if time.Now().After(deadline) {
			b.Fatalf("zoomconnect did not become ready:\n%s", logs.String())
		}
	}
}

// installLink starts org acme's connection and returns its install link.
func installLink(b *testing.B, s *server, owner string) string {
	b.Helper()
	req, _ := http.NewRequest(http.MethodPost, s.base+"/v1/orgs/acme/zoom:connect", nil)
	req.Header.Set("Authorization", "Bearer "+owner)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		b.Fatal(err)
	}
	defer resp.Body.Close()
	var started struct {
		InstallURL string `json:"installUrl"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&started); err != nil || started.InstallURL == "" {
		b.Fatalf("starting a connection: HTTP %d, %v", resp.StatusCode, err)
	}
	return started.InstallURL
}

// put100MB sends a 100 MB member, which must be refused: 401 without a
// token, 413 with one.
func put100MB(b *testing.B, s *server, tok string, withLength bool) {
	body := abusetest.NewBody(100 << 20)
	req, _ := http.NewRequestWithContext(context.Background(), http.MethodPut, s.base+"/v1/orgs/acme/members/mia", body)
	req.ContentLength = -1
	if withLength {
		req.ContentLength = 100 << 20
	}
	if tok != "" {
		req.Header.Set("Authorization", "Bearer "+tok)
	}
	resp, err := (&http.Client{Transport: &http.Transport{}}).Do(req)
	if err != nil {
		b.Error(err)
		return
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	want := http.StatusUnauthorized
	if tok != "" {
		want = http.StatusRequestEntityTooLarge
	}
	if resp.StatusCode != want {
		b.Errorf("100 MB PUT: HTTP %d, want %d", resp.StatusCode, want)
	}
}
