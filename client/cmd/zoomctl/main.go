// Command zoomctl is the operator CLI for zoomconnect: it resolves members'
// Zoom accounts, shows, connects and disconnects organizations, lists
// members and checks health. Run zoomctl -h for its commands.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/zoomconnect/zoomconnect/client/internal/zoomctl"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := zoomctl.Run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}
