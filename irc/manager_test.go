package irc

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/farmd/farmd/internal/testkit"
	"github.com/farmd/farmd/irc/irctest"
	"github.com/farmd/farmd/twitch"
)

func TestLoginSequence(t *testing.T) {
	tests := []struct {
		name  string
		token string
		tls   bool
	}{
		{"plain token", testToken, false},
		{"token with oauth prefix", "oauth:" + testToken, false},
		{"token with oauth prefix over TLS", "oauth:" + testToken, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			srv := newServer(t, irctest.Options{TLS: tc.tls})
			o := fastOptions(srv)
			o.Token = tc.token
			r := start(t, o)
			r.ev.waitEvent(t, EventConnected, "", 1)
			got := srv.Received()
			want := []string{
				"CAP REQ :twitch.tv/tags twitch.tv/commands",
				"PASS oauth:" + testToken,
				"NICK " + testUser,
			}
			if len(got) < len(want) || !slices.Equal(got[:len(want)], want) {
				t.Fatalf("first lines = %q, want %q", got, want)
			}
			if st := r.m.Status(); !st.Connected || st.Connects != 1 {
				t.Fatalf("status = %+v, want connected once", st)
			}
			if err := r.stop(t); err != nil {
				t.Fatalf("Run = %v, want nil", err)
			}
		})
	}
}

// TestNoJoinBeforeWelcome: channels set before Run are joined only after a
// 001, and an attempt that gets no 001 in time is retried.
func TestNoJoinBeforeWelcome(t *testing.T) {
	srv := newServer(t, irctest.Options{})
	srv.SetNoWelcome(true)
	o := fastOptions(srv)
	o.WelcomeTimeout = 100 * time.Millisecond
	m := New(o) // SetChannels before Run
	m.SetChannels([]string{"alpha", "#Beta"}, nil)
	rr := startManager(t, m)
	testkit.WaitChat(t, srv, "three connection attempts", func(s *irctest.Server) bool { return s.Connections() >= 3 })
	for _, l := range srv.Received() {
		if strings.HasPrefix(l, "JOIN") {
			t.Fatalf("received %q before any 001; lines: %q", l, srv.Received())
		}
	}
	if st, _ := channelState(m, "beta"); st.State != StateWaiting {
		t.Fatalf("beta state = %q, want %q", st.State, StateWaiting)
	}
	srv.SetNoWelcome(false)
	testkit.WaitChat(t, srv, "alpha and beta joined", joinedAre("alpha", "beta"))
	rr.ev.waitEvent(t, EventJoined, "beta", 1)
	if got := m.Status().ReconnectAttempts; got < 2 {
		t.Fatalf("ReconnectAttempts = %d, want >= 2", got)
	}
}

func TestJoinAndPart(t *testing.T) {
	srv := newServer(t, irctest.Options{})
	r := start(t, fastOptions(srv))
	r.m.SetChannels([]string{"alpha", "beta"}, nil)
	r.ev.waitEvent(t, EventJoined, "alpha", 1)
	r.ev.waitEvent(t, EventJoined, "beta", 1)
	for _, c := range []string{"alpha", "beta"} {
		if st, ok := channelState(r.m, c); !ok || st.State != StateJoined {
			t.Fatalf("%s status = %+v, want joined", c, st)
		}
	}

	r.m.SetChannels([]string{"beta", "gamma"}, nil)
	r.ev.waitEvent(t, EventParted, "alpha", 1)
	testkit.WaitChat(t, srv, "beta and gamma joined", joinedAre("beta", "gamma"))
	r.ev.waitEvent(t, EventJoined, "gamma", 1)

	lines := srv.Received()
	part, join := indexOf(lines, "PART #alpha"), indexOf(lines, "JOIN #gamma")
	if part < 0 || join < 0 || part > join {
		t.Fatalf("PART #alpha at %d, JOIN #gamma at %d, want the PART first; lines %q", part, join, lines)
	}
	st := r.m.Status()
	var names []string
	for _, c := range st.Channels {
		names = append(names, c.Name)
	}
	if !slices.Equal(names, []string{"beta", "gamma"}) {
		t.Fatalf("status channels = %q, want [beta gamma]", names)
	}
	if st.JoinsSent != 3 || st.PartsSent != 1 {
		t.Fatalf("JoinsSent, PartsSent = %d, %d, want 3, 1", st.JoinsSent, st.PartsSent)
	}
	if n := joinsOf(srv, "beta"); n != 1 {
		t.Fatalf("beta joined %d times, want 1 (it stayed wanted)", n)
	}
}

func TestPingIsAnswered(t *testing.T) {
	tests := []struct{ name, payload string }{
		{"twitch payload", "tmi.twitch.tv"},
		{"payload with spaces", "one two three"},
	}
	srv := newServer(t, irctest.Options{})
	r := start(t, fastOptions(srv))
	r.ev.waitEvent(t, EventConnected, "", 1)
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			srv.SendPing(tc.payload)
			testkit.WaitChat(t, srv, "PONG "+tc.payload, func(s *irctest.Server) bool {
				return slices.Contains(s.Pongs(), tc.payload)
			})
		})
	}
}

// TestReconnectRejoins: a dropped connection or RECONNECT leads to a new
// connection on which every wanted channel is joined again.
func TestReconnectRejoins(t *testing.T) {
	tests := []struct {
		name    string
		trigger func(*irctest.Server)
	}{
		{"connection dropped", (*irctest.Server).Drop},
		{"server sends RECONNECT", (*irctest.Server).SendReconnect},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			srv := newServer(t, irctest.Options{})
			r := start(t, fastOptions(srv))
			chans := []string{"alpha", "beta", "gamma"}
			r.m.SetChannels(chans, nil)
			testkit.WaitChat(t, srv, "all joined", joinedAre(chans...))
			for _, c := range chans {
				// The server echoed; wait until the manager has seen it.
				r.ev.waitEvent(t, EventJoined, c, 1)
			}

			tc.trigger(srv)
			r.ev.waitEvent(t, EventDisconnected, "", 1)
			testkit.WaitChat(t, srv, "second login", func(s *irctest.Server) bool { return s.Logins() == 2 })
			testkit.WaitChat(t, srv, "all joined again", func(s *irctest.Server) bool {
				return slices.Equal(s.Joined(), chans) && joinsOf(s, "gamma") == 2
			})
			for _, c := range chans {
				r.ev.waitEvent(t, EventJoined, c, 2)
				if n := joinsOf(srv, c); n != 2 {
					t.Fatalf("%s joined %d times, want 2", c, n)
				}
			}
			st := r.m.Status()
			if st.Connects != 2 || st.Disconnects != 1 || st.ReconnectAttempts != 1 {
				t.Fatalf("connects, disconnects, reconnect attempts = %d, %d, %d, want 2, 1, 1",
					st.Connects, st.Disconnects, st.ReconnectAttempts)
			}
			if got := srv.Connections(); got != 2 {
				t.Fatalf("server saw %d connections, want 2", got)
			}
		})
	}
}

// TestClientPing: after PingInterval of silence the client PINGs; a server
// that answers keeps the connection, one that stays silent loses it.
func TestClientPing(t *testing.T) {
	tests := []struct {
		name          string
		ignore        bool
		wantReconnect bool
	}{
		{"answered pings keep the connection", false, false},
		{"unanswered ping reconnects", true, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			srv := newServer(t, irctest.Options{})
			srv.SetIgnorePings(tc.ignore)
			o := fastOptions(srv)
			o.PingInterval = 30 * time.Millisecond
			o.PongTimeout = 30 * time.Millisecond
			lb := testkit.NewLogBuffer()
			o.Logger = lb.Logger()
			t.Cleanup(func() {
				if t.Failed() {
					t.Log(lb.String())
				}
			})
			r := start(t, o)
			if tc.wantReconnect {
				testkit.WaitChat(t, srv, "a reconnect", func(s *irctest.Server) bool { return s.Logins() >= 2 })
				r.ev.waitEvent(t, EventDisconnected, "", 1)
				return
			}
			testkit.WaitChat(t, srv, "three client PINGs", func(s *irctest.Server) bool {
				return countLines(s, "PING :farmd") >= 3
			})
			if got := srv.Connections(); got != 1 {
				t.Fatalf("connections = %d, want 1 (pongs were answered)", got)
			}
			if n := r.ev.count(EventDisconnected, ""); n != 0 {
				t.Fatalf("%d disconnects, want 0", n)
			}
		})
	}
}

func TestLoginRejected(t *testing.T) {
	tests := []struct {
		name   string
		token  string
		reject bool
	}{
		{"server refuses", testToken, true},
		{"wrong token", "oauth:wrongtoken42", false},
		{"empty token: improperly formatted auth", "", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			srv := newServer(t, irctest.Options{})
			srv.SetRejectLogin(tc.reject)
			o := fastOptions(srv)
			o.Token = tc.token
			r := start(t, o)
			err := r.result(t)
			if !errors.Is(err, ErrLoginRejected) {
				t.Fatalf("Run = %v, want ErrLoginRejected", err)
			}
			if !strings.Contains(err.Error(), "IRC token was rejected") {
				t.Fatalf("error %q does not say the IRC token was rejected", err)
			}
			if tok := twitch.StripOAuthPrefix(tc.token); tok != "" && strings.Contains(err.Error(), tok) {
				t.Fatalf("error %q contains the token", err)
			}
			if got := srv.Connections(); got != 1 {
				t.Fatalf("connections = %d, want exactly 1", got)
			}
		})
	}
}

// TestUnavailableChannel: a refusing NOTICE marks the channel unavailable,
// reports it once and stops JOINs, across reconnects, until the channel
// leaves the wanted set and comes back.
func TestUnavailableChannel(t *testing.T) {
	srv := newServer(t, irctest.Options{})
	srv.SetNotice("gone", "msg_channel_suspended", "This channel has been suspended.")
	srv.SetSilent("ghost", true)
	o := fastOptions(srv)
	o.JoinTimeout = 50 * time.Millisecond
	r := start(t, o)
	r.m.SetChannels([]string{"gone", "ghost", "alpha"}, nil)
	r.ev.waitEvent(t, EventUnavailable, "gone", 1)
	r.ev.waitEvent(t, EventJoined, "alpha", 1)
	// ghost's timeout proves a JoinTimeout has passed since gone's JOIN.
	r.ev.waitEvent(t, EventJoinTimeout, "ghost", 1)
	if n := r.ev.count(EventJoinTimeout, "gone"); n != 0 {
		t.Fatalf("gone timed out %d times, want 0 (it is unavailable)", n)
	}
	st, _ := channelState(r.m, "gone")
	if st.State != StateUnavailable || st.Reason != "msg_channel_suspended" {
		t.Fatalf("gone status = %+v, want unavailable msg_channel_suspended", st)
	}
	var ev Event
	list, _ := r.ev.snapshot()
	for _, e := range list {
		if e.Kind == EventUnavailable {
			ev = e
		}
	}
	if ev.Reason != "msg_channel_suspended" {
		t.Fatalf("event reason = %q, want msg_channel_suspended", ev.Reason)
	}

	srv.Drop()
	r.ev.waitEvent(t, EventJoined, "alpha", 2)
	if n := joinsOf(srv, "gone"); n != 1 {
		t.Fatalf("gone JOINed %d times after a reconnect, want 1", n)
	}

	// SetChannels is latest-wins: wait for the set without gone to be
	// applied (delta joined) before bringing gone back.
	r.m.SetChannels([]string{"ghost", "alpha", "delta"}, nil)
	r.ev.waitEvent(t, EventJoined, "delta", 1)
	if _, ok := channelState(r.m, "gone"); ok {
		t.Fatalf("gone still in status after leaving the wanted set")
	}
	r.m.SetChannels([]string{"gone", "ghost", "alpha", "delta"}, nil)
	r.ev.waitEvent(t, EventUnavailable, "gone", 2)
	if n := joinsOf(srv, "gone"); n != 2 {
		t.Fatalf("gone JOINed %d times after coming back, want 2", n)
	}
}

// TestJoinTimeoutRetries: an unanswered JOIN is reported and retried, and
// joins once the server answers.
func TestJoinTimeoutRetries(t *testing.T) {
	srv := newServer(t, irctest.Options{})
	srv.SetSilent("ghost", true)
	o := fastOptions(srv)
	o.JoinTimeout = 30 * time.Millisecond
	r := start(t, o)
	r.m.SetChannels([]string{"ghost"}, nil)
	r.ev.waitEvent(t, EventJoinTimeout, "ghost", 1)
	testkit.WaitChat(t, srv, "a second JOIN #ghost", func(s *irctest.Server) bool { return joinsOf(s, "ghost") >= 2 })
	srv.SetSilent("ghost", false)
	r.ev.waitEvent(t, EventJoined, "ghost", 1)
	if st, _ := channelState(r.m, "ghost"); st.State != StateJoined {
		t.Fatalf("ghost state = %q, want joined", st.State)
	}
}

// TestJoinRateLimit: channels against a server enforcing 20 per window
// are all joined, in priority order, without a violation, also when a
// reconnect makes the account JOIN everything again within the window.
func TestJoinRateLimit(t *testing.T) {
	const limit = 20
	tests := []struct {
		name     string
		channels int
		window   time.Duration
		drop     bool
	}{
		{"25 channels", 25, 300 * time.Millisecond, false},
		{"rejoin after a drop counts the earlier JOINs", 15, time.Second, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			srv := newServer(t, irctest.Options{JoinLimit: limit, JoinWindow: tc.window, EnforceJoinLimit: true})
			o := fastOptions(srv)
			o.JoinLimit, o.JoinWindow = limit, tc.window
			r := start(t, o)
			var chans []string
			for i := range tc.channels {
				chans = append(chans, fmt.Sprintf("chan%02d", i))
			}
			last := chans[len(chans)-1]
			r.ev.waitEvent(t, EventConnected, "", 1)
			r.m.SetChannels(chans, nil)
			testkit.WaitChat(t, srv, "all channels joined", joinedAre(chans...))
			r.ev.waitEvent(t, EventJoined, last, 1)
			wantConns := 1
			if tc.drop {
				srv.Drop()
				testkit.WaitChat(t, srv, "all channels joined again", func(s *irctest.Server) bool {
					return slices.Equal(s.Joined(), chans) && joinsOf(s, last) == 2
				})
				r.ev.waitEvent(t, EventJoined, last, 2)
				wantConns = 2
			}
			if v := srv.Violations(); v != 0 {
				t.Fatalf("violations = %d, want 0", v)
			}
			if c := srv.Connections(); c != wantConns {
				t.Fatalf("connections = %d, want %d", c, wantConns)
			}
			log := srv.JoinLog()
			var order []string
			for i, rec := range log {
				order = append(order, rec.Channels...)
				n := 0
				for _, later := range log[i:] {
					if later.Time.Sub(rec.Time) < tc.window {
						n += len(later.Channels)
					}
				}
				if n > limit {
					t.Fatalf("%d channel JOINs in the window from JOIN %d, limit %d", n, i, limit)
				}
			}
			want := chans
			if tc.drop {
				want = append(slices.Clone(chans), chans...)
			}
			if !slices.Equal(order, want) {
				t.Fatalf("JOIN order = %q, want priority order %q", order, want)
			}
			if st, _ := channelState(r.m, last); st.State != StateJoined {
				t.Fatalf("%s state = %q, want joined", last, st.State)
			}
		})
	}
}

// TestShutdown: cancelling Run PARTs the joined channels and returns nil,
// also when the server has hung.
func TestShutdown(t *testing.T) {
	tests := []struct {
		name   string
		frozen bool
	}{
		{"server answers", false},
		{"server hung", true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			srv := newServer(t, irctest.Options{})
			o := fastOptions(srv)
			o.ShutdownTimeout = 200 * time.Millisecond
			r := start(t, o)
			r.m.SetChannels([]string{"alpha", "beta"}, nil)
			testkit.WaitChat(t, srv, "joined", joinedAre("alpha", "beta"))
			srv.SetFrozen(tc.frozen)
			if err := r.stop(t); err != nil {
				t.Fatalf("Run = %v, want nil", err)
			}
			for _, l := range []string{"PART #alpha", "PART #beta"} {
				if c := countLines(srv, l); c != 1 {
					t.Fatalf("%q lines = %d, want 1; received %q", l, c, srv.Received())
				}
			}
			wantParted := 2
			if tc.frozen {
				wantParted = 0
			}
			if n := r.ev.count(EventParted, ""); n != wantParted {
				t.Fatalf("parted events = %d, want %d", n, wantParted)
			}
			testkit.WaitChat(t, srv, "connection closed", joinedAre())
		})
	}
}

// TestCancelBeforeConnected: Run returns nil at once when cancelled while
// waiting for the welcome or backing off.
func TestCancelBeforeConnected(t *testing.T) {
	tests := []struct {
		name  string
		setup func(t *testing.T) (Options, func(*running, *testkit.LogBuffer))
	}{
		{"waiting for 001", func(t *testing.T) (Options, func(*running, *testkit.LogBuffer)) {
			srv := newServer(t, irctest.Options{})
			srv.SetNoWelcome(true)
			o := fastOptions(srv)
			o.WelcomeTimeout = time.Hour
			return o, func(*running, *testkit.LogBuffer) {
				testkit.WaitChat(t, srv, "NICK", func(s *irctest.Server) bool { return countLines(s, "NICK "+testUser) == 1 })
			}
		}},
		{"backing off", func(t *testing.T) (Options, func(*running, *testkit.LogBuffer)) {
			srv := newServer(t, irctest.Options{})
			o := fastOptions(srv)
			srv.Close() // nothing listens there any more
			o.BackoffMin, o.BackoffMax = time.Hour, time.Hour
			return o, func(_ *running, lb *testkit.LogBuffer) { lb.WaitContains(t, "reconnecting") }
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			o, ready := tc.setup(t)
			lb := testkit.NewLogBuffer()
			o.Logger = lb.Logger()
			r := start(t, o)
			ready(r, lb)
			if err := r.stop(t); err != nil {
				t.Fatalf("Run = %v, want nil", err)
			}
		})
	}
}

// TestFlood: a 10,000-line chat flood does not disturb JOIN/PART handling.
func TestFlood(t *testing.T) {
	srv := newServer(t, irctest.Options{})
	r := start(t, fastOptions(srv))
	r.m.SetChannels([]string{"alpha", "beta"}, nil)
	testkit.WaitChat(t, srv, "joined", joinedAre("alpha", "beta"))
	srv.Flood("alpha", 10000)
	r.m.SetChannels([]string{"beta", "gamma"}, nil)
	testkit.WaitChat(t, srv, "beta and gamma", joinedAre("beta", "gamma"))
	r.ev.waitEvent(t, EventJoined, "gamma", 1)
	r.ev.waitEvent(t, EventParted, "alpha", 1)
	srv.SendPing("after-flood")
	testkit.WaitChat(t, srv, "pong after flood", func(s *irctest.Server) bool { return slices.Contains(s.Pongs(), "after-flood") })
	if c := srv.Connections(); c != 1 {
		t.Fatalf("connections = %d, want 1", c)
	}
}

// TestHostileLines: over-long lines and invalid UTF-8 are skipped without
// losing the connection.
func TestHostileLines(t *testing.T) {
	tests := []struct{ name, line string }{
		{"over 64 KiB", ":x!x@x PRIVMSG #alpha :" + strings.Repeat("A", 100<<10)},
		{"over 64 KiB looking like PING", "PING :" + strings.Repeat("B", 70<<10)},
		{"long but allowed", "@msg-id=foo :tmi.twitch.tv NOTICE #alpha :" + strings.Repeat("C", 20<<10)},
		{"invalid utf-8", "\xff\xfe\xfd :\xc3\x28 JOIN #\xff"},
		{"empty", ""},
	}
	srv := newServer(t, irctest.Options{})
	r := start(t, fastOptions(srv))
	r.m.SetChannels([]string{"alpha"}, nil)
	testkit.WaitChat(t, srv, "joined", joinedAre("alpha"))
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			srv.Send(tc.line)
			srv.SendPing(tc.name)
			testkit.WaitChat(t, srv, "pong", func(s *irctest.Server) bool { return slices.Contains(s.Pongs(), tc.name) })
			for _, p := range srv.Pongs() {
				if strings.HasPrefix(p, "BBBB") {
					t.Fatalf("answered the over-long PING")
				}
			}
		})
	}
	if c := srv.Connections(); c != 1 {
		t.Fatalf("connections = %d, want 1", c)
	}
	if st, _ := channelState(r.m, "alpha"); st.State != StateJoined {
		t.Fatalf("alpha state = %q, want joined", st.State)
	}
}

// TestTokenNeverLogged runs a session with debug logging, a reconnect and a
// rejected login, and looks for the token in every log line and error.
func TestTokenNeverLogged(t *testing.T) {
	srv := newServer(t, irctest.Options{})
	lb := testkit.NewLogBuffer()
	o := fastOptions(srv)
	o.Token = "oauth:" + testToken
	o.Logger = lb.Logger()
	r := start(t, o)
	r.m.SetChannels([]string{"alpha"}, nil)
	testkit.WaitChat(t, srv, "joined", joinedAre("alpha"))
	srv.SetRejectLogin(true)
	srv.Drop()
	err := r.result(t)
	if !errors.Is(err, ErrLoginRejected) {
		t.Fatalf("Run = %v, want ErrLoginRejected", err)
	}
	logs := lb.String()
	if !strings.Contains(logs, "PASS oauth:<redacted>") {
		t.Fatalf("debug log of sent lines missing, so the test proves nothing:\n%s", logs)
	}
	for _, s := range []string{logs, err.Error()} {
		if strings.Contains(s, testToken) {
			t.Fatalf("token found in %q", s)
		}
	}
	if c := countLines(srv, "PASS oauth:"+testToken); c != 2 {
		t.Fatalf("server got %d PASS lines with the token, want 2", c)
	}
}

// TestTimersUseInjectedClock: JOIN confirmation, JOIN retry and the
// reconnect backoff are measured on the injected clock, so moving that clock
// past each deadline acts on it without any real time passing.
func TestTimersUseInjectedClock(t *testing.T) {
	srv := newServer(t, irctest.Options{})
	srv.SetSilent("ghost", true)
	clk := testkit.NewClock()
	o := fastOptions(srv)
	o.Clock = clk
	o.JoinTimeout = time.Hour // also the first retry delay
	o.BackoffMin, o.BackoffMax = time.Hour, time.Hour
	// No client PING in the hours this test skips: an answer racing the
	// clock would make the connection look dead.
	o.PingInterval = 100 * time.Hour
	lb := testkit.NewLogBuffer()
	o.Logger = lb.Logger()
	r := start(t, o)
	r.m.SetChannels([]string{"ghost"}, nil)
	testkit.WaitChat(t, srv, "JOIN #ghost", func(s *irctest.Server) bool { return joinsOf(s, "ghost") == 1 })
	clk.Advance(time.Hour)
	r.ev.waitEvent(t, EventJoinTimeout, "ghost", 1)
	clk.Advance(time.Hour)
	testkit.WaitChat(t, srv, "JOIN #ghost retried", func(s *irctest.Server) bool { return joinsOf(s, "ghost") == 2 })

	srv.Drop()
	lb.WaitContains(t, "connection lost, reconnecting")
	if got := srv.Connections(); got != 1 {
		t.Fatalf("connections = %d before the clock reached the backoff, want 1", got)
	}
	clk.Advance(time.Hour)
	testkit.WaitChat(t, srv, "a second login", func(s *irctest.Server) bool { return s.Logins() == 2 })
}

// TestWelcomeTimeoutCoversDial: WelcomeTimeout bounds the whole attempt,
// dial and login included, so a slow dial leaves the welcome wait only what
// is left of it.
func TestWelcomeTimeoutCoversDial(t *testing.T) {
	srv := newServer(t, irctest.Options{})
	srv.SetNoWelcome(true)
	clk := testkit.NewClock()
	o := fastOptions(srv)
	o.Clock = clk
	o.WelcomeTimeout = time.Minute
	o.PingInterval = time.Hour
	o.BackoffMin, o.BackoffMax = time.Hour, time.Hour
	lb := testkit.NewLogBuffer()
	o.Logger = lb.Logger()
	m := New(o)
	m.dial = func(ctx context.Context, o Options, log zerolog.Logger) (*conn, error) {
		clk.Advance(45 * time.Second) // a slow TLS handshake
		return dial(ctx, o, log)
	}
	startManager(t, m)
	testkit.WaitChat(t, srv, "NICK", func(s *irctest.Server) bool { return countLines(s, "NICK "+testUser) == 1 })
	clk.Advance(30 * time.Second) // 75 s since the attempt began
	lb.WaitContains(t, "connection attempt failed, reconnecting")
	if !strings.Contains(lb.String(), "no welcome (001) from server within 1m0s") {
		t.Fatalf("attempt did not fail for want of a welcome:\n%s", testkit.Tail(lb.String(), 5))
	}
}

// TestShutdownSkipsRefusedChannels: a channel Twitch refused was never
// joined, so shutdown has nothing to PART there, just as leaving it while
// running has not.
func TestShutdownSkipsRefusedChannels(t *testing.T) {
	srv := newServer(t, irctest.Options{})
	srv.SetNotice("gone", "msg_channel_suspended", "This channel has been suspended.")
	r := start(t, fastOptions(srv))
	r.m.SetChannels([]string{"gone", "alpha"}, nil)
	r.ev.waitEvent(t, EventUnavailable, "gone", 1)
	r.ev.waitEvent(t, EventJoined, "alpha", 1)
	if err := r.stop(t); err != nil {
		t.Fatalf("Run = %v, want nil", err)
	}
	if n := countLines(srv, "PART #gone"); n != 0 {
		t.Fatalf("PART #gone sent %d times at shutdown, want 0; received %q", n, srv.Received())
	}
	if n := countLines(srv, "PART #alpha"); n != 1 {
		t.Fatalf("PART #alpha sent %d times at shutdown, want 1", n)
	}
}

// TestPartUsesNormalisedName: a channel wanted as "#Alpha" is joined and
// left as "alpha", the one form Twitch knows, so the PART matches the JOIN.
func TestPartUsesNormalisedName(t *testing.T) {
	srv := newServer(t, irctest.Options{})
	r := start(t, fastOptions(srv))
	r.m.SetChannels([]string{" #Alpha "}, nil)
	r.ev.waitEvent(t, EventJoined, "alpha", 1)
	r.m.SetChannels(nil, nil)
	r.ev.waitEvent(t, EventParted, "alpha", 1)
	for _, want := range []string{"JOIN #alpha", "PART #alpha"} {
		if n := countLines(srv, want); n != 1 {
			t.Fatalf("%q received %d times, want 1; received %q", want, n, srv.Received())
		}
	}
}

// TestAlive: Alive answers while the manager is connected, backing off or
// waiting for the welcome, and stops answering when its goroutine is
// wedged (here: in an OnEvent callback that never returns), so the
// watchdog can tell.
func TestAlive(t *testing.T) {
	alive := func(m *Manager) error {
		ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
		defer cancel()
		return m.Alive(ctx)
	}
	t.Run("connected", func(t *testing.T) {
		srv := newServer(t, irctest.Options{})
		r := start(t, fastOptions(srv))
		r.ev.waitEvent(t, EventConnected, "", 1)
		if err := alive(r.m); err != nil {
			t.Errorf("Alive while connected: %v", err)
		}
	})
	t.Run("backing off", func(t *testing.T) {
		srv := newServer(t, irctest.Options{})
		o := fastOptions(srv)
		srv.Close()
		o.BackoffMin, o.BackoffMax = time.Hour, time.Hour
		lb := testkit.NewLogBuffer()
		o.Logger = lb.Logger()
		r := start(t, o)
		lb.WaitContains(t, "reconnecting")
		if err := alive(r.m); err != nil {
			t.Errorf("Alive while backing off: %v", err)
		}
	})
	t.Run("wedged", func(t *testing.T) {
		srv := newServer(t, irctest.Options{})
		release := make(chan struct{})
		wedged := make(chan struct{})
		m := New(fastOptions(srv))
		var once sync.Once
		m.o.OnEvent = func(ev Event) {
			if ev.Kind == EventConnected {
				once.Do(func() { close(wedged) })
				<-release
			}
		}
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { done <- m.Run(ctx) }()
		defer func() { close(release); cancel(); <-done }()
		<-wedged
		if err := alive(m); err == nil {
			t.Error("Alive answered while the manager's goroutine is stuck in a callback")
		}
	})
}

// TestRejectedLoginWithRenewableToken: with a TokenSource and an
// OnLoginRejected that renews it, a refused login is followed by a new
// connection with the new token instead of an exit; the open connection
// keeps its token until the next one. Without a renewal, Run returns
// ErrLoginRejected as before.
func TestRejectedLoginWithRenewableToken(t *testing.T) {
	var mu sync.Mutex
	valid := map[string]bool{"newtoken": true}
	srv := newServer(t, irctest.Options{Token: "newtoken", CheckToken: func(tok string) (string, bool) {
		mu.Lock()
		defer mu.Unlock()
		return testUser, valid[tok]
	}})
	current := "oldtoken"
	var rejected []string
	o := fastOptions(srv)
	o.TokenSource = func() string { mu.Lock(); defer mu.Unlock(); return current }
	o.OnLoginRejected = func(tok string) bool {
		mu.Lock()
		defer mu.Unlock()
		rejected = append(rejected, tok)
		current = "newtoken"
		return true
	}
	r := start(t, o)
	r.ev.waitEvent(t, EventConnected, "", 1)
	mu.Lock()
	got := slices.Clone(rejected)
	mu.Unlock()
	if len(got) != 1 || got[0] != "oldtoken" {
		t.Errorf("OnLoginRejected got %q, want [oldtoken]", got)
	}
	if n := countLines(srv, "PASS oauth:newtoken"); n != 1 {
		t.Errorf("%d logins with the new token, want 1", n)
	}

	t.Run("not renewed", func(t *testing.T) {
		srv := newServer(t, irctest.Options{CheckToken: func(string) (string, bool) { return "", false }})
		o := fastOptions(srv)
		o.OnLoginRejected = func(string) bool { return false }
		r := start(t, o)
		select {
		case err := <-r.done:
			r.done <- err
			if !errors.Is(err, ErrLoginRejected) {
				t.Errorf("Run = %v, want ErrLoginRejected", err)
			}
		case <-time.After(testkit.WaitMax):
			t.Fatal("Run did not return after a rejected login that was not renewed")
		}
	})
}

// TestStatusSinceBeforeFirstConnection: Status.Since is zero until the
// first connection (there is no "disconnected since" before it), then the
// time of the welcome.
func TestStatusSinceBeforeFirstConnection(t *testing.T) {
	srv := newServer(t, irctest.Options{})
	srv.SetNoWelcome(true)
	m := New(fastOptions(srv))
	r := startManager(t, m)
	testkit.WaitChat(t, srv, "NICK", func(s *irctest.Server) bool { return countLines(s, "NICK "+testUser) >= 1 })
	if st := m.Status(); st.Connected || !st.Since.IsZero() {
		t.Errorf("Status while the first login waits = connected %v since %v, want false and zero", st.Connected, st.Since)
	}
	srv.SetNoWelcome(false)
	srv.Drop()
	r.ev.waitEvent(t, EventConnected, "", 1)
	if st := m.Status(); !st.Connected || st.Since.IsZero() {
		t.Errorf("Status when connected = %v since %v, want true and set", st.Connected, st.Since)
	}
}
