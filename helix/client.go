// Package helix wraps the parts of Twitch's Helix API and OAuth endpoints
// that farmd needs: an app access token (client credentials), resolving
// logins to user IDs, polling stream status and validating tokens.
//
// Requests are retried with exponential backoff on 5xx, timeouts and
// transport errors, wait for Ratelimit-Reset on 429, and renew the app token
// once on 401. Secrets (client secret, app token, user tokens) never appear
// in log lines or error text.
package helix

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/rs/zerolog"
	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"

	"github.com/farmd/farmd/backoff"
	"github.com/farmd/farmd/presence"
	"github.com/farmd/farmd/twitch"
)

// Default endpoints and limits.
const (
	// DefaultAuthURL and DefaultHelixURL are Twitch's addresses, whose
	// home is package twitch.
	DefaultAuthURL     = twitch.DefaultAuthURL
	DefaultHelixURL    = twitch.DefaultHelixURL
	DefaultHTTPTimeout = 10 * time.Second
	// DefaultMaxConcurrent is measured against a server with 20 ms
	// latency and a per-request service time (BENCHMARKS.md): for 10,000
	// streamers (100 requests) 10 in flight took 251-255 ms, 16 take
	// 169-172 ms and 32 take 159-161 ms, over HTTP/1.1 and HTTP/2 alike;
	// 100 are hardly faster against a busy server. 32 cost about 1.1 MiB
	// of RSS more than 16 over HTTP/1.1, where each request in flight is a
	// TLS connection with two goroutines, and 0.7 MiB more over HTTP/2:
	// with RSS the tight target at 10,000 streamers, 16 it is, for both.
	// Concurrency does not change the points spent, only how fast they
	// are spent, and never past Ratelimit-Remaining.
	DefaultMaxConcurrent = 16
	DefaultMaxAttempts   = 4
	DefaultBackoffBase   = 500 * time.Millisecond
	DefaultBackoffMax    = 10 * time.Second
	// DefaultMaxRateLimitWait bounds how long a 429 makes a request wait
	// for Ratelimit-Reset. Twitch's bucket refills within a minute.
	DefaultMaxRateLimitWait = 65 * time.Second
	// DefaultMaxBodyBytes bounds every response body read.
	DefaultMaxBodyBytes = 4 << 20
)

// Endpoint names used in errors, logs and Stats.
const (
	endpointToken    = "token"
	endpointValidate = "validate"
	endpointUsers    = "users"
	endpointStreams  = "streams"
)

// maxIDsPerRequest is Helix's limit on repeated query parameters.
const maxIDsPerRequest = 100

// Options configures a Client. Only ClientID and ClientSecret are required.
type Options struct {
	// ClientID is the Twitch application's client ID, sent as Client-Id.
	ClientID string
	// ClientSecret is the application's secret, sent only in the token
	// request's form body and never logged.
	ClientSecret string
	// AuthURL is the OAuth base URL, without trailing slash. Default
	// DefaultAuthURL.
	AuthURL string
	// HelixURL is the Helix base URL, without trailing slash. Default
	// DefaultHelixURL.
	HelixURL string
	// HTTPClient sends every request. Default: a client with a 10 s timeout
	// whose transport speaks HTTP/2 where the server offers it and over
	// HTTP/1.1 keeps the connections the concurrency needs idle, so that
	// each poll cycle reuses them (net/http's default of 2
	// idle would dial, and on Twitch handshake TLS, the others every cycle).
	HTTPClient *http.Client
	// Logger receives debug lines per request and info lines per token
	// fetch; a child logger with component=helix is derived from it. The
	// zero Logger discards everything.
	Logger zerolog.Logger
	// MaxConcurrent bounds the concurrent /streams requests of one
	// CheckStreams call, over HTTP/1.1 and HTTP/2 alike. Default
	// DefaultMaxConcurrent (16).
	MaxConcurrent int

	// MaxAttempts bounds the attempts of one request on 5xx, 429, timeouts
	// and transport errors. Default 4.
	MaxAttempts int
	// BackoffBase and BackoffMax bound the exponential backoff between
	// attempts (with jitter). Defaults 500 ms and 10 s.
	BackoffBase time.Duration
	BackoffMax  time.Duration
	// MaxRateLimitWait bounds the wait for Ratelimit-Reset after a 429.
	// Default 65 s.
	MaxRateLimitWait time.Duration
	// MaxBodyBytes bounds response bodies; a larger body is an error.
	// Default 4 MiB.
	MaxBodyBytes int64

	// UserTokens, when there is no ClientSecret, supplies the user token
	// Helix requests carry instead of an app token (public applications).
	UserTokens UserTokens

	// Now returns the current time (token expiry, Ratelimit-Reset).
	// Default time.Now.
	Now func() time.Time
	// Sleep waits d or until ctx is done, returning ctx.Err() then. Tests
	// inject it to avoid real waiting. Default: a timer.
	Sleep func(ctx context.Context, d time.Duration) error
}

// String describes the options without the client secret, so that an
// accidental log of Options leaks nothing.
func (o Options) String() string {
	return fmt.Sprintf("helix.Options{ClientID:%q ClientSecret:[redacted] AuthURL:%q HelixURL:%q MaxConcurrent:%d}",
		o.ClientID, o.AuthURL, o.HelixURL, o.MaxConcurrent)
}

// Client talks to Helix with an app access token. It is safe for concurrent
// use and owns no goroutines outside its method calls.
type Client struct {
	clientID     string
	clientSecret string // for the user-token grants; never logged
	authURL      string
	helixURL     string
	hc           *http.Client
	log          zerolog.Logger

	maxConcurrent int
	maxAttempts   int
	backoffBase   time.Duration
	backoffMax    time.Duration
	maxRLWait     time.Duration
	maxBody       int64
	now           func() time.Time
	sleep         func(ctx context.Context, d time.Duration) error

	tokens bearer
	rl     rateLimitTracker
	stats  stats
}

// Static checks that Client implements the presence interfaces.
var (
	_ presence.StreamChecker = (*Client)(nil)
	_ presence.Resolver      = (*Client)(nil)
)

// New returns a Client with o's zero fields set to their defaults. It sends
// no request: the first call that needs the app token fetches it.
func New(o Options) *Client {
	c := &Client{
		clientID:      o.ClientID,
		clientSecret:  o.ClientSecret,
		authURL:       strings.TrimRight(o.AuthURL, "/"),
		helixURL:      strings.TrimRight(o.HelixURL, "/"),
		hc:            o.HTTPClient,
		log:           o.Logger.With().Str("component", "helix").Logger(),
		maxConcurrent: o.MaxConcurrent,
		maxAttempts:   o.MaxAttempts,
		backoffBase:   o.BackoffBase,
		backoffMax:    o.BackoffMax,
		maxRLWait:     o.MaxRateLimitWait,
		maxBody:       o.MaxBodyBytes,
		now:           o.Now,
		sleep:         o.Sleep,
	}
	if c.authURL == "" {
		c.authURL = DefaultAuthURL
	}
	if c.helixURL == "" {
		c.helixURL = DefaultHelixURL
	}
	if c.maxConcurrent <= 0 {
		c.maxConcurrent = DefaultMaxConcurrent
	}
	if c.hc == nil {
		c.hc = &http.Client{Timeout: DefaultHTTPTimeout, Transport: pooledTransport(c.maxConcurrent)}
	}
	if c.maxAttempts <= 0 {
		c.maxAttempts = DefaultMaxAttempts
	}
	if c.backoffBase <= 0 {
		c.backoffBase = DefaultBackoffBase
	}
	if c.backoffMax <= 0 {
		c.backoffMax = DefaultBackoffMax
	}
	if c.maxRLWait <= 0 {
		c.maxRLWait = DefaultMaxRateLimitWait
	}
	if c.maxBody <= 0 {
		c.maxBody = DefaultMaxBodyBytes
	}
	if c.now == nil {
		c.now = time.Now
	}
	if c.sleep == nil {
		c.sleep = backoff.Sleep
	}
	if o.ClientSecret == "" && o.UserTokens != nil {
		c.tokens = &userBearer{src: o.UserTokens, sleep: c.sleep}
		return c
	}
	c.tokens = &tokenSource{
		c: c,
		cfg: clientcredentials.Config{
			ClientID:     o.ClientID,
			ClientSecret: o.ClientSecret,
			TokenURL:     c.authURL + "/token",
			// The default AuthStyle tries HTTP Basic and then form
			// fields: two requests per token. Twitch wants the form.
			AuthStyle: oauth2.AuthStyleInParams,
		},
		lock: make(chan struct{}, 1),
	}
	return c
}

// Stats are counters for metrics. They only grow.
type Stats struct {
	// TokenFetches counts app tokens obtained.
	TokenFetches int64
	// TokenFailures counts failed attempts to obtain an app token.
	TokenFailures int64
	// Responses counts HTTP responses by endpoint and status code, e.g.
	// Responses["streams"][200].
	Responses map[string]map[int]int64
	// TransportErrors counts requests that got no response (timeouts,
	// connection errors).
	TransportErrors int64
	// Retries counts attempts after the first one of a request.
	Retries int64
}

type stats struct {
	tokenFetches    atomic.Int64
	tokenFailures   atomic.Int64
	transportErrors atomic.Int64
	retries         atomic.Int64

	mu        sync.Mutex
	responses map[string]map[int]int64
}

func (s *stats) response(endpoint string, status int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.responses == nil {
		s.responses = make(map[string]map[int]int64)
	}
	m := s.responses[endpoint]
	if m == nil {
		m = make(map[int]int64)
		s.responses[endpoint] = m
	}
	m[status]++
}

// attemptFailed counts an attempt at endpoint that got no 2xx answer.
func (s *stats) attemptFailed(endpoint string) {
	if endpoint == endpointToken {
		s.tokenFailures.Add(1)
	}
}

// Stats returns a snapshot of the client's counters.
func (c *Client) Stats() Stats {
	st := Stats{
		TokenFetches:    c.stats.tokenFetches.Load(),
		TokenFailures:   c.stats.tokenFailures.Load(),
		TransportErrors: c.stats.transportErrors.Load(),
		Retries:         c.stats.retries.Load(),
		Responses:       make(map[string]map[int]int64),
	}
	c.stats.mu.Lock()
	defer c.stats.mu.Unlock()
	for ep, m := range c.stats.responses {
		cp := make(map[int]int64, len(m))
		for k, v := range m {
			cp[k] = v
		}
		st.Responses[ep] = cp
	}
	return st
}

// pooledTransport is http.DefaultTransport's settings for maxConcurrent
// requests over HTTP/1.1: it keeps that many idle connections per host, so
// that each cycle reuses them (BenchmarkPollCycle counts 2 to 15 new
// connections a cycle with net/http's default of 2 and none with this).
// It does not cap connections per host (MaxConnsPerHost): the cap only
// removed the spare dials of a first cycle (35 connections for 32), and if
// one connection were ever not given back, every request would wait
// behind it. HTTP/2 is attempted explicitly: a custom transport with a TLS
// configuration drops it silently otherwise (TestHTTP2Negotiated).
func pooledTransport(maxConcurrent int) http.RoundTripper {
	dt, ok := http.DefaultTransport.(*http.Transport)
	if !ok {
		return http.DefaultTransport
	}
	t := dt.Clone()
	t.ForceAttemptHTTP2 = true
	t.MaxIdleConnsPerHost = maxConcurrent + 2 // + users/validate/token
	return t
}
