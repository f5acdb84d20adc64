package main

import (
	"strings"
	"testing"

	"github.com/farmd/farmd/internal/testkit"
	"github.com/farmd/farmd/irc/irctest"
)

// TestLogsExplainLeaving runs farmd with one slot: a streamer that loses
// it to one listed before it is logged as waiting and its "left" line
// names who got the slot; at shutdown one info line lists the channels
// left.
func TestLogsExplainLeaving(t *testing.T) {
	w := newWorld(t, irctest.Options{})
	w.add(false, "first")
	w.add(true, "second")
	p := start(t, w.yaml(cfg{streamers: []string{"first", "second"}, maxChannels: 1}), nil)
	w.waitJoined(t, p, "second")
	w.tw.SetLive("first", true)
	w.waitJoined(t, p, "first")
	for _, want := range []string{
		`"level":"info","component":"irc","channel":"second","reason":"slot_given","to":"first",`,
		`"message":"left"`,
		`"level":"info","component":"presence","streamer":"second","max_channels":1,`,
	} {
		testkit.Eventually(t, "log has "+want, func() bool { return strings.Contains(p.stderr.String(), want) })
	}
	if code := p.stop(); code != 0 {
		t.Fatalf("exit %d, want 0", code)
	}
	want := `"level":"info","component":"irc","channels":["first"],"reason":"shutdown",`
	if log := p.stderr.String(); !strings.Contains(log, want) || !strings.Contains(log, `"message":"left channels: shutting down"`) {
		t.Fatalf("log lacks %s; log:\n%s", want, testkit.Tail(log, 20))
	}
}
