package main

import (
	"cmp"
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/farmd/farmd/backoff"
	"github.com/farmd/farmd/helix"
	"github.com/farmd/farmd/helix/helixtest"
	"github.com/farmd/farmd/internal/testkit"
	"github.com/farmd/farmd/irc"
	"github.com/farmd/farmd/irc/irctest"
)

// The fault matrix beyond e2e_test.go's behaviours: each test drives the real
// wiring (run) against helixtest and irctest. RELIABILITY.md lists them.

// chain applies each non-nil tuning in order.
func chain(fs ...func(*tuning)) func(*tuning) {
	return func(t *tuning) {
		for _, f := range fs {
			if f != nil {
				f(t)
			}
		}
	}
}

// ircTune adjusts the IRC options on top of testTuning's.
func ircTune(f func(*irc.Options)) func(*tuning) {
	return func(t *tuning) {
		prev := t.irc
		t.irc = func(o *irc.Options) { prev(o); f(o) }
	}
}

// helixTune adjusts the Helix options on top of testTuning's.
func helixTune(f func(*helix.Options)) func(*tuning) {
	return func(t *tuning) {
		prev := t.helix
		t.helix = func(o *helix.Options) { prev(o); f(o) }
	}
}

// shortHelix gives up on a Helix request after 100 ms.
var shortHelix = helixTune(func(o *helix.Options) {
	o.HTTPClient = &http.Client{Timeout: 100 * time.Millisecond}
	o.MaxRateLimitWait = 50 * time.Millisecond
})

// waitLog waits until the daemon's log contains s.
func waitLog(tb testing.TB, p *proc, s string) {
	tb.Helper()
	testkit.Eventually(tb, fmt.Sprintf("log %q", s), func() bool { return strings.Contains(p.stderr.String(), s) })
}

// TestHelixHostileAnswersNeverPart extends TestHelixFaultsNeverPart to
// answers that look like data: a stream whose type is not "live", a 10 MB
// body, invalid UTF-8, missing fields, a server that accepts and never
// answers. None may PART a joined channel; once Helix answers properly, a
// real offline parts it.
func TestHelixHostileAnswersNeverPart(t *testing.T) {
	tests := []struct {
		name  string
		fault helixtest.Fault
		odd   string // stream type to set instead of a fault
		tune  func(*tuning)
		log   string
		polls int // /streams requests to wait for (default 9)
	}{
		{name: `type ""`, odd: "", log: `stream type is not \"live\"`},
		{name: `type "rerun"`, odd: "rerun", log: `stream type is not \"live\"`},
		{name: "10 MB body", fault: helixtest.Fault{HugeBody: 10 << 20}, log: "response body too large", polls: 3},
		{name: "invalid UTF-8", fault: helixtest.Fault{Body: "{\"data\":[{\"user_id\":\"\xff\xfe\",\"type\":\"\xc3\x28\"}]\xff}"}, log: "decode response"},
		{name: "invalid UTF-8 in well-formed JSON", fault: helixtest.Fault{Body: "{\"data\":[{\"user_id\":\"\xff\xfe\",\"user_login\":\"\xc3\x28\",\"type\":\"live\"}]}"}, log: "which was not asked for"},
		{name: "a stream nobody asked for", fault: helixtest.Fault{Body: `{"data":[{"user_id":"424242","user_login":"someone","type":"live"}]}`}, log: "which was not asked for"},
		{name: "missing user_id", fault: helixtest.Fault{Body: `{"data":[{"user_login":"alice","type":"live"}]}`}, log: "has no user_id"},
		{name: "missing data", fault: helixtest.Fault{Body: `{"pagination":{}}`}, log: `no \"data\" array`},
		{name: "data is not a list", fault: helixtest.Fault{Body: `{"data":{"user_id":"1"}}`}, log: "decode response"},
		{name: "accepts and never answers", fault: helixtest.Fault{Hang: true}, tune: shortHelix, log: "poll failed"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			w := newWorld(t, irctest.Options{})
			w.add(true, "alice")
			p := start(t, w.yaml(cfg{streamers: []string{"alice"}}), tc.tune)
			w.waitJoined(t, p, "alice")

			if tc.fault == (helixtest.Fault{}) {
				w.tw.SetStreamType("alice", tc.odd) // still listed, but not "live"
			} else {
				w.tw.SetLive("alice", false) // Helix would say offline, if it answered
				w.tw.Fail(helixtest.EndpointStreams, tc.fault)
			}
			w.polls(t, cmp.Or(tc.polls, 9))
			if got := w.parts(); len(got) != 0 {
				t.Fatalf("PART caused by %s: %q", tc.name, got)
			}
			waitLog(t, p, tc.log)

			if tc.fault == (helixtest.Fault{}) {
				w.tw.SetLive("alice", false)
			} else {
				w.tw.ClearFaults(helixtest.EndpointStreams)
				w.tw.Release()
			}
			w.waitJoined(t, p)
			if code := p.stop(); code != exitOK {
				t.Errorf("exit code %d, want 0", code)
			}
		})
	}
}

// TestHelixEmptyDataWithinGrace: an empty "data" is how Helix says "nobody
// is live", so it cannot be told from a real offline; the offline grace is
// what protects a live channel from a short run of them.
func TestHelixEmptyDataWithinGrace(t *testing.T) {
	w := newWorld(t, irctest.Options{})
	w.add(true, "alice")
	p := start(t, w.yaml(cfg{streamers: []string{"alice"}, grace: "1h"}), nil)
	w.waitJoined(t, p, "alice")
	w.tw.Fail(helixtest.EndpointStreams, helixtest.Fault{Times: 5, Body: `{"data":[],"pagination":{}}`})
	w.polls(t, 8)
	if got := w.parts(); len(got) != 0 {
		t.Fatalf("PART during the offline grace: %q", got)
	}
	if got := w.chat.Joined(); !slices.Equal(got, []string{"alice"}) {
		t.Errorf("joined %v, want [alice]", got)
	}
}

// TestTokenEndpointDown: the OAuth token endpoint failing at start delays
// the start (retried with backoff); failing mid-run, when the app token must
// be renewed, fails polls without a PART, and renewal requests stay bounded
// by the polls that need them.
func TestTokenEndpointDown(t *testing.T) {
	t.Run("at start", func(t *testing.T) {
		w := newWorld(t, irctest.Options{})
		w.add(true, "alice")
		w.tw.Fail(helixtest.EndpointToken, helixtest.Fault{Times: 4, Status: 503})
		p := start(t, w.yaml(cfg{streamers: []string{"alice"}}), nil)
		w.waitJoined(t, p, "alice")
		if !strings.Contains(p.stderr.String(), "fetching an app token failed; retrying") {
			t.Errorf("no retry logged:\n%s", testkit.Tail(p.stderr.String(), 10))
		}
		if code := p.stop(); code != exitOK {
			t.Errorf("exit code %d, want 0", code)
		}
	})
	t.Run("mid-run", func(t *testing.T) {
		// Polls only on SIGHUP (interval 1h), so cycles can be counted.
		w := newWorld(t, irctest.Options{})
		w.add(true, "alice")
		c := cfg{streamers: []string{"alice"}, interval: "1h"}
		p := start(t, w.yaml(c), nil)
		w.waitJoined(t, p, "alice")
		w.tw.SetLive("alice", false)
		w.tw.Fail(helixtest.EndpointToken, helixtest.Fault{Status: 503})
		w.tw.RevokeAppTokens() // the next poll gets 401 and must renew
		base := w.tw.Count(helixtest.EndpointToken)
		const cycles = 3
		for i := 1; i <= cycles; i++ {
			p.signals <- syscall.SIGHUP // reload: poll now
			want := base + i*helix.DefaultMaxAttempts
			testkit.Eventually(t, fmt.Sprintf("%d token requests", want), func() bool { return w.tw.Count(helixtest.EndpointToken) >= want })
		}
		waitLog(t, p, "poll failed")
		if got := w.parts(); len(got) != 0 {
			t.Fatalf("PART while the token endpoint is down: %q", got)
		}
		w.tw.ClearFaults(helixtest.EndpointToken)
		p.signals <- syscall.SIGHUP
		w.waitJoined(t, p) // renewed, polled: the real offline parts
		// Each failed cycle cost exactly MaxAttempts token requests, the
		// good one a single request: renewal is bounded, not a loop.
		if got, want := w.tw.Count(helixtest.EndpointToken)-base, cycles*helix.DefaultMaxAttempts+1; got != want {
			t.Errorf("%d token requests over %d failed cycles and one good one, want %d", got, cycles, want)
		}
		if code := p.stop(); code != exitOK {
			t.Errorf("exit code %d, want 0", code)
		}
	})
}

// TestIRCConnectionFaults: a chat server that refuses connections at start,
// accepts TCP and never answers, or goes half-open is retried with backoff
// and never fatal; once it works, every wanted channel is joined again.
func TestIRCConnectionFaults(t *testing.T) {
	fast := ircTune(func(o *irc.Options) {
		o.WelcomeTimeout = 150 * time.Millisecond
		o.PingInterval, o.PongTimeout = 100*time.Millisecond, 100*time.Millisecond
	})
	t.Run("connection refused at start", func(t *testing.T) {
		w := newWorld(t, irctest.Options{})
		w.add(true, "alice")
		// A port nobody listens on, then a proxy to the chat server on it.
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		addr := ln.Addr().String()
		_ = ln.Close()
		conf := strings.Replace(w.yaml(cfg{streamers: []string{"alice"}}), w.chat.Addr(), addr, 1)
		p := start(t, conf, fast)
		testkit.Eventually(t, "three refused attempts", func() bool {
			return strings.Count(p.stderr.String(), "connection attempt failed, reconnecting") >= 3
		})
		newFaultProxy(t, addr, w.chat.Addr())
		w.waitJoined(t, p, "alice")
		if code := p.stop(); code != exitOK {
			t.Errorf("exit code %d, want 0", code)
		}
	})
	t.Run("accepts TCP and never answers", func(t *testing.T) {
		w := newWorld(t, irctest.Options{})
		w.add(true, "alice")
		px := newFaultProxy(t, "127.0.0.1:0", w.chat.Addr())
		px.setMode(proxyMute)
		conf := strings.Replace(w.yaml(cfg{streamers: []string{"alice"}}), w.chat.Addr(), px.addr(), 1)
		p := start(t, conf, fast)
		px.waitAccepted(3) // three attempts timed out waiting for 001
		if !strings.Contains(p.stderr.String(), "no welcome (001)") {
			t.Errorf("the welcome timeout was not logged:\n%s", testkit.Tail(p.stderr.String(), 5))
		}
		px.setMode(proxyForward)
		w.waitJoined(t, p, "alice")
		if code := p.stop(); code != exitOK {
			t.Errorf("exit code %d, want 0", code)
		}
	})
	t.Run("half-open connection", func(t *testing.T) {
		w := newWorld(t, irctest.Options{})
		w.add(true, "alice", "bob")
		px := newFaultProxy(t, "127.0.0.1:0", w.chat.Addr())
		conf := strings.Replace(w.yaml(cfg{streamers: []string{"alice", "bob"}}), w.chat.Addr(), px.addr(), 1)
		p := start(t, conf, fast)
		w.waitJoined(t, p, "alice", "bob")
		px.setMode(proxyBlackhole) // the open connection goes silent both ways
		px.setMode(proxyForward)   // new connections work
		ctx, cancel := context.WithTimeout(context.Background(), waitMax)
		defer cancel()
		if err := w.chat.Wait(ctx, func(s *irctest.Server) bool { return s.Logins() >= 2 }); err != nil {
			t.Fatalf("no new login after the connection went half-open: %v\n%s", err, testkit.Tail(p.stderr.String(), 10))
		}
		w.waitJoined(t, p, "alice", "bob")
		if !strings.Contains(p.stderr.String(), "no answer to PING") {
			t.Errorf("the pong timeout was not logged")
		}
		if code := p.stop(); code != exitOK {
			t.Errorf("exit code %d, want 0", code)
		}
	})
}

// TestJoinEchoNeverArrives: a JOIN Twitch never answers (as for a channel
// that does not exist) is retried with backoff; other channels are not held
// up, the connection is not dropped, and the channel is joined once Twitch
// answers.
func TestJoinEchoNeverArrives(t *testing.T) {
	w := newWorld(t, irctest.Options{})
	w.chat.SetSilent("alice", true)
	w.add(true, "alice", "bob")
	p := start(t, w.yaml(cfg{streamers: []string{"alice", "bob"}}), ircTune(func(o *irc.Options) {
		o.JoinTimeout, o.JoinRetryMax = 50*time.Millisecond, 100*time.Millisecond
	}))
	w.waitJoined(t, p, "bob")
	testkit.Eventually(t, "three JOINs of alice", func() bool {
		n := 0
		for _, r := range w.chat.JoinLog() {
			if slices.Contains(r.Channels, "alice") {
				n++
			}
		}
		return n >= 3
	})
	if n := w.chat.Logins(); n != 1 {
		t.Errorf("%d logins, want 1 (a missing echo is no reason to reconnect)", n)
	}
	w.chat.SetSilent("alice", false)
	w.waitJoined(t, p, "alice", "bob")
	if code := p.stop(); code != exitOK {
		t.Errorf("exit code %d, want 0", code)
	}
}

// TestThousandDrops drops the chat connection 1,000 times. After each
// reconnect every wanted channel is joined again; goroutines and the live
// heap are the same at the end as after the first hundred drops.
func TestThousandDrops(t *testing.T) {
	const drops = 1000
	w := newWorld(t, irctest.Options{})
	w.add(true, "alice", "bob")
	p := start(t, w.yaml(cfg{streamers: []string{"alice", "bob"}, interval: "1h"}), ircTune(func(o *irc.Options) {
		o.BackoffMin, o.BackoffMax = time.Millisecond, 2*time.Millisecond
		// Two channels a drop would reach Twitch's 20 JOINs per 10 s after
		// ten drops, and the limiter would rightly hold the rest back.
		o.JoinLimit, o.JoinWindow = 1000, time.Millisecond
	}), "--log-level", "warn") // the test keeps the log in memory
	w.waitJoined(t, p, "alice", "bob")
	want := []string{"alice", "bob"}
	var warm usage
	var slowest time.Duration
	for i := range drops {
		if i == 100 {
			w.chat.Forget()
			warm = readUsage(t)
		}
		before := w.chat.Logins()
		w.chat.Drop()
		testkit.WaitChat(t, w.chat, fmt.Sprintf("drop %d: a new login", i), func(s *irctest.Server) bool { return s.Logins() > before })
		loggedIn := time.Now()
		// Joined after this login: both channels JOINed since it, and the
		// server sees exactly them joined.
		testkit.WaitChat(t, w.chat, fmt.Sprintf("drop %d: rejoined %v", i, want), func(s *irctest.Server) bool {
			return s.Logins() == before+1 && slices.Equal(s.Joined(), want) && rejoined(s.Received(), want)
		})
		slowest = max(slowest, time.Since(loggedIn))
	}
	w.chat.Forget()
	end := readUsage(t)
	t.Logf("after 100 drops: %v; after %d: %v; slowest rejoin after a login %v", warm, drops, end, slowest)
	if end.goroutines > warm.goroutines+2 {
		t.Errorf("goroutines grew from %d to %d over %d drops", warm.goroutines, end.goroutines, drops-100)
	}
	if end.heap > warm.heap+4<<20 {
		t.Errorf("live heap grew from %d KiB to %d KiB over %d drops", warm.heap/1024, end.heap/1024, drops-100)
	}
	if code := p.stop(); code != exitOK {
		t.Errorf("exit code %d, want 0", code)
	}
	if n := strings.Count(p.stderr.String(), "connection lost, reconnecting"); n < drops {
		t.Errorf("%d reconnects logged, want %d", n, drops)
	}
}

// rejoined reports whether every channel in want was JOINed after the last
// NICK (the last login) in lines.
func rejoined(lines []string, want []string) bool {
	last := -1
	for i, l := range lines {
		if strings.HasPrefix(l, "NICK ") {
			last = i
		}
	}
	if last < 0 {
		return false
	}
	seen := map[string]bool{}
	for _, l := range lines[last:] {
		if arg, ok := strings.CutPrefix(l, "JOIN "); ok {
			for _, ch := range strings.Split(arg, ",") {
				seen[strings.TrimPrefix(ch, "#")] = true
			}
		}
	}
	for _, ch := range want {
		if !seen[ch] {
			return false
		}
	}
	return true
}

// TestSIGTERMWhileBusy: SIGTERM during a reconnect backoff, a poll Helix
// does not answer, a JOIN burst held back by the rate limit, and the
// start-up retries exits 0, which serve returns only within stopTimeout
// (5 s).
func TestSIGTERMWhileBusy(t *testing.T) {
	tests := []struct {
		name  string
		setup func(t *testing.T, w *world) (cfg, func(*tuning))
		busy  func(t *testing.T, w *world, p *proc)
		parts int // PART lines expected on the way out
	}{
		{
			name: "reconnect backoff",
			setup: func(t *testing.T, w *world) (cfg, func(*tuning)) {
				w.add(true, "alice")
				return cfg{streamers: []string{"alice"}}, ircTune(func(o *irc.Options) { o.BackoffMin, o.BackoffMax = time.Hour, time.Hour })
			},
			busy: func(t *testing.T, w *world, p *proc) {
				w.waitJoined(t, p, "alice")
				w.chat.Drop()
				waitLog(t, p, "connection lost, reconnecting") // now sleeping for an hour
			},
		},
		{
			name: "poll in flight",
			setup: func(t *testing.T, w *world) (cfg, func(*tuning)) {
				w.add(true, "alice")
				return cfg{streamers: []string{"alice"}}, nil
			},
			busy: func(t *testing.T, w *world, p *proc) {
				w.waitJoined(t, p, "alice")
				w.tw.Fail(helixtest.EndpointStreams, helixtest.Fault{Hang: true})
				ctx, cancel := context.WithTimeout(context.Background(), waitMax)
				defer cancel()
				if err := w.tw.WaitHung(ctx, 1); err != nil {
					t.Fatal(err)
				}
			},
			parts: 1,
		},
		{
			name: "JOIN burst held by the rate limit",
			setup: func(t *testing.T, w *world) (cfg, func(*tuning)) {
				var logins []string
				for i := range 45 {
					logins = append(logins, fmt.Sprintf("chan%02d", i))
				}
				w.add(true, logins...)
				return cfg{streamers: logins}, ircTune(func(o *irc.Options) { o.JoinLimit, o.JoinWindow = 20, time.Hour })
			},
			busy: func(t *testing.T, w *world, p *proc) {
				testkit.Eventually(t, "20 channels joined", func() bool { return len(w.chat.Joined()) == 20 })
			},
			parts: 20,
		},
		{
			name: "start-up retries",
			setup: func(t *testing.T, w *world) (cfg, func(*tuning)) {
				w.add(true, "alice")
				w.tw.Fail(helixtest.EndpointToken, helixtest.Fault{Status: 503})
				return cfg{streamers: []string{"alice"}}, func(t *tuning) { t.startupBackoff = backoff.Backoff{Min: time.Hour, Max: time.Hour} }
			},
			busy: func(t *testing.T, w *world, p *proc) {
				waitLog(t, p, "fetching an app token failed; retrying")
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			w := newWorld(t, irctest.Options{})
			c, tune := tc.setup(t, w)
			p := start(t, w.yaml(c), tune)
			tc.busy(t, w, p)
			if code := p.stop(); code != exitOK {
				t.Fatalf("exit code %d, want 0 (within %v):\n%s", code, stopTimeout, testkit.Tail(p.stderr.String(), 5))
			}
			var chans int
			for _, l := range w.parts() {
				chans += strings.Count(l, "#")
			}
			if chans != tc.parts {
				t.Errorf("%d channels PARTed on the way out, want %d", chans, tc.parts)
			}
		})
	}
}

// TestSIGHUPEdgeCases: a removed file keeps the running configuration; a
// file of 10,000 streamers is applied (resolved and polled in batches,
// capped at max_channels).
func TestSIGHUPEdgeCases(t *testing.T) {
	t.Run("file removed", func(t *testing.T) {
		w := newWorld(t, irctest.Options{})
		w.add(true, "alice")
		p := start(t, w.yaml(cfg{streamers: []string{"alice"}}), nil)
		w.waitJoined(t, p, "alice")
		if err := os.Remove(p.path); err != nil {
			t.Fatal(err)
		}
		p.signals <- syscall.SIGHUP
		waitLog(t, p, "reload failed; keeping the running configuration")
		w.polls(t, 3)
		if got := w.chat.Joined(); !slices.Equal(got, []string{"alice"}) {
			t.Errorf("joined %v after a failed reload, want [alice]", got)
		}
		if got := w.parts(); len(got) != 0 {
			t.Errorf("PART after a failed reload: %q", got)
		}
		if code := p.stop(); code != exitOK {
			t.Errorf("exit code %d, want 0", code)
		}
	})
	t.Run("10,000 streamers", func(t *testing.T) {
		const n = 10000
		w := newWorld(t, irctest.Options{})
		w.add(true, "alice")
		logins := []string{"alice"}
		for i := range n - 1 {
			logins = append(logins, fmt.Sprintf("s%05d", i))
		}
		w.add(false, logins[1:]...)
		w.tw.SetLive("s09998", true) // the last one
		c := cfg{streamers: []string{"alice"}, interval: "1s"}
		p := start(t, w.yaml(c), nil)
		w.waitJoined(t, p, "alice")
		users := w.tw.Count(helixtest.EndpointUsers)

		c.streamers = logins
		writeFile(t, p.path, w.yaml(c))
		p.signals <- syscall.SIGHUP
		w.waitJoined(t, p, "alice", "s09998")
		if got := w.tw.Count(helixtest.EndpointUsers) - users; got != n/100 {
			t.Errorf("%d /users requests to resolve %d new logins, want %d", got, n-1, n/100)
		}
		if code := p.stop(); code != exitOK {
			t.Errorf("exit code %d, want 0", code)
		}
	})
}

func TestSecretSources(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "client_secret"), helixtest.DefaultClientSecret+"\n")
	writeFile(t, filepath.Join(dir, "irc_token"), "oauth:"+ircToken+"\n")
	tests := []struct {
		name   string
		secret string // replaces the client_secret line
		token  string // replaces the token line
		env    map[string]string
	}{
		{
			name:   "environment",
			secret: "", token: "",
			env: map[string]string{"FARMD_CLIENT_SECRET": helixtest.DefaultClientSecret, "FARMD_IRC_TOKEN": ircToken},
		},
		{
			name:   "files",
			secret: "  client_secret_file: " + filepath.Join(dir, "client_secret") + "\n",
			token:  "  token_file: " + filepath.Join(dir, "irc_token") + "\n",
		},
		{
			name:   "CREDENTIALS_DIRECTORY",
			secret: "  client_secret_file: ${CREDENTIALS_DIRECTORY}/client_secret\n",
			token:  "  token_file: ${CREDENTIALS_DIRECTORY}/irc_token\n",
			env:    map[string]string{"CREDENTIALS_DIRECTORY": dir},
		},
		{
			name:   "environment, token with oauth:",
			secret: "", token: "",
			env: map[string]string{"FARMD_CLIENT_SECRET": helixtest.DefaultClientSecret, "FARMD_IRC_TOKEN": "oauth:" + ircToken},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			w := newWorld(t, irctest.Options{})
			w.add(true, "alice")
			var lines []string
			for _, l := range strings.SplitAfter(w.yaml(cfg{streamers: []string{"alice"}}), "\n") {
				switch {
				case strings.HasPrefix(l, "  client_secret:"):
					l = tc.secret
				case strings.HasPrefix(l, "  token:"):
					l = tc.token
				}
				lines = append(lines, l)
			}
			conf := strings.Join(lines, "")
			if strings.Contains(conf, ircToken) || strings.Contains(conf, helixtest.DefaultClientSecret) {
				t.Fatalf("the secret is still in the file:\n%s", conf)
			}
			p := startProc(t, procOptions{config: conf, env: tc.env})
			w.waitJoined(t, p, "alice")
			if code := p.stop(); code != exitOK {
				t.Fatalf("exit code %d, want 0", code)
			}
			log := p.stderr.String()
			for _, s := range append([]string{helixtest.DefaultClientSecret, ircToken}, w.tw.IssuedAppTokens()...) {
				if strings.Contains(log, s) {
					t.Errorf("secret %.4s... in the log", s)
				}
			}
		})
	}
}

// TestWorldReadableConfigWarning: a config file readable by group or others
// that holds a secret inline gets a warning at start, which names neither
// secret; a private one does not.
func TestWorldReadableConfigWarning(t *testing.T) {
	for _, mode := range []os.FileMode{0o600, 0o640, 0o644} {
		t.Run(mode.String(), func(t *testing.T) {
			w := newWorld(t, irctest.Options{})
			w.add(true, "alice")
			p := startProc(t, procOptions{config: w.yaml(cfg{streamers: []string{"alice"}}), mode: mode})
			w.waitJoined(t, p, "alice")
			if code := p.stop(); code != exitOK {
				t.Fatalf("exit code %d, want 0", code)
			}
			log := p.stderr.String()
			got := strings.Contains(log, "readable by group or others")
			if want := mode&0o077 != 0; got != want {
				t.Errorf("mode %v: warning %v, want %v", mode, got, want)
			}
			if strings.Contains(log, ircToken) || strings.Contains(log, helixtest.DefaultClientSecret) {
				t.Errorf("the log shows a secret")
			}
		})
	}
}

// TestFatalErrorsNameNoSecret: the fatal paths (chat refusing the token,
// /validate revoking it, Twitch refusing the app credentials) explain
// themselves without showing any secret, in the log or on stderr.
func TestFatalErrorsNameNoSecret(t *testing.T) {
	tests := []struct {
		name  string
		setup func(w *world) string // returns the config
		want  string                // in the log
	}{
		{"chat refuses the token", func(w *world) string {
			w.chat.SetRejectLogin(true)
			return w.yaml(cfg{streamers: []string{"alice"}})
		}, "IRC token was rejected"},
		{"validate says 401", func(w *world) string {
			return strings.Replace(w.yaml(cfg{streamers: []string{"alice"}}), ircToken, "revoked"+ircToken, 1)
		}, "irc.token is invalid or expired"},
		{"app credentials refused", func(w *world) string {
			return strings.Replace(w.yaml(cfg{streamers: []string{"alice"}}), "client_secret: "+helixtest.DefaultClientSecret,
				"client_secret: wrong"+helixtest.DefaultClientSecret, 1)
		}, "Twitch refused the app credentials"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			w := newWorld(t, irctest.Options{})
			w.add(true, "alice")
			p := start(t, tc.setup(w), nil)
			if code := p.wait(); code != exitFatal {
				t.Fatalf("exit code %d, want %d:\n%s", code, exitFatal, testkit.Tail(p.stderr.String(), 5))
			}
			log := p.stderr.String() + p.stdout.String()
			if !strings.Contains(log, tc.want) {
				t.Errorf("log does not say %q:\n%s", tc.want, testkit.Tail(log, 5))
			}
			for _, s := range append([]string{helixtest.DefaultClientSecret, ircToken}, w.tw.IssuedAppTokens()...) {
				if strings.Contains(log, s) {
					t.Errorf("secret %.4s... in the output", s)
				}
			}
		})
	}
}

// TestChannelNoticesGiveSlotAway extends TestBannedChannelGivesSlotAway to
// the other refusals: a suspended channel and a room Twitch does not find
// are skipped (once logged, JOINed once) and their slot goes to the next
// streamer, without a reconnect.
func TestChannelNoticesGiveSlotAway(t *testing.T) {
	for _, tc := range []struct{ msgID, text string }{
		{"msg_channel_suspended", "This channel has been suspended."},
		{"msg_room_not_found", "That room does not exist."},
		{"msg_banned", "You are permanently banned from talking in alice."},
	} {
		t.Run(tc.msgID, func(t *testing.T) {
			w := newWorld(t, irctest.Options{})
			w.chat.SetNotice("alice", tc.msgID, tc.text)
			w.add(true, "alice", "bob")
			p := start(t, w.yaml(cfg{streamers: []string{"alice", "bob"}, maxChannels: 1}), nil)
			w.waitJoined(t, p, "bob")
			w.polls(t, 3)
			if n := strings.Count(p.stderr.String(), "twitch refuses this channel"); n != 1 {
				t.Errorf("unavailable warning logged %d times, want 1", n)
			}
			joins := 0
			for _, r := range w.chat.JoinLog() {
				if slices.Contains(r.Channels, "alice") {
					joins++
				}
			}
			if joins != 1 {
				t.Errorf("alice JOINed %d times, want 1", joins)
			}
			if n := w.chat.Logins(); n != 1 {
				t.Errorf("%d logins, want 1", n)
			}
		})
	}
}

// TestValidateEndpointDownMidRun: the hourly /validate failing for network
// reasons (503, no answer) is retried sooner and is not fatal; only a 401
// is (TestHourlyValidationRevokedIRCTokenExits1).
func TestValidateEndpointDownMidRun(t *testing.T) {
	w := newWorld(t, irctest.Options{})
	w.add(true, "alice")
	p := start(t, w.yaml(cfg{streamers: []string{"alice"}}), chain(shortHelix, func(t *tuning) { t.validateEvery = 30 * time.Millisecond }))
	w.waitJoined(t, p, "alice")
	w.tw.Fail(helixtest.EndpointValidate, helixtest.Fault{Status: 503})
	n := w.tw.Count(helixtest.EndpointValidate)
	testkit.Eventually(t, "failed validations", func() bool { return w.tw.Count(helixtest.EndpointValidate) >= n+8 })
	waitLog(t, p, "could not validate irc.token; will retry")
	w.tw.ClearFaults(helixtest.EndpointValidate)
	w.tw.Fail(helixtest.EndpointValidate, helixtest.Fault{Hang: true})
	ctx, cancel := context.WithTimeout(context.Background(), waitMax)
	defer cancel()
	if err := w.tw.WaitHung(ctx, 2); err != nil {
		t.Fatal(err)
	}
	w.tw.ClearFaults(helixtest.EndpointValidate)
	w.tw.Release()
	w.polls(t, 3)
	if got := w.chat.Joined(); !slices.Equal(got, []string{"alice"}) {
		t.Errorf("joined %v, want [alice]", got)
	}
	if code := p.stop(); code != exitOK {
		t.Errorf("exit code %d, want 0 (a failing /validate is not fatal)", code)
	}
}

// TestJoinLimitAcrossReconnects: rejoining after drops counts against the
// same JOIN budget, so a server that disconnects on the 21st JOIN in a
// window never sees one, however often the connection drops.
func TestJoinLimitAcrossReconnects(t *testing.T) {
	const limit, window = 20, 300 * time.Millisecond
	w := newWorld(t, irctest.Options{JoinLimit: limit, JoinWindow: window, EnforceJoinLimit: true})
	logins := w.addChannels(15)
	p := start(t, w.yaml(cfg{streamers: logins}), ircTune(func(o *irc.Options) {
		o.JoinLimit, o.JoinWindow = limit, window
		o.BackoffMin, o.BackoffMax = time.Millisecond, 2*time.Millisecond
	}))
	w.waitJoined(t, p, logins...)
	for i := range 4 {
		before := w.chat.Logins()
		w.chat.Drop()
		testkit.WaitChat(t, w.chat, fmt.Sprintf("drop %d: a new login", i), func(s *irctest.Server) bool { return s.Logins() > before })
	}
	w.waitJoined(t, p, logins...)
	if n := w.chat.Violations(); n != 0 {
		t.Errorf("%d JOIN rate-limit violations across reconnects", n)
	}
	if code := p.stop(); code != exitOK {
		t.Errorf("exit code %d, want 0", code)
	}
}

// TestHugeBodiesFromEveryEndpoint: a 10 MB answer from /validate, the token
// endpoint or /users at start is a failed request (bodies are read up to a
// bound), retried, and farmd starts normally once the answers are sane.
func TestHugeBodiesFromEveryEndpoint(t *testing.T) {
	for _, endpoint := range []string{helixtest.EndpointValidate, helixtest.EndpointToken, helixtest.EndpointUsers} {
		t.Run(endpoint, func(t *testing.T) {
			w := newWorld(t, irctest.Options{})
			w.add(true, "alice")
			w.tw.Fail(endpoint, helixtest.Fault{Times: 2, HugeBody: 10 << 20})
			p := start(t, w.yaml(cfg{streamers: []string{"alice"}}), nil)
			w.waitJoined(t, p, "alice")
			if n := w.tw.Count(endpoint); n < 3 {
				t.Errorf("%d %s requests, want at least 3 (2 huge answers, then a good one)", n, endpoint)
			}
			if code := p.stop(); code != exitOK {
				t.Errorf("exit code %d, want 0", code)
			}
		})
	}
}
