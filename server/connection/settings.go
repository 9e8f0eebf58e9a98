package connection

import (
	"context"
	"strconv"

	zcv1 "github.com/zoomconnect/zoomconnect/gen/zoomconnect/v1"
	"github.com/zoomconnect/zoomconnect/server/errs"
	"github.com/zoomconnect/zoomconnect/server/store"
)

// settingFields names each setting (as the API's field mask does) and how to
// reach it in a record.
var settingFields = []struct {
	name  string
	field func(*store.OrgSettings) *bool
}{
	{"allow_users_to_detach", func(s *store.OrgSettings) *bool { return &s.AllowUsersToDetach }},
	{"zoom_default_location", func(s *store.OrgSettings) *bool { return &s.ZoomDefaultLocation }},
	{"auto_meeting_summary", func(s *store.OrgSettings) *bool { return &s.AutoMeetingSummary }},
	{"waiting_room", func(s *store.OrgSettings) *bool { return &s.WaitingRoom }},
	{"join_before_host", func(s *store.OrgSettings) *bool { return &s.JoinBeforeHost }},
	{"require_passcode", func(s *store.OrgSettings) *bool { return &s.RequirePasscode }},
}

// Settings returns the org's Zoom settings (all off until changed).
func (s *Service) Settings(ctx context.Context, orgID string) (store.OrgSettings, error) {
	snap, err := s.cfg.Store.Snapshot(ctx, orgID, nil)
	if err != nil || snap.Settings == nil {
		return store.OrgSettings{}, err
	}
	return *snap.Settings, nil
}

// UpdateSettings copies the fields named in paths (all when empty) from
// values, and records each change (old → new) in the activity log.
func (s *Service) UpdateSettings(ctx context.Context, orgID, actor string, values store.OrgSettings, paths []string) (store.OrgSettings, error) {
	selected := map[string]bool{}
	for _, p := range paths {
		known := false
		for _, f := range settingFields {
			known = known || f.name == p
		}
		if !known {
			return store.OrgSettings{}, errs.InvalidArgument("update_mask", ReasonInvalidUpdateMask,
				"update_mask names %q, which is not a setting one can change", p)
		}
		selected[p] = true
	}
	now := s.cfg.Now()
	var result store.OrgSettings
	err := s.cfg.Effects.Update(ctx, orgID, func(tx store.OrgTx) error {
		cur, err := tx.Settings()
		if err != nil {
			return err
		}
		if cur == nil {
			cur = &store.OrgSettings{}
		}
		changes := map[string]string{}
		for _, f := range settingFields {
			if len(selected) > 0 && !selected[f.name] {
				continue
			}
			old, next := *f.field(cur), *f.field(&values)
			if old != next {
				changes[f.name] = strconv.FormatBool(old) + " → " + strconv.FormatBool(next)
				*f.field(cur) = next
			}
		}
		result = *cur
		if len(changes) > 0 {
			cur.UpdatedAt = now
			result = *cur
			tx.SetSettings(cur)
			tx.AppendActivity(store.ActivityEntry{Time: now, Kind: ActivitySettingsChanged, Actor: actor, Details: changes})
			tx.AddEffect(s.effect(change{kind: zcv1.ConnectionEventType_CONNECTION_EVENT_TYPE_SETTINGS_CHANGED, orgID: orgID, actor: actor, settings: &result}))
		}
		return nil
	})
	return result, err
}

// Detach removes the org connection for one member, when the org allows it.
func (s *Service) Detach(ctx context.Context, orgID, userID string) (*Setup, error) {
	return s.setDetached(ctx, orgID, userID, true)
}

// Reattach undoes Detach.
func (s *Service) Reattach(ctx context.Context, orgID, userID string) (*Setup, error) {
	return s.setDetached(ctx, orgID, userID, false)
}

func (s *Service) setDetached(ctx context.Context, orgID, userID string, detached bool) (*Setup, error) {
	now := s.cfg.Now()
	err := s.cfg.Effects.Update(ctx, orgID, func(tx store.OrgTx) error {
		settings, err := tx.Settings()
		if err != nil {
			return err
		}
		if detached && (settings == nil || !settings.AllowUsersToDetach) {
			return errs.PermissionDenied(ReasonDetachNotAllowed,
				"organization %s does not let members detach from its Zoom connection; an owner or admin can allow it in the Zoom settings", orgID)
		}
		m, err := tx.Member(userID)
		if err != nil {
			return err
		}
		if m == nil {
			m = &store.Member{OrgID: orgID, UserID: userID}
		}
		if m.Detached == detached {
			return nil
		}
		m.Detached, m.UpdatedAt = detached, now
		tx.SetMember(m)
		kind, event := ActivityUserReattached, zcv1.ConnectionEventType_CONNECTION_EVENT_TYPE_REATTACHED
		if detached {
			kind, event = ActivityUserDetached, zcv1.ConnectionEventType_CONNECTION_EVENT_TYPE_DETACHED
		}
		tx.AppendActivity(store.ActivityEntry{Time: now, Kind: kind, Actor: userID, UserID: userID})
		tx.AddEffect(s.effect(change{kind: event, orgID: orgID, userID: userID, actor: userID}))
		return nil
	})
	if err != nil {
		return nil, err
	}
	return s.UserSetup(ctx, orgID, userID)
}
