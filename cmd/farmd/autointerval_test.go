package main

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/farmd/farmd/internal/testkit"
	"github.com/farmd/farmd/irc/irctest"
	"github.com/farmd/farmd/ops"
)

// TestAutoIntervalCostVisible runs farmd with poll.interval: auto and checks
// that the chosen interval and its cost are in the start log, /status and
// /metrics: 3 streamers are one request a poll, every MinAutoInterval (5 s),
// so 12 requests a minute.
func TestAutoIntervalCostVisible(t *testing.T) {
	defer http.DefaultClient.CloseIdleConnections()
	w := newWorld(t, irctest.Options{})
	w.add(true, "alice")
	w.add(false, "bob", "carol")
	addr := freeAddr(t)
	p := start(t, w.yaml(cfg{streamers: []string{"alice", "bob", "carol"}, interval: "auto", httpListen: addr}), nil)
	w.waitJoined(t, p, "alice")
	base := "http://" + addr

	var st ops.Status
	testkit.Eventually(t, "/status after the first poll", func() bool {
		code, body := httpGet(t, base+"/status")
		if code != http.StatusOK {
			t.Fatalf("/status: %d", code)
		}
		if err := json.Unmarshal([]byte(body), &st); err != nil {
			t.Fatalf("/status: %v", err)
		}
		return !st.LastPoll.IsZero()
	})
	if st.Interval != "5s" || st.RateLimit.RequestsPerMinute != 12 {
		t.Errorf("/status: got interval %q, %v requests a minute; want 5s, 12", st.Interval, st.RateLimit.RequestsPerMinute)
	}
	_, metrics := httpGet(t, base+"/metrics")
	for _, want := range []string{"farmd_poll_interval_seconds 5", "farmd_poll_requests_per_minute 12"} {
		if !strings.Contains(metrics, want+"\n") {
			t.Errorf("/metrics lacks %q", want)
		}
	}
	p.stop()
	logs := p.stderr.String()
	for _, want := range []string{`"interval":5,`, `"interval_auto":true`, `"helix_requests_per_poll":1`, `"helix_requests_per_minute":12`} {
		if !strings.Contains(logs, want) {
			t.Errorf("start log lacks %s:\n%s", want, testkit.Tail(logs, 2000))
		}
	}
}
