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
	// Streamers are the streamers in priority order, each with its rules:
	// the listed ones and, merged in by MergeFollows, the followed ones.
	// New and Reload keep the list as given, without a copy (it is 0.5 MB
	// at 10,000 streamers): the caller must not change it afterwards, and
	// hands a new list to every Reload.
	Streamers []StreamerSettings
	Interval  time.Duration
	// AutoInterval, when set, replaces Interval by AutoInterval of the
	// streamers to poll and the Helix bucket (Options.Bucket), chosen
	// afresh at every poll.
	AutoInterval bool
	// OfflineGrace is the grace of the streamers without their own.
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
	// At, if set, returns a channel that receives once Now has reached t;
	// the loop waits on it for its next poll and deadlines. It is for a
	// fake clock: by default the loop uses a timer on the real clock.
	At func(t time.Time) <-chan time.Time
	// UnavailableFor is how long a channel Twitch refused stays skipped
	// (default 1h).
	UnavailableFor time.Duration
	// OnPoll, if set, is called from the Engine's goroutine after every poll
	// cycle; it must not block.
	OnPoll func(PollResult)
	// OnChange, if set, is called from the Engine's goroutine for every
	// streamer whose liveness an observation changed, after it is logged
	// (notifications, loyalty checks). It must not block.
	OnChange func(Change)
	// OnStreamers, if set, is called from the Engine's goroutine with the
	// user IDs of the resolved streamers, in list order, whenever that list
	// changes (resolution, reload): a second source of observations
	// (EventSub) subscribes to them. It must not block.
	OnStreamers func(ids []string)
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
	// Unchecked counts the configured streamers this cycle could not
	// determine because of an error: those in failed /streams batches and
	// those whose login could not be resolved.
	Unchecked int
	State     PollState // how the cycle went: ok, partial or failing
	Err       error     // the cycle's failures, if any
	// Reloads is how many reloads the Engine had applied when the cycle
	// started: when it changes, the settings (streamers, interval) did.
	Reloads int
}

// An Engine runs the presence loop: it polls the StreamChecker every
// interval, feeds the answers (and events from other sources) into a State,
// and hands the wanted channels to the Chat. One goroutine, started by Run,
// owns all of it; the other methods send it a message (messages.go) and are
// safe from any goroutine.
type Engine struct {
	initial Settings // what Run starts from (Streamers cloned); the loop owns the settings after that
	deps    deps
	events  chan message

	// snapshotWait bounds how long Snapshot waits for the loop to list the
	// streamers (a field so that tests can shorten it).
	snapshotWait time.Duration

	running atomic.Bool

	mu  sync.Mutex
	pub Snapshot // published by every apply, without Streamers
}

// deps are what the loop uses and never changes: everything in Options but
// the Settings, which only the loop holds, so that nothing can read the
// settings New was given after a reload replaced them.
type deps struct {
	checker        StreamChecker
	resolver       Resolver
	chat           Chat
	log            zerolog.Logger
	now            func() time.Time
	at             func(time.Time) <-chan time.Time
	unavailableFor time.Duration
	onPoll         func(PollResult)
	onStreamers    func([]string)
	onChange       func(Change)
	bucket         func() int
}

// Snapshot is what the Engine knows, for status reporting.
type Snapshot struct {
	// Streamers is every streamer with a known ID, in list order; only
	// Snapshot fills it, and only when Listed.
	Streamers []StreamerStatus `json:"streamers"`
	// Listed reports whether the loop answered Snapshot with Streamers.
	// When it did not (busy or hung for two seconds), Streamers is nil and
	// the rest is what the loop last published: the list is not kept
	// between requests because at 10,000 streamers it is over a megabyte
	// (BENCHMARKS.md, memory), and an empty list would read as "nobody is
	// live". Counts are always the last published.
	Listed bool   `json:"-"`
	Counts Counts `json:"counts"`
	// List counts the streamers by mode and origin (config or follows).
	List       ListCounts `json:"list"`
	Wanted     []string   `json:"wanted"`
	Unresolved []string   `json:"unresolved,omitempty"` // logins Twitch does not know

	// How polls went (pollhealth.go). A poll serves when it determines the
	// status of at least one streamer, or has nobody to check and no error.
	Polls        PollState `json:"poll_state,omitempty"`      // of the last poll; empty before the first
	LastPoll     time.Time `json:"last_poll,omitzero"`        // end of the last poll cycle
	LastGood     time.Time `json:"last_good_poll,omitzero"`   // end of the last poll without any failure
	LastServed   time.Time `json:"last_served_poll,omitzero"` // end of the last poll that served
	LastError    string    `json:"last_error,omitempty"`      // the last poll's failures; empty when it had none
	FailingFor   time.Time `json:"failing_since,omitzero"`    // first of the current run of polls with failures
	PartialSince time.Time `json:"partial_since,omitzero"`    // first of the current run of partial polls
	Unchecked    int       `json:"unchecked"`                 // streamers the last poll could not determine

	// Realtime is what SetRealtime last said: EventSub is healthy.
	Realtime bool `json:"realtime"`
	// Observations counts the per-streamer observations applied and those
	// ignored as older than one applied or as Helix lagging (State).
	Observations ObservationCounts `json:"observations"`
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
		initial: opts.Settings,
		deps: deps{
			checker: opts.Checker, resolver: opts.Resolver, chat: opts.Chat,
			log:            opts.Logger.With().Str("component", "presence").Logger(),
			now:            opts.Now,
			at:             opts.At,
			unavailableFor: opts.UnavailableFor,
			onPoll:         opts.OnPoll,
			onStreamers:    opts.OnStreamers,
			onChange:       opts.OnChange,
			bucket:         opts.Bucket,
		},
		events:       make(chan message, 64),
		snapshotWait: 2 * time.Second,
	}
}

// Reload replaces the settings and polls at once: new streamers are
// resolved, removed ones are dropped (and their channels left), those that
// stay take their new settings (mode, grace) and keep what is known of
// them, and unavailable marks are cleared. It logs the streamers that
// entered through the follows and those that left by an unfollow. It does
// not block on the loop for longer than it takes to hand the settings
// over. The daemon calls it on SIGHUP and whenever a refresh of the
// follows changes the merged list (MergeFollows).
func (e *Engine) Reload(ctx context.Context, s Settings) error {
	return e.send(ctx, reloadMsg{settings: s})
}

// Observe feeds statuses from another source (such as EventSub) into the
// same state the poller feeds, with the same rules (State) and the same
// log lines for the transitions they cause. Each Status should carry its
// At and Source (SourceEventSub for an event); a zero At is taken as the
// time the loop applies it and an empty Source as SourcePoll.
func (e *Engine) Observe(ctx context.Context, statuses []Status) error {
	return e.send(ctx, observeMsg{statuses: slices.Clone(statuses)})
}

// SetRealtime tells the Engine whether EventSub is healthy: connected, its
// shard enabled and its subscriptions in place. While it is, an EventSub
// stream.offline ends its grace by time alone and `poll.interval: auto`
// polls less often (RealtimeInterval); when it stops being healthy, polls
// must see the rest of such a grace and the normal interval comes back at
// once. Nothing is assumed healthy until told.
func (e *Engine) SetRealtime(ctx context.Context, healthy bool) error {
	return e.send(ctx, realtimeMsg{healthy: healthy})
}

// MarkUnavailable records that Twitch refused channel for reason; its slot
// goes to the next streamer until the mark expires or a reload.
func (e *Engine) MarkUnavailable(ctx context.Context, channel, reason string) error {
	return e.send(ctx, unavailableMsg{channel: channel, reason: reason})
}

// Alive reports whether the Engine's loop answers within ctx: a watchdog
// asks it before telling the service manager that farmd is healthy.
func (e *Engine) Alive(ctx context.Context) error {
	done := make(chan struct{})
	if err := e.send(ctx, aliveMsg{done: done}); err != nil {
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
// health check or a metrics scrape can call it as often as it likes.
func (e *Engine) Summary() Snapshot {
	e.mu.Lock()
	defer e.mu.Unlock()
	s := e.pub
	s.Wanted = slices.Clone(s.Wanted)
	s.Unresolved = slices.Clone(s.Unresolved)
	return s
}

// Snapshot returns Summary plus the per-streamer list. The list is built by
// the loop on request rather than at every change: at 10,000 streamers it is
// over a megabyte, which farmd would otherwise keep live and rebuild every
// poll for nobody (BENCHMARKS.md, memory). If the loop does not answer within
// two seconds, Listed is false and Streamers nil. Do not call it from OnPoll
// or from the Chat, which run on the loop.
func (e *Engine) Snapshot() Snapshot {
	if !e.running.Load() {
		return e.Summary()
	}
	ctx, cancel := context.WithTimeout(context.Background(), e.snapshotWait)
	defer cancel()
	reply := make(chan Snapshot, 1)
	if e.send(ctx, snapshotMsg{reply: reply}) == nil {
		select {
		case s := <-reply:
			return s
		case <-ctx.Done():
		}
	}
	return e.Summary()
}

func (e *Engine) send(ctx context.Context, m message) error {
	select {
	case e.events <- m:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// errRunning is Run's answer while another Run is running: two loops would
// share the events and poll Twitch twice.
var errRunning = errors.New("presence: Run is already running")

// Run runs the loop until ctx is cancelled. It returns nil then: a poll in
// flight is cancelled and waited for. Run must not be called concurrently:
// a second call returns an error at once.
func (e *Engine) Run(ctx context.Context) error {
	if !e.running.CompareAndSwap(false, true) {
		return errRunning
	}
	defer e.running.Store(false)
	return newLoop(e).run(ctx)
}

// publish makes s what Summary returns.
func (e *Engine) publish(s Snapshot) {
	e.mu.Lock()
	e.pub = s
	e.mu.Unlock()
}
