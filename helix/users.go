package helix

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"

	"github.com/farmd/farmd/presence"
	"github.com/farmd/farmd/twitch"
)

// user is the part of a Helix user object farmd uses.
type user struct {
	ID    string `json:"id"`
	Login string `json:"login"`
}

// decodeUsers parses a /users answer.
func decodeUsers(body []byte) ([]user, error) {
	var r struct {
		Data []user `json:"data"`
	}
	if err := json.Unmarshal(body, &r); err != nil {
		return nil, malformed(endpointUsers, "%w", err)
	}
	if r.Data == nil {
		return nil, malformed(endpointUsers, `no "data" array`)
	}
	for i, u := range r.Data {
		if u.ID == "" || u.Login == "" {
			return nil, malformed(endpointUsers, "user %d has no id or login", i)
		}
	}
	return r.Data, nil
}

// ResolveLogins returns the users Twitch knows among logins (normalised
// with twitch.NormalizeLogin, deduplicated), 100 logins to a /users
// request, requests sent one after another. Logins Twitch does not know are
// absent, and so are malformed ones (twitch.ValidLogin), which are never
// sent because Helix would reject the whole request for them. After a
// failed request the result is partial and err says why.
func (c *Client) ResolveLogins(ctx context.Context, logins []string) ([]presence.Streamer, error) {
	norm := make([]string, 0, len(logins))
	for _, l := range logins {
		l = twitch.NormalizeLogin(l)
		if !twitch.ValidLogin(l) {
			c.log.Debug().Str("login", l).Msg("skipping malformed login")
			continue
		}
		norm = append(norm, l)
	}
	var out []presence.Streamer
	var errs []error
	for _, b := range batch(dedupe(norm), maxIDsPerRequest) {
		body, err := c.doHelix(ctx, endpointUsers, url.Values{"login": b}.Encode())
		if err == nil {
			var users []user
			users, err = decodeUsers(body)
			for _, u := range users {
				out = append(out, presence.Streamer{ID: u.ID, Login: twitch.NormalizeLogin(u.Login)})
			}
		}
		if err != nil {
			if ctx.Err() != nil {
				return out, fmt.Errorf("resolve logins: %w", err)
			}
			errs = append(errs, err)
		}
	}
	if err := errors.Join(errs...); err != nil {
		return out, fmt.Errorf("resolve logins: %w", err)
	}
	return out, nil
}
