package redisstore

import (
	"context"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/zoomconnect/zoomconnect/server/store"
	"github.com/zoomconnect/zoomconnect/server/store/internal/backend"
)

// The webhook inbox is a stream read through one consumer group, so that
// Redis tracks which consumer holds which entry since when, and how often
// it was handed out (its pending entries list). Every operation is one
// command, script or transaction on keys of the hash tag {webhooks}.
var (
	// enqueueScript: KEYS[1] the dedupe key, KEYS[2] the inbox; ARGV[1]
	// the dedupe window in milliseconds, ARGV[2] the body. Returns 1 if it
	// queued the body, 0 for a duplicate. The entry is added before the
	// dedupe key: a script is not rolled back, and if the second write
	// failed, a duplicate later beats a webhook lost.
	enqueueScript = redis.NewScript(`
if redis.call("EXISTS", KEYS[1]) == 1 then
	return 0
end
redis.call("XADD", KEYS[2], "*", "body", ARGV[2]) -- bodyField
redis.call("SET", KEYS[1], "1", "PX", ARGV[1])
return 1
`)

	// claimScript: KEYS[1] the inbox; ARGV[1] the group, ARGV[2] the
	// consumer, ARGV[3] the limit, ARGV[4] the min idle time in
	// milliseconds. It creates the group if needed (from the start of the
	// stream, so that entries queued before it are delivered too), takes
	// over the entries idle that long (XAUTOCLAIM, which counts a delivery;
	// its cursor is followed, since one call scans a bounded part of the
	// pending list), then reads new entries (XREADGROUP, which does not
	// block inside a script). Returns {id, fields, deliveries} per entry,
	// oldest first: the pending entries all precede the new ones.
	claimScript = redis.NewScript(`
local created = redis.pcall("XGROUP", "CREATE", KEYS[1], ARGV[1], "0", "MKSTREAM")
if type(created) == "table" and created.err and string.sub(created.err, 1, 9) ~= "BUSYGROUP" then
	return created
end
local limit = tonumber(ARGV[3])
local out = {}
local cursor = "0-0"
repeat
	local res = redis.call("XAUTOCLAIM", KEYS[1], ARGV[1], ARGV[2], ARGV[4], cursor, "COUNT", limit - #out)
	cursor = res[1]
	for _, e in ipairs(res[2]) do
		if type(e) == "table" and type(e[2]) == "table" then
			local p = redis.call("XPENDING", KEYS[1], ARGV[1], e[1], e[1], 1)
			out[#out + 1] = {e[1], e[2], p[1][4]}
		end
	end
until cursor == "0-0" or #out >= limit
if #out < limit then
	local res = redis.call("XREADGROUP", "GROUP", ARGV[1], ARGV[2], "COUNT", limit - #out, "STREAMS", KEYS[1], ">")
	if res then
		for _, e in ipairs(res[1][2]) do
			out[#out + 1] = {e[1], e[2], 1}
		end
	end
end
return out
`)
)

// EnqueueWebhook implements store.Store with one script.
func (s *Store) EnqueueWebhook(ctx context.Context, dedupeKey string, body []byte) (bool, error) {
	if err := backend.CheckDedupeKey(dedupeKey); err != nil {
		return false, err
	}
	window := store.WebhookDedupeWindow.Milliseconds()
	n, err := enqueueScript.Run(ctx, s.client, []string{seenKey(dedupeKey), inboxKey}, window, body).Int()
	if err != nil {
		return false, redisErr(ctx, "enqueue webhook", err)
	}
	return n == 1, nil
}

// ClaimWebhooks implements store.Store with one script. Redis counts
// idleness in milliseconds: minIdle is rounded up to the next one.
func (s *Store) ClaimWebhooks(ctx context.Context, consumer string, limit int, minIdle time.Duration) ([]store.WebhookDelivery, error) {
	if err := backend.CheckClaim(consumer, limit, minIdle); err != nil {
		return nil, err
	}
	idle := ceilMillis(minIdle)
	res, err := claimScript.Run(ctx, s.client, []string{inboxKey}, inboxGroup, consumer, limit, idle).Slice()
	if err != nil {
		return nil, redisErr(ctx, "claim webhooks", err)
	}
	out := make([]store.WebhookDelivery, 0, len(res))
	for _, r := range res {
		d, err := decodeDelivery(r)
		if err != nil {
			return nil, err
		}
		out = append(out, d)
	}
	return out, nil
}

// decodeDelivery decodes one {id, fields, deliveries} of claimScript.
func decodeDelivery(r any) (store.WebhookDelivery, error) {
	item, _ := r.([]any)
	if len(item) != 3 {
		return store.WebhookDelivery{}, fmt.Errorf("%s: unexpected claim result %v", at(inboxKey), r)
	}
	id, _ := item[0].(string)
	fields, _ := item[1].([]any)
	n, ok := item[2].(int64)
	if id == "" || !ok {
		return store.WebhookDelivery{}, fmt.Errorf("%s: unexpected claim result %v", at(inboxKey), r)
	}
	for i := 0; i+1 < len(fields); i += 2 {
		if name, _ := fields[i].(string); name == bodyField {
			if body, ok := fields[i+1].(string); ok {
				return store.WebhookDelivery{ID: id, Body: []byte(body), Deliveries: int(n)}, nil
			}
		}
	}
	return store.WebhookDelivery{}, fmt.Errorf("%s, entry %s: malformed record: no field %q", at(inboxKey), id, bodyField)
}

// AckWebhook implements store.Store: XACK and XDEL in one transaction.
// Acknowledging a webhook that is not queued (any more) does nothing.
func (s *Store) AckWebhook(ctx context.Context, id string) error {
	if _, err := backend.ParseWebhookID(id); err != nil {
		return err
	}
	_, err := s.client.TxPipelined(ctx, func(p redis.Pipeliner) error {
		p.XAck(ctx, inboxKey, inboxGroup, id)
		p.XDel(ctx, inboxKey, id)
		return nil
	})
	if err != nil {
		return redisErr(ctx, "ack webhook", err)
	}
	return nil
}
