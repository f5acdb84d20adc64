package presence

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/farmd/farmd/internal/testkit"
)

func withMode(m Mode, logins ...string) []StreamerSettings {
	list := StreamersOf(logins...)
	for i := range list {
		list[i].Mode = m
	}
	return list
}

func ownGrace(login string, d time.Duration) StreamerSettings {
	s := StreamersOf(login)[0]
	s.OfflineGrace, s.OwnGrace = d, true
	return s
}

// concat joins lists of settings, in order.
func concat(lists ...[]StreamerSettings) []StreamerSettings {
	var out []StreamerSettings
	for _, l := range lists {
		out = append(out, l...)
	}
	return out
}

// TestStateModes checks the rules of each mode against the cap and the
// list's order, one observation after another.
func TestStateModes(t *testing.T) {
	tests := []struct {
		name  string
		list  []StreamerSettings
		max   int
		steps []step
	}{
		{
			name: "always is joined before anything is observed, live or not",
			list: concat(withMode(ModeAlways, "a"), StreamersOf("b")),
			max:  10,
			steps: []step{
				{at: 0, want: []string{"a"}},
				{at: time.Minute, observe: offline("a", "b"), want: []string{"a"}},
				{at: 2 * time.Minute, observe: live("a"), want: []string{"a"}},
				{at: time.Hour, observe: offline("a"), want: []string{"a"}}, // no grace: it stays
			},
		},
		{
			name: "a live streamer does not push out an always one listed before it",
			list: concat(withMode(ModeAlways, "a"), StreamersOf("b"), withMode(ModeAlways, "c")),
			max:  2,
			steps: []step{
				{at: 0, want: []string{"a", "c"}},
				// b is listed before c: it takes c's slot, never a's.
				{at: time.Minute, observe: live("b"), want: []string{"a", "b"}},
				{at: 2 * time.Minute, observe: offline("b"), want: []string{"a", "b"}}, // b's grace (2m)
				{at: 5 * time.Minute, observe: offline("b"), want: []string{"a", "c"}},
			},
		},
		{
			name: "an always streamer waits behind live ones listed before it",
			list: concat(StreamersOf("a"), withMode(ModeAlways, "b")),
			max:  1,
			steps: []step{
				{at: 0, want: []string{"b"}},
				{at: time.Minute, observe: live("a"), want: []string{"a"}},
			},
		},
		{
			name: "never is not joined, live or not, and takes no slot",
			list: concat(withMode(ModeNever, "a"), StreamersOf("b")),
			max:  1,
			steps: []step{
				{at: 0, observe: live("a"), want: []string{}},
				{at: time.Minute, observe: live("a", "b"), want: []string{"b"}},
			},
		},
		{
			name: "an unavailable always streamer gives its slot to the next",
			list: withMode(ModeAlways, "a", "b"),
			max:  1,
			steps: []step{
				{at: 0, want: []string{"a"}},
				{at: time.Minute, unavail: "a", want: []string{"b"}},
				{at: time.Hour + time.Minute, want: []string{"a"}},
			},
		},
		{
			name: "each streamer's own grace",
			// a leaves at once, b has the global 2m, c its own 10m.
			list: []StreamerSettings{ownGrace("a", 0), StreamersOf("b")[0], ownGrace("c", 10*time.Minute)},
			max:  10,
			steps: []step{
				{at: 0, observe: live("a", "b", "c"), want: []string{"a", "b", "c"}},
				{at: time.Minute, observe: offline("a", "b", "c"), want: []string{"b", "c"}},
				{at: 3 * time.Minute, observe: offline("a", "b", "c"), want: []string{"c"}},
				{at: 10 * time.Minute, observe: offline("a", "b", "c"), want: []string{"c"}},
				{at: 11 * time.Minute, observe: offline("a", "b", "c"), want: []string{}},
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := NewState(2*time.Minute, tc.max)
			s.SetStreamers(watched(tc.list...))
			runSteps(t, s, tc.steps)
		})
	}
}

// TestStateNeverReportsChanges checks that a streamer only watched still
// reports going live and offline (for notifications), and is listed as
// watch_only with its mode.
func TestStateNeverReportsChanges(t *testing.T) {
	s := NewState(time.Minute, 10)
	s.SetStreamers(watched(withMode(ModeNever, "a")...))
	if got := s.Observe(t0, offline("a")); len(got) != 0 {
		t.Errorf("first observation offline: got changes %+v, want none", got)
	}
	got := s.Observe(t0.Add(time.Minute), live("a"))
	if len(got) != 1 || !got[0].Live || got[0].Settings.Mode != ModeNever {
		t.Fatalf("going live: got changes %+v, want one, live, mode never", got)
	}
	s.Evaluate(t0.Add(time.Minute))
	if st := s.Streamers(t0.Add(time.Minute))[0]; st.State != StateWatchOnly || st.Mode != ModeNever || st.Source != OriginConfig || !st.Live {
		t.Errorf("listed as %+v, want state watch_only, mode never, source config, live", st)
	}
	if got := s.Observe(t0.Add(2*time.Minute), offline("a")); len(got) != 1 || got[0].Live {
		t.Errorf("going offline: got changes %+v, want one, offline", got)
	}
	if c := s.Counts(); c.WatchOnly != 1 || c.Watched != 1 {
		t.Errorf("counts %+v, want 1 watched, 1 watch_only", c)
	}
	if c := s.ListCounts(); c.OfMode(ModeNever) != 1 || c.OfMode(ModeLive) != 0 {
		t.Errorf("list counts %+v, want 1 never", c)
	}
}

// TestStateOwnGraceByEvent checks that an EventSub grace ends by time at
// the streamer's own grace, and that Streamers shows that deadline.
func TestStateOwnGraceByEvent(t *testing.T) {
	s := NewState(time.Hour, 10)
	s.SetStreamers(watched(ownGrace("a", 5*time.Minute)))
	s.SetRealtime(t0, true)
	s.Observe(t0, []Status{{UserID: "id-a", Login: "a", Live: true, Source: SourceEventSub}})
	s.Evaluate(t0)
	off := t0.Add(time.Minute)
	s.Observe(off, []Status{{UserID: "id-a", Source: SourceEventSub}})
	s.Evaluate(off)
	if got, want := s.NextDeadline(off), off.Add(5*time.Minute); !got.Equal(want) {
		t.Errorf("next deadline %v, want %v (the streamer's own grace)", got, want)
	}
	if st := s.Streamers(off)[0]; st.State != StateGrace || !st.Until.Equal(off.Add(5*time.Minute)) {
		t.Errorf("listed as %s until %v, want offline_grace until %v", st.State, st.Until, off.Add(5*time.Minute))
	}
	if got := s.Evaluate(off.Add(5 * time.Minute)); len(got) != 0 {
		t.Errorf("after its own grace: wanted %v, want none", got)
	}
}

// TestStateReloadChangesMode checks that a streamer that stays takes its
// new settings: a mode, and a grace falling back to the global one.
func TestStateReloadChangesMode(t *testing.T) {
	s := NewState(time.Minute, 10)
	s.SetStreamers(streamers("a", "b"))
	s.Observe(t0, offline("a", "b"))
	if got := s.Evaluate(t0); len(got) != 0 {
		t.Fatalf("live mode, offline: wanted %v, want none", got)
	}
	s.SetStreamers(watched(concat(withMode(ModeAlways, "a"), withMode(ModeNever, "b"))...))
	if got, want := s.Evaluate(t0), []string{"a"}; !slices.Equal(got, want) {
		t.Fatalf("a now always: wanted %v, want %v", got, want)
	}
	s.Observe(t0.Add(time.Minute), live("b"))
	if got, want := s.Evaluate(t0.Add(time.Minute)), []string{"a"}; !slices.Equal(got, want) {
		t.Fatalf("b never, live: wanted %v, want %v", got, want)
	}
	s.SetStreamers(watched(ownGrace("a", 0), StreamersOf("b")[0]))
	if got, want := s.Evaluate(t0.Add(time.Minute)), []string{"b"}; !slices.Equal(got, want) {
		t.Fatalf("a back to live (offline, own grace 0), b live: wanted %v, want %v", got, want)
	}
}

func TestMergeFollows(t *testing.T) {
	listed := []StreamerSettings{
		{Login: "a", Mode: ModeAlways, Notify: false},
		{Login: "b", Mode: ModeNever, Notify: true},
		ownGrace("c", 0),
	}
	got := MergeFollows(listed, []string{"z", "b", "y", "z", "a", ""})
	want := []StreamerSettings{
		listed[0], listed[1], listed[2], // their settings and place, though followed
		{Login: "z", Mode: ModeLive, Notify: true, FromFollows: true},
		{Login: "y", Mode: ModeLive, Notify: true, FromFollows: true},
	}
	if !slices.Equal(got, want) {
		t.Errorf("got  %+v\nwant %+v", got, want)
	}
	if got[3].Origin() != OriginFollows || got[0].Origin() != OriginConfig {
		t.Errorf("origins %q, %q; want follows, config", got[3].Origin(), got[0].Origin())
	}
	// An unfollow is the next merge without it.
	if got, want := MergeFollows(listed, []string{"y"}), append(slices.Clone(listed), want[4]); !slices.Equal(got, want) {
		t.Errorf("after unfollowing z: got %+v, want %+v", got, want)
	}
	if got := MergeFollows(listed, nil); !slices.Equal(got, listed) {
		t.Errorf("no follows: got %+v, want the listed ones", got)
	}
}

// TestEngineFollowsReload checks what a refresh of the follows does through
// Engine.Reload: a followed channel is added after the listed ones and
// logged, an unfollowed one is left and logged, and /status says where
// each streamer came from.
func TestEngineFollowsReload(t *testing.T) {
	tw := newFakeTwitch("a", "f1", "f2")
	tw.live["a"], tw.live["f1"], tw.live["f2"] = true, true, true
	logs := testkit.NewLogBuffer()
	listed := withMode(ModeAlways, "a")
	s := Settings{Streamers: MergeFollows(listed, []string{"f1"}), Interval: time.Hour, MaxChannels: 10}
	h := startEngine(t, tw, s, func(o *Options) { o.Logger = logs.Logger() })
	h.waitChannels("a", "f1")

	h.opts.Settings.Streamers = MergeFollows(listed, []string{"f2", "f1"})
	h.poll()
	h.waitChannels("a", "f2", "f1") // in the order Twitch lists the follows
	logs.WaitContains(t, `"streamer":"f2","origin":"follows","message":"followed channel added"`)

	h.opts.Settings.Streamers = MergeFollows(listed, []string{"f2"})
	h.poll()
	h.waitChannels("a", "f2")
	logs.WaitContains(t, `"streamer":"f1","origin":"follows","message":"channel unfollowed; removed"`)
	if strings.Contains(logs.String(), `"streamer":"f2","origin":"follows","message":"channel unfollowed`) {
		t.Errorf("f2, still followed, was logged as unfollowed:\n%s", logs.String())
	}

	snap := h.e.Snapshot()
	var got []string
	for _, st := range snap.Streamers {
		got = append(got, st.Login+":"+string(st.Mode)+":"+string(st.Source))
	}
	if want := []string{"a:always:config", "f2:live:follows"}; !slices.Equal(got, want) {
		t.Errorf("streamers %v, want %v", got, want)
	}
	if want := (ListCounts{Live: 1, Always: 1, FromFollows: 1}); snap.List != want {
		t.Errorf("list counts %+v, want %+v", snap.List, want)
	}
}
