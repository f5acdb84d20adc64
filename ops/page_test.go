package ops

import (
	"fmt"
	"html"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/farmd/farmd/irc"
	"github.com/farmd/farmd/presence"
)

// hostile is a login-like string that would run a script if the page did
// not escape it. Logins are validated at config load, but the page must
// not rely on that.
const hostile = `x"><script>alert(1)</script><img src=x onerror=alert(2)>`

// pageWorld is a farmd of a day: streamers in every state, a history with
// a late JOIN, a reconnection gap and a refused channel.
func pageWorld(tb testing.TB) *world {
	tb.Helper()
	w := newWorld()
	w.p.snap.Streamers = []presence.StreamerStatus{
		{Login: "alice", ID: "1", Channel: "alice", Live: true, LiveSince: now.Add(-3 * time.Hour), State: presence.StateWanted, LiveSource: presence.SourceEventSub, ObservedAt: now.Add(-3 * time.Hour)},
		{Login: "bob", ID: "2", Channel: "bob", Live: true, LiveSince: now.Add(-40 * time.Minute), State: presence.StateWaiting, ObservedAt: now.Add(-40 * time.Minute)},
		{Login: "carol", ID: "3", Channel: "carol", State: presence.StateUnavailable, Reason: "msg_banned", Until: now.Add(time.Hour), ObservedAt: now.Add(-2 * time.Minute)},
		{Login: "dave", ID: "4", Channel: "dave", State: presence.StateGrace, Until: now.Add(4 * time.Minute), ObservedAt: now.Add(-time.Minute)},
		{Login: "erin", ID: "5", Channel: "erin", State: presence.StateOffline, ObservedAt: now.Add(-10 * time.Second)},
		{Login: "frank_the_long_named_streamer", ID: "6", Channel: "frank_the_long_named_streamer", Live: true, LiveSince: now.Add(-9 * time.Hour), State: presence.StateWanted, ObservedAt: now.Add(-9 * time.Hour)},
		{Login: "gina", ID: "7", Channel: "gina", State: presence.StateUnknown},
		{Login: hostile, ID: "8", Channel: hostile, State: presence.StateOffline},
	}
	w.p.snap.Realtime = true
	w.c.st.Since = now.Add(-95 * time.Minute)
	w.c.st.Channels = []irc.ChannelStatus{
		{Name: "alice", State: irc.StateJoined, Since: now.Add(-95 * time.Minute)},
		{Name: "dave", State: irc.StateJoined, Since: now.Add(-95 * time.Minute)},
		{Name: "frank_the_long_named_streamer", State: irc.StateJoined, Since: now.Add(-95 * time.Minute)},
	}
	h := NewHistory(func() time.Time { return now })
	ago := func(d time.Duration) time.Time { return now.Add(-d) }
	// Yesterday's and today's streams.
	h.Connected(ago(23 * time.Hour))
	h.Live("alice", ago(20*time.Hour))
	h.Joined("alice", ago(20*time.Hour-time.Minute))
	h.Offline("alice", ago(16*time.Hour))
	h.Parted("alice", ago(16*time.Hour-5*time.Minute), "offline for the grace")
	h.Live("dave", ago(6*time.Hour))
	h.Joined("dave", ago(5*time.Hour)) // a late JOIN: waited an hour for a slot
	h.Live("frank_the_long_named_streamer", ago(9*time.Hour))
	h.Joined("frank_the_long_named_streamer", ago(9*time.Hour-2*time.Minute))
	h.Live("alice", ago(3*time.Hour))
	h.Joined("alice", ago(3*time.Hour-time.Minute))
	// A reconnection gap of ten minutes.
	h.Disconnected(ago(105*time.Minute), "read tcp: connection reset by peer")
	h.Connected(ago(95 * time.Minute))
	h.Joined("alice", ago(95*time.Minute))
	h.Joined("dave", ago(95*time.Minute))
	h.Joined("frank_the_long_named_streamer", ago(95*time.Minute))
	h.Live("carol", ago(50*time.Minute))
	h.Refused("carol", ago(49*time.Minute), "msg_banned")
	h.Live("bob", ago(40*time.Minute))
	h.Offline("dave", ago(time.Minute))
	h.Live(hostile, ago(30*time.Minute))
	h.Offline(hostile, ago(20*time.Minute))
	h.Parted(hostile, ago(20*time.Minute), hostile)
	w.s.o.History = h
	w.s.o.Token = func() TokenStatus {
		return TokenStatus{Source: "stored", Login: "farmbot", ExpiresAt: now.Add(3*time.Hour + 20*time.Minute), Refreshes: 4, LastRefresh: now.Add(-50 * time.Minute)}
	}
	w.s.o.Page = func() PageExtras {
		return PageExtras{
			EventSub: "connected since 10:25:00 UTC (1h35m ago), 5 subscriptions",
			Mode: func(login string) string {
				if login == "alice" {
					return "always"
				}
				return ""
			},
		}
	}
	return w
}

func TestStatusPage(t *testing.T) {
	w := pageWorld(t)
	rec := httptest.NewRecorder()
	w.s.Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/", nil))
	if rec.Code != 200 {
		t.Fatalf("status %d", rec.Code)
	}
	if ct := rec.Header().Get("Content-Type"); ct != "text/html; charset=utf-8" {
		t.Errorf("Content-Type %q", ct)
	}
	if csp := rec.Header().Get("Content-Security-Policy"); !strings.Contains(csp, "default-src 'none'") {
		t.Errorf("Content-Security-Policy %q, want default-src 'none'", csp)
	}
	body := rec.Body.String()
	text := pageText(body)
	for _, want := range []string{
		"Healthy: ok",
		"connected since 10:25:00 UTC (1h35m ago)",
		"stored token of farmbot, expires in 3h20m",
		"last poll 11:59:50 UTC (10s ago)",
		"every 1m0s, 1 Helix request a poll",
		"of a 800/min budget (790 left now)",
		"EventSub connected since 10:25:00 UTC (1h35m ago), 5 subscriptions",
		"Unknown to Twitch ghost",
		// the table
		"alice live in chat since 10:25:00 UTC (1h35m ago) live since 09:00:00 UTC (3h ago) via eventsub always",
		"bob live, waiting for a slot not in chat",
		"carol unavailable until 13:00:00 UTC (in 1h): msg_banned",
		"dave offline, in grace until 12:04:00 UTC (in 4m) in chat since",
		"erin offline not in chat offline, seen 11:59:50 UTC (10s ago)",
		"gina not checked yet",
		// the timeline, for screen readers
		"IRC connection: up Nov 22 13:00 UTC–10:15:00 UTC, 10:25:00 UTC–now",
		"dave: live 06:00:00 UTC–11:59:00 UTC; in chat 07:00:00 UTC–10:15:00 UTC, 10:25:00 UTC–now",
		"carol: live 11:10:00 UTC–now; not in chat; refused at 11:11:00 UTC",
		// the events, newest first
		"10:25:00 UTC (1h35m ago) Twitch chat reconnected after 10m0s",
		"10:15:00 UTC (1h45m ago) disconnected from Twitch chat: read tcp: connection reset by peer",
		"11:11:00 UTC (49m ago) Twitch refused #carol: msg_banned",
		"left #alice: offline for the grace",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("page text lacks %q", want)
		}
	}
	if i, j := strings.Index(text, "Twitch refused #carol"), strings.Index(text, "reconnected after"); i < 0 || j < 0 || i > j {
		t.Errorf("events not newest first (refusal at %d, reconnection at %d)", i, j)
	}
	if i, j := strings.Index(text, "dave offline, in grace"), strings.Index(text, "erin offline"); i < 0 || j < 0 || i > j {
		t.Errorf("table: dave (in grace, in chat) should come before erin (offline)")
	}
	if strings.Count(body, "<svg") != 1+6 { // the connection and the six streamers with a track
		t.Errorf("%d SVG bars, want 7", strings.Count(body, "<svg"))
	}
	for _, bad := range []string{"<script", "<img", `x"><`, "http://", "https://"} {
		if strings.Contains(body, bad) {
			t.Errorf("page contains %q", bad)
		}
	}
	if !strings.Contains(body, html.EscapeString("<script>alert(1)</script>")) {
		t.Errorf("the hostile login is not shown escaped")
	}
	if !strings.Contains(body, `<meta http-equiv="refresh" content="30">`) || !strings.Contains(body, `name="viewport"`) {
		t.Errorf("page lacks the refresh or viewport meta")
	}
}

// TestStatusPageWithoutData: a farmd just started (no poll, never
// connected, no history, no token, the presence loop busy) still gets a
// page that says so.
func TestStatusPageWithoutData(t *testing.T) {
	w := newWorld()
	w.c.st = irc.Status{}
	w.p.hung = true
	w.p.snap.LastPoll, w.p.snap.LastServed, w.p.snap.Polls = time.Time{}, time.Time{}, ""
	_, body := w.get(t, "/")
	text := pageText(body)
	for _, want := range []string{
		"Not healthy: irc disconnected (never connected yet)",
		"not connected (never connected yet)",
		"no poll finished yet",
		"the presence loop did not answer within 2s",
		"No history is kept by this farmd.",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("page text lacks %q:\n%s", want, text)
		}
	}
	for _, absent := range []string{"Chat token", "EventSub", "Mode"} {
		if strings.Contains(text, absent) {
			t.Errorf("page shows %q without data", absent)
		}
	}
}

// TestStatusPageTimelineCap: the timeline draws at most TimelineLimit
// streamers and says how many it left out.
func TestStatusPageTimelineCap(t *testing.T) {
	w := manyWorld(t, 500)
	_, body := w.get(t, "/")
	if got := strings.Count(body, "<svg"); got != 1+TimelineLimit {
		t.Errorf("%d SVGs, want %d", got, 1+TimelineLimit)
	}
	if want := fmt.Sprintf("Showing the first %d of 250 streamers with activity", TimelineLimit); !strings.Contains(pageText(body), want) {
		t.Errorf("page does not say %q", want)
	}
	if got := strings.Count(body, "<tr>"); got != 500+1 {
		t.Errorf("%d table rows, want 500 and the header", got)
	}
}

// manyWorld has n streamers, every other one live and joined for the last
// hour with a history to match.
func manyWorld(tb testing.TB, n int) *world {
	tb.Helper()
	w := newWorld()
	h := NewHistory(func() time.Time { return now })
	ss := make([]presence.StreamerStatus, n)
	var chans []irc.ChannelStatus
	for i := range ss {
		login := fmt.Sprintf("streamer%05d", i)
		ss[i] = presence.StreamerStatus{Login: login, ID: fmt.Sprint(i), Channel: login, State: presence.StateOffline, ObservedAt: now.Add(-time.Minute)}
		if i%2 == 0 {
			ss[i].Live, ss[i].LiveSince, ss[i].State = true, now.Add(-time.Hour), presence.StateWanted
			chans = append(chans, irc.ChannelStatus{Name: login, State: irc.StateJoined, Since: now.Add(-59 * time.Minute)})
			h.Live(login, now.Add(-time.Hour))
			h.Joined(login, now.Add(-59*time.Minute))
		}
	}
	w.p.snap.Streamers = ss
	w.c.st.Channels = chans
	w.s.o.History = h
	return w
}

var (
	tagRE   = regexp.MustCompile(`(?s)<style.*?</style>|<[^>]*>`)
	spaceRE = regexp.MustCompile(`\s+`)
)

// pageText is the page's text as a reader sees it, tags removed, entities
// decoded, white space collapsed.
func pageText(body string) string {
	return strings.TrimSpace(spaceRE.ReplaceAllString(html.UnescapeString(tagRE.ReplaceAllString(body, " ")), " "))
}

func BenchmarkStatusPage(b *testing.B) {
	w := manyWorld(b, 10_000)
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		rec := httptest.NewRecorder()
		rec.Body.Grow(4 << 20)
		w.s.Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/", nil))
		if rec.Code != 200 {
			b.Fatal(rec.Code)
		}
		b.SetBytes(int64(rec.Body.Len()))
	}
}
