package notify

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func openTracker(tb testing.TB, dir string) *Tracker {
	tb.Helper()
	tr, err := OpenTracker(dir)
	if err != nil {
		tb.Fatalf("OpenTracker: %v", err)
	}
	return tr
}

func mustLive(tb testing.TB, tr *Tracker, ev Live, want bool) {
	tb.Helper()
	got, err := tr.Live(ev)
	if err != nil {
		tb.Fatalf("Live: %v", err)
	}
	if got != want {
		tb.Fatalf("Live(%s, %s) = %v, want %v", ev.Login, ev.StreamID, got, want)
	}
}

func TestTrackerOneNotificationPerTransition(t *testing.T) {
	dir := t.TempDir()
	tr := openTracker(t, dir)
	start := time.Date(2024, 3, 1, 18, 0, 0, 0, time.UTC)
	ev := Live{Login: "Shroud", StreamID: "s1", StartedAt: start}
	mustLive(t, tr, ev, true)
	mustLive(t, tr, ev, false)                                     // seen live again next poll
	mustLive(t, tr, Live{Login: "#shroud", StreamID: "s1"}, false) // the same login, normalised

	if err := tr.Joined("shroud", start.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	if err := tr.Parted("shroud", start.Add(61*time.Minute)); err != nil {
		t.Fatal(err)
	}
	if err := tr.Joined("shroud", start.Add(90*time.Minute)); err != nil {
		t.Fatal(err)
	}
	off, ok, err := tr.Offline("shroud", start.Add(2*time.Hour))
	if err != nil || !ok {
		t.Fatalf("Offline = %v, %v; want a notification", ok, err)
	}
	if want := (Offline{Login: "shroud", Duration: 2 * time.Hour, Present: 90 * time.Minute}); off != want {
		t.Errorf("Offline event %+v, want %+v", off, want)
	}
	if _, ok, _ := tr.Offline("shroud", start.Add(3*time.Hour)); ok {
		t.Error("a second Offline notified again")
	}
	if _, ok, _ := tr.Offline("never-live", start); ok {
		t.Error("Offline of a stream never announced notified")
	}
	mustLive(t, tr, Live{Login: "shroud", StreamID: "s2"}, true) // the next stream
}

func TestTrackerSurvivesRestart(t *testing.T) {
	dir := t.TempDir()
	start := time.Date(2024, 3, 1, 18, 0, 0, 0, time.UTC)
	tr := openTracker(t, dir)
	mustLive(t, tr, Live{Login: "a", StreamID: "a1", StartedAt: start}, true)
	mustLive(t, tr, Live{Login: "b", StartedAt: start}, true) // no stream ID: StartedAt identifies it
	mustLive(t, tr, Live{Login: "c", StreamID: "c1"}, true)
	if err := tr.Joined("a", start); err != nil {
		t.Fatal(err)
	}
	if err := tr.PartAll(start.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if err := tr.Joined("b", start); err != nil { // open at the "crash"
		t.Fatal(err)
	}

	st, err := os.Stat(filepath.Join(dir, TrackerFile))
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("tracker file %v, %v; want mode 0600", st, err)
	}

	// farmd restarts; the streams are still live.
	tr = openTracker(t, dir)
	mustLive(t, tr, Live{Login: "a", StreamID: "a1", StartedAt: start}, false)
	mustLive(t, tr, Live{Login: "b", StartedAt: start}, false)
	mustLive(t, tr, Live{Login: "c", StreamID: "c2"}, true) // c started a new stream meanwhile

	off, ok, err := tr.Offline("a", start.Add(3*time.Hour))
	if err != nil || !ok {
		t.Fatalf("Offline after restart = %v, %v; want a notification", ok, err)
	}
	if want := (Offline{Login: "a", Duration: 3 * time.Hour, Present: time.Hour}); off != want {
		t.Errorf("Offline %+v, want %+v", off, want)
	}
	off, ok, _ = tr.Offline("b", start.Add(time.Hour))
	if !ok || off.Present != 0 {
		t.Errorf("Offline(b) = %+v, %v; want notified, the interval open at the crash not counted", off, ok)
	}

	// And once more: what was notified offline stays so.
	tr = openTracker(t, dir)
	if _, ok, _ := tr.Offline("a", start.Add(4*time.Hour)); ok {
		t.Error("offline notified twice across restarts")
	}
}

func TestTrackerJoinBeforeLive(t *testing.T) {
	tr := openTracker(t, t.TempDir())
	at := time.Date(2024, 3, 1, 18, 0, 0, 0, time.UTC)
	if err := tr.Joined("a", at); err != nil {
		t.Fatal(err)
	}
	mustLive(t, tr, Live{Login: "a", StreamID: "1", StartedAt: at}, true)
	off, ok, _ := tr.Offline("a", at.Add(time.Hour))
	if !ok || off.Present != time.Hour {
		t.Errorf("Offline = %+v, %v; want the chat time from before the live event", off, ok)
	}
}

func TestTrackerBadFile(t *testing.T) {
	for name, content := range map[string]string{
		"not JSON":      "{garbage",
		"other version": `{"version": 99, "streams": {"a": {"live": true}}}`,
	} {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			if err := os.WriteFile(filepath.Join(dir, TrackerFile), []byte(content), 0o600); err != nil {
				t.Fatal(err)
			}
			tr, err := OpenTracker(dir)
			if err == nil || !strings.Contains(err.Error(), TrackerFile) {
				t.Errorf("OpenTracker error %v, want one naming the file", err)
			}
			if tr == nil {
				t.Fatal("no tracker with the error")
			}
			mustLive(t, tr, Live{Login: "a"}, true) // empty: announces again
		})
	}
}

func TestTrackerWriteError(t *testing.T) {
	dir := t.TempDir()
	tr := openTracker(t, filepath.Join(dir, "missing"))
	ok, err := tr.Live(Live{Login: "a"})
	if !ok || err == nil {
		t.Errorf("Live with an unwritable dir = %v, %v; want true and the error", ok, err)
	}
}

func TestRunningMarker(t *testing.T) {
	dir := t.TempDir()
	unclean, err := MarkRunning(dir)
	if err != nil || unclean {
		t.Fatalf("first start: unclean %v, %v; want false", unclean, err)
	}
	if st, err := os.Stat(filepath.Join(dir, RunningFile)); err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("marker %v, %v", st, err)
	}
	// Crash: no MarkStopped.
	unclean, err = MarkRunning(dir)
	if err != nil || !unclean {
		t.Fatalf("after a crash: unclean %v, %v; want true", unclean, err)
	}
	if err := MarkStopped(dir); err != nil {
		t.Fatal(err)
	}
	if err := MarkStopped(dir); err != nil {
		t.Errorf("MarkStopped without a marker: %v", err)
	}
	unclean, err = MarkRunning(dir)
	if err != nil || unclean {
		t.Fatalf("after a clean stop: unclean %v, %v; want false", unclean, err)
	}
	if _, err := MarkRunning(filepath.Join(dir, "missing")); err == nil {
		t.Error("MarkRunning in a missing directory returned nil")
	}
}

// TestTrackedNotifications is the wiring the daemon does: events go
// through the tracker, and only transitions reach the service, across a
// restart of both.
func TestTrackedNotifications(t *testing.T) {
	dir := t.TempDir()
	fake := newFake(t, "ok")
	start := time.Date(2024, 3, 1, 18, 0, 0, 0, time.UTC)
	live := func(tr *Tracker, n *harness, login string) {
		t.Helper()
		if ok, err := tr.Live(Live{Login: login, StreamID: login + "-1", StartedAt: start}); err != nil {
			t.Fatal(err)
		} else if ok {
			n.Notify(Live{Login: login})
		}
	}
	offline := func(tr *Tracker, n *harness, login string) {
		t.Helper()
		if ev, ok, err := tr.Offline(login, start.Add(time.Hour)); err != nil {
			t.Fatal(err)
		} else if ok {
			n.Notify(ev)
		}
	}

	tr, h := openTracker(t, dir), newHarness(t, []Target{{URL: genericURL(fake, "/x")}}, Options{})
	h.start(t)
	for range 3 { // three polls see both live
		live(tr, h, "a")
		live(tr, h, "b")
	}
	h.timers.Fire(t, testWindow, 1)
	fake.WaitRequests(t, 1)
	h.stop()

	tr, h = openTracker(t, dir), newHarness(t, []Target{{URL: genericURL(fake, "/x")}}, Options{})
	h.start(t)
	live(tr, h, "a") // still live after the restart: no repeat
	offline(tr, h, "b")
	offline(tr, h, "b")
	offline(tr, h, "c") // never announced
	h.timers.Fire(t, testWindow, 1)
	fake.WaitRequests(t, 2)
	h.stop()

	got := fake.Requests()
	want := []string{
		"2 streamers went live:\n- a is live https://twitch.tv/a\n- b is live https://twitch.tv/b",
		"b went offline after 1h00m; farmd was not in its chat",
	}
	if len(got) != len(want) {
		t.Fatalf("%d messages, want %d: %+v", len(got), len(want), got)
	}
	for i := range want {
		if got[i].Body != want[i] {
			t.Errorf("message %d = %q, want %q", i, got[i].Body, want[i])
		}
	}
}
