// Package eventsubtest is an in-process fake of Twitch EventSub for tests
// and `farmd --demo`: the conduit and subscription endpoints of Helix with
// Twitch's status codes and JSON shapes, and the EventSub WebSocket server
// with welcome, keepalive, notification, reconnect and revocation messages,
// plus controls to inject faults. It does not import "testing".
package eventsubtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"time"

	"github.com/coder/websocket"
)

// Endpoint names for Fail and Count.
const (
	EndpointGetConduits         = "GET conduits"
	EndpointPostConduits        = "POST conduits"
	EndpointPatchShards         = "PATCH conduits/shards"
	EndpointGetSubscriptions    = "GET subscriptions"
	EndpointPostSubscriptions   = "POST subscriptions"
	EndpointDeleteSubscriptions = "DELETE subscriptions"
)

// Defaults.
const (
	DefaultPrefix        = "/helix"
	DefaultWebSocketPath = "/ws"
	DefaultMaxTotalCost  = 10000
	DefaultPageSize      = 100
	// DefaultKeepaliveSeconds is Twitch's default keepalive_timeout_seconds.
	DefaultKeepaliveSeconds = 10
	// DefaultUnusedTimeout is how long Twitch leaves a welcomed session
	// without a subscription (here: not on a shard) before closing it with
	// 4003.
	DefaultUnusedTimeout = 10 * time.Second
	// DefaultReconnectGrace is how long an old connection stays open after
	// session_reconnect before Twitch closes it with 4004.
	DefaultReconnectGrace = 30 * time.Second
	// maxConduits is Twitch's limit of conduits per client.
	maxConduits = 5
)

// Options configures a Fake.
type Options struct {
	// Prefix is the Helix path prefix; endpoints sit at
	// Prefix+"/eventsub/...". Default "/helix".
	Prefix string
	// WebSocketPath is the WebSocket endpoint's path. Default "/ws".
	WebSocketPath string
	// Authorize says whether a bearer token is a valid app token. Default:
	// any non-empty token.
	Authorize func(token string) bool
	// ClientID, if set, must be the Client-Id header of every request.
	ClientID string
	// MaxTotalCost is the client's max_total_cost. Default 10000.
	MaxTotalCost int
	// PageSize is the default page size of GET subscriptions. Default 100.
	PageSize int
	// KeepaliveSeconds is the keepalive_timeout_seconds the welcome names
	// when the client does not ask (Twitch allows 10-600; the fake accepts
	// 1-600 so tests run fast). Default 10.
	KeepaliveSeconds int
	// UnusedTimeout closes (4003) a welcomed session not put on a shard
	// within it. Default 10 s.
	UnusedTimeout time.Duration
	// ReconnectGrace closes (4004) a connection told to reconnect after
	// it. Default 30 s.
	ReconnectGrace time.Duration
	// Now gives message timestamps. Default time.Now.
	Now func() time.Time
}

// Fake is the EventSub fake as an http.Handler, to mount beside other
// fakes (helixtest). Its methods are safe for concurrent use.
type Fake struct {
	opts Options
	mux  *http.ServeMux

	mu        sync.Mutex
	conduits  []*conduit
	subs      []*sub // in creation order
	sessions  map[string]*session
	counts    map[string]int
	conns     int
	refused   int
	faults    map[string][]fault
	refuse    bool
	noKeep    bool
	mode      NotifyMode
	held      []heldMsg
	changed   chan struct{}
	closed    bool
	closeOnce sync.Once
	done      chan struct{}
	wg        sync.WaitGroup
}

type conduit struct {
	id     string
	shards []shard
}

type shard struct {
	status    string // "enabled", "websocket_disconnected", ...
	sessionID string
}

type sub struct {
	id, typ, version, status string
	broadcaster, conduitID   string
	cost                     int
	createdAt                time.Time
}

type fault struct {
	status int
	left   int // < 0: forever
}

// New returns a Fake; serve it with ServeHTTP or use NewServer.
func New(opts Options) *Fake {
	if opts.Prefix == "" {
		opts.Prefix = DefaultPrefix
	}
	opts.Prefix = strings.TrimRight(opts.Prefix, "/")
	if opts.WebSocketPath == "" {
		opts.WebSocketPath = DefaultWebSocketPath
	}
	if opts.Authorize == nil {
		opts.Authorize = func(tok string) bool { return tok != "" }
	}
	if opts.MaxTotalCost <= 0 {
		opts.MaxTotalCost = DefaultMaxTotalCost
	}
	if opts.PageSize <= 0 {
		opts.PageSize = DefaultPageSize
	}
	if opts.KeepaliveSeconds <= 0 {
		opts.KeepaliveSeconds = DefaultKeepaliveSeconds
	}
	if opts.UnusedTimeout <= 0 {
		opts.UnusedTimeout = DefaultUnusedTimeout
	}
	if opts.ReconnectGrace <= 0 {
		opts.ReconnectGrace = DefaultReconnectGrace
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	f := &Fake{
		opts:     opts,
		mux:      http.NewServeMux(),
		sessions: make(map[string]*session),
		counts:   make(map[string]int),
		faults:   make(map[string][]fault),
		changed:  make(chan struct{}),
		done:     make(chan struct{}),
	}
	p := opts.Prefix + "/eventsub"
	f.mux.HandleFunc("GET "+p+"/conduits", f.rest(EndpointGetConduits, f.getConduits))
	f.mux.HandleFunc("POST "+p+"/conduits", f.rest(EndpointPostConduits, f.postConduits))
	f.mux.HandleFunc("PATCH "+p+"/conduits/shards", f.rest(EndpointPatchShards, f.patchShards))
	f.mux.HandleFunc("GET "+p+"/subscriptions", f.rest(EndpointGetSubscriptions, f.getSubs))
	f.mux.HandleFunc("POST "+p+"/subscriptions", f.rest(EndpointPostSubscriptions, f.postSub))
	f.mux.HandleFunc("DELETE "+p+"/subscriptions", f.rest(EndpointDeleteSubscriptions, f.deleteSub))
	f.mux.HandleFunc("GET "+opts.WebSocketPath, f.serveWS)
	return f
}

// ServeHTTP serves the Helix endpoints and the WebSocket.
func (f *Fake) ServeHTTP(w http.ResponseWriter, r *http.Request) { f.mux.ServeHTTP(w, r) }

// Close closes every WebSocket connection and stops the fake's timers.
func (f *Fake) Close() {
	f.closeOnce.Do(func() {
		f.mu.Lock()
		f.closed = true
		for _, s := range f.sessions {
			s.closeAll(websocket.StatusGoingAway, "server shutting down")
		}
		f.mu.Unlock()
		close(f.done)
		f.wg.Wait()
	})
}

// Server is a Fake on its own httptest server on 127.0.0.1.
type Server struct {
	*Fake
	ts *httptest.Server
}

// NewServer starts a Fake on 127.0.0.1.
func NewServer(opts Options) *Server {
	f := New(opts)
	return &Server{Fake: f, ts: httptest.NewServer(f)}
}

// Close stops the fake and the server.
func (s *Server) Close() {
	s.Fake.Close()
	s.ts.Close()
}

// URL is the server's base URL, e.g. http://127.0.0.1:41234.
func (s *Server) URL() string { return s.ts.URL }

// HelixURL is the Helix base for eventsub.Options.HelixURL.
func (s *Server) HelixURL() string { return s.ts.URL + s.opts.Prefix }

// WebSocketURL is the WebSocket URL for eventsub.Options.WebSocketURL.
func (s *Server) WebSocketURL() string {
	return "ws" + strings.TrimPrefix(s.ts.URL, "http") + s.opts.WebSocketPath
}

// newID returns a random ID shaped like Twitch's UUIDs.
func newID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	h := hex.EncodeToString(b[:])
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}

// changedLocked wakes Wait callers. The caller holds f.mu.
func (f *Fake) changedLocked() {
	close(f.changed)
	f.changed = make(chan struct{})
}

// Wait blocks until cond holds (checked after every change) or ctx ends.
// cond runs without the fake's lock and may call its methods.
func (f *Fake) Wait(ctx context.Context, cond func(*Fake) bool) error {
	for {
		f.mu.Lock()
		ch := f.changed
		f.mu.Unlock()
		if cond(f) {
			return nil
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// writeJSON writes v with status.
func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// writeError writes Twitch's error shape.
func writeError(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, map[string]any{"error": http.StatusText(status), "status": status, "message": msg})
}
