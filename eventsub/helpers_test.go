package eventsub_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/farmd/farmd/eventsub"
	"github.com/farmd/farmd/eventsub/eventsubtest"
	"github.com/farmd/farmd/internal/testkit"
)

// fakeTokens hands out "apptoken-N"; InvalidateAppToken of the current one
// moves to N+1, as helix.Client fetches a new token.
type fakeTokens struct {
	mu          sync.Mutex
	n           int
	invalidated []string
}

func (f *fakeTokens) AppToken(context.Context) (string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return fmt.Sprintf("apptoken-%d", f.n+1), nil
}

func (f *fakeTokens) InvalidateAppToken(tok string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.invalidated = append(f.invalidated, tok)
	if tok == fmt.Sprintf("apptoken-%d", f.n+1) {
		f.n++
	}
}

func (f *fakeTokens) Invalidated() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.invalidated...)
}

// sleeper records backoff waits. With a gate, each wait blocks until the
// test lets it pass; without one it yields for a millisecond, so a retry
// loop cannot spin.
type sleeper struct {
	mu     sync.Mutex
	sleeps []time.Duration
	gate   chan struct{}
}

func (s *sleeper) Sleep(ctx context.Context, d time.Duration) error {
	s.mu.Lock()
	s.sleeps = append(s.sleeps, d)
	gate := s.gate
	s.mu.Unlock()
	if gate == nil {
		t := time.NewTimer(time.Millisecond)
		defer t.Stop()
		select {
		case <-t.C:
		case <-ctx.Done():
		}
		return ctx.Err()
	}
	select {
	case <-gate:
	case <-ctx.Done():
	}
	return ctx.Err()
}

func (s *sleeper) Sleeps() []time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]time.Duration(nil), s.sleeps...)
}

type harness struct {
	t      *testing.T
	srv    *eventsubtest.Server
	tokens *fakeTokens
	logs   *testkit.LogBuffer
	sleep  *sleeper
	clock  *testkit.Clock
	opts   eventsub.Options

	mu     sync.Mutex
	events []eventsub.Event

	c      *eventsub.Client
	cancel context.CancelFunc
	done   chan error
}

func newHarness(t *testing.T, so eventsubtest.Options) *harness {
	t.Helper()
	h := &harness{t: t, tokens: &fakeTokens{}, logs: testkit.NewLogBuffer(), sleep: &sleeper{}, clock: testkit.NewClock()}
	if so.Now == nil {
		so.Now = h.clock.Now
	}
	h.srv = eventsubtest.NewServer(so)
	t.Cleanup(h.srv.Close)
	h.opts = eventsub.Options{
		HelixURL:     h.srv.HelixURL(),
		WebSocketURL: h.srv.WebSocketURL(),
		ClientID:     "farmd-test-client",
		Tokens:       h.tokens,
		Logger:       h.logs.Logger(),
		OnEvent: func(e eventsub.Event) {
			h.mu.Lock()
			h.events = append(h.events, e)
			h.mu.Unlock()
		},
		Now:        h.clock.Now,
		Sleep:      h.sleep.Sleep,
		BackoffMin: time.Second,
		BackoffMax: 8 * time.Second,
	}
	t.Cleanup(func() {
		h.stop()
		// No token, ever, in a log line.
		if strings.Contains(h.logs.String(), "apptoken-") {
			t.Errorf("a token reached the log:\n%s", testkit.Tail(h.logs.String(), 40))
		}
	})
	return h
}

// run starts a Client with h.opts and the streamers.
func (h *harness) run(streamers ...string) {
	h.t.Helper()
	h.c = eventsub.New(h.opts)
	h.c.SetStreamers(streamers)
	ctx, cancel := context.WithCancel(context.Background())
	h.cancel = cancel
	h.done = make(chan error, 1)
	c := h.c
	go func() { h.done <- c.Run(ctx) }()
}

// stop cancels Run and checks it returned nil.
func (h *harness) stop() {
	h.t.Helper()
	if h.cancel == nil {
		return
	}
	h.cancel()
	h.cancel = nil
	select {
	case err := <-h.done:
		if err != nil {
			h.t.Errorf("Run returned %v, want nil", err)
		}
	case <-time.After(testkit.WaitMax):
		h.t.Fatal("Run did not return after cancel")
	}
}

func (h *harness) Events() []eventsub.Event {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]eventsub.Event(nil), h.events...)
}

// waitFake waits until cond holds for the fake.
func (h *harness) waitFake(what string, cond func(f *eventsubtest.Fake) bool) {
	h.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), testkit.WaitMax)
	defer cancel()
	if err := h.srv.Wait(ctx, cond); err != nil {
		h.t.Fatalf("waiting for %s: %v\nconduits %+v\nsubs %d\nlog:\n%s", what, err, h.srv.Conduits(),
			len(h.srv.Subscriptions()), testkit.Tail(h.logs.String(), 30))
	}
}

// shardOn reports whether shard 0 of the only conduit is enabled on a
// connected session other than those in not.
func shardOn(f *eventsubtest.Fake, not ...string) bool {
	cs := f.Conduits()
	if len(cs) != 1 || len(cs[0].Shards) == 0 || cs[0].Shards[0].Status != "enabled" {
		return false
	}
	id := cs[0].Shards[0].SessionID
	for _, n := range not {
		if id == n {
			return false
		}
	}
	return true
}

func shardSession(f *eventsubtest.Fake) string {
	cs := f.Conduits()
	if len(cs) == 0 || len(cs[0].Shards) == 0 {
		return ""
	}
	return cs[0].Shards[0].SessionID
}

func enabledSubs(f *eventsubtest.Fake) int {
	n := 0
	for _, s := range f.Subscriptions() {
		if s.Status == "enabled" {
			n++
		}
	}
	return n
}

// waitReady waits for the shard and n subscriptions and a healthy status.
func (h *harness) waitReady(n int) {
	h.t.Helper()
	h.waitFake("shard enabled and subscriptions", func(f *eventsubtest.Fake) bool {
		return shardOn(f) && enabledSubs(f) == n
	})
	testkit.Eventually(h.t, "healthy status", func() bool {
		st := h.c.Status()
		return st.Healthy && st.Subscriptions == n
	})
}
