package helix

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/farmd/farmd/twitch"
)

// TokenInfo is what /oauth2/validate says about a token. Login and UserID
// are empty for an app token.
type TokenInfo struct {
	ClientID  string
	Login     string
	UserID    string
	Scopes    []string
	ExpiresIn time.Duration
}

// decodeValidate parses a /validate answer.
func decodeValidate(body []byte) (*TokenInfo, error) {
	var r struct {
		ClientID  *string  `json:"client_id"`
		Login     string   `json:"login"`
		UserID    string   `json:"user_id"`
		Scopes    []string `json:"scopes"`
		ExpiresIn int64    `json:"expires_in"`
	}
	if err := json.Unmarshal(body, &r); err != nil {
		return nil, malformed(endpointValidate, "%w", err)
	}
	if r.ClientID == nil {
		return nil, malformed(endpointValidate, "no client_id")
	}
	return &TokenInfo{
		ClientID:  *r.ClientID,
		Login:     r.Login,
		UserID:    r.UserID,
		Scopes:    r.Scopes,
		ExpiresIn: time.Duration(r.ExpiresIn) * time.Second,
	}, nil
}

// ValidateToken validates a user access token (the IRC token), with or
// without its "oauth:" prefix, which twitch.StripOAuthPrefix removes in any
// case as config and irc do, so that a token IRC accepts validates too. A
// token Twitch rejects gives an error matching ErrUnauthorized. Twitch
// requires validation at start and hourly.
func (c *Client) ValidateToken(ctx context.Context, token string) (*TokenInfo, error) {
	token = twitch.StripOAuthPrefix(token)
	if token == "" {
		return nil, errors.New("validate token: empty token")
	}
	return c.validate(ctx, token)
}

// ValidateAppToken validates the current app token, fetching one if there
// is none. If Twitch rejects it (revoked), it is dropped and a new one is
// fetched and validated, once.
func (c *Client) ValidateAppToken(ctx context.Context) (*TokenInfo, error) {
	var info *TokenInfo
	err := c.withAppToken(ctx, endpointValidate, func(tok string) error {
		var err error
		info, err = c.validate(ctx, tok)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("validate app token: %w", err)
	}
	return info, nil
}

func (c *Client) validate(ctx context.Context, token string) (*TokenInfo, error) {
	body, err := c.do(ctx, endpointValidate, func(ctx context.Context) (*http.Request, error) {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.authURL+"/validate", nil)
		if err != nil {
			return nil, err
		}
		req.Header.Set("Authorization", "OAuth "+token)
		return req, nil
	})
	if err != nil {
		return nil, err
	}
	return decodeValidate(body)
}
