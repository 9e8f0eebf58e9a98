package redisstore

import (
	"crypto/sha256"
	"encoding/hex"
)

// The key scheme, documented in the package comment. The hash tag {org:ID}
// keeps every key of one org in one Redis Cluster slot. Org ids have no
// braces (backend.CheckOrgID), so the tag is exactly the org id and keys of
// different orgs never collide; within an org, the suffixes after the tag
// differ before any user id or hex starts.

// changesChannel is where Update publishes the id of every org it changed.
const changesChannel = "zoomconnect:changes"

// entryField is the field of an activity stream entry that holds its JSON.
const entryField = "entry"

func orgPrefix(orgID string) string { return "zc:{org:" + orgID + "}" }

func connKey(orgID string) string     { return orgPrefix(orgID) + ":conn" }
func settingsKey(orgID string) string { return orgPrefix(orgID) + ":settings" }
func membersKey(orgID string) string  { return orgPrefix(orgID) + ":members" }
func activityKey(orgID string) string { return orgPrefix(orgID) + ":activity" }

func memberKey(orgID, userID string) string   { return orgPrefix(orgID) + ":member:" + userID }
func personalKey(orgID, userID string) string { return orgPrefix(orgID) + ":personal:" + userID }

// meetingKey is the key of a booking's meeting; meetingKey(orgID, "") is
// the prefix that tells meeting writes, which publish nothing, apart.
func meetingKey(orgID, bookingID string) string { return orgPrefix(orgID) + ":meeting:" + bookingID }

// outboxKey is the list of an org's committed effects not yet applied.
func outboxKey(orgID string) string { return orgPrefix(orgID) + ":outbox" }

func leaseKey(orgID, name string) string { return orgPrefix(orgID) + ":lease:" + name }

func stateKey(orgID string, idHash []byte) string {
	return orgPrefix(orgID) + ":state:" + hex.EncodeToString(idHash)
}

// The global keys, of no org. The webhook inbox and its dedupe keys share
// the hash tag {webhooks}, so that EnqueueWebhook, one script over both,
// runs on one node of a cluster; the event stream is one key, and each
// index set is one key, in whatever slot its name falls.
const (
	// inboxKey is the stream of queued webhooks.
	inboxKey = "zc:{webhooks}:inbox"
	// inboxGroup is the consumer group of every ClaimWebhooks.
	inboxGroup = "zoomconnect"
	// bodyField is the field of an inbox entry that holds the body.
	bodyField = "body"
	// eventsKey is the global event stream, under the name scheduling
	// services read it by.
	eventsKey = "zoomconnect:events"
	// payloadField is the field of an event that holds its payload.
	payloadField = "payload"
	// pendingKey is the sorted set of the orgs that may have effects in
	// their outbox, scored by when (Redis time, ms) a commit marked them.
	pendingKey = "zc:effects:pending"
)

// appliedKey remembers, for a while, that the event of an outbox entry was
// appended, and as which id. Its hash tag is the event stream's name,
// which hashes to the stream's own slot: the append and the marker are one
// script.
func appliedKey(entryID string) string { return "zc:{" + eventsKey + "}:applied:" + entryID }

// seenKey remembers a dedupe key for store.WebhookDedupeWindow; hashed,
// since a dedupe key may be long or hold anything.
func seenKey(dedupeKey string) string {
	sum := sha256.Sum256([]byte(dedupeKey))
	return "zc:{webhooks}:seen:" + hex.EncodeToString(sum[:])
}

// indexKey is the set of the members of an index's key. Index names have
// no colon (backend.CheckIndexKey), so the name ends at the first one.
func indexKey(index, key string) string { return "zc:idx:" + index + ":" + key }
