package helix

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/farmd/farmd/twitch"
)

// endpointFollowed is GET /helix/channels/followed, the channels a user
// follows.
const endpointFollowed = "channels/followed"

// ScopeReadFollows is the scope a user token needs for FollowedChannels.
const ScopeReadFollows = "user:read:follows"

// ErrMissingScope reports that Twitch refused a request because the user
// token lacks a scope it needs (for FollowedChannels, ScopeReadFollows).
// Renewing the token does not help: only a new login that grants the scope
// does. An error matching it also matches ErrUnauthorized (Twitch answers
// 401). Test for it with errors.Is.
var ErrMissingScope = errors.New("the user token lacks a required scope")

// maxFollowedPages bounds the pages FollowedChannels reads: Twitch lets an
// account follow at most 2,000 channels (20 pages of 100); a server that
// keeps answering with a cursor must not keep farmd reading forever.
const maxFollowedPages = 100

// followedPage is one page of a /channels/followed answer.
type followedPage struct {
	logins []string
	cursor string
}

// decodeFollowed parses a /channels/followed answer.
func decodeFollowed(body []byte) (followedPage, error) {
	var r struct {
		Data []struct {
			BroadcasterID    string `json:"broadcaster_id"`
			BroadcasterLogin string `json:"broadcaster_login"`
		} `json:"data"`
		Pagination struct {
			Cursor string `json:"cursor"`
		} `json:"pagination"`
	}
	if err := json.Unmarshal(body, &r); err != nil {
		return followedPage{}, malformed(endpointFollowed, "%w", err)
	}
	if r.Data == nil {
		return followedPage{}, malformed(endpointFollowed, `no "data" array`)
	}
	p := followedPage{logins: make([]string, 0, len(r.Data)), cursor: r.Pagination.Cursor}
	for i, d := range r.Data {
		login := twitch.NormalizeLogin(d.BroadcasterLogin)
		if d.BroadcasterID == "" || !twitch.ValidLogin(login) {
			return followedPage{}, malformed(endpointFollowed, "channel %d has no broadcaster_id or a bad broadcaster_login", i)
		}
		p.logins = append(p.logins, login)
	}
	return p, nil
}

// FollowedChannels returns the logins (normalised, without repeats) of the
// channels the user userID follows, in Twitch's order (the most recently
// followed first), reading every page of GET /helix/channels/followed, 100
// a page. userToken is that user's access token, with or without "oauth:";
// it needs ScopeReadFollows. The requests carry it whatever token the
// Client polls Helix with, and retry like every request (5xx, 429,
// timeouts).
//
// The answer is all or nothing: when any page fails, the error says why
// and no logins are returned, so a caller keeps the list it had instead of
// reading a partial one as unfollows. Twitch answers 401 for a token that
// is invalid or expired, belongs to another user or lacks the scope: the
// error matches ErrUnauthorized, and for the scope also ErrMissingScope.
func (c *Client) FollowedChannels(ctx context.Context, userID, userToken string) ([]string, error) {
	userToken = twitch.StripOAuthPrefix(userToken)
	switch {
	case userID == "":
		return nil, errors.New("get followed channels: no user ID")
	case userToken == "":
		return nil, fmt.Errorf("get followed channels: %w", errNoUserToken)
	}
	var out []string
	seen := map[string]bool{}
	cursors := map[string]bool{}
	cursor := ""
	for page := 0; ; page++ {
		if page == maxFollowedPages {
			return nil, fmt.Errorf("get followed channels: %w", malformed(endpointFollowed, "more than %d pages", maxFollowedPages))
		}
		q := url.Values{"user_id": {userID}, "first": {"100"}}
		if cursor != "" {
			q.Set("after", cursor)
		}
		body, err := c.do(ctx, endpointFollowed, func(ctx context.Context) (*http.Request, error) {
			req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.helixURL+"/"+endpointFollowed+"?"+q.Encode(), nil)
			if err != nil {
				return nil, err
			}
			req.Header.Set("Client-Id", c.clientID)
			req.Header.Set("Authorization", "Bearer "+userToken)
			return req, nil
		})
		if err != nil {
			return nil, fmt.Errorf("get followed channels: %w", scopeError(err))
		}
		p, err := decodeFollowed(body)
		if err != nil {
			return nil, fmt.Errorf("get followed channels: %w", err)
		}
		for _, login := range p.logins {
			if !seen[login] {
				seen[login] = true
				out = append(out, login)
			}
		}
		if p.cursor == "" || len(p.logins) == 0 {
			return out, nil
		}
		if cursors[p.cursor] {
			return nil, fmt.Errorf("get followed channels: %w", malformed(endpointFollowed, "the cursor repeats"))
		}
		cursors[p.cursor] = true
		cursor = p.cursor
	}
}

// scopeError marks a 401 whose message names a missing scope (Twitch:
// "Missing scope: user:read:follows") with ErrMissingScope.
func scopeError(err error) error {
	var ae *APIError
	if errors.As(err, &ae) && ae.Status == http.StatusUnauthorized && strings.Contains(strings.ToLower(ae.Message), "scope") {
		return fmt.Errorf("%w: %w", ErrMissingScope, err)
	}
	return err
}
