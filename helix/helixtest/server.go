// Package helixtest is an in-process fake of Twitch's OAuth and Helix HTTP
// APIs (token, validate, users, streams, channels/followed) with Twitch's status codes, JSON
// shapes and rate-limit headers, plus fault injection. Tests and
// `farmd --demo` use it; it does not import "testing".
package helixtest

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sort"
	"strconv"
	"sync"
	"time"

	"github.com/farmd/farmd/twitch"
)

// Endpoint names for Fail, Count and Requests.
const (
	EndpointToken    = "token"
	EndpointValidate = "validate"
	EndpointUsers    = "users"
	EndpointStreams  = "streams"
)

// Defaults.
const (
	DefaultClientID     = "farmd-test-client"
	DefaultClientSecret = "farmd-test-secret"
	// DefaultTokenTTL is about what Twitch gives app tokens.
	DefaultTokenTTL  = 60 * 24 * time.Hour
	DefaultRateLimit = 800
)

// Options configures a Server.
type Options struct {
	// ClientID and ClientSecret are the one registered application.
	// Defaults DefaultClientID and DefaultClientSecret.
	ClientID     string
	ClientSecret string
	// TokenTTL is the lifetime of issued app tokens. Default
	// DefaultTokenTTL.
	TokenTTL time.Duration
	// RateLimit is the Helix bucket size in points per minute. Default 800.
	RateLimit int
	// Now returns the current time (token expiry, rate-limit bucket).
	// Default time.Now.
	Now func() time.Time

	// UserTokenTTL is the lifetime of user tokens issued by the
	// device-code and refresh grants. Default DefaultUserTokenTTL.
	UserTokenTTL time.Duration
	// DeviceCodeTTL and DeviceInterval are the device code's lifetime and
	// the polling interval the device endpoint announces. Defaults
	// DefaultDeviceCodeTTL and DefaultDeviceInterval.
	DeviceCodeTTL  time.Duration
	DeviceInterval time.Duration
	// PublicClient makes the application a public client: the device-code
	// and refresh grants then need no client secret. A confidential
	// client (the default) must send it.
	PublicClient bool
	// AutoApprove, when set, approves every device authorization at once
	// as this login: for the demo, where nobody visits the activation page.
	AutoApprove string

	// ServiceTime is the time the server spends on each Helix request
	// (/users, /streams) besides network latency (Fault.Delay), on one of
	// Workers workers: a CPU-bound server, where requests beyond Workers
	// queue. Zero answers at once.
	ServiceTime time.Duration
	// Workers is how many requests the server serves at once when
	// ServiceTime is set. Default 1: one worker serialises the service
	// times.
	Workers int
	// TLS serves HTTPS offering only HTTP/1.1; HTTP2 serves HTTPS offering
	// HTTP/2 (ALPN h2) and HTTP/1.1, as Twitch's Helix does. Clients trust
	// the server's certificate through ClientTLSConfig or CertificatePEM.
	TLS   bool
	HTTP2 bool
}

// Server is a fake of Twitch's HTTP APIs. Its methods are safe for
// concurrent use.
type Server struct {
	ts   *httptest.Server
	mux  *http.ServeMux
	opts Options

	closed    chan struct{}
	closeOnce sync.Once

	mu         sync.Mutex
	users      map[string]*user // by ID
	byLogin    map[string]string
	nextID     int
	appTokens  map[string]time.Time // token -> expiry
	userTokens map[string]userToken
	// The user-token grants (usertoken.go).
	refreshTokens map[string]refreshToken
	devices       map[string]*deviceCode // by device code
	pendingUsers  []string
	refreshes     int
	issuedUser    []string
	issued        []string
	counts        map[string]int
	basicAuth     int
	requests      map[string][]url.Values
	inFlight      map[string]int
	maxInFlight   map[string]int
	hungTotal     int // requests ever hung by a Hang fault
	changed       chan struct{}
	release       chan struct{}
	faults        map[string][]*Fault
	bucket        bucket
	follows       map[string][]follow // user ID -> channels, most recent first (follows.go)
	workers       chan struct{}       // one slot per worker (Options.Workers)
	busy          int                 // requests in their service time
	conns         int
	protos        map[string]map[string]int
	spans         map[string][]*Span
}

type user struct {
	id, login  string
	live       bool
	streamType string
	startedAt  time.Time
}

// New starts a Server on 127.0.0.1 with one registered application.
func New(opts Options) *Server {
	if opts.ClientID == "" {
		opts.ClientID = DefaultClientID
	}
	if opts.ClientSecret == "" {
		opts.ClientSecret = DefaultClientSecret
	}
	if opts.TokenTTL <= 0 {
		opts.TokenTTL = DefaultTokenTTL
	}
	if opts.RateLimit <= 0 {
		opts.RateLimit = DefaultRateLimit
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.UserTokenTTL <= 0 {
		opts.UserTokenTTL = DefaultUserTokenTTL
	}
	if opts.DeviceCodeTTL <= 0 {
		opts.DeviceCodeTTL = DefaultDeviceCodeTTL
	}
	if opts.DeviceInterval <= 0 {
		opts.DeviceInterval = DefaultDeviceInterval
	}
	if opts.Workers <= 0 {
		opts.Workers = 1
	}
	s := &Server{
		opts:          opts,
		closed:        make(chan struct{}),
		users:         make(map[string]*user),
		byLogin:       make(map[string]string),
		nextID:        100001,
		appTokens:     make(map[string]time.Time),
		userTokens:    make(map[string]userToken),
		refreshTokens: make(map[string]refreshToken),
		devices:       make(map[string]*deviceCode),
		counts:        make(map[string]int),
		requests:      make(map[string][]url.Values),
		inFlight:      make(map[string]int),
		maxInFlight:   make(map[string]int),
		changed:       make(chan struct{}),
		release:       make(chan struct{}),
		faults:        make(map[string][]*Fault),
		follows:       make(map[string][]follow),
		bucket:        bucket{limit: opts.RateLimit, remaining: opts.RateLimit},
		workers:       make(chan struct{}, opts.Workers),
		protos:        make(map[string]map[string]int),
		spans:         make(map[string][]*Span),
	}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /oauth2/token", s.wrap(EndpointToken, s.handleToken))
	mux.HandleFunc("POST /oauth2/device", s.wrap(EndpointDevice, s.handleDevice))
	mux.HandleFunc("GET /oauth2/validate", s.wrap(EndpointValidate, s.handleValidate))
	mux.HandleFunc("GET /helix/users", s.wrap(EndpointUsers, s.helix(s.handleUsers)))
	mux.HandleFunc("GET /helix/streams", s.wrap(EndpointStreams, s.helix(s.handleStreams)))
	mux.HandleFunc("GET /helix/channels/followed", s.wrap(EndpointFollowed, s.helix(s.handleFollowed)))
	s.registerControl(mux)
	s.mux = mux
	s.registerFollowsControl(mux)
	s.start(mux)
	return s
}

// Handle serves pattern with h beside the fake's own endpoints: another
// fake of a Twitch API that lives under the same host, such as EventSub's
// (eventsubtest.Fake at "/helix/eventsub/" and its WebSocket path).
func (s *Server) Handle(pattern string, h http.Handler) { s.mux.Handle(pattern, h) }

// ValidAppToken reports whether tok is an app token this server issued
// that has not expired or been revoked: for a fake beside it to check.
func (s *Server) ValidAppToken(tok string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	exp, ok := s.appTokens[tok]
	return ok && s.opts.Now().Before(exp)
}

// Close unblocks hung and delayed requests and shuts the server down.
func (s *Server) Close() {
	s.closeOnce.Do(func() {
		close(s.closed)
		s.ts.Close()
	})
}

// URL is the server's base URL, e.g. http://127.0.0.1:41234 (https:// with
// Options.TLS or HTTP2).
func (s *Server) URL() string { return s.ts.URL }

// AuthURL is the OAuth base URL (URL()+"/oauth2") for helix.Options.AuthURL.
func (s *Server) AuthURL() string { return s.ts.URL + "/oauth2" }

// HelixURL is the Helix base URL (URL()+"/helix") for helix.Options.HelixURL.
func (s *Server) HelixURL() string { return s.ts.URL + "/helix" }

// ClientID returns the registered application's client ID.
func (s *Server) ClientID() string { return s.opts.ClientID }

// ClientSecret returns the registered application's client secret.
func (s *Server) ClientSecret() string { return s.opts.ClientSecret }

// AddUser registers login, normalised by twitch.NormalizeLogin as farmd
// normalises the logins it compares, and returns its user ID. IDs are
// assigned in order from 100001; adding a known login returns its ID.
func (s *Server) AddUser(login string) string {
	login = twitch.NormalizeLogin(login)
	s.mu.Lock()
	defer s.mu.Unlock()
	if id, ok := s.byLogin[login]; ok {
		return id
	}
	id := strconv.Itoa(s.nextID)
	s.nextID++
	s.users[id] = &user{id: id, login: login}
	s.byLogin[login] = id
	return id
}

// SetLive starts or ends login's stream, adding the user if unknown. A
// stream that starts has type "live".
func (s *Server) SetLive(login string, live bool) {
	id := s.AddUser(login)
	s.mu.Lock()
	defer s.mu.Unlock()
	u := s.users[id]
	if live && !u.live {
		u.startedAt = s.opts.Now().UTC()
		u.streamType = "live"
	}
	u.live = live
}

// SetStreamType sets the "type" field of login's stream object (Twitch
// documents "live" or "" on error). It does not change whether the stream
// is listed.
func (s *Server) SetStreamType(login, typ string) {
	id := s.AddUser(login)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.users[id].streamType = typ
}

// Rename changes a user's login; the ID stays. It reports whether oldLogin
// was known.
func (s *Server) Rename(oldLogin, newLogin string) bool {
	oldLogin, newLogin = twitch.NormalizeLogin(oldLogin), twitch.NormalizeLogin(newLogin)
	s.mu.Lock()
	defer s.mu.Unlock()
	id, ok := s.byLogin[oldLogin]
	if !ok {
		return false
	}
	delete(s.byLogin, oldLogin)
	s.byLogin[newLogin] = id
	s.users[id].login = newLogin
	return true
}

// AddUserToken registers a user access token for login (added if unknown)
// with scopes; /validate then describes it.
func (s *Server) AddUserToken(token, login string, scopes ...string) {
	s.AddUser(login)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.userTokens[token] = userToken{login: twitch.NormalizeLogin(login), scopes: append([]string{}, scopes...)}
}

// RevokeAppTokens makes every app token issued so far invalid: Helix and
// validate answer 401 for them.
func (s *Server) RevokeAppTokens() {
	s.mu.Lock()
	defer s.mu.Unlock()
	clear(s.appTokens)
}

// AppTokens returns the app tokens issued and still valid, for tests that
// check that no token leaks into logs.
func (s *Server) AppTokens() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]string, 0, len(s.appTokens))
	for t := range s.appTokens {
		out = append(out, t)
	}
	sort.Strings(out)
	return out
}

// IssuedAppTokens returns every app token the server has issued, revoked
// or not, in order.
func (s *Server) IssuedAppTokens() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.issued...)
}

// Count returns how many requests endpoint has received.
func (s *Server) Count(endpoint string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.counts[endpoint]
}

// WaitCount waits until endpoint has received at least n requests, or ctx
// is done.
func (s *Server) WaitCount(ctx context.Context, endpoint string, n int) error {
	for {
		s.mu.Lock()
		got, ch := s.counts[endpoint], s.changed
		s.mu.Unlock()
		if got >= n {
			return nil
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// notify wakes WaitCount and WaitHung. s.mu is held.
func (s *Server) notify() {
	close(s.changed)
	s.changed = make(chan struct{})
}

// BasicAuthTokenRequests counts token requests that carried HTTP Basic
// credentials (x/oauth2's default AuthStyle does, before retrying with the
// form).
func (s *Server) BasicAuthTokenRequests() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.basicAuth
}

// Requests returns the query of every request endpoint received, in order.
// For token requests it is the form without client_secret.
func (s *Server) Requests(endpoint string) []url.Values {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]url.Values, len(s.requests[endpoint]))
	copy(out, s.requests[endpoint])
	return out
}

// MaxInFlight returns the largest number of concurrent requests endpoint
// has seen.
func (s *Server) MaxInFlight(endpoint string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.maxInFlight[endpoint]
}

// wrap counts and records a request, applies faults and runs h.
func (s *Server) wrap(endpoint string, h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		if endpoint == EndpointToken || endpoint == EndpointDevice {
			_ = r.ParseForm()
			q = url.Values{}
			for k, v := range r.PostForm {
				if k != "client_secret" {
					q[k] = v
				}
			}
		}
		s.mu.Lock()
		s.counts[endpoint]++
		if _, _, basic := r.BasicAuth(); basic && endpoint == EndpointToken {
			s.basicAuth++
		}
		s.notify()
		s.requests[endpoint] = append(s.requests[endpoint], q)
		s.inFlight[endpoint]++
		s.maxInFlight[endpoint] = max(s.maxInFlight[endpoint], s.inFlight[endpoint])
		if s.protos[endpoint] == nil {
			s.protos[endpoint] = make(map[string]int)
		}
		s.protos[endpoint][r.Proto]++
		span := &Span{Start: time.Now()}
		s.spans[endpoint] = append(s.spans[endpoint], span)
		f := s.nextFault(endpoint)
		s.mu.Unlock()
		defer func() {
			s.mu.Lock()
			s.inFlight[endpoint]--
			span.End = time.Now()
			s.mu.Unlock()
		}()
		if f != nil && s.applyFault(w, r, endpoint, f) {
			return
		}
		if (endpoint == EndpointUsers || endpoint == EndpointStreams) && !s.serve(r) {
			return
		}
		h(w, r)
	}
}

// writeJSON writes v with status.
func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", strconv.Itoa(len(b)))
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

// writeError writes Twitch's error shape. Helix includes "error"; the OAuth
// endpoints only status and message.
func writeError(w http.ResponseWriter, status int, withError bool, msg string) {
	body := map[string]any{"status": status, "message": msg}
	if withError {
		body["error"] = http.StatusText(status)
	}
	writeJSON(w, status, body)
}

// String names the server by its URL.
func (s *Server) String() string { return fmt.Sprintf("helixtest.Server(%s)", s.URL()) }
