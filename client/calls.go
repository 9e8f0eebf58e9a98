package client

import (
	"context"
	"fmt"
	"slices"

	zoomconnectv1 "github.com/zoomconnect/zoomconnect/gen/zoomconnect/v1"
)

// maxBatch is the server's limit of users per BatchGetEffectiveZoomAccounts.
const maxBatch = 100

// EffectiveZoomAccount answers which Zoom account serves a member's
// bookings, and why. Errors are the server's status errors, unwrapped, so
// that status.Code and Reason apply to them directly.
func (c *Client) EffectiveZoomAccount(ctx context.Context, orgID, userID string) (*zoomconnectv1.EffectiveZoomAccount, error) {
	resp, err := c.connections.GetEffectiveZoomAccount(ctx, &zoomconnectv1.GetEffectiveZoomAccountRequest{
		OrgId:  orgID,
		UserId: userID,
	})
	if err != nil {
		return nil, err
	}
	return resp.GetAccount(), nil
}

// EffectiveZoomAccounts resolves many members of one organization and
// returns one account per user id, in the order of userIDs. It sends them
// in batches of the server's limit, one batch at a time so that a large
// roster does not flood the server, and fails as a whole if any batch
// fails. Each batch gets its own default deadline if ctx has none.
func (c *Client) EffectiveZoomAccounts(ctx context.Context, orgID string, userIDs []string) ([]*zoomconnectv1.EffectiveZoomAccount, error) {
	accounts := make([]*zoomconnectv1.EffectiveZoomAccount, 0, len(userIDs))
	for batch := range slices.Chunk(userIDs, maxBatch) {
		resp, err := c.connections.BatchGetEffectiveZoomAccounts(ctx, &zoomconnectv1.BatchGetEffectiveZoomAccountsRequest{
			OrgId:   orgID,
			UserIds: batch,
		})
		if err != nil {
			return nil, err
		}
		// Callers pair accounts with users by position: check the server
		// kept its promise rather than hand a booking the wrong host.
		got := resp.GetAccounts()
		if len(got) != len(batch) {
			return nil, fmt.Errorf("client: BatchGetEffectiveZoomAccounts answered %d accounts for %d users", len(got), len(batch))
		}
		for i, a := range got {
			if a.GetUserId() != batch[i] {
				return nil, fmt.Errorf("client: BatchGetEffectiveZoomAccounts answered user %q at position %d, want %q", a.GetUserId(), i, batch[i])
			}
		}
		accounts = append(accounts, got...)
	}
	return accounts, nil
}

// OrgConnection returns the organization's Zoom connection; an organization
// that never connected has one in state NOT_CONNECTED.
func (c *Client) OrgConnection(ctx context.Context, orgID string) (*zoomconnectv1.OrgConnection, error) {
	resp, err := c.connections.GetOrgConnection(ctx, &zoomconnectv1.GetOrgConnectionRequest{OrgId: orgID})
	if err != nil {
		return nil, err
	}
	return resp.GetConnection(), nil
}
