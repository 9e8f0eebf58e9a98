package redisstore

import "encoding/hex"

// The key scheme, documented in the package comment. The hash tag {org:ID}
// keeps every key of one org in one Redis Cluster slot. An ID containing '}'
// still yields one slot per org (the tag then ends inside the ID, at the same
// place for all of its keys), and keys of different orgs never collide.

func orgPrefix(orgID string) string { return "zc:{org:" + orgID + "}" }

func connKey(orgID string) string { return orgPrefix(orgID) + ":conn" }

func stateKey(orgID string, idHash []byte) string {
	return orgPrefix(orgID) + ":state:" + hex.EncodeToString(idHash)
}
