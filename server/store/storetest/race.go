package storetest

import (
	"sync"
	"testing"
)

// exactlyOneWins releases n goroutines at once, each calling try(i), and
// fails the test unless exactly one of them won and none failed. It
// returns the winner's i.
func exactlyOneWins(t *testing.T, what string, n int, try func(i int) (won bool, err error)) int {
	t.Helper()
	start := make(chan struct{})
	var (
		wg       sync.WaitGroup
		mu       sync.Mutex
		winners  []int
		failures []error
	)
	for i := range n {
		wg.Go(func() {
			<-start
			won, err := try(i)
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err != nil:
				failures = append(failures, err)
			case won:
				winners = append(winners, i)
			}
		})
	}
	close(start)
	wg.Wait()
	if len(winners) != 1 || len(failures) > 0 {
		t.Fatalf("%d %s: winners %v (want exactly one), errors: %v", n, what, winners, failures)
	}
	return winners[0]
}
