package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"runtime"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/farmd/farmd/internal/testkit"
	"github.com/farmd/farmd/irc"
	"github.com/farmd/farmd/irc/irctest"
	"github.com/farmd/farmd/presence"
)

// soakCycles is the length of TestSoak. The default keeps the normal suite
// fast; RELIABILITY.md gives the command for the full 100,000 cycles.
var soakCycles = flag.Int("soak.cycles", 2000, "poll cycles TestSoak runs")

// soakChecker is a StreamChecker whose answers the soak test scripts cycle
// by cycle: who is live, and which IDs fail (absent, with an error).
type soakChecker struct {
	mu   sync.Mutex
	live map[string]bool // user ID -> live
	fail map[string]bool // user IDs whose request fails this cycle
}

func (c *soakChecker) CheckStreams(ctx context.Context, ids []string) ([]presence.Status, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []presence.Status
	var err error
	for _, id := range ids {
		if c.fail[id] {
			err = errors.New("helix streams: 503 Service Unavailable")
			continue
		}
		out = append(out, presence.Status{UserID: id, Login: strings.TrimPrefix(id, "id-"), Live: c.live[id]})
	}
	return out, err
}

func (c *soakChecker) ResolveLogins(ctx context.Context, logins []string) ([]presence.Streamer, error) {
	out := make([]presence.Streamer, 0, len(logins))
	for _, l := range logins {
		out = append(out, presence.Streamer{ID: "id-" + l, Login: l})
	}
	return out, nil
}

// soakModel is the presence rules written out independently of
// presence.State, in the terms of the README: live streamers are wanted in
// list order up to the cap; a wanted streamer seen offline stays wanted
// until its offline observations span the grace; an unobserved streamer
// keeps what it had.
type soakModel struct {
	grace    time.Duration
	max      int
	live     []bool
	observed []bool
	offFirst []time.Time
	offLast  []time.Time
	held     []bool
}

func newSoakModel(n, max int, grace time.Duration) *soakModel {
	return &soakModel{grace: grace, max: max, live: make([]bool, n), observed: make([]bool, n),
		offFirst: make([]time.Time, n), offLast: make([]time.Time, n), held: make([]bool, n)}
}

func (m *soakModel) observe(i int, now time.Time, live bool) {
	if live {
		m.live[i], m.offFirst[i], m.offLast[i] = true, time.Time{}, time.Time{}
	} else {
		if m.live[i] || !m.observed[i] {
			m.offFirst[i] = now
		}
		m.offLast[i], m.live[i] = now, false
	}
	m.observed[i] = true
}

func (m *soakModel) wanted(logins []string) []string {
	var out []string
	for i := range logins {
		ok := m.live[i] || (m.held[i] && m.observed[i] && m.offLast[i].Sub(m.offFirst[i]) < m.grace)
		m.held[i] = ok && len(out) < m.max
		if m.held[i] {
			out = append(out, logins[i])
		}
	}
	return out
}

// usage is a process-wide resource reading.
type usage struct {
	goroutines int
	heap       uint64 // live heap after GC
	rssKB      int64  // VmRSS
}

func readUsage(tb testing.TB) usage {
	tb.Helper()
	runtime.GC()
	debug.FreeOSMemory() // so VmRSS shows what is in use, not what was
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	u := usage{goroutines: runtime.NumGoroutine(), heap: ms.HeapAlloc, rssKB: -1}
	if b, err := os.ReadFile("/proc/self/status"); err == nil {
		for _, line := range strings.Split(string(b), "\n") {
			if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
				u.rssKB, _ = strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			}
		}
	}
	return u
}

func (u usage) String() string {
	return fmt.Sprintf("goroutines=%d heap=%dKiB rss=%dKiB", u.goroutines, u.heap/1024, u.rssKB)
}

// TestSoak runs the real presence Engine and IRC Manager against a scripted
// Helix and the fake TMI server for -soak.cycles poll cycles (2,000 by
// default, 100,000 for the full soak). Every cycle flips random streamers
// live or offline, fails part or all of the poll now and then (a Helix
// fault), drops the IRC connection now and then, moves the Engine's clock
// one interval, polls, and waits until the channels joined on the server
// are exactly what the rules (soakModel) say. Goroutines and the live heap
// are compared between the end of a warm-up and the end.
func TestSoak(t *testing.T) {
	const (
		streamers = 30
		maxChans  = 10
		interval  = time.Minute // fake time per cycle
		grace     = 3 * time.Minute
	)
	cycles := *soakCycles
	rng := rand.New(rand.NewPCG(1, uint64(cycles)))

	chat, err := irctest.NewServer(irctest.Options{Username: botName, Token: ircToken})
	if err != nil {
		t.Fatal(err)
	}
	defer chat.Close()
	logins := make([]string, streamers)
	for i := range logins {
		logins[i] = fmt.Sprintf("soak%02d", i)
	}
	checker := &soakChecker{live: map[string]bool{}, fail: map[string]bool{}}
	clock := testkit.NewClock()
	polled := make(chan presence.PollResult, 1)

	mgr := irc.New(irc.Options{
		Address: chat.Addr(), Username: botName, Token: "oauth:" + ircToken,
		// The limiter is proven elsewhere (TestJoinRateLimitNeverExceeded);
		// here it must not turn the soak into a wait on the real clock. (It
		// preallocates JoinLimit timestamps: keep the limit modest.)
		JoinLimit: 1000, JoinWindow: time.Millisecond,
		BackoffMin: time.Millisecond, BackoffMax: 5 * time.Millisecond,
		WelcomeTimeout: 5 * time.Second, JoinTimeout: 5 * time.Second,
		Logger: zerolog.Nop(),
	})
	settings := presence.Settings{Streamers: presence.StreamersOf(logins...), Interval: 100 * 365 * 24 * time.Hour, OfflineGrace: grace, MaxChannels: maxChans}
	eng := presence.New(presence.Options{
		Settings: settings, Checker: checker, Resolver: checker, Chat: mgr,
		Logger: zerolog.Nop(), Now: clock.Now,
		OnPoll: func(r presence.PollResult) { polled <- r },
	})
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	errs := make(chan error, 2)
	wg.Add(2)
	go func() { defer wg.Done(); errs <- mgr.Run(ctx) }()
	go func() { defer wg.Done(); errs <- eng.Run(ctx) }()
	defer func() {
		cancel()
		wg.Wait()
		close(errs)
		for err := range errs {
			if err != nil {
				t.Errorf("Run returned %v", err)
			}
		}
	}()
	<-polled // the start-up poll: nobody live yet

	model := newSoakModel(streamers, maxChans, grace)
	for i := range streamers {
		model.observe(i, clock.Now(), false)
	}
	model.wanted(logins)
	var drops, faults, partial int
	var warm usage
	warmAt := min(200, cycles/2)
	for cycle := range cycles {
		if cycle%1000 == 0 {
			chat.Forget() // the fake server's records are not farmd's memory
		}
		if cycle == warmAt {
			chat.Forget()
			warm = readUsage(t)
			t.Logf("after %d cycles (warm-up): %v", cycle, warm)
		}
		// Script Helix for this cycle.
		checker.mu.Lock()
		for range 1 + rng.IntN(4) {
			id := "id-" + logins[rng.IntN(streamers)]
			checker.live[id] = !checker.live[id]
		}
		clear(checker.fail)
		switch r := rng.IntN(20); {
		case r == 0: // the whole poll fails
			faults++
			for _, l := range logins {
				checker.fail["id-"+l] = true
			}
		case r == 1: // one batch of it fails
			partial++
			for _, l := range logins[:rng.IntN(streamers)] {
				checker.fail["id-"+l] = true
			}
		}
		live := cloneMap(checker.live)
		failing := cloneMap(checker.fail)
		checker.mu.Unlock()

		if rng.IntN(25) == 0 {
			drops++
			before := chat.Logins()
			chat.Drop()
			testkit.WaitChat(t, chat, fmt.Sprintf("cycle %d: a new login after a drop", cycle), func(s *irctest.Server) bool { return s.Logins() > before })
		}

		clock.Advance(interval)
		now := clock.Now()
		if err := eng.Reload(ctx, settings); err != nil { // polls at once
			t.Fatal(err)
		}
		select {
		case <-polled:
		case <-time.After(waitMax):
			t.Fatalf("cycle %d: no poll", cycle)
		}
		for i, l := range logins {
			if !failing["id-"+l] {
				model.observe(i, now, live["id-"+l])
			}
		}
		want := model.wanted(logins)
		if want == nil {
			want = []string{}
		}
		if snap := eng.Snapshot().Wanted; !slices.Equal(snap, want) {
			t.Fatalf("cycle %d: engine wants %v, the rules say %v", cycle, snap, want)
		}
		sorted := slices.Sorted(slices.Values(want))
		testkit.WaitChat(t, chat, fmt.Sprintf("cycle %d: joined = %v", cycle, sorted), func(s *irctest.Server) bool {
			return slices.Equal(s.Joined(), sorted)
		})
	}
	chat.Forget()
	end := readUsage(t)
	t.Logf("after %d cycles: %v (%d IRC drops, %d failed polls, %d partly failed polls)", cycles, end, drops, faults, partial)
	if cycles >= 1000 && (drops == 0 || faults == 0 || partial == 0) {
		t.Errorf("the script injected %d drops, %d failed and %d partial polls: some fault never happened", drops, faults, partial)
	}
	if cycles > warmAt {
		if end.goroutines > warm.goroutines+2 {
			t.Errorf("goroutines grew from %d to %d over %d cycles", warm.goroutines, end.goroutines, cycles-warmAt)
		}
		if end.heap > warm.heap+4<<20 {
			t.Errorf("live heap grew from %d KiB to %d KiB over %d cycles", warm.heap/1024, end.heap/1024, cycles-warmAt)
		}
	}
}

func cloneMap(m map[string]bool) map[string]bool {
	out := make(map[string]bool, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}
