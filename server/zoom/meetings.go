package zoom

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
)

// MeetingSettings are the meeting options the service sets.
type MeetingSettings struct {
	WaitingRoom             *bool `json:"waiting_room,omitempty"`
	JoinBeforeHost          *bool `json:"join_before_host,omitempty"`
	AutoStartMeetingSummary *bool `json:"auto_start_meeting_summary,omitempty"`
}

// MeetingRequest is the body of a create or update (PATCH: only the set
// fields change).
type MeetingRequest struct {
	Topic string `json:"topic,omitempty"`
	// Type 2 is a scheduled meeting.
	Type int `json:"type,omitempty"`
	// StartTime is UTC, "2006-01-02T15:04:05Z".
	StartTime string `json:"start_time,omitempty"`
	// Duration is in minutes.
	Duration int    `json:"duration,omitempty"`
	Timezone string `json:"timezone,omitempty"`
	Agenda   string `json:"agenda,omitempty"`
	// Password is the meeting passcode. default_password only applies the
	// host's own settings, so a passcode the service needs is sent here.
	Password        string           `json:"password,omitempty"`
	DefaultPassword *bool            `json:"default_password,omitempty"`
	Settings        *MeetingSettings `json:"settings,omitempty"`
}

// Meeting is a Zoom meeting as Zoom returns it.
type Meeting struct {
	ID        int64  `json:"id"`
	UUID      string `json:"uuid"`
	HostID    string `json:"host_id"`
	HostEmail string `json:"host_email"`
	Topic     string `json:"topic"`
	StartTime string `json:"start_time"`
	Duration  int    `json:"duration"`
	Timezone  string `json:"timezone"`
	Agenda    string `json:"agenda"`
	JoinURL   string `json:"join_url"`
	Password  string `json:"password"`
}

// CreateMeeting creates a meeting hosted by userID (a Zoom user id, email
// or "me"). Zoom has no idempotency key: a lost answer may hide a created
// meeting.
func (c *Client) CreateMeeting(ctx context.Context, accessToken, userID string, req MeetingRequest) (*Meeting, error) {
	var m Meeting
	if err := c.call(ctx, http.MethodPost, accessToken, "/users/"+url.PathEscape(userID)+"/meetings", req, &m); err != nil {
		return nil, err
	}
	return &m, nil
}

// GetMeeting reads a meeting.
func (c *Client) GetMeeting(ctx context.Context, accessToken string, id int64) (*Meeting, error) {
	var m Meeting
	if err := c.call(ctx, http.MethodGet, accessToken, meetingPath(id), nil, &m); err != nil {
		return nil, err
	}
	return &m, nil
}

// UpdateMeeting patches a meeting (Zoom answers 204 without the meeting).
func (c *Client) UpdateMeeting(ctx context.Context, accessToken string, id int64, req MeetingRequest) error {
	return c.call(ctx, http.MethodPatch, accessToken, meetingPath(id), req, nil)
}

// DeleteMeeting deletes a meeting.
func (c *Client) DeleteMeeting(ctx context.Context, accessToken string, id int64) error {
	return c.call(ctx, http.MethodDelete, accessToken, meetingPath(id), nil, nil)
}

// ListMeetings returns one page of a host's upcoming meetings.
func (c *Client) ListMeetings(ctx context.Context, accessToken, userID, pageToken string) ([]Meeting, string, error) {
	q := url.Values{"type": {"upcoming"}, "page_size": {"300"}}
	if pageToken != "" {
		q.Set("next_page_token", pageToken)
	}
	var page struct {
		Meetings      []Meeting `json:"meetings"`
		NextPageToken string    `json:"next_page_token"`
	}
	if err := c.call(ctx, http.MethodGet, accessToken, "/users/"+url.PathEscape(userID)+"/meetings?"+q.Encode(), nil, &page); err != nil {
		return nil, "", err
	}
	return page.Meetings, page.NextPageToken, nil
}

func meetingPath(id int64) string { return "/meetings/" + strconv.FormatInt(id, 10) }

// call sends one REST request; a non-2xx answer is an *APIError.
func (c *Client) call(ctx context.Context, method, accessToken, path string, in, out any) error {
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return err
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.apiURL+path, body)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+accessToken)
	req.Header.Set("Accept", "application/json")
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return fmt.Errorf("zoom: %s %s: %w", method, path, err)
	}
	defer drain(resp)
	if resp.StatusCode/100 != 2 {
		return readAPIError(resp)
	}
	if out == nil || resp.StatusCode == http.StatusNoContent {
		return nil
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, maxBody)).Decode(out); err != nil {
		return fmt.Errorf("zoom: %s %s: decoding answer: %w", method, path, err)
	}
	return nil
}
