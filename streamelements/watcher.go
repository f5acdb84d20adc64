package streamelements

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/rs/zerolog"

	"github.com/farmd/farmd/backoff"
	"github.com/farmd/farmd/twitch"
)

// Defaults of Options.
const (
	DefaultAPIURL      = "https://api.streamelements.com/kappa/v2"
	DefaultEvery       = 30 * time.Minute
	DefaultConcurrency = 2
)

// creditPresence is how long farmd must have been in a live channel
// between two readings before an unchanged watch time counts against
// StreamElements: three of its 10-minute updates, plus the viewer list's
// lag.
const creditPresence = 30 * time.Minute

// noStreamElementsFor is how long a channel that answered 404 is left
// alone: a streamer who sets StreamElements up is seen within a day, and a
// channel that never does costs one request a day.
const noStreamElementsFor = 24 * time.Hour

// Options configures a Watcher.
type Options struct {
	// APIURL is StreamElements' API base, without a final slash.
	// Default DefaultAPIURL.
	APIURL string
	// User is the chat account's login, whose points are read. Required.
	User string
	// HTTPClient sends the requests. Default a client with a 10 s timeout.
	HTTPClient *http.Client
	// Every is the time between two rounds of readings. Default
	// DefaultEvery.
	Every time.Duration
	// Concurrency bounds the requests in flight. Default
	// DefaultConcurrency.
	Concurrency int
	// StateDir is where the last readings are kept across restarts
	// (StateFile); empty keeps them in memory only.
	StateDir string
	// Logger receives the package's log lines, with component
	// "streamelements".
	Logger zerolog.Logger
	// Now and Sleep are the clock; defaults time.Now and a timer that
	// ctx cancels. Sleep returns ctx.Err() when ctx ends first.
	Now   func() time.Time
	Sleep func(ctx context.Context, d time.Duration) error
	// OnCredit, when set, is called once per stream for a channel where
	// farmd was present while live and StreamElements credited no watch
	// time. It is called on Run's goroutine and must not block.
	OnCredit func(Credit)
}

// Credit reports presence StreamElements did not credit: farmd was in
// Channel's chat for Present while it was live, between two readings, and
// the account's watch time stayed at WatchtimeMinutes.
type Credit struct {
	Channel          string
	Present          time.Duration
	WatchtimeMinutes int64
	// At is when the second reading was taken.
	At time.Time
}

// Reading is one answer of the points endpoint, for the chat account in
// one channel.
type Reading struct {
	Points        int64 `json:"points"`
	PointsAlltime int64 `json:"points_alltime"`
	// WatchtimeMinutes is StreamElements' watch time: every minute its
	// bot saw the account in the viewer list of the live channel.
	WatchtimeMinutes int64     `json:"watchtime_minutes"`
	Rank             int64     `json:"rank"`
	At               time.Time `json:"at"`
}

// Watcher reads the chat account's StreamElements points and watch time
// in the channels farmd is present in. Its methods are safe for concurrent
// use; the presence methods never block on I/O.
type Watcher struct {
	base        string // the API URL without a final slash; paths are appended escaped
	user        string
	hc          *http.Client
	every       time.Duration
	concurrency int
	path        string // the state file; "" without StateDir
	log         zerolog.Logger
	now         func() time.Time
	sleep       func(ctx context.Context, d time.Duration) error
	onCredit    func(Credit)

	mu        sync.Mutex
	channels  map[string]*channel
	notBefore time.Time // no request before this (a 429's Retry-After)
	dirty     bool      // the state file is behind
	saveErr   bool      // the last save failed (logged once)
}

// New returns a Watcher. It sends nothing: requests start with Run. New
// returns a nil Watcher and an error only for invalid options. A state
// file that cannot be read or decoded gives a Watcher that starts empty,
// with an error naming the file, for the caller to log.
func New(opts Options) (*Watcher, error) {
	if opts.APIURL == "" {
		opts.APIURL = DefaultAPIURL
	}
	api, err := url.Parse(strings.TrimRight(opts.APIURL, "/"))
	if err != nil || (api.Scheme != "http" && api.Scheme != "https") || api.Host == "" {
		return nil, fmt.Errorf("streamelements: api_url %q is not an http(s) URL", opts.APIURL)
	}
	user := twitch.NormalizeLogin(opts.User)
	if !twitch.ValidLogin(user) {
		return nil, fmt.Errorf("streamelements: user %q is not a Twitch login", opts.User)
	}
	if opts.Every < 0 || opts.Concurrency < 0 {
		return nil, errors.New("streamelements: every and concurrency must not be negative")
	}
	w := &Watcher{
		base:        api.String(),
		user:        user,
		hc:          opts.HTTPClient,
		every:       opts.Every,
		concurrency: opts.Concurrency,
		log:         opts.Logger.With().Str("component", "streamelements").Logger(),
		now:         opts.Now,
		sleep:       opts.Sleep,
		onCredit:    opts.OnCredit,
		channels:    map[string]*channel{},
	}
	if w.hc == nil {
		w.hc = &http.Client{Timeout: 10 * time.Second}
	}
	if w.every == 0 {
		w.every = DefaultEvery
	}
	if w.concurrency == 0 {
		w.concurrency = DefaultConcurrency
	}
	if w.now == nil {
		w.now = time.Now
	}
	if w.sleep == nil {
		w.sleep = backoff.Sleep
	}
	if opts.StateDir != "" {
		w.path = filepath.Join(opts.StateDir, StateFile)
		if err := w.load(); err != nil {
			return w, err
		}
	}
	return w, nil
}

// Run reads the channels farmd was present in every Options.Every until
// ctx ends, then returns nil. StreamElements trouble is logged, never
// returned.
func (w *Watcher) Run(ctx context.Context) error {
	for {
		if err := w.sleep(ctx, w.every); err != nil || ctx.Err() != nil {
			return nil
		}
		w.round(ctx)
	}
}
