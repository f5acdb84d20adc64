package presence

import (
	"slices"
	"testing"
	"time"
)

var t0 = time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)

// streamers returns logins as watched streamers with the default
// settings, each with the ID "id-" + login.
func streamers(logins ...string) []Watched {
	return watched(StreamersOf(logins...)...)
}

// watched returns list as watched streamers, each with the ID "id-" + login.
func watched(list ...StreamerSettings) []Watched {
	out := make([]Watched, len(list))
	for i, s := range list {
		out[i] = Watched{Streamer: Streamer{ID: "id-" + s.Login, Login: s.Login}, Settings: s}
	}
	return out
}

func live(logins ...string) []Status {
	out := make([]Status, len(logins))
	for i, l := range logins {
		out[i] = Status{UserID: "id-" + l, Login: l, Live: true}
	}
	return out
}

func offline(logins ...string) []Status {
	out := make([]Status, len(logins))
	for i, l := range logins {
		out[i] = Status{UserID: "id-" + l}
	}
	return out
}

// step is one observation (or none) at an offset from t0 and the wanted set
// expected after it.
// runSteps applies each step to s (observe, mark unavailable) and checks
// the wanted channels after it.
func runSteps(t *testing.T, s *State, steps []step) {
	t.Helper()
	for i, st := range steps {
		now := t0.Add(st.at)
		s.Observe(now, st.observe)
		if st.unavail != "" && !s.MarkUnavailable(st.unavail, "msg_banned", now.Add(time.Hour)) {
			t.Fatalf("step %d: MarkUnavailable(%q) found no streamer", i, st.unavail)
		}
		if got := s.Evaluate(now); !slices.Equal(got, st.want) {
			t.Fatalf("step %d (at %v): wanted %v, want %v", i, st.at, got, st.want)
		}
	}
}

type step struct {
	at      time.Duration
	observe []Status
	unavail string // channel to mark unavailable for an hour
	want    []string
}

func TestStateRules(t *testing.T) {
	tests := []struct {
		name  string
		list  []string
		grace time.Duration
		max   int
		steps []step
	}{
		{
			name: "nothing is wanted before anything is observed",
			list: []string{"a", "b"}, grace: time.Minute, max: 10,
			steps: []step{{at: 0, want: []string{}}},
		},
		{
			name: "live joins, offline parts at once with no grace",
			list: []string{"a", "b"}, grace: 0, max: 10,
			steps: []step{
				{at: 0, observe: append(live("a"), offline("b")...), want: []string{"a"}},
				{at: time.Minute, observe: offline("a", "b"), want: []string{}},
			},
		},
		{
			name: "grace keeps a channel until seen offline for the whole grace",
			list: []string{"a"}, grace: 2 * time.Minute, max: 10,
			steps: []step{
				{at: 0, observe: live("a"), want: []string{"a"}},
				{at: 1 * time.Minute, observe: offline("a"), want: []string{"a"}},
				{at: 2 * time.Minute, observe: offline("a"), want: []string{"a"}},
				{at: 3*time.Minute - time.Second, observe: offline("a"), want: []string{"a"}},
				{at: 3 * time.Minute, observe: offline("a"), want: []string{}},
			},
		},
		{
			name: "a blip shorter than the grace keeps the channel and restarts the grace",
			list: []string{"a"}, grace: 2 * time.Minute, max: 10,
			steps: []step{
				{at: 0, observe: live("a"), want: []string{"a"}},
				{at: 1 * time.Minute, observe: offline("a"), want: []string{"a"}},
				{at: 2 * time.Minute, observe: live("a"), want: []string{"a"}},
				{at: 3 * time.Minute, observe: offline("a"), want: []string{"a"}},
				{at: 4 * time.Minute, observe: offline("a"), want: []string{"a"}},
				{at: 5 * time.Minute, observe: offline("a"), want: []string{}},
			},
		},
		{
			name: "failed polls (no observation) never end the grace",
			list: []string{"a"}, grace: time.Minute, max: 10,
			steps: []step{
				{at: 0, observe: live("a"), want: []string{"a"}},
				{at: 1 * time.Minute, observe: offline("a"), want: []string{"a"}},
				{at: 10 * time.Minute, want: []string{"a"}},
				{at: 11 * time.Minute, observe: offline("a"), want: []string{}},
			},
		},
		{
			name: "failed polls keep a live channel",
			list: []string{"a", "b"}, grace: 0, max: 10,
			steps: []step{
				{at: 0, observe: live("a", "b"), want: []string{"a", "b"}},
				{at: time.Minute, observe: offline("b"), want: []string{"a"}}, // a's batch failed
				{at: time.Hour, want: []string{"a"}},
			},
		},
		{
			name: "cap: the earliest in the list win, in list order",
			list: []string{"a", "b", "c", "d"}, grace: 0, max: 2,
			steps: []step{
				{at: 0, observe: live("d", "c", "b"), want: []string{"b", "c"}},
				{at: time.Minute, observe: live("a"), want: []string{"a", "b"}},
				{at: 2 * time.Minute, observe: offline("a"), want: []string{"b", "c"}},
				{at: 3 * time.Minute, observe: offline("b", "c"), want: []string{"d"}},
			},
		},
		{
			name: "cap: a channel in grace keeps its slot until parted, then the next live one gets it",
			list: []string{"a", "b"}, grace: 2 * time.Minute, max: 1,
			steps: []step{
				{at: 0, observe: live("a", "b"), want: []string{"a"}},
				{at: time.Minute, observe: offline("a"), want: []string{"a"}},
				{at: 3 * time.Minute, observe: offline("a"), want: []string{"b"}},
			},
		},
		{
			name: "a streamer never wanted gets no grace",
			list: []string{"a", "b"}, grace: time.Hour, max: 1,
			steps: []step{
				{at: 0, observe: live("a", "b"), want: []string{"a"}},
				{at: time.Minute, observe: offline("b"), want: []string{"a"}},
				{at: 2 * time.Minute, observe: offline("a"), want: []string{"a"}},
				{at: 2*time.Hour + time.Minute, observe: offline("a"), want: []string{}},
			},
		},
		{
			name: "an unavailable channel gives its slot away for an hour",
			list: []string{"a", "b"}, grace: 0, max: 1,
			steps: []step{
				{at: 0, observe: live("a", "b"), want: []string{"a"}},
				{at: time.Minute, unavail: "a", want: []string{"b"}},
				{at: 30 * time.Minute, observe: live("a", "b"), want: []string{"b"}},
				{at: time.Hour + time.Minute, want: []string{"a"}},
			},
		},
		{
			name: "the stream's current login is the channel",
			list: []string{"a"}, grace: 0, max: 10,
			steps: []step{
				{at: 0, observe: []Status{{UserID: "id-a", Login: "renamed", Live: true}}, want: []string{"renamed"}},
			},
		},
		{
			name: "unknown user IDs are ignored",
			list: []string{"a"}, grace: 0, max: 10,
			steps: []step{
				{at: 0, observe: live("zzz"), want: []string{}},
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := NewState(tc.grace, tc.max)
			s.SetStreamers(streamers(tc.list...))
			runSteps(t, s, tc.steps)
		})
	}
}

func TestStateReloadKeepsKnownStreamersAndClearsUnavailable(t *testing.T) {
	s := NewState(time.Minute, 10)
	s.SetStreamers(streamers("a", "b"))
	s.Observe(t0, live("a", "b"))
	s.Evaluate(t0)
	s.MarkUnavailable("b", "msg_banned", t0.Add(time.Hour))
	if got, want := s.Evaluate(t0), []string{"a"}; !slices.Equal(got, want) {
		t.Fatalf("before reload: got %v, want %v", got, want)
	}
	s.SetStreamers(streamers("c", "b", "a"))
	if got, want := s.Evaluate(t0), []string{"b", "a"}; !slices.Equal(got, want) {
		t.Fatalf("after reload: got %v, want %v (order from the new list, b retried, c unknown)", got, want)
	}
	s.SetStreamers(streamers("b"))
	if got, want := s.Evaluate(t0), []string{"b"}; !slices.Equal(got, want) {
		t.Fatalf("after removing a: got %v, want %v", got, want)
	}
}

func TestStateNextDeadline(t *testing.T) {
	s := NewState(time.Minute, 10)
	s.SetStreamers(streamers("a"))
	if got := s.NextDeadline(t0); !got.IsZero() {
		t.Fatalf("got %v, want zero", got)
	}
	s.MarkUnavailable("a", "msg_banned", t0.Add(time.Hour))
	if got, want := s.NextDeadline(t0), t0.Add(time.Hour); !got.Equal(want) {
		t.Fatalf("got %v, want %v", got, want)
	}
	if got := s.NextDeadline(t0.Add(2 * time.Hour)); !got.IsZero() {
		t.Fatalf("after expiry: got %v, want zero", got)
	}
}

func TestStateStreamers(t *testing.T) {
	s := NewState(2*time.Minute, 1)
	s.SetStreamers(streamers("a", "b", "c", "d", "e"))
	s.Observe(t0, append(live("a", "b", "d"), offline("c")...))
	s.Evaluate(t0)
	s.Observe(t0.Add(time.Minute), offline("a"))
	s.MarkUnavailable("d", "msg_channel_suspended", t0.Add(time.Hour))
	now := t0.Add(time.Minute)
	s.Evaluate(now)
	got := map[string]StreamerStatus{}
	for _, st := range s.Streamers(now) {
		got[st.Login] = st
	}
	want := map[string]ChannelState{"a": StateGrace, "b": StateWaiting, "c": StateOffline, "d": StateUnavailable, "e": StateUnknown}
	for login, state := range want {
		if got[login].State != state {
			t.Errorf("%s: state %q, want %q", login, got[login].State, state)
		}
	}
	if u := got["a"].Until; !u.Equal(now.Add(2 * time.Minute)) {
		t.Errorf("a: grace until %v, want %v", u, now.Add(2*time.Minute))
	}
	if r := got["d"].Reason; r != "msg_channel_suspended" {
		t.Errorf("d: reason %q", r)
	}
	counts := s.Counts()
	if want := (Counts{Watched: 5, Live: 2, Grace: 1, Waiting: 1, Offline: 1, Unavailable: 1, Unknown: 1}); counts != want {
		t.Errorf("counts %+v, want %+v", counts, want)
	}
	for login, state := range want {
		if counts.Of(state) != 1 {
			t.Errorf("Of(%q) = %d, want 1 (%s)", state, counts.Of(state), login)
		}
	}
}
