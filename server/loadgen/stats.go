package loadgen

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"maps"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"
	"google.golang.org/grpc/status"
)

// Stats summarizes the calls of one workload, as ghz does.
type Stats struct {
	Count   int
	Errors  map[string]int // by gRPC code (or HTTP status), with one example message
	Elapsed time.Duration
	RPS     float64
	P50     time.Duration
	P90     time.Duration
	P99     time.Duration
	Max     time.Duration
}

// ErrorCount is the number of failed calls.
func (s Stats) ErrorCount() int {
	n := 0
	for _, c := range s.Errors {
		n += c
	}
	return n
}

// recorder collects call latencies from many goroutines.
type recorder struct {
	mu     sync.Mutex
	lat    []time.Duration
	errors map[string]int
}

func newRecorder() *recorder { return &recorder{errors: map[string]int{}} }

func (r *recorder) record(d time.Duration, err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.lat = append(r.lat, d)
	if err != nil {
		r.errors[errorKey(err)]++
	}
}

// errorKey groups errors by gRPC code and message, cut short.
func errorKey(err error) string {
	s := err.Error()
	if st, ok := status.FromError(err); ok {
		s = st.Code().String() + ": " + st.Message()
	}
	if len(s) > 120 {
		s = s[:120]
	}
	return s
}

func (r *recorder) stats(elapsed time.Duration) Stats {
	r.mu.Lock()
	defer r.mu.Unlock()
	lat := slices.Clone(r.lat)
	slices.Sort(lat)
	s := Stats{Count: len(lat), Errors: maps.Clone(r.errors), Elapsed: elapsed}
	if elapsed > 0 {
		s.RPS = float64(len(lat)) / elapsed.Seconds()
	}
	if len(lat) > 0 {
		at := func(q float64) time.Duration { return lat[min(len(lat)-1, int(q*float64(len(lat))))] }
		s.P50, s.P90, s.P99, s.Max = at(0.50), at(0.90), at(0.99), lat[len(lat)-1]
	}
	return s
}

// Process is what /proc says about one server process over a workload.
type Process struct {
	PID int
	// CPU is the user+system time the process used.
	CPU time.Duration
	// MaxRSS is the highest resident set size sampled; MaxAnonRSS the
	// highest of its anonymous part (heap and stacks), without the file
	// pages mapped in (the embedded store's bbolt file is memory-mapped,
	// and the pages read count in RSS while the kernel can drop them).
	MaxRSS     int64
	MaxAnonRSS int64
}

// procProbe samples processes' CPU time and RSS from /proc.
type procProbe struct {
	pids   []int
	cpu0   []time.Duration
	maxRSS []memory
	stop   context.CancelFunc
	done   chan struct{}
}

// clockTick is the unit of /proc/<pid>/stat's times: USER_HZ, 100 on Linux.
const clockTick = 10 * time.Millisecond

// startProcProbe records the processes' CPU time now and samples their
// RSS every 100 ms until end.
func startProcProbe(pids []int) *procProbe {
	p := &procProbe{pids: pids, cpu0: make([]time.Duration, len(pids)), maxRSS: make([]memory, len(pids)), done: make(chan struct{})}
	for i, pid := range pids {
		p.cpu0[i], _ = cpuTime(pid)
	}
	p.sample()
	ctx, cancel := context.WithCancel(context.Background())
	p.stop = cancel
	go func() {
		defer close(p.done)
		t := time.NewTicker(100 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				p.sample()
			}
		}
	}()
	return p
}

func (p *procProbe) sample() {
	for i, pid := range p.pids {
		if m, err := rss(pid); err == nil {
			p.maxRSS[i] = memory{max(p.maxRSS[i].rss, m.rss), max(p.maxRSS[i].anon, m.anon)}
		}
	}
}

func (p *procProbe) end() []Process {
	p.stop()
	<-p.done
	p.sample()
	out := make([]Process, len(p.pids))
	for i, pid := range p.pids {
		cpu, _ := cpuTime(pid)
		out[i] = Process{PID: pid, CPU: cpu - p.cpu0[i], MaxRSS: p.maxRSS[i].rss, MaxAnonRSS: p.maxRSS[i].anon}
	}
	return out
}

// cpuTime reads utime+stime of a process.
func cpuTime(pid int) (time.Duration, error) {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	// The command name (field 2) may hold spaces: fields count from its ")".
	i := bytes.LastIndexByte(data, ')')
	if i < 0 {
		return 0, fmt.Errorf("/proc/%d/stat: no command name", pid)
	}
	fields := strings.Fields(string(data[i+1:]))
	if len(fields) < 13 {
		return 0, fmt.Errorf("/proc/%d/stat: too few fields", pid)
	}
	// fields[0] is field 3 (state): utime and stime are fields 14 and 15.
	utime, err1 := strconv.ParseInt(fields[11], 10, 64)
	stime, err2 := strconv.ParseInt(fields[12], 10, 64)
	if err1 != nil || err2 != nil {
		return 0, fmt.Errorf("/proc/%d/stat: malformed times", pid)
	}
	return time.Duration(utime+stime) * clockTick, nil
}

// memory is a process's resident set size and its anonymous part, in bytes.
type memory struct{ rss, anon int64 }

// rss reads VmRSS and RssAnon of a process.
func rss(pid int) (memory, error) {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return memory{}, err
	}
	defer f.Close()
	var m memory
	found := 0
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		name, v, _ := strings.Cut(sc.Text(), ":")
		var dst *int64
		switch name {
		case "VmRSS":
			dst = &m.rss
		case "RssAnon":
			dst = &m.anon
		default:
			continue
		}
		kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
		if err != nil {
			return memory{}, fmt.Errorf("/proc/%d/status: %s: %w", pid, name, err)
		}
		*dst = kb << 10
		found++
	}
	if found < 2 {
		return memory{}, fmt.Errorf("/proc/%d/status: no VmRSS or RssAnon", pid)
	}
	return m, sc.Err()
}

// RedisNode is what one Redis (cluster master) says.
type RedisNode struct {
	Addr       string
	Keys       int64
	UsedMemory int64
	Commands   int64 // total_commands_processed
	// CPU is the server's user+system CPU time (INFO cpu).
	CPU time.Duration
	// Calls counts calls per command (INFO commandstats).
	Calls map[string]int64
}

// redisNodes reads every master of c (the server itself when standalone).
func redisNodes(ctx context.Context, c redis.UniversalClient) ([]RedisNode, error) {
	var (
		mu    sync.Mutex
		nodes []RedisNode
	)
	read := func(ctx context.Context, n *redis.Client) error {
		info, err := n.Info(ctx, "memory", "stats", "cpu", "commandstats").Result()
		if err != nil {
			return err
		}
		keys, err := n.DBSize(ctx).Result()
		if err != nil {
			return err
		}
		node := RedisNode{Addr: n.Options().Addr, Keys: keys, Calls: map[string]int64{}}
		for _, line := range strings.Split(info, "\r\n") {
			k, v, ok := strings.Cut(line, ":")
			if !ok {
				continue
			}
			switch {
			case k == "used_memory":
				node.UsedMemory, _ = strconv.ParseInt(v, 10, 64)
			case k == "total_commands_processed":
				node.Commands, _ = strconv.ParseInt(v, 10, 64)
			case k == "used_cpu_user" || k == "used_cpu_sys":
				secs, _ := strconv.ParseFloat(v, 64)
				node.CPU += time.Duration(secs * float64(time.Second))
			case strings.HasPrefix(k, "cmdstat_"):
				// cmdstat_get:calls=1,usec=...
				calls, _, _ := strings.Cut(strings.TrimPrefix(v, "calls="), ",")
				node.Calls[strings.TrimPrefix(k, "cmdstat_")], _ = strconv.ParseInt(calls, 10, 64)
			}
		}
		mu.Lock()
		nodes = append(nodes, node)
		mu.Unlock()
		return nil
	}
	var err error
	switch c := c.(type) {
	case *redis.ClusterClient:
		err = c.ForEachMaster(ctx, read)
	case *redis.Client:
		err = read(ctx, c)
	default:
		return nil, fmt.Errorf("loadgen: unsupported Redis client %T", c)
	}
	slices.SortFunc(nodes, func(a, b RedisNode) int { return strings.Compare(a.Addr, b.Addr) })
	return nodes, err
}

// redisDelta is the difference of two readings of the same nodes.
func redisDelta(before, after []RedisNode) []RedisNode {
	out := make([]RedisNode, 0, len(after))
	for _, a := range after {
		d := RedisNode{Addr: a.Addr, Keys: a.Keys, UsedMemory: a.UsedMemory, Commands: a.Commands, CPU: a.CPU, Calls: map[string]int64{}}
		for _, b := range before {
			if b.Addr != a.Addr {
				continue
			}
			d.Commands -= b.Commands
			d.CPU -= b.CPU
			for k, v := range a.Calls {
				if dv := v - b.Calls[k]; dv != 0 {
					d.Calls[k] = dv
				}
			}
		}
		out = append(out, d)
	}
	return out
}

// sum adds up one figure of every node.
func sum[T int64 | time.Duration](nodes []RedisNode, figure func(RedisNode) T) T {
	var total T
	for _, node := range nodes {
		total += figure(node)
	}
	return total
}

func totalCommands(nodes []RedisNode) int64 {
	return sum(nodes, func(n RedisNode) int64 { return n.Commands })
}
func totalCPU(nodes []RedisNode) time.Duration {
	return sum(nodes, func(n RedisNode) time.Duration { return n.CPU })
}
func totalMemory(nodes []RedisNode) int64 {
	return sum(nodes, func(n RedisNode) int64 { return n.UsedMemory })
}
