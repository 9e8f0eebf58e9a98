// Command zoomconnect runs the zoomconnect service (see server/cli for the
// subcommands).
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"
	_ "time/tzdata" // meeting time zones validate the same on every machine

	"github.com/zoomconnect/zoomconnect/server/cli"
	"github.com/zoomconnect/zoomconnect/server/config"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := cli.Main(ctx, os.Args[1:], config.Getenv(os.LookupEnv), os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}
