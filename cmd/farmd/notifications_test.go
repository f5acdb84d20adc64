package main

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/farmd/farmd/internal/testkit"
	"github.com/farmd/farmd/irc/irctest"
	"github.com/farmd/farmd/notify"
)

// webhook is a generic-webhook service that records what it receives.
type webhook struct {
	srv    *httptest.Server
	mu     sync.Mutex
	bodies []string
	status int           // answer; 0 means 200
	hang   chan struct{} // when set, requests wait for it to close
}

func newWebhook(tb testing.TB) *webhook {
	tb.Helper()
	h := &webhook{}
	h.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		h.mu.Lock()
		h.bodies = append(h.bodies, string(body))
		status, hang := h.status, h.hang
		h.mu.Unlock()
		if hang != nil {
			select {
			case <-hang:
			case <-r.Context().Done():
			}
		}
		if status != 0 {
			w.WriteHeader(status)
		}
	}))
	tb.Cleanup(h.srv.Close)
	return h
}

// url is the shoutrrr URL of the hook, with a secret-looking path.
func (h *webhook) url() string {
	return "generic+" + h.srv.URL + "/hooks/s3cr3tpath?template=json"
}

func (h *webhook) received() string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return strings.Join(h.bodies, "\n---\n")
}

func (h *webhook) waitFor(tb testing.TB, s string) {
	tb.Helper()
	testkit.Eventually(tb, "a notification with "+s, func() bool { return strings.Contains(h.received(), s) })
}

// quickNotify sends notifications without the batching window.
func quickNotify(t *tuning) {
	t.notify = func(o *notify.Options) { o.Window = 10 * time.Millisecond }
}

func notifyYAML(urls ...string) string {
	s := "notify:\n"
	for _, u := range urls {
		s += "  - url: \"" + u + "\"\n"
	}
	return s
}

// TestNotifyCheckNamesBadURL: --check validates every URL with shoutrrr's
// parser and names the bad one by position, never printing it.
func TestNotifyCheckNamesBadURL(t *testing.T) {
	w := newWorld(t, irctest.Options{})
	hook := newWebhook(t)
	text := w.yaml(cfg{streamers: []string{"alice"}}) + notifyYAML(hook.url(), "telegrm://s3cr3ttoken@telegram?chats=@x")
	path := t.TempDir() + "/farmd.yaml"
	writeFile(t, path, text)
	var stdout, stderr testkit.LogBuffer
	code := run(context.Background(), environment{args: []string{"--check", "--config", path}, getenv: func(string) string { return "" }, stdout: &stdout, stderr: &stderr})
	if code != exitConfig || !strings.Contains(stderr.String(), "notify[1]") {
		t.Errorf("exit %d, stderr %q; want 2 naming notify[1]", code, stderr.String())
	}
	if strings.Contains(stdout.String()+stderr.String(), "s3cr3t") {
		t.Errorf("the output shows a URL's secret: %s", stderr.String())
	}
}

// TestNotifyTest: one line per URL, ok or the error without the URL's
// secret parts; exit 0 when all went through, 1 otherwise.
func TestNotifyTest(t *testing.T) {
	good, bad := newWebhook(t), newWebhook(t)
	bad.status = http.StatusInternalServerError
	w := newWorld(t, irctest.Options{})
	for _, tc := range []struct {
		name  string
		urls  []string
		code  int
		lines []string
	}{
		{"all good", []string{good.url()}, exitOK, []string{"notify[0] generic: ok"}},
		{"one failing", []string{good.url(), bad.url()}, exitFatal, []string{"notify[0] generic: ok", "notify[1] generic: failed:"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := t.TempDir() + "/farmd.yaml"
			writeFile(t, path, w.yaml(cfg{streamers: []string{"alice"}})+notifyYAML(tc.urls...))
			var stdout, stderr testkit.LogBuffer
			code := run(context.Background(), environment{args: []string{"notify-test", "--config", path}, getenv: func(string) string { return "" },
				stdout: &stdout, stderr: &stderr, tune: func(t *tuning) { testTuning(t); t.notify = func(o *notify.Options) { o.Attempts = 1 } }})
			if code != tc.code {
				t.Errorf("exit %d, want %d; stdout %q stderr %q", code, tc.code, stdout.String(), stderr.String())
			}
			for _, l := range tc.lines {
				if !strings.Contains(stdout.String(), l) {
					t.Errorf("stdout lacks %q:\n%s", l, stdout.String())
				}
			}
			if strings.Contains(stdout.String()+stderr.String(), "s3cr3tpath") {
				t.Errorf("the output shows a URL's secret part:\n%s", stdout.String())
			}
		})
	}
	if !strings.Contains(good.received(), "farmd test notification") {
		t.Errorf("the good hook got %q, want the test message", good.received())
	}
}

// TestDaemonNotifications: the daemon tells when it started, when Twitch
// refuses a channel and when it stops; after an unclean exit the start says
// it restarted.
func TestDaemonNotifications(t *testing.T) {
	hook := newWebhook(t)
	w := newWorld(t, irctest.Options{})
	w.add(true, "alice", "gone")
	w.chat.SetNotice("gone", "msg_channel_suspended", "This channel has been suspended.")
	dir := t.TempDir()
	text := w.yaml(cfg{streamers: []string{"alice", "gone"}, extraIRC: ""}) + notifyYAML(hook.url()) + "state_dir: " + dir + "\n"
	p := start(t, text, quickNotify)
	w.waitJoined(t, p, "alice")
	hook.waitFor(t, "farmd started")
	hook.waitFor(t, "gone")
	if code := p.stop(); code != exitOK {
		t.Fatalf("exit %d", code)
	}
	hook.waitFor(t, "stopping")
	if _, err := notify.MarkRunning(dir); err != nil { // as a crash would leave it
		t.Fatal(err)
	}
	p = start(t, text, quickNotify)
	hook.waitFor(t, "started after an unclean exit")
	p.stop()
	if strings.Contains(p.stderr.String(), "s3cr3tpath") {
		t.Error("the log shows the notify URL")
	}
}

// TestDeadNotifyServiceDoesNotDelayPresence: a service that hangs does not
// hold up the JOIN of a live channel.
func TestDeadNotifyServiceDoesNotDelayPresence(t *testing.T) {
	hook := newWebhook(t)
	hook.hang = make(chan struct{})
	defer close(hook.hang)
	w := newWorld(t, irctest.Options{})
	w.add(true, "alice")
	p := start(t, w.yaml(cfg{streamers: []string{"alice"}})+notifyYAML(hook.url()), quickNotify)
	testkit.Eventually(t, "a request to the hanging service", func() bool { return hook.received() != "" })
	w.waitJoined(t, p, "alice")
}

// count returns how many received messages contain s.
func (h *webhook) count(s string) int {
	h.mu.Lock()
	defer h.mu.Unlock()
	n := 0
	for _, b := range h.bodies {
		n += strings.Count(b, s)
	}
	return n
}

// TestLiveOfflineNotifications: one live notification per stream with its
// link, none for a blip within the offline grace, one offline notification
// once the grace has passed, saying how long farmd was in the chat; after a
// restart a stream already announced is not announced again, but its end
// still is.
func TestLiveOfflineNotifications(t *testing.T) {
	hook := newWebhook(t)
	w := newWorld(t, irctest.Options{})
	w.add(false, "alice")
	dir := t.TempDir()
	c := cfg{streamers: []string{"alice"}, grace: "600ms", stateDir: dir}
	text := w.yaml(c) + notifyYAML(hook.url())
	// stateDir leaves irc.token out: this test runs on the static token.
	text = strings.Replace(text, "irc:\n", "irc:\n  token: oauth:"+ircToken+"\n", 1)
	p := start(t, text, quickNotify)
	w.polls(t, 2)
	w.tw.SetLive("alice", true)
	hook.waitFor(t, "alice is live")
	if !strings.Contains(hook.received(), `alice is live: \"live with alice\" (Just Chatting, 42 viewers)`) { // JSON-escaped by template=json
		t.Errorf("the live notification lacks the stream's title, game and viewers:\n%s", hook.received())
	}
	if n := hook.count("https://twitch.tv/alice"); n != 1 {
		t.Errorf("%d messages link alice's channel, want 1", n)
	}
	w.waitJoined(t, p, "alice")
	if code := p.stop(); code != exitOK { // a restart while alice is live
		t.Fatalf("exit %d", code)
	}
	p = start(t, text, quickNotify)
	w.waitJoined(t, p, "alice")
	w.polls(t, 3)
	w.tw.SetLive("alice", false) // a blip: back before the grace ends
	w.polls(t, 2)
	w.tw.SetLive("alice", true)
	w.polls(t, 4)
	w.tw.SetLive("alice", false)
	hook.waitFor(t, "alice went offline")
	if n := hook.count("alice is live"); n != 1 {
		t.Errorf("%d live notifications for one stream (a restart and a blip), want 1", n)
	}
	if n := hook.count("alice went offline"); n != 1 {
		t.Errorf("%d offline notifications, want 1", n)
	}
	if !strings.Contains(hook.received(), "farmd was in its chat for") {
		t.Errorf("the offline notification does not say how long farmd was present:\n%s", hook.received())
	}
}
