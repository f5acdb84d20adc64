package main

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/farmd/farmd/eventsub/eventsubtest"
	"github.com/farmd/farmd/helix/helixtest"
	"github.com/farmd/farmd/internal/testkit"
	"github.com/farmd/farmd/irc/irctest"
)

// esReady waits until the shard is on a session and n streamers have both
// subscriptions.
func (w *world) esReady(tb testing.TB, n int) {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), waitMax)
	defer cancel()
	err := w.es.Wait(ctx, func(f *eventsubtest.Fake) bool { return f.Ready(n) })
	if err != nil {
		tb.Fatalf("eventsub never ready with %d streamers: conduits %+v, subscriptions %+v", n, w.es.Conduits(), w.es.Subscriptions())
	}
}

// TestEventSubJoinsWithoutPoll: with an hour between polls, a stream.online
// event joins the channel at once, and stream.offline parts it when its
// offline grace ends, by a timer, with no poll in between.
func TestEventSubJoinsWithoutPoll(t *testing.T) {
	w := newWorld(t, irctest.Options{})
	w.add(false, "alice", "bob")
	p := start(t, w.yaml(cfg{streamers: []string{"alice", "bob"}, interval: "1h", grace: "300ms", eventsub: true}), nil)
	w.esReady(t, 2)
	// The fake has the shard before farmd has read its PATCH answer: an
	// offline event before that counts as one sighting, and its PART would
	// wait for a poll.
	p.stderr.WaitContains(t, "real-time events flowing")
	polls := w.tw.Count(helixtest.EndpointStreams)
	w.tw.SetLive("alice", true) // Helix would say so only at the next poll
	w.es.GoLive(w.tw.AddUser("alice"), "alice")
	w.waitJoined(t, p, "alice")
	w.es.GoOffline(w.tw.AddUser("alice"), "alice")
	p.stderr.WaitContains(t, `"source":"eventsub","offline_grace":0.3,`)
	w.waitJoined(t, p) // the grace ended by the timer
	if n := w.tw.Count(helixtest.EndpointStreams) - polls; n != 0 {
		t.Errorf("%d polls between the events and the PART, want 0", n)
	}
	if got := w.parts(); len(got) != 1 {
		t.Errorf("PARTs %v, want one", got)
	}
}

// TestEventSubOnlineNotUndoneByLaggingPoll: Helix lags; polls that do not
// show a stream yet do not undo a fresh stream.online.
func TestEventSubOnlineNotUndoneByLaggingPoll(t *testing.T) {
	w := newWorld(t, irctest.Options{})
	w.add(false, "alice")
	p := start(t, w.yaml(cfg{streamers: []string{"alice"}, interval: "40ms", eventsub: true}), nil)
	w.esReady(t, 1)
	w.es.GoLive(w.tw.AddUser("alice"), "alice") // Helix still says offline
	w.waitJoined(t, p, "alice")
	w.polls(t, 5)
	if got := w.parts(); len(got) != 0 {
		t.Errorf("PARTs %v after polls that lag behind the event, want none", got)
	}
}

// TestEventSubDownPollingGoesOn: with EventSub unreachable, polling still
// joins live channels; the failure is a warning, never fatal, and /status
// shows it; once EventSub is back, the shard is set up again.
func TestEventSubDownPollingGoesOn(t *testing.T) {
	defer http.DefaultClient.CloseIdleConnections()
	w := newWorld(t, irctest.Options{})
	w.add(false, "alice")
	addr := freeAddr(t)
	p := start(t, w.yaml(cfg{streamers: []string{"alice"}, eventsub: true, httpListen: addr}), nil)
	w.esReady(t, 1)
	w.es.RefuseConnections(true)
	w.es.DropConnections()
	w.tw.SetLive("alice", true)
	w.waitJoined(t, p, "alice")
	testkit.Eventually(t, "/status to show eventsub down", func() bool {
		_, body := httpGet(t, "http://"+addr+"/status")
		return strings.Contains(body, `"eventsub": {`) && strings.Contains(body, `"healthy": false`)
	})
	if p.exited {
		t.Fatal("farmd exited while EventSub was down")
	}
	w.es.RefuseConnections(false)
	testkit.Eventually(t, "eventsub healthy again", func() bool {
		_, body := httpGet(t, "http://"+addr+"/status")
		return strings.Contains(body, `"healthy": true`) && strings.Contains(body, `"shard_status": "enabled"`)
	})
}

// TestEventSubRestartReusesConduit: a restart finds the conduit it made
// and creates no other, nor duplicate subscriptions.
func TestEventSubRestartReusesConduit(t *testing.T) {
	w := newWorld(t, irctest.Options{})
	w.add(false, "alice", "bob")
	c := cfg{streamers: []string{"alice", "bob"}, eventsub: true}
	p := start(t, w.yaml(c), nil)
	w.esReady(t, 2)
	if code := p.stop(); code != exitOK {
		t.Fatalf("exit %d", code)
	}
	start(t, w.yaml(c), nil) // stopped by the test's cleanup
	w.esReady(t, 2)
	if n := len(w.es.Conduits()); n != 1 {
		t.Errorf("%d conduits after a restart, want 1", n)
	}
	if n := w.es.Count(eventsubtest.EndpointPostConduits); n != 1 {
		t.Errorf("%d conduit creations, want 1", n)
	}
	if n := len(w.es.Subscriptions()); n != 4 {
		t.Errorf("%d subscriptions, want 4", n)
	}
}
