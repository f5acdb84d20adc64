package usertoken

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"sync"
	"time"

	"github.com/rs/zerolog"

	"github.com/farmd/farmd/backoff"
	"github.com/farmd/farmd/helix"
)

// API is what a Keeper needs of Twitch; *helix.Client implements it.
type API interface {
	RefreshUserToken(ctx context.Context, refreshToken string) (*helix.UserToken, error)
	ValidateToken(ctx context.Context, token string) (*helix.TokenInfo, error)
}

var _ API = (*helix.Client)(nil)

// ErrLoginNeeded reports that Twitch refused the refresh token (revoked,
// spent, or issued to another application): only `farmd login` can get a
// new one. Test for it with errors.Is.
var ErrLoginNeeded = errors.New("twitch refused the stored refresh token; run `farmd login`")

// maxRefreshMargin is the most time before expiry a token is refreshed;
// shorter-lived tokens are refreshed when a quarter of their lifetime
// remains.
const maxRefreshMargin = 10 * time.Minute

// Options configure a Keeper.
type Options struct {
	API    API
	Logger zerolog.Logger
	// Save stores a renewed token before it is used; Store.Save in
	// production (tests inject failures and crashes here).
	Save func(*Token) error
	// Now and At are the clock: At's channel receives once the clock has
	// reached t (an absolute deadline, so a clock moved meanwhile cannot
	// make it late). Defaults time.Now and a real timer.
	Now func() time.Time
	At  func(t time.Time) <-chan time.Time
	// RetryMin and RetryMax bound the backoff between failed refreshes
	// (network errors, 5xx). Defaults 5 s and 5 min.
	RetryMin, RetryMax time.Duration
	// OnRefresh, if set, is called on Run's goroutine after each renewed
	// token is stored and in use; it must not block.
	OnRefresh func(Status)
}

// Status is what a Keeper can tell without secrets, for /status, metrics
// and logs.
type Status struct {
	Login       string    `json:"login"`
	UserID      string    `json:"user_id,omitempty"`
	Scopes      []string  `json:"scopes"`
	ExpiresAt   time.Time `json:"expires_at,omitzero"`
	Refreshes   int64     `json:"refreshes"`
	LastRefresh time.Time `json:"last_refresh,omitzero"`
	// LastError and FailingSince describe refreshes failing now (network,
	// 5xx); empty once one succeeds.
	LastError    string    `json:"last_error,omitempty"`
	FailingSince time.Time `json:"failing_since,omitzero"`
}

// A Keeper holds the chat account's user token and renews it: before it
// expires (when min(10 min, a quarter of its last known lifetime) remains)
// and at once when Twitch rejects it (Invalidate). A renewed token is
// stored before it is used, because Twitch rotates refresh tokens: the old
// one is spent. Run does the renewing; the other methods are safe from any
// goroutine.
type Keeper struct {
	o    Options
	log  zerolog.Logger
	kick chan string   // access tokens Twitch rejected; latest wins
	wake chan struct{} // the expiry changed: plan the next refresh again

	mu     sync.Mutex
	tok    Token
	status Status
}

// NewKeeper returns a Keeper for tok, as loaded from the Store.
func NewKeeper(o Options, tok *Token) *Keeper {
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.At == nil {
		o.At = func(t time.Time) <-chan time.Time { return time.After(time.Until(t)) }
	}
	if o.RetryMin <= 0 {
		o.RetryMin = 5 * time.Second
	}
	if o.RetryMax <= 0 {
		o.RetryMax = 5 * time.Minute
	}
	k := &Keeper{
		o:    o,
		log:  o.Logger.With().Str("component", "token").Logger(),
		kick: make(chan string, 1),
		wake: make(chan struct{}, 1),
		tok:  *tok,
	}
	k.status = Status{Login: tok.Login, UserID: tok.UserID, Scopes: slices.Clone(tok.Scopes), ExpiresAt: tok.ExpiresAt}
	return k
}

// Token returns the current access token (without "oauth:").
func (k *Keeper) Token() string {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.tok.AccessToken
}

// Status returns what the Keeper knows, without secrets.
func (k *Keeper) Status() Status {
	k.mu.Lock()
	defer k.mu.Unlock()
	s := k.status
	s.Scopes = slices.Clone(s.Scopes)
	return s
}

// Invalidate tells the Keeper that Twitch rejected access (/validate
// answered 401, or chat refused the login): Run refreshes at once, unless
// access is no longer the current token (it was renewed meanwhile). It
// never blocks.
func (k *Keeper) Invalidate(access string) {
	for {
		select {
		case k.kick <- access:
			return
		default:
		}
		select { // replace an older kick: the latest wins
		case <-k.kick:
		default:
		}
	}
}

// Validated records a /validate answer for access: its remaining lifetime
// moves the next refresh. An answer about an older token is ignored.
func (k *Keeper) Validated(access string, info *helix.TokenInfo) {
	if info == nil || info.ExpiresIn <= 0 {
		return
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	if access != k.tok.AccessToken {
		return
	}
	k.tok.ExpiresAt = k.o.Now().Add(info.ExpiresIn)
	k.tok.Lifetime = info.ExpiresIn
	k.status.ExpiresAt = k.tok.ExpiresAt
	select {
	case k.wake <- struct{}{}:
	default:
	}
}

// refreshAt is when the current token should be renewed.
func (k *Keeper) refreshAt() time.Time {
	k.mu.Lock()
	defer k.mu.Unlock()
	t := k.tok
	if t.ExpiresAt.IsZero() {
		return time.Time{} // unknown: now
	}
	life := t.Lifetime
	if life <= 0 && !t.ObtainedAt.IsZero() {
		life = t.ExpiresAt.Sub(t.ObtainedAt)
	}
	return t.ExpiresAt.Add(-min(maxRefreshMargin, life/4))
}

// Run renews the token until ctx is cancelled (it returns nil then) or
// Twitch refuses the refresh token (an error matching ErrLoginNeeded).
// Network errors and 5xx are retried with backoff; they are not fatal,
// since the current token may still work.
func (k *Keeper) Run(ctx context.Context) error {
	b := backoff.Backoff{Min: k.o.RetryMin, Max: k.o.RetryMax, Jitter: 0.2}
	var retryAt time.Time // after a failed refresh
	var lastLogged time.Time
	for {
		due := k.refreshAt()
		if !retryAt.IsZero() {
			due = retryAt
		}
		select {
		case <-ctx.Done():
			return nil
		case <-k.o.At(due):
		case <-k.wake:
			continue
		case rejected := <-k.kick:
			if rejected != k.Token() {
				continue // already renewed
			}
			k.log.Info().Msg("twitch rejected the user token; refreshing it now")
		}
		err := k.refresh(ctx)
		switch {
		case err == nil:
			b.Reset()
			retryAt = time.Time{}
		case ctx.Err() != nil:
			return nil
		case errors.Is(err, ErrLoginNeeded):
			k.fail(err)
			return err
		default:
			now := k.o.Now()
			wait := b.Next()
			retryAt = now.Add(wait)
			first := k.fail(err)
			if first || now.Sub(lastLogged) >= 10*time.Minute {
				k.log.Warn().Err(err).Dur("retry_in", wait).Time("expires_at", k.Status().ExpiresAt).
					Msg("could not refresh the user token; retrying (the current token is used meanwhile)")
				lastLogged = now
			}
		}
	}
}

// fail records a failed refresh and reports whether it is the first of a
// run of failures.
func (k *Keeper) fail(err error) bool {
	k.mu.Lock()
	defer k.mu.Unlock()
	first := k.status.FailingSince.IsZero()
	if first {
		k.status.FailingSince = k.o.Now()
	}
	k.status.LastError = err.Error()
	return first
}

// RefreshNow renews the token at once, for the start-up check that found
// it rejected. It must not be called while Run runs. A refused refresh
// token gives an error matching ErrLoginNeeded.
func (k *Keeper) RefreshNow(ctx context.Context) error {
	err := k.refresh(ctx)
	if err != nil {
		k.fail(err)
	}
	return err
}

// refresh renews the token once: refresh grant, validation (which tells
// the lifetime when the grant did not), storage, then use.
func (k *Keeper) refresh(ctx context.Context) error {
	k.mu.Lock()
	cur := k.tok
	k.mu.Unlock()
	got, err := k.o.API.RefreshUserToken(ctx, cur.RefreshToken)
	if err != nil {
		var apiErr *helix.APIError
		if errors.As(err, &apiErr) && (apiErr.Status == http.StatusBadRequest || apiErr.Status == http.StatusUnauthorized) {
			return fmt.Errorf("%w: %w", ErrLoginNeeded, err)
		}
		return err
	}
	now := k.o.Now()
	next := cur
	next.AccessToken, next.RefreshToken, next.ObtainedAt = got.AccessToken, got.RefreshToken, now
	if got.Scopes != nil {
		next.Scopes = got.Scopes
	}
	if got.ExpiresIn > 0 {
		next.ExpiresAt, next.Lifetime = now.Add(got.ExpiresIn), got.ExpiresIn
	}
	if info, err := k.o.API.ValidateToken(ctx, next.AccessToken); err == nil && info.ExpiresIn > 0 {
		next.ExpiresAt, next.Lifetime = k.o.Now().Add(info.ExpiresIn), info.ExpiresIn
	} else if next.ExpiresAt.Equal(cur.ExpiresAt) {
		// Neither the grant nor /validate said: assume the shortest
		// lifetime Twitch gives (device-flow tokens, about 4 hours).
		next.ExpiresAt, next.Lifetime = now.Add(4*time.Hour), 4*time.Hour
	}
	// Stored before it is used: the old refresh token is spent now.
	if k.o.Save != nil {
		if err := k.o.Save(&next); err != nil {
			k.log.Error().Err(err).Msg("could not store the renewed user token; using it anyway, but a restart before the next successful store needs `farmd login`")
		}
	}
	k.mu.Lock()
	k.tok = next
	k.status.ExpiresAt = next.ExpiresAt
	k.status.Scopes = slices.Clone(next.Scopes)
	k.status.Refreshes++
	k.status.LastRefresh = now
	k.status.LastError, k.status.FailingSince = "", time.Time{}
	st := k.status
	k.mu.Unlock()
	k.log.Info().Str("login", next.Login).Dur("expires_in", next.ExpiresAt.Sub(now).Round(time.Second)).
		Msg("user token refreshed")
	if k.o.OnRefresh != nil {
		k.o.OnRefresh(st)
	}
	return nil
}
