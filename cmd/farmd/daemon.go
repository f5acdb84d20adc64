package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"slices"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/rs/zerolog"

	"github.com/farmd/farmd/backoff"
	"github.com/farmd/farmd/config"
	"github.com/farmd/farmd/eventsub"
	"github.com/farmd/farmd/helix"
	"github.com/farmd/farmd/irc"
	"github.com/farmd/farmd/notify"
	"github.com/farmd/farmd/ops"
	"github.com/farmd/farmd/presence"
	"github.com/farmd/farmd/streamelements"
	"github.com/farmd/farmd/usertoken"
)

// tuning holds knobs the configuration does not expose; the demo and tests
// shorten them so that minutes of behaviour take seconds.
type tuning struct {
	irc            func(*irc.Options)
	helix          func(*helix.Options)
	validateEvery  time.Duration // Twitch requires hourly validation
	startupBackoff backoff.Backoff
	// now, sleep and at are the clock of `farmd login`'s polling and of
	// the token keeper, so tests run hours of token lifetimes in
	// milliseconds.
	now   func() time.Time
	sleep func(ctx context.Context, d time.Duration) error
	at    func(time.Time) <-chan time.Time
	// onTokenRefresh, if set, is called after each renewal of the stored
	// chat token is stored and in use (tests wait for it).
	onTokenRefresh func(usertoken.Status)
	// store, if set, keeps the chat token instead of token.json in
	// state_dir (the demo, which may run where nothing is writable).
	store usertoken.Storage
	// notify, if set, adjusts the notifier's options (tests: fake
	// services' HTTP client, a short batch window).
	notify func(*notify.Options)
	// eventsub, if set, adjusts the EventSub client's options.
	eventsub func(*eventsub.Options)
	// points, if set, adjusts the StreamElements watcher's options.
	points func(*streamelements.Options)
}

func defaultTuning() tuning {
	return tuning{
		validateEvery:  time.Hour,
		startupBackoff: backoff.Backoff{Min: time.Second, Max: time.Minute, Jitter: 0.2},
		now:            time.Now,
		sleep:          backoff.Sleep,
		at:             func(t time.Time) <-chan time.Time { return time.After(time.Until(t)) },
	}
}

// helixOptions are the Helix client's options for cfg.
func helixOptions(cfg *config.Config, log zerolog.Logger) helix.Options {
	return helix.Options{
		ClientID:     cfg.Twitch.ClientID,
		ClientSecret: string(cfg.Twitch.ClientSecret),
		AuthURL:      cfg.Twitch.AuthURL,
		HelixURL:     cfg.Twitch.HelixURL,
		Logger:       log,
	}
}

// errTokenRejected wraps a token Twitch refuses: fatal, exit 1.
var errTokenRejected = errors.New("token rejected")

// serve runs the daemon until a signal stops it or a fatal error happens and
// returns the exit code. load re-reads the configuration on SIGHUP.
func serve(ctx context.Context, log zerolog.Logger, cfg *config.Config, configPath string, load func() (*config.Config, []string, error), signals <-chan os.Signal, tune tuning) int {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()

	chat, stored, err := loadChatToken(cfg, configPath, tune.store)
	if err != nil {
		log.Error().Err(err).Msg("cannot start")
		return exitConfig
	}
	notes, err := newNotifications(cfg, log, tune)
	if err != nil {
		log.Error().Err(err).Msg("cannot start: a notify URL is invalid")
		return exitConfig
	}
	points, err := newPoints(cfg, chat.Login(), log, notes, tune)
	if err != nil {
		log.Error().Err(err).Msg("cannot start: points")
		return exitConfig
	}
	hopts := helixOptions(cfg, log)
	ut := &userTokens{}
	if stored != nil && hopts.ClientSecret == "" {
		hopts.UserTokens = ut // a public application: Helix with the chat token
	}
	if tune.helix != nil {
		tune.helix(&hopts)
	}
	hc := helix.New(hopts)
	if stored != nil {
		chat.keeper = usertoken.NewKeeper(usertoken.Options{
			API: hc, Logger: log, Save: chat.store.Save,
			Now: tune.now, At: tune.at, OnRefresh: tune.onTokenRefresh,
		}, stored)
		ut.k = chat.keeper
	}

	d := &daemon{
		log:     log,
		release: newReleaser(),
		cfg:     cfg,
		chat:    chat,
		notes:   notes,
		points:  points,
		helix:   hc,
		events:  newIRCEvents(),
		notify:  &notifier{log: log},
	}
	iopts := irc.Options{
		Address:         cfg.IRC.Address,
		TLS:             cfg.IRC.TLS,
		Username:        chat.Login(),
		TokenSource:     chat.current,
		OnLoginRejected: chat.rejected,
		Logger:          log,
		OnEvent:         d.onIRCEvent,
	}
	if cfg.IRC.VerifiedBot {
		iopts.JoinLimit = 2000
	}
	if tune.irc != nil {
		tune.irc(&iopts)
	}
	d.irc = irc.New(iopts)
	rt := newRealtime(cfg, hc, log, tune)
	d.streams = newStreamWatch(notes, points, cfg.StateDir, cfg.Poll.OfflineGrace, log)
	d.history = newHistory(cfg.HTTP.Listen, cfg.StateDir, log)
	d.follows = newFollows(hc, chat, listedOf(cfg), log)
	// The operations server answers from the first second, before Twitch
	// is contacted: /healthz then says what farmd is waiting for.
	var httpLn net.Listener
	httpDone := make(chan error, 1)
	httpCtx, httpCancel := context.WithCancel(ctx)
	defer func() {
		httpCancel()
		if httpLn != nil {
			<-httpDone
		}
	}()
	if addr := cfg.HTTP.Listen; addr != "" {
		ln, err := ops.Listen(addr)
		if err != nil {
			log.Error().Err(err).Str("http.listen", addr).Msg("cannot listen for the operations HTTP server")
			return exitFatal
		}
		httpLn = ln
		d.ops = ops.New(ops.Options{
			Presence: &d.presence,
			Chat:     d.irc,
			API:      hc,
			Interval: func() time.Duration { return time.Duration(d.interval.Load()) },
			Starting: d.startingPhase,
			Token:    chat.status,
			EventSub: rt.status(),
			Points:   pointsOf(points),
			History:  d.history,
			Page:     pageExtras(rt, d.modes),
			Version:  versionString(),
			Logger:   log,
		})
		go func() { httpDone <- d.ops.Serve(httpCtx, ln) }()
	}

	// Startup checks: the IRC token must belong to irc.username and the app
	// credentials must work. Network trouble is retried; a rejection is not.
	stop := make(chan struct{})
	go func() {
		// SIGINT or SIGTERM during the startup checks stops them; SIGHUP has
		// nothing to reload yet.
		for {
			select {
			case sig := <-signals:
				if sig != syscall.SIGHUP {
					cancel()
					return
				}
			case <-stop:
				return
			}
		}
	}()
	d.setStarting("checking the chat token with Twitch")
	log.Info().Str("http.listen", cfg.HTTP.Listen).Msg("starting: checking the chat token with Twitch (id.twitch.tv)")
	code, ok := startupChecks(ctx, log, hc, cfg, chat, configPath, tune, d.setStarting)
	close(stop)
	if !ok {
		return code
	}

	initial := d.follows.initial(ctx)
	var onStreamers func([]string) // only with EventSub: the list costs 0.3 MB at 10,000
	if rt != nil {
		onStreamers = rt.streamers
	}
	d.engine = presence.New(presence.Options{
		Settings:    initial,
		OnStreamers: onStreamers,
		OnChange:    d.onChange,
		Checker:     hc,
		Resolver:    hc,
		Chat:        d.irc,
		Logger:      log,
		OnPoll:      d.onPoll,
		Bucket: func() int {
			if rl := hc.RateLimit(); rl.Known {
				return rl.Limit
			}
			return 0
		},
	})
	// The cost of polling, said up front: one Helix point per 100 streamers
	// a cycle, out of a bucket of about 800 a minute.
	n := len(initial.Streamers)
	interval := intervalOf(cfg, n)
	d.interval.Store(int64(interval))
	rpm := presence.RequestsPerMinute(n, interval)
	log.Info().Str("version", versionString()).Int("streamers", n).
		Dur("interval", interval).Bool("interval_auto", cfg.Poll.AutoInterval).
		Dur("offline_grace", cfg.Poll.OfflineGrace).Int("max_channels", cfg.IRC.MaxChannels).
		Int("helix_requests_per_poll", (n+99)/100).Float64("helix_requests_per_minute", rpm).
		// Helix's rate limit until its first answer says (Ratelimit-Limit).
		Int("helix_rate_limit_per_minute", presence.DefaultBucket).
		Msg("farmd starting")

	d.markRunning()
	g, gctx := newComponents(ctx)
	g.Go("notify", func() error { return notes.run(gctx) })
	if points != nil {
		g.Go("streamelements", func() error { return runPoints(gctx, points) })
	}
	if d.streams != nil {
		g.Go("streams", func() error { return d.streams.run(gctx) })
	}
	g.Go("irc", func() error {
		err := d.irc.Run(gctx)
		if errors.Is(err, irc.ErrLoginRejected) {
			notes.send(notify.Token{Problem: notify.TokenRejected, Reason: "Twitch chat refused the login", Command: d.loginCommand()})
		}
		return err
	})
	d.presence.e.Store(d.engine)
	d.setStarting("")
	g.Go("presence", func() error { return d.engine.Run(gctx) })
	g.Go("memory", func() error { return d.release.run(gctx) })
	d.follows.engine = d.engine
	g.Go("follows", func() error { return d.follows.run(gctx) })
	if rt != nil {
		g.Go("eventsub", func() error { return rt.run(gctx, d.engine) })
	}
	g.Go("irc events", func() error { return d.forwardEvents(gctx) })
	g.Go("validator", func() error { return d.validateLoop(gctx, tune.validateEvery) })
	if chat.keeper != nil {
		g.Go("token", func() error {
			err := chat.keeper.Run(gctx)
			if errors.Is(err, usertoken.ErrLoginNeeded) {
				notes.send(notify.Token{Problem: notify.TokenRefreshFailed, Reason: "Twitch refused the stored refresh token", Command: d.loginCommand()})
			}
			return err
		})
	}
	if httpLn != nil {
		g.Go("http", func() error {
			select {
			case err := <-httpDone:
				httpDone <- err // for the deferred wait
				return err
			case <-gctx.Done():
				httpCancel()
				err := <-httpDone
				httpDone <- nil // for the deferred wait
				return err
			}
		})
		g.Go("history", func() error { return d.ops.RunHistory(gctx, cfg.StateDir, 30*time.Second) })
	}

	done := make(chan error, 1)
	go func() { done <- g.Wait() }()
	var watchdog <-chan time.Time
	if every := watchdogInterval(); every > 0 {
		t := time.NewTicker(every)
		defer t.Stop()
		watchdog = t.C
	}
	for {
		select {
		case <-watchdog:
			d.pingWatchdog(ctx)
		case sig := <-signals:
			if sig == syscall.SIGHUP {
				d.notify.reloading()
				d.reload(ctx, load)
				d.notify.reloaded()
				continue
			}
			log.Info().Str("signal", sig.String()).Msg("shutting down: leaving channels")
			d.notify.stopping()
			notes.send(notify.Daemon{State: notify.DaemonStopping, Detail: "signal " + sig.String()})
			cancel()
			select {
			case err := <-done:
				d.markStopped(err)
				return exitCode(log, err)
			case <-time.After(stopTimeout):
				log.Error().Dur("timeout", stopTimeout).Strs("still_running", g.Running()).
					Msg("shutdown took too long; exiting anyway")
				return exitFatal
			}
		case err := <-done:
			d.markStopped(err)
			return exitCode(log, err)
		}
	}
}

func exitCode(log zerolog.Logger, err error) int {
	switch {
	case err == nil || errors.Is(err, context.Canceled):
		log.Info().Msg("stopped")
		return exitOK
	case errors.Is(err, usertoken.ErrLoginNeeded):
		log.Error().Err(err).Msg("the stored chat token can no longer be renewed; run `farmd login` and restart")
		return exitFatal
	case errors.Is(err, irc.ErrLoginRejected):
		log.Error().Err(err).Msg("the IRC token was rejected by Twitch chat; get a new token for irc.username (see README) and restart")
		return exitFatal
	case errors.Is(err, errTokenRejected):
		log.Error().Err(err).Msg("a Twitch token is no longer valid; fix the credentials and restart")
		return exitFatal
	default:
		log.Error().Err(err).Msg("fatal error")
		return exitFatal
	}
}

// startupChecks validates the chat token (renewing a stored one that
// Twitch no longer accepts) and, with a client secret, fetches an app
// token. It returns ok=false with the exit code when farmd must not go on.
func startupChecks(ctx context.Context, log zerolog.Logger, hc *helix.Client, cfg *config.Config, chat *chatToken, configPath string, tune tuning, phase func(string)) (int, bool) {
	b := tune.startupBackoff
	retry := func(what string, err error) bool {
		wait := b.Next()
		phase(fmt.Sprintf("%s failed: %v; retrying in %s", what, err, wait.Round(time.Millisecond)))
		log.Warn().Err(err).Dur("retry_in", wait).Msgf("%s failed; retrying", what)
		t := time.NewTimer(wait)
		defer t.Stop()
		select {
		case <-ctx.Done():
			return false
		case <-t.C:
			return true
		}
	}
	renewed := false
	for {
		tok := chat.current()
		info, err := hc.ValidateToken(ctx, tok)
		if ctx.Err() != nil {
			return exitOK, false
		}
		if errors.Is(err, helix.ErrUnauthorized) && chat.keeper != nil && !renewed {
			log.Info().Msg("the stored chat token has expired or was revoked; renewing it")
			renewed = true
			if err := chat.keeper.RefreshNow(ctx); err != nil {
				if ctx.Err() != nil {
					return exitOK, false
				}
				if errors.Is(err, usertoken.ErrLoginNeeded) {
					log.Error().Err(err).Msgf("the stored chat token cannot be renewed; run `farmd login --config %s`", configPath)
					return exitFatal, false
				}
				renewed = false // a network error: try again
				if !retry("renewing the stored chat token", err) {
					return exitOK, false
				}
			}
			continue
		}
		if errors.Is(err, helix.ErrUnauthorized) {
			if chat.keeper != nil {
				log.Error().Err(err).Msgf("the renewed chat token is refused too; run `farmd login --config %s`", configPath)
			} else {
				log.Error().Err(err).Msg("irc.token is invalid or expired (Twitch /validate answered 401); get a new one (see README)")
			}
			return exitFatal, false
		}
		if err != nil {
			if rejected(err) {
				log.Error().Err(err).Msg("the chat token was refused by Twitch /validate")
				return exitFatal, false
			}
			if retry("validating "+chat.name(), err) {
				continue
			}
			return exitOK, false
		}
		if want := chat.Login(); info.Login != "" && info.Login != want {
			log.Error().Str("token_login", info.Login).Str("irc.username", want).
				Msg("irc.token belongs to another account than irc.username; fix irc.username or the token")
			return exitConfig, false
		}
		if !slices.Contains(info.Scopes, "chat:read") {
			log.Warn().Strs("scopes", info.Scopes).Msg("irc.token lacks the chat:read scope; Twitch chat may refuse it")
		}
		chat.validated(tok, info)
		if chat.keeper != nil {
			log.Info().Str("login", info.Login).Dur("expires_in", info.ExpiresIn).
				Msg("chat token is valid; farmd renews it before it expires")
			break
		}
		ev := log.Info()
		if info.ExpiresIn > 0 && info.ExpiresIn < staticTokenWarning {
			ev = log.Warn() // farmd cannot refresh it: say so while there is time
		}
		ev.Str("login", info.Login).Dur("expires_in", info.ExpiresIn).
			Msg("irc token is valid; farmd exits when Twitch reports it expired or revoked")
		break
	}
	if !hc.UsesAppToken() {
		log.Info().Msg("no twitch.client_secret (a public application): Helix is polled with the chat token")
		return 0, true
	}
	b.Reset()
	phase("fetching an app token from Twitch")
	for {
		_, err := hc.ValidateAppToken(ctx)
		if ctx.Err() != nil {
			return exitOK, false
		}
		if err == nil {
			return 0, true
		}
		if rejected(err) {
			log.Error().Err(err).Msg("Twitch refused the app credentials (twitch.client_id / client_secret)")
			return exitFatal, false
		}
		if !retry("fetching an app token", err) {
			return exitOK, false
		}
	}
}

// staticTokenWarning is how long before a static token expires farmd
// starts warning: it cannot renew one.
const staticTokenWarning = 7 * 24 * time.Hour

// rejected reports whether err is Twitch refusing credentials (a 4xx other
// than 429) rather than a transient failure.
func rejected(err error) bool {
	var apiErr *helix.APIError
	return errors.As(err, &apiErr) && apiErr.Status >= 400 && apiErr.Status < 500 && apiErr.Status != http.StatusTooManyRequests
}

// daemon is the running wiring.
type daemon struct {
	log      zerolog.Logger
	presence lazyEngine     // ops' view of the engine, which starts after the checks
	starting atomic.Value   // string: what farmd waits for before it runs
	cfg      *config.Config // as loaded at start or by the last good reload; main goroutine only
	chat     *chatToken
	notes    *notifications          // nil without a notify section
	points   *streamelements.Watcher // nil unless points.streamelements
	follows  *follows
	history  *ops.History // nil without http.listen
	streams  *streamWatch // nil without notifications and points
	helix    *helix.Client
	irc      *irc.Manager
	engine   *presence.Engine
	ops      *ops.Server // nil without http.listen
	notify   *notifier
	events   *ircEvents
	// warned is set once the rate-budget warning was given (on the engine's
	// goroutine) and cleared by a reload (on the main one), so new settings
	// that still overspend are reported again.
	warned atomic.Bool

	interval atomic.Int64 // poll interval in force, for /healthz
	release  *releaser    // memory back to the system after a poll
}

// pingWatchdog tells systemd farmd is alive if both loops that do its work
// answer, the presence engine and the IRC manager: either one hung stops
// the pings, and systemd restarts farmd.
func (d *daemon) pingWatchdog(ctx context.Context) {
	actx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if err := d.engine.Alive(actx); err != nil {
		d.log.Error().Err(err).Msg("presence loop does not answer; not pinging the watchdog")
		return
	}
	if err := d.irc.Alive(actx); err != nil {
		d.log.Error().Err(err).Msg("irc manager does not answer; not pinging the watchdog")
		return
	}
	d.notify.watchdog()
}

// intervalOf is the poll interval cfg asks for with that many streamers;
// with poll.interval: auto,
// the one chosen before Helix has reported its bucket (the engine chooses
// again at every poll and onPoll records it).
func intervalOf(cfg *config.Config, streamers int) time.Duration {
	if cfg.Poll.AutoInterval {
		return presence.AutoInterval(streamers, 0)
	}
	return cfg.Poll.Interval
}

func settingsOf(cfg *config.Config) presence.Settings {
	list := make([]presence.StreamerSettings, len(cfg.Streamers))
	for i, s := range cfg.Streamers {
		list[i] = presence.StreamerSettings{Login: s.Login, Mode: presence.Mode(s.Presence), Notify: s.Notify}
		if s.OfflineGrace != nil {
			list[i].OfflineGrace, list[i].OwnGrace = *s.OfflineGrace, true
		}
	}
	return presence.Settings{
		Streamers:    list,
		Interval:     cfg.Poll.Interval,
		AutoInterval: cfg.Poll.AutoInterval,
		OfflineGrace: cfg.Poll.OfflineGrace,
		MaxChannels:  cfg.IRC.MaxChannels,
	}
}

// onIRCEvent runs on the IRC manager's goroutine: hand over, never block.
func (d *daemon) onIRCEvent(ev irc.Event) {
	historyEvent(d.history, ev)
	d.events.push(ev)
}

// onChange runs on the engine's goroutine: hand over, never block.
func (d *daemon) onChange(c presence.Change) {
	historyChange(d.history, c)
	d.streams.change(c)
}

// modes maps each configured streamer to its presence mode, for the
// status page (only the modes other than the default).
func (d *daemon) modes() map[string]string {
	m := map[string]string{}
	for _, s := range d.follows.merged().Streamers {
		if s.Mode != "" && s.Mode != presence.ModeLive {
			m[s.Login] = string(s.Mode)
		}
	}
	return m
}

// forwardEvents turns the IRC manager's events into presence messages and
// systemd notifications.
func (d *daemon) forwardEvents(ctx context.Context) error {
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-d.events.ready:
		}
		b := d.events.take()
		if b.connected {
			d.chat.connected()
			d.notify.connectedIRC()
		}
		d.membership(b)
		for _, ev := range b.unavailable {
			d.notes.send(notify.Unavailable{Login: ev.Channel, Reason: ev.Reason})
			if err := d.engine.MarkUnavailable(ctx, ev.Channel, ev.Reason); err != nil {
				return nil // shutting down
			}
		}
	}
}

// membership hands the JOIN and PART echoes to those who count farmd's
// time in chats: a connection lost at b.lostAt ended every membership
// before it.
func (d *daemon) membership(b ircBatch) {
	if d.streams == nil {
		return
	}
	if !b.lostAt.IsZero() {
		if d.points != nil {
			d.points.PartedAll(b.lostAt)
		}
		if d.streams.tracker != nil {
			d.streams.logErr(d.streams.tracker.PartAll(b.lostAt))
		}
	}
	for _, m := range b.members {
		if m.at.Before(b.lostAt) {
			continue
		}
		if m.joined {
			if d.points != nil {
				d.points.Joined(m.channel, m.at)
			}
			d.streams.joined(m.channel, m.at)
		} else {
			if d.points != nil {
				d.points.Parted(m.channel, m.at)
			}
			d.streams.parted(m.channel, m.at)
		}
	}
}

// onPoll warns once when the configured interval would spend more than half
// of the Helix rate-limit bucket.
func (d *daemon) onPoll(r presence.PollResult) {
	d.release.afterPoll()
	d.notify.polledOnce()
	d.interval.Store(int64(r.Interval)) // chosen afresh each poll with poll.interval: auto
	if d.ops != nil {
		d.ops.ObservePoll(r)
	}
	rl := d.helix.RateLimit()
	if !rl.Known || rl.Limit <= 0 || d.warned.Load() {
		return
	}
	rpm := presence.RequestsPerMinute(r.Watched, r.Interval)
	if rpm > float64(rl.Limit)/2 && d.warned.CompareAndSwap(false, true) {
		d.log.Warn().Float64("requests_per_minute", rpm).Int("bucket", rl.Limit).Int("remaining", rl.Remaining).
			Dur("interval", r.Interval).
			Dur("suggested_interval", presence.AutoInterval(r.Watched, rl.Limit)).
			Msg("poll.interval spends more than half of the Helix rate limit; expect 429s and slower detection (or set poll.interval: auto)")
	}
}

// validateLoop validates the chat token and the app token every interval,
// as Twitch requires of apps that keep sessions. A revoked static chat
// token is fatal; a stored one is renewed; a revoked app token is replaced
// by the helix client; network errors are retried sooner.
func (d *daemon) validateLoop(ctx context.Context, every time.Duration) error {
	t := time.NewTimer(every)
	defer t.Stop()
	var warnedExpiry time.Time
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
		next := every
		tok := d.chat.current()
		info, err := d.helix.ValidateToken(ctx, tok)
		switch {
		case ctx.Err() != nil:
			return nil
		case errors.Is(err, helix.ErrUnauthorized) && d.chat.keeper != nil:
			d.log.Info().Msg("Twitch says the chat token is no longer valid; renewing it")
			d.chat.keeper.Invalidate(tok)
		case errors.Is(err, helix.ErrUnauthorized):
			d.notes.send(notify.Token{Problem: notify.TokenRejected, Reason: "Twitch says irc.token is no longer valid", Command: d.loginCommand()})
			return fmt.Errorf("hourly validation of irc.token: %w: %w", errTokenRejected, err)
		case err != nil:
			d.log.Warn().Err(err).Msgf("could not validate %s; will retry", d.chat.name())
			next = min(every, 5*time.Minute)
		default:
			d.chat.validated(tok, info)
			if d.chat.keeper == nil && info.ExpiresIn > 0 && info.ExpiresIn < staticTokenWarning && time.Since(warnedExpiry) >= 24*time.Hour {
				warnedExpiry = time.Now()
				d.notes.send(notify.Token{Problem: notify.TokenExpiring, ExpiresAt: time.Now().Add(info.ExpiresIn), Command: d.loginCommand()})
				d.log.Warn().Dur("expires_in", info.ExpiresIn.Round(time.Minute)).
					Msg("irc.token expires soon and farmd cannot renew a static token; run `farmd login` and remove irc.token to let farmd renew its own")
			}
		}
		if d.helix.UsesAppToken() {
			if _, err := d.helix.ValidateAppToken(ctx); err != nil && ctx.Err() == nil {
				d.log.Warn().Err(err).Msg("could not validate the app token; will retry")
				next = min(every, 5*time.Minute)
			}
		}
		t.Reset(next)
	}
}

// reload re-reads the configuration and applies what can change without a
// reconnect; a bad file is logged and the running configuration kept.
func (d *daemon) reload(ctx context.Context, load func() (*config.Config, []string, error)) {
	d.log.Info().Msg("SIGHUP: reloading configuration")
	cfg, warnings, err := load()
	if err != nil {
		d.log.Error().Err(err).Msg("reload failed; keeping the running configuration")
		return
	}
	for _, w := range warnings {
		d.log.Warn().Msg(w)
	}
	if changed := config.RestartNeeded(d.cfg, cfg); len(changed) > 0 {
		d.log.Warn().Strs("settings", changed).Msg("twitch, irc or http settings changed; they take effect after a restart (streamers and poll settings were applied)")
	}
	d.cfg = config.Reloaded(d.cfg, cfg)
	d.interval.Store(int64(intervalOf(d.cfg, len(d.cfg.Streamers))))
	d.warned.Store(false)
	d.streams.setGrace(d.cfg.Poll.OfflineGrace)
	d.follows.reload(listedOf(d.cfg))
}

// setStarting records what farmd is doing before it runs ("" once it
// runs), for /healthz.
func (d *daemon) setStarting(what string) { d.starting.Store(what) }

func (d *daemon) startingPhase() string {
	s, _ := d.starting.Load().(string)
	return s
}

// lazyEngine is ops' view of the presence engine, which is made after the
// startup checks: until then the status endpoints show an empty state.
type lazyEngine struct {
	e atomic.Pointer[presence.Engine]
}

func (l *lazyEngine) Summary() presence.Snapshot {
	if e := l.e.Load(); e != nil {
		return e.Summary()
	}
	return presence.Snapshot{}
}

func (l *lazyEngine) Snapshot() presence.Snapshot {
	if e := l.e.Load(); e != nil {
		return e.Snapshot()
	}
	return presence.Snapshot{}
}
