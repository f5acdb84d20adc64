package main

import (
	"fmt"
	"testing"
	"time"

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
	b := q.take()
	connected, got := b.connected, b.unavailable
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
	if b := q.take(); b.connected || len(b.unavailable) != 0 || len(b.members) != 0 {
		t.Errorf("second take = %+v, want nothing", b)
	}
}

// TestIRCEventsMembership: each channel's latest JOIN or PART echo is kept,
// in the order of the channel's first change, with its time.
func TestIRCEventsMembership(t *testing.T) {
	q := newIRCEvents()
	now := time.Unix(1_700_000_000, 0)
	q.now = func() time.Time { now = now.Add(time.Second); return now }
	q.push(irc.Event{Kind: irc.EventJoined, Channel: "a"})
	q.push(irc.Event{Kind: irc.EventJoined, Channel: "b"})
	q.push(irc.Event{Kind: irc.EventParted, Channel: "a"})
	q.push(irc.Event{Kind: irc.EventDisconnected})
	b := q.take()
	if b.lostAt != time.Unix(1_700_000_004, 0) || len(b.members) != 2 {
		t.Fatalf("take = %+v, want the loss at the fourth second and two channels", b)
	}
	if m := b.members[0]; m.channel != "a" || m.joined || m.at != time.Unix(1_700_000_003, 0) {
		t.Errorf("a: %+v, want its PART at the third second", m)
	}
	if m := b.members[1]; m.channel != "b" || !m.joined {
		t.Errorf("b: %+v, want joined", m)
	}
}
