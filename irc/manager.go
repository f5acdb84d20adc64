package irc

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	twitchirc "github.com/gempir/go-twitch-irc/v4"
	"github.com/rs/zerolog"

	"github.com/farmd/farmd/backoff"
	"github.com/farmd/farmd/presence"
	"github.com/farmd/farmd/twitch"
)

var _ presence.Chat = (*Manager)(nil)

// maxLine is the longest line farmd sends, CR LF excluded (IRC allows 512
// bytes with CR LF).
const maxLine = 500

var (
	errReconnect   = errors.New("server asked to reconnect")
	errPongTimeout = errors.New("no answer to PING")
)

// Manager keeps the account in the wanted channels. Create it with New,
// start it with Run; SetChannels and Status may be called from any
// goroutine, before or during Run.
type Manager struct {
	o   Options
	log zerolog.Logger

	// pending is the latest SetChannels argument not yet taken by the
	// manager goroutine; wake tells it there is one.
	pendingMu sync.Mutex
	pending   []string
	pendWhy   map[string]presence.Departure // the reasons of every call since pending was last taken
	havePend  bool
	wake      chan struct{}

	running atomic.Bool
	// alive carries Alive's requests to the manager goroutine, which
	// closes each; dialing holds the (real) time a dial started, 0 when
	// none runs: a dial blocks the goroutine, for at most WelcomeTimeout.
	alive   chan chan struct{}
	dialing atomic.Int64

	// Owned by the manager goroutine (Run).
	wanted    []string
	wantedSet map[string]bool
	chans     map[string]*chanState
	limiter   *JoinLimiter
	backoff   backoff.Backoff
	connected bool
	connSince time.Time
	counters  Status
	// partWhy is why each PART awaiting its echo was sent, for the
	// EventParted the echo reports; a connection's end clears it.
	partWhy   map[string]string
	lastToken string // the token of the latest login; never logged

	// dial opens a connection; tests replace it to make a dial take time
	// on a fake clock.
	dial func(context.Context, Options, zerolog.Logger) (*conn, error)

	// outbox holds events until the Status they change is published, so
	// an OnEvent callback that reads Status sees the change.
	outbox []Event

	statusMu sync.Mutex
	status   Status
}

// New returns a Manager for o; see Options for the defaults.
func New(o Options) *Manager {
	o = o.withDefaults()
	m := &Manager{
		o:         o,
		log:       o.Logger.With().Str("component", "irc").Logger(),
		wake:      make(chan struct{}, 1),
		alive:     make(chan chan struct{}),
		wantedSet: map[string]bool{},
		chans:     map[string]*chanState{},
		// A tenth of the window as margin: Twitch counts JOINs when they
		// arrive, and network jitter can bring two batches closer.
		limiter: NewJoinLimiter(o.JoinLimit, o.JoinWindow+o.JoinWindow/10),
		backoff: backoff.Backoff{Min: o.BackoffMin, Max: o.BackoffMax, Jitter: 0.3},
		dial:    dial,
	}
	// connSince stays zero until the first welcome: before it there is
	// no "disconnected since".
	return m
}

// SetChannels replaces the set of channels (logins, '#' optional, in
// priority order) the account should be in. It never blocks; the latest call
// wins. left says why channels no longer named left (presence.Chat): the
// "left" line and EventParted say it. It implements presence.Chat.
func (m *Manager) SetChannels(channels []string, left map[string]presence.Departure) {
	cp := append([]string(nil), channels...)
	m.pendingMu.Lock()
	m.pending, m.havePend = cp, true
	if len(left) > 0 && m.pendWhy == nil {
		m.pendWhy = make(map[string]presence.Departure, len(left))
	}
	maps.Copy(m.pendWhy, left) // a call not applied yet keeps its reasons
	m.pendingMu.Unlock()
	select {
	case m.wake <- struct{}{}:
	default:
	}
}

// Status returns a snapshot of the connection and the wanted channels.
func (m *Manager) Status() Status {
	m.statusMu.Lock()
	defer m.statusMu.Unlock()
	s := m.status
	s.Channels = append([]ChannelStatus(nil), m.status.Channels...)
	return s
}

// Alive reports whether the manager's goroutine answers within ctx, so a
// watchdog can tell a wedged manager from a working one. A dial in progress
// counts as alive for as long as it may take (WelcomeTimeout): it is the
// one wait that cannot answer. Before Run and after it, Alive returns nil.
func (m *Manager) Alive(ctx context.Context) error {
	if !m.running.Load() {
		return nil
	}
	if since := m.dialing.Load(); since != 0 && time.Since(time.Unix(0, since)) < m.o.WelcomeTimeout+time.Second {
		return nil
	}
	done := make(chan struct{})
	select {
	case m.alive <- done:
	case <-ctx.Done():
		return fmt.Errorf("irc manager does not answer: %w", ctx.Err())
	}
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("irc manager does not answer: %w", ctx.Err())
	}
}

// Run connects and keeps the account in the wanted channels until ctx is
// cancelled, reconnecting with backoff when the connection fails. On
// cancellation it PARTs the joined channels, closes the connection and
// returns nil. It returns an error wrapping ErrLoginRejected, without
// reconnecting, when Twitch refuses the token. Run must not be called
// concurrently.
func (m *Manager) Run(ctx context.Context) error {
	if !m.running.CompareAndSwap(false, true) {
		return errors.New("irc: Run is already running")
	}
	defer m.running.Store(false)
	m.applyWanted()
	m.publish()
	for attempt := 0; ; attempt++ {
		if attempt > 0 {
			m.counters.ReconnectAttempts++
		}
		connectedAt, err := m.session(ctx)
		m.endSession(connectedAt, err)
		if ctx.Err() != nil {
			return nil
		}
		if errors.Is(err, ErrLoginRejected) {
			if m.o.OnLoginRejected == nil || !m.o.OnLoginRejected(m.lastToken) {
				m.log.Error().Err(err).Msg("login rejected, not reconnecting")
				return err
			}
			m.log.Warn().Err(err).Msg("login rejected; reconnecting with a renewed token")
		}
		if !connectedAt.IsZero() && m.o.Clock.Now().Sub(connectedAt) >= m.o.HealthyAfter {
			m.backoff.Reset()
		}
		d := m.backoff.Next()
		// The deadline is taken before the log line, so whoever reads the
		// line and moves the clock cannot make the wait start late.
		until := m.o.Clock.Now().Add(d)
		msg := "connection lost, reconnecting"
		if connectedAt.IsZero() {
			msg = "connection attempt failed, reconnecting"
		}
		m.log.Warn().Err(err).Dur("retry_in", d).Msg(msg)
		if !m.sleepUntil(ctx, until) {
			return nil
		}
	}
}

// sleepUntil waits until t on the clock, taking SetChannels updates
// meanwhile; false if ctx ended.
func (m *Manager) sleepUntil(ctx context.Context, t time.Time) bool {
	done := m.o.Clock.At(t)
	for {
		select {
		case <-ctx.Done():
			return false
		case <-done:
			return true
		case <-m.wake:
			m.applyWanted()
			m.publish()
		case reply := <-m.alive:
			close(reply)
		}
	}
}

// endSession records a connection's end: its channels must be joined again.
func (m *Manager) endSession(connectedAt time.Time, err error) {
	now := m.o.Clock.Now()
	for name := range m.chans {
		m.move(name, evConnLost, now, inbound{})
	}
	clear(m.partWhy) // no echo comes on a connection that ended
	if m.connected {
		m.connected, m.connSince = false, now
		m.counters.Disconnects++
		m.emit(Event{Kind: EventDisconnected, Err: err})
	}
	m.publish()
}

// session runs one connection until it fails or ctx ends. connectedAt is
// when it was welcomed (zero if never); err is nil only on cancellation.
func (m *Manager) session(ctx context.Context) (connectedAt time.Time, err error) {
	// One deadline for dial, login and welcome. The dial's copy of it is a
	// socket deadline, so on the real clock.
	welcomeBy := m.o.Clock.Now().Add(m.o.WelcomeTimeout)
	dctx, cancel := context.WithTimeout(ctx, m.o.WelcomeTimeout)
	m.dialing.Store(time.Now().UnixNano()) // real time: the dial's bound is a socket deadline
	c, err := m.dial(dctx, m.o, m.log)
	m.dialing.Store(0)
	cancel()
	if err != nil {
		if ctx.Err() != nil {
			return time.Time{}, nil
		}
		return time.Time{}, fmt.Errorf("connect to %s: %w", m.o.Address, err)
	}
	defer c.close()
	// Socket deadlines, so on the real clock.
	stop := context.AfterFunc(ctx, func() { c.shorten(time.Now().Add(m.o.ShutdownTimeout)) })
	defer stop()

	m.lastToken = m.o.Token
	if m.o.TokenSource != nil {
		m.lastToken = m.o.TokenSource()
	}
	for _, l := range []string{
		"CAP REQ :" + twitchirc.TagsCapability + " " + twitchirc.CommandsCapability,
		"PASS " + twitch.ChatPassword(m.lastToken),
		"NICK " + m.o.Username,
	} {
		if err := c.write(l); err != nil {
			return time.Time{}, fmt.Errorf("log in: %w", err)
		}
	}

	var p pinger
	var wakeAt time.Time
	var wakeC <-chan time.Time
	for {
		now := m.o.Clock.Now()
		if connectedAt.IsZero() && !now.Before(welcomeBy) {
			return connectedAt, fmt.Errorf("no welcome (001) from server within %s", m.o.WelcomeTimeout)
		}
		if err := p.check(c, now, m.o.PingInterval, m.o.PongTimeout); err != nil {
			return connectedAt, err
		}
		next := p.next(c, m.o.PingInterval, m.o.PongTimeout)
		if connectedAt.IsZero() {
			next = earliest(next, welcomeBy)
		} else if at, ok := m.nextJoinWork(now); ok {
			if !now.Before(at) {
				if err := m.reconcile(c); err != nil {
					return connectedAt, err
				}
				at, ok = m.nextJoinWork(now)
			}
			if ok {
				next = earliest(next, at)
			}
		}
		m.publish()
		if !next.Equal(wakeAt) || wakeC == nil {
			wakeAt, wakeC = next, m.o.Clock.At(next)
		}

		select {
		case <-ctx.Done():
			m.shutdown(c)
			return connectedAt, nil
		case in := <-c.in:
			if err := m.handle(c, in, &connectedAt); err != nil {
				return connectedAt, err
			}
		case <-m.wake:
			m.applyWanted()
			if !connectedAt.IsZero() {
				if err := m.reconcile(c); err != nil {
					return connectedAt, err
				}
			}
		case <-wakeC:
			wakeC = nil
		case reply := <-m.alive:
			close(reply)
		}
	}
}

// earliest returns the earlier of a and b.
func earliest(a, b time.Time) time.Time {
	if b.Before(a) {
		return b
	}
	return a
}

// pinger is the client side of liveness: after PingInterval without a line
// from the server it sends PING, and a connection that then stays silent
// for PongTimeout is dead. Any line counts as an answer.
type pinger struct {
	sentAt   time.Time // when the unanswered PING went out; zero if none
	recvdAt0 int64     // the line count when it went out
}

// check sends a PING that is due, or fails if one went unanswered.
func (p *pinger) check(c *conn, now time.Time, interval, timeout time.Duration) error {
	last, recvd := c.lastLine()
	if !p.sentAt.IsZero() && recvd != p.recvdAt0 {
		p.sentAt = time.Time{} // answered
	}
	switch {
	case p.sentAt.IsZero() && !now.Before(last.Add(interval)):
		// Count taken before the write: on a fast link the answer can
		// arrive before Write returns.
		p.sentAt, p.recvdAt0 = now, recvd
		return c.write("PING :farmd")
	case !p.sentAt.IsZero() && !now.Before(p.sentAt.Add(timeout)):
		return fmt.Errorf("%w within %s", errPongTimeout, timeout)
	}
	return nil
}

// next returns when check has something to do.
func (p *pinger) next(c *conn, interval, timeout time.Duration) time.Time {
	if !p.sentAt.IsZero() {
		return p.sentAt.Add(timeout)
	}
	last, _ := c.lastLine()
	return last.Add(interval)
}

// handle acts on one inbound line.
func (m *Manager) handle(c *conn, in inbound, connectedAt *time.Time) error {
	now := m.o.Clock.Now()
	switch in.kind {
	case inError:
		return in.err
	case inReconnect:
		return errReconnect
	case inPing:
		return c.write("PONG :" + in.text)
	case inWelcome:
		if !connectedAt.IsZero() {
			return nil
		}
		*connectedAt = now
		m.connected, m.connSince = true, now
		m.counters.Connects++
		m.log.Info().Str("address", m.o.Address).Str("user", m.o.Username).Msg("connected")
		m.emit(Event{Kind: EventConnected})
		return m.reconcile(c)
	case inJoin:
		m.move(in.channel, evJoinEchoed, now, in)
	case inPart:
		m.emit(Event{Kind: EventParted, Channel: in.channel, Reason: m.partedWhy(in.channel)})
		if m.move(in.channel, evPartedByServer, now, in) {
			return m.reconcile(c)
		}
	case inNotice:
		return m.notice(in, now)
	}
	return nil
}

// notice acts on a NOTICE: a refused login or a refused channel.
func (m *Manager) notice(in inbound, now time.Time) error {
	if in.channel == "*" || in.channel == "" {
		if isLoginRejected(in.text) {
			return fmt.Errorf("log in as %q: server said %q: %w", m.o.Username, in.text, ErrLoginRejected)
		}
		m.log.Debug().Str("msg_id", in.msgID).Str("text", in.text).Msg("server notice")
		return nil
	}
	if !isUnavailable(in.msgID) || !m.move(in.channel, evRefused, now, in) {
		m.log.Debug().Str("channel", in.channel).Str("msg_id", in.msgID).Str("text", in.text).Msg("channel notice")
	}
	return nil
}

// applyWanted takes the latest SetChannels argument. Channels no longer
// wanted are forgotten here unless a PART is due, which reconcile sends.
func (m *Manager) applyWanted() {
	m.pendingMu.Lock()
	list, why, ok := m.pending, m.pendWhy, m.havePend
	m.pending, m.pendWhy, m.havePend = nil, nil, false
	m.pendingMu.Unlock()
	if !ok {
		return
	}
	now := m.o.Clock.Now()
	m.wanted = m.wanted[:0]
	m.wantedSet = make(map[string]bool, len(list))
	for _, raw := range list {
		name := twitch.NormalizeLogin(raw)
		if !validChannel(name) {
			m.log.Warn().Str("channel", raw).Msg("ignoring invalid channel name")
			continue
		}
		if m.wantedSet[name] {
			continue
		}
		m.wanted = append(m.wanted, name)
		m.wantedSet[name] = true
		if st := m.chans[name]; st != nil {
			st.left = presence.Departure{} // wanted again: an earlier reason no longer holds
		}
		m.move(name, evWanted, now, inbound{})
	}
	for name, st := range m.chans {
		if m.wantedSet[name] {
			continue
		}
		if d, ok := why[name]; ok {
			st.left = d
		}
		if !st.sent {
			m.move(name, evUnwanted, now, inbound{})
		}
	}
}

// validChannel reports whether name can go into a JOIN line safely.
func validChannel(name string) bool {
	if name == "" || len(name) > 64 {
		return false
	}
	for i := 0; i < len(name); i++ {
		b := name[i]
		if b <= ' ' || b == ',' || b == '#' || b == ':' || b >= 0x7f {
			return false
		}
	}
	return true
}

// reconcile brings the connection in line with the wanted set: JOIN
// timeouts first, then PARTs (so the channel cap is never exceeded), then
// JOINs in priority order as far as the limiter allows.
func (m *Manager) reconcile(c *conn) error {
	now := m.o.Clock.Now()
	for _, name := range m.wanted {
		m.move(name, evJoinTimedOut, now, inbound{})
	}

	var parts []string
	why := make(map[string]presence.Departure)
	for name, st := range m.chans {
		if m.wantedSet[name] {
			continue
		}
		if st.sent {
			parts = append(parts, name)
			why[name] = st.left
		}
		m.move(name, evUnwanted, now, inbound{})
	}
	if err := m.send(c, "PART", parts); err != nil {
		return err
	}
	m.counters.PartsSent += int64(len(parts))
	for _, name := range parts {
		d := why[name]
		if d.Reason == "" {
			d.Reason = leaveUnwanted
		}
		ev := m.log.Info().Str("channel", name).Str("reason", string(d.Reason))
		if d.To != "" {
			ev = ev.Str("to", d.To)
		}
		ev.Msg("left")
		m.parting(name, string(d.Reason))
	}

	avail := m.limiter.Available(now)
	var joins []string
	for _, name := range m.wanted {
		if !m.chans[name].joinDue(now) {
			continue
		}
		if len(joins) >= avail {
			m.move(name, evRateLimited, now, inbound{})
			continue
		}
		joins = append(joins, name)
	}
	if len(joins) == 0 {
		return nil
	}
	m.limiter.Take(now, len(joins))
	for _, name := range joins {
		m.move(name, evJoinSent, now, inbound{})
	}
	m.counters.JoinsSent += int64(len(joins))
	return m.send(c, "JOIN", joins)
}

// send writes cmd for the channels. Twitch documents comma-separated
// channels for JOIN only, so PART gets a line per channel (PARTs are not
// rate-limited).
func (m *Manager) send(c *conn, cmd string, channels []string) error {
	var lines []string
	if cmd == "PART" {
		lines = make([]string, 0, len(channels))
		for _, name := range channels {
			lines = append(lines, "PART #"+name)
		}
	} else {
		lines = batch(cmd, channels)
	}
	for _, l := range lines {
		if err := c.write(l); err != nil {
			return err
		}
	}
	return nil
}

// batch builds "CMD #a,#b,..." lines of at most maxLine bytes (a single
// over-long channel name, which validChannel rules out, gets its own line).
func batch(cmd string, channels []string) []string {
	var lines []string
	var b strings.Builder
	for _, name := range channels {
		if b.Len() > 0 && b.Len()+2+len(name) > maxLine {
			lines = append(lines, b.String())
			b.Reset()
		}
		if b.Len() == 0 {
			b.WriteString(cmd + " #")
		} else {
			b.WriteString(",#")
		}
		b.WriteString(name)
	}
	if b.Len() > 0 {
		lines = append(lines, b.String())
	}
	return lines
}

// nextJoinWork returns when, from now on, reconcile next has something to
// do: a JOIN timeout, a retry falling due, or a rate-limited channel getting
// a slot (now if one is free).
func (m *Manager) nextJoinWork(now time.Time) (time.Time, bool) {
	var at time.Time
	ok := false
	consider := func(t time.Time) {
		if !ok || t.Before(at) {
			at, ok = t, true
		}
	}
	waiting := false
	for _, name := range m.wanted {
		st := m.chans[name]
		switch st.state {
		case StateJoining:
			consider(st.sentAt.Add(m.o.JoinTimeout))
		case StateRetrying:
			consider(st.retryAt)
		case StateWaiting:
			waiting = true
		}
	}
	if waiting {
		// The same for every waiting channel: ask the limiter once.
		consider(m.limiter.NextFree(now))
	}
	return at, ok
}

// shutdown PARTs the channels joined on c and waits for the echoes, all
// within ShutdownTimeout, then lets the caller close c. The bound is a
// socket deadline on the real clock: it bounds how long the process takes
// to exit, and the reader's timeout at that deadline ends the wait.
func (m *Manager) shutdown(c *conn) {
	c.shorten(time.Now().Add(m.o.ShutdownTimeout))
	var parts []string
	for _, name := range m.wanted {
		if st := m.chans[name]; st != nil && st.sent {
			parts = append(parts, name)
		}
	}
	for name, st := range m.chans {
		if !m.wantedSet[name] && st.sent {
			parts = append(parts, name)
		}
	}
	if len(parts) == 0 {
		return
	}
	if err := m.send(c, "PART", parts); err != nil {
		m.log.Warn().Err(err).Msg("part channels on shutdown")
		return
	}
	m.counters.PartsSent += int64(len(parts))
	// At info, so that an operator sees where farmd was when it stopped.
	m.log.Info().Strs("channels", parts).Str("reason", string(presence.LeaveShutdown)).Msg("left channels: shutting down")
	left := make(map[string]bool, len(parts))
	for _, p := range parts {
		left[p] = true
		m.parting(p, string(presence.LeaveShutdown))
	}
	for len(left) > 0 {
		in := <-c.in
		switch in.kind {
		case inError:
			m.log.Warn().Err(in.err).Int("unconfirmed", len(left)).Msg("shutdown: server did not confirm all parts")
			return
		case inPart:
			delete(left, in.channel)
			m.emit(Event{Kind: EventParted, Channel: in.channel, Reason: m.partedWhy(in.channel)})
		}
	}
}

// leaveUnwanted is the reason of a channel left without one from the
// caller (SetChannels with a nil left).
const leaveUnwanted presence.LeaveReason = "unwanted"

// parting records why a PART of name was sent, until its echo.
func (m *Manager) parting(name, why string) {
	if m.partWhy == nil {
		m.partWhy = make(map[string]string)
	}
	m.partWhy[name] = why
}

// partedWhy returns and forgets why the PART of name that the server
// echoed was sent; "" when it was not ours (the server parted us).
func (m *Manager) partedWhy(name string) string {
	why := m.partWhy[name]
	delete(m.partWhy, name)
	return why
}

// emit queues an event for the next publish.
func (m *Manager) emit(e Event) { m.outbox = append(m.outbox, e) }

// publish stores a Status snapshot for Status, then delivers the queued
// events.
func (m *Manager) publish() {
	defer m.flush()
	s := m.counters
	s.Connected, s.Since = m.connected, m.connSince
	s.Channels = make([]ChannelStatus, 0, len(m.wanted))
	for _, name := range m.wanted {
		if st := m.chans[name]; st != nil {
			s.Channels = append(s.Channels, ChannelStatus{Name: name, State: st.state, Since: st.since, Reason: st.reason})
		}
	}
	m.statusMu.Lock()
	m.status = s
	m.statusMu.Unlock()
}

// flush delivers the queued events to OnEvent.
func (m *Manager) flush() {
	for _, e := range m.outbox {
		m.o.OnEvent(e)
	}
	clear(m.outbox)
	m.outbox = m.outbox[:0]
}
