package main

import (
	"context"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/farmd/farmd/helix/helixtest"
	"github.com/farmd/farmd/irc/irctest"
)

const (
	botName  = "loadbot"
	botToken = "loadtoken0123456789abcdefghij"
)

// world is a simulated Twitch on loopback: Helix (behind a proxy that
// timestamps every /streams answer) and chat.
type world struct {
	tw    *helixtest.Server
	chat  *irctest.Server
	proxy *httptest.Server

	mu      sync.Mutex
	answers []time.Time // when each /streams answer left the proxy
}

// newWorld starts the fakes. The Helix bucket is large unless rateLimit is
// set: the load run compresses time, so farmd polls faster than Twitch
// would allow.
func newWorld(ircOpts irctest.Options, rateLimit int) (*world, error) {
	return newWorldWith(ircOpts, helixtest.Options{RateLimit: rateLimit})
}

// newWorldWith is newWorld with the Helix fake's options (a large bucket
// unless RateLimit is set).
func newWorldWith(ircOpts irctest.Options, hopts helixtest.Options) (*world, error) {
	if hopts.RateLimit <= 0 {
		hopts.RateLimit = 1 << 30
	}
	w := &world{tw: helixtest.New(hopts)}
	w.tw.AddUserToken(botToken, botName, "chat:read")
	ircOpts.Username, ircOpts.Token = botName, botToken
	chat, err := irctest.NewServer(ircOpts)
	if err != nil {
		w.tw.Close()
		return nil, err
	}
	w.chat = chat
	target, _ := url.Parse(w.tw.URL())
	rp := httputil.NewSingleHostReverseProxy(target)
	rp.ModifyResponse = func(r *http.Response) error {
		if strings.HasSuffix(r.Request.URL.Path, "/helix/streams") {
			w.mu.Lock()
			w.answers = append(w.answers, time.Now())
			w.mu.Unlock()
		}
		return nil
	}
	rp.ErrorLog = log.New(io.Discard, "", 0) // farmd cancelling a poll at shutdown is not news
	w.proxy = httptest.NewServer(rp)
	return w, nil
}

func (w *world) close() {
	w.proxy.Close()
	w.chat.Close()
	w.tw.Close()
}

// lastAnswerBefore returns the last /streams answer sent before t.
func (w *world) lastAnswerBefore(t time.Time) (time.Time, bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	for i := len(w.answers) - 1; i >= 0; i-- {
		if !w.answers[i].After(t) {
			return w.answers[i], true
		}
	}
	return time.Time{}, false
}

// farmdConfig describes the farmd configuration of a run.
type farmdConfig struct {
	streamers []string
	interval  string
	grace     string
	verified  bool
	listen    string
	// eventsubURL is the EventSub WebSocket farmd connects to; empty turns
	// EventSub off, which farmd enables by default towards Twitch itself:
	// the load run must not leave loopback, and the polling modes measure
	// polling alone.
	eventsubURL string
	// direct points farmd at the Helix fake itself rather than the
	// timestamping proxy (which speaks plain HTTP/1.1), so that it
	// negotiates what the fake offers.
	direct bool
	// env is added to farmd's environment (SSL_CERT_FILE).
	env []string
}

// farmd is the farmd binary running against w.
type farmd struct {
	cmd  *exec.Cmd
	dir  string
	done chan error
}

// startFarmd writes the configuration and starts the binary; its logs go to
// dir/farmd.log.
func (w *world) startFarmd(bin string, c farmdConfig) (*farmd, error) {
	dir, err := os.MkdirTemp("", "farmload-")
	if err != nil {
		return nil, err
	}
	var b strings.Builder
	helixURL := w.proxy.URL + "/helix"
	if c.direct {
		helixURL = w.tw.HelixURL()
	}
	fmt.Fprintf(&b, "twitch:\n  client_id: %s\n  client_secret: %s\n  auth_url: %s\n  helix_url: %s\n",
		helixtest.DefaultClientID, helixtest.DefaultClientSecret, w.tw.AuthURL(), helixURL)
	fmt.Fprintf(&b, "irc:\n  username: %s\n  token: oauth:%s\n  address: %s\n  tls: false\n  verified_bot: %v\n  max_channels: 100\n",
		botName, botToken, w.chat.Addr(), c.verified)
	fmt.Fprintf(&b, "poll:\n  interval: %s\n  offline_grace: %s\n", c.interval, c.grace)
	if c.listen != "" {
		fmt.Fprintf(&b, "http:\n  listen: %s\n", c.listen)
	}
	if c.eventsubURL != "" {
		fmt.Fprintf(&b, "eventsub:\n  enabled: true\n  websocket_url: %s\n", c.eventsubURL)
	} else {
		b.WriteString("eventsub:\n  enabled: false\n")
	}
	b.WriteString("streamers:\n")
	for _, s := range c.streamers {
		fmt.Fprintf(&b, "  - %s\n", s)
	}
	path := filepath.Join(dir, "farmd.yaml")
	if err := os.WriteFile(path, []byte(b.String()), 0o600); err != nil {
		return nil, err
	}
	logf, err := os.Create(filepath.Join(dir, "farmd.log"))
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(bin, "--config", path, "--log-format", "json")
	cmd.Stdout, cmd.Stderr = logf, logf
	if len(c.env) > 0 {
		cmd.Env = append(os.Environ(), c.env...)
	}
	if err := cmd.Start(); err != nil {
		logf.Close()
		return nil, fmt.Errorf("start farmd: %w", err)
	}
	f := &farmd{cmd: cmd, dir: dir, done: make(chan error, 1)}
	go func() { f.done <- cmd.Wait(); logf.Close() }()
	return f, nil
}

// stop sends SIGTERM and waits; the logs are kept only when it fails.
func (f *farmd) stop() error {
	_ = f.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-f.done:
		if err == nil {
			os.RemoveAll(f.dir)
			return nil
		}
		return fmt.Errorf("farmd exited: %w (logs in %s)", err, f.dir)
	case <-time.After(10 * time.Second):
		_ = f.cmd.Process.Kill()
		<-f.done
		return fmt.Errorf("farmd did not stop within 10 s (logs in %s)", f.dir)
	}
}

// waitJoined waits until the chat fake has n channels joined.
func (w *world) waitJoined(ctx context.Context, n int, within time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, within)
	defer cancel()
	if err := w.chat.Wait(ctx, func(s *irctest.Server) bool { return len(s.Joined()) >= n }); err != nil {
		return fmt.Errorf("waiting for %d channels joined (have %d): %w", n, len(w.chat.Joined()), err)
	}
	return nil
}

// cpuSeconds returns the user+system CPU time of process pid, from
// /proc/pid/stat (the figures getrusage reports, while it runs).
func cpuSeconds(pid int) (float64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	s := string(b)
	// Fields after the command (which may hold spaces) start after ')'.
	f := strings.Fields(s[strings.LastIndexByte(s, ')')+2:])
	utime, err1 := strconv.ParseFloat(f[11], 64)
	stime, err2 := strconv.ParseFloat(f[12], 64)
	if err1 != nil || err2 != nil {
		return 0, fmt.Errorf("parse /proc/%d/stat", pid)
	}
	const hz = 100 // USER_HZ on Linux
	return (utime + stime) / hz, nil
}

// memKB returns VmRSS and VmHWM (peak RSS) of pid in kB.
func memKB(pid int) (rss, hwm int, err error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, 0, err
	}
	for _, line := range strings.Split(string(b), "\n") {
		k, v, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		n, _ := strconv.Atoi(strings.TrimSuffix(strings.TrimSpace(v), " kB"))
		switch k {
		case "VmRSS":
			rss = n
		case "VmHWM":
			hwm = n
		}
	}
	return rss, hwm, nil
}

func logins(prefix string, n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = prefix + strconv.Itoa(i)
	}
	return out
}
