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

	"github.com/farmd/farmd/internal/testkit"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// fakeTwitch is a hand-written StreamChecker and Resolver: who is live is
// set by the test, and every call is reported on polls.
type fakeTwitch struct {
	mu      sync.Mutex
	known   map[string]bool   // logins Twitch knows
	idOf    map[string]string // login -> user ID, when not "id-" + login
	live    map[string]bool
	fail    map[string]bool // user IDs whose batch fails
	resolve error
	// resolveFail are logins whose lookup fails: the others asked with
	// them are answered, and the call returns an error.
	resolveFail map[string]bool
	polls       chan []string
	// gate, if set, holds every ResolveLogins until it is closed; the
	// logins asked are reported on resolves first.
	gate     chan struct{}
	resolves chan []string
	// hold, if set, holds every CheckStreams until it is closed, after
	// reporting on checking: a poll in flight.
	hold     chan struct{}
	checking chan struct{}
}

func newFakeTwitch(known ...string) *fakeTwitch {
	f := &fakeTwitch{
		known: map[string]bool{}, idOf: map[string]string{}, live: map[string]bool{}, fail: map[string]bool{}, resolveFail: map[string]bool{},
		polls: make(chan []string, 100), resolves: make(chan []string, 100), checking: make(chan struct{}, 100),
	}
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
	gate := f.gate
	f.mu.Unlock()
	if gate != nil {
		f.resolves <- slices.Clone(logins)
		select {
		case <-gate:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.resolve != nil {
		return nil, f.resolve
	}
	var out []Streamer
	var err error
	for _, l := range logins {
		if f.resolveFail[l] {
			err = errors.New("helix users: 503 Service Unavailable")
			continue
		}
		if f.known[l] {
			id, ok := f.idOf[l]
			if !ok {
				id = "id-" + l
			}
			out = append(out, Streamer{ID: id, Login: l})
		}
	}
	return out, err
}

func (f *fakeTwitch) CheckStreams(ctx context.Context, ids []string) ([]Status, error) {
	f.mu.Lock()
	hold := f.hold
	f.mu.Unlock()
	if hold != nil {
		f.checking <- struct{}{}
		select {
		case <-hold:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
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

func (c *fakeChat) SetChannels(ch []string, _ map[string]Departure) { c.sets <- slices.Clone(ch) } // buffered; tests hand out few sets

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

// startEngine runs an Engine on tw with settings s; each of with may change
// its Options first.
func startEngine(t *testing.T, tw *fakeTwitch, s Settings, with ...func(*Options)) *harness {
	t.Helper()
	h := &harness{t: t, tw: tw, chat: &fakeChat{sets: make(chan []string, 100)}, done: make(chan error, 1)}
	h.opts = Options{Settings: s, Checker: tw, Resolver: tw, Chat: h.chat, Logger: zerolog.Nop()}
	for _, f := range with {
		f(&h.opts)
	}
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
	case <-time.After(testkit.WaitMax):
		h.t.Fatalf("no poll within %v", testkit.WaitMax)
		return nil
	}
}

// waitChannels waits until the Chat is handed want.
func (h *harness) waitChannels(want ...string) {
	h.t.Helper()
	if want == nil {
		want = []string{}
	}
	timeout := time.After(testkit.WaitMax)
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
	h := startEngine(t, tw, Settings{Streamers: StreamersOf("a", "b", "c"), Interval: time.Hour, MaxChannels: 10})
	h.waitChannels("b")
	tw.set(func(f *fakeTwitch) { f.live["a"] = true; f.live["b"] = false })
	h.poll()
	h.waitChannels("a")
}

func TestEngineAPIFailureNeverParts(t *testing.T) {
	tw := newFakeTwitch("a", "b")
	tw.live["a"], tw.live["b"] = true, true
	h := startEngine(t, tw, Settings{Streamers: StreamersOf("a", "b"), Interval: time.Hour, MaxChannels: 10})
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
	h := startEngine(t, tw, Settings{Streamers: StreamersOf("a", "ghost", "c"), Interval: time.Hour, MaxChannels: 10})
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
	h := startEngine(t, tw, Settings{Streamers: StreamersOf("a"), Interval: time.Hour, MaxChannels: 10})
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
	h := startEngine(t, tw, Settings{Streamers: StreamersOf("a", "b"), Interval: time.Hour, MaxChannels: 10})
	h.waitChannels("a", "b")
	h.opts.Settings = Settings{Streamers: StreamersOf("c", "a"), Interval: time.Hour, MaxChannels: 10}
	h.poll()
	h.waitChannels("c", "a")
}

func TestEngineMarkUnavailable(t *testing.T) {
	tw := newFakeTwitch("a", "b")
	tw.live["a"], tw.live["b"] = true, true
	h := startEngine(t, tw, Settings{Streamers: StreamersOf("a", "b"), Interval: time.Hour, MaxChannels: 1})
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
	h := startEngine(t, tw, Settings{Streamers: StreamersOf("a"), Interval: time.Hour, MaxChannels: 10})
	h.nextPoll()
	if err := h.e.Observe(context.Background(), []Status{{UserID: "id-a", Login: "a", Live: true}}); err != nil {
		t.Fatal(err)
	}
	h.waitChannels("a")
}

func TestEnginePollsEveryInterval(t *testing.T) {
	tw := newFakeTwitch("a")
	startEngine(t, tw, Settings{Streamers: StreamersOf("a"), Interval: time.Millisecond, MaxChannels: 10})
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
	h := startEngine(t, tw, Settings{Streamers: StreamersOf("a"), Interval: time.Hour, MaxChannels: 10})
	ctx, cancel := context.WithTimeout(context.Background(), testkit.WaitMax)
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

// TestEngineReloadDuringResolveForgetsRemovedLogin checks that a login
// removed by a reload while its resolution is in flight is forgotten: added
// back later, it is resolved again instead of polled by the ID the old
// answer carried (the user may have been deleted and the login reused).
func TestEngineReloadDuringResolveForgetsRemovedLogin(t *testing.T) {
	tw := newFakeTwitch("a", "b")
	gate := make(chan struct{})
	tw.gate = gate
	h := startEngine(t, tw, Settings{Streamers: StreamersOf("a", "b"), Interval: time.Hour, MaxChannels: 10})
	if got := <-tw.resolves; !slices.Equal(got, []string{"a", "b"}) {
		t.Fatalf("first resolution asked %v, want [a b]", got)
	}
	ctx := context.Background()
	if err := h.e.Reload(ctx, Settings{Streamers: StreamersOf("a"), Interval: time.Hour, MaxChannels: 10}); err != nil {
		t.Fatal(err)
	}
	if err := h.e.Alive(ctx); err != nil { // the loop has taken the reload
		t.Fatal(err)
	}
	close(gate)
	if got := h.nextPoll(); !slices.Equal(got, []string{"id-a", "id-b"}) {
		t.Fatalf("poll in flight checked %v, want [id-a id-b]", got)
	}
	if got := h.nextPoll(); !slices.Equal(got, []string{"id-a"}) {
		t.Fatalf("poll after the reload checked %v, want [id-a]", got)
	}
	tw.set(func(f *fakeTwitch) { f.idOf["b"] = "id-b2" })
	if err := h.e.Reload(ctx, Settings{Streamers: StreamersOf("a", "b"), Interval: time.Hour, MaxChannels: 10}); err != nil {
		t.Fatal(err)
	}
	if got := h.nextPoll(); !slices.Equal(got, []string{"id-a", "id-b2"}) {
		t.Fatalf("poll after adding b back checked %v, want [id-a id-b2] (b resolved again)", got)
	}
}

// TestEngineResolveRetryKeepsUnavailableMarks checks that asking again
// about a login whose lookup failed does not clear the marks of channels
// Twitch refused: only a reload retries them.
func TestEngineResolveRetryKeepsUnavailableMarks(t *testing.T) {
	tw := newFakeTwitch("a", "b", "c")
	tw.live["a"], tw.live["c"] = true, true
	tw.resolveFail["b"] = true // asked again at every poll
	h := startEngine(t, tw, Settings{Streamers: StreamersOf("a", "b", "c"), Interval: time.Millisecond, MaxChannels: 1})
	h.waitChannels("a")
	ctx := context.Background()
	if err := h.e.MarkUnavailable(ctx, "a", "msg_banned"); err != nil {
		t.Fatal(err)
	}
	h.waitChannels("c")
	for len(tw.polls) > 0 {
		<-tw.polls
	}
	h.nextPoll() // may have started before the mark
	h.nextPoll() // started after the previous one, and the mark, were taken
	if err := h.e.Alive(ctx); err != nil {
		t.Fatal(err)
	}
	if got := h.e.Summary().Wanted; !slices.Equal(got, []string{"c"}) {
		t.Fatalf("wanted %v after polls that retried b, want [c] (a still refused)", got)
	}
}

// TestEngineRunTwice checks that a second Run while the first is running
// fails at once instead of starting a second loop on the same Engine.
func TestEngineRunTwice(t *testing.T) {
	tw := newFakeTwitch("a")
	h := startEngine(t, tw, Settings{Streamers: StreamersOf("a"), Interval: time.Hour, MaxChannels: 10})
	h.nextPoll() // the first Run is running
	ctx, cancel := context.WithCancel(context.Background())
	cancel() // a second loop, if started, stops at once
	if err := h.e.Run(ctx); err == nil {
		t.Fatal("second Run returned nil, want an error")
	}
	if err := h.e.Alive(context.Background()); err != nil {
		t.Fatalf("first loop after the refused Run: %v", err)
	}
}

// TestEngineSummaryCounts checks that Summary carries the streamers' counts
// by state without the per-streamer list, so metrics never need the list.
func TestEngineSummaryCounts(t *testing.T) {
	tw := newFakeTwitch("a", "b", "c", "d")
	tw.live["a"], tw.live["b"] = true, true
	h := startEngine(t, tw, Settings{Streamers: StreamersOf("a", "b", "c", "ghost", "d"), Interval: time.Hour, MaxChannels: 1})
	h.waitChannels("a")
	if err := h.e.MarkUnavailable(context.Background(), "d", "msg_banned"); err != nil {
		t.Fatal(err)
	}
	if err := h.e.Alive(context.Background()); err != nil {
		t.Fatal(err)
	}
	got := h.e.Summary().Counts
	want := Counts{Watched: 4, Live: 2, Wanted: 1, Waiting: 1, Offline: 1, Unavailable: 1}
	if got != want {
		t.Fatalf("counts %+v, want %+v", got, want)
	}
	for st, n := range map[ChannelState]int{StateWanted: 1, StateWaiting: 1, StateOffline: 1, StateUnavailable: 1, StateGrace: 0, StateUnknown: 0} {
		if got.Of(st) != n {
			t.Errorf("Of(%q) = %d, want %d", st, got.Of(st), n)
		}
	}
	// The list agrees with the counts.
	snap := h.e.Snapshot()
	if !snap.Listed || len(snap.Streamers) != want.Watched {
		t.Fatalf("snapshot listed %v with %d streamers, want true with %d", snap.Listed, len(snap.Streamers), want.Watched)
	}
	var fromList Counts
	for _, s := range snap.Streamers {
		fromList.add(s.State, s.Live)
	}
	if fromList != want {
		t.Errorf("counts from the list %+v, want %+v", fromList, want)
	}
}

// blockingChat is a Chat whose SetChannels blocks until the test takes the
// set, so a test can hold the Engine's loop.
type blockingChat struct {
	sets   chan []string
	closed chan struct{}
}

func (c *blockingChat) SetChannels(ch []string, _ map[string]Departure) {
	select {
	case c.sets <- slices.Clone(ch):
	case <-c.closed:
	}
}

// TestEngineSnapshotWhenLoopDoesNotAnswer checks that a Snapshot the loop
// does not answer says so (Listed false) and still carries the last counts
// the loop published, instead of an empty list that reads as "nobody live".
func TestEngineSnapshotWhenLoopDoesNotAnswer(t *testing.T) {
	tw := newFakeTwitch("a", "b")
	tw.live["a"] = true
	chat := &blockingChat{sets: make(chan []string), closed: make(chan struct{})}
	h := startEngine(t, tw, Settings{Streamers: StreamersOf("a", "b"), Interval: time.Hour, MaxChannels: 10},
		func(o *Options) { o.Chat = chat })
	t.Cleanup(func() { close(chat.closed) }) // before stop: Cleanup runs last in first
	h.e.snapshotWait = 50 * time.Millisecond
	if got := <-chat.sets; len(got) != 0 {
		t.Fatalf("first set %v, want none", got)
	}
	// The loop publishes after the poll, then blocks handing [a] over.
	testkit.Eventually(t, "a live in the summary", func() bool { return h.e.Summary().Counts.Live == 1 })
	snap := h.e.Snapshot()
	if snap.Listed || snap.Streamers != nil {
		t.Errorf("snapshot of a held loop: listed %v, %d streamers; want false and nil", snap.Listed, len(snap.Streamers))
	}
	if want := (Counts{Watched: 2, Live: 1, Wanted: 1, Offline: 1}); snap.Counts != want {
		t.Errorf("counts of a held loop %+v, want the last published %+v", snap.Counts, want)
	}
	if got := <-chat.sets; !slices.Equal(got, []string{"a"}) {
		t.Fatalf("second set %v, want [a]", got)
	}
	if snap := h.e.Snapshot(); !snap.Listed || len(snap.Streamers) != 2 {
		t.Errorf("snapshot of a free loop: listed %v, %d streamers; want true and 2", snap.Listed, len(snap.Streamers))
	}
}

// TestEngineOnStreamers: the resolved streamers' IDs are reported in list
// order once resolved, again when a reload changes them, and not when
// nothing changed.
func TestEngineOnStreamers(t *testing.T) {
	tw := newFakeTwitch("a", "b", "c")
	got := make(chan []string, 10)
	h := startEngine(t, tw, Settings{Streamers: StreamersOf("b", "a", "ghost"), Interval: time.Hour, MaxChannels: 10},
		func(o *Options) { o.OnStreamers = func(ids []string) { got <- ids } })
	next := func() []string {
		select {
		case ids := <-got:
			return ids
		case <-time.After(testkit.WaitMax):
			t.Fatal("OnStreamers was not called")
			return nil
		}
	}
	if ids := next(); !slices.Equal(ids, []string{"id-b", "id-a"}) {
		t.Fatalf("after resolution %v, want [id-b id-a]", ids)
	}
	h.poll() // nothing changes
	h.opts.Settings = Settings{Streamers: StreamersOf("c", "b"), Interval: time.Hour, MaxChannels: 10}
	h.poll()
	for {
		ids := next()
		if slices.Equal(ids, []string{"id-c", "id-b"}) {
			break
		}
		if !slices.Equal(ids, []string{"id-b"}) { // the reload before c resolves
			t.Fatalf("after the reload %v, want [id-b] then [id-c id-b]", ids)
		}
	}
	select {
	case ids := <-got:
		t.Errorf("an extra report %v", ids)
	default:
	}
}

// TestEngineOnChange: every transition an observation causes is handed to
// OnChange, from polls and events alike, with its source.
func TestEngineOnChange(t *testing.T) {
	tw := newFakeTwitch("a")
	tw.live["a"] = true
	got := make(chan Change, 10)
	h := startEngine(t, tw, Settings{Streamers: StreamersOf("a"), Interval: time.Hour, MaxChannels: 10},
		func(o *Options) { o.OnChange = func(c Change) { got <- c } })
	h.waitChannels("a")
	next := func() Change {
		select {
		case c := <-got:
			return c
		case <-time.After(testkit.WaitMax):
			t.Fatal("OnChange was not called")
			return Change{}
		}
	}
	if c := next(); !c.Live || c.Login != "a" || c.Source != SourcePoll {
		t.Errorf("first change %+v, want a live from a poll", c)
	}
	if err := h.e.Observe(context.Background(), []Status{{UserID: "id-a", Live: false, At: time.Now(), Source: SourceEventSub}}); err != nil {
		t.Fatal(err)
	}
	if c := next(); c.Live || c.Source != SourceEventSub {
		t.Errorf("second change %+v, want offline from eventsub", c)
	}
}
