package eventsub

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/coder/websocket"

	"github.com/farmd/farmd/backoff"
	"github.com/farmd/farmd/twitch"
)

// readLimit bounds one frame; EventSub messages are a few KiB.
const readLimit = 1 << 20

// welcomeWait bounds how long a new connection may take to send its
// welcome.
const welcomeWait = 15 * time.Second

// wsConn is one WebSocket connection and its reader goroutine.
type wsConn struct {
	conn      *websocket.Conn
	url       string
	sessionID string // from its welcome; "" before
	lastMsg   time.Time
	keepalive time.Duration
}

// frame is what a reader hands to the session loop: a text message, or the
// error that ended the connection.
type frame struct {
	from *wsConn
	data []byte
	err  error
}

type dialResult struct {
	c   *wsConn
	err error
}

// sessionLoop is the state of runSessions: the current connection and, while
// a session_reconnect is handled, the next one.
type sessionLoop struct {
	c      *Client
	ctx    context.Context
	wg     *sync.WaitGroup
	frames chan frame
	// dials receives the reconnect_url dial's result; nil when none runs.
	// Each dial has its own channel so a stale result never reaches a
	// later connection.
	dials chan dialResult
	dedup dedup

	cur, next *wsConn
	// retired are connections replaced after a session_reconnect. They are
	// closing, but frames they read before are still handled: an event
	// Twitch sent on the old connection must not be lost.
	retired map[*wsConn]bool
	onShard string // the session ID last handed to the manager
}

// runSessions connects, reads and reconnects until ctx is done. It owns
// every WebSocket connection; each has a reader goroutine it waits for.
func (c *Client) runSessions(ctx context.Context) {
	var wg sync.WaitGroup
	defer wg.Wait()
	l := &sessionLoop{c: c, ctx: ctx, wg: &wg, frames: make(chan frame)}
	b := backoff.Backoff{Min: c.bmin, Max: c.bmax, Jitter: 0.2}
	first := true
	for ctx.Err() == nil {
		if !first {
			c.update(func(st *Status) { st.Reconnects++ })
		}
		first = false
		wc, err := c.dial(ctx, c.wsURL)
		if err != nil {
			if ctx.Err() != nil {
				return
			}
			c.warn("eventsub connect failed", err)
			if c.sleep(ctx, b.Next()) != nil {
				return
			}
			continue
		}
		l.start(wc)
		l.cur = wc
		welcomed, err := l.serve()
		l.closeAll()
		if ctx.Err() != nil {
			return
		}
		c.update(func(st *Status) { st.SessionID = ""; st.ShardStatus = shardDisconnected })
		c.warn("eventsub connection lost", err)
		if welcomed {
			b.Reset()
		}
		if c.sleep(ctx, b.Next()) != nil {
			return
		}
	}
}

// dial opens one WebSocket connection.
func (c *Client) dial(ctx context.Context, url string) (*wsConn, error) {
	dctx, cancel := context.WithTimeout(ctx, DefaultHTTPTimeout)
	defer cancel()
	conn, resp, err := websocket.Dial(dctx, url, &websocket.DialOptions{HTTPClient: c.wsHC})
	if resp != nil && resp.Body != nil {
		resp.Body.Close()
	}
	if err != nil {
		return nil, fmt.Errorf("dial: %w", err)
	}
	conn.SetReadLimit(readLimit)
	return &wsConn{conn: conn, url: url, lastMsg: time.Now()}, nil
}

// start runs wc's reader.
func (l *sessionLoop) start(wc *wsConn) {
	l.wg.Go(func() {
		for {
			typ, data, err := wc.conn.Read(l.ctx)
			if err == nil && typ != websocket.MessageText {
				err = fmt.Errorf("%w: binary frame", errMalformed)
				data = nil
				// A binary frame is not fatal: report and go on.
				select {
				case l.frames <- frame{from: wc, err: err}:
				case <-l.ctx.Done():
					return
				}
				continue
			}
			select {
			case l.frames <- frame{from: wc, data: data, err: err}:
			case <-l.ctx.Done():
				return
			}
			if err != nil {
				return
			}
		}
	})
}

// retireDrain is how long a connection replaced after a session_reconnect
// stays open: Twitch sends nothing new on it after the new welcome, but
// frames already on the way must be read, and closing discards them.
const retireDrain = time.Second

// retire closes old once frames in flight on it had time to arrive.
func (l *sessionLoop) retire(old *wsConn) {
	if l.retired == nil {
		l.retired = make(map[*wsConn]bool)
	}
	l.retired[old] = true
	l.wg.Go(func() {
		t := time.NewTimer(retireDrain)
		defer t.Stop()
		select {
		case <-t.C:
		case <-l.ctx.Done():
		}
		_ = old.conn.Close(websocket.StatusNormalClosure, "")
	})
}

// close ends wc without waiting for the peer's close frame in the loop.
func (l *sessionLoop) close(wc *wsConn, code websocket.StatusCode, reason string) {
	if wc == nil {
		return
	}
	l.wg.Go(func() { _ = wc.conn.Close(code, reason) })
}

func (l *sessionLoop) closeAll() {
	l.close(l.cur, websocket.StatusNormalClosure, "")
	l.close(l.next, websocket.StatusNormalClosure, "")
	l.cur, l.next = nil, nil
	clear(l.retired)
	if ch := l.dials; ch != nil {
		// The dial ends on its own (it has a timeout); drop its result.
		l.wg.Go(func() {
			if r := <-ch; r.c != nil {
				_ = r.c.conn.CloseNow()
			}
		})
		l.dials = nil
	}
}

// deadline is when silence on the current connection means it is dead.
func (l *sessionLoop) deadline() time.Time {
	wc := l.cur
	if wc == nil {
		wc = l.next
	}
	if wc.sessionID == "" {
		return wc.lastMsg.Add(welcomeWait)
	}
	return wc.lastMsg.Add(wc.keepalive + l.c.slack)
}

// serve reads the current connection (and a reconnect's next one) until it
// is lost. It reports whether a welcome was received and why it ended.
func (l *sessionLoop) serve() (welcomed bool, _ error) {
	timer := time.NewTimer(time.Until(l.deadline()))
	defer timer.Stop()
	for {
		select {
		case <-l.ctx.Done():
			return welcomed, l.ctx.Err()
		case <-timer.C:
			return welcomed, errors.New("no message within keepalive_timeout_seconds")
		case r := <-l.dials:
			l.dials = nil
			if r.err != nil {
				// Twitch closes the old connection (4004) if we never
				// reach the new one; then we reconnect from scratch.
				l.c.warn("eventsub reconnect_url failed", r.err)
				continue
			}
			l.next = r.c
			l.start(r.c)
		case f := <-l.frames:
			if l.retired[f.from] {
				if f.err != nil {
					delete(l.retired, f.from)
				} else if _, err := l.handle(f.from, f.data); err != nil {
					l.c.warn("eventsub old connection", err)
				}
				continue
			}
			if f.from != l.cur && f.from != l.next {
				continue // a connection already given up
			}
			if f.err != nil {
				if errors.Is(f.err, errMalformed) {
					l.c.warn("eventsub bad frame", f.err)
					continue
				}
				if f.from == l.next {
					l.c.warn("eventsub reconnect connection lost", closeErr(f.err))
					l.next = nil
					continue
				}
				if l.next != nil {
					// The old connection closed first: go on with the
					// new one, which will send (or sent) its welcome.
					l.cur, l.next = l.next, nil
					l.c.update(func(st *Status) { st.Reconnects++ })
					break
				}
				return welcomed, closeErr(f.err)
			}
			f.from.lastMsg = time.Now()
			ok, err := l.handle(f.from, f.data)
			if err != nil {
				return welcomed, err
			}
			welcomed = welcomed || ok
		}
		if !timer.Stop() {
			select {
			case <-timer.C:
			default:
			}
		}
		timer.Reset(time.Until(l.deadline()))
	}
}

// closeErr names a WebSocket close status, which says why Twitch closed
// (4003: no subscription in time, 4004: reconnect grace expired, ...).
func closeErr(err error) error {
	if code := websocket.CloseStatus(err); code != -1 {
		return fmt.Errorf("closed by server with status %d: %w", code, err)
	}
	return err
}

// handle acts on one frame from wc. It reports whether the frame was a
// welcome; an error ends the connection.
func (l *sessionLoop) handle(wc *wsConn, data []byte) (bool, error) {
	c := l.c
	m, err := decodeMessage(data)
	if err != nil {
		c.warn("eventsub bad frame", err)
		return false, nil
	}
	switch m.Type {
	case msgWelcome:
		if wc.sessionID != "" {
			return false, fmt.Errorf("%w: second welcome on one connection", errMalformed)
		}
		wc.sessionID = m.Session.ID
		wc.keepalive = defaultKeepalive
		if m.Session.KeepaliveTimeout != nil && *m.Session.KeepaliveTimeout > 0 {
			wc.keepalive = time.Duration(*m.Session.KeepaliveTimeout) * time.Second
		}
		if wc == l.next {
			// The reconnect's new connection is ready: retire the old,
			// which Twitch stops using once it sent this welcome.
			if old := l.cur; old != nil {
				l.retire(old)
			}
			l.cur, l.next = wc, nil
			c.update(func(st *Status) { st.Reconnects++ })
		}
		c.log.Info().Str("session_id", m.Session.ID).Dur("keepalive", wc.keepalive).Msg("eventsub session welcome")
		if m.Session.ID != l.onShard {
			// A new session must be on the shard within 10 s; one
			// reached through reconnect_url keeps its ID and its shard.
			l.onShard = m.Session.ID
			c.update(func(st *Status) { st.SessionID = m.Session.ID; st.ShardStatus = shardPending })
			select {
			case <-c.sessionCh:
			default:
			}
			c.sessionCh <- m.Session.ID
		} else {
			c.update(func(st *Status) { st.SessionID = m.Session.ID })
		}
		return true, nil
	case msgKeepalive:
		return false, nil
	case msgReconnect:
		if wc != l.cur || l.next != nil || l.dials != nil {
			return false, nil
		}
		url := m.Session.ReconnectURL
		c.log.Info().Msg("eventsub session_reconnect: moving to the new connection")
		ch := make(chan dialResult, 1)
		l.dials = ch
		l.wg.Go(func() {
			nc, err := c.dial(l.ctx, url)
			ch <- dialResult{nc, err}
		})
		return false, nil
	case msgRevocation:
		c.log.Warn().Str("type", m.SubType).Str("status", m.Subscription.Status).
			Str("broadcaster_id", m.Subscription.Condition.BroadcasterUserID).
			Msg("eventsub subscription revoked; resubscribing at the next reconcile")
		notify(c.revokedCh)
		return false, nil
	case msgNotification:
		l.notification(m)
		return false, nil
	default:
		c.log.Debug().Str("message_type", m.Type).Msg("eventsub message of unknown type ignored")
		return false, nil
	}
}

// notification turns a stream notification into an Event, once per
// message_id.
func (l *sessionLoop) notification(m message) {
	c := l.c
	var kind Kind
	switch m.SubType {
	case TypeStreamOnline:
		kind = Online
	case TypeStreamOffline:
		kind = Offline
	default:
		c.log.Debug().Str("type", m.SubType).Msg("eventsub notification of unknown type ignored")
		return
	}
	now := c.now()
	dup := l.dedup.seenBefore(m.ID, now)
	c.update(func(st *Status) {
		st.EventsReceived++
		if dup {
			st.DuplicatesIgnored++
		}
	})
	if dup {
		c.log.Debug().Str("message_id", m.ID).Msg("eventsub duplicate notification ignored")
		return
	}
	at := m.Timestamp
	if kind == Online && m.Event.StartedAt != "" {
		if t, err := time.Parse(time.RFC3339Nano, m.Event.StartedAt); err == nil {
			at = t
		}
	}
	if at.IsZero() {
		at = now
	}
	e := Event{
		Kind:             kind,
		BroadcasterID:    m.Event.BroadcasterUserID,
		BroadcasterLogin: twitch.NormalizeLogin(m.Event.BroadcasterUserLogin),
		At:               at,
		MessageID:        m.ID,
	}
	c.log.Info().Str("kind", kind.String()).Str("broadcaster_id", e.BroadcasterID).
		Str("login", e.BroadcasterLogin).Msg("eventsub stream event")
	c.events.push(e)
}
