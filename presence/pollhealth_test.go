package presence

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/farmd/farmd/internal/testkit"
)

// TestEnginePartialFailureStillServes walks the poll health through a
// partial failure, a total one and the recovery: a poll that checked some
// streamers served them (LastServed moves, PartialSince says since when some
// are left unchecked), while LastGood keeps meaning "no failure at all".
func TestEnginePartialFailureStillServes(t *testing.T) {
	clock := testkit.NewClock()
	logs := testkit.NewLogBuffer()
	results := make(chan PollResult, 10)
	tw := newFakeTwitch("a", "b", "c")
	tw.live["a"], tw.live["b"] = true, true
	h := startEngine(t, tw, Settings{Streamers: StreamersOf("a", "b", "c"), Interval: time.Hour, MaxChannels: 10}, func(o *Options) {
		o.Now = clock.Now
		o.Logger = logs.Logger()
		o.OnPoll = func(r PollResult) { results <- r }
	})
	next := func() PollResult {
		t.Helper()
		select {
		case r := <-results:
			return r
		case <-time.After(testkit.WaitMax):
			t.Fatal("no poll result")
			return PollResult{}
		}
	}
	poll := func(fail ...string) PollResult {
		t.Helper()
		clock.Advance(time.Minute)
		tw.set(func(f *fakeTwitch) {
			clear(f.fail)
			for _, id := range fail {
				f.fail[id] = true
			}
		})
		h.poll()
		return next()
	}

	good := clock.Now()
	if r := next(); r.State != PollsOK || r.Unchecked != 0 || r.Checked != 3 {
		t.Fatalf("first poll: state %q, %d unchecked, %d checked; want ok, 0, 3", r.State, r.Unchecked, r.Checked)
	}
	want := pollView{Polls: PollsOK, LastPoll: good, LastGood: good, LastServed: good}
	want.check(t, "after a good poll", h.e.Summary())

	partial := clock.Now().Add(time.Minute)
	if r := poll("id-a"); r.State != PollsPartial || r.Unchecked != 1 || r.Checked != 2 || r.Err == nil {
		t.Fatalf("partial poll: state %q, %d unchecked, %d checked, err %v; want partial, 1, 2, an error", r.State, r.Unchecked, r.Checked, r.Err)
	}
	want = pollView{Polls: PollsPartial, LastPoll: partial, LastGood: good, LastServed: partial,
		FailingFor: partial, PartialSince: partial, Unchecked: 1, Failed: true}
	want.check(t, "after a partial poll", h.e.Summary())
	logs.WaitContains(t, `"unchecked":1`)
	if !strings.Contains(logs.String(), "poll failed; streamers not checked keep their state") {
		t.Errorf("no warning for the partial failure:\n%s", logs.String())
	}

	again := clock.Now().Add(time.Minute)
	poll("id-a", "id-b")
	want = pollView{Polls: PollsPartial, LastPoll: again, LastGood: good, LastServed: again,
		FailingFor: partial, PartialSince: partial, Unchecked: 2, Failed: true}
	want.check(t, "after a second partial poll", h.e.Summary())

	down := clock.Now().Add(time.Minute)
	if r := poll("id-a", "id-b", "id-c"); r.State != PollsFailing || r.Unchecked != 3 {
		t.Fatalf("failed poll: state %q, %d unchecked; want failing, 3", r.State, r.Unchecked)
	}
	want = pollView{Polls: PollsFailing, LastPoll: down, LastGood: good, LastServed: again,
		FailingFor: partial, Unchecked: 3, Failed: true}
	want.check(t, "after a poll that checked nobody", h.e.Summary())

	up := clock.Now().Add(time.Minute)
	poll()
	want = pollView{Polls: PollsOK, LastPoll: up, LastGood: up, LastServed: up}
	want.check(t, "after recovery", h.e.Summary())
	logs.WaitContains(t, "polling recovered")
}

// TestEnginePollHealthWithNothingToCheck checks the edges of "served": a
// poll with nobody to check serves when it had no error, and does not when
// resolving the logins failed.
func TestEnginePollHealthWithNothingToCheck(t *testing.T) {
	t.Run("no streamers", func(t *testing.T) {
		results := make(chan PollResult, 1)
		h := startEngine(t, newFakeTwitch(), Settings{Interval: time.Hour, MaxChannels: 10},
			func(o *Options) { o.OnPoll = func(r PollResult) { results <- r } })
		if r := <-results; r.State != PollsOK || r.Err != nil {
			t.Fatalf("state %q, err %v; want ok, nil", r.State, r.Err)
		}
		if s := h.e.Summary(); s.LastServed.IsZero() || s.LastGood.IsZero() || s.Polls != PollsOK {
			t.Errorf("last served %v, last good %v, polls %q; want both set, ok", s.LastServed, s.LastGood, s.Polls)
		}
	})
	t.Run("resolution failed", func(t *testing.T) {
		results := make(chan PollResult, 1)
		tw := newFakeTwitch("a", "b")
		tw.resolve = errors.New("helix users: 503")
		h := startEngine(t, tw, Settings{Streamers: StreamersOf("a", "b"), Interval: time.Hour, MaxChannels: 10},
			func(o *Options) { o.OnPoll = func(r PollResult) { results <- r } })
		if r := <-results; r.State != PollsFailing || r.Unchecked != 2 || r.Watched != 0 {
			t.Fatalf("state %q, %d unchecked, %d watched; want failing, 2, 0", r.State, r.Unchecked, r.Watched)
		}
		if s := h.e.Summary(); !s.LastServed.IsZero() || s.FailingFor.IsZero() || s.Polls != PollsFailing || s.Unchecked != 2 {
			t.Errorf("last served %v, failing since %v, polls %q, unchecked %d; want zero, set, failing, 2",
				s.LastServed, s.FailingFor, s.Polls, s.Unchecked)
		}
	})
}

// TestEnginePollResultCountsReloads checks that PollResult says which
// settings a poll ran under, so OnPoll can tell a reload happened.
func TestEnginePollResultCountsReloads(t *testing.T) {
	results := make(chan PollResult, 10)
	s := Settings{Streamers: StreamersOf("a"), Interval: time.Hour, MaxChannels: 10}
	h := startEngine(t, newFakeTwitch("a"), s, func(o *Options) { o.OnPoll = func(r PollResult) { results <- r } })
	if r := <-results; r.Reloads != 0 {
		t.Fatalf("first poll: %d reloads, want 0", r.Reloads)
	}
	for want := 1; want <= 2; want++ {
		if err := h.e.Reload(context.Background(), s); err != nil {
			t.Fatal(err)
		}
		if r := <-results; r.Reloads != want {
			t.Fatalf("poll after reload %d: %d reloads", want, r.Reloads)
		}
	}
}

// pollView is the part of a Snapshot that says how polls went.
type pollView struct {
	Polls                                                    PollState
	LastPoll, LastGood, LastServed, FailingFor, PartialSince time.Time
	Unchecked                                                int
	Failed                                                   bool // LastError set
}

func (want pollView) check(t *testing.T, when string, s Snapshot) {
	t.Helper()
	got := pollView{Polls: s.Polls, LastPoll: s.LastPoll, LastGood: s.LastGood, LastServed: s.LastServed,
		FailingFor: s.FailingFor, PartialSince: s.PartialSince, Unchecked: s.Unchecked, Failed: s.LastError != ""}
	if got != want {
		t.Errorf("%s:\n got %+v\nwant %+v", when, got, want)
	}
}
