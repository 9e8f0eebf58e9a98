// Package redistest starts throwaway redis-server processes for tests: a
// standalone server or a local three-master Redis Cluster, on free loopback
// ports, in the test's temporary directory, with persistence off. Every
// process is killed (with its process group) when the test ends.
//
// The tests need the Redis binaries: when redis-server is not on PATH they
// fail rather than skip, so that a CI image without Redis cannot silently
// stop testing the Redis backend. Unix only.
package redistest

import (
	"bufio"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

const (
	// startAttempts bounds the retries when a picked port was taken by
	// someone else between picking and binding.
	startAttempts = 5
	// readyTimeout bounds how long a fresh server may take to answer PING.
	readyTimeout = 10 * time.Second
	// logTail is how much of a server's log is shown when a test fails.
	logTail = 4 << 10
)

// Server is a standalone redis-server owned by one test.
type Server struct {
	// Addr is the server's host:port.
	Addr string
	p    *process
}

// Freeze stops the server's process (SIGSTOP) until Thaw or the end of the
// test: connections stay open and nothing answers, as with a hung Redis.
func (s *Server) Freeze(t testing.TB) {
	t.Helper()
	signalProcessGroup(s.p.cmd.Process.Pid, syscall.SIGSTOP)
	t.Cleanup(s.Thaw)
}

// Thaw resumes a frozen server (SIGCONT).
func (s *Server) Thaw() { signalProcessGroup(s.p.cmd.Process.Pid, syscall.SIGCONT) }

// URL returns the redis:// URL of the server.
func (s *Server) URL() string { return "redis://" + s.Addr }

// StartStandalone starts a standalone redis-server for t and waits until it
// answers PING. It is killed in t.Cleanup.
func StartStandalone(t testing.TB) *Server {
	t.Helper()
	p, err := start(t, lookPath(t, "redis-server"), "standalone", false)
	if err != nil {
		t.Fatalf("redistest: %v", err)
	}
	return &Server{Addr: p.addr, p: p}
}

// process is one running redis-server.
type process struct {
	name    string
	addr    string
	port    int
	busPort int // cluster bus port; 0 when not in cluster mode
	cmd     *exec.Cmd
	logPath string
	exited  chan struct{} // closed once the process has been reaped
}

// start starts one redis-server and waits until it is ready, retrying with
// new ports when the picked ones were taken in the meantime. Its cleanup is
// registered with t. Unlike t.Fatal, it may be called from any goroutine.
func start(t testing.TB, bin, name string, cluster bool) (*process, error) {
	for attempt := 1; ; attempt++ {
		p, err := tryStart(t, bin, name, cluster)
		if err == nil {
			return p, nil
		}
		if !errors.Is(err, errPortInUse) || attempt == startAttempts {
			return nil, fmt.Errorf("start %s redis-server: %w", name, err)
		}
	}
}

var errPortInUse = errors.New("port already in use")

func tryStart(t testing.TB, bin, name string, cluster bool) (*process, error) {
	nPorts := 1
	if cluster {
		nPorts = 2 // client port and cluster bus port
	}
	ports, err := freePorts(nPorts)
	if err != nil {
		return nil, err
	}
	dir := t.TempDir()
	p := &process{
		name:    name,
		port:    ports[0],
		addr:    net.JoinHostPort("127.0.0.1", strconv.Itoa(ports[0])),
		logPath: filepath.Join(dir, "redis.log"),
		exited:  make(chan struct{}),
	}
	args := []string{
		"--port", strconv.Itoa(p.port),
		"--bind", "127.0.0.1",
		"--dir", dir,
		"--save", "",
		"--appendonly", "no",
		"--daemonize", "no",
		"--logfile", "", // stdout, which goes to logPath
	}
	if cluster {
		p.busPort = ports[1]
		args = append(args,
			"--cluster-enabled", "yes",
			"--cluster-port", strconv.Itoa(p.busPort),
			"--cluster-config-file", filepath.Join(dir, "nodes.conf"),
		)
	}
	logFile, err := os.Create(p.logPath)
	if err != nil {
		return nil, err
	}
	defer logFile.Close() // the child has its own descriptor
	p.cmd = exec.Command(bin, args...)
	p.cmd.Dir = dir
	p.cmd.Stdout = logFile
	p.cmd.Stderr = logFile
	p.cmd.SysProcAttr = sysProcAttr()
	if err := p.cmd.Start(); err != nil {
		return nil, err
	}
	go func() {
		_ = p.cmd.Wait() // an exit status is expected: we kill it
		close(p.exited)
	}()
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("redistest: log of %s redis-server %s:\n%s", p.name, p.addr, p.log())
		}
		p.kill()
	})

	if err := p.waitReady(); err != nil {
		p.kill()
		if strings.Contains(p.log(), "Address already in use") {
			return nil, errPortInUse
		}
		return nil, fmt.Errorf("%w; server log:\n%s", err, p.log())
	}
	return p, nil
}

// waitReady polls PING until the server answers, exits, or readyTimeout.
func (p *process) waitReady() error {
	deadline := time.Now().Add(readyTimeout)
	for {
		if ping(p.addr) == nil {
			return nil
		}
		select {
		case <-p.exited:
			return fmt.Errorf("redis-server on %s exited during start-up", p.addr)
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("redis-server on %s did not answer PING within %v", p.addr, readyTimeout)
		}
	}
}

// kill kills the server's process group and waits until it is reaped. It is
// safe to call on a process that already exited.
func (p *process) kill() {
	select {
	case <-p.exited:
	default:
		killProcessGroup(p.cmd.Process.Pid)
		<-p.exited
	}
}

// log returns the tail of the server's log.
func (p *process) log() string {
	b, err := os.ReadFile(p.logPath)
	if err != nil {
		return "(no log: " + err.Error() + ")"
	}
	if len(b) > logTail {
		b = append([]byte("…"), b[len(b)-logTail:]...)
	}
	return string(b)
}

// ping speaks just enough RESP to tell whether a server is ready, so that
// start-up does not depend on a client library's retry policy.
func ping(addr string) error {
	conn, err := net.DialTimeout("tcp", addr, 200*time.Millisecond)
	if err != nil {
		return err
	}
	defer conn.Close()
	if err := conn.SetDeadline(time.Now().Add(time.Second)); err != nil {
		return err
	}
	if _, err := conn.Write([]byte("PING\r\n")); err != nil {
		return err
	}
	line, err := bufio.NewReader(conn).ReadString('\n')
	if err != nil {
		return err
	}
	if line != "+PONG\r\n" {
		return fmt.Errorf("unexpected reply to PING: %q", line)
	}
	return nil
}

// freePorts returns n distinct free loopback ports, never Redis's default
// 6379 (a system Redis must never be touched). Another process may still
// take one before redis-server binds it; tryStart detects that.
func freePorts(n int) ([]int, error) {
	var ports []int
	for len(ports) < n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, fmt.Errorf("pick a free port: %w", err)
		}
		defer l.Close() // keep it until all are picked, so they differ
		if port := l.Addr().(*net.TCPAddr).Port; port != 6379 {
			ports = append(ports, port)
		}
	}
	return ports, nil
}

// lookPath fails the test when a Redis binary is missing: skipping would let
// a misconfigured CI pass without ever exercising Redis.
func lookPath(t testing.TB, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		t.Fatalf("redistest: %s not found on PATH: install Redis >= 7.0 (e.g. apt-get install redis-server) to run these tests", name)
	}
	return p
}
