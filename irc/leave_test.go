package irc

import (
	"testing"

	"github.com/farmd/farmd/internal/testkit"
	"github.com/farmd/farmd/irc/irctest"
	"github.com/farmd/farmd/presence"
)

// partReason returns the Reason of the first EventParted of channel.
func (e *events) partReason(channel string) (string, bool) {
	e.mu.Lock()
	defer e.mu.Unlock()
	for _, ev := range e.list {
		if ev.Kind == EventParted && ev.Channel == channel {
			return ev.Reason, true
		}
	}
	return "", false
}

// TestLeftSaysWhy: the "left" line of a PART carries the reason the caller
// gave, naming the streamer given the slot, and the echo's EventParted
// carries the reason too.
func TestLeftSaysWhy(t *testing.T) {
	srv := newServer(t, irctest.Options{})
	o := fastOptions(srv)
	lb := testkit.NewLogBuffer()
	o.Logger = lb.Logger()
	r := start(t, o)
	r.m.SetChannels([]string{"beta"}, nil)
	testkit.WaitChat(t, srv, "joined", joinedAre("beta"))
	r.m.SetChannels([]string{"alpha"}, map[string]presence.Departure{"beta": {Reason: presence.LeaveSlotGiven, To: "alpha"}})
	lb.WaitContains(t, `"channel":"beta","reason":"slot_given","to":"alpha","message":"left"`)
	r.ev.waitEvent(t, EventParted, "beta", 1)
	if why, _ := r.ev.partReason("beta"); why != "slot_given" {
		t.Errorf("EventParted reason %q, want slot_given", why)
	}
	// Without a reason from the caller, the line still says one.
	r.m.SetChannels(nil, nil)
	lb.WaitContains(t, `"channel":"alpha","reason":"unwanted","message":"left"`)
}

// TestShutdownLogsChannelsLeft: at shutdown one info line lists the
// channels PARTed, and their EventParted say shutdown.
func TestShutdownLogsChannelsLeft(t *testing.T) {
	srv := newServer(t, irctest.Options{})
	o := fastOptions(srv)
	lb := testkit.NewLogBuffer()
	o.Logger = lb.Logger()
	r := start(t, o)
	r.m.SetChannels([]string{"alpha", "beta"}, nil)
	testkit.WaitChat(t, srv, "joined", joinedAre("alpha", "beta"))
	if err := r.stop(t); err != nil {
		t.Fatalf("Run = %v, want nil", err)
	}
	lb.WaitContains(t, `{"level":"info","component":"irc","channels":["alpha","beta"],"reason":"shutdown","message":"left channels: shutting down"}`)
	if why, ok := r.ev.partReason("alpha"); !ok || why != "shutdown" {
		t.Errorf("EventParted reason %q (seen %v), want shutdown", why, ok)
	}
}
