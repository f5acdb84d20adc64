package ops

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/farmd/farmd/irc"
	"github.com/farmd/farmd/presence"
)

// hclock is a settable clock for History.
type hclock struct{ t time.Time }

func (c *hclock) now() time.Time { return c.t }

func at(min int) time.Time { return now.Add(time.Duration(min) * time.Minute) }

func ivs(s []Interval) string {
	var b strings.Builder
	for _, iv := range s {
		to := "open"
		if !iv.Open() {
			to = iv.To.Format("15:04")
		}
		fmt.Fprintf(&b, "[%s %s]", iv.From.Format("15:04"), to)
	}
	return b.String()
}

func TestHistoryMerge(t *testing.T) {
	tests := []struct {
		name string
		feed func(h *History)
		want string
	}{
		{"open and close", func(h *History) { h.Live("a", at(0)); h.Offline("a", at(10)) }, "[12:00 12:10]"},
		{"live twice keeps the first start", func(h *History) { h.Live("a", at(5)); h.Live("a", at(7)) }, "[12:05 open]"},
		{"an earlier start moves the open interval", func(h *History) { h.Live("a", at(5)); h.Live("a", at(2)) }, "[12:02 open]"},
		{"offline without live records nothing", func(h *History) { h.Offline("a", at(5)) }, ""},
		{"offline twice keeps the first end", func(h *History) {
			h.Live("a", at(0))
			h.Offline("a", at(10))
			h.Offline("a", at(20))
		}, "[12:00 12:10]"},
		{"touching intervals merge", func(h *History) {
			h.Live("a", at(0))
			h.Offline("a", at(10))
			h.Live("a", at(10))
			h.Offline("a", at(20))
		}, "[12:00 12:20]"},
		{"an overlapping start (events out of order) merges", func(h *History) {
			h.Live("a", at(0))
			h.Offline("a", at(10))
			h.Live("a", at(5))
		}, "[12:00 open]"},
		{"a gap stays a gap", func(h *History) {
			h.Live("a", at(0))
			h.Offline("a", at(10))
			h.Live("a", at(11))
		}, "[12:00 12:10][12:11 open]"},
		{"an end before the start ends it at the start", func(h *History) { h.Live("a", at(10)); h.Offline("a", at(5)) }, "[12:10 12:10]"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := &hclock{at(30)}
			h := NewHistory(c.now)
			tc.feed(h)
			if got := ivs(h.Snapshot().Tracks["a"].Live); got != tc.want {
				t.Errorf("got %s, want %s", got, tc.want)
			}
		})
	}
}

func TestHistoryChatAndConnection(t *testing.T) {
	c := &hclock{at(60)}
	h := NewHistory(c.now)
	h.Connected(at(0))
	h.Joined("a", at(1))
	h.Joined("b", at(2))
	h.Disconnected(at(10), "EOF")
	h.Connected(at(11))
	h.Joined("a", at(12))
	h.Refused("b", at(12), "msg_banned")
	h.Parted("a", at(30), "offline for the grace")
	s := h.Snapshot()
	if got, want := ivs(s.Connection), "[12:00 12:10][12:11 open]"; got != want {
		t.Errorf("connection: got %s, want %s", got, want)
	}
	if got, want := ivs(s.Tracks["a"].Chat), "[12:01 12:10][12:12 12:30]"; got != want {
		t.Errorf("a in chat: got %s, want %s", got, want)
	}
	if got, want := ivs(s.Tracks["b"].Chat), "[12:02 12:10]"; got != want {
		t.Errorf("b in chat: got %s, want %s", got, want)
	}
	if got := s.Tracks["b"].Refused; len(got) != 1 || !got[0].Equal(at(12)) {
		t.Errorf("b refused at %v, want [%v]", got, at(12))
	}
	var evs []string
	for _, ev := range s.Events {
		evs = append(evs, fmt.Sprintf("%s %s %s %s", ev.At.Format("15:04"), ev.Kind, ev.Channel, ev.Detail))
	}
	want := []string{
		"12:00 connected  ",
		"12:01 joined a ",
		"12:02 joined b ",
		"12:10 disconnected  EOF",
		"12:11 connected  reconnected after 1m0s",
		"12:12 joined a ",
		"12:12 refused b msg_banned",
		"12:30 left a offline for the grace",
	}
	if strings.Join(evs, "\n") != strings.Join(want, "\n") {
		t.Errorf("events:\n%s\nwant:\n%s", strings.Join(evs, "\n"), strings.Join(want, "\n"))
	}
}

// TestHistoryTrim: what ended more than 24 hours ago goes, what began
// before is clipped to the window, and a streamer with nothing left is
// forgotten.
func TestHistoryTrim(t *testing.T) {
	c := &hclock{now}
	h := NewHistory(c.now)
	h.Live("old", now.Add(-30*time.Hour))
	h.Offline("old", now.Add(-25*time.Hour))
	h.Live("long", now.Add(-30*time.Hour))
	h.Offline("long", now.Add(-2*time.Hour))
	h.Live("long", now.Add(-time.Hour))
	h.Refused("long", now.Add(-26*time.Hour), "msg_banned")
	s := h.Snapshot()
	if _, ok := s.Tracks["old"]; ok {
		t.Errorf("a track that ended 25h ago is kept: %+v", s.Tracks["old"])
	}
	long := s.Tracks["long"]
	if got, want := ivs(long.Live), "[12:00 10:00][11:00 open]"; got != want {
		t.Errorf("long: got %s, want %s", got, want)
	}
	if !long.Live[0].From.Equal(now.Add(-HistoryWindow)) {
		t.Errorf("first interval starts %v, want clipped to %v", long.Live[0].From, now.Add(-HistoryWindow))
	}
	if len(long.Refused) != 0 || len(long.Chat) != 0 {
		t.Errorf("refusal 26h ago kept: %+v", long)
	}
	c.t = now.Add(23 * time.Hour)
	if got, want := ivs(h.Snapshot().Tracks["long"].Live), "[11:00 open]"; got != want {
		t.Errorf("23h later: got %s, want %s", got, want)
	}
}

// TestHistoryCap: a stream that flaps all day keeps at most maxIntervals
// intervals a bar, the newest, says from when it is complete, and stays a
// few KB.
func TestHistoryCap(t *testing.T) {
	c := &hclock{now}
	h := NewHistory(c.now)
	start := now.Add(-20 * time.Hour)
	for i := range 500 {
		t0 := start.Add(time.Duration(i) * 2 * time.Minute)
		h.Live("flappy", t0)
		h.Joined("flappy", t0)
		h.Offline("flappy", t0.Add(time.Minute))
		h.Parted("flappy", t0.Add(time.Minute), "offline for the grace")
		h.Refused("flappy", t0.Add(time.Minute), "msg_banned")
	}
	s := h.Snapshot()
	tr := s.Tracks["flappy"]
	if len(tr.Live) != maxIntervals || len(tr.Chat) != maxIntervals || len(tr.Refused) != maxMarks {
		t.Fatalf("got %d live, %d chat, %d refused; want %d, %d, %d", len(tr.Live), len(tr.Chat), len(tr.Refused), maxIntervals, maxIntervals, maxMarks)
	}
	last := start.Add(499 * 2 * time.Minute)
	if !tr.Live[maxIntervals-1].From.Equal(last) {
		t.Errorf("newest live interval starts %v, want %v", tr.Live[maxIntervals-1].From, last)
	}
	if want := last.Add(-time.Duration(maxIntervals)*2*time.Minute + time.Minute); !tr.Complete.Equal(want) {
		t.Errorf("complete from %v, want %v (end of the last dropped interval)", tr.Complete, want)
	}
	if len(s.Events) != MaxHistoryEvents {
		t.Errorf("%d events, want the last %d", len(s.Events), MaxHistoryEvents)
	}
	data, err := json.MarshalIndent(tr, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	if len(data) > 8<<10 {
		t.Errorf("a full track is %d bytes of JSON, want at most 8 KB", len(data))
	}
}

func TestHistoryEventRing(t *testing.T) {
	h := NewHistory(func() time.Time { return at(200) })
	for i := range MaxHistoryEvents + 7 {
		h.Joined(fmt.Sprintf("c%d", i), at(i))
	}
	evs := h.Snapshot().Events
	if len(evs) != MaxHistoryEvents {
		t.Fatalf("%d events, want %d", len(evs), MaxHistoryEvents)
	}
	if evs[0].Channel != "c7" || evs[len(evs)-1].Channel != fmt.Sprintf("c%d", MaxHistoryEvents+6) {
		t.Errorf("events run %s..%s, want c7..c%d oldest first", evs[0].Channel, evs[len(evs)-1].Channel, MaxHistoryEvents+6)
	}
}

func TestHistoryObserve(t *testing.T) {
	c := &hclock{at(30)}
	h := NewHistory(c.now)
	snap := presence.Snapshot{Listed: true, Streamers: []presence.StreamerStatus{
		{Login: "a", Channel: "a", Live: true, LiveSince: at(1)},
		{Login: "b", Channel: "b", Live: true, LiveSince: at(2)},
		{Login: "c", Channel: "c"},
	}}
	ist := irc.Status{Connected: true, Since: at(0), Channels: []irc.ChannelStatus{
		{Name: "a", State: irc.StateJoined, Since: at(3)},
		{Name: "b", State: irc.StateWaiting, Since: at(2)},
	}}
	h.Observe(snap, ist, at(5))
	snap.Streamers[0].Live, snap.Streamers[0].ObservedAt = false, at(20)
	ist.Channels[0] = irc.ChannelStatus{Name: "a", State: irc.StateWaiting, Since: at(21)}
	h.Observe(snap, ist, at(25))
	ist.Connected, ist.Since = false, at(26)
	h.Observe(snap, ist, at(27))
	s := h.Snapshot()
	for _, tc := range []struct{ what, got, want string }{
		{"a live", ivs(s.Tracks["a"].Live), "[12:01 12:20]"},
		{"a in chat", ivs(s.Tracks["a"].Chat), "[12:03 12:21]"},
		{"b live", ivs(s.Tracks["b"].Live), "[12:02 open]"},
		{"b in chat", ivs(s.Tracks["b"].Chat), ""},
		{"connection", ivs(s.Connection), "[12:00 12:26]"},
	} {
		if tc.got != tc.want {
			t.Errorf("%s: got %s, want %s", tc.what, tc.got, tc.want)
		}
	}
	if _, ok := s.Tracks["c"]; ok {
		t.Errorf("c, never live nor joined, has a track")
	}
	if len(s.Events) != 0 {
		t.Errorf("Observe recorded events: %+v", s.Events)
	}
}

// TestHistoryObserveChat: the IRC status alone moves the chat and
// connection intervals and leaves the live ones, which Live and Offline
// keep, as they are.
func TestHistoryObserveChat(t *testing.T) {
	c := &hclock{at(30)}
	h := NewHistory(c.now)
	h.Live("a", at(1))
	ist := irc.Status{Connected: true, Since: at(0), Channels: []irc.ChannelStatus{{Name: "a", State: irc.StateJoined, Since: at(3)}}}
	h.ObserveChat(ist, at(5))
	ist.Channels[0] = irc.ChannelStatus{Name: "a", State: irc.StateWaiting, Since: at(21)}
	h.ObserveChat(ist, at(25))
	s := h.Snapshot()
	if got := ivs(s.Tracks["a"].Chat); got != "[12:03 12:21]" {
		t.Errorf("a in chat: got %s, want [12:03 12:21]", got)
	}
	if got := ivs(s.Tracks["a"].Live); got != "[12:01 open]" {
		t.Errorf("a live: got %s, want [12:01 open] (untouched by the chat status)", got)
	}
}

func TestHistorySaveLoad(t *testing.T) {
	dir := t.TempDir()
	c := &hclock{at(30)}
	h := NewHistory(c.now)
	h.Connected(at(0))
	h.Live("a", at(1))
	h.Joined("a", at(2))
	h.Live("b", at(3))
	h.Offline("b", at(4))
	h.Refused("c", at(5), "msg_channel_suspended")
	if err := h.Save(dir); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(filepath.Join(dir, HistoryFile))
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("mode %v, want 0600", fi.Mode().Perm())
	}

	c.t = at(90) // farmd restarts an hour later
	g := NewHistory(c.now)
	if err := g.Load(dir); err != nil {
		t.Fatal(err)
	}
	s := g.Snapshot()
	for _, tc := range []struct{ what, got, want string }{
		{"connection", ivs(s.Connection), "[12:00 12:30]"},
		{"a live", ivs(s.Tracks["a"].Live), "[12:01 12:30]"},
		{"a in chat", ivs(s.Tracks["a"].Chat), "[12:02 12:30]"},
		{"b live", ivs(s.Tracks["b"].Live), "[12:03 12:04]"},
	} {
		if tc.got != tc.want {
			t.Errorf("%s after restart: got %s, want %s (open intervals closed at the save)", tc.what, tc.got, tc.want)
		}
	}
	if r := s.Tracks["c"].Refused; len(r) != 1 || !r[0].Equal(at(5)) {
		t.Errorf("c refused %v, want [%v]", r, at(5))
	}
	if len(s.Events) != 3 || s.Events[2].Kind != EventRefused || s.Events[2].Detail != "msg_channel_suspended" {
		t.Errorf("events after restart: %+v", s.Events)
	}
	// After the restart, the same stream seen live again starts a new
	// interval: the gap shows farmd was not watching.
	g.Live("a", at(91))
	if got, want := ivs(g.Snapshot().Tracks["a"].Live), "[12:01 12:30][13:31 open]"; got != want {
		t.Errorf("a live after restart: got %s, want %s", got, want)
	}
}

func TestHistoryLoadMissingFile(t *testing.T) {
	h := NewHistory(nil)
	if err := h.Load(t.TempDir()); err != nil {
		t.Errorf("Load of a directory without history: %v, want nil", err)
	}
}

func TestHistoryLoadCorrupt(t *testing.T) {
	for _, tc := range []struct{ name, content, want string }{
		{"not JSON", "{\"version\": 1, \"saved_at\": ", "not valid JSON"},
		{"other version", `{"version": 7, "saved_at": "2026-11-23T12:00:00Z"}`, "version 7, want 1"},
		{"no save time", `{"version": 1, "streamers": {}}`, "no saved_at"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, HistoryFile)
			if err := os.WriteFile(path, []byte(tc.content), 0o600); err != nil {
				t.Fatal(err)
			}
			h := NewHistory(func() time.Time { return now })
			h.Live("kept?", at(-5))
			err := h.Load(dir)
			if err == nil || !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Load: %v, want an error naming %s and saying %q", err, path, tc.want)
			}
			if s := h.Snapshot(); len(s.Tracks) != 1 || len(s.Events) != 0 {
				t.Errorf("a failed Load changed the history: %+v", s)
			}
		})
	}
}

// TestHistorySaveOnlyWhenChanged: the daemon saves every tick; an
// unchanged history costs no write.
func TestHistorySaveOnlyWhenChanged(t *testing.T) {
	dir := t.TempDir()
	h := NewHistory(func() time.Time { return now })
	if err := h.Save(dir); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, HistoryFile)); !os.IsNotExist(err) {
		t.Errorf("an empty, unchanged history was written (stat: %v)", err)
	}
	h.Joined("a", at(-1))
	if err := h.Save(dir); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(filepath.Join(dir, HistoryFile)); err != nil {
		t.Fatal(err)
	}
	if err := h.Save(dir); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, HistoryFile)); !os.IsNotExist(err) {
		t.Errorf("an unchanged history was written again (stat: %v)", err)
	}
}

// TestRunHistorySavesAtCancel: RunHistory saves what it holds when farmd
// stops, whether or not a tick came.
func TestRunHistorySavesAtCancel(t *testing.T) {
	w := newWorld()
	h := NewHistory(func() time.Time { return now })
	w.s.o.History = h
	h.Joined("alice", at(-1))
	dir := t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := w.s.RunHistory(ctx, dir, time.Hour); err != nil {
		t.Fatal(err)
	}
	g := NewHistory(func() time.Time { return now })
	if err := g.Load(dir); err != nil {
		t.Fatal(err)
	}
	if evs := g.Snapshot().Events; len(evs) != 1 || evs[0].Channel != "alice" {
		t.Errorf("saved events %+v, want alice's JOIN", evs)
	}
}
