package presence

import (
	"context"
	"fmt"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/farmd/farmd/internal/testkit"
)

// TestEngineObserveLogsTransitions checks that observations from another
// source log the transitions they cause with the messages and fields polls
// log.
func TestEngineObserveLogsTransitions(t *testing.T) {
	tw := newFakeTwitch("a")
	logs := testkit.NewLogBuffer()
	h := startEngine(t, tw, Settings{Streamers: StreamersOf("a"), Interval: time.Hour, OfflineGrace: time.Hour, MaxChannels: 10},
		func(o *Options) { o.Logger = logs.Logger() })
	h.nextPoll()
	ctx := context.Background()
	if err := h.e.Observe(ctx, []Status{{UserID: "id-a", Login: "a", Live: true, At: time.Now(), Source: SourceEventSub}}); err != nil {
		t.Fatal(err)
	}
	h.waitChannels("a")
	logs.WaitContains(t, `"streamer":"a","source":"eventsub","message":"streamer is live"`)
	if err := h.e.Observe(ctx, []Status{{UserID: "id-a", At: time.Now(), Source: SourceEventSub}}); err != nil {
		t.Fatal(err)
	}
	logs.WaitContains(t, `"streamer":"a","source":"eventsub","offline_grace":3600,"message":"streamer went offline"`)
}

// clockEngine runs an Engine on a fake clock, with OnPoll reported on polls;
// the poll interval is an hour, so polls happen when the test reloads.
type clockEngine struct {
	*harness
	clock   *testkit.Clock
	results chan PollResult
}

func startClockEngine(t *testing.T, tw *fakeTwitch, s Settings, with ...func(*Options)) *clockEngine {
	t.Helper()
	c := &clockEngine{clock: testkit.NewClock(), results: make(chan PollResult, 100)}
	with = append([]func(*Options){func(o *Options) {
		o.Now, o.At = c.clock.Now, c.clock.At
		o.OnPoll = func(r PollResult) { c.results <- r }
	}}, with...)
	c.harness = startEngine(t, tw, s, with...)
	return c
}

// event observes one EventSub event for login at the clock's time and
// waits until the loop has taken it, so the test moves the clock after.
func (c *clockEngine) event(login string, isLive bool) {
	c.t.Helper()
	st := Status{UserID: "id-" + login, Live: isLive, At: c.clock.Now(), Source: SourceEventSub}
	if isLive {
		st.Login = login
	}
	ctx := context.Background()
	if err := c.e.Observe(ctx, []Status{st}); err != nil {
		c.t.Fatal(err)
	}
	if err := c.e.Alive(ctx); err != nil {
		c.t.Fatal(err)
	}
}

func (c *clockEngine) realtime(healthy bool) {
	c.t.Helper()
	ctx := context.Background()
	if err := c.e.SetRealtime(ctx, healthy); err != nil {
		c.t.Fatal(err)
	}
	if err := c.e.Alive(ctx); err != nil {
		c.t.Fatal(err)
	}
}

// wanted evaluates at the clock's time (an empty observation does) and
// returns what the loop then publishes.
func (c *clockEngine) wanted() []string {
	c.t.Helper()
	ctx := context.Background()
	if err := c.e.Observe(ctx, nil); err != nil {
		c.t.Fatal(err)
	}
	if err := c.e.Alive(ctx); err != nil {
		c.t.Fatal(err)
	}
	return c.e.Summary().Wanted
}

func (c *clockEngine) nextResult() PollResult {
	c.t.Helper()
	select {
	case r := <-c.results:
		return r
	case <-time.After(testkit.WaitMax):
		c.t.Fatalf("no poll result within %v", testkit.WaitMax)
		return PollResult{}
	}
}

// TestEngineEventOfflineGraceEndsByTimer checks that a stream.offline event
// followed by silence parts after exactly the grace, by the loop's timer,
// without a poll.
func TestEngineEventOfflineGraceEndsByTimer(t *testing.T) {
	tw := newFakeTwitch("a")
	logs := testkit.NewLogBuffer()
	c := startClockEngine(t, tw, Settings{Streamers: StreamersOf("a"), Interval: time.Hour, OfflineGrace: 5 * time.Minute, MaxChannels: 10},
		func(o *Options) { o.Logger = logs.Logger() })
	c.nextResult()
	c.waitChannels()
	<-tw.polls // the first poll
	c.realtime(true)
	c.event("a", true)
	c.waitChannels("a")
	c.clock.Advance(time.Minute)
	c.event("a", false)
	logs.WaitContains(t, `"source":"eventsub","offline_grace":300,"message":"streamer went offline"`)
	c.clock.Advance(5*time.Minute - time.Nanosecond)
	if got := c.wanted(); !slices.Equal(got, []string{"a"}) {
		t.Fatalf("wanted %v a nanosecond before the grace ends, want [a]", got)
	}
	c.clock.Advance(time.Nanosecond)
	c.waitChannels()
	if n := len(tw.polls); n != 0 {
		t.Errorf("%d polls during the grace, want none: the timer ends it", n)
	}
}

// TestEngineEventLiveDuringGraceKeepsChannel checks that a streamer seen
// live again during an event's grace keeps its channel past the grace.
func TestEngineEventLiveDuringGraceKeepsChannel(t *testing.T) {
	tw := newFakeTwitch("a")
	c := startClockEngine(t, tw, Settings{Streamers: StreamersOf("a"), Interval: time.Hour, OfflineGrace: 5 * time.Minute, MaxChannels: 10})
	c.nextResult()
	c.realtime(true)
	c.event("a", true)
	c.waitChannels("a")
	c.clock.Advance(time.Minute)
	c.event("a", false)
	c.clock.Advance(2 * time.Minute)
	c.event("a", true)
	c.clock.Advance(30 * time.Minute) // within the poll interval: no poll
	if got := c.wanted(); !slices.Equal(got, []string{"a"}) {
		t.Fatalf("wanted %v after a live event in the grace, want [a]", got)
	}
	for len(c.chat.sets) > 0 {
		if got := <-c.chat.sets; !slices.Equal(got, []string{"a"}) {
			t.Errorf("chat handed %v, want only [a] after the join", got)
		}
	}
}

// TestEnginePollStartedBeforeOfflineEvent checks that a poll whose request
// started before a stream.offline event and whose answer (live) arrives
// after it does not bring the streamer back: the grace ends on time.
func TestEnginePollStartedBeforeOfflineEvent(t *testing.T) {
	tw := newFakeTwitch("a")
	tw.live["a"] = true
	c := startClockEngine(t, tw, Settings{Streamers: StreamersOf("a"), Interval: time.Hour, OfflineGrace: 5 * time.Minute, MaxChannels: 10})
	c.nextResult()
	c.waitChannels("a")
	c.realtime(true)
	hold := make(chan struct{})
	tw.set(func(f *fakeTwitch) { f.hold = hold })
	if err := c.e.Reload(context.Background(), c.opts.Settings); err != nil {
		t.Fatal(err)
	}
	<-tw.checking // the poll started at the clock's time
	c.clock.Advance(time.Minute)
	c.event("a", false)
	close(hold)
	if r := c.nextResult(); r.Live != 1 {
		t.Fatalf("the held poll saw %d live, want 1", r.Live)
	}
	snap := c.e.Snapshot()
	if len(snap.Streamers) != 1 {
		t.Fatalf("snapshot lists %d streamers, want 1", len(snap.Streamers))
	}
	if st := snap.Streamers[0]; st.Live || st.State != StateGrace || st.LiveSource != SourceEventSub {
		t.Errorf("a after the late poll: live %v, state %q, source %q; want false, %q, %q", st.Live, st.State, st.LiveSource, StateGrace, SourceEventSub)
	}
	if got := snap.Observations.PollsStale; got != 1 {
		t.Errorf("polls_stale %d, want 1", got)
	}
	c.clock.Advance(5 * time.Minute)
	c.waitChannels()
}

// TestEngineHelixLag checks that a poll not showing a streamer does not
// undo a stream.online event younger than HelixLag, and does once it is
// older.
func TestEngineHelixLag(t *testing.T) {
	tw := newFakeTwitch("a")
	c := startClockEngine(t, tw, Settings{Streamers: StreamersOf("a"), Interval: time.Hour, MaxChannels: 10})
	c.nextResult()
	c.event("a", true)
	c.waitChannels("a")
	c.clock.Advance(HelixLag - time.Second)
	c.poll()
	c.nextResult()
	if got := c.e.Summary(); !slices.Equal(got.Wanted, []string{"a"}) || got.Observations.PollsLagging != 1 {
		t.Fatalf("after a lagging poll: wanted %v, polls_lagging %d; want [a], 1", got.Wanted, got.Observations.PollsLagging)
	}
	c.clock.Advance(time.Second)
	c.poll()
	c.waitChannels()
}

// TestEngineLateEventIgnored checks that events older than what was
// applied, from a poll or another event, change nothing and are counted.
func TestEngineLateEventIgnored(t *testing.T) {
	tw := newFakeTwitch("a")
	tw.live["a"] = true
	c := startClockEngine(t, tw, Settings{Streamers: StreamersOf("a"), Interval: time.Hour, MaxChannels: 10})
	c.nextResult()
	c.waitChannels("a")
	ctx := context.Background()
	before := c.clock.Now().Add(-time.Second)
	c.clock.Advance(time.Minute)
	c.event("a", true)
	// An offline older than the poll and than the online event.
	if err := c.e.Observe(ctx, []Status{{UserID: "id-a", At: before, Source: SourceEventSub}}); err != nil {
		t.Fatal(err)
	}
	if got := c.wanted(); !slices.Equal(got, []string{"a"}) {
		t.Fatalf("wanted %v after a late offline event, want [a]", got)
	}
	if got, want := c.e.Summary().Observations, (ObservationCounts{Polls: 1, Events: 1, EventsStale: 1}); got != want {
		t.Errorf("observations %+v, want %+v", got, want)
	}
}

// TestEngineRealtimeAutoInterval checks that `poll.interval: auto` polls
// less often while EventSub is healthy, capped at MaxRealtimeInterval, and
// at the normal interval once it is not; a fixed interval never changes.
func TestEngineRealtimeAutoInterval(t *testing.T) {
	logins := make([]string, 250) // 3 requests a cycle
	for i := range logins {
		logins[i] = fmt.Sprintf("s%d", i)
	}
	var bucket atomic.Int64
	bucket.Store(20) // 3 requests * 2 min / 20 = 18 s
	s := Settings{Streamers: StreamersOf(logins...), Interval: time.Hour, AutoInterval: true, MaxChannels: 100}
	c := startClockEngine(t, newFakeTwitch(logins...), s, func(o *Options) {
		o.Bucket = func() int { return int(bucket.Load()) }
	})
	if r := c.nextResult(); r.Interval != 18*time.Second {
		t.Fatalf("first poll: interval %s, want 18s", r.Interval)
	}
	c.realtime(true)
	for _, tc := range []struct {
		bucket int64
		want   time.Duration
	}{
		{20, 72 * time.Second}, // 4 x 18 s
		{4, 5 * time.Minute},   // 4 x 90 s, capped
		{1, 360 * time.Second}, // the bucket needs more than the cap
		{20, 72 * time.Second},
	} {
		bucket.Store(tc.bucket)
		if err := c.e.Reload(context.Background(), s); err != nil {
			t.Fatal(err)
		}
		if r := c.nextResult(); r.Interval != tc.want {
			t.Errorf("bucket %d with EventSub healthy: interval %s, want %s", tc.bucket, r.Interval, tc.want)
		}
	}
	// The poll put off to 72 s comes back to 18 s from its start.
	c.realtime(false)
	c.clock.Advance(18 * time.Second)
	if r := c.nextResult(); r.Interval != 18*time.Second {
		t.Errorf("with EventSub down: interval %s, want 18s", r.Interval)
	}

	fixed := Settings{Streamers: StreamersOf("a"), Interval: 30 * time.Second, MaxChannels: 10}
	f := startClockEngine(t, newFakeTwitch("a"), fixed)
	f.nextResult()
	f.realtime(true)
	if err := f.e.Reload(context.Background(), fixed); err != nil {
		t.Fatal(err)
	}
	if r := f.nextResult(); r.Interval != 30*time.Second {
		t.Errorf("fixed interval with EventSub healthy: %s, want 30s", r.Interval)
	}
}
