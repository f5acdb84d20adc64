package main

import (
	"context"
	"errors"
	"slices"
	"sync"
	"time"

	"github.com/rs/zerolog"

	"github.com/farmd/farmd/config"
	"github.com/farmd/farmd/helix"
	"github.com/farmd/farmd/presence"
)

// followsRetry is how soon a failed fetch of the followed channels is
// tried again (the last list is kept meanwhile).
const followsRetry = time.Minute

// listed is what the configuration says about the streamer list: the
// listed streamers and whether to add the followed channels.
type listed struct {
	settings presence.Settings
	follows  config.Follows
}

func listedOf(cfg *config.Config) listed {
	return listed{settings: settingsOf(cfg), follows: cfg.Follows}
}

// follows owns the streamer list the engine gets: the configured streamers
// followed by the channels the chat account follows, merged in one place
// (presence.MergeFollows). The configuration (at start and on every
// reload) and each refresh of the followed channels go through it. A failed
// fetch keeps the last list, so it never PARTs anyone.
type follows struct {
	hc     *helix.Client
	chat   *chatToken
	engine *presence.Engine
	log    zerolog.Logger

	mu       sync.Mutex
	cfg      listed   // the latest configuration
	followed []string // the last fetched list; nil before the first or when off
	applied  []presence.StreamerSettings
	noScope  bool // the token lacks user:read:follows: fetching stopped
	changed  chan struct{}
}

func newFollows(hc *helix.Client, chat *chatToken, cfg listed, log zerolog.Logger) *follows {
	return &follows{hc: hc, chat: chat, cfg: cfg, log: log, changed: make(chan struct{}, 1)}
}

// initial fetches the followed channels once, before the engine starts, so
// it starts with the whole list, and returns the settings to start with. A
// failure starts with the listed streamers only.
func (f *follows) initial(ctx context.Context) presence.Settings {
	if f.cfg.follows.Enabled {
		if n, err := f.fetch(ctx); err == nil {
			f.log.Info().Int("followed", n).Msg("followed channels fetched")
		}
	}
	s := f.merged()
	f.applied = s.Streamers
	return s
}

// merged is the configuration with the followed channels added.
func (f *follows) merged() presence.Settings {
	f.mu.Lock()
	defer f.mu.Unlock()
	s := f.cfg.settings
	if f.cfg.follows.Enabled {
		s.Streamers = presence.MergeFollows(s.Streamers, f.followed)
	}
	return s
}

// reload takes a new configuration (the main goroutine's SIGHUP); run
// applies it.
func (f *follows) reload(cfg listed) {
	f.mu.Lock()
	f.cfg = cfg
	f.mu.Unlock()
	select {
	case f.changed <- struct{}{}:
	default:
	}
}

// fetch gets the followed channels with the chat token and keeps them.
func (f *follows) fetch(ctx context.Context) (int, error) {
	f.mu.Lock()
	noScope := f.noScope
	f.mu.Unlock()
	if noScope {
		return 0, helix.ErrMissingScope
	}
	tok, userID := f.chat.current(), f.chat.UserID()
	logins, err := f.hc.FollowedChannels(ctx, userID, tok)
	switch {
	case errors.Is(err, helix.ErrMissingScope):
		f.log.Warn().Msg("the chat token lacks the user:read:follows scope, so follows stay off; run `farmd login` (it asks for the scope)")
		f.mu.Lock()
		f.noScope = true
		f.mu.Unlock()
		return 0, err
	case errors.Is(err, helix.ErrUnauthorized):
		if f.chat.keeper != nil {
			f.chat.keeper.Invalidate(tok)
		}
		f.log.Warn().Err(err).Dur("retry_in", followsRetry).Msg("could not fetch the followed channels; keeping the last list")
		return 0, err
	case err != nil:
		if ctx.Err() == nil {
			f.log.Warn().Err(err).Dur("retry_in", followsRetry).Msg("could not fetch the followed channels; keeping the last list")
		}
		return 0, err
	}
	f.mu.Lock()
	f.followed = logins
	f.mu.Unlock()
	return len(logins), nil
}

// run refreshes the followed channels every follows.refresh and hands the
// engine the merged list whenever it changes, until ctx ends.
func (f *follows) run(ctx context.Context) error {
	next := time.Now().Add(f.refresh())
	for {
		t := time.NewTimer(time.Until(next))
		select {
		case <-ctx.Done():
			t.Stop()
			return nil
		case <-f.changed: // a reload: apply it, and its refresh from now
			t.Stop()
			f.apply(ctx, true)
			next = time.Now().Add(f.refresh())
			continue
		case <-t.C:
		}
		next = time.Now().Add(f.refresh())
		if f.enabled() {
			if _, err := f.fetch(ctx); err != nil && !errors.Is(err, helix.ErrMissingScope) {
				next = time.Now().Add(min(followsRetry, f.refresh()))
			}
		}
		f.apply(ctx, false)
	}
}

func (f *follows) enabled() bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.cfg.follows.Enabled
}

func (f *follows) refresh() time.Duration {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.cfg.follows.Refresh > 0 {
		return f.cfg.follows.Refresh
	}
	return time.Hour
}

// apply hands the engine the merged list: always after a reload (it
// carries other settings too), else only when the list changed, since a
// reload re-polls at once and clears unavailable marks.
func (f *follows) apply(ctx context.Context, reloaded bool) {
	s := f.merged()
	if !reloaded && slices.Equal(s.Streamers, f.applied) {
		return
	}
	f.applied = s.Streamers
	if err := f.engine.Reload(ctx, s); err != nil && ctx.Err() == nil {
		f.log.Error().Err(err).Msg("streamer list not applied")
	}
}
