package loadgen

import (
	"cmp"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"time"
)

// printResult writes one workload's report, ghz-like.
func printResult(w io.Writer, res Result) {
	s := res.Stats
	fmt.Fprintf(w, "\n== %s\n", res.Workload)
	fmt.Fprintf(w, "  calls %d  errors %d  in %s  rps %.1f\n", s.Count, s.ErrorCount(), s.Elapsed.Round(time.Millisecond), s.RPS)
	fmt.Fprintf(w, "  latency p50 %s  p90 %s  p99 %s  max %s\n", ms(s.P50), ms(s.P90), ms(s.P99), ms(s.Max))
	for _, k := range slices.Sorted(maps.Keys(s.Errors)) {
		fmt.Fprintf(w, "  error ×%d: %s\n", s.Errors[k], k)
	}
	for _, p := range res.Processes {
		perCall := "n/a"
		if s.Count > 0 {
			perCall = fmt.Sprintf("%.0fµs", float64(p.CPU.Microseconds())/float64(s.Count))
		}
		fmt.Fprintf(w, "  server pid %d: cpu %s (%s per call, %.2f cores)  max rss %.1f MB (anonymous %.1f MB)\n", p.PID, p.CPU.Round(time.Millisecond),
			perCall, p.CPU.Seconds()/max(s.Elapsed.Seconds(), 1e-9), float64(p.MaxRSS)/(1<<20), float64(p.MaxAnonRSS)/(1<<20))
	}
	if res.Redis != nil {
		total := totalCommands(res.Redis)
		cpu := totalCPU(res.Redis)
		fmt.Fprintf(w, "  redis: %d commands (%.3f per call), cpu %s (%.0fµs per call), used memory %.1f MB\n", total,
			float64(total)/float64(max(s.Count, 1)), cpu.Round(time.Millisecond), float64(cpu.Microseconds())/float64(max(s.Count, 1)),
			float64(totalMemory(res.Redis))/(1<<20))
		if len(res.Redis) > 1 {
			for _, n := range res.Redis {
				fmt.Fprintf(w, "    node %s: %d commands, cpu %s, %d keys, %.1f MB\n", n.Addr, n.Commands, n.CPU.Round(time.Millisecond), n.Keys, float64(n.UsedMemory)/(1<<20))
			}
		}
		fmt.Fprintf(w, "    top commands: %s\n", topCalls(res.Redis, 6))
		if acks := calls(res.Redis, "xack"); acks > 0 {
			// Each queued webhook is one XADD (in the enqueue script) and
			// one XACK once processed: more acks than events means some
			// were processed twice.
			fmt.Fprintf(w, "    webhook inbox: XADD %d, XACK %d\n", calls(res.Redis, "xadd"), acks)
		}
	}
	for _, n := range res.Notes {
		fmt.Fprintf(w, "  %s\n", n)
	}
	for _, f := range res.Failures {
		fmt.Fprintf(w, "  FAILED: %s\n", f)
	}
}

// calls sums one command's calls over all nodes.
func calls(nodes []RedisNode, command string) int64 {
	return sum(nodes, func(n RedisNode) int64 { return n.Calls[command] })
}

// topCalls lists the n commands called most, over all nodes.
func topCalls(nodes []RedisNode, n int) string {
	calls := map[string]int64{}
	for _, node := range nodes {
		for k, v := range node.Calls {
			calls[k] += v
		}
	}
	names := slices.SortedFunc(maps.Keys(calls), func(a, b string) int { return cmp.Compare(calls[b], calls[a]) })
	var parts []string
	for _, k := range names[:min(n, len(names))] {
		parts = append(parts, fmt.Sprintf("%s %d", k, calls[k]))
	}
	return strings.Join(parts, ", ")
}
