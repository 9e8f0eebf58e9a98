// Package client is the Go client that internal services use to call
// zoomconnect over gRPC.
//
// Dial gives a connection with the defaults every caller should have and
// nobody should have to remember: TLS with the system roots, a bearer token
// on every call, retries of idempotent reads when a replica is unavailable,
// round-robin balancing over all resolved addresses, keepalive pings the
// server accepts, and a deadline for calls that bring none.
//
//	c, err := client.Dial("zoomconnect.internal:9090",
//		client.WithTokenSource(tokens.Token)) // a func(context.Context) (string, error)
//	if err != nil {
//		return err
//	}
//	defer c.Close()
//
//	acct, err := c.EffectiveZoomAccount(ctx, orgID, userID)
//	if client.ErrorReason(err) == zoomconnectv1.ErrorReason_ERROR_REASON_TOKEN_EXPIRED {
//		// refresh the token source's token, then try again
//	}
//	if err != nil {
//		return err
//	}
//	host := acct.GetZoomUserId()
//
// Every error the service sends carries a machine-readable reason
// (google.rpc.ErrorInfo); ErrorReason (the zoomconnect.v1.ErrorReason
// enum), Reason (its string) and RetryDelay read it so that callers branch
// on reasons rather than on messages.
package client
