package redisstore

import "encoding/hex"

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

func leaseKey(orgID, name string) string { return orgPrefix(orgID) + ":lease:" + name }

func stateKey(orgID string, idHash []byte) string {
	return orgPrefix(orgID) + ":state:" + hex.EncodeToString(idHash)
}
