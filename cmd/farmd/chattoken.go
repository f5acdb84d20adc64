package main

import (
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/farmd/farmd/config"
	"github.com/farmd/farmd/helix"
	"github.com/farmd/farmd/ops"
	"github.com/farmd/farmd/usertoken"
)

// maxChatRejections is how many logins in a row Twitch chat may refuse,
// each with a freshly renewed token, before farmd gives up (exit 1): a
// token that validates but that chat refuses will not get better.
const maxChatRejections = 3

// chatToken is the chat account's token: a static one from the config
// (never renewed), or the one `farmd login` stored, which a Keeper renews.
type chatToken struct {
	static string
	keeper *usertoken.Keeper // nil with a static token
	store  usertoken.Storage

	// rejections counts the distinct tokens chat refused in a row, and
	// lastRejected is the latest (irc goroutine only, reset by connected).
	rejections   atomic.Int32
	lastRejected atomic.Pointer[string]

	mu        sync.Mutex
	login     string
	userID    string
	expiresAt time.Time // static: as of the last validation
}

// loadChatToken reads the token farmd will use, before any network
// traffic: the static token, or token.json in state_dir. A missing or
// mismatched store is a configuration error (exit 2) that says what to run.
func loadChatToken(cfg *config.Config, configPath string, store usertoken.Storage) (*chatToken, *usertoken.Token, error) {
	if cfg.IRC.Token != "" {
		return &chatToken{static: string(cfg.IRC.Token), login: cfg.IRC.Username}, nil, nil
	}
	if store == nil {
		store = usertoken.StoreIn(cfg.StateDir)
	}
	tok, err := store.Load()
	if errors.Is(err, usertoken.ErrNoToken) {
		return nil, nil, fmt.Errorf("no chat token: irc.token is not set and %s does not exist; run `farmd login --config %s` (or set irc.token)", store.Where(), configPath)
	}
	if err != nil {
		return nil, nil, fmt.Errorf("chat token: %w", err)
	}
	if u := cfg.IRC.Username; u != "" && u != tok.Login {
		return nil, nil, fmt.Errorf("%s belongs to %q but irc.username is %q; run `farmd login --config %s` as %s, or change irc.username", store.Where(), tok.Login, u, configPath, u)
	}
	if tok.ClientID != "" && tok.ClientID != cfg.Twitch.ClientID {
		return nil, nil, fmt.Errorf("%s was issued to another application (client id) than twitch.client_id, and only that one can renew it; run `farmd login --config %s`", store.Where(), configPath)
	}
	return &chatToken{store: store, login: tok.Login, userID: tok.UserID}, tok, nil
}

// name names the token in log messages.
func (t *chatToken) name() string {
	if t.keeper != nil {
		return "the stored chat token"
	}
	return "irc.token"
}

// current is the token to log in with now.
func (t *chatToken) current() string {
	if t.keeper != nil {
		return t.keeper.Token()
	}
	return t.static
}

// Login is the account the token belongs to.
func (t *chatToken) Login() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.login
}

// rejected is irc's OnLoginRejected: with a stored token, chat refusing it
// asks the Keeper for a renewal and the manager reconnects (with backoff).
// The same token refused again while its renewal is under way does not
// count; maxChatRejections renewed tokens refused in a row end farmd.
func (t *chatToken) rejected(tok string) bool {
	if t.keeper == nil {
		return false
	}
	if last := t.lastRejected.Load(); last != nil && *last == tok {
		return true // still waiting for its renewal
	}
	t.lastRejected.Store(&tok)
	if t.rejections.Add(1) > maxChatRejections {
		return false
	}
	t.keeper.Invalidate(tok)
	return true
}

// connected resets the count of refused logins.
func (t *chatToken) connected() {
	t.rejections.Store(0)
	t.lastRejected.Store(nil)
}

// UserID is the chat account's user ID, once known.
func (t *chatToken) UserID() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.userID
}

// validated records a /validate answer about tok.
func (t *chatToken) validated(tok string, info *helix.TokenInfo) {
	if info.UserID != "" {
		t.mu.Lock()
		t.userID = info.UserID
		t.mu.Unlock()
	}
	if t.keeper != nil {
		t.keeper.Validated(tok, info)
		return
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if info.ExpiresIn > 0 {
		t.expiresAt = time.Now().Add(info.ExpiresIn)
	}
}

// status is the token as /status shows it.
func (t *chatToken) status() ops.TokenStatus {
	if t.keeper == nil {
		t.mu.Lock()
		defer t.mu.Unlock()
		return ops.TokenStatus{Source: "static", Login: t.login, ExpiresAt: t.expiresAt}
	}
	s := t.keeper.Status()
	return ops.TokenStatus{
		Source: "stored", Login: s.Login, ExpiresAt: s.ExpiresAt,
		Refreshes: s.Refreshes, LastRefresh: s.LastRefresh,
		LastError: s.LastError, FailingSince: s.FailingSince,
	}
}

// userTokens hands helix the Keeper, which is made after the helix client
// it renews through; it is set before any goroutine uses it.
type userTokens struct{ k *usertoken.Keeper }

func (u *userTokens) Token() string         { return u.k.Token() }
func (u *userTokens) Invalidate(tok string) { u.k.Invalidate(tok) }
