package zoomemu

import (
	"cmp"
	"encoding/hex"
	"time"
)

// Events the emulator emits on its own (zoom-api.md §5.4–5.6).
const (
	EventAppDeauthorized   = "app_deauthorized"
	EventUserUpdated       = "user.updated"
	EventUserDeactivated   = "user.deactivated"
	EventUserDeleted       = "user.deleted"
	EventUserDisassociated = "user.disassociated"
	EventMeetingDeleted    = "meeting.deleted"
	// EventURLValidation is Zoom's endpoint challenge (SendURLValidation).
	EventURLValidation = "endpoint.url_validation"
)

// deauthPayload is app_deauthorized's payload as Zoom's current spec
// (rivet's AppDeauthorizedEvent) has it, event_ts inside. Zoom has removed
// the older user_data_retention field with its Data Compliance API.
type deauthPayload struct {
	AccountID           string `json:"account_id"`
	UserID              string `json:"user_id"`
	Signature           string `json:"signature"`
	DeauthorizationTime string `json:"deauthorization_time"`
	ClientID            string `json:"client_id"`
	EventTS             int64  `json:"event_ts"`
}

// userPayload is the payload of the user.* events.
type userPayload struct {
	AccountID  string `json:"account_id"`
	Operator   string `json:"operator,omitempty"`
	OperatorID string `json:"operator_id,omitempty"`
	// TimeStamp is user.updated's (milliseconds).
	TimeStamp int64 `json:"time_stamp,omitempty"`
	Object    any   `json:"object"`
	OldObject any   `json:"old_object,omitempty"`
}

// userObject is the object of user.deactivated, user.deleted and
// user.disassociated.
type userObject struct {
	ID        string `json:"id"`
	FirstName string `json:"first_name,omitempty"`
	LastName  string `json:"last_name,omitempty"`
	Email     string `json:"email"`
	Type      int    `json:"type"`
}

type meetingPayload struct {
	AccountID  string        `json:"account_id"`
	Operator   string        `json:"operator,omitempty"`
	OperatorID string        `json:"operator_id,omitempty"`
	Operation  string        `json:"operation"`
	Object     meetingObject `json:"object"`
}

type meetingObject struct {
	UUID      string `json:"uuid"`
	ID        int64  `json:"id"`
	HostID    string `json:"host_id"`
	Topic     string `json:"topic"`
	Type      int    `json:"type"`
	StartTime string `json:"start_time,omitempty"`
	Duration  int    `json:"duration"`
	Timezone  string `json:"timezone"`
}

// emitDeauthorized sends app_deauthorized for a grant that was revoked or
// uninstalled. The signature field is opaque at Zoom; here it is random
// hex of Zoom's length. Must be called with e.mu held.
func (e *Emulator) emitDeauthorized(g *grant, now time.Time) {
	e.emit(EventAppDeauthorized, now, deauthPayload{
		AccountID: g.accountID, UserID: g.userID, Signature: hex.EncodeToString(randomBytes(32)),
		DeauthorizationTime: now.UTC().Format("2006-01-02T15:04:05.000Z"), ClientID: g.clientID,
		EventTS: now.UnixMilli(),
	})
}

// accountOperator is who acts in the admin console for an account: its
// Owner, else its first Admin (by id), else nobody. Must be called with e.mu
// held.
func (e *Emulator) accountOperator(accountID string) (email, id string) {
	var best *userRecord
	for _, u := range e.users {
		if u.AccountID != accountID || (u.RoleID != "0" && u.RoleID != "1") {
			continue
		}
		// "0" (Owner) sorts before "1" (Admin).
		if best == nil || cmp.Or(cmp.Compare(u.RoleID, best.RoleID), cmp.Compare(u.ID, best.ID)) < 0 {
			best = &u
		}
	}
	if best == nil {
		return "", ""
	}
	return best.Email, best.ID
}

// emitUserEvent sends user.deactivated, user.deleted or user.disassociated
// for u, as done by the account's owner. Must be called with e.mu held.
func (e *Emulator) emitUserEvent(event string, u User, now time.Time) {
	op, opID := e.accountOperator(u.AccountID)
	e.emit(event, now, userPayload{AccountID: u.AccountID, Operator: op, OperatorID: opID,
		Object: userObject{ID: u.ID, FirstName: u.FirstName, LastName: u.LastName, Email: u.Email, Type: u.Type}})
}

// emitRoleChange sends user.updated for a role change. How Zoom shows one
// is undocumented, so by default object and old_object carry only the id
// and the receiver must read the user again; Config.WebhookRoleFields adds
// role_id and role_name. Must be called with e.mu held.
func (e *Emulator) emitRoleChange(old, updated User, now time.Time) {
	obj, oldObj := map[string]any{"id": updated.ID}, map[string]any{"id": old.ID}
	if e.wh.roleFields {
		obj["role_id"], obj["role_name"] = updated.RoleID, updated.RoleName
		oldObj["role_id"], oldObj["role_name"] = old.RoleID, old.RoleName
	}
	op, opID := e.accountOperator(updated.AccountID)
	e.emit(EventUserUpdated, now, userPayload{AccountID: updated.AccountID, Operator: op, OperatorID: opID,
		TimeStamp: now.UnixMilli(), Object: obj, OldObject: oldObj})
}

// emitMeetingDeleted sends meeting.deleted for m, deleted by the user
// operatorID (the token's user for API deletes, the host for DeleteMeeting).
// operation is "single" (Zoom's enum is not documented; the emulator has no
// occurrences). Must be called with e.mu held.
func (e *Emulator) emitMeetingDeleted(m *Meeting, operatorID string, now time.Time) {
	op := ""
	if u, ok := e.users[operatorID]; ok {
		op = u.Email
	}
	e.emit(EventMeetingDeleted, now, meetingPayload{AccountID: m.AccountID, Operator: op, OperatorID: operatorID,
		Operation: "single", Object: meetingObject{UUID: m.UUID, ID: m.ID, HostID: m.HostID, Topic: m.Topic,
			Type: m.Type, StartTime: zoomTime(m.StartTime), Duration: m.Duration, Timezone: m.Timezone}})
}
