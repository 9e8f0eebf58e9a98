package redisstore

import (
	"context"
	"fmt"

	"github.com/redis/go-redis/v9"
)

// Subscribe implements store.Store with SUBSCRIBE zoomconnect:changes. In a
// cluster, classic pub/sub messages reach every node, so one subscription
// through any node hears the changes of all orgs.
//
// go-redis re-establishes a dropped subscription by itself and reports it
// with a new subscription confirmation: messages published meanwhile are
// lost, so that confirmation becomes onChange("").
func (s *Store) Subscribe(ctx context.Context, onChange func(orgID string)) error {
	ps := s.client.Subscribe(ctx, changesChannel)
	msg, err := ps.Receive(ctx)
	if err == nil {
		if _, ok := msg.(*redis.Subscription); !ok {
			err = fmt.Errorf("got %T instead of the confirmation", msg)
		}
	}
	if err != nil {
		_ = ps.Close()
		return redisErr(ctx, "subscribe", err)
	}
	ch := ps.ChannelWithSubscriptions()
	go func() {
		defer ps.Close()
		for {
			select {
			case <-ctx.Done():
				return
			case msg, ok := <-ch:
				if !ok {
					return // the client was closed
				}
				switch msg := msg.(type) {
				case *redis.Message:
					onChange(msg.Payload)
				case *redis.Subscription:
					onChange("")
				}
			}
		}
	}()
	return nil
}
