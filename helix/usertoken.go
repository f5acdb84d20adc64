package helix

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"golang.org/x/oauth2"
)

// endpointDevice is POST {auth_url}/device, which starts a device-code
// login.
const endpointDevice = "device"

// GrantDeviceCode is the grant_type of a device-code token request (RFC
// 8628).
const GrantDeviceCode = "urn:ietf:params:oauth:grant-type:device_code"

// Twitch answers a device-code token request that has no token yet with
// 400 and one of these words in "message" (not in the standard "error"
// field, which is why x/oauth2's DeviceAccessToken cannot be used: it stops
// at the first pending answer).
var (
	// ErrAuthorizationPending: the user has not approved the code yet.
	ErrAuthorizationPending = errors.New("authorization pending")
	// ErrSlowDown: polled faster than the interval; wait 5 s longer.
	ErrSlowDown = errors.New("slow down")
)

// DeviceCode is Twitch's answer to a device authorization request.
type DeviceCode struct {
	// DeviceCode identifies the login when polling; it is a secret.
	DeviceCode string
	// UserCode is what the user enters, or finds filled in, at
	// VerificationURI.
	UserCode        string
	VerificationURI string
	ExpiresIn       time.Duration
	// Interval is the least time between two polls.
	Interval time.Duration
}

// UserToken is a user access token with its refresh token, as a
// device-code or refresh grant returns them.
type UserToken struct {
	AccessToken  string
	RefreshToken string
	Scopes       []string
	// ExpiresIn is the access token's lifetime as Twitch announced it; 0
	// when the answer had none (refresh answers may omit it: validate the
	// token to learn it).
	ExpiresIn time.Duration
}

// String describes the token without its secrets.
func (t UserToken) String() string {
	return fmt.Sprintf("helix.UserToken{AccessToken:[redacted] RefreshToken:[redacted] Scopes:%v ExpiresIn:%v}", t.Scopes, t.ExpiresIn)
}

// StartDeviceLogin asks Twitch for a device code for scopes. 5xx, 429 and
// network errors are retried like any request.
func (c *Client) StartDeviceLogin(ctx context.Context, scopes []string) (*DeviceCode, error) {
	form := url.Values{"client_id": {c.clientID}, "scopes": {strings.Join(scopes, " ")}}
	body, err := c.postForm(ctx, endpointDevice, c.authURL+"/device", form)
	if err != nil {
		return nil, err
	}
	var r struct {
		DeviceCode      string `json:"device_code"`
		UserCode        string `json:"user_code"`
		VerificationURI string `json:"verification_uri"`
		ExpiresIn       int64  `json:"expires_in"`
		Interval        int64  `json:"interval"`
	}
	if err := json.Unmarshal(body, &r); err != nil {
		return nil, fmt.Errorf("oauth2 device: %w: %w", ErrMalformedResponse, err)
	}
	if r.DeviceCode == "" || r.UserCode == "" || r.VerificationURI == "" {
		return nil, fmt.Errorf("oauth2 device: %w: no device_code, user_code or verification_uri", ErrMalformedResponse)
	}
	dc := &DeviceCode{
		DeviceCode:      r.DeviceCode,
		UserCode:        r.UserCode,
		VerificationURI: r.VerificationURI,
		ExpiresIn:       time.Duration(r.ExpiresIn) * time.Second,
		Interval:        time.Duration(r.Interval) * time.Second,
	}
	if dc.Interval <= 0 {
		dc.Interval = 5 * time.Second // RFC 8628's default
	}
	return dc, nil
}

// PollDeviceLogin asks once whether the user approved dc. It returns
// ErrAuthorizationPending or ErrSlowDown while waiting; any other 4xx is an
// *APIError ending the login ("invalid device code" once the code expired,
// or a denial).
func (c *Client) PollDeviceLogin(ctx context.Context, dc *DeviceCode, scopes []string) (*UserToken, error) {
	form := url.Values{
		"client_id":   {c.clientID},
		"device_code": {dc.DeviceCode},
		"scopes":      {strings.Join(scopes, " ")},
		"grant_type":  {GrantDeviceCode},
	}
	c.addSecret(form)
	body, err := c.postForm(ctx, endpointToken, c.authURL+"/token", form)
	var apiErr *APIError
	if errors.As(err, &apiErr) && apiErr.Status == http.StatusBadRequest {
		switch apiErr.Message {
		case "authorization_pending":
			return nil, ErrAuthorizationPending
		case "slow_down":
			return nil, ErrSlowDown
		}
	}
	if err != nil {
		return nil, err
	}
	return decodeUserToken(body)
}

// RefreshUserToken exchanges refreshToken for a new token pair. Twitch
// rotates refresh tokens: the answer's RefreshToken replaces the old one,
// which is spent. A refused refresh token (revoked, spent, or a
// confidential client's token refreshed without the secret) is an
// *APIError with Status 400 or 401; 5xx and network errors are retried like
// any request and then returned.
func (c *Client) RefreshUserToken(ctx context.Context, refreshToken string) (*UserToken, error) {
	cfg := oauth2.Config{
		ClientID:     c.clientID,
		ClientSecret: c.clientSecret, // empty for a public client: x/oauth2 then sends none
		Endpoint:     oauth2.Endpoint{TokenURL: c.authURL + "/token", AuthStyle: oauth2.AuthStyleInParams},
	}
	var tok *oauth2.Token
	_, err := c.retry(ctx, endpointToken, c.exchange(endpointToken, &tok, func(ctx context.Context) (*oauth2.Token, error) {
		return cfg.TokenSource(ctx, &oauth2.Token{RefreshToken: refreshToken}).Token()
	}))
	if err != nil {
		return nil, fmt.Errorf("refresh user token: %w", err)
	}
	if tok.RefreshToken == refreshToken {
		// x/oauth2 keeps the old refresh token when the answer has none;
		// Twitch always rotates, so this answer is not Twitch's.
		return nil, fmt.Errorf("refresh user token: %w", malformed(endpointToken, "no refresh_token"))
	}
	var scopes []string
	if raw, ok := tok.Extra("scope").([]any); ok {
		for _, s := range raw {
			if s, ok := s.(string); ok {
				scopes = append(scopes, s)
			}
		}
	}
	return &UserToken{
		AccessToken:  tok.AccessToken,
		RefreshToken: tok.RefreshToken,
		Scopes:       scopes,
		ExpiresIn:    tokenTTL(tok),
	}, nil
}

// addSecret adds the client secret of a confidential application; a public
// application has none and refreshes without it.
func (c *Client) addSecret(form url.Values) {
	if c.clientSecret != "" {
		form.Set("client_secret", c.clientSecret)
	}
}

// postForm POSTs form to u through the retry loop.
func (c *Client) postForm(ctx context.Context, endpoint, u string, form url.Values) ([]byte, error) {
	enc := form.Encode()
	return c.do(ctx, endpoint, func(ctx context.Context) (*http.Request, error) {
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, u, strings.NewReader(enc))
		if err != nil {
			return nil, err
		}
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		return req, nil
	})
}

func decodeUserToken(body []byte) (*UserToken, error) {
	var r struct {
		AccessToken  string   `json:"access_token"`
		RefreshToken string   `json:"refresh_token"`
		Scope        []string `json:"scope"`
		ExpiresIn    int64    `json:"expires_in"`
	}
	if err := json.Unmarshal(body, &r); err != nil {
		return nil, fmt.Errorf("oauth2 token: %w: %w", ErrMalformedResponse, err)
	}
	if r.AccessToken == "" || r.RefreshToken == "" {
		return nil, fmt.Errorf("oauth2 token: %w: no access_token or refresh_token", ErrMalformedResponse)
	}
	return &UserToken{
		AccessToken:  r.AccessToken,
		RefreshToken: r.RefreshToken,
		Scopes:       r.Scope,
		ExpiresIn:    time.Duration(r.ExpiresIn) * time.Second,
	}, nil
}
