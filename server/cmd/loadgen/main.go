// Command loadgen seeds a zoomconnect store in bulk, starts replicas of the
// service on it (with a Zoom emulator), and runs the load workloads of
// package loadgen against them; see the README's "Capacity" section.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/zoomconnect/zoomconnect/server/loadgen"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := loadgen.Main(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}
