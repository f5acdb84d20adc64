package ops

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
	"go.uber.org/goleak"

	"github.com/farmd/farmd/helix"
	"github.com/farmd/farmd/irc"
	"github.com/farmd/farmd/presence"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

var now = time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)

// fakes: structs with fields the tests set.
type fakePresence struct {
	snap presence.Snapshot
	// hung makes Snapshot answer as the engine does when its loop does not
	// answer: no list, the last published summary.
	hung bool
}

func (f *fakePresence) Snapshot() presence.Snapshot {
	if f.hung {
		return f.Summary()
	}
	s := f.snap
	s.Listed = true
	s.Counts = f.counts()
	return s
}

// Summary is what the engine publishes at every change: no list, but the
// counts.
func (f *fakePresence) Summary() presence.Snapshot {
	s := f.snap
	s.Streamers, s.Listed = nil, false
	s.Counts = f.counts()
	return s
}

func (f *fakePresence) counts() presence.Counts {
	var c presence.Counts
	for _, st := range f.snap.Streamers {
		c.Watched++
		if st.Live {
			c.Live++
		}
		switch st.State {
		case presence.StateWanted:
			c.Wanted++
		case presence.StateGrace:
			c.Grace++
		case presence.StateWaiting:
			c.Waiting++
		case presence.StateUnavailable:
			c.Unavailable++
		case presence.StateOffline:
			c.Offline++
		case presence.StateUnknown:
			c.Unknown++
		}
	}
	return c
}

type fakeChat struct{ st irc.Status }

func (f *fakeChat) Status() irc.Status { return f.st }

type fakeAPI struct {
	rl helix.RateLimit
	st helix.Stats
}

func (f *fakeAPI) RateLimit() helix.RateLimit { return f.rl }
func (f *fakeAPI) Stats() helix.Stats         { return f.st }

type world struct {
	p *fakePresence
	c *fakeChat
	a *fakeAPI
	s *Server
}

func newWorld() *world {
	w := &world{
		p: &fakePresence{snap: presence.Snapshot{
			Streamers: []presence.StreamerStatus{
				{Login: "alice", ID: "1", Channel: "alice", Live: true, State: presence.StateWanted},
				{Login: "bob", ID: "2", Channel: "bob", Live: true, State: presence.StateWaiting},
				{Login: "carol", ID: "3", Channel: "carol", State: presence.StateUnavailable, Reason: "msg_banned", Until: now.Add(time.Hour)},
			},
			Wanted:   []string{"alice"},
			Polls:    presence.PollsOK,
			LastPoll: now.Add(-10 * time.Second), LastGood: now.Add(-10 * time.Second), LastServed: now.Add(-10 * time.Second),
			Unresolved: []string{"ghost"},
		}},
		c: &fakeChat{st: irc.Status{Connected: true, Since: now.Add(-time.Hour),
			Channels: []irc.ChannelStatus{{Name: "alice", State: irc.StateJoined, Since: now.Add(-time.Minute)}},
			Connects: 2, Disconnects: 1, ReconnectAttempts: 3, JoinsSent: 5, PartsSent: 4}},
		a: &fakeAPI{rl: helix.RateLimit{Known: true, Limit: 800, Remaining: 790, Reset: now.Add(time.Minute)},
			st: helix.Stats{TokenFetches: 2, Responses: map[string]map[int]int64{"streams": {200: 10, 503: 2}}, Retries: 2}},
	}
	w.s = New(Options{Presence: w.p, Chat: w.c, API: w.a, Interval: func() time.Duration { return time.Minute },
		Version: "v1.2.3", Now: func() time.Time { return now }})
	return w
}

func (w *world) get(tb testing.TB, path string) (int, string) {
	tb.Helper()
	rec := httptest.NewRecorder()
	w.s.Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
	return rec.Code, rec.Body.String()
}

func TestHealthz(t *testing.T) {
	tests := []struct {
		name       string
		change     func(w *world)
		wantCode   int
		wantReason string
	}{
		{"healthy", func(*world) {}, 200, "ok"},
		{"starting", func(w *world) {
			w.s.o.Starting = func() string {
				return "validating the chat token failed: dial tcp: lookup id.twitch.tv: no such host; retrying in 4s"
			}
		}, 503, "starting: validating the chat token failed: dial tcp: lookup id.twitch.tv: no such host; retrying in 4s"},
		{"irc disconnected", func(w *world) { w.c.st.Connected = false }, 503, "irc disconnected since 2026-11-23T11:00:00Z"},
		{"never connected", func(w *world) { w.c.st = irc.Status{} }, 503, "irc disconnected (never connected yet)"},
		{"no poll yet", func(w *world) {
			w.p.snap.Polls, w.p.snap.LastGood, w.p.snap.LastServed, w.p.snap.LastPoll = "", time.Time{}, time.Time{}, time.Time{}
		}, 503, "no poll finished yet"},
		{"last good poll within three intervals", func(w *world) {
			w.p.snap.LastGood, w.p.snap.LastServed = now.Add(-3*time.Minute), now.Add(-3*time.Minute)
		}, 200, "ok"},
		{"one batch failing for long, the others served", func(w *world) {
			w.p.snap.Polls = presence.PollsPartial
			w.p.snap.LastGood = now.Add(-time.Hour)
			w.p.snap.FailingFor, w.p.snap.PartialSince = now.Add(-time.Hour), now.Add(-time.Hour)
			w.p.snap.Unchecked = 100
			w.p.snap.LastError = "helix streams: decode response: stream type is not \"live\""
		}, 200, "ok; 100 streamers not checked since 2026-11-23T11:00:00Z: helix streams: decode response: stream type is not \"live\""},
		{"poll failing beyond three intervals", func(w *world) {
			w.p.snap.Polls = presence.PollsFailing
			w.p.snap.LastGood, w.p.snap.LastServed = now.Add(-4*time.Minute), now.Add(-4*time.Minute)
			w.p.snap.FailingFor = now.Add(-3*time.Minute - 30*time.Second)
			w.p.snap.LastError = "helix streams: 503 Service Unavailable\nhelix streams: 503 Service Unavailable"
		}, 503, "poll failing since 2026-11-23T11:56:30Z (last success 4m0s ago): helix streams: 503 Service Unavailable; helix streams: 503 Service Unavailable"},
		{"poll failing from the start", func(w *world) {
			w.p.snap.Polls = presence.PollsFailing
			w.p.snap.LastGood, w.p.snap.LastServed = time.Time{}, time.Time{}
			w.p.snap.FailingFor = now.Add(-time.Minute)
			w.p.snap.LastError = "oauth2 token: 503"
		}, 503, "poll failing since 2026-11-23T11:59:00Z: oauth2 token: 503"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			w := newWorld()
			tc.change(w)
			code, body := w.get(t, "/healthz")
			if code != tc.wantCode || body != tc.wantReason+"\n" {
				t.Errorf("got %d %q, want %d %q", code, body, tc.wantCode, tc.wantReason+"\n")
			}
		})
	}
}

func TestStatus(t *testing.T) {
	w := newWorld()
	code, body := w.get(t, "/status")
	if code != 200 {
		t.Fatalf("status %d", code)
	}
	var st Status
	if err := json.Unmarshal([]byte(body), &st); err != nil {
		t.Fatalf("decode: %v\n%s", err, body)
	}
	if !st.Connected || !st.Healthy || st.Version != "v1.2.3" || st.Interval != "1m0s" {
		t.Errorf("header fields: %+v", st)
	}
	if fmt.Sprint(st.Live) != "[alice bob]" || fmt.Sprint(st.Joined) != "[alice]" || fmt.Sprint(st.Unresolved) != "[ghost]" {
		t.Errorf("live %v joined %v unresolved %v", st.Live, st.Joined, st.Unresolved)
	}
	if len(st.Streamers) != 3 {
		t.Fatalf("%d streamers", len(st.Streamers))
	}
	if s := st.Streamers[0]; s.State != presence.StateWanted || s.Chat != irc.StateJoined {
		t.Errorf("alice: %+v", s)
	}
	if s := st.Streamers[1]; s.State != presence.StateWaiting || s.Chat != "" {
		t.Errorf("bob: %+v", s)
	}
	if s := st.Streamers[2]; s.State != presence.StateUnavailable || s.Reason != "msg_banned" || s.Until.IsZero() {
		t.Errorf("carol: %+v", s)
	}
	if st.RateLimit.Remaining != 790 || st.RateLimit.Limit != 800 || st.RateLimit.RequestsPerMinute != 1 {
		t.Errorf("rate limit %+v", st.RateLimit)
	}
	if st.IRC.Connects != 2 || st.IRC.ReconnectAttempts != 3 || st.Helix.TokenFetches != 2 {
		t.Errorf("counters %+v %+v", st.IRC, st.Helix)
	}
	for _, key := range []string{`"connected"`, `"live"`, `"joined"`, `"last_poll"`, `"rate_limit"`, `"streamers"`} {
		if !strings.Contains(body, key) {
			t.Errorf("/status has no %s key", key)
		}
	}
}

func TestMetrics(t *testing.T) {
	w := newWorld()
	w.s.ObservePoll(presence.PollResult{Start: now, End: now.Add(50 * time.Millisecond)})
	w.s.ObservePoll(presence.PollResult{Start: now, End: now.Add(time.Second), Err: &helix.APIError{Status: 503, Endpoint: "streams"}})
	code, body := w.get(t, "/metrics")
	if code != 200 {
		t.Fatalf("status %d", code)
	}
	for _, want := range []string{
		"farmd_streamers_watched 3",
		"farmd_streamers_live 2",
		`farmd_streamers{state="waiting"} 1`,
		`farmd_streamers{state="unavailable"} 1`,
		`farmd_channels{state="joined"} 1`,
		"farmd_streamers_unresolved 1",
		"farmd_irc_connected 1",
		"farmd_irc_connects_total 2",
		"farmd_irc_disconnects_total 1",
		"farmd_irc_reconnect_attempts_total 3",
		"farmd_irc_joins_total 5",
		"farmd_irc_parts_total 4",
		`farmd_helix_requests_total{endpoint="streams",status="503"} 2`,
		"farmd_helix_ratelimit_remaining 790",
		"farmd_token_renewals_total 2",
		"farmd_polls_total 2",
		`farmd_poll_errors_total{cause="server_error"} 1`,
		`farmd_poll_errors_total{cause="timeout"} 0`,
		"farmd_poll_duration_seconds_count 2",
		"farmd_poll_requests_per_minute 1",
		`farmd_build_info{goversion="go`,
		"go_goroutines ",
		"process_resident_memory_bytes ",
	} {
		if !strings.Contains(body, want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}
	problems, err := testutil.GatherAndLint(w.s.reg)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range problems {
		t.Errorf("metric lint: %s: %s", p.Metric, p.Text)
	}
}

// TestNoFalseZeros: when the presence loop does not answer in time,
// /metrics reports the counts it last published and /status says the list
// is missing instead of showing nobody: an empty list reads as "nobody is
// live" and would raise false alerts.
func TestNoFalseZeros(t *testing.T) {
	w := newWorld()
	w.p.hung = true
	_, body := w.get(t, "/metrics")
	for _, want := range []string{
		"farmd_streamers_watched 3",
		"farmd_streamers_live 2",
		`farmd_streamers{state="waiting"} 1`,
		"farmd_poll_requests_per_minute 1",
	} {
		if !strings.Contains(body, want) {
			t.Errorf("/metrics lacks %q while the loop is busy", want)
		}
	}
	_, body = w.get(t, "/status")
	var st Status
	if err := json.Unmarshal([]byte(body), &st); err != nil {
		t.Fatal(err)
	}
	if st.Streamers != nil || st.Live != nil {
		t.Errorf("/status lists streamers %v and live %v without a list", st.Streamers, st.Live)
	}
	if st.StreamersError == "" || st.Counts.Watched != 3 || st.Counts.Live != 2 {
		t.Errorf("/status: streamers_error %q, counts %+v; want an explanation and the last counts", st.StreamersError, st.Counts)
	}
	if !strings.Contains(body, `"streamers_error"`) || strings.Contains(body, `"streamers": []`) {
		t.Errorf("/status body does not explain the missing list:\n%s", body)
	}
}

type timeoutErr struct{}

func (timeoutErr) Error() string   { return "i/o timeout" }
func (timeoutErr) Timeout() bool   { return true }
func (timeoutErr) Temporary() bool { return true }

func TestCause(t *testing.T) {
	tests := []struct {
		err  error
		want string
	}{
		{&helix.APIError{Status: 401}, CauseUnauthorized},
		{fmt.Errorf("check streams: %w", &helix.APIError{Status: 429}), CauseRateLimited},
		{&helix.APIError{Status: 502}, CauseServerError},
		{&helix.APIError{Status: 400}, CauseBadRequest},
		{fmt.Errorf("x: %w: unexpected EOF", helix.ErrMalformedResponse), CauseBadResponse},
		{context.DeadlineExceeded, CauseTimeout},
		{&net.OpError{Op: "read", Err: timeoutErr{}}, CauseTimeout},
		{&net.OpError{Op: "dial", Err: errors.New("connection refused")}, CauseTransport},
		{errors.New("something else"), CauseOther},
	}
	for _, tc := range tests {
		if got := Cause(tc.err); got != tc.want {
			t.Errorf("Cause(%v) = %q, want %q", tc.err, got, tc.want)
		}
	}
}

func TestServeStopsOnCancel(t *testing.T) {
	w := newWorld()
	ln, err := Listen("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- w.s.Serve(ctx, ln) }()
	resp, err := http.Get("http://" + ln.Addr().String() + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Errorf("status %d", resp.StatusCode)
	}
	cancel()
	if err := <-done; err != nil {
		t.Errorf("Serve returned %v, want nil", err)
	}
	http.DefaultClient.CloseIdleConnections()
}
