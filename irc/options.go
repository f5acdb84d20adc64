package irc

import (
	"crypto/tls"
	"time"

	"github.com/rs/zerolog"

	"github.com/farmd/farmd/twitch"
)

// DefaultAddress is Twitch's IRC server with TLS, used when Options.Address
// is empty. It is twitch.DefaultIRCAddress, kept here so callers of this
// package need not import twitch for it.
const DefaultAddress = twitch.DefaultIRCAddress

// Options configure a Manager. Zero durations and limits take the defaults
// noted on each field.
type Options struct {
	// Address is host:port. Empty means DefaultAddress with TLS.
	Address string
	// TLS dials with TLS.
	TLS bool
	// TLSConfig is optional; tests pass one trusting irctest's certificate.
	TLSConfig *tls.Config
	// Username is the account's login (twitch.NormalizeLogin applies).
	Username string
	// Token is the account's user token, with or without "oauth:"
	// (twitch.StripOAuthPrefix). It is sent only in PASS, as
	// twitch.ChatPassword, and never logged.
	Token string
	// TokenSource, if set, is asked for the token at every connection
	// instead of Token: a renewed token is used from the next connection
	// on (an open connection is not dropped to change tokens).
	TokenSource func() string
	// OnLoginRejected, if set, is called when Twitch refuses the login made
	// with token. If it returns true (a renewed token may come), Run
	// reconnects with backoff instead of returning ErrLoginRejected.
	OnLoginRejected func(token string) bool

	// JoinLimit channel JOINs in any JoinWindow (default 20 per 10 s; 2000
	// for verified bots). A margin of a tenth of the window is added to
	// absorb network jitter, since Twitch counts when lines arrive.
	JoinLimit  int
	JoinWindow time.Duration
	// JoinTimeout is how long a JOIN may wait for its echo (default 30 s);
	// retries back off from JoinTimeout up to JoinRetryMax (default 10 min).
	JoinTimeout  time.Duration
	JoinRetryMax time.Duration

	// BackoffMin and BackoffMax bound the delay between connection attempts
	// (default 1 s and 2 min). The backoff resets once a connection has been
	// welcomed for HealthyAfter (default 1 min).
	BackoffMin, BackoffMax time.Duration
	HealthyAfter           time.Duration

	// PingInterval is the idle time after which the client sends PING
	// (default 60 s); PongTimeout is how long it then waits for any line
	// (default 15 s); WelcomeTimeout is how long a connection attempt may
	// take up to the 001 welcome (default 20 s).
	PingInterval, PongTimeout, WelcomeTimeout time.Duration
	// WriteTimeout bounds each write (default 10 s); ShutdownTimeout bounds
	// the PARTs and the wait for their echoes when Run's context is
	// cancelled (default 1.5 s).
	WriteTimeout, ShutdownTimeout time.Duration

	// Logger receives the manager's logs under component=irc. The zero
	// value discards them.
	Logger zerolog.Logger
	// Clock is the time every timeout, retry and rate limit is measured on
	// (default the wall clock); tests pass a fake one. See Clock for the
	// socket deadlines that stay on the real clock.
	Clock Clock
	// OnEvent, if set, is called from the manager goroutine; it must not
	// block.
	OnEvent func(Event)
}

func (o Options) withDefaults() Options {
	if o.Address == "" {
		o.Address, o.TLS = DefaultAddress, true
	}
	o.Username = twitch.NormalizeLogin(o.Username)
	o.Token = twitch.StripOAuthPrefix(o.Token)
	setDur := func(d *time.Duration, def time.Duration) {
		if *d <= 0 {
			*d = def
		}
	}
	if o.JoinLimit <= 0 {
		o.JoinLimit = 20
	}
	setDur(&o.JoinWindow, 10*time.Second)
	setDur(&o.JoinTimeout, 30*time.Second)
	setDur(&o.JoinRetryMax, 10*time.Minute)
	setDur(&o.BackoffMin, time.Second)
	setDur(&o.BackoffMax, 2*time.Minute)
	setDur(&o.HealthyAfter, time.Minute)
	setDur(&o.PingInterval, 60*time.Second)
	setDur(&o.PongTimeout, 15*time.Second)
	setDur(&o.WelcomeTimeout, 20*time.Second)
	setDur(&o.WriteTimeout, 10*time.Second)
	setDur(&o.ShutdownTimeout, 1500*time.Millisecond)
	if o.Clock == nil {
		o.Clock = realClock{}
	}
	if o.OnEvent == nil {
		o.OnEvent = func(Event) {}
	}
	return o
}
