package helix

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"
)

// UserTokens supplies a user access token that someone else renews, for a
// Client without a client secret: a public application cannot get an app
// token, so Helix is asked with the chat account's token instead.
// usertoken.Keeper implements it.
type UserTokens interface {
	// Token returns the current access token.
	Token() string
	// Invalidate reports that Twitch rejected token; a renewed one is
	// expected to follow.
	Invalidate(token string)
}

// bearer is what Helix requests carry: the app token, or a user token.
type bearer interface {
	get(ctx context.Context) (string, error)
	invalidate(tok string)
}

// errNoUserToken: the UserTokens has no token.
var errNoUserToken = errors.New("no user token")

// userBearer adapts UserTokens. After a 401 it waits, bounded, for the
// renewed token instead of sending the rejected one again.
type userBearer struct {
	src   UserTokens
	sleep func(context.Context, time.Duration) error

	mu       sync.Mutex
	rejected string
}

// renewWait bounds how long a request waits for a rejected user token to
// be renewed.
const renewWait = 30 * time.Second

func (b *userBearer) get(ctx context.Context) (string, error) {
	for waited := time.Duration(0); ; waited += 100 * time.Millisecond {
		tok := b.src.Token()
		b.mu.Lock()
		rejected := b.rejected
		b.mu.Unlock()
		switch {
		case tok == "":
			return "", fmt.Errorf("get user token: %w", errNoUserToken)
		case tok != rejected:
			return tok, nil
		case waited >= renewWait:
			return "", fmt.Errorf("get user token: not renewed within %s after Twitch rejected it: %w", renewWait, ErrUnauthorized)
		}
		if err := b.sleep(ctx, 100*time.Millisecond); err != nil {
			return "", fmt.Errorf("get user token: %w", err)
		}
	}
}

func (b *userBearer) invalidate(tok string) {
	b.mu.Lock()
	b.rejected = tok
	b.mu.Unlock()
	b.src.Invalidate(tok)
}

// UsesAppToken reports whether Helix requests carry an app token (the
// application has a client secret) rather than the user token.
func (c *Client) UsesAppToken() bool {
	_, ok := c.tokens.(*tokenSource)
	return ok
}

// AppToken returns the app token, fetching one if none is cached; it
// fails without a client secret. EventSub conduits need it.
func (c *Client) AppToken(ctx context.Context) (string, error) {
	if !c.UsesAppToken() {
		return "", errors.New("get app token: no client secret (a public application has no app token)")
	}
	return c.tokens.get(ctx)
}

// InvalidateAppToken drops token if it is still the cached app token, so
// the next AppToken fetches a new one: for callers that got a 401 with it.
func (c *Client) InvalidateAppToken(token string) {
	if c.UsesAppToken() {
		c.tokens.invalidate(token)
	}
}
