package main

import (
	"fmt"
	"testing"

	"github.com/farmd/farmd/irc"
)

// TestIRCEventsNeverDropRefusals: however many channels are refused while
// the forwarder is busy, each one reaches it, with its latest reason, in the
// order of the first refusal; repeats coalesce.
func TestIRCEventsNeverDropRefusals(t *testing.T) {
	q := newIRCEvents()
	const n = 5000 // far more than any bounded channel the daemon would use
	for i := range n {
		q.push(irc.Event{Kind: irc.EventUnavailable, Channel: fmt.Sprintf("c%d", i), Reason: "msg_banned"})
		q.push(irc.Event{Kind: irc.EventJoined, Channel: fmt.Sprintf("c%d", i)}) // ignored
	}
	q.push(irc.Event{Kind: irc.EventUnavailable, Channel: "c7", Reason: "msg_channel_suspended"})
	q.push(irc.Event{Kind: irc.EventConnected})
	select {
	case <-q.ready:
	default:
		t.Fatal("ready is not signalled after a push")
	}
	connected, got := q.take()
	if !connected {
		t.Error("connected = false after an EventConnected")
	}
	if len(got) != n {
		t.Fatalf("got %d refused channels, want %d", len(got), n)
	}
	for i, ev := range got {
		if want := fmt.Sprintf("c%d", i); ev.Channel != want {
			t.Fatalf("refusal %d is %s, want %s", i, ev.Channel, want)
		}
	}
	if got[7].Reason != "msg_channel_suspended" {
		t.Errorf("c7's reason is %q, want the latest, msg_channel_suspended", got[7].Reason)
	}
	if c, rest := q.take(); c || len(rest) != 0 {
		t.Errorf("second take = %v, %d events, want nothing", c, len(rest))
	}
}
