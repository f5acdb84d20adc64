package eventsubtest

import (
	"context"
	"encoding/json"
	"net/http"
	"strconv"
	"time"

	"github.com/coder/websocket"
)

// EventSub WebSocket close codes (Twitch's websocket reference).
const (
	CloseInternalError       websocket.StatusCode = 4000
	CloseClientSentTraffic   websocket.StatusCode = 4001
	CloseFailedPingPong      websocket.StatusCode = 4002
	CloseConnectionUnused    websocket.StatusCode = 4003
	CloseReconnectGraceEnded websocket.StatusCode = 4004
	CloseNetworkTimeout      websocket.StatusCode = 4005
	CloseNetworkError        websocket.StatusCode = 4006
	CloseInvalidReconnect    websocket.StatusCode = 4007
)

// session is one EventSub WebSocket session. A session_reconnect moves it
// to a new connection and keeps its ID.
type session struct {
	id          string
	cur         *conn // gets the messages
	old         []*conn
	welcomed    bool
	onShard     bool
	connectedAt time.Time
	keepalive   time.Duration
	host        string // the address the client dialled, for reconnect_url
}

func (s *session) closeAll(code websocket.StatusCode, reason string) {
	if s.cur != nil {
		s.cur.close(code, reason)
	}
	for _, c := range s.old {
		c.close(code, reason)
	}
}

// conn is one WebSocket connection; its writer goroutine is the only one
// writing to it.
type conn struct {
	ws     *websocket.Conn
	send   chan []byte
	ctx    context.Context
	cancel context.CancelFunc
}

func (c *conn) close(code websocket.StatusCode, reason string) {
	go func() {
		_ = c.ws.Close(code, reason)
		c.cancel()
	}()
}

// enqueue hands data to the writer; a connection too slow for 1024
// messages is dropped as Twitch would.
func (c *conn) enqueue(data []byte) {
	select {
	case c.send <- data:
	default:
		c.close(CloseNetworkError, "client too slow")
	}
}

func (f *Fake) serveWS(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	if f.refuse || f.closed {
		f.refused++
		f.changedLocked()
		f.mu.Unlock()
		http.Error(w, "service unavailable", http.StatusServiceUnavailable)
		return
	}
	f.mu.Unlock()
	ws, err := websocket.Accept(w, r, nil)
	if err != nil {
		return
	}
	ctx, cancel := context.WithCancel(context.Background())
	c := &conn{ws: ws, send: make(chan []byte, 1024), ctx: ctx, cancel: cancel}
	defer cancel()

	keep := f.opts.KeepaliveSeconds
	if v := r.URL.Query().Get("keepalive_timeout_seconds"); v != "" {
		if n, err := strconv.Atoi(v); err == nil {
			keep = min(max(n, 1), 600)
		}
	}

	f.mu.Lock()
	f.conns++
	var s *session
	reconnect := false
	if id := r.URL.Query().Get("reconnect"); id != "" {
		s = f.sessions[id]
		if s == nil {
			f.mu.Unlock()
			_ = ws.Close(CloseInvalidReconnect, "invalid reconnect")
			return
		}
		reconnect = true
		s.old = append(s.old, s.cur)
		s.cur = c
	} else {
		s = &session{id: newSessionID(), cur: c, connectedAt: f.opts.Now().UTC(), keepalive: time.Duration(keep) * time.Second, host: r.Host}
		f.sessions[s.id] = s
	}
	s.welcomed = true
	c.enqueue(f.welcomeLocked(s))
	f.changedLocked()
	f.mu.Unlock()

	f.wg.Add(1)
	go func() {
		defer f.wg.Done()
		f.writer(s, c)
	}()
	if !reconnect {
		f.wg.Add(1)
		go func() {
			defer f.wg.Done()
			f.closeIfUnused(s, c)
		}()
	}

	// The client must send nothing; a read returns when it closes.
	_, _, err = ws.Read(ctx)
	if err == nil {
		_ = ws.Close(CloseClientSentTraffic, "client sent inbound traffic")
	}
	cancel()
	f.dropConn(s, c)
}

// newSessionID returns an ID shaped like Twitch's session IDs.
func newSessionID() string { return "AQoQ" + newID()[:8] + newID()[24:] }

// writer sends queued messages, and a keepalive after KeepaliveSeconds
// less a margin of silence, until the connection ends.
func (f *Fake) writer(s *session, c *conn) {
	interval := s.keepalive * 3 / 4
	t := time.NewTimer(interval)
	defer t.Stop()
	for {
		select {
		case <-c.ctx.Done():
			return
		case <-f.done:
			return
		case data := <-c.send:
			wctx, cancel := context.WithTimeout(c.ctx, 10*time.Second)
			err := c.ws.Write(wctx, websocket.MessageText, data)
			cancel()
			if err != nil {
				c.cancel()
				return
			}
		case <-t.C:
			f.mu.Lock()
			stop := f.noKeep
			var data []byte
			if !stop {
				data = f.envelopeLocked("session_keepalive", "", map[string]any{})
			}
			f.mu.Unlock()
			if !stop {
				wctx, cancel := context.WithTimeout(c.ctx, 10*time.Second)
				err := c.ws.Write(wctx, websocket.MessageText, data)
				cancel()
				if err != nil {
					c.cancel()
					return
				}
			}
		}
		if !t.Stop() {
			select {
			case <-t.C:
			default:
			}
		}
		t.Reset(interval)
	}
}

// closeIfUnused closes a session not put on a shard in time, as Twitch
// closes one without a subscription (4003).
func (f *Fake) closeIfUnused(s *session, c *conn) {
	t := time.NewTimer(f.opts.UnusedTimeout)
	defer t.Stop()
	select {
	case <-t.C:
	case <-c.ctx.Done():
		return
	case <-f.done:
		return
	}
	f.mu.Lock()
	unused := !s.onShard && s.cur == c
	f.mu.Unlock()
	if unused {
		c.close(CloseConnectionUnused, "connection unused")
	}
}

// dropConn forgets a closed connection. When it was the session's current
// one the session ends and its shard is disabled.
func (f *Fake) dropConn(s *session, c *conn) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for i, o := range s.old {
		if o == c {
			s.old = append(s.old[:i:i], s.old[i+1:]...)
		}
	}
	if s.cur == c {
		s.cur = nil
		delete(f.sessions, s.id)
		for _, cd := range f.conduits {
			for i := range cd.shards {
				if cd.shards[i].sessionID == s.id {
					cd.shards[i] = shard{status: "websocket_disconnected"}
				}
			}
		}
	}
	f.changedLocked()
}

// envelopeLocked builds a message with Twitch's metadata.
func (f *Fake) envelopeLocked(typ, subType string, payload any) []byte {
	return f.envelopeIDLocked(newID(), typ, subType, payload)
}

func (f *Fake) envelopeIDLocked(id, typ, subType string, payload any) []byte {
	md := map[string]string{
		"message_id":        id,
		"message_type":      typ,
		"message_timestamp": f.opts.Now().UTC().Format(time.RFC3339Nano),
	}
	if subType != "" {
		md["subscription_type"] = subType
		md["subscription_version"] = "1"
	}
	data, _ := json.Marshal(map[string]any{"metadata": md, "payload": payload})
	return data
}

func (f *Fake) sessionJSON(s *session, status string, keepalive any, reconnectURL any) map[string]any {
	return map[string]any{"session": map[string]any{
		"id":                        s.id,
		"status":                    status,
		"connected_at":              s.connectedAt.Format(time.RFC3339Nano),
		"keepalive_timeout_seconds": keepalive,
		"reconnect_url":             reconnectURL,
		"recovery_url":              nil,
	}}
}

func (f *Fake) welcomeLocked(s *session) []byte {
	return f.envelopeLocked("session_welcome", "", f.sessionJSON(s, "connected", int(s.keepalive/time.Second), nil))
}
