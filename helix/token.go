package helix

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"sync"
	"time"

	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"
)

// maxRenewMargin bounds how long before its expiry an app token is replaced.
const maxRenewMargin = 5 * time.Minute

// tokenSource caches the app access token. Twitch app tokens cannot be
// refreshed: a new one is requested when the cached one expires or Helix
// rejects it.
type tokenSource struct {
	c *Client
	// cfg holds the client secret; it is never logged.
	cfg clientcredentials.Config
	// lock is a one-slot semaphore held while fetching, so that concurrent
	// callers wait for one fetch (and can give up with their ctx) instead
	// of each fetching a token.
	lock chan struct{}

	mu        sync.Mutex
	token     string
	expiresAt time.Time // zero: no known expiry
}

// get returns a valid app token, fetching one if none is cached.
func (ts *tokenSource) get(ctx context.Context) (string, error) {
	if tok := ts.current(); tok != "" {
		return tok, nil
	}
	select {
	case ts.lock <- struct{}{}:
	case <-ctx.Done():
		return "", fmt.Errorf("get app token: %w", ctx.Err())
	}
	defer func() { <-ts.lock }()
	if tok := ts.current(); tok != "" {
		return tok, nil // fetched by another caller while we waited
	}
	return ts.fetch(ctx)
}

// current returns the cached token if it has not expired, else "".
func (ts *tokenSource) current() string {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	if ts.token == "" {
		return ""
	}
	if !ts.expiresAt.IsZero() && !ts.c.now().Before(ts.expiresAt) {
		ts.token = ""
		return ""
	}
	return ts.token
}

// invalidate drops tok if it is still the cached token. Comparing avoids
// dropping a fresh token because of a 401 that an older one got.
func (ts *tokenSource) invalidate(tok string) {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	if ts.token == tok {
		ts.token = ""
		ts.expiresAt = time.Time{}
	}
}

// fetch requests a new app token (x/oauth2's client-credentials grant)
// through the same retry loop as every other request. The caller holds
// ts.lock.
func (ts *tokenSource) fetch(ctx context.Context) (string, error) {
	c := ts.c
	start := time.Now()
	var tok *oauth2.Token
	_, err := c.retry(ctx, endpointToken, c.exchange(endpointToken, &tok, ts.cfg.Token))
	if err != nil {
		return "", fmt.Errorf("get app token: %w", err)
	}
	c.stats.tokenFetches.Add(1)
	ttl := tokenTTL(tok)
	var expiresAt time.Time
	if ttl > 0 {
		margin := min(ttl/10, maxRenewMargin)
		expiresAt = c.now().Add(ttl - margin)
	}
	ts.mu.Lock()
	ts.token = tok.AccessToken
	ts.expiresAt = expiresAt
	ts.mu.Unlock()
	c.log.Info().Dur("expires_in", ttl).Dur("duration", time.Since(start)).Msg("app token obtained")
	return tok.AccessToken, nil
}

// withAppToken calls f with the app token (or, without a client secret,
// the user token). If f's error matches ErrUnauthorized (the token was
// revoked or expired), the token is dropped and f is called once more with
// a new one.
func (c *Client) withAppToken(ctx context.Context, endpoint string, f func(tok string) error) error {
	for renewed := false; ; renewed = true {
		tok, err := c.tokens.get(ctx)
		if err != nil {
			return err
		}
		err = f(tok)
		if errors.Is(err, ErrUnauthorized) && !renewed {
			msg := "app token rejected, fetching a new one"
			if !c.UsesAppToken() {
				msg = "user token rejected, waiting for the renewed one"
			}
			c.log.Info().Str("endpoint", endpoint).Msg(msg)
			c.tokens.invalidate(tok)
			continue
		}
		return err
	}
}

// doHelix sends a GET to the Helix endpoint with the app token, renewing
// the token and retrying once if Helix answers 401.
func (c *Client) doHelix(ctx context.Context, endpoint string, query string) ([]byte, error) {
	u := c.helixURL + "/" + endpoint + "?" + query
	err := c.rl.acquire(ctx, c.now, c.sleep, c.maxRLWait, func(d time.Duration) {
		c.log.Debug().Str("endpoint", endpoint).Dur("wait", d).Msg("rate-limit budget spent; waiting for reset")
	})
	if err != nil {
		return nil, fmt.Errorf("%s: wait for rate limit: %w", errPrefix(endpoint), err)
	}
	defer c.rl.release()
	var body []byte
	err = c.withAppToken(ctx, endpoint, func(tok string) error {
		var err error
		body, err = c.do(ctx, endpoint, func(ctx context.Context) (*http.Request, error) {
			req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
			if err != nil {
				return nil, err
			}
			req.Header.Set("Client-Id", c.clientID)
			req.Header.Set("Authorization", "Bearer "+tok)
			return req, nil
		})
		return err
	})
	return body, err
}

// tokenTTL is the lifetime Twitch gave tok (its expires_in, a number of
// seconds; some servers send a string), 0 if none. x/oauth2's Expiry is
// computed against the real clock and its clientcredentials package drops
// ExpiresIn, so the raw field is read and farmd's own (injectable) clock
// dates it.
func tokenTTL(tok *oauth2.Token) time.Duration {
	n := float64(tok.ExpiresIn)
	if n == 0 {
		switch v := tok.Extra("expires_in").(type) {
		case float64:
			n = v
		case string:
			n, _ = strconv.ParseFloat(v, 64)
		}
	}
	const maxTTL = 365 * 24 * time.Hour // keeps the Duration from overflowing
	switch {
	case n >= maxTTL.Seconds():
		return maxTTL
	case n > 0:
		return time.Duration(n) * time.Second
	}
	return 0
}
