// Package eventsub watches streams going live and offline in real time with
// Twitch EventSub: one conduit owned by the app, one WebSocket session as its
// shard 0, and stream.online / stream.offline subscriptions for every
// configured streamer. Polling stays the safety net: any trouble here is a
// warning and a retry with backoff, never an error that stops farmd.
//
// Secrets: the app token is sent only in the Authorization header and never
// appears in a log line, an error or Status.
package eventsub

import (
	"context"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/rs/zerolog"

	"github.com/farmd/farmd/backoff"
	"github.com/farmd/farmd/twitch"
)

// DefaultWebSocketURL is Twitch's EventSub WebSocket endpoint.
const DefaultWebSocketURL = "wss://eventsub.wss.twitch.tv/ws"

// Defaults for Options.
const (
	DefaultBackoffMin        = time.Second
	DefaultBackoffMax        = 30 * time.Second
	DefaultReconcileInterval = 10 * time.Minute
	DefaultKeepaliveSlack    = 5 * time.Second
	DefaultHTTPTimeout       = 10 * time.Second
	// defaultKeepalive is what Twitch uses when the welcome names none.
	defaultKeepalive = 10 * time.Second
)

// Tokens gives the app access token. helix.Client implements it.
type Tokens interface {
	// AppToken returns a valid app access token.
	AppToken(ctx context.Context) (string, error)
	// InvalidateAppToken drops token, which Twitch rejected, so the next
	// AppToken fetches a new one.
	InvalidateAppToken(token string)
}

// Kind says whether a stream started or ended.
type Kind int

// The kinds of Event.
const (
	Online Kind = iota + 1
	Offline
)

func (k Kind) String() string {
	switch k {
	case Online:
		return "online"
	case Offline:
		return "offline"
	}
	return "unknown"
}

// Event is a stream.online or stream.offline notification.
type Event struct {
	Kind          Kind
	BroadcasterID string
	// BroadcasterLogin is the broadcaster's current login (normalised).
	BroadcasterLogin string
	// At is when the stream started (Online: the event's started_at, else
	// the message timestamp) or when Twitch sent the offline message.
	At time.Time
	// MessageID is Twitch's message_id, the same on a resend.
	MessageID string
}

// Options configures a Client. ClientID and Tokens are required.
type Options struct {
	// HelixURL is the Helix base URL, without trailing slash. Default
	// twitch.DefaultHelixURL.
	HelixURL string
	// WebSocketURL is the EventSub WebSocket URL. Default
	// DefaultWebSocketURL.
	WebSocketURL string
	// ClientID is the application's client ID, sent as Client-Id.
	ClientID string
	// HTTPClient sends the Helix requests and the WebSocket handshakes.
	// Default: a client with a 10 s timeout for Helix and none for the
	// (long-lived) WebSocket.
	HTTPClient *http.Client
	// Tokens gives the app access token.
	Tokens Tokens
	// Logger receives the warnings; component=eventsub is added.
	Logger zerolog.Logger
	// OnEvent receives every new (deduplicated) event, in the order
	// received, from one goroutine of the client's. It may block: the
	// WebSocket reader never waits for it (events queue up meanwhile), so
	// none is lost and keepalives are still read. Nil drops events.
	OnEvent func(Event)
	// OnHealth, if set, is called with the status whenever Healthy or
	// PolledOnly changes (the daemon lengthens polling while every
	// streamer is subscribed and the session is healthy). It runs on the
	// client's goroutines and must not block.
	OnHealth func(Status)

	// Now returns the current time (event times, duplicate memory).
	// Default time.Now.
	Now func() time.Time
	// Sleep waits d or until ctx is done, returning ctx.Err() then. Tests
	// inject it to count and skip backoff waits. Default: a timer.
	Sleep func(ctx context.Context, d time.Duration) error
	// BackoffMin and BackoffMax bound the waits between retries of a failed
	// step (reconnect, Helix request). Defaults 1 s and 30 s, so EventSub is
	// set up again within a minute once Twitch works.
	BackoffMin, BackoffMax time.Duration
	// ReconcileInterval is how often the subscriptions are listed and
	// repaired without a reason. Default 10 minutes.
	ReconcileInterval time.Duration
	// KeepaliveSlack is added to the session's keepalive_timeout_seconds
	// before silence counts as a dead connection. Default 5 s.
	KeepaliveSlack time.Duration
}

// Status describes the client for /status and /metrics. It holds no secret.
type Status struct {
	// ConduitID is the conduit in use, "" before one is known.
	ConduitID string
	// ShardStatus is shard 0's state as farmd sees it: "enabled" (the
	// session is on the shard), "pending" (welcomed, not yet PATCHed) or
	// "disconnected".
	ShardStatus string
	// SessionID is the current WebSocket session, "" when disconnected.
	SessionID string
	// Subscriptions counts this conduit's enabled stream.online/offline
	// subscriptions after the last reconcile.
	Subscriptions int
	// TotalCost and MaxTotalCost are Twitch's cost figures for the client.
	TotalCost, MaxTotalCost int
	// PolledOnly counts subscriptions left out because of MaxTotalCost;
	// their streamers are watched by polling only.
	PolledOnly int
	// EventsReceived counts stream notifications, duplicates included.
	EventsReceived int64
	// DuplicatesIgnored counts notifications whose message_id was seen.
	DuplicatesIgnored int64
	// Reconnects counts connection attempts after the first one, and
	// moves to a session_reconnect's reconnect_url.
	Reconnects int64
	// LastError is the latest failure, "" if none yet.
	LastError string
	// LastErrorAt is when LastError happened.
	LastErrorAt time.Time
	// Healthy is true when the session is on the shard and the last
	// reconcile succeeded.
	Healthy bool
}

// Client keeps EventSub set up. Create it with New and start it with Run.
type Client struct {
	helixURL string
	wsURL    string
	clientID string
	hc       *http.Client
	wsHC     *http.Client
	tokens   Tokens
	log      zerolog.Logger
	now      func() time.Time
	sleep    func(ctx context.Context, d time.Duration) error
	bmin     time.Duration
	bmax     time.Duration
	interval time.Duration
	slack    time.Duration

	events   *eventQueue
	onHealth func(Status)

	// Mailboxes into the manager loop: one slot each, latest wins.
	streamersCh chan struct{}
	sessionCh   chan string
	revokedCh   chan struct{}

	mu        sync.Mutex
	streamers []string // latest SetStreamers, deduplicated, in order
	st        Status
	lastWarn  string
	lastWarnT time.Time
}

// New returns a Client with o's zero fields set to their defaults. It
// sends nothing until Run.
func New(o Options) *Client {
	c := &Client{
		helixURL:    strings.TrimRight(o.HelixURL, "/"),
		wsURL:       o.WebSocketURL,
		clientID:    o.ClientID,
		hc:          o.HTTPClient,
		tokens:      o.Tokens,
		log:         o.Logger.With().Str("component", "eventsub").Logger(),
		now:         o.Now,
		sleep:       o.Sleep,
		bmin:        o.BackoffMin,
		bmax:        o.BackoffMax,
		interval:    o.ReconcileInterval,
		slack:       o.KeepaliveSlack,
		streamersCh: make(chan struct{}, 1),
		sessionCh:   make(chan string, 1),
		revokedCh:   make(chan struct{}, 1),
		onHealth:    o.OnHealth,
	}
	if c.helixURL == "" {
		c.helixURL = twitch.DefaultHelixURL
	}
	if c.wsURL == "" {
		c.wsURL = DefaultWebSocketURL
	}
	c.wsHC = c.hc
	if c.hc == nil {
		c.hc = &http.Client{Timeout: DefaultHTTPTimeout}
		c.wsHC = &http.Client{}
	}
	if c.now == nil {
		c.now = time.Now
	}
	if c.sleep == nil {
		c.sleep = backoff.Sleep
	}
	if c.bmin <= 0 {
		c.bmin = DefaultBackoffMin
	}
	if c.bmax <= 0 {
		c.bmax = DefaultBackoffMax
	}
	if c.bmax < c.bmin {
		c.bmax = c.bmin
	}
	if c.interval <= 0 {
		c.interval = DefaultReconcileInterval
	}
	if c.slack <= 0 {
		c.slack = DefaultKeepaliveSlack
	}
	c.events = newEventQueue(o.OnEvent)
	c.st.ShardStatus = shardDisconnected
	return c
}

// Shard states for Status.ShardStatus.
const (
	shardEnabled      = "enabled"
	shardPending      = "pending"
	shardDisconnected = "disconnected"
)

// SetStreamers replaces the set of broadcaster IDs to subscribe to and
// triggers a reconcile. It never blocks; the latest call wins.
func (c *Client) SetStreamers(ids []string) {
	seen := make(map[string]bool, len(ids))
	out := make([]string, 0, len(ids))
	for _, id := range ids {
		id = strings.TrimSpace(id)
		if id == "" || seen[id] {
			continue
		}
		seen[id] = true
		out = append(out, id)
	}
	c.mu.Lock()
	c.streamers = out
	c.mu.Unlock()
	notify(c.streamersCh)
}

// Status returns a snapshot of the client's state.
func (c *Client) Status() Status {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.st
}

// Run keeps EventSub set up until ctx is cancelled, then returns nil. Twitch
// trouble is logged and retried, never returned. Run must not be called
// twice at the same time.
func (c *Client) Run(ctx context.Context) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var wg sync.WaitGroup
	wg.Go(func() { c.events.run(ctx) })
	wg.Go(func() { c.manage(ctx) })
	c.runSessions(ctx)
	cancel()
	wg.Wait()
	return nil
}

// update edits the status under the lock.
func (c *Client) update(f func(st *Status)) {
	c.mu.Lock()
	before := c.st
	f(&c.st)
	c.st.Healthy = c.st.ShardStatus == shardEnabled && c.st.SessionID != "" && c.st.LastError == ""
	after := c.st
	c.mu.Unlock()
	c.healthChanged(before, after)
}

// healthChanged calls OnHealth when the health changed between before and
// after.
func (c *Client) healthChanged(before, after Status) {
	if c.onHealth != nil && (before.Healthy != after.Healthy || before.PolledOnly != after.PolledOnly) {
		c.onHealth(after)
	}
}

// warn records err as the last error and logs it; the same message again
// within five minutes is logged at debug level only, so a long outage does
// not flood the log.
func (c *Client) warn(what string, err error) {
	msg := what + ": " + err.Error()
	now := c.now()
	c.mu.Lock()
	before := c.st
	c.st.LastError = msg
	c.st.LastErrorAt = now
	c.st.Healthy = false
	after := c.st
	repeat := msg == c.lastWarn && now.Sub(c.lastWarnT) < 5*time.Minute
	if !repeat {
		c.lastWarn, c.lastWarnT = msg, now
	}
	c.mu.Unlock()
	c.healthChanged(before, after)
	if repeat {
		c.log.Debug().Err(err).Msg(what)
		return
	}
	c.log.Warn().Err(err).Msg(what)
}

// clearError marks the client as working again.
func (c *Client) clearError() {
	c.update(func(st *Status) { st.LastError = "" })
	c.mu.Lock()
	c.lastWarn = ""
	c.mu.Unlock()
}

// notify puts a token in a one-slot mailbox without blocking.
func notify(ch chan struct{}) {
	select {
	case ch <- struct{}{}:
	default:
	}
}
