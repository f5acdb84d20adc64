package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/farmd/farmd/backoff"
	"github.com/farmd/farmd/helix/helixtest"
	"github.com/farmd/farmd/internal/testkit"
	"github.com/farmd/farmd/irc/irctest"
	"github.com/farmd/farmd/ops"
)

// freeAddr returns a loopback address with a port nobody listens on.
func freeAddr(tb testing.TB) string {
	tb.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

func httpGet(tb testing.TB, url string) (int, string) {
	tb.Helper()
	resp, err := http.Get(url)
	if err != nil {
		tb.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body)
}

// healthcheckCode runs farmd --healthcheck with the config.
func healthcheckCode(tb testing.TB, path string) (int, string) {
	tb.Helper()
	var stdout, stderr testkit.LogBuffer
	code := run(context.Background(), environment{
		args: []string{"--config", path, "--healthcheck"}, getenv: func(string) string { return "" },
		stdout: &stdout, stderr: &stderr,
	})
	return code, stdout.String() + stderr.String()
}

// TestOperationsEndpoints drives the real daemon through health transitions
// and reads /healthz, /status and /metrics as a user would, and checks that
// no secret appears in any of them.
func TestOperationsEndpoints(t *testing.T) {
	defer http.DefaultClient.CloseIdleConnections()
	w := newWorld(t, irctest.Options{})
	w.add(true, "alice")
	w.add(false, "bob")
	addr := freeAddr(t)
	p := start(t, w.yaml(cfg{streamers: []string{"alice", "bob", "ghost_nobody"}, interval: "50ms", httpListen: addr}), nil)
	base := "http://" + addr
	w.waitJoined(t, p, "alice")

	testkit.Eventually(t, "healthy", func() bool { code, _ := httpGet(t, base+"/healthz"); return code == 200 })
	if code, out := healthcheckCode(t, p.path); code != exitOK || !strings.Contains(out, "ok") {
		t.Errorf("--healthcheck while healthy: exit %d, output %q", code, out)
	}

	var st ops.Status
	testkit.Eventually(t, "/status to show the confirmed JOIN", func() bool {
		code, body := httpGet(t, base+"/status")
		if code != 200 {
			t.Fatalf("/status: %d", code)
		}
		st = ops.Status{}
		if err := json.Unmarshal([]byte(body), &st); err != nil {
			t.Fatalf("/status is not JSON: %v", err)
		}
		return len(st.Joined) == 1
	})
	if !st.Connected || strings.Join(st.Live, ",") != "alice" || strings.Join(st.Joined, ",") != "alice" || st.LastPoll.IsZero() {
		t.Errorf("/status: connected %v live %v joined %v last_poll %v", st.Connected, st.Live, st.Joined, st.LastPoll)
	}
	if strings.Join(st.Unresolved, ",") != "ghost_nobody" || !st.RateLimit.Known || st.RateLimit.Remaining <= 0 {
		t.Errorf("/status: unresolved %v rate limit %+v", st.Unresolved, st.RateLimit)
	}
	if len(st.Streamers) != 2 || st.Streamers[0].Chat != "joined" || st.Streamers[1].State != "offline" {
		t.Errorf("/status streamers: %+v", st.Streamers)
	}
	_, metrics := httpGet(t, base+"/metrics")
	for _, want := range []string{`farmd_channels{state="joined"} 1`, "farmd_streamers_live 1", "farmd_irc_connected 1", `farmd_helix_requests_total{endpoint="streams",status="200"}`} {
		if !strings.Contains(metrics, want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}

	// Helix failing for more than three intervals makes farmd unhealthy
	// (and never parts alice).
	w.tw.Fail(helixtest.EndpointStreams, helixtest.Fault{Status: 503})
	testkit.Eventually(t, "unhealthy while polls fail", func() bool {
		code, body := httpGet(t, base+"/healthz")
		return code == 503 && strings.HasPrefix(body, "poll failing since ")
	})
	if code, out := healthcheckCode(t, p.path); code != exitFatal || !strings.Contains(out, "poll failing since") {
		t.Errorf("--healthcheck while polls fail: exit %d, output %q", code, out)
	}
	_, metrics = httpGet(t, base+"/metrics")
	if strings.Contains(metrics, `farmd_poll_errors_total{cause="server_error"} 0`) {
		t.Errorf("no server_error poll errors counted")
	}
	w.tw.ClearFaults(helixtest.EndpointStreams)
	testkit.Eventually(t, "healthy again", func() bool { code, _ := httpGet(t, base+"/healthz"); return code == 200 })

	// IRC down: the server stops welcoming and drops the connection.
	w.chat.SetNoWelcome(true)
	w.chat.Drop()
	testkit.Eventually(t, "unhealthy while IRC is down", func() bool {
		code, body := httpGet(t, base+"/healthz")
		return code == 503 && strings.HasPrefix(body, "irc disconnected")
	})
	w.chat.SetNoWelcome(false)
	testkit.Eventually(t, "healthy after reconnect", func() bool { code, _ := httpGet(t, base+"/healthz"); return code == 200 })

	all := ""
	for _, path := range []string{"/healthz", "/status", "/metrics", "/"} {
		_, b := httpGet(t, base+path)
		all += b
	}
	for _, s := range append([]string{helixtest.DefaultClientSecret, ircToken}, w.tw.IssuedAppTokens()...) {
		if strings.Contains(all, s) {
			t.Errorf("secret %.4s... appears in an HTTP response", s)
		}
	}
	if code := p.stop(); code != exitOK {
		t.Errorf("exit code %d", code)
	}
	if code, _ := healthcheckCode(t, p.path); code != exitFatal {
		t.Errorf("--healthcheck with farmd stopped: exit %d, want 1", code)
	}
}

func TestHealthcheckWithoutListen(t *testing.T) {
	w := newWorld(t, irctest.Options{})
	path := filepath.Join(t.TempDir(), "farmd.yaml")
	writeFile(t, path, w.yaml(cfg{streamers: []string{"alice"}}))
	if code, out := healthcheckCode(t, path); code != exitFatal || !strings.Contains(out, "http.listen is not set") {
		t.Errorf("exit %d, output %q", code, out)
	}
}

func TestHTTPListenInUseExits1(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	w := newWorld(t, irctest.Options{})
	w.add(true, "alice")
	p := start(t, w.yaml(cfg{streamers: []string{"alice"}, httpListen: ln.Addr().String()}), nil)
	if code := p.wait(); code != exitFatal {
		t.Fatalf("exit code %d, want 1", code)
	}
	if !strings.Contains(p.stderr.String(), "cannot listen for the operations HTTP server") {
		t.Errorf("no clear message:\n%s", testkit.Tail(p.stderr.String(), 5))
	}
}

// TestSystemdNotify listens on a NOTIFY_SOCKET as systemd does and checks
// READY=1 (after IRC login and the first poll), WATCHDOG=1 pings,
// RELOADING=1/READY=1 around SIGHUP and STOPPING=1 on SIGTERM.
func TestSystemdNotify(t *testing.T) {
	sock := filepath.Join(t.TempDir(), "notify.sock")
	conn, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: sock, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	t.Setenv("NOTIFY_SOCKET", sock)
	t.Setenv("WATCHDOG_USEC", "100000") // ping every 50ms
	t.Setenv("WATCHDOG_PID", "")
	msgs := make(chan string, 1000)
	go func() {
		buf := make([]byte, 4096)
		for {
			n, err := conn.Read(buf)
			if err != nil {
				close(msgs)
				return
			}
			msgs <- string(buf[:n])
		}
	}()
	next := func(want string) {
		t.Helper()
		timeout := time.After(waitMax)
		for {
			select {
			case m, ok := <-msgs:
				if !ok {
					t.Fatalf("socket closed waiting for %q", want)
				}
				if strings.HasPrefix(m, want) {
					return
				}
			case <-timeout:
				t.Fatalf("no %q notification", want)
			}
		}
	}

	w := newWorld(t, irctest.Options{})
	w.add(true, "alice")
	p := start(t, w.yaml(cfg{streamers: []string{"alice"}}), nil)
	next("READY=1")
	if w.chat.Logins() != 1 || w.tw.Count(helixtest.EndpointStreams) < 1 {
		t.Errorf("READY=1 before IRC login (%d) and the first poll (%d requests)", w.chat.Logins(), w.tw.Count(helixtest.EndpointStreams))
	}
	next("WATCHDOG=1")
	next("WATCHDOG=1")
	p.signals <- syscall.SIGHUP
	next("RELOADING=1")
	next("READY=1")
	p.signals <- syscall.SIGTERM
	next("STOPPING=1")
	if code := p.wait(); code != exitOK {
		t.Errorf("exit code %d", code)
	}
}

// TestOneBadStreamStaysHealthy: a stream answered with type "" (Twitch's
// error type) leaves its streamer unchecked on every poll, but the others
// are served, so farmd stays healthy well past three intervals, says what is unchecked in
// /healthz, /status and /metrics, keeps the live channels joined, and warns.
func TestOneBadStreamStaysHealthy(t *testing.T) {
	defer http.DefaultClient.CloseIdleConnections()
	w := newWorld(t, irctest.Options{})
	var logins []string
	for i := range 150 {
		logins = append(logins, fmt.Sprintf("streamer%03d", i))
	}
	w.add(false, logins...)
	w.tw.SetLive("streamer000", true)
	w.tw.SetLive("streamer149", true)
	w.tw.SetStreamType("streamer149", "")
	addr := freeAddr(t)
	p := start(t, w.yaml(cfg{streamers: logins, interval: "50ms", httpListen: addr}), nil)
	base := "http://" + addr
	w.waitJoined(t, p, "streamer000")
	w.polls(t, 2*10) // ten cycles of two requests: far past three intervals
	code, body := httpGet(t, base+"/healthz")
	if code != 200 || !strings.HasPrefix(body, "ok; 1 streamer not checked since ") {
		t.Errorf("/healthz = %d %q, want 200 with 1 streamer not checked", code, body)
	}
	_, status := httpGet(t, base+"/status")
	if !strings.Contains(status, `"poll_state": "partial"`) || !strings.Contains(status, `"poll_unchecked": 1`) {
		t.Errorf("/status does not show the partial polls:\n%s", testkit.Tail(status, 60))
	}
	_, metrics := httpGet(t, base+"/metrics")
	if !strings.Contains(metrics, "farmd_poll_unchecked_streamers 1") {
		t.Errorf("/metrics lacks farmd_poll_unchecked_streamers 1")
	}
	if !strings.Contains(p.stderr.String(), "poll failed; streamers not checked keep their state") {
		t.Errorf("no warning about the failing batch")
	}
	if got := w.chat.Joined(); len(got) != 1 || got[0] != "streamer000" {
		t.Errorf("joined %v, want [streamer000]", got)
	}
}

// TestStatusPageServed: the real daemon serves the status page at / with
// its streamers, the timeline and the events, and the EventSub line.
func TestStatusPageServed(t *testing.T) {
	defer http.DefaultClient.CloseIdleConnections()
	w := newWorld(t, irctest.Options{})
	w.add(true, "alice")
	addr := freeAddr(t)
	p := start(t, w.yaml(cfg{streamers: []string{"alice"}, httpListen: addr, eventsub: true}), nil)
	w.waitJoined(t, p, "alice")
	var page string
	testkit.Eventually(t, "the page to show alice in chat", func() bool {
		code, body := httpGet(t, "http://"+addr+"/")
		page = body
		return code == 200 && strings.Contains(body, "alice") && strings.Contains(body, "<svg")
	})
	for _, want := range []string{"<html", "subscriptions"} {
		if !strings.Contains(page, want) {
			t.Errorf("the status page lacks %q", want)
		}
	}
}

// TestHealthFromTheFirstSecond: the operations server answers while farmd
// still waits for Twitch, and /healthz says what it waits for; the log says
// what farmd is doing before the first wait.
func TestHealthFromTheFirstSecond(t *testing.T) {
	defer http.DefaultClient.CloseIdleConnections()
	w := newWorld(t, irctest.Options{})
	w.add(true, "alice")
	w.tw.Fail(helixtest.EndpointValidate, helixtest.Fault{Status: 503})
	addr := freeAddr(t)
	p := start(t, w.yaml(cfg{streamers: []string{"alice"}, httpListen: addr}), func(t *tuning) {
		t.startupBackoff = backoff.Backoff{Min: time.Hour, Max: time.Hour}
	})
	var body string
	testkit.Eventually(t, "/healthz to say farmd is starting", func() bool {
		resp, err := http.Get("http://" + addr + "/healthz")
		if err != nil {
			return false // not listening yet: farmd is still reading its config
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		body = string(b)
		return resp.StatusCode == 503 && strings.HasPrefix(body, "starting: validating irc.token failed: ")
	})
	if !strings.Contains(body, "retrying in 1h0m0s") {
		t.Errorf("/healthz = %q, want it to say when farmd retries", body)
	}
	if code, out := healthcheckCode(t, p.path); code != exitFatal || !strings.Contains(out, "starting:") {
		t.Errorf("--healthcheck while starting: exit %d, output %q", code, out)
	}
	logs := p.stderr.String()
	first, wait := strings.Index(logs, "starting: checking the chat token with Twitch"), strings.Index(logs, "failed; retrying")
	if first < 0 || wait < 0 || first > wait {
		t.Errorf("the log does not say what farmd does before it waits:\n%s", testkit.Tail(logs, 10))
	}
}
