package presence

import (
	"context"
	"errors"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/rs/zerolog"
)

// Settings are the parts of the configuration the Engine uses; a reload
// replaces them as a whole.
type Settings struct {
	Logins   []string // normalised logins in priority order
	Interval time.Duration
	// AutoInterval, when set, replaces Interval by AutoInterval of the
	// streamers to poll and the Helix bucket (Options.Bucket), chosen
	// afresh at every poll.
	AutoInterval bool
	OfflineGrace time.Duration
	MaxChannels  int
}

// Options configure an Engine.
type Options struct {
	Settings
	Checker  StreamChecker
	Resolver Resolver
	Chat     Chat
	Logger   zerolog.Logger
	// Now defaults to time.Now.
	Now func() time.Time
	// UnavailableFor is how long a channel Twitch refused stays skipped
	// (default 1h).
	UnavailableFor time.Duration
	// OnPoll, if set, is called from the Engine's goroutine after every poll
	// cycle; it must not block.
	OnPoll func(PollResult)
	// Bucket, if set, returns the Helix rate-limit bucket in points a
	// minute (Ratelimit-Limit), or 0 when unknown; AutoInterval assumes
	// DefaultBucket then. It is called from the Engine's goroutine at the
	// start of every poll and must not block.
	Bucket func() int
}

// PollResult describes one finished poll cycle.
type PollResult struct {
	Start, End time.Time
	Interval   time.Duration // the poll interval in force (chosen for this cycle when automatic)
	Watched    int           // streamers with a known ID
	Checked    int           // streamers whose status was determined
	Live       int           // streamers live
	Err        error         // the cycle's failures, if any; Checked < Watched then
}

// An Engine runs the presence loop: it polls the StreamChecker every
// interval, feeds the answers (and events from other sources) into a State,
// and hands the wanted channels to the Chat. One goroutine, started by Run,
// owns all of it; the other methods talk to it and are safe from any
// goroutine.
type Engine struct {
	opts   Options
	log    zerolog.Logger
	events chan func(*loop)

	running atomic.Bool

	mu   sync.Mutex
	snap Snapshot // published by every apply, without Streamers
}

// snapshotWait bounds how long Snapshot waits for the loop to list the
// streamers.
const snapshotWait = 2 * time.Second

// Snapshot is what the Engine knows, for status reporting.
type Snapshot struct {
	Streamers  []StreamerStatus `json:"streamers"`
	Wanted     []string         `json:"wanted"`
	Unresolved []string         `json:"unresolved,omitempty"` // logins Twitch does not know
	LastPoll   time.Time        `json:"last_poll,omitzero"`   // end of the last poll cycle
	LastGood   time.Time        `json:"last_good_poll,omitzero"`
	LastError  string           `json:"last_error,omitempty"`
	FailingFor time.Time        `json:"failing_since,omitzero"`
}

// New returns an Engine; Run starts it.
func New(opts Options) *Engine {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.UnavailableFor <= 0 {
		opts.UnavailableFor = time.Hour
	}
	return &Engine{
		opts:   opts,
		log:    opts.Logger.With().Str("component", "presence").Logger(),
		events: make(chan func(*loop), 64),
	}
}

// Reload replaces the settings and polls at once: new streamers are
// resolved, removed ones are dropped (and their channels left), and unavailable
// marks are cleared. It does not block on the loop for longer than it takes
// to hand the settings over.
func (e *Engine) Reload(ctx context.Context, s Settings) error {
	return e.send(ctx, func(l *loop) { l.reload(s) })
}

// Observe feeds statuses from another source (such as EventSub) into the
// same state the poller feeds.
func (e *Engine) Observe(ctx context.Context, statuses []Status) error {
	statuses = slices.Clone(statuses)
	return e.send(ctx, func(l *loop) { l.observe(statuses) })
}

// MarkUnavailable records that Twitch refused channel for reason; its slot
// goes to the next streamer until the mark expires or a reload.
func (e *Engine) MarkUnavailable(ctx context.Context, channel, reason string) error {
	return e.send(ctx, func(l *loop) { l.markUnavailable(channel, reason) })
}

// Alive reports whether the Engine's loop answers within ctx: a watchdog
// asks it before telling the service manager that farmd is healthy.
func (e *Engine) Alive(ctx context.Context) error {
	done := make(chan struct{})
	if err := e.send(ctx, func(*loop) { close(done) }); err != nil {
		return err
	}
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Summary returns what the Engine knows except the per-streamer list: it
// reads what the loop last published and never waits for the loop, so a
// health check can call it as often as it likes.
func (e *Engine) Summary() Snapshot {
	e.mu.Lock()
	defer e.mu.Unlock()
	s := e.snap
	s.Wanted = slices.Clone(s.Wanted)
	s.Unresolved = slices.Clone(s.Unresolved)
	return s
}

// Snapshot returns Summary plus the per-streamer list. The list is built by
// the loop on request rather than at every change: at 10,000 streamers it is
// over a megabyte, which farmd would otherwise keep live and rebuild every
// poll for nobody (BENCHMARKS.md, memory). If the loop does not answer within
// two seconds, Streamers is nil. Do not call it from OnPoll or from the Chat,
// which run on the loop.
func (e *Engine) Snapshot() Snapshot {
	s := e.Summary()
	if !e.running.Load() {
		return s
	}
	ctx, cancel := context.WithTimeout(context.Background(), snapshotWait)
	defer cancel()
	reply := make(chan []StreamerStatus, 1)
	if e.send(ctx, func(l *loop) { reply <- l.state.Streamers(l.opts.Now()) }) == nil {
		select {
		case s.Streamers = <-reply:
		case <-ctx.Done():
		}
	}
	return s
}

func (e *Engine) send(ctx context.Context, f func(*loop)) error {
	select {
	case e.events <- f:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Run runs the loop until ctx is cancelled. It returns nil then: a poll in
// flight is cancelled and waited for.
func (e *Engine) Run(ctx context.Context) error {
	l := &loop{
		Engine:   e,
		settings: e.opts.Settings,
		state:    NewState(e.opts.OfflineGrace, e.opts.MaxChannels),
		ids:      map[string]string{},
		unknown:  map[string]bool{},
		pending:  slices.Clone(e.opts.Logins),
		done:     make(chan pollOutcome, 1),
	}
	return l.run(ctx)
}

// loop is the state owned by the Run goroutine.
type loop struct {
	*Engine
	settings Settings
	state    *State
	ids      map[string]string // login -> user ID, for logins resolved
	unknown  map[string]bool   // logins Twitch said it does not know
	pending  []string          // logins to resolve before the next poll
	polling  bool
	nextPoll time.Time
	done     chan pollOutcome
	sent     []string      // last set handed to Chat
	interval time.Duration // of the poll in flight or the last one
	handed   bool

	lastPoll, lastGood, failingSince time.Time
	lastErr                          string
	errLogged                        time.Time
	errCount                         int
}

type pollOutcome struct {
	start, end time.Time
	resolved   []Streamer
	asked      []string // logins the resolution asked about
	resolveErr error
	statuses   []Status
	watched    int
	checkErr   error
}

func (l *loop) run(ctx context.Context) error {
	l.running.Store(true)
	defer l.running.Store(false)
	pollCtx, cancelPolls := context.WithCancel(ctx)
	defer cancelPolls()
	l.apply() // publish the empty state: nothing is wanted until observed
	l.startPoll(pollCtx)
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for {
		l.resetTimer(timer)
		select {
		case <-ctx.Done():
			if l.polling {
				<-l.done
			}
			return nil
		case out := <-l.done:
			l.finishPoll(out)
		case f := <-l.events:
			f(l)
		case <-timer.C:
			now := l.opts.Now()
			if !l.polling && !now.Before(l.nextPoll) {
				l.startPoll(pollCtx)
			}
			l.apply()
		}
	}
}

// resetTimer arms timer for the next poll or state deadline.
func (l *loop) resetTimer(timer *time.Timer) {
	now := l.opts.Now()
	next := now.Add(time.Hour)
	if !l.polling && l.nextPoll.Before(next) {
		next = l.nextPoll // the zero time, after a reload, means now
	}
	if d := l.state.NextDeadline(now); !d.IsZero() && d.Before(next) {
		next = d
	}
	timer.Reset(max(next.Sub(now), 0))
}

func (l *loop) startPoll(ctx context.Context) {
	l.polling = true
	start := l.opts.Now()
	asked := slices.Clone(l.pending)
	ids := l.state.IDs()
	l.interval = l.pollInterval(len(ids) + len(asked))
	l.nextPoll = start.Add(l.interval)
	go func() {
		out := pollOutcome{start: start, asked: asked}
		if len(asked) > 0 {
			out.resolved, out.resolveErr = l.opts.Resolver.ResolveLogins(ctx, asked)
			for _, s := range out.resolved {
				ids = append(ids, s.ID)
			}
		}
		out.watched = len(ids)
		if len(ids) > 0 {
			out.statuses, out.checkErr = l.opts.Checker.CheckStreams(ctx, ids)
		}
		out.end = l.opts.Now()
		l.done <- out
	}()
}

func (l *loop) finishPoll(out pollOutcome) {
	l.polling = false
	if len(out.asked) > 0 {
		l.finishResolve(out)
	}
	l.lastPoll = out.end
	err := errors.Join(out.resolveErr, out.checkErr)
	if err == nil {
		if !l.failingSince.IsZero() {
			l.log.Info().Time("failing_since", l.failingSince).Int("failed_polls", l.errCount).Msg("polling recovered")
		}
		l.lastGood, l.failingSince, l.lastErr, l.errCount = out.end, time.Time{}, "", 0
	} else {
		l.pollFailed(out.end, err)
	}
	for _, c := range l.state.Observe(out.end, out.statuses) {
		ev := l.log.Info().Str("streamer", c.Login).Str("channel", c.Channel)
		if c.Live {
			ev.Msg("streamer is live")
		} else {
			ev.Stringer("offline_grace", l.settings.OfflineGrace).Msg("streamer went offline")
		}
	}
	l.apply()
	if l.opts.OnPoll != nil {
		live := 0
		for _, s := range out.statuses {
			if s.Live {
				live++
			}
		}
		l.opts.OnPoll(PollResult{Start: out.start, End: out.end, Interval: l.interval, Watched: out.watched, Checked: len(out.statuses), Live: live, Err: err})
	}
}

// pollFailed logs a failed cycle: the first failure at once, repeats at most
// every ten minutes, so a long outage does not flood the log.
func (l *loop) pollFailed(now time.Time, err error) {
	l.errCount++
	msg := err.Error()
	if l.failingSince.IsZero() {
		l.failingSince = now
	}
	if msg != l.lastErr || now.Sub(l.errLogged) >= 10*time.Minute {
		l.log.Warn().Err(err).Int("failed_polls", l.errCount).Time("failing_since", l.failingSince).
			Msg("poll failed; streamers not checked keep their state")
		l.errLogged = now
	}
	l.lastErr = msg
}

func (l *loop) finishResolve(out pollOutcome) {
	found := map[string]Streamer{}
	for _, s := range out.resolved {
		found[s.Login] = s
	}
	settled := map[string]bool{}
	for _, login := range out.asked {
		if s, ok := found[login]; ok {
			l.ids[login] = s.ID
			settled[login] = true
			continue
		}
		if out.resolveErr != nil {
			continue // ask again next cycle
		}
		settled[login] = true
		if !l.unknown[login] {
			l.log.Warn().Str("streamer", login).Msg("twitch does not know this login; skipping it (renamed or deleted?)")
		}
		l.unknown[login] = true
	}
	// A reload during the poll may have changed pending: keep what it added.
	l.pending = slices.DeleteFunc(l.pending, func(login string) bool { return settled[login] })
	l.rebuildStreamers()
}

// rebuildStreamers hands the State the resolved streamers in list order.
func (l *loop) rebuildStreamers() {
	list := make([]Streamer, 0, len(l.settings.Logins))
	for _, login := range l.settings.Logins {
		if id, ok := l.ids[login]; ok {
			list = append(list, Streamer{ID: id, Login: login})
		}
	}
	l.state.SetStreamers(list)
}

func (l *loop) reload(s Settings) {
	old := l.settings
	l.settings = s
	l.state.SetLimits(s.OfflineGrace, s.MaxChannels)
	keep := map[string]bool{}
	for _, login := range s.Logins {
		keep[login] = true
	}
	var pending []string
	for _, login := range s.Logins {
		if _, ok := l.ids[login]; !ok {
			pending = append(pending, login) // new, or unknown before: ask again
		}
	}
	for login := range l.ids {
		if !keep[login] {
			delete(l.ids, login)
		}
	}
	l.unknown = map[string]bool{}
	l.pending = pending
	l.rebuildStreamers()
	ev := l.log.Info().Int("streamers", len(s.Logins)).Int("previous", len(old.Logins)).Int("to_resolve", len(pending))
	if s.AutoInterval {
		ev = ev.Str("interval", "auto")
	} else {
		ev = ev.Stringer("interval", s.Interval)
	}
	ev.Stringer("offline_grace", s.OfflineGrace).Int("max_channels", s.MaxChannels).Msg("configuration reloaded")
	// Poll at once: new streamers should not wait a whole interval, and the
	// new interval counts from now. A poll in flight is followed at once by
	// another.
	l.nextPoll = time.Time{}
	l.apply()
}

func (l *loop) observe(statuses []Status) {
	l.state.Observe(l.opts.Now(), statuses)
	l.apply()
}

func (l *loop) markUnavailable(channel, reason string) {
	until := l.opts.Now().Add(l.opts.UnavailableFor)
	if l.state.MarkUnavailable(channel, reason, until) {
		l.log.Warn().Str("channel", channel).Str("reason", reason).Time("retry_at", until).
			Msg("twitch refuses this channel; giving its slot to the next streamer")
	}
	l.apply()
}

// apply evaluates the state, hands a changed wanted set to the Chat and
// publishes a snapshot.
func (l *loop) apply() {
	now := l.opts.Now()
	wanted := l.state.Evaluate(now)
	unresolved := make([]string, 0, len(l.unknown))
	for _, login := range l.settings.Logins {
		if l.unknown[login] {
			unresolved = append(unresolved, login)
		}
	}
	snap := Snapshot{
		Wanted:     slices.Clone(wanted),
		Unresolved: unresolved,
		LastPoll:   l.lastPoll,
		LastGood:   l.lastGood,
		LastError:  l.lastErr,
		FailingFor: l.failingSince,
	}
	l.mu.Lock()
	l.snap = snap
	l.mu.Unlock()
	// The snapshot is published first, so whoever sees the Chat change sees
	// the state that caused it.
	if !l.handed || !slices.Equal(wanted, l.sent) {
		l.opts.Chat.SetChannels(wanted)
		l.sent, l.handed = wanted, true
	}
}

// RequestsPerMinute is what polling n streamers every interval costs in
// Helix points (one request per 100 streamers per cycle).
func RequestsPerMinute(n int, interval time.Duration) float64 {
	if interval <= 0 {
		return 0
	}
	requests := (n + 99) / 100
	return float64(requests) * float64(time.Minute) / float64(interval)
}

// pollInterval is the interval from the start of a poll of n streamers to
// the next one.
func (l *loop) pollInterval(n int) time.Duration {
	if !l.settings.AutoInterval {
		return l.settings.Interval
	}
	bucket := 0
	if l.opts.Bucket != nil {
		bucket = l.opts.Bucket()
	}
	return AutoInterval(n, bucket)
}

// DefaultBucket is Twitch's documented Helix bucket for an app token, in
// points a minute, assumed by AutoInterval until Helix reports its own.
const DefaultBucket = 800

// MinAutoInterval is the shortest interval AutoInterval chooses: Helix
// caches its answers for longer, so polling faster would only spend points.
const MinAutoInterval = 5 * time.Second

// AutoInterval is the shortest poll interval, in whole seconds and at least
// MinAutoInterval, at which polling n streamers spends at most half of a
// Helix bucket of bucket points a minute (DefaultBucket when bucket <= 0),
// leaving the other half for resolving logins, retries and other clients
// of the same application.
func AutoInterval(n, bucket int) time.Duration {
	if bucket <= 0 {
		bucket = DefaultBucket
	}
	requests := int64((n + 99) / 100)
	// requests a cycle * cycles a minute <= bucket/2
	//   <=> interval >= requests * 2 minutes / bucket
	secs := (requests*120 + int64(bucket) - 1) / int64(bucket)
	return max(time.Duration(secs)*time.Second, MinAutoInterval)
}
