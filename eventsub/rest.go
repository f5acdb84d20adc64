package eventsub

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
)

// maxBodyBytes bounds every response body read.
const maxBodyBytes = 4 << 20

// ErrUnauthorized is returned when Twitch rejects the app token twice in a
// row, after it was renewed once.
var ErrUnauthorized = errors.New("app token rejected")

// APIError is an unexpected answer from Helix. Message is Twitch's
// "message" field, which never contains the token.
type APIError struct {
	// Endpoint names the request, e.g. "POST subscriptions".
	Endpoint string
	// Status is the HTTP status code.
	Status int
	// Message is Twitch's explanation, possibly empty.
	Message string
}

func (e *APIError) Error() string {
	if e.Message == "" {
		return fmt.Sprintf("eventsub %s: status %d", e.Endpoint, e.Status)
	}
	return fmt.Sprintf("eventsub %s: status %d: %s", e.Endpoint, e.Status, e.Message)
}

// Unwrap makes errors.Is(err, ErrUnauthorized) hold for a 401.
func (e *APIError) Unwrap() error {
	if e.Status == http.StatusUnauthorized {
		return ErrUnauthorized
	}
	return nil
}

type conduit struct {
	ID         string `json:"id"`
	ShardCount int    `json:"shard_count"`
}

type transport struct {
	Method    string `json:"method"`
	ConduitID string `json:"conduit_id,omitempty"`
	SessionID string `json:"session_id,omitempty"`
}

type condition struct {
	BroadcasterUserID string `json:"broadcaster_user_id"`
}

type subscription struct {
	ID        string    `json:"id,omitempty"`
	Status    string    `json:"status,omitempty"`
	Type      string    `json:"type"`
	Version   string    `json:"version"`
	Condition condition `json:"condition"`
	Transport transport `json:"transport"`
	Cost      int       `json:"cost,omitempty"`
}

type subscriptionList struct {
	Data         []subscription `json:"data"`
	Total        int            `json:"total"`
	TotalCost    int            `json:"total_cost"`
	MaxTotalCost int            `json:"max_total_cost"`
	Pagination   struct {
		Cursor string `json:"cursor"`
	} `json:"pagination"`
}

type shardUpdate struct {
	ID        string    `json:"id"`
	Transport transport `json:"transport"`
}

type shardError struct {
	ID      string `json:"id"`
	Message string `json:"message"`
	Code    string `json:"code"`
}

// do sends one Helix request with the app token and decodes a JSON answer
// into out (when out is non-nil and the status is in want). A 401 renews the
// token and retries once.
func (c *Client) do(ctx context.Context, method, path string, query url.Values, body any, out any, want ...int) (int, error) {
	endpoint := method + " " + strings.TrimPrefix(path, "/eventsub/")
	var payload []byte
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return 0, fmt.Errorf("eventsub %s: encode: %w", endpoint, err)
		}
		payload = b
	}
	u := c.helixURL + path
	if len(query) > 0 {
		u += "?" + query.Encode()
	}
	for attempt := 0; ; attempt++ {
		tok, err := c.tokens.AppToken(ctx)
		if err != nil {
			return 0, fmt.Errorf("eventsub %s: app token: %w", endpoint, err)
		}
		req, err := http.NewRequestWithContext(ctx, method, u, bytes.NewReader(payload))
		if err != nil {
			return 0, fmt.Errorf("eventsub %s: %w", endpoint, err)
		}
		req.Header.Set("Client-Id", c.clientID)
		req.Header.Set("Authorization", "Bearer "+tok)
		if body != nil {
			req.Header.Set("Content-Type", "application/json")
		}
		resp, err := c.hc.Do(req)
		if err != nil {
			// url.Error quotes the URL, which holds no secret.
			return 0, fmt.Errorf("eventsub %s: %w", endpoint, err)
		}
		data, rerr := io.ReadAll(io.LimitReader(resp.Body, maxBodyBytes+1))
		resp.Body.Close()
		c.log.Debug().Str("method", method).Str("path", path).Int("status", resp.StatusCode).Msg("request")
		if rerr != nil {
			return resp.StatusCode, fmt.Errorf("eventsub %s: read body: %w", endpoint, rerr)
		}
		if len(data) > maxBodyBytes {
			return resp.StatusCode, fmt.Errorf("eventsub %s: body over %d bytes", endpoint, maxBodyBytes)
		}
		if resp.StatusCode == http.StatusUnauthorized && attempt == 0 {
			c.tokens.InvalidateAppToken(tok)
			c.log.Info().Str("endpoint", endpoint).Msg("app token rejected, renewing it")
			continue
		}
		for _, w := range want {
			if resp.StatusCode != w {
				continue
			}
			if out != nil && len(data) > 0 {
				if err := json.Unmarshal(data, out); err != nil {
					return resp.StatusCode, fmt.Errorf("eventsub %s: decode: %w", endpoint, err)
				}
			}
			return resp.StatusCode, nil
		}
		var e struct {
			Message string `json:"message"`
		}
		_ = json.Unmarshal(data, &e)
		return resp.StatusCode, &APIError{Endpoint: endpoint, Status: resp.StatusCode, Message: truncate(e.Message, 200)}
	}
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n] + "..."
	}
	return s
}

// ensureConduit returns this client's existing conduit, or creates one with
// one shard. Reusing it means a restart creates no new conduit (Twitch
// allows 5 per client) and keeps the subscriptions, which belong to it.
func (c *Client) ensureConduit(ctx context.Context) (string, error) {
	var list struct {
		Data []conduit `json:"data"`
	}
	if _, err := c.do(ctx, http.MethodGet, "/eventsub/conduits", nil, nil, &list, http.StatusOK); err != nil {
		return "", err
	}
	for _, cd := range list.Data {
		if cd.ID != "" && cd.ShardCount >= 1 {
			return cd.ID, nil
		}
	}
	var created struct {
		Data []conduit `json:"data"`
	}
	body := map[string]int{"shard_count": 1}
	if _, err := c.do(ctx, http.MethodPost, "/eventsub/conduits", nil, body, &created, http.StatusOK, http.StatusCreated, http.StatusAccepted); err != nil {
		return "", err
	}
	if len(created.Data) == 0 || created.Data[0].ID == "" {
		return "", errors.New("eventsub POST conduits: answer has no conduit")
	}
	c.log.Info().Str("conduit_id", created.Data[0].ID).Msg("conduit created")
	return created.Data[0].ID, nil
}

// errConduitGone says the conduit no longer exists (Twitch deletes a
// conduit whose shards stayed disabled too long): make a new one.
var errConduitGone = errors.New("conduit not found")

// patchShard points shard 0 of the conduit at the WebSocket session.
func (c *Client) patchShard(ctx context.Context, conduitID, sessionID string) error {
	body := struct {
		ConduitID string        `json:"conduit_id"`
		Shards    []shardUpdate `json:"shards"`
	}{conduitID, []shardUpdate{{ID: "0", Transport: transport{Method: "websocket", SessionID: sessionID}}}}
	var out struct {
		Errors []shardError `json:"errors"`
	}
	status, err := c.do(ctx, http.MethodPatch, "/eventsub/conduits/shards", nil, body, &out, http.StatusAccepted, http.StatusOK)
	if status == http.StatusNotFound {
		return fmt.Errorf("eventsub PATCH conduits/shards: %w", errConduitGone)
	}
	if err != nil {
		return err
	}
	for _, e := range out.Errors {
		if e.ID == "0" {
			return fmt.Errorf("eventsub PATCH conduits/shards: shard 0: %s (%s)", truncate(e.Message, 200), e.Code)
		}
	}
	return nil
}

// listSubscriptions reads every page of the client's subscriptions.
func (c *Client) listSubscriptions(ctx context.Context) (subscriptionList, error) {
	var all subscriptionList
	after := ""
	for page := 0; ; page++ {
		if page > 10000 {
			return all, errors.New("eventsub GET subscriptions: more than 10000 pages")
		}
		q := url.Values{}
		if after != "" {
			q.Set("after", after)
		}
		var l subscriptionList
		if _, err := c.do(ctx, http.MethodGet, "/eventsub/subscriptions", q, nil, &l, http.StatusOK); err != nil {
			return all, err
		}
		all.Data = append(all.Data, l.Data...)
		if page == 0 {
			all.Total, all.TotalCost, all.MaxTotalCost = l.Total, l.TotalCost, l.MaxTotalCost
		}
		if l.Pagination.Cursor == "" || l.Pagination.Cursor == after {
			return all, nil
		}
		after = l.Pagination.Cursor
	}
}

// createSubscription POSTs one subscription; 409 (already there) is success.
func (c *Client) createSubscription(ctx context.Context, s subscription) (subscriptionList, int, error) {
	var out subscriptionList
	status, err := c.do(ctx, http.MethodPost, "/eventsub/subscriptions", nil, s, &out, http.StatusAccepted, http.StatusOK, http.StatusConflict)
	return out, status, err
}

// deleteSubscription DELETEs one subscription; 404 (already gone) is success.
func (c *Client) deleteSubscription(ctx context.Context, id string) error {
	_, err := c.do(ctx, http.MethodDelete, "/eventsub/subscriptions", url.Values{"id": {id}}, nil, nil, http.StatusNoContent, http.StatusOK, http.StatusNotFound)
	return err
}
