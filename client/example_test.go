package client_test

import (
	"context"
	"fmt"
	"log"

	"github.com/zoomconnect/zoomconnect/client"
	"github.com/zoomconnect/zoomconnect/client/internal/fakezoom"
)

func ExampleClient_EffectiveZoomAccount() {
	addr, stop := exampleServer()
	defer stop()

	// A real service dials with TLS and a token source instead.
	c, err := client.Dial(addr, client.WithInsecure(), client.WithToken("dev-token"))
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()

	acct, err := c.EffectiveZoomAccount(context.Background(), "acme", "olivia")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(acct.GetSource(), acct.GetZoomEmail())
	// Output: CONNECTION_SOURCE_ORGANIZATION olivia@acme.example
}

// exampleServer starts a fake zoomconnect on loopback for the examples.
func exampleServer() (addr string, stop func()) {
	srv, err := fakezoom.Start()
	if err != nil {
		log.Fatal(err)
	}
	return srv.Addr, srv.Stop
}
