// Package ops serves farmd's operations endpoints over HTTP: /healthz for
// Docker and load balancers, / (a status page) and /status (JSON) for a
// person asking "why am I not in #x?", and /metrics for Prometheus. The
// listener has no authentication: it belongs on loopback or a private
// network.
//
// Everything is read at request time from the running components (the
// presence engine's snapshot, the IRC manager's status, the Helix client's
// counters), so the endpoints hold no state of their own except the poll
// metrics, which ObservePoll feeds, and the status page's History of the
// last 24 hours.
package ops

import (
	"context"
	"errors"
	"net"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/rs/zerolog"

	"github.com/farmd/farmd/eventsub"
	"github.com/farmd/farmd/helix"
	"github.com/farmd/farmd/irc"
	"github.com/farmd/farmd/presence"
	"github.com/farmd/farmd/streamelements"
)

// Presence is what ops reads of the presence engine.
type Presence interface {
	// Summary is cheap (no per-streamer list); /healthz uses it.
	Summary() presence.Snapshot
	Snapshot() presence.Snapshot
}

// Chat is what ops reads of the IRC manager.
type Chat interface {
	Status() irc.Status
}

// API is what ops reads of the Helix client.
type API interface {
	RateLimit() helix.RateLimit
	Stats() helix.Stats
}

// Options configure a Server.
type Options struct {
	Presence Presence
	Chat     Chat
	API      API
	// Interval returns the poll interval in force (it changes on reload).
	Interval func() time.Duration
	// Starting, if set, says what farmd is doing before it runs (checking
	// its tokens, waiting for Twitch to answer); /healthz answers 503 with
	// it while it is not empty.
	Starting func() string
	// Token, if set, describes the chat token.
	Token func() TokenStatus
	// EventSub, if set, describes the EventSub client (nil: polling only).
	EventSub func() eventsub.Status
	// Points, if set, gives the StreamElements readings per channel.
	Points func() []streamelements.Channel
	// History, if set, feeds the status page's timeline and last events;
	// RunHistory keeps it.
	History *History
	// Page, if set, adds to the status page what /status does not carry
	// (PageExtras); it is called at every page view and must not block.
	Page func() PageExtras
	// Version is shown at / and in farmd_build_info.
	Version string
	Logger  zerolog.Logger
	// Now defaults to time.Now.
	Now func() time.Time
}

// Server serves the endpoints.
type Server struct {
	o       Options
	reg     *prometheus.Registry
	metrics *pollMetrics
	mux     *http.ServeMux
}

// New returns a Server; Handler serves its endpoints and Run listens.
func New(o Options) *Server {
	if o.Now == nil {
		o.Now = time.Now
	}
	s := &Server{o: o, reg: prometheus.NewRegistry(), metrics: newPollMetrics()}
	s.reg.MustRegister(s.metrics.collectors()...)
	s.reg.MustRegister(&stateCollector{s: s})
	s.mux = http.NewServeMux()
	s.mux.HandleFunc("GET /healthz", s.healthz)
	s.mux.HandleFunc("GET /status", s.status)
	s.mux.Handle("GET /metrics", promhttp.HandlerFor(s.reg, promhttp.HandlerOpts{}))
	s.mux.HandleFunc("GET /{$}", s.page)
	return s
}

// Handler returns the HTTP handler of the endpoints.
func (s *Server) Handler() http.Handler { return s.mux }

// ObservePoll records a finished poll cycle in the metrics.
func (s *Server) ObservePoll(r presence.PollResult) { s.metrics.observe(r) }

// Listen opens the listener on addr, so that a bad address or a port in use
// is reported at start rather than in the background.
func Listen(addr string) (net.Listener, error) {
	return net.Listen("tcp", addr)
}

// Serve serves on ln until ctx is cancelled, then shuts down gracefully.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	srv := &http.Server{
		Handler:           s.mux,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       10 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       60 * time.Second,
		MaxHeaderBytes:    16 << 10,
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	s.o.Logger.Info().Str("component", "http").Str("address", ln.Addr().String()).Msg("serving the status page, /healthz, /status and /metrics (no authentication: keep it on loopback or a private network)")
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		srv.Close()
	}
	if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}
