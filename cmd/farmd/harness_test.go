package main

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/farmd/farmd/backoff"
	"github.com/farmd/farmd/eventsub/eventsubtest"
	"github.com/farmd/farmd/helix"
	"github.com/farmd/farmd/helix/helixtest"
	"github.com/farmd/farmd/internal/testkit"
	"github.com/farmd/farmd/irc"
	"github.com/farmd/farmd/irc/irctest"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

const (
	botName  = "farmbot"
	ircToken = "ircsecrettoken0123456789abcd"
	waitMax  = testkit.WaitMax
)

// world is a simulated Twitch: Helix and OAuth over HTTP, chat over TCP.
type world struct {
	tw   *helixtest.Server
	chat *irctest.Server
	// es is EventSub's fake, mounted beside Helix; farmd uses it when a
	// test's cfg sets eventsub.
	es *eventsubtest.Fake
}

func newWorld(tb testing.TB, ircOpts irctest.Options) *world {
	tb.Helper()
	return newWorldWith(tb, helixtest.Options{}, ircOpts)
}

// newWorldWith is newWorld with the Helix fake's options too.
func newWorldWith(tb testing.TB, helixOpts helixtest.Options, ircOpts irctest.Options) *world {
	tb.Helper()
	tw := helixtest.New(helixOpts)
	tb.Cleanup(tw.Close)
	es := eventsubtest.New(eventsubtest.Options{Authorize: tw.ValidAppToken, ClientID: helixtest.DefaultClientID, KeepaliveSeconds: 10})
	tw.Handle("/helix/eventsub/", es)
	tw.Handle("GET /ws", es)
	tb.Cleanup(es.Close)
	tw.AddUserToken(ircToken, botName, "chat:read")
	if ircOpts.Username == "" {
		ircOpts.Username, ircOpts.Token = botName, ircToken
	}
	chat, err := irctest.NewServer(ircOpts)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(chat.Close)
	return &world{tw: tw, chat: chat, es: es}
}

// add registers streamers with Helix, live or not.
func (w *world) add(live bool, logins ...string) {
	for _, l := range logins {
		w.tw.AddUser(l)
		w.tw.SetLive(l, live)
	}
}

// addChannels registers n live streamers named chan00, chan01, ... and
// returns their logins.
func (w *world) addChannels(n int) []string {
	logins := make([]string, n)
	for i := range logins {
		logins[i] = fmt.Sprintf("chan%02d", i)
	}
	w.add(true, logins...)
	return logins
}

// cfg is a test configuration; yaml renders it.
type cfg struct {
	streamers   []string
	interval    string
	grace       string
	maxChannels int
	extraIRC    string
	httpListen  string
	// stateDir, when set, leaves irc.token out: farmd uses the token
	// stored there (storeToken).
	stateDir string
	noSecret bool // a public application: no twitch.client_secret
	eventsub bool // use the world's EventSub fake (off otherwise)
}

func (w *world) yaml(c cfg) string {
	if c.interval == "" {
		c.interval = "40ms"
	}
	if c.grace == "" {
		c.grace = "0s"
	}
	if c.maxChannels == 0 {
		c.maxChannels = 100
	}
	var b strings.Builder
	if c.stateDir != "" {
		fmt.Fprintf(&b, "state_dir: %s\n", c.stateDir)
	}
	fmt.Fprintf(&b, "twitch:\n  client_id: %s\n  auth_url: %s\n  helix_url: %s\n",
		helixtest.DefaultClientID, w.tw.AuthURL(), w.tw.HelixURL())
	if !c.noSecret {
		fmt.Fprintf(&b, "  client_secret: %s\n", helixtest.DefaultClientSecret)
	}
	token := "  token: oauth:" + ircToken + "\n"
	if c.stateDir != "" {
		token = ""
	}
	fmt.Fprintf(&b, "irc:\n  username: %s\n%s  address: %s\n  tls: false\n  max_channels: %d\n%s",
		botName, token, w.chat.Addr(), c.maxChannels, c.extraIRC)
	if c.httpListen != "" {
		fmt.Fprintf(&b, "http:\n  listen: %s\n", c.httpListen)
	}
	if c.eventsub {
		fmt.Fprintf(&b, "eventsub:\n  websocket_url: %s\n", strings.Replace(w.tw.URL(), "http://", "ws://", 1)+"/ws")
	} else {
		b.WriteString("eventsub:\n  enabled: false\n")
	}
	fmt.Fprintf(&b, "poll:\n  interval: %s\n  offline_grace: %s\nstreamers:\n", c.interval, c.grace)
	for _, s := range c.streamers {
		fmt.Fprintf(&b, "  - %q\n", s)
	}
	return b.String()
}

func writeFile(tb testing.TB, path, content string) {
	tb.Helper()
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		tb.Fatal(err)
	}
}

// proc is farmd's real wiring (run) running in-process.
type proc struct {
	tb      testing.TB
	path    string // config file
	signals chan os.Signal
	stdout  testkit.LogBuffer
	stderr  testkit.LogBuffer
	done    chan int
	code    int
	exited  bool
}

// testTuning shortens the daemon's internal timings so that minutes of
// behaviour take milliseconds.
func testTuning(t *tuning) {
	t.startupBackoff = backoff.Backoff{Min: 10 * time.Millisecond, Max: 100 * time.Millisecond}
	t.irc = func(o *irc.Options) {
		o.BackoffMin, o.BackoffMax = 10*time.Millisecond, 100*time.Millisecond
		o.JoinTimeout, o.JoinRetryMax = 2*time.Second, 4*time.Second
		o.WelcomeTimeout = 2 * time.Second
	}
	t.helix = func(o *helix.Options) {
		o.HTTPClient = &http.Client{Timeout: 2 * time.Second}
		o.BackoffBase, o.BackoffMax = 5*time.Millisecond, 20*time.Millisecond
		o.MaxRateLimitWait = 2 * time.Second
	}
}

// start runs farmd with the config text and extra arguments.
func start(tb testing.TB, config string, tune func(*tuning), args ...string) *proc {
	tb.Helper()
	return startProc(tb, procOptions{config: config, tune: tune, args: args})
}

// procOptions say how startProc runs farmd.
type procOptions struct {
	config string            // the config file's text
	mode   os.FileMode       // the config file's mode (0: 0600)
	env    map[string]string // the environment farmd sees
	tune   func(*tuning)     // applied after testTuning
	args   []string          // after --config and the log flags
}

// startProc runs farmd's real wiring (run) in-process and stops it with
// SIGTERM when the test ends.
func startProc(tb testing.TB, o procOptions) *proc {
	tb.Helper()
	p := &proc{tb: tb, path: filepath.Join(tb.TempDir(), "farmd.yaml"), signals: make(chan os.Signal, 4), done: make(chan int, 1)}
	writeFile(tb, p.path, o.config)
	if o.mode != 0 {
		if err := os.Chmod(p.path, o.mode); err != nil {
			tb.Fatal(err)
		}
	}
	env := environment{
		args:    append([]string{"--config", p.path, "--log-level", "debug", "--log-format", "json"}, o.args...),
		getenv:  func(k string) string { return o.env[k] },
		stdout:  &p.stdout,
		stderr:  &p.stderr,
		signals: p.signals,
		tune:    chain(testTuning, o.tune),
	}
	go func() { p.done <- run(context.Background(), env) }()
	tb.Cleanup(func() {
		if !p.exited {
			p.signals <- syscall.SIGTERM
			p.wait()
		}
	})
	return p
}

// wait returns the exit code.
func (p *proc) wait() int {
	p.tb.Helper()
	if p.exited {
		return p.code
	}
	select {
	case p.code = <-p.done:
		p.exited = true
		return p.code
	case <-time.After(waitMax):
		p.tb.Fatalf("farmd did not exit within %v; log:\n%s", waitMax, p.stderr.String())
		return -1
	}
}

// stop sends SIGTERM and returns the exit code.
func (p *proc) stop() int {
	p.tb.Helper()
	p.signals <- syscall.SIGTERM
	return p.wait()
}

// waitJoined waits until the chat server has the account in exactly want.
func (w *world) waitJoined(tb testing.TB, p *proc, want ...string) {
	tb.Helper()
	slices.Sort(want)
	if want == nil {
		want = []string{}
	}
	ctx, cancel := context.WithTimeout(context.Background(), waitMax)
	defer cancel()
	err := w.chat.Wait(ctx, func(s *irctest.Server) bool {
		got := s.Joined()
		slices.Sort(got)
		return slices.Equal(got, want)
	})
	if err != nil {
		got := w.chat.Joined()
		tb.Fatalf("joined %v, want %v; log:\n%s", got, want, testkit.Tail(p.stderr.String(), 40))
	}
}

// polls waits until n more /streams requests have been answered.
func (w *world) polls(tb testing.TB, n int) {
	tb.Helper()
	target := w.tw.Count(helixtest.EndpointStreams) + n
	testkit.Eventually(tb, fmt.Sprintf("%d polls", n), func() bool { return w.tw.Count(helixtest.EndpointStreams) >= target })
}

// parts returns the PART lines the chat server received.
func (w *world) parts() []string {
	var out []string
	for _, l := range w.chat.Received() {
		if strings.HasPrefix(l, "PART ") {
			out = append(out, l)
		}
	}
	return out
}

// maxJoined replays the JOIN and PART lines the chat server received and
// returns the most channels the account was in (or asked to be in) at once.
func (w *world) maxJoined() int {
	in := map[string]bool{}
	most := 0
	for _, l := range w.chat.Received() {
		cmd, arg, _ := strings.Cut(l, " ")
		for _, ch := range strings.Split(arg, ",") {
			switch cmd {
			case "JOIN":
				in[ch] = true
			case "PART":
				delete(in, ch)
			}
		}
		most = max(most, len(in))
	}
	return most
}
