package main

import (
	"net/http"
	"strings"
	"testing"

	"github.com/farmd/farmd/internal/testkit"
	"github.com/farmd/farmd/irc/irctest"
	"github.com/farmd/farmd/streamelements/setest"
)

// pointsYAML is the points section against the fake.
func pointsYAML(se *setest.Server, on bool, every string) string {
	return "points:\n  streamelements: " + map[bool]string{true: "true", false: "false"}[on] +
		"\n  api_url: " + se.URL() + "\n  every: " + every + "\n"
}

// TestPointsOffSendsNothing: with points.streamelements off (the default)
// farmd sends StreamElements not one request, however long it runs.
func TestPointsOffSendsNothing(t *testing.T) {
	se := setest.New(setest.Options{})
	defer se.Close()
	w := newWorld(t, irctest.Options{})
	w.add(true, "alice")
	p := start(t, w.yaml(cfg{streamers: []string{"alice"}})+pointsYAML(se, false, "10ms"), nil)
	w.waitJoined(t, p, "alice")
	w.polls(t, 5)
	if n := len(se.Requests()); n != 0 {
		t.Errorf("%d StreamElements requests with the option off, want 0", n)
	}
}

// TestPointsReadingsInStatus: with the option on, the account's points and
// watch time in the channels farmd was in appear in /status and /metrics.
func TestPointsReadingsInStatus(t *testing.T) {
	defer http.DefaultClient.CloseIdleConnections()
	se := setest.New(setest.Options{})
	defer se.Close()
	se.AddChannel("alice")
	se.Grow("alice", botName, 120, 500)
	w := newWorld(t, irctest.Options{})
	w.add(true, "alice")
	addr := freeAddr(t)
	p := start(t, w.yaml(cfg{streamers: []string{"alice"}, httpListen: addr})+pointsYAML(se, true, "50ms"), nil)
	w.waitJoined(t, p, "alice")
	var status string
	testkit.Eventually(t, "a reading in /status", func() bool {
		_, status = httpGet(t, "http://"+addr+"/status")
		return strings.Contains(status, `"watchtime_minutes": 120`)
	})
	if !strings.Contains(status, `"points": 500`) {
		t.Errorf("/status lacks the points:\n%s", testkit.Tail(status, 40))
	}
	_, metrics := httpGet(t, "http://"+addr+"/metrics")
	if !strings.Contains(metrics, `farmd_streamelements_watchtime_minutes{channel="alice"} 120`) {
		t.Errorf("/metrics lacks the watch time")
	}
}
