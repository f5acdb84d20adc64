package presence

import (
	"maps"
	"slices"
	"testing"
	"time"

	"github.com/farmd/farmd/internal/testkit"
)

// TestStateDepartures checks that every channel leaving the wanted set
// comes with its reason, naming the streamer given the slot.
func TestStateDepartures(t *testing.T) {
	type step struct {
		at      time.Duration
		observe []Status
		unavail string
		list    []string // reload the list (nil: keep it)
		max     int      // change max_channels (0: keep it)
		mode    Mode     // with list: the last streamer's mode
		want    map[string]Departure
	}
	tests := []struct {
		name  string
		steps []step
	}{
		{"grace over", []step{
			{observe: live("b")},
			{at: time.Minute, observe: offline("b")},
			{at: 11 * time.Minute, observe: offline("b"), want: map[string]Departure{"b": {Reason: LeaveOffline}}},
		}},
		{"slot given to a higher-priority streamer", []step{
			{observe: live("b")},
			{at: time.Minute, observe: live("a"), want: map[string]Departure{"b": {Reason: LeaveSlotGiven, To: "a"}}},
		}},
		{"cap lowered", []step{
			{observe: live("a", "b"), max: 2},
			{max: 1, want: map[string]Departure{"b": {Reason: LeaveCap}}},
		}},
		{"removed from the list", []step{
			{observe: live("b")},
			{list: []string{"a"}, want: map[string]Departure{"b": {Reason: LeaveRemoved}}},
		}},
		{"refused", []step{
			{observe: live("b")},
			{unavail: "b", want: map[string]Departure{"b": {Reason: LeaveRefused}}},
		}},
		{"mode never", []step{
			{observe: live("b")},
			{list: []string{"a", "b"}, mode: ModeNever, want: map[string]Departure{"b": {Reason: LeaveNever}}},
		}},
		{"renamed", []step{
			{observe: live("b")},
			{observe: []Status{{UserID: "id-b", Login: "bee", Live: true}}, want: map[string]Departure{"b": {Reason: LeaveRenamed}}},
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := NewState(10*time.Minute, 1)
			s.SetStreamers(streamers("a", "b"))
			for i, st := range tc.steps {
				now := t0.Add(st.at)
				if st.max > 0 {
					s.SetLimits(10*time.Minute, st.max)
				}
				if st.list != nil {
					list := StreamersOf(st.list...)
					if st.mode != "" {
						list[len(list)-1].Mode = st.mode
					}
					s.setStreamers(watched(list...), false)
				}
				if st.unavail != "" {
					s.MarkUnavailable(st.unavail, "msg_banned", now.Add(time.Hour))
				}
				s.Observe(now, st.observe)
				s.Evaluate(now)
				if got := s.Departures(); !maps.Equal(got, st.want) {
					t.Errorf("step %d: departures %v, want %v", i, got, st.want)
				}
			}
		})
	}
}

// TestStateWaitingForASlot checks that a live streamer without a slot is
// reported once as waiting, and once when it gets a slot.
func TestStateWaitingForASlot(t *testing.T) {
	s := NewState(10*time.Minute, 1)
	s.SetStreamers(streamers("a", "b"))
	names := func(l []Streamer) []string {
		var out []string
		for _, st := range l {
			out = append(out, st.Login)
		}
		return out
	}
	steps := []struct {
		at             time.Duration
		observe        []Status
		queued, seated []string
	}{
		{0, live("a", "b"), []string{"b"}, nil},
		{time.Minute, live("a", "b"), nil, nil}, // still waiting: said once
		{2 * time.Minute, offline("a"), nil, nil},
		{13 * time.Minute, offline("a"), nil, []string{"b"}}, // a's grace over
		{14 * time.Minute, live("a"), []string{"b"}, nil},    // a, listed first, takes the slot back
		{15 * time.Minute, live("a", "b"), nil, nil},
	}
	for i, st := range steps {
		now := t0.Add(st.at)
		s.Observe(now, st.observe)
		s.Evaluate(now)
		if got := names(s.Queued()); !slices.Equal(got, st.queued) {
			t.Errorf("step %d: queued %v, want %v", i, got, st.queued)
		}
		if got := names(s.Seated()); !slices.Equal(got, st.seated) {
			t.Errorf("step %d: seated %v, want %v", i, got, st.seated)
		}
	}
}

// recordingChat is a Chat that keeps every call's reasons.
type recordingChat struct{ lefts chan map[string]Departure }

func (c *recordingChat) SetChannels(_ []string, left map[string]Departure) {
	c.lefts <- maps.Clone(left)
}

// TestEngineLogsWaitingAndHandsReasons checks the Engine's log lines for a
// streamer waiting for a slot and getting one, and that the Chat is told
// who took a slot.
func TestEngineLogsWaitingAndHandsReasons(t *testing.T) {
	tw := newFakeTwitch("a", "b")
	logs := testkit.NewLogBuffer()
	chat := &recordingChat{lefts: make(chan map[string]Departure, 16)}
	h := startEngine(t, tw, Settings{Streamers: StreamersOf("a", "b"), Interval: time.Hour, OfflineGrace: 0, MaxChannels: 1},
		func(o *Options) { o.Logger = logs.Logger(); o.Chat = chat })
	setLive := func(login string, live bool) { tw.set(func(f *fakeTwitch) { f.live[login] = live }) }
	setLive("b", true)
	h.poll()
	setLive("a", true)
	h.poll()
	logs.WaitContains(t, `"streamer":"b","max_channels":1,"message":"streamer is live but waiting for a slot"`)
	setLive("a", false)
	h.poll()
	logs.WaitContains(t, `"streamer":"b","message":"waiting streamer given a slot"`)
	want := Departure{Reason: LeaveSlotGiven, To: "a"}
	testkit.Eventually(t, "the Chat told b's slot went to a", func() bool {
		for {
			select {
			case l := <-chat.lefts:
				if l["b"] == want {
					return true
				}
			default:
				return false
			}
		}
	})
}
