package metrics

import (
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// exportedNames are the metric names the service exports: every
// descriptor of the registry /metrics serves, and the connection census.
func exportedNames(t *testing.T) map[string]prometheus.Desc {
	t.Helper()
	ch := make(chan *prometheus.Desc, 1024)
	Registry.Describe(ch)
	NewConnectionCollector(func(context.Context) (map[ConnectionKey]int, error) { return nil, nil }, time.Minute, nil).Describe(ch)
	close(ch)
	fqName := regexp.MustCompile(`fqName: "([^"]+)"`)
	names := map[string]prometheus.Desc{}
	for d := range ch {
		if m := fqName.FindStringSubmatch(d.String()); m != nil {
			names[m[1]] = *d
		}
	}
	return names
}

// TestDeployFilesNameExportedMetrics reads the alerting rules and the
// Grafana dashboard and checks that every metric they name is one the
// service exports (a histogram's _bucket, _sum and _count included).
func TestDeployFilesNameExportedMetrics(t *testing.T) {
	names := exportedNames(t)
	mentioned := regexp.MustCompile(`\b(?:zoomconnect|grpc_server)_[a-z0-9_]+\b`)
	for _, file := range []string{"deploy/prometheus/alerts.yaml", "deploy/grafana/zoomconnect-dashboard.json"} {
		raw, err := os.ReadFile(filepath.Join("..", "..", file))
		if err != nil {
			t.Fatal(err)
		}
		found := map[string]bool{}
		for _, name := range mentioned.FindAllString(string(raw), -1) {
			found[name] = true
			base := name
			for _, suffix := range []string{"_bucket", "_sum", "_count"} {
				if _, ok := names[name]; !ok && strings.HasSuffix(name, suffix) {
					base = strings.TrimSuffix(name, suffix)
				}
			}
			if _, ok := names[base]; !ok {
				t.Errorf("%s names %s, which the service does not export", file, name)
			}
		}
		if len(found) < 8 {
			t.Errorf("%s names only %d metrics: %v", file, len(found), found)
		}
	}
}
