package eventsubtest

import (
	"net/url"
	"slices"
	"time"

	"github.com/coder/websocket"
)

// NotifyMode says what happens to notifications (GoLive, GoOffline).
type NotifyMode int

// Notification modes.
const (
	// NotifyDeliver sends each notification once (the default).
	NotifyDeliver NotifyMode = iota
	// NotifyTwice sends each notification twice with the same message_id,
	// as Twitch does when unsure it was received.
	NotifyTwice
	// NotifyDrop loses every notification.
	NotifyDrop
	// NotifyHold keeps notifications until ReleaseHeld: late, and in any
	// order.
	NotifyHold
)

type heldMsg struct {
	conduitID string
	data      []byte
}

// SetNotifyMode sets what happens to the following notifications.
func (f *Fake) SetNotifyMode(m NotifyMode) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.mode = m
}

// ReleaseHeld sends the held notifications, in order or reversed, to the
// sessions now on their conduits' shards, and returns how many were sent.
func (f *Fake) ReleaseHeld(reverse bool) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	held := f.held
	f.held = nil
	if reverse {
		slices.Reverse(held)
	}
	n := 0
	for _, h := range held {
		if f.sendToShardLocked(h.conduitID, h.data) {
			n++
		}
	}
	f.changedLocked()
	return n
}

// GoLive sends stream.online for broadcasterID to every conduit subscribed
// to it and returns how many notifications were sent (or held).
func (f *Fake) GoLive(broadcasterID, login string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	ev := map[string]any{
		"id":                     newID()[:10],
		"broadcaster_user_id":    broadcasterID,
		"broadcaster_user_login": login,
		"broadcaster_user_name":  login,
		"type":                   "live",
		"started_at":             f.opts.Now().UTC().Format(time.RFC3339Nano),
	}
	return f.notifyLocked("stream.online", broadcasterID, ev)
}

// GoOffline sends stream.offline for broadcasterID like GoLive.
func (f *Fake) GoOffline(broadcasterID, login string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	ev := map[string]any{
		"broadcaster_user_id":    broadcasterID,
		"broadcaster_user_login": login,
		"broadcaster_user_name":  login,
	}
	return f.notifyLocked("stream.offline", broadcasterID, ev)
}

func (f *Fake) notifyLocked(typ, broadcasterID string, ev map[string]any) int {
	n := 0
	for _, s := range f.subs {
		if s.typ != typ || s.broadcaster != broadcasterID || s.status != "enabled" {
			continue
		}
		data := f.envelopeLocked("notification", typ, map[string]any{"subscription": s.json(), "event": ev})
		switch f.mode {
		case NotifyDrop:
			n++
		case NotifyHold:
			f.held = append(f.held, heldMsg{s.conduitID, data})
			n++
		case NotifyTwice:
			if f.sendToShardLocked(s.conduitID, data) {
				f.sendToShardLocked(s.conduitID, data)
				n++
			}
		default:
			if f.sendToShardLocked(s.conduitID, data) {
				n++
			}
		}
	}
	f.changedLocked()
	return n
}

// sendToShardLocked sends data to the first enabled shard's session.
func (f *Fake) sendToShardLocked(conduitID string, data []byte) bool {
	c := f.conduitLocked(conduitID)
	if c == nil {
		return false
	}
	for _, sh := range c.shards {
		if sh.status != "enabled" {
			continue
		}
		if s := f.sessions[sh.sessionID]; s != nil && s.cur != nil {
			s.cur.enqueue(data)
			return true
		}
	}
	return false
}

// Reconnect sends session_reconnect to every session, with a reconnect_url
// on the address the client dialled, and returns how many got one. The old
// connection keeps getting messages until the new one is welcomed and is
// closed with 4004 after ReconnectGrace if the client keeps it.
func (f *Fake) Reconnect() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := 0
	for _, s := range f.sessions {
		if s.cur == nil {
			continue
		}
		u := url.URL{Scheme: "ws", Host: s.host, Path: f.opts.WebSocketPath, RawQuery: url.Values{"reconnect": {s.id}}.Encode()}
		s.cur.enqueue(f.envelopeLocked("session_reconnect", "", f.sessionJSON(s, "reconnecting", nil, u.String())))
		old := s.cur
		f.wg.Add(1)
		go func() {
			defer f.wg.Done()
			t := time.NewTimer(f.opts.ReconnectGrace)
			defer t.Stop()
			select {
			case <-t.C:
				old.close(CloseReconnectGraceEnded, "reconnect grace time expired")
			case <-old.ctx.Done():
			case <-f.done:
			}
		}()
		n++
	}
	return n
}

// Revoke sends a revocation for every subscription of broadcasterID with
// status (e.g. "authorization_revoked", "user_removed") and removes them.
func (f *Fake) Revoke(broadcasterID, status string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := 0
	keep := f.subs[:0:0]
	for _, s := range f.subs {
		if s.broadcaster != broadcasterID {
			keep = append(keep, s)
			continue
		}
		s.status = status
		f.sendToShardLocked(s.conduitID, f.envelopeLocked("revocation", s.typ, map[string]any{"subscription": s.json()}))
		n++
	}
	f.subs = keep
	f.changedLocked()
	return n
}

// SendRaw sends data as a text frame to every connected session.
func (f *Fake) SendRaw(data string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, s := range f.sessions {
		if s.cur != nil {
			s.cur.enqueue([]byte(data))
		}
	}
}

// StopKeepalives stops (true) or resumes the keepalive messages.
func (f *Fake) StopKeepalives(stop bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.noKeep = stop
}

// DropConnections cuts every WebSocket connection without a close frame.
func (f *Fake) DropConnections() {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, s := range f.sessions {
		for _, c := range append([]*conn{s.cur}, s.old...) {
			if c != nil {
				_ = c.ws.CloseNow()
			}
		}
	}
}

// CloseSessions closes every connection with code, as Twitch does.
func (f *Fake) CloseSessions(code websocket.StatusCode, reason string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, s := range f.sessions {
		s.closeAll(code, reason)
	}
}

// RefuseConnections makes the WebSocket endpoint answer 503 (true) or
// accept again.
func (f *Fake) RefuseConnections(refuse bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.refuse = refuse
}

// Fail makes the next n requests to endpoint answer status (n < 0: all).
func (f *Fake) Fail(endpoint string, status, n int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.faults[endpoint] = append(f.faults[endpoint], fault{status: status, left: n})
}

// ClearFaults removes every Fail.
func (f *Fake) ClearFaults() {
	f.mu.Lock()
	defer f.mu.Unlock()
	clear(f.faults)
}

// Count returns how many requests endpoint got.
func (f *Fake) Count(endpoint string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.counts[endpoint]
}

// Connections returns how many WebSocket connections were accepted.
func (f *Fake) Connections() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.conns
}

// Refused returns how many WebSocket connections were refused.
func (f *Fake) Refused() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.refused
}

// Shard is one conduit shard as the fake sees it.
type Shard struct {
	Status    string
	SessionID string
}

// Conduit is one conduit and its shards.
type Conduit struct {
	ID     string
	Shards []Shard
}

// Conduits returns the conduits in creation order.
func (f *Fake) Conduits() []Conduit {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []Conduit
	for _, c := range f.conduits {
		cd := Conduit{ID: c.id}
		for _, sh := range c.shards {
			cd.Shards = append(cd.Shards, Shard{Status: sh.status, SessionID: sh.sessionID})
		}
		out = append(out, cd)
	}
	return out
}

// Subscription is one subscription as the fake sees it.
type Subscription struct {
	ID, Type, Status, BroadcasterID, ConduitID string
	Cost                                       int
}

// Subscriptions returns the subscriptions in creation order.
func (f *Fake) Subscriptions() []Subscription {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []Subscription
	for _, s := range f.subs {
		out = append(out, Subscription{s.id, s.typ, s.status, s.broadcaster, s.conduitID, s.cost})
	}
	return out
}

// AddConduit creates a conduit with one shard, as a previous run would
// have, and returns its ID.
func (f *Fake) AddConduit() string {
	f.mu.Lock()
	defer f.mu.Unlock()
	c := &conduit{id: newID(), shards: []shard{{status: "websocket_disconnected"}}}
	f.conduits = append(f.conduits, c)
	f.changedLocked()
	return c.id
}

// AddSubscription creates an enabled subscription of typ for broadcasterID
// on conduitID, as a previous run would have, and returns its ID.
func (f *Fake) AddSubscription(typ, broadcasterID, conduitID string) string {
	f.mu.Lock()
	defer f.mu.Unlock()
	s := &sub{id: newID(), typ: typ, version: "1", status: "enabled", broadcaster: broadcasterID,
		conduitID: conduitID, cost: 1, createdAt: f.opts.Now().UTC()}
	f.subs = append(f.subs, s)
	f.changedLocked()
	return s.id
}

// Sessions returns the IDs of the connected sessions.
func (f *Fake) Sessions() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []string
	for id, s := range f.sessions {
		if s.cur != nil {
			out = append(out, id)
		}
	}
	slices.Sort(out)
	return out
}

// OpenConnections returns how many WebSocket connections are open, old
// ones kept after a session_reconnect included.
func (f *Fake) OpenConnections() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := 0
	for _, s := range f.sessions {
		if s.cur != nil {
			n++
		}
		n += len(s.old)
	}
	return n
}

// Ready reports whether a client is set up for n streamers: one conduit
// with shard 0 on a session, and both subscriptions (online and offline)
// of each streamer enabled. Only then does a go-live reach the client.
func (f *Fake) Ready(n int) bool {
	cs := f.Conduits()
	if len(cs) != 1 || len(cs[0].Shards) == 0 || cs[0].Shards[0].Status != "enabled" {
		return false
	}
	subs := 0
	for _, s := range f.Subscriptions() {
		if s.Status == "enabled" {
			subs++
		}
	}
	return subs == 2*n
}
