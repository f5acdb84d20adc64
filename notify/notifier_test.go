package notify

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/farmd/farmd/internal/testkit"
)

func genericURL(f *fakeService, path string) URL {
	return URL("generic+http://" + f.hostPort() + path)
}

// burst is 40 streamers going live at once, as after a restart.
func burst() []Event {
	evs := make([]Event, 40)
	for i := range evs {
		evs[i] = Live{Login: fmt.Sprintf("streamer%02d", i), Game: "Chess"}
	}
	return evs
}

func TestBurstIsOneMessagePerService(t *testing.T) {
	generic := newFake(t, "ok")
	discord := newFake(t, "")
	telegram := newFake(t, `{"ok":true,"result":{"message_id":1}}`)
	client := testClient(t, map[string]*fakeService{"discord.com": discord, "api.telegram.org": telegram})
	h := newHarness(t, []Target{
		{URL: genericURL(generic, "/hook")},
		// Discord posts one embed per line unless splitlines=no, ten embeds
		// a request: the burst would be five posts.
		{URL: URL("discord://" + discordToken + "@" + discordID + "?splitlines=no")},
		{URL: URL("telegram://" + telegramToken + "@telegram?chats=@farmdtest")},
	}, Options{HTTPClient: client})
	h.start(t)
	for _, ev := range burst() {
		h.Notify(ev)
	}
	h.timers.Fire(t, testWindow, 3)
	got := generic.WaitRequests(t, 1)[0].Body
	discord.WaitRequests(t, 1)
	telegram.WaitRequests(t, 1)
	h.stop()

	for _, f := range []*fakeService{generic, discord, telegram} {
		if n := len(f.Requests()); n != 1 {
			t.Errorf("%s got %d requests, want 1", f.URL, n)
		}
	}
	if !strings.HasPrefix(got, "40 streamers went live:\n- streamer00 is live (Chess) https://twitch.tv/streamer00\n") {
		t.Errorf("batch starts %q", got[:min(len(got), 120)])
	}
	for _, ev := range burst() {
		if !strings.Contains(got, "- "+ev.Text()+"\n") && !strings.HasSuffix(got, "- "+ev.Text()) {
			t.Errorf("batch lacks %q", ev.Text())
		}
	}
	for _, st := range h.Stats() {
		if st.Sent != 40 || st.Failed != 0 || st.Dropped != 0 {
			t.Errorf("stats %+v, want sent 40", st)
		}
	}
}

func TestDeadServicesAreIsolated(t *testing.T) {
	failing := newFake(t, "boom")
	failing.status = func(int) int { return 500 }
	hanging := newFake(t, "")
	hanging.hang = true
	good := newFake(t, "ok")
	h := newHarness(t, []Target{
		{URL: genericURL(failing, "/500")},
		{URL: URL("generic+http://" + closedPort(t) + "/closed")},
		{URL: genericURL(hanging, "/hang")},
		{URL: genericURL(good, "/good")},
	}, Options{Attempts: 2})
	h.start(t)

	h.Notify(Daemon{State: DaemonStarted})
	h.timers.Fire(t, testWindow, 4)
	<-hanging.entered // a send to the hanging server is in flight
	good.WaitRequests(t, 1)

	// With the hanging send in flight, Notify still returns: it is never
	// the one waiting for a service.
	returned := make(chan struct{})
	go func() {
		h.Notify(Daemon{State: DaemonStopping})
		close(returned)
	}()
	select {
	case <-returned:
	case <-time.After(testkit.WaitMax):
		t.Fatal("Notify blocked while a service hangs")
	}
	h.timers.Fire(t, testWindow, 3) // every worker but the hanging one collects the second event
	if got := good.WaitRequests(t, 2)[1].Body; got != "farmd is stopping" {
		t.Errorf("good service got %q, want the second event", got)
	}
	testkit.Eventually(t, "both failing targets given up twice, the good one done", func() bool {
		st := h.Stats()
		return st[0].Failed == 2 && st[1].Failed == 2 && st[3].Sent == 2
	})
	if n := len(failing.Requests()); n != 4 {
		t.Errorf("failing service got %d requests, want 4 (2 events, 2 attempts each)", n)
	}

	// Shutdown with the hanging send still in flight: Run waits for the
	// drain timeout, then aborts it, and returns before the server lets go.
	stopped := make(chan struct{})
	go func() { h.stop(); close(stopped) }()
	h.timers.Fire(t, testDrain, 1)
	select {
	case <-stopped:
	case <-time.After(testkit.WaitMax):
		t.Fatal("Run did not return after the drain timeout")
	}
	select {
	case <-hanging.release:
		t.Fatal("hanging server was released before Run returned")
	default:
	}
	// The request was cancelled, not left running.
	select {
	case <-hanging.aborted:
	case <-time.After(testkit.WaitMax):
		t.Fatal("the hanging request was never cancelled")
	}
	if log := h.logs.String(); strings.Contains(log, "send abandoned") {
		t.Errorf("a send was abandoned instead of cancelled:\n%s", log)
	}
	st := h.Stats()
	want := []Stats{
		{Index: 0, Service: "generic", Failed: 2},
		{Index: 1, Service: "generic", Failed: 2},
		{Index: 2, Service: "generic", Failed: 2},
		{Index: 3, Service: "generic", Sent: 2},
	}
	for i := range want {
		if st[i] != want[i] {
			t.Errorf("stats[%d] = %+v, want %+v", i, st[i], want[i])
		}
	}
	h.logs.WaitContains(t, "notifications still unsent at shutdown")
}

func TestRetryThenSent(t *testing.T) {
	f := newFake(t, "ok")
	f.status = func(n int) int {
		if n < 3 {
			return 503
		}
		return 200
	}
	h := newHarness(t, []Target{{URL: genericURL(f, "/x")}}, Options{})
	h.start(t)
	h.Notify(Unavailable{Login: "x", Reason: "banned"})
	h.timers.Fire(t, testWindow, 1)
	f.WaitRequests(t, 3)
	h.stop()
	if st := h.Stats()[0]; st.Sent != 1 || st.Failed != 0 {
		t.Errorf("stats %+v, want sent 1 failed 0", st)
	}
	// The window, then the backoff between the three attempts.
	want := []time.Duration{testWindow, 5 * time.Second, 10 * time.Second}
	if got := h.timers.Asked(); fmt.Sprint(got[:min(len(got), 3)]) != fmt.Sprint(want) {
		t.Errorf("timers %v, want %v first", got, want)
	}
	log := h.logs.String()
	if got := strings.Count(log, `"level":"warn"`); got != 1 {
		t.Errorf("%d warnings, want 1 (the first failure):\n%s", got, log)
	}
	if !strings.Contains(log, "notifications delivered again") {
		t.Errorf("no recovery line:\n%s", log)
	}
}

func TestFailureWarningsAreRateLimited(t *testing.T) {
	f := newFake(t, "")
	f.status = func(int) int { return 500 }
	h := newHarness(t, []Target{{URL: genericURL(f, "/x")}}, Options{Attempts: 1})
	h.start(t)
	send := func(n int) {
		t.Helper()
		h.Notify(Daemon{State: DaemonStarted})
		h.timers.Fire(t, testWindow, 1)
		testkit.Eventually(t, "the failure counted", func() bool { return h.Stats()[0].Failed == uint64(n) })
	}
	warnings := func() int { return strings.Count(h.logs.String(), `"level":"warn","component":"notify"`) }
	send(1)
	send(2)
	h.clock.Advance(9 * time.Minute)
	send(3)
	if got := warnings(); got != 1 {
		t.Errorf("after 3 failures within 10 min: %d warnings, want 1:\n%s", got, h.logs.String())
	}
	h.clock.Advance(time.Minute)
	send(4)
	if got := warnings(); got != 2 {
		t.Errorf("after 10 min: %d warnings, want 2", got)
	}
	if got := strings.Count(h.logs.String(), "notification failed"); got != 4 {
		t.Errorf("%d failure lines (warn or debug), want 4", got)
	}
}

func TestQueueDropsOldest(t *testing.T) {
	f := newFake(t, "ok")
	h := newHarness(t, []Target{{URL: genericURL(f, "/x")}}, Options{QueueSize: 3})
	// Not running yet: nothing takes from the queue.
	for i := range 5 {
		h.Notify(Unavailable{Login: fmt.Sprintf("s%d", i), Reason: "banned"})
	}
	if st := h.Stats()[0]; st.Dropped != 2 || st.Queued != 3 {
		t.Errorf("stats %+v, want dropped 2 queued 3", st)
	}
	if got := strings.Count(h.logs.String(), "notification queue full, dropped the oldest"); got != 1 {
		t.Errorf("%d drop warnings, want 1 (rate-limited):\n%s", got, h.logs.String())
	}
	h.start(t)
	h.timers.Fire(t, testWindow, 1)
	got := f.WaitRequests(t, 1)[0].Body
	want := "3 notifications from farmd:\n- twitch refused channel s2: banned\n- twitch refused channel s3: banned\n- twitch refused channel s4: banned"
	if got != want {
		t.Errorf("got %q, want %q", got, want)
	}
	h.stop()
	if st := h.Stats()[0]; st.Sent != 3 || st.Dropped != 2 || st.Queued != 0 {
		t.Errorf("stats %+v, want sent 3 dropped 2", st)
	}
}

func TestEventsFilter(t *testing.T) {
	liveOnly, offlineOnly, all := newFake(t, "ok"), newFake(t, "ok"), newFake(t, "ok")
	h := newHarness(t, []Target{
		{URL: genericURL(liveOnly, "/a"), Events: KindsOf(KindLive)},
		{URL: genericURL(offlineOnly, "/b"), Events: KindsOf(KindOffline, KindToken)},
		{URL: genericURL(all, "/c")},
	}, Options{})
	h.start(t)
	live := Live{Login: "a"}
	off := Offline{Login: "a", Duration: time.Hour}
	h.Notify(live)
	h.Notify(off)
	h.timers.Fire(t, testWindow, 3)
	a, b, c := liveOnly.WaitRequests(t, 1), offlineOnly.WaitRequests(t, 1), all.WaitRequests(t, 1)
	h.stop()
	if a[0].Body != live.Text() {
		t.Errorf("live-only target got %q", a[0].Body)
	}
	if b[0].Body != off.Text() {
		t.Errorf("offline-only target got %q", b[0].Body)
	}
	if want := "2 notifications from farmd:\n- " + live.Text() + "\n- " + off.Text(); c[0].Body != want {
		t.Errorf("all-events target got %q, want %q", c[0].Body, want)
	}
}

func TestShutdownDrainsQueue(t *testing.T) {
	f := newFake(t, "ok")
	h := newHarness(t, []Target{{URL: genericURL(f, "/x")}}, Options{})
	h.start(t)
	// Queued during the window, then shutdown: sent at once, not lost.
	h.Notify(Daemon{State: DaemonStopping})
	h.stop()
	if got := f.Requests(); len(got) != 1 || got[0].Body != "farmd is stopping" {
		t.Errorf("requests %+v, want the stopping message", got)
	}
	h.Notify(Daemon{State: DaemonStarted})
	if st := h.Stats()[0]; st.Sent != 1 || st.Dropped != 1 {
		t.Errorf("stats %+v, want sent 1 and the event after shutdown dropped", st)
	}
	if err := h.Run(context.Background()); err == nil {
		t.Error("a second Run returned nil")
	}
}

func TestLoggerService(t *testing.T) {
	h := newHarness(t, []Target{{URL: "logger://"}}, Options{})
	h.start(t)
	h.Notify(Live{Login: "shroud"})
	h.timers.Fire(t, testWindow, 1)
	h.logs.WaitContains(t, `"message":"notification"`)
	h.stop()
	var line struct {
		Component string `json:"component"`
		Notify    int    `json:"notify"`
		Text      string `json:"text"`
	}
	for _, l := range strings.Split(h.logs.String(), "\n") {
		if strings.Contains(l, `"message":"notification"`) {
			if err := json.Unmarshal([]byte(l), &line); err != nil {
				t.Fatal(err)
			}
		}
	}
	if line.Component != "notify" || line.Text != "shroud is live https://twitch.tv/shroud" {
		t.Errorf("log line %+v", line)
	}
	if st := h.Stats()[0]; st.Sent != 1 || st.Service != "logger" {
		t.Errorf("stats %+v", st)
	}
}

func TestNewNamesBadURL(t *testing.T) {
	_, err := New([]Target{{URL: "logger://"}, {URL: "telegrm://" + telegramToken + "@telegram"}}, Options{Log: discard})
	if err == nil || !strings.HasPrefix(err.Error(), "notify[1].url: ") || strings.Contains(err.Error(), "AAHsecret") {
		t.Errorf("New error %v, want notify[1].url named without the token", err)
	}
}
