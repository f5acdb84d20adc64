package main

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/farmd/farmd/helix"
	"github.com/farmd/farmd/helix/helixtest"
	"github.com/farmd/farmd/internal/testkit"
	"github.com/farmd/farmd/irc"
	"github.com/farmd/farmd/irc/irctest"
)

func TestJoinAndPartFollowLiveStatus(t *testing.T) {
	w := newWorld(t, irctest.Options{})
	w.add(true, "alice")
	w.add(false, "bob")
	p := start(t, w.yaml(cfg{streamers: []string{"alice", "bob"}}), nil)
	w.waitJoined(t, p, "alice")

	w.tw.SetLive("bob", true)
	w.waitJoined(t, p, "alice", "bob")
	w.tw.SetLive("alice", false)
	w.waitJoined(t, p, "bob")
	if got := w.parts(); !slices.Equal(got, []string{"PART #alice"}) {
		t.Errorf("PART lines %q, want [PART #alice]", got)
	}
	if code := p.stop(); code != exitOK {
		t.Errorf("exit code %d, want 0", code)
	}
}

func TestOfflineGraceThenReloadedGrace(t *testing.T) {
	w := newWorld(t, irctest.Options{})
	w.add(true, "alice")
	c := cfg{streamers: []string{"alice"}, grace: "1h"}
	p := start(t, w.yaml(c), nil)
	w.waitJoined(t, p, "alice")

	w.tw.SetLive("alice", false)
	w.polls(t, 5) // seen offline again and again, but not for an hour
	if got := w.parts(); len(got) != 0 {
		t.Fatalf("PART during the offline grace: %q", got)
	}
	if got := w.chat.Joined(); !slices.Equal(got, []string{"alice"}) {
		t.Fatalf("joined %v during the grace, want [alice]", got)
	}

	c.grace = "0s"
	writeFile(t, p.path, w.yaml(c))
	p.signals <- syscall.SIGHUP
	w.waitJoined(t, p)
	if got := w.parts(); !slices.Equal(got, []string{"PART #alice"}) {
		t.Errorf("PART lines %q, want [PART #alice]", got)
	}
}

func TestPriorityAndChannelCap(t *testing.T) {
	w := newWorld(t, irctest.Options{})
	w.add(true, "a1", "a2", "a3", "a4")
	p := start(t, w.yaml(cfg{streamers: []string{"a1", "a2", "a3", "a4"}, maxChannels: 2}), nil)
	w.waitJoined(t, p, "a1", "a2")

	w.tw.SetLive("a1", false)
	w.waitJoined(t, p, "a2", "a3")
	w.tw.SetLive("a1", true) // the list's first streamer wins its slot back
	w.waitJoined(t, p, "a1", "a2")
	if n := w.maxJoined(); n != 2 {
		t.Errorf("at most %d channels joined at once, want 2 (max_channels)", n)
	}
	if !strings.Contains(strings.Join(w.parts(), ","), "PART #a3") {
		t.Errorf("a3 was not parted to make room for a1: %q", w.parts())
	}
}

func TestConnectsWhenNobodyIsLive(t *testing.T) {
	w := newWorld(t, irctest.Options{})
	w.add(false, "alice")
	p := start(t, w.yaml(cfg{streamers: []string{"alice"}, interval: "1h"}), nil)
	ctx, cancel := context.WithTimeout(context.Background(), waitMax)
	defer cancel()
	if err := w.chat.Wait(ctx, func(s *irctest.Server) bool { return s.Logins() == 1 }); err != nil {
		t.Fatalf("no IRC login while nobody is live: %v", err)
	}
	if strings.Contains(p.stderr.String(), "more than half of the Helix rate limit") {
		t.Errorf("rate-budget warning for 1 streamer every hour")
	}
	if code := p.stop(); code != exitOK {
		t.Errorf("exit code %d, want 0", code)
	}
	if n := len(w.chat.JoinLog()); n != 0 {
		t.Errorf("%d JOINs with nobody live", n)
	}
}

func TestUnknownLoginSkippedOthersWork(t *testing.T) {
	w := newWorld(t, irctest.Options{})
	w.add(true, "alice", "carol")
	p := start(t, w.yaml(cfg{streamers: []string{"alice", "ghost_nobody", "carol"}}), nil)
	w.waitJoined(t, p, "alice", "carol")
	w.polls(t, 3)
	log := p.stderr.String()
	if n := strings.Count(log, "twitch does not know this login"); n != 1 {
		t.Errorf("unknown-login warning logged %d times, want once", n)
	}
	if !strings.Contains(log, `"streamer":"ghost_nobody"`) {
		t.Errorf("the warning does not name the login")
	}
	for _, q := range w.tw.Requests(helixtest.EndpointStreams) {
		if q.Has("user_login") {
			t.Fatalf("/streams polled by user_login (%v): one unknown login would fail the whole request", q)
		}
	}
}

func TestBatchingAndTokenReuse(t *testing.T) {
	w := newWorld(t, irctest.Options{})
	var logins []string
	for i := range 250 {
		logins = append(logins, fmt.Sprintf("streamer%03d", i))
	}
	w.add(false, logins...)
	w.tw.SetLive("streamer249", true)
	p := start(t, w.yaml(cfg{streamers: logins, interval: "100ms"}), nil)
	w.waitJoined(t, p, "streamer249")
	w.polls(t, 9) // at least three more cycles of three requests

	if n := w.tw.Count(helixtest.EndpointUsers); n != 3 {
		t.Errorf("%d /users requests to resolve 250 logins, want 3", n)
	}
	reqs := w.tw.Requests(helixtest.EndpointStreams)
	if len(reqs) < 9 {
		t.Fatalf("%d /streams requests recorded, want at least 9", len(reqs))
	}
	for i, q := range reqs {
		ids := q["user_id"]
		if len(ids) == 0 || len(ids) > 100 {
			t.Fatalf("request %d has %d user_ids, want 1..100", i, len(ids))
		}
		if q.Get("first") != "100" {
			t.Fatalf("request %d: first=%q, want 100", i, q.Get("first"))
		}
	}
	// One poll runs at a time, so each cycle's 3 requests are recorded
	// together: every complete cycle covers all 250 IDs in 3 requests.
	for c := 0; c+3 <= 9; c += 3 {
		seen := map[string]bool{}
		for _, q := range reqs[c : c+3] {
			for _, id := range q["user_id"] {
				seen[id] = true
			}
		}
		if len(seen) != 250 {
			t.Errorf("cycle %d: its 3 requests cover %d distinct IDs, want 250", c/3, len(seen))
		}
	}
	if n := w.tw.Count(helixtest.EndpointToken); n != 1 {
		t.Errorf("%d token requests over many polls, want 1 (reused)", n)
	}
	if !strings.Contains(p.stderr.String(), "poll.interval spends more than half of the Helix rate limit") {
		t.Errorf("250 streamers every 100ms (1800 requests a minute) gave no rate-budget warning")
	}
	if n := w.tw.BasicAuthTokenRequests(); n != 0 {
		t.Errorf("%d token requests with HTTP Basic, want 0 (credentials in the form)", n)
	}
}

// TestRateBudgetWarningRearmsOnReload: the warning that polling overspends
// the Helix bucket is given once, not every poll, and again after a reload
// that keeps (or brings) an overspending interval: the user who reloaded
// wants to know the new settings still overspend.
func TestRateBudgetWarningRearmsOnReload(t *testing.T) {
	w := newWorld(t, irctest.Options{})
	var logins []string
	for i := range 250 {
		logins = append(logins, fmt.Sprintf("streamer%03d", i))
	}
	w.add(false, logins...)
	c := cfg{streamers: logins, interval: "100ms"}
	p := start(t, w.yaml(c), nil)
	const warning = "poll.interval spends more than half of the Helix rate limit"
	p.stderr.WaitContains(t, warning)
	w.polls(t, 9)
	if n := strings.Count(p.stderr.String(), warning); n != 1 {
		t.Fatalf("%d rate-budget warnings before the reload, want 1", n)
	}
	c.interval = "150ms" // still 1200 requests a minute
	writeFile(t, p.path, w.yaml(c))
	p.signals <- syscall.SIGHUP
	p.stderr.WaitContains(t, "configuration reloaded")
	testkit.Eventually(t, "a second warning after the reload", func() bool {
		return strings.Count(p.stderr.String(), warning) == 2
	})
	w.polls(t, 9)
	if n := strings.Count(p.stderr.String(), warning); n != 2 {
		t.Errorf("%d rate-budget warnings after the reload, want 2", n)
	}
}

func TestAppTokenRenewedAfter401(t *testing.T) {
	w := newWorld(t, irctest.Options{})
	w.add(true, "alice")
	p := start(t, w.yaml(cfg{streamers: []string{"alice"}}), nil)
	w.waitJoined(t, p, "alice")
	if n := w.tw.Count(helixtest.EndpointToken); n != 1 {
		t.Fatalf("%d token requests before revocation, want 1", n)
	}
	w.tw.RevokeAppTokens()
	testkit.Eventually(t, "a new app token", func() bool { return w.tw.Count(helixtest.EndpointToken) == 2 })
	w.polls(t, 3)
	if n := w.tw.Count(helixtest.EndpointToken); n != 2 {
		t.Errorf("%d token requests, want 2 (one renewal)", n)
	}
	if got := w.parts(); len(got) != 0 {
		t.Errorf("PART after a token renewal: %q", got)
	}
	if got := w.chat.Joined(); !slices.Equal(got, []string{"alice"}) {
		t.Errorf("joined %v, want [alice]", got)
	}
}

// TestHelixFaultsNeverPart: whatever Helix does wrong, a joined channel stays
// joined; once Helix answers again, a real offline still parts.
func TestHelixFaultsNeverPart(t *testing.T) {
	short := func(t *tuning) {
		prev := t.helix
		t.helix = func(o *helix.Options) {
			prev(o)
			o.HTTPClient = &http.Client{Timeout: 100 * time.Millisecond}
			o.MaxRateLimitWait = 50 * time.Millisecond
		}
	}
	// Each fault lasts until cleared (Times 0).
	tests := []struct {
		name  string
		fault helixtest.Fault
		tune  func(*tuning)
	}{
		{"500", helixtest.Fault{Status: 500}, nil},
		{"503", helixtest.Fault{Status: 503}, nil},
		{"429 rate limited", helixtest.Fault{Status: 429}, short},
		{"timeout", helixtest.Fault{Delay: time.Second}, short},
		{"malformed JSON", helixtest.Fault{Body: `{"data":[{"user_id":`}, nil},
		{"truncated body", helixtest.Fault{Truncate: true}, nil},
		{"400 for the whole batch", helixtest.Fault{Status: 400, Message: "Malformed query param"}, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			w := newWorld(t, irctest.Options{})
			w.add(true, "alice")
			p := start(t, w.yaml(cfg{streamers: []string{"alice"}}), tc.tune)
			w.waitJoined(t, p, "alice")

			w.tw.SetLive("alice", false) // Helix would say offline, if it answered
			w.tw.Fail(helixtest.EndpointStreams, tc.fault)
			// Two whole failed cycles (up to 4 attempts each) and the start
			// of a third: their outcome has been applied.
			w.polls(t, 9)
			if got := w.parts(); len(got) != 0 {
				t.Fatalf("PART caused by %s: %q", tc.name, got)
			}
			log := p.stderr.String()
			if !strings.Contains(log, "poll failed; streamers not checked keep their state") {
				t.Fatalf("the failure was not logged:\n%s", testkit.Tail(log, 10))
			}
			if n := strings.Count(log, "poll failed;"); n != 1 {
				t.Errorf("a lasting failure logged %d times, want once (repeats are rate-limited)", n)
			}
			// When Helix answers again, the real offline parts the channel.
			w.tw.ClearFaults(helixtest.EndpointStreams)
			w.waitJoined(t, p)
			if !strings.Contains(p.stderr.String(), "polling recovered") {
				t.Errorf("no recovery logged")
			}
		})
	}
}

func TestReconnectRejoins(t *testing.T) {
	tests := []struct {
		name   string
		break_ func(*irctest.Server)
	}{
		{"connection dropped", (*irctest.Server).Drop},
		{"RECONNECT", (*irctest.Server).SendReconnect},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			w := newWorld(t, irctest.Options{})
			w.add(true, "alice", "bob")
			p := start(t, w.yaml(cfg{streamers: []string{"alice", "bob"}}), nil)
			w.waitJoined(t, p, "alice", "bob")
			tc.break_(w.chat)
			ctx, cancel := context.WithTimeout(context.Background(), waitMax)
			defer cancel()
			if err := w.chat.Wait(ctx, func(s *irctest.Server) bool { return s.Logins() >= 2 }); err != nil {
				t.Fatalf("no second login: %v", err)
			}
			w.waitJoined(t, p, "alice", "bob")
			if got := w.parts(); len(got) != 0 {
				t.Errorf("PART around a reconnect: %q", got)
			}
		})
	}
}

func TestRejectedIRCLoginExits1(t *testing.T) {
	w := newWorld(t, irctest.Options{})
	w.chat.SetRejectLogin(true)
	w.add(true, "alice")
	p := start(t, w.yaml(cfg{streamers: []string{"alice"}}), nil)
	if code := p.wait(); code != exitFatal {
		t.Fatalf("exit code %d, want %d", code, exitFatal)
	}
	if n := w.chat.Connections(); n != 1 {
		t.Errorf("%d IRC connections, want 1 (no reconnect loop)", n)
	}
	if log := p.stderr.String(); !strings.Contains(log, "IRC token was rejected") {
		t.Errorf("log does not say the IRC token was rejected:\n%s", testkit.Tail(log, 5))
	}
}

func TestIRCTokenValidation(t *testing.T) {
	t.Run("401 from validate exits 1 before connecting", func(t *testing.T) {
		w := newWorld(t, irctest.Options{})
		w.add(true, "alice")
		conf := strings.Replace(w.yaml(cfg{streamers: []string{"alice"}}), ircToken, "revokedtoken", 1)
		p := start(t, conf, nil)
		if code := p.wait(); code != exitFatal {
			t.Fatalf("exit code %d, want %d", code, exitFatal)
		}
		if n := w.chat.Connections(); n != 0 {
			t.Errorf("%d IRC connections, want 0", n)
		}
		if log := p.stderr.String(); !strings.Contains(log, "irc.token is invalid or expired") {
			t.Errorf("log does not explain:\n%s", testkit.Tail(log, 5))
		}
	})
	t.Run("token of another account exits 2", func(t *testing.T) {
		w := newWorld(t, irctest.Options{})
		w.tw.AddUserToken("othertoken", "someone_else", "chat:read")
		w.add(true, "alice")
		conf := strings.Replace(w.yaml(cfg{streamers: []string{"alice"}}), ircToken, "othertoken", 1)
		p := start(t, conf, nil)
		if code := p.wait(); code != exitConfig {
			t.Fatalf("exit code %d, want %d", code, exitConfig)
		}
		if n := w.chat.Connections(); n != 0 {
			t.Errorf("%d IRC connections, want 0", n)
		}
	})
	t.Run("validate unreachable at start is retried", func(t *testing.T) {
		w := newWorld(t, irctest.Options{})
		w.add(true, "alice")
		w.tw.Fail(helixtest.EndpointValidate, helixtest.Fault{Times: 6, Status: 503})
		p := start(t, w.yaml(cfg{streamers: []string{"alice"}}), nil)
		w.waitJoined(t, p, "alice")
		if !strings.Contains(p.stderr.String(), "validating irc.token failed; retrying") {
			t.Errorf("no retry logged")
		}
	})
}

func TestHourlyValidationRevokedIRCTokenExits1(t *testing.T) {
	w := newWorld(t, irctest.Options{})
	w.add(true, "alice")
	p := start(t, w.yaml(cfg{streamers: []string{"alice"}}), func(t *tuning) { t.validateEvery = 50 * time.Millisecond })
	w.waitJoined(t, p, "alice")
	testkit.Eventually(t, "a second validation", func() bool { return w.tw.Count(helixtest.EndpointValidate) >= 4 })
	w.tw.Fail(helixtest.EndpointValidate, helixtest.Fault{Times: 1000, Status: 401, Message: "invalid access token"})
	if code := p.wait(); code != exitFatal {
		t.Fatalf("exit code %d, want %d", code, exitFatal)
	}
}

func TestBannedChannelGivesSlotAway(t *testing.T) {
	w := newWorld(t, irctest.Options{})
	w.chat.SetNotice("alice", "msg_banned", "You are permanently banned from talking in alice.")
	w.add(true, "alice", "bob")
	p := start(t, w.yaml(cfg{streamers: []string{"alice", "bob"}, maxChannels: 1}), nil)
	w.waitJoined(t, p, "bob")
	w.polls(t, 3)
	log := p.stderr.String()
	if n := strings.Count(log, "twitch refuses this channel"); n != 1 {
		t.Errorf("unavailable warning logged %d times, want 1", n)
	}
	joins := 0
	for _, r := range w.chat.JoinLog() {
		if slices.Contains(r.Channels, "alice") {
			joins++
		}
	}
	if joins != 1 {
		t.Errorf("alice JOINed %d times, want 1 (no retry for an hour)", joins)
	}
	if got := w.parts(); len(got) != 0 {
		t.Errorf("PART lines %q: a refused channel was never joined, nothing to leave", got)
	}
}

func TestJoinRateLimitNeverExceeded(t *testing.T) {
	const limit, window = 20, 400 * time.Millisecond
	w := newWorld(t, irctest.Options{JoinLimit: limit, JoinWindow: window, EnforceJoinLimit: true})
	logins := w.addChannels(45)
	p := start(t, w.yaml(cfg{streamers: logins}), func(t *tuning) {
		prev := t.irc
		t.irc = func(o *irc.Options) { prev(o); o.JoinLimit, o.JoinWindow = limit, window }
	})
	w.waitJoined(t, p, logins...)
	if n := w.chat.Violations(); n != 0 {
		t.Fatalf("%d rate-limit violations", n)
	}
	log := w.chat.JoinLog()
	for i := range log {
		n := 0
		for j := i; j < len(log) && log[j].Time.Sub(log[i].Time) < window; j++ {
			n += len(log[j].Channels)
		}
		if n > limit {
			t.Fatalf("%d channel JOINs within %v from %v, want <= %d", n, window, log[i].Time, limit)
		}
	}
	if n := w.chat.Logins(); n != 1 {
		t.Errorf("%d logins, want 1 (no disconnect)", n)
	}
}

func TestSIGHUPReload(t *testing.T) {
	w := newWorld(t, irctest.Options{})
	w.add(true, "alice", "bob", "carol")
	c := cfg{streamers: []string{"alice", "bob"}}
	p := start(t, w.yaml(c), nil)
	w.waitJoined(t, p, "alice", "bob")

	c.streamers = []string{"carol", "alice"}
	writeFile(t, p.path, w.yaml(c))
	p.signals <- syscall.SIGHUP
	w.waitJoined(t, p, "alice", "carol")

	// An invalid file is logged and the running configuration kept.
	writeFile(t, p.path, "twitch: [this is not valid\n")
	p.signals <- syscall.SIGHUP
	testkit.Eventually(t, "the failed reload to be logged", func() bool {
		return strings.Contains(p.stderr.String(), "reload failed; keeping the running configuration")
	})
	w.polls(t, 3)
	if got := w.chat.Joined(); len(got) != 2 {
		t.Errorf("joined %v after a bad reload, want [alice carol]", got)
	}
	if n := w.chat.Connections(); n != 1 {
		t.Errorf("%d IRC connections, want 1 (reload without reconnect)", n)
	}
	if code := p.stop(); code != exitOK {
		t.Errorf("exit code %d, want 0", code)
	}
}

func TestSIGTERMPartsAndExits0(t *testing.T) {
	for _, sig := range []os.Signal{syscall.SIGTERM, syscall.SIGINT} {
		t.Run(sig.String(), func(t *testing.T) {
			w := newWorld(t, irctest.Options{})
			w.add(true, "alice", "bob")
			p := start(t, w.yaml(cfg{streamers: []string{"alice", "bob"}}), nil)
			w.waitJoined(t, p, "alice", "bob")
			p.signals <- sig
			if code := p.wait(); code != exitOK {
				t.Fatalf("exit code %d, want 0", code)
			}
			got := w.parts()
			slices.Sort(got)
			if want := []string{"PART #alice", "PART #bob"}; !slices.Equal(got, want) {
				t.Errorf("PART lines %q, want %q", got, want)
			}
		})
	}
}

func TestSecretsNeverLogged(t *testing.T) {
	w := newWorld(t, irctest.Options{})
	w.add(true, "alice")
	p := start(t, w.yaml(cfg{streamers: []string{"alice"}}), func(t *tuning) { t.validateEvery = 20 * time.Millisecond })
	w.waitJoined(t, p, "alice")
	w.tw.RevokeAppTokens() // a renewal
	testkit.Eventually(t, "a renewal", func() bool { return w.tw.Count(helixtest.EndpointToken) >= 2 })
	w.chat.Drop() // a reconnect
	ctx, cancel := context.WithTimeout(context.Background(), waitMax)
	defer cancel()
	if err := w.chat.Wait(ctx, func(s *irctest.Server) bool { return s.Logins() >= 2 }); err != nil {
		t.Fatal(err)
	}
	w.waitJoined(t, p, "alice")
	w.polls(t, 2)
	p.stop()

	log := p.stderr.String() + p.stdout.String()
	if !strings.Contains(log, `"level":"debug"`) {
		t.Fatal("no debug lines logged: the test would prove nothing")
	}
	secrets := append([]string{helixtest.DefaultClientSecret, ircToken}, w.tw.IssuedAppTokens()...)
	if len(secrets) < 4 {
		t.Fatalf("only %d secrets to look for", len(secrets))
	}
	for _, s := range secrets {
		if strings.Contains(log, s) || strings.Contains(log, url.QueryEscape(s)) {
			t.Errorf("secret %.4s... appears in the log", s)
		}
	}
}
