// Package apptest runs a built zoomconnect in a test's process.
package apptest

import (
	"context"
	"testing"

	"github.com/zoomconnect/zoomconnect/server/app"
)

// Serve runs a until the test ends, then stops it; an error it stops with
// fails the test.
func Serve(t testing.TB, a *app.App) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- a.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("zoomconnect stopped with error: %v", err)
		}
	})
}
