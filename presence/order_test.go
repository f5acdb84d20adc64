package presence

import (
	"slices"
	"testing"
	"time"
)

// seen returns observations of logins by src made at t0+at.
func seen(src Source, at time.Duration, isLive bool, logins ...string) []Status {
	out := make([]Status, len(logins))
	for i, l := range logins {
		out[i] = Status{UserID: "id-" + l, Live: isLive, At: t0.Add(at), Source: src}
		if isLive {
			out[i].Login = l
		}
	}
	return out
}

// ostep is, at t0+at, an EventSub health change ("up", "down" or none),
// then observations (made at their own times), then the wanted set
// expected.
type ostep struct {
	at       time.Duration
	realtime string
	observe  []Status
	want     []string
}

func TestStateObservationOrder(t *testing.T) {
	const ev, poll = SourceEventSub, SourcePoll
	tests := []struct {
		name  string
		grace time.Duration
		steps []ostep
		want  ObservationCounts
	}{
		{
			name: "a poll that started before an offline event and answers after it does not bring the streamer back",
			// grace 5m from the event at 2m: the PART is at 7m.
			grace: 5 * time.Minute,
			steps: []ostep{
				{at: 0, realtime: "up", observe: seen(ev, 0, true, "a"), want: []string{"a"}},
				{at: 2 * time.Minute, observe: seen(ev, 2*time.Minute, false, "a"), want: []string{"a"}},
				{at: 3 * time.Minute, observe: seen(poll, time.Minute, true, "a"), want: []string{"a"}},
				{at: 7*time.Minute - time.Nanosecond, want: []string{"a"}},
				{at: 7 * time.Minute, want: []string{}},
			},
			want: ObservationCounts{Events: 2, PollsStale: 1},
		},
		{
			name:  "an event older than an applied poll is ignored",
			grace: 0,
			steps: []ostep{
				{at: time.Minute, observe: seen(poll, time.Minute, true, "a"), want: []string{"a"}},
				{at: 2 * time.Minute, observe: seen(ev, 30*time.Second, false, "a"), want: []string{"a"}},
			},
			want: ObservationCounts{Polls: 1, EventsStale: 1},
		},
		{
			name:  "events out of order: the older one is ignored",
			grace: 0,
			steps: []ostep{
				{at: 2 * time.Minute, observe: seen(ev, 2*time.Minute, true, "a"), want: []string{"a"}},
				{at: 3 * time.Minute, observe: seen(ev, time.Minute, false, "a"), want: []string{"a"}},
			},
			want: ObservationCounts{Events: 1, EventsStale: 1},
		},
		{
			name:  "an online event is applied over an older poll that Helix's lag kept from showing the stream",
			grace: 0,
			steps: []ostep{
				{at: time.Minute, observe: seen(poll, time.Minute, false, "a"), want: []string{}},
				{at: 2 * time.Minute, observe: seen(ev, 30*time.Second, true, "a"), want: []string{"a"}},
			},
			want: ObservationCounts{Polls: 1, Events: 1},
		},
		{
			name:  "an online event older than a poll by HelixLag or more is stale",
			grace: 0,
			steps: []ostep{
				{at: 0, observe: seen(poll, 0, true, "a"), want: []string{"a"}},
				{at: 20 * time.Minute, observe: seen(poll, 20*time.Minute, false, "a"), want: []string{}},
				{at: 21 * time.Minute, observe: seen(ev, 10*time.Minute, true, "a"), want: []string{}},
			},
			want: ObservationCounts{Polls: 2, EventsStale: 1},
		},
		{
			name:  "Helix lag: a poll not showing the stream does not override an online event younger than 10 minutes",
			grace: 0,
			steps: []ostep{
				{at: 0, observe: seen(ev, 0, true, "a"), want: []string{"a"}},
				{at: time.Minute, observe: seen(poll, time.Minute, false, "a"), want: []string{"a"}},
				{at: 10*time.Minute - time.Second, observe: seen(poll, 10*time.Minute-time.Second, false, "a"), want: []string{"a"}},
				{at: 10 * time.Minute, observe: seen(poll, 10*time.Minute, false, "a"), want: []string{}},
			},
			want: ObservationCounts{Events: 1, PollsLagging: 2, Polls: 1},
		},
		{
			name:  "a poll showing the stream agrees with an online event",
			grace: 0,
			steps: []ostep{
				{at: 0, observe: seen(ev, 0, true, "a"), want: []string{"a"}},
				{at: time.Minute, observe: seen(poll, time.Minute, true, "a"), want: []string{"a"}},
			},
			want: ObservationCounts{Events: 1, Polls: 1},
		},
		{
			name:  "an offline event while EventSub is healthy ends the grace by time",
			grace: 2 * time.Minute,
			steps: []ostep{
				{at: 0, realtime: "up", observe: seen(ev, 0, true, "a"), want: []string{"a"}},
				{at: time.Minute, observe: seen(ev, time.Minute, false, "a"), want: []string{"a"}},
				{at: 3*time.Minute - time.Nanosecond, want: []string{"a"}},
				{at: 3 * time.Minute, want: []string{}},
			},
			want: ObservationCounts{Events: 2},
		},
		{
			name:  "an offline event then polls not showing the stream: the grace still counts from the event",
			grace: 2 * time.Minute,
			steps: []ostep{
				{at: 0, realtime: "up", observe: seen(ev, 0, true, "a"), want: []string{"a"}},
				{at: time.Minute, observe: seen(ev, time.Minute, false, "a"), want: []string{"a"}},
				{at: 2 * time.Minute, observe: seen(poll, 2*time.Minute, false, "a"), want: []string{"a"}},
				{at: 3 * time.Minute, want: []string{}},
			},
			want: ObservationCounts{Events: 2, Polls: 1},
		},
		{
			name:  "a live event during an event's grace keeps the channel",
			grace: 2 * time.Minute,
			steps: []ostep{
				{at: 0, realtime: "up", observe: seen(ev, 0, true, "a"), want: []string{"a"}},
				{at: time.Minute, observe: seen(ev, time.Minute, false, "a"), want: []string{"a"}},
				{at: 2 * time.Minute, observe: seen(ev, 2*time.Minute, true, "a"), want: []string{"a"}},
				{at: time.Hour, want: []string{"a"}},
			},
			want: ObservationCounts{Events: 3},
		},
		{
			name:  "a poll showing the stream during an event's grace keeps the channel",
			grace: 2 * time.Minute,
			steps: []ostep{
				{at: 0, realtime: "up", observe: seen(poll, 0, true, "a"), want: []string{"a"}},
				{at: time.Minute, observe: seen(ev, time.Minute, false, "a"), want: []string{"a"}},
				{at: 2 * time.Minute, observe: seen(poll, 2*time.Minute, true, "a"), want: []string{"a"}},
				{at: time.Hour, want: []string{"a"}},
			},
			want: ObservationCounts{Events: 1, Polls: 2},
		},
		{
			name:  "an offline event while EventSub is not known healthy is one sighting, like a poll",
			grace: 2 * time.Minute,
			steps: []ostep{
				{at: 0, observe: seen(ev, 0, true, "a"), want: []string{"a"}},
				{at: time.Minute, observe: seen(ev, time.Minute, false, "a"), want: []string{"a"}},
				{at: time.Hour, want: []string{"a"}},
				{at: time.Hour, observe: seen(poll, time.Hour, false, "a"), want: []string{}},
			},
			want: ObservationCounts{Events: 2, Polls: 1},
		},
		{
			name:  "EventSub going down during an event's grace: the event counts until then, polls see the rest",
			grace: 5 * time.Minute,
			steps: []ostep{
				{at: 0, realtime: "up", observe: seen(ev, 0, true, "a"), want: []string{"a"}},
				{at: time.Minute, observe: seen(ev, time.Minute, false, "a"), want: []string{"a"}},
				{at: 3 * time.Minute, realtime: "down", want: []string{"a"}},
				{at: time.Hour, want: []string{"a"}},
				{at: time.Hour, observe: seen(poll, 6*time.Minute-time.Second, false, "a"), want: []string{"a"}},
				{at: time.Hour, observe: seen(poll, 6*time.Minute, false, "a"), want: []string{}},
			},
			want: ObservationCounts{Events: 2, Polls: 2},
		},
		{
			name:  "EventSub healthy again does not resume an event's sighting it may have missed the end of",
			grace: 5 * time.Minute,
			steps: []ostep{
				{at: 0, realtime: "up", observe: seen(ev, 0, true, "a"), want: []string{"a"}},
				{at: time.Minute, observe: seen(ev, time.Minute, false, "a"), want: []string{"a"}},
				{at: 2 * time.Minute, realtime: "down", want: []string{"a"}},
				{at: 3 * time.Minute, realtime: "up", want: []string{"a"}},
				{at: time.Hour, want: []string{"a"}},
			},
			want: ObservationCounts{Events: 2},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := NewState(tc.grace, 10)
			s.SetStreamers(streamers("a"))
			for i, st := range tc.steps {
				now := t0.Add(st.at)
				switch st.realtime {
				case "up":
					s.SetRealtime(now, true)
				case "down":
					s.SetRealtime(now, false)
				}
				s.Observe(now, st.observe)
				if got := s.Evaluate(now); !slices.Equal(got, st.want) {
					t.Fatalf("step %d (at %v): wanted %v, want %v", i, st.at, got, st.want)
				}
			}
			if got := s.ObservationCounts(); got != tc.want {
				t.Errorf("observation counts %+v, want %+v", got, tc.want)
			}
		})
	}
}

// TestStateEventGraceDeadline checks that the grace of a held streamer seen
// offline by an event is a deadline, and stays one when the time passed
// before anyone asked, until an Evaluate has applied it.
func TestStateEventGraceDeadline(t *testing.T) {
	s := NewState(2*time.Minute, 10)
	s.SetStreamers(streamers("a", "b"))
	s.SetRealtime(t0, true)
	s.Observe(t0, seen(SourceEventSub, 0, true, "a", "b"))
	s.Evaluate(t0)
	s.Observe(t0, seen(SourcePoll, time.Minute, false, "b")) // a poll's grace: no deadline
	s.Observe(t0, seen(SourceEventSub, time.Minute, false, "a"))
	s.Evaluate(t0.Add(time.Minute))
	end := t0.Add(3 * time.Minute)
	if got := s.NextDeadline(t0.Add(time.Minute)); !got.Equal(end) {
		t.Fatalf("deadline %v, want the end of a's grace %v", got, end)
	}
	if got := s.NextDeadline(t0.Add(time.Hour)); !got.Equal(end) {
		t.Fatalf("deadline asked late: %v, want %v (not applied yet)", got, end)
	}
	if got, want := s.Evaluate(t0.Add(time.Hour)), []string{"b"}; !slices.Equal(got, want) {
		t.Fatalf("wanted %v, want %v", got, want)
	}
	if got := s.NextDeadline(t0.Add(time.Hour)); !got.IsZero() {
		t.Fatalf("deadline after the PART: %v, want zero", got)
	}
}

// TestStateStreamersSource checks that each streamer's entry names the
// source and time of the observation that set its liveness.
func TestStateStreamersSource(t *testing.T) {
	s := NewState(time.Minute, 10)
	s.SetStreamers(streamers("a", "b", "c"))
	s.Observe(t0, seen(SourcePoll, 0, false, "a", "b"))
	s.Observe(t0, seen(SourceEventSub, 30*time.Second, true, "a"))
	s.Observe(t0, seen(SourcePoll, time.Minute, true, "a")) // agrees: a stays live by the event
	now := t0.Add(time.Minute)
	s.Evaluate(now)
	got := map[string]StreamerStatus{}
	for _, st := range s.Streamers(now) {
		got[st.Login] = st
	}
	for _, tc := range []struct {
		login  string
		source Source
		at     time.Time
	}{
		{"a", SourceEventSub, t0.Add(30 * time.Second)},
		{"b", SourcePoll, t0},
		{"c", "", time.Time{}},
	} {
		if st := got[tc.login]; st.LiveSource != tc.source || !st.ObservedAt.Equal(tc.at) {
			t.Errorf("%s: source %q at %v, want %q at %v", tc.login, st.LiveSource, st.ObservedAt, tc.source, tc.at)
		}
	}
	if ls := got["a"].LiveSince; !ls.Equal(t0.Add(30 * time.Second)) {
		t.Errorf("a: live since %v, want the event's %v", ls, t0.Add(30*time.Second))
	}
}
