package connection

import (
	"context"
	"encoding/base64"
	"regexp"

	"github.com/zoomconnect/zoomconnect/server/errs"
	"github.com/zoomconnect/zoomconnect/server/store"
)

// Activity kinds (store.ActivityEntry.Kind).
const (
	ActivityOrgConnectionStarted   = "org_connection_started"
	ActivityOrgConnected           = "org_connected"
	ActivityOrgDisconnected        = "org_disconnected"
	ActivityOrgNeedsReconnect      = "org_needs_reconnect"
	ActivityPersonalConnected      = "personal_connected"
	ActivityPersonalDisconnected   = "personal_disconnected"
	ActivityPersonalNeedsReconnect = "personal_needs_reconnect"
	ActivityUserDetached           = "user_detached"
	ActivityUserReattached         = "user_reattached"
	ActivitySettingsChanged        = "settings_changed"
	ActivityZoomScopeMissing       = "zoom_scope_missing"
)

// Actors that are not users.
const (
	ActorZoom   = "zoom"
	ActorSystem = "system"
)

// activityID is the shape of the IDs the stores give activity entries.
var activityID = regexp.MustCompile(`^[0-9]{1,20}-[0-9]{1,20}$`)

// Page sizes of list calls.
const (
	defaultPageSize = 50
	maxPageSize     = 1000
)

func pageSize(requested int32) int {
	switch {
	case requested <= 0:
		return defaultPageSize
	case requested > maxPageSize:
		return maxPageSize
	}
	return int(requested)
}

// Page tokens are opaque to callers: base64url of the last key returned.
func encodePageToken(key string) string {
	if key == "" {
		return ""
	}
	return base64.RawURLEncoding.EncodeToString([]byte(key))
}

func decodePageToken(token string) (string, error) {
	key, err := base64.RawURLEncoding.DecodeString(token)
	if err != nil || (token != "" && len(key) == 0) || len(key) > 512 {
		return "", errs.InvalidArgument("page_token", ReasonInvalidPageToken, "page_token is not one this service issued")
	}
	return string(key), nil
}

// ListActivity returns the org's activity, newest first.
func (s *Service) ListActivity(ctx context.Context, orgID string, size int32, token string) ([]store.ActivityEntry, string, error) {
	before, err := decodePageToken(token)
	if err != nil {
		return nil, "", err
	}
	if before != "" && !activityID.MatchString(before) {
		return nil, "", errs.InvalidArgument("page_token", ReasonInvalidPageToken, "page_token is not one this service issued")
	}
	limit := pageSize(size)
	entries, err := s.cfg.Store.ListActivity(ctx, orgID, before, limit)
	if err != nil {
		return nil, "", err
	}
	next := ""
	if len(entries) == limit {
		next = encodePageToken(entries[len(entries)-1].ID)
	}
	return entries, next, nil
}
