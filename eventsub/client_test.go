package eventsub_test

import (
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/farmd/farmd/eventsub"
	"github.com/farmd/farmd/eventsub/eventsubtest"
	"github.com/farmd/farmd/internal/testkit"
)

func TestConduitReusedAcrossRuns(t *testing.T) {
	h := newHarness(t, eventsubtest.Options{})
	h.run("1001", "1002")
	h.waitReady(4)
	first := shardSession(h.srv.Fake)
	h.stop()

	h.run("1001", "1002")
	h.waitFake("second run's session on the shard", func(f *eventsubtest.Fake) bool { return shardOn(f, first) })
	h.waitReady(4)

	if got := len(h.srv.Conduits()); got != 1 {
		t.Errorf("got %d conduits, want 1", got)
	}
	if got := h.srv.Count(eventsubtest.EndpointPostConduits); got != 1 {
		t.Errorf("got %d conduit creations, want 1", got)
	}
	if got := h.srv.Count(eventsubtest.EndpointPatchShards); got != 2 {
		t.Errorf("got %d shard PATCHes, want 2 (one per welcome)", got)
	}
	if got := h.srv.Count(eventsubtest.EndpointPostSubscriptions); got != 4 {
		t.Errorf("got %d subscription POSTs, want 4 (the second run creates none)", got)
	}
	if st := h.c.Status(); st.ConduitID != h.srv.Conduits()[0].ID || st.ShardStatus != "enabled" || st.SessionID == "" {
		t.Errorf("status %+v does not show the conduit and an enabled shard", st)
	}
}

func TestSubscriptionsReconciled(t *testing.T) {
	h := newHarness(t, eventsubtest.Options{PageSize: 2})
	cid := h.srv.AddConduit()
	// A previous run's subscriptions: 1001 online (kept), 9999 (removed
	// from the config: deleted), and one on another conduit (not ours).
	h.srv.AddSubscription(eventsub.TypeStreamOnline, "1001", cid)
	h.srv.AddSubscription(eventsub.TypeStreamOnline, "9999", cid)
	h.srv.AddSubscription(eventsub.TypeStreamOffline, "9999", cid)
	other := h.srv.AddSubscription(eventsub.TypeStreamOnline, "1002", "other-conduit")
	h.srv.AddSubscription(eventsub.TypeStreamOffline, "1003", cid)
	// The first POST finds the subscription already there.
	h.srv.Fail(eventsubtest.EndpointPostSubscriptions, http.StatusConflict, 1)

	h.run("1001", "1002")
	h.waitFake("reconciled", func(f *eventsubtest.Fake) bool {
		return shardOn(f) && f.Count(eventsubtest.EndpointDeleteSubscriptions) == 3 &&
			f.Count(eventsubtest.EndpointPostSubscriptions) == 3
	})
	// 6 subscriptions at 2 a page: 3 pages, all read.
	if got := h.srv.Count(eventsubtest.EndpointGetSubscriptions); got != 3 {
		t.Errorf("got %d list requests, want 3 pages", got)
	}
	have := map[string]bool{}
	for _, s := range h.srv.Subscriptions() {
		if s.ConduitID == cid {
			have[s.Type+" "+s.BroadcasterID] = true
		}
	}
	// The 409'd POST was the first missing one, 1001's offline.
	want := map[string]bool{"stream.online 1001": true, "stream.online 1002": true, "stream.offline 1002": true}
	for k := range want {
		if !have[k] {
			t.Errorf("missing subscription %s; have %v", k, have)
		}
	}
	for k := range have {
		if !want[k] {
			t.Errorf("unexpected subscription %s", k)
		}
	}
	found := false
	for _, s := range h.srv.Subscriptions() {
		found = found || s.ID == other
	}
	if !found {
		t.Error("another conduit's subscription was deleted")
	}
	if strings.Contains(h.logs.String(), `"level":"warn"`) {
		t.Errorf("a 409 or a delete logged a warning:\n%s", testkit.Tail(h.logs.String(), 20))
	}
	testkit.Eventually(t, "healthy", func() bool { return h.c.Status().Healthy })

	// A new streamer set: 1001 goes, 1003 comes; the 409'd one is made now.
	h.c.SetStreamers([]string{"1002", "1003"})
	h.waitFake("second reconcile", func(f *eventsubtest.Fake) bool {
		have := map[string]bool{}
		for _, s := range f.Subscriptions() {
			if s.ConduitID == cid {
				have[s.Type+" "+s.BroadcasterID] = true
			}
		}
		return len(have) == 4 && have["stream.online 1003"] && have["stream.offline 1003"] &&
			have["stream.online 1002"] && have["stream.offline 1002"]
	})
}

func TestMaxTotalCostRespected(t *testing.T) {
	h := newHarness(t, eventsubtest.Options{MaxTotalCost: 3})
	h.run("1001", "1002", "1003")
	h.waitReady(3)
	st := h.c.Status()
	if st.TotalCost != 3 || st.MaxTotalCost != 3 || st.PolledOnly != 3 {
		t.Errorf("status cost %d/%d polled-only %d, want 3/3 and 3", st.TotalCost, st.MaxTotalCost, st.PolledOnly)
	}
	// Priority order: 1001 both, 1002 online.
	for i, s := range h.srv.Subscriptions() {
		want := []string{"stream.online 1001", "stream.offline 1001", "stream.online 1002"}[i]
		if got := s.Type + " " + s.BroadcasterID; got != want {
			t.Errorf("subscription %d: got %s, want %s", i, got, want)
		}
	}
	if got := h.srv.Count(eventsubtest.EndpointPostSubscriptions); got != 3 {
		t.Errorf("got %d POSTs, want 3: no request past the known limit", got)
	}
	// Another reconcile: no second warning.
	lists := h.srv.Count(eventsubtest.EndpointGetSubscriptions)
	h.c.SetStreamers([]string{"1001", "1002", "1003"})
	h.waitFake("another reconcile", func(f *eventsubtest.Fake) bool {
		return f.Count(eventsubtest.EndpointGetSubscriptions) > lists
	})
	testkit.Eventually(t, "reconcile done", func() bool { return h.c.Status().PolledOnly == 3 })
	if got := strings.Count(h.logs.String(), "max_total_cost reached: 3 subscriptions"); got != 1 {
		t.Errorf("got %d cost warnings naming 3, want 1:\n%s", got, testkit.Tail(h.logs.String(), 20))
	}
}

func TestEventsDeliveredOnce(t *testing.T) {
	h := newHarness(t, eventsubtest.Options{})
	h.run("1001")
	h.waitReady(2)
	h.srv.SetNotifyMode(eventsubtest.NotifyTwice)
	if n := h.srv.GoLive("1001", "Alice"); n != 1 {
		t.Fatalf("GoLive sent %d notifications, want 1", n)
	}
	h.srv.GoOffline("1001", "alice")
	testkit.Eventually(t, "4 notifications read", func() bool { return h.c.Status().EventsReceived == 4 })
	testkit.Eventually(t, "2 events delivered", func() bool { return len(h.Events()) == 2 })
	ev := h.Events()
	if ev[0].Kind != eventsub.Online || ev[1].Kind != eventsub.Offline {
		t.Errorf("got kinds %v %v, want online offline", ev[0].Kind, ev[1].Kind)
	}
	for _, e := range ev {
		if e.BroadcasterID != "1001" || e.BroadcasterLogin != "alice" || e.MessageID == "" || !e.At.Equal(h.clock.Now()) {
			t.Errorf("event %+v: want broadcaster 1001 alice, a message ID and the fake's time %v", e, h.clock.Now())
		}
	}
	if st := h.c.Status(); st.DuplicatesIgnored != 2 {
		t.Errorf("got %d duplicates ignored, want 2", st.DuplicatesIgnored)
	}

	// Late and out of order: both delivered, in the order received.
	h.srv.SetNotifyMode(eventsubtest.NotifyHold)
	h.srv.GoLive("1001", "alice")
	h.srv.GoOffline("1001", "alice")
	if n := h.srv.ReleaseHeld(true); n != 2 {
		t.Fatalf("released %d, want 2", n)
	}
	testkit.Eventually(t, "4 events", func() bool { return len(h.Events()) == 4 })
	ev = h.Events()
	if ev[2].Kind != eventsub.Offline || ev[3].Kind != eventsub.Online {
		t.Errorf("got kinds %v %v, want offline online (as received)", ev[2].Kind, ev[3].Kind)
	}
	// Not at all: nothing delivered, nothing invented.
	h.srv.SetNotifyMode(eventsubtest.NotifyDrop)
	h.srv.GoLive("1001", "alice")
	h.srv.SetNotifyMode(eventsubtest.NotifyDeliver)
	h.srv.GoOffline("1001", "alice")
	testkit.Eventually(t, "5 events", func() bool { return len(h.Events()) == 5 })
	if got := len(h.Events()); got != 5 {
		t.Errorf("got %d events, want 5", got)
	}
}

func TestSlowConsumerDoesNotBlockReader(t *testing.T) {
	h := newHarness(t, eventsubtest.Options{})
	release := make(chan struct{})
	inner := h.opts.OnEvent
	h.opts.OnEvent = func(e eventsub.Event) { <-release; inner(e) }
	h.run("1001")
	h.waitReady(2)
	for range 5 {
		h.srv.GoLive("1001", "alice")
	}
	// All five are read while the consumer is stuck on the first.
	testkit.Eventually(t, "5 notifications read", func() bool { return h.c.Status().EventsReceived == 5 })
	close(release)
	testkit.Eventually(t, "5 events delivered", func() bool { return len(h.Events()) == 5 })
}

func TestKeepaliveTimeoutReconnects(t *testing.T) {
	h := newHarness(t, eventsubtest.Options{KeepaliveSeconds: 1})
	h.opts.KeepaliveSlack = 200 * time.Millisecond
	h.run("1001")
	h.waitReady(2)
	first := shardSession(h.srv.Fake)
	h.srv.StopKeepalives(true)
	h.waitFake("a second connection", func(f *eventsubtest.Fake) bool { return f.Connections() >= 2 })
	h.srv.StopKeepalives(false)
	h.waitFake("new session on the shard", func(f *eventsubtest.Fake) bool { return shardOn(f, first) })
	h.logs.WaitContains(t, "no message within keepalive_timeout_seconds")
	if got := h.srv.Count(eventsubtest.EndpointPatchShards); got < 2 {
		t.Errorf("got %d PATCHes, want one per session", got)
	}
	testkit.Eventually(t, "reconnect counted", func() bool { return h.c.Status().Reconnects >= 1 })
}

func TestSocketDropReconnectsWithBoundedBackoff(t *testing.T) {
	h := newHarness(t, eventsubtest.Options{})
	h.sleep.gate = make(chan struct{})
	h.run("1001")
	h.waitReady(2)
	first := shardSession(h.srv.Fake)
	h.srv.RefuseConnections(true)
	h.srv.DropConnections()

	const steps = 8
	for i := 1; i <= steps; i++ {
		testkit.Eventually(t, "a backoff wait", func() bool { return len(h.sleep.Sleeps()) == i })
		// Every refused attempt came after its own wait: no storm.
		if got := h.srv.Refused(); got != i-1 {
			t.Fatalf("after %d waits: %d refused attempts, want %d", i, got, i-1)
		}
		h.sleep.gate <- struct{}{}
	}
	testkit.Eventually(t, "attempt after the last wait", func() bool { return h.srv.Refused() == steps })
	sleeps := h.sleep.Sleeps()
	for i, d := range sleeps {
		if d > h.opts.BackoffMax || d <= 0 {
			t.Errorf("wait %d: %s, want in (0, %s]", i, d, h.opts.BackoffMax)
		}
	}
	if last := sleeps[len(sleeps)-1]; last < h.opts.BackoffMax*8/10 {
		t.Errorf("last wait %s, want grown to about %s", last, h.opts.BackoffMax)
	}
	h.logs.WaitContains(t, "eventsub connect failed")

	h.srv.RefuseConnections(false)
	close(h.sleep.gate)
	h.waitFake("reconnected and PATCHed", func(f *eventsubtest.Fake) bool { return shardOn(f, first) })
	testkit.Eventually(t, "healthy again", func() bool { return h.c.Status().Healthy })
}

func TestSessionReconnectKeepsEvents(t *testing.T) {
	h := newHarness(t, eventsubtest.Options{})
	h.run("1001")
	h.waitReady(2)
	session := shardSession(h.srv.Fake)
	if n := h.srv.Reconnect(); n != 1 {
		t.Fatalf("Reconnect reached %d sessions, want 1", n)
	}
	// Sent right after session_reconnect, on the old connection unless
	// the new one is already welcomed: delivered either way.
	h.srv.GoLive("1001", "alice")
	h.waitFake("old connection closed by the client", func(f *eventsubtest.Fake) bool { return f.Connections() == 2 && f.OpenConnections() == 1 })
	h.srv.GoOffline("1001", "alice")
	defer func() {
		if t.Failed() {
			t.Logf("events %+v\nlog:\n%s", h.Events(), testkit.Tail(h.logs.String(), 30))
		}
	}()
	testkit.Eventually(t, "2 events", func() bool {
		if len(h.Events()) > 2 {
			t.Fatalf("got %d events, want 2", len(h.Events()))
		}
		return len(h.Events()) == 2
	})
	defer func() {
		if t.Failed() {
			t.Logf("events %+v\nlog:\n%s", h.Events(), testkit.Tail(h.logs.String(), 30))
		}
	}()
	if got := shardSession(h.srv.Fake); got != session {
		t.Errorf("shard session %q, want %q kept", got, session)
	}
	if got := h.srv.Count(eventsubtest.EndpointPatchShards); got != 1 {
		t.Errorf("got %d PATCHes, want 1: a reconnect_url session keeps its shard", got)
	}
	if got := h.srv.Connections(); got != 2 {
		t.Errorf("got %d connections, want 2 (no fresh connect)", got)
	}
	testkit.Eventually(t, "reconnect counted", func() bool { return h.c.Status().Reconnects == 1 })
}

func TestRevocationResubscribes(t *testing.T) {
	h := newHarness(t, eventsubtest.Options{})
	h.run("1001")
	h.waitReady(2)
	if n := h.srv.Revoke("1001", "authorization_revoked"); n != 2 {
		t.Fatalf("revoked %d, want 2", n)
	}
	h.logs.WaitContains(t, "subscription revoked")
	h.waitFake("resubscribed", func(f *eventsubtest.Fake) bool {
		return enabledSubs(f) == 2 && f.Count(eventsubtest.EndpointPostSubscriptions) == 4
	})
}

func TestUnauthorizedRenewsTokenOnce(t *testing.T) {
	h := newHarness(t, eventsubtest.Options{Authorize: func(tok string) bool { return tok == "apptoken-2" }})
	h.run("1001")
	h.waitReady(2)
	if got := h.tokens.Invalidated(); len(got) != 1 || got[0] != "apptoken-1" {
		t.Errorf("invalidated %q, want [apptoken-1] once", got)
	}
}

func TestUnauthorizedTwiceIsAWarning(t *testing.T) {
	h := newHarness(t, eventsubtest.Options{Authorize: func(string) bool { return false }})
	h.run("1001")
	h.logs.WaitContains(t, "app token rejected")
	h.logs.WaitContains(t, "eventsub setup failed, retrying")
	// Each attempt renews once and retries once: two requests per wait.
	testkit.Eventually(t, "a few waits", func() bool { return len(h.sleep.Sleeps()) >= 3 })
	h.stop()
	if got, waits := h.srv.Count(eventsubtest.EndpointGetConduits), len(h.sleep.Sleeps()); got > 2*(waits+1) {
		t.Errorf("%d requests for %d waits: more than one retry each", got, waits)
	}
}

func TestHelixFailuresRetried(t *testing.T) {
	h := newHarness(t, eventsubtest.Options{})
	h.srv.Fail(eventsubtest.EndpointGetConduits, http.StatusServiceUnavailable, 2)
	h.srv.Fail(eventsubtest.EndpointPatchShards, http.StatusForbidden, 1)
	h.srv.Fail(eventsubtest.EndpointGetSubscriptions, http.StatusInternalServerError, 1)
	h.srv.Fail(eventsubtest.EndpointPostSubscriptions, http.StatusBadGateway, 1)
	h.run("1001")
	h.waitReady(2)
	for _, s := range []string{"status 503", "status 403", "status 500", "status 502"} {
		if !strings.Contains(h.logs.String(), s) {
			t.Errorf("log has no warning with %q", s)
		}
	}
	if got := len(h.sleep.Sleeps()); got != 5 {
		t.Errorf("got %d backoff waits, want 5 (one per failure)", got)
	}
	if st := h.c.Status(); !st.Healthy || st.LastError != "" {
		t.Errorf("status %+v, want healthy with no last error", st)
	}
}

func TestUnusedSessionClosedThenRecovered(t *testing.T) {
	h := newHarness(t, eventsubtest.Options{UnusedTimeout: 100 * time.Millisecond})
	h.srv.Fail(eventsubtest.EndpointPatchShards, http.StatusInternalServerError, -1)
	h.run("1001")
	h.logs.WaitContains(t, "status 4003")
	h.srv.ClearFaults()
	h.waitReady(2)
}

func TestMalformedFramesLoggedNotFatal(t *testing.T) {
	h := newHarness(t, eventsubtest.Options{})
	h.run("1001")
	h.waitReady(2)
	h.srv.SendRaw("not json")
	h.srv.SendRaw(`{"metadata":{"message_id":"m1","message_type":"notification"},"payload":{}}`)
	h.logs.WaitContains(t, "malformed frame: notification without payload.subscription")
	h.srv.GoLive("1001", "alice")
	testkit.Eventually(t, "event after bad frames", func() bool { return len(h.Events()) == 1 })
	if got := h.srv.Connections(); got != 1 {
		t.Errorf("got %d connections, want 1: a bad frame is no reason to reconnect", got)
	}
	if !strings.Contains(h.logs.String(), "eventsub bad frame") {
		t.Error("no bad-frame warning")
	}
}

// TestOnHealthReportsChanges: OnHealth is told when the client becomes
// healthy (session on the shard) and when it stops being so (socket lost).
func TestOnHealthReportsChanges(t *testing.T) {
	h := newHarness(t, eventsubtest.Options{})
	var mu sync.Mutex
	var got []bool
	h.opts.OnHealth = func(st eventsub.Status) {
		mu.Lock()
		got = append(got, st.Healthy)
		mu.Unlock()
	}
	h.run("1001")
	h.waitReady(2)
	testkit.Eventually(t, "a healthy report", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(got) > 0 && got[len(got)-1]
	})
	h.srv.RefuseConnections(true)
	h.srv.DropConnections()
	testkit.Eventually(t, "an unhealthy report", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(got) > 1 && !got[len(got)-1]
	})
}
