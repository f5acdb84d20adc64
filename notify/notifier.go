package notify

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/rs/zerolog"

	"github.com/farmd/farmd/backoff"
)

// The defaults of Options.
const (
	DefaultWindow       = 2 * time.Second
	DefaultQueueSize    = 100
	DefaultSendTimeout  = 10 * time.Second
	DefaultAttempts     = 5
	DefaultDrainTimeout = 3 * time.Second
)

// DefaultRetry is the backoff between attempts to send one message: 5 s,
// 10 s, 20 s, 40 s with the default 5 attempts, about a minute and a half
// before a message is given up.
var DefaultRetry = backoff.Backoff{Min: 5 * time.Second, Max: 5 * time.Minute, Jitter: 0.2}

// warnEvery is how often a target's repeated failures (or drops) are
// logged at warning level after the first: a dead service must not fill
// the log.
const warnEvery = 10 * time.Minute

// Options tunes a Notifier; the zero value of each field means its default.
type Options struct {
	// Log receives the warnings and, for "logger://" targets, the
	// notifications themselves. The component field is added.
	Log zerolog.Logger
	// Window is how long a worker collects events after the first before
	// sending them as one message (DefaultWindow).
	Window time.Duration
	// QueueSize bounds the events waiting per URL; when full, the oldest
	// is dropped (DefaultQueueSize).
	QueueSize int
	// SendTimeout bounds one attempt to send (DefaultSendTimeout).
	SendTimeout time.Duration
	// Attempts is how many times a message is tried before it counts as
	// failed (DefaultAttempts).
	Attempts int
	// Retry is the backoff between attempts (DefaultRetry when Min is 0).
	Retry backoff.Backoff
	// DrainTimeout bounds how long Run, once its context ends, keeps
	// sending what is queued (DefaultDrainTimeout).
	DrainTimeout time.Duration
	// HTTPClient sends every service's requests: set it for a proxy or
	// custom TLS, or in tests. Nil means a client of the notifier's own.
	HTTPClient *http.Client
}

func (o Options) withDefaults() Options {
	if o.Window <= 0 {
		o.Window = DefaultWindow
	}
	if o.QueueSize <= 0 {
		o.QueueSize = DefaultQueueSize
	}
	if o.SendTimeout <= 0 {
		o.SendTimeout = DefaultSendTimeout
	}
	if o.Attempts <= 0 {
		o.Attempts = DefaultAttempts
	}
	if o.Retry.Min <= 0 {
		o.Retry = DefaultRetry
	}
	if o.DrainTimeout <= 0 {
		o.DrainTimeout = DefaultDrainTimeout
	}
	return o
}

// Notifier delivers events to the configured targets. Notify may be called
// from any goroutine, before, during or after Run; Run owns the workers,
// one per target.
type Notifier struct {
	opts    Options
	log     zerolog.Logger
	targets []*target
	// transport is the notifier's own, closed when Run returns; nil when
	// the caller gave an HTTPClient.
	transport *http.Transport
	running   atomic.Bool

	// now and after are the clock, replaced in tests.
	now   func() time.Time
	after func(time.Duration) <-chan time.Time
}

// target is one URL's queue, service, counters and warning state.
type target struct {
	index int
	Target
	svc *service
	q   *queue

	sent, failed, dropped atomic.Uint64

	mu       sync.Mutex // guards the fields below, used by Notify's callers and the worker
	lastFail time.Time  // last failure logged as a warning
	lastDrop time.Time  // last drop logged as a warning
	failing  bool       // a failure was logged and no send has succeeded since
}

// New builds a notifier for targets. It checks every URL as Validate does
// and starts nothing: call Run.
func New(targets []Target, opts Options) (*Notifier, error) {
	opts = opts.withDefaults()
	n := &Notifier{
		opts:  opts,
		log:   opts.Log.With().Str("component", "notify").Logger(),
		now:   time.Now,
		after: time.After,
	}
	var client *http.Client
	client, n.transport = httpClient(opts)
	var errs []error
	for i, t := range targets {
		svc, err := newService(t.URL, client, n.log.With().Int("notify", i).Logger())
		if err != nil {
			errs = append(errs, fmt.Errorf("notify[%d].url: %w", i, err))
			continue
		}
		n.targets = append(n.targets, &target{index: i, Target: t, svc: svc, q: newQueue(opts.QueueSize)})
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return n, nil
}

// Notify queues ev for every target whose events filter has its kind. It
// never blocks: a full queue drops its oldest event, counted and logged.
// After Run has returned, events are dropped.
func (n *Notifier) Notify(ev Event) {
	if ev == nil {
		return
	}
	for _, t := range n.targets {
		if !t.wants(ev.Kind()) {
			continue
		}
		dropped, ok := t.q.push(ev)
		if !ok {
			t.dropped.Add(1)
			n.log.Debug().Int("notify", t.index).Str("kind", ev.Kind().String()).Msg("notification after shutdown dropped")
			continue
		}
		if dropped > 0 {
			total := t.dropped.Add(uint64(dropped))
			if t.shouldWarn(&t.lastDrop, n.now()) {
				n.log.Warn().Int("notify", t.index).Str("service", t.svc.name).Uint64("dropped", total).
					Int("queue_size", n.opts.QueueSize).Msg("notification queue full, dropped the oldest")
			}
		}
	}
}

// shouldWarn reports whether a warning whose last one was at *last may be
// logged at now, and if so records now.
func (t *target) shouldWarn(last *time.Time, now time.Time) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	if !last.IsZero() && now.Sub(*last) < warnEvery {
		return false
	}
	*last = now
	return true
}

// Stats are one target's counters. Sent and Failed count events (a batch
// of 40 is 40), Failed after every attempt; Dropped counts events that
// never got an attempt (queue full, or after shutdown). Index is the
// target's position in the config; the URL is never part of Stats.
type Stats struct {
	Index   int
	Service string
	Sent    uint64
	Failed  uint64
	Dropped uint64
	Queued  int
}

// Stats returns the counters of every target, in config order.
func (n *Notifier) Stats() []Stats {
	out := make([]Stats, len(n.targets))
	for i, t := range n.targets {
		out[i] = Stats{
			Index:   t.index,
			Service: t.svc.name,
			Sent:    t.sent.Load(),
			Failed:  t.failed.Load(),
			Dropped: t.dropped.Load(),
			Queued:  t.q.len(),
		}
	}
	return out
}

// Run delivers queued events until ctx ends, then keeps sending what is
// queued for at most DrainTimeout, aborts what is still in flight and
// returns. It returns an error only when called twice.
func (n *Notifier) Run(ctx context.Context) error {
	if !n.running.CompareAndSwap(false, true) {
		return errors.New("notifier: Run called twice")
	}
	// hard ends every send: when the drain time is up.
	hard, cancelHard := context.WithCancel(context.WithoutCancel(ctx))
	defer cancelHard()
	var wg sync.WaitGroup
	for _, t := range n.targets {
		wg.Go(func() { n.work(ctx, hard, t) })
	}
	<-ctx.Done()
	for _, t := range n.targets {
		t.q.close()
	}
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-n.after(n.opts.DrainTimeout):
		cancelHard()
		<-done
		n.log.Warn().Dur("drain_timeout", n.opts.DrainTimeout).Msg("notifications still unsent at shutdown")
	}
	if n.transport != nil {
		n.transport.CloseIdleConnections()
	}
	return nil
}

// work is the worker of one target: it waits for an event, collects more
// for the window, and sends them. Once soft ends it sends what is left,
// one attempt each, and returns when the queue is empty or hard ends.
func (n *Notifier) work(soft, hard context.Context, t *target) {
	for {
		draining := soft.Err() != nil
		if !draining {
			select {
			case <-t.q.ready:
				// Collect the burst: 40 streamers going live after a
				// restart become one message, not 40.
				select {
				case <-n.after(n.opts.Window):
				case <-soft.Done():
					draining = true
				}
			case <-soft.Done():
				draining = true
			}
		}
		evs := t.q.take()
		if len(evs) == 0 && draining {
			return
		}
		for _, m := range render(evs) {
			if hard.Err() != nil {
				t.failed.Add(uint64(m.events))
				continue
			}
			n.deliver(soft, hard, t, m, draining)
		}
		if hard.Err() != nil {
			// Whatever is still queued will not be sent.
			t.failed.Add(uint64(len(t.q.take())))
			return
		}
	}
}

// deliver sends m, retrying with backoff until it is sent, Attempts are
// used up, or (once soft has ended) after one more attempt.
func (n *Notifier) deliver(soft, hard context.Context, t *target, m message, draining bool) {
	retry := n.opts.Retry
	retry.Reset()
	for attempt := 1; ; attempt++ {
		ctx, cancel := context.WithTimeout(hard, n.opts.SendTimeout)
		err := t.svc.send(ctx, m.text)
		cancel()
		if err == nil {
			t.sent.Add(uint64(m.events))
			n.recovered(t)
			return
		}
		last := draining || attempt >= n.opts.Attempts || hard.Err() != nil
		if last {
			t.failed.Add(uint64(m.events))
		}
		n.warnFailure(t, err, attempt, last)
		if last {
			return
		}
		select {
		case <-n.after(retry.Next()):
		case <-soft.Done():
			// Shutting down: one last attempt now instead of waiting.
			draining = true
		}
	}
}

// warnFailure logs a failed attempt: a warning for the target's first
// failure and then at most every warnEvery, debug otherwise.
func (n *Notifier) warnFailure(t *target, err error, attempt int, last bool) {
	lvl := zerolog.DebugLevel
	if t.shouldWarn(&t.lastFail, n.now()) {
		lvl = zerolog.WarnLevel
	}
	t.mu.Lock()
	t.failing = true
	t.mu.Unlock()
	n.log.WithLevel(lvl).Int("notify", t.index).Str("service", t.svc.name).Int("attempt", attempt).
		Bool("given_up", last).Uint64("failed", t.failed.Load()).Str("error", err.Error()).Msg("notification failed")
}

// recovered logs, once, that a target that was failing delivers again.
func (n *Notifier) recovered(t *target) {
	t.mu.Lock()
	was := t.failing
	t.failing = false
	t.mu.Unlock()
	if was {
		n.log.Info().Int("notify", t.index).Str("service", t.svc.name).Msg("notifications delivered again")
	}
}
