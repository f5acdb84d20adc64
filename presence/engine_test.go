package presence

import (
	"context"
	"errors"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// fakeTwitch is a hand-written StreamChecker and Resolver: who is live is
// set by the test, and every call is reported on polls.
type fakeTwitch struct {
	mu      sync.Mutex
	known   map[string]bool // logins Twitch knows
	live    map[string]bool
	fail    map[string]bool // user IDs whose batch fails
	resolve error
	polls   chan []string
}

func newFakeTwitch(known ...string) *fakeTwitch {
	f := &fakeTwitch{known: map[string]bool{}, live: map[string]bool{}, fail: map[string]bool{}, polls: make(chan []string, 100)}
	for _, l := range known {
		f.known[l] = true
	}
	return f
}

func (f *fakeTwitch) set(fn func(f *fakeTwitch)) {
	f.mu.Lock()
	defer f.mu.Unlock()
	fn(f)
}

func (f *fakeTwitch) ResolveLogins(ctx context.Context, logins []string) ([]Streamer, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.resolve != nil {
		return nil, f.resolve
	}
	var out []Streamer
	for _, l := range logins {
		if f.known[l] {
			out = append(out, Streamer{ID: "id-" + l, Login: l})
		}
	}
	return out, nil
}

func (f *fakeTwitch) CheckStreams(ctx context.Context, ids []string) ([]Status, error) {
	f.mu.Lock()
	var out []Status
	var err error
	for _, id := range ids {
		if f.fail[id] {
			err = errors.New("helix streams: 503 Service Unavailable")
			continue
		}
		login := id[len("id-"):]
		out = append(out, Status{UserID: id, Login: login, Live: f.live[login]})
	}
	f.mu.Unlock()
	select {
	case f.polls <- slices.Clone(ids):
	default: // the test is not listening; never block the engine
	}
	return out, err
}

type fakeChat struct{ sets chan []string }

func (c *fakeChat) SetChannels(ch []string) { c.sets <- slices.Clone(ch) } // buffered; tests hand out few sets

// harness runs an Engine whose poll interval is long, so polls happen only
// when the test triggers one with a reload (the zero-time "poll now").
type harness struct {
	t      *testing.T
	e      *Engine
	tw     *fakeTwitch
	chat   *fakeChat
	cancel context.CancelFunc
	done   chan error
	opts   Options
}

func startEngine(t *testing.T, tw *fakeTwitch, s Settings) *harness {
	t.Helper()
	h := &harness{t: t, tw: tw, chat: &fakeChat{sets: make(chan []string, 100)}, done: make(chan error, 1)}
	h.opts = Options{Settings: s, Checker: tw, Resolver: tw, Chat: h.chat, Logger: zerolog.Nop()}
	h.e = New(h.opts)
	ctx, cancel := context.WithCancel(context.Background())
	h.cancel = cancel
	go func() { h.done <- h.e.Run(ctx) }()
	t.Cleanup(h.stop)
	return h
}

func (h *harness) stop() {
	h.cancel()
	if err := <-h.done; err != nil {
		h.t.Errorf("Run returned %v, want nil", err)
	}
}

// poll forces a poll cycle (through a reload with the same settings) and
// waits until it has been seen by the checker.
func (h *harness) poll() []string {
	h.t.Helper()
	for len(h.tw.polls) > 0 {
		<-h.tw.polls // drop polls the test did not wait for
	}
	if err := h.e.Reload(context.Background(), h.opts.Settings); err != nil {
		h.t.Fatal(err)
	}
	return h.nextPoll()
}

func (h *harness) nextPoll() []string {
	h.t.Helper()
	select {
	case ids := <-h.tw.polls:
		return ids
	case <-time.After(10 * time.Second):
		h.t.Fatal("no poll within 10s")
		return nil
	}
}

// waitChannels waits until the Chat is handed want.
func (h *harness) waitChannels(want ...string) {
	h.t.Helper()
	if want == nil {
		want = []string{}
	}
	timeout := time.After(10 * time.Second)
	var last []string
	for {
		select {
		case got := <-h.chat.sets:
			last = got
			if slices.Equal(got, want) {
				return
			}
		case <-timeout:
			h.t.Fatalf("chat never handed %v; last %v", want, last)
		}
	}
}

func TestEngineJoinsLiveAndLeavesOffline(t *testing.T) {
	tw := newFakeTwitch("a", "b", "c")
	tw.live["b"] = true
	h := startEngine(t, tw, Settings{Logins: []string{"a", "b", "c"}, Interval: time.Hour, MaxChannels: 10})
	h.waitChannels("b")
	tw.set(func(f *fakeTwitch) { f.live["a"] = true; f.live["b"] = false })
	h.poll()
	h.waitChannels("a")
}

func TestEngineAPIFailureNeverParts(t *testing.T) {
	tw := newFakeTwitch("a", "b")
	tw.live["a"], tw.live["b"] = true, true
	h := startEngine(t, tw, Settings{Logins: []string{"a", "b"}, Interval: time.Hour, MaxChannels: 10})
	h.waitChannels("a", "b")
	// a's batch fails and b goes offline: only b leaves.
	tw.set(func(f *fakeTwitch) { f.fail["id-a"] = true; f.live["a"] = false; f.live["b"] = false })
	h.poll()
	h.waitChannels("a")
	snap := h.e.Snapshot()
	if snap.LastError == "" || snap.FailingFor.IsZero() {
		t.Errorf("snapshot after a failed poll: last_error %q, failing_since %v; want both set", snap.LastError, snap.FailingFor)
	}
	tw.set(func(f *fakeTwitch) { f.fail["id-a"] = false })
	h.poll()
	h.waitChannels()
	if snap := h.e.Snapshot(); snap.LastError != "" || !snap.FailingFor.IsZero() {
		t.Errorf("snapshot after recovery: last_error %q, failing_since %v; want cleared", snap.LastError, snap.FailingFor)
	}
}

func TestEngineUnknownLoginSkipped(t *testing.T) {
	tw := newFakeTwitch("a", "c")
	tw.live["a"], tw.live["c"] = true, true
	h := startEngine(t, tw, Settings{Logins: []string{"a", "ghost", "c"}, Interval: time.Hour, MaxChannels: 10})
	if ids := h.nextPoll(); !slices.Equal(ids, []string{"id-a", "id-c"}) {
		t.Fatalf("polled %v, want [id-a id-c]", ids)
	}
	h.waitChannels("a", "c")
	if got := h.e.Snapshot().Unresolved; !slices.Equal(got, []string{"ghost"}) {
		t.Errorf("unresolved %v, want [ghost]", got)
	}
}

func TestEngineResolveFailureRetried(t *testing.T) {
	tw := newFakeTwitch("a")
	tw.live["a"] = true
	tw.resolve = errors.New("helix users: 503")
	h := startEngine(t, tw, Settings{Logins: []string{"a"}, Interval: time.Hour, MaxChannels: 10})
	h.waitChannels()
	tw.set(func(f *fakeTwitch) { f.resolve = nil })
	h.poll()
	h.waitChannels("a")
	if got := h.e.Snapshot().Unresolved; len(got) != 0 {
		t.Errorf("unresolved %v after a transient failure, want none", got)
	}
}

func TestEngineReloadAppliesDiff(t *testing.T) {
	tw := newFakeTwitch("a", "b", "c")
	tw.live["a"], tw.live["b"], tw.live["c"] = true, true, true
	h := startEngine(t, tw, Settings{Logins: []string{"a", "b"}, Interval: time.Hour, MaxChannels: 10})
	h.waitChannels("a", "b")
	h.opts.Settings = Settings{Logins: []string{"c", "a"}, Interval: time.Hour, MaxChannels: 10}
	h.poll()
	h.waitChannels("c", "a")
}

func TestEngineMarkUnavailable(t *testing.T) {
	tw := newFakeTwitch("a", "b")
	tw.live["a"], tw.live["b"] = true, true
	h := startEngine(t, tw, Settings{Logins: []string{"a", "b"}, Interval: time.Hour, MaxChannels: 1})
	h.waitChannels("a")
	if err := h.e.MarkUnavailable(context.Background(), "a", "msg_banned"); err != nil {
		t.Fatal(err)
	}
	h.waitChannels("b")
	h.poll() // a reload retries a
	h.waitChannels("a")
}

func TestEngineObserveFromAnotherSource(t *testing.T) {
	tw := newFakeTwitch("a")
	h := startEngine(t, tw, Settings{Logins: []string{"a"}, Interval: time.Hour, MaxChannels: 10})
	h.nextPoll()
	if err := h.e.Observe(context.Background(), []Status{{UserID: "id-a", Login: "a", Live: true}}); err != nil {
		t.Fatal(err)
	}
	h.waitChannels("a")
}

func TestEnginePollsEveryInterval(t *testing.T) {
	tw := newFakeTwitch("a")
	startEngine(t, tw, Settings{Logins: []string{"a"}, Interval: time.Millisecond, MaxChannels: 10})
	h := &harness{t: t, tw: tw}
	for range 5 {
		h.nextPoll()
	}
}

func TestRequestsPerMinute(t *testing.T) {
	tests := []struct {
		n        int
		interval time.Duration
		want     float64
	}{
		{1, time.Minute, 1},
		{100, time.Minute, 1},
		{101, time.Minute, 2},
		{10000, time.Minute, 100},
		{250, 30 * time.Second, 6},
		{0, time.Minute, 0},
	}
	for _, tc := range tests {
		if got := RequestsPerMinute(tc.n, tc.interval); got != tc.want {
			t.Errorf("RequestsPerMinute(%d, %v) = %v, want %v", tc.n, tc.interval, got, tc.want)
		}
	}
}

func TestEngineAlive(t *testing.T) {
	tw := newFakeTwitch("a")
	h := startEngine(t, tw, Settings{Logins: []string{"a"}, Interval: time.Hour, MaxChannels: 10})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := h.e.Alive(ctx); err != nil {
		t.Fatalf("Alive on a running engine: %v", err)
	}
	h.stop()
	h.done <- nil // stop is called again by Cleanup
	stopped, cancel2 := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel2()
	// A stopped loop never answers; the buffered send may succeed, the
	// answer must not come.
	if err := h.e.Alive(stopped); err == nil {
		t.Fatal("Alive on a stopped engine returned nil")
	}
}
