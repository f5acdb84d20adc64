package streamelements

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/farmd/farmd/internal/testkit"
	"github.com/farmd/farmd/streamelements/setest"
)

func TestReadingsAndGrowth(t *testing.T) {
	r := newRig(t, nil)
	r.srv.SetViewer("alpha", bot, setest.Viewer{Points: 500, PointsAlltime: 900, Watchtime: 100})
	r.present("alpha")

	r.after(time.Minute)
	c := r.channel("alpha")
	if c.Points != 500 || c.PointsAlltime != 900 || c.WatchtimeMinutes != 100 || c.Rank != 1 {
		t.Fatalf("first reading: got %+v, want points 500, alltime 900, watchtime 100, rank 1", c)
	}
	if !c.ReadAt.Equal(r.clock.Now()) || !c.Since.Equal(r.clock.Now()) || c.Checked || !c.Present {
		t.Fatalf("first reading: got %+v, want read and since now, not checked, present", c)
	}

	r.srv.Grow("alpha", bot, 30, 30)
	r.after(30 * time.Minute)
	c = r.channel("alpha")
	if c.WatchtimeMinutes != 130 || c.LastWatchtimeGrowth != 30 || c.LastPointsGrowth != 30 || c.LastPresentLiveMinutes != 30 {
		t.Fatalf("second reading: got %+v, want watchtime 130, growth 30 min and 30 points over 30 min live", c)
	}
	if !c.Checked || !c.Credited {
		t.Fatalf("second reading: got checked %v credited %v, want both", c.Checked, c.Credited)
	}

	r.srv.Grow("alpha", bot, 20, 25)
	r.after(30 * time.Minute)
	c = r.channel("alpha")
	if c.WatchtimeGrowthMinutes != 50 || c.PointsGrowth != 55 || c.PresentLiveMinutes != 60 || c.LastWatchtimeGrowth != 20 {
		t.Fatalf("third reading: got %+v, want totals 50 min, 55 points over 60 min live; last growth 20", c)
	}
	// The id is resolved once; each round reads the points.
	r.wantCount(setest.EndpointChannels, 1)
	r.wantCount(setest.EndpointPoints, 3)
	if r.creditCount() != 0 {
		t.Fatalf("got %d credit events, want none while watch time grows", r.creditCount())
	}
}

func TestNotOnLeaderboardIsZero(t *testing.T) {
	r := newRig(t, nil)
	r.srv.AddChannel("alpha")
	r.present("alpha")
	r.after(time.Minute)
	if c := r.channel("alpha"); c.ReadAt.IsZero() || c.WatchtimeMinutes != 0 || c.Error != "" {
		t.Fatalf("got %+v, want a zero reading for an account not on the leaderboard", c)
	}
	r.srv.Grow("alpha", bot, 10, 10)
	r.after(30 * time.Minute)
	if c := r.channel("alpha"); c.LastWatchtimeGrowth != 10 || !c.Credited {
		t.Fatalf("got %+v, want 10 minutes credited", c)
	}
}

func TestNoStreamElementsRememberedForADay(t *testing.T) {
	r := newRig(t, nil)
	r.present("nose")
	for range 48 { // the 404 came in the first round, 23.5 hours ago
		r.after(30 * time.Minute)
	}
	r.wantCount(setest.EndpointChannels, 1)
	r.wantCount(setest.EndpointPoints, 0)
	if c := r.channel("nose"); !c.NoStreamElements || !c.ReadAt.IsZero() {
		t.Fatalf("got %+v, want no StreamElements and no reading", c)
	}
	if !strings.Contains(r.logs.String(), "channel has no StreamElements") {
		t.Fatalf("log lacks the no-StreamElements line:\n%s", r.logs.String())
	}

	r.after(31 * time.Minute) // a day and a minute after the 404
	r.wantCount(setest.EndpointChannels, 2)

	// Set up since: the next ask (a day later) finds it and reads.
	r.srv.SetViewer("nose", bot, setest.Viewer{Watchtime: 5})
	for range 48 {
		r.after(30 * time.Minute)
	}
	r.wantCount(setest.EndpointChannels, 3)
	if c := r.channel("nose"); c.NoStreamElements || c.WatchtimeMinutes != 5 {
		t.Fatalf("got %+v, want a reading once the channel has StreamElements", c)
	}

	// The mark survives a restart: one request a day, not one a start.
	r.srv.RemoveChannel("other")
	r.present("other")
	r.after(30 * time.Minute)
	r.wantCount(setest.EndpointChannels, 4)
	r.w = r.open(nil)
	r.present("other")
	r.after(30 * time.Minute)
	r.wantCount(setest.EndpointChannels, 4)
}

func TestRetryAfterHonoured(t *testing.T) {
	r := newRig(t, nil)
	r.srv.SetViewer("alpha", bot, setest.Viewer{Watchtime: 7})
	r.srv.RateLimit(1, 90*time.Second)
	r.present("alpha")
	r.after(time.Minute)

	reqs := r.srv.Requests()
	if len(reqs) != 3 || reqs[0].Status != 429 {
		t.Fatalf("got requests %+v, want a 429, then the channel and the points", reqs)
	}
	if gap := reqs[1].At.Sub(reqs[0].At); gap < 90*time.Second {
		t.Fatalf("next request %s after the 429, want at least its Retry-After of 90s", gap)
	}
	if c := r.channel("alpha"); c.WatchtimeMinutes != 7 || c.Error != "" {
		t.Fatalf("got %+v, want the reading after the pause", c)
	}
}

func TestLongRetryAfterSkipsToALaterRound(t *testing.T) {
	// One at a time, so that no request is already in flight when the
	// 429 arrives.
	r := newRig(t, func(o *Options) { o.Concurrency = 1 })
	for _, ch := range []string{"alpha", "beta", "gamma"} {
		r.srv.SetViewer(ch, bot, setest.Viewer{Watchtime: 1})
		r.present(ch)
	}
	r.srv.RateLimit(1, 20*time.Minute)
	r.clock.Advance(time.Minute)
	limitedAt := r.clock.Now()
	r.w.round(context.Background())
	if n := r.srv.Count(""); n != 1 {
		t.Fatalf("got %d requests in the limited round, want only the one answered 429: %+v", n, r.srv.Requests())
	}
	for _, ch := range []string{"alpha", "beta", "gamma"} {
		if c := r.channel(ch); !strings.Contains(c.Error, "rate limited") {
			t.Fatalf("%s: got error %q, want rate limited", ch, c.Error)
		}
	}
	r.after(30 * time.Minute)
	for _, q := range r.srv.Requests()[1:] {
		if q.At.Before(limitedAt.Add(20 * time.Minute)) {
			t.Fatalf("request %+v before the Retry-After passed (429 at %s)", q, limitedAt)
		}
	}
	for _, ch := range []string{"alpha", "beta", "gamma"} {
		if c := r.channel(ch); c.Error != "" || c.WatchtimeMinutes != 1 {
			t.Fatalf("%s: got %+v, want a reading once the pause passed", ch, c)
		}
	}
}

func TestMalformedJSONLoggedNotFatal(t *testing.T) {
	r := newRig(t, nil)
	r.srv.SetViewer("alpha", bot, setest.Viewer{Watchtime: 3})
	r.srv.Malformed(setest.EndpointPoints, 1)
	r.present("alpha")
	r.after(time.Minute)

	c := r.channel("alpha")
	if !strings.Contains(c.Error, "points in alpha: malformed response") || !c.ReadAt.IsZero() {
		t.Fatalf("got %+v, want a malformed-response error and no reading", c)
	}
	r.logs.WaitContains(t, `"level":"warn","component":"streamelements","channel":"alpha"`)
	if !strings.Contains(r.logs.String(), "malformed response") {
		t.Fatalf("log lacks the malformed response:\n%s", r.logs.String())
	}
	r.wantCount(setest.EndpointPoints, 1) // not retried: it would say the same

	r.after(30 * time.Minute)
	if c := r.channel("alpha"); c.Error != "" || c.WatchtimeMinutes != 3 {
		t.Fatalf("got %+v, want the next round to read", c)
	}
	r.logs.WaitContains(t, "StreamElements answers again")
}

func TestServerErrorsRetriedWithBackoff(t *testing.T) {
	r := newRig(t, nil)
	r.srv.SetViewer("alpha", bot, setest.Viewer{Watchtime: 3})
	r.srv.Fail(setest.EndpointPoints, 2, 503)
	r.present("alpha")
	r.after(time.Minute)
	if c := r.channel("alpha"); c.Error != "" || c.WatchtimeMinutes != 3 {
		t.Fatalf("got %+v, want the third attempt to read", c)
	}
	r.wantCount(setest.EndpointPoints, 3)
	if got := r.clock.Sleeps(); len(got) != 2 || got[0] <= 0 || got[1] <= 0 {
		t.Fatalf("got sleeps %v, want two backoffs", got)
	}

	r.srv.Fail(setest.EndpointPoints, 3, 500)
	r.after(30 * time.Minute)
	c := r.channel("alpha")
	if !strings.Contains(c.Error, "giving up after 3 attempts: status 500") || c.FailingSince.IsZero() {
		t.Fatalf("got %+v, want giving up after 3 attempts", c)
	}
	var se *StatusError
	if !errors.As(&StatusError{Status: 500}, &se) || se.Error() != "status 500 Internal Server Error" {
		t.Fatalf("StatusError text: %v", se)
	}
}

func TestCreditWarning(t *testing.T) {
	const msg = "present 40m in alpha while live, StreamElements credited no watch time: " +
		"loyalty may be off there, or the bot ignores this account"
	r := newRig(t, nil)
	r.srv.SetViewer("alpha", bot, setest.Viewer{Watchtime: 100})
	r.present("alpha")
	r.after(time.Minute) // baseline
	r.after(40 * time.Minute)

	if r.creditCount() != 1 || strings.Count(r.logs.String(), msg) != 1 {
		t.Fatalf("got %d credit events and log:\n%s\nwant one of %q", r.creditCount(), r.logs.String(), msg)
	}
	cr := r.credits[0]
	if cr.Channel != "alpha" || cr.Present != 40*time.Minute || cr.WatchtimeMinutes != 100 || !cr.At.Equal(r.clock.Now()) {
		t.Fatalf("got %+v, want alpha, 40m, 100 minutes, now", cr)
	}
	if c := r.channel("alpha"); !c.Checked || c.Credited {
		t.Fatalf("got %+v, want checked and not credited", c)
	}

	// Same stream: no second warning.
	r.after(40 * time.Minute)
	r.after(40 * time.Minute)
	if r.creditCount() != 1 || strings.Count(r.logs.String(), "StreamElements credited no watch time") != 1 {
		t.Fatalf("got %d credit events, want still one for the same stream", r.creditCount())
	}

	// A new stream may be warned about again.
	r.w.Offline("alpha", r.clock.Now())
	r.clock.Advance(time.Hour)
	r.w.Live("alpha", r.clock.Now())
	r.after(40 * time.Minute)
	if r.creditCount() != 2 {
		t.Fatalf("got %d credit events, want a second one for the new stream", r.creditCount())
	}

	// Credit coming back clears the verdict.
	r.srv.Grow("alpha", bot, 10, 10)
	r.after(10 * time.Minute)
	if c := r.channel("alpha"); !c.Credited {
		t.Fatalf("got %+v, want credited again once watch time grew", c)
	}
}

func TestNoCreditWarning(t *testing.T) {
	cases := []struct {
		name string
		run  func(r *rig)
	}{
		{"watch time grows", func(r *rig) {
			r.present("alpha")
			r.after(time.Minute)
			for range 4 {
				r.srv.Grow("alpha", bot, 10, 10)
				r.after(40 * time.Minute)
			}
		}},
		{"presence under 30 minutes", func(r *rig) {
			r.present("alpha")
			r.after(time.Minute)
			r.after(29 * time.Minute)
		}},
		{"in chat but not live", func(r *rig) {
			r.w.Joined("alpha", r.clock.Now())
			r.after(time.Minute)
			r.after(time.Hour)
		}},
		{"live but parted after 20 minutes", func(r *rig) {
			r.present("alpha")
			r.after(time.Minute)
			r.clock.Advance(20 * time.Minute)
			r.w.Parted("alpha", r.clock.Now())
			r.after(time.Hour)
		}},
		{"disconnected after 20 minutes", func(r *rig) {
			r.present("alpha")
			r.after(time.Minute)
			r.clock.Advance(20 * time.Minute)
			r.w.PartedAll(r.clock.Now())
			r.after(time.Hour)
		}},
		{"no baseline yet", func(r *rig) {
			r.present("alpha")
			r.after(2 * time.Hour)
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := newRig(t, nil)
			r.srv.SetViewer("alpha", bot, setest.Viewer{Watchtime: 100})
			tc.run(r)
			if r.creditCount() != 0 || strings.Contains(r.logs.String(), "credited no watch time") {
				t.Fatalf("got %d credit events, want none; log:\n%s", r.creditCount(), r.logs.String())
			}
		})
	}
}

func TestPresenceCountsLiveChatOnly(t *testing.T) {
	r := newRig(t, nil)
	r.srv.SetViewer("alpha", bot, setest.Viewer{Watchtime: 100})
	r.present("alpha")
	r.after(time.Minute) // baseline
	t0 := r.clock.Now()
	r.w.PartedAll(t0.Add(10 * time.Minute))      // 10 min in the live chat
	r.w.Joined("alpha", t0.Add(20*time.Minute))  // back 10 min later
	r.w.Offline("alpha", t0.Add(30*time.Minute)) // 10 more live
	r.w.Live("alpha", t0.Add(50*time.Minute))    // 20 in chat, offline
	r.w.Parted("alpha", t0.Add(45*time.Minute))  // out of order: farmd left, nothing more counts
	r.w.Joined("alpha", t0.Add(60*time.Minute))  // 5 more live
	r.w.Parted("alpha", t0.Add(65*time.Minute))
	r.clock.Advance(2 * time.Hour)
	r.w.round(context.Background())
	if c := r.channel("alpha"); c.LastPresentLiveMinutes != 25 || c.Present {
		t.Fatalf("got %d minutes in the live chat (present %v), want 25, not present", c.LastPresentLiveMinutes, c.Present)
	}
	// Parted: not read again until farmd is back.
	r.after(time.Hour)
	r.wantCount(setest.EndpointPoints, 2)
}

func TestNothingRequestedWhenOff(t *testing.T) {
	t.Run("New only", func(t *testing.T) {
		r := newRig(t, nil)
		r.srv.SetViewer("alpha", bot, setest.Viewer{Watchtime: 100})
		r.present("alpha")
		r.clock.Advance(24 * time.Hour)
		_ = r.w.Channels()
		r.wantCount("", 0)
	})
	t.Run("Run with no channels", func(t *testing.T) {
		r := newRig(t, nil)
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		rounds := 0
		r.w = r.open(func(o *Options) {
			o.Sleep = func(ctx context.Context, d time.Duration) error {
				if rounds++; rounds > 48 {
					cancel()
				}
				return r.clock.Sleep(ctx, d)
			}
		})
		if err := r.w.Run(ctx); err != nil {
			t.Fatalf("Run: got %v, want nil on cancel", err)
		}
		r.wantCount("", 0)
		if _, err := os.Stat(filepath.Join(r.dir, StateFile)); !errors.Is(err, os.ErrNotExist) {
			t.Fatalf("state file: got %v, want none written when nothing was read", err)
		}
	})
}

func TestRunReadsEachRound(t *testing.T) {
	r := newRig(t, nil)
	r.srv.SetViewer("alpha", bot, setest.Viewer{Watchtime: 100})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var waits []time.Duration
	r.w = r.open(func(o *Options) {
		o.Every = 10 * time.Minute
		o.Sleep = func(ctx context.Context, d time.Duration) error {
			if waits = append(waits, d); len(waits) == 3 {
				cancel()
			}
			return r.clock.Sleep(ctx, d)
		}
	})
	r.present("alpha")
	if err := r.w.Run(ctx); err != nil {
		t.Fatalf("Run: got %v, want nil on cancel", err)
	}
	r.wantCount(setest.EndpointPoints, 2)
	if len(waits) != 3 || waits[0] != 10*time.Minute || waits[2] != 10*time.Minute {
		t.Fatalf("got waits %v, want three of Every (10m)", waits)
	}
}

func TestPersistenceAcrossRestart(t *testing.T) {
	r := newRig(t, nil)
	r.srv.SetViewer("alpha", bot, setest.Viewer{Points: 50, Watchtime: 100})
	r.present("alpha")
	r.after(time.Minute)
	path := filepath.Join(r.dir, StateFile)
	if st, err := os.Stat(path); err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("state file: got %v, %v; want mode 0600", st, err)
	}

	// Restart: the stored reading is the baseline; the id is not asked
	// again.
	r.w = r.open(nil)
	if c := r.channel("alpha"); c.WatchtimeMinutes != 100 || c.Present {
		t.Fatalf("after restart: got %+v, want the stored reading, not present", c)
	}
	r.srv.Grow("alpha", bot, 25, 40)
	r.present("alpha")
	r.after(30 * time.Minute)
	c := r.channel("alpha")
	if c.LastWatchtimeGrowth != 25 || c.LastPointsGrowth != 40 || c.WatchtimeGrowthMinutes != 25 || !c.Credited {
		t.Fatalf("after restart: got %+v, want growth 25 min and 40 points against the stored reading", c)
	}
	r.wantCount(setest.EndpointChannels, 1)

	// Another account's readings are not this one's.
	r.w = r.open(func(o *Options) { o.User = "otherbot" })
	if cs := r.w.Channels(); len(cs) != 1 || !cs[0].ReadAt.IsZero() {
		t.Fatalf("other account: got %+v, want the channel id only", cs)
	}
}

func TestCorruptStateFile(t *testing.T) {
	r := newRig(t, nil)
	path := filepath.Join(r.dir, StateFile)
	for _, body := range []string{"{", `{"version": 99, "channels": {}}`} {
		if err := os.WriteFile(path, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		w, err := New(r.options())
		if w == nil || err == nil || !strings.Contains(err.Error(), path) {
			t.Fatalf("%q: got %v, %v; want a Watcher and an error naming %s", body, w, err, path)
		}
		if cs := w.Channels(); len(cs) != 0 {
			t.Fatalf("%q: got %+v, want an empty start", body, cs)
		}
	}
}

func TestConcurrencyBounded(t *testing.T) {
	r := newRig(t, nil)
	names := []string{"a1", "a2", "a3", "a4", "a5", "a6"}
	for _, n := range names {
		r.srv.SetViewer(n, bot, setest.Viewer{Watchtime: 1})
		r.present(n)
	}
	r.srv.Pause()
	done := make(chan struct{})
	go func() {
		defer close(done)
		r.w.round(context.Background())
	}()
	testkit.Eventually(t, "two requests held", func() bool { return r.srv.InFlight() == 2 })
	r.srv.Resume()
	<-done
	if got := r.srv.MaxInFlight(); got != 2 {
		t.Fatalf("got at most %d requests in flight, want 2", got)
	}
	r.wantCount(setest.EndpointPoints, len(names))
}

func TestNewRejectsBadOptions(t *testing.T) {
	cases := []struct {
		name string
		opts Options
		want string
	}{
		{"no user", Options{}, "user"},
		{"bad user", Options{User: "no spaces"}, "user"},
		{"bad url", Options{User: bot, APIURL: "ftp://x"}, "api_url"},
		{"negative every", Options{User: bot, Every: -time.Second}, "every"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			w, err := New(tc.opts)
			if w != nil || err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v, %v; want no Watcher and an error about %s", w, err, tc.want)
			}
		})
	}
}

func TestRetryAfterParsing(t *testing.T) {
	now := time.Date(2024, 1, 1, 12, 0, 0, 0, time.UTC)
	cases := []struct {
		in   string
		want time.Duration
	}{
		{"90", 90 * time.Second},
		{"0", 0},
		{"", defaultRetryAfter},
		{"soon", defaultRetryAfter},
		{"-5", defaultRetryAfter},
		{"999999999", maxRetryAfter},
		{now.Add(2 * time.Minute).Format(http1123), 2 * time.Minute},
		{now.Add(-time.Minute).Format(http1123), 0},
	}
	for _, tc := range cases {
		if got := retryAfter(tc.in, now); got != tc.want {
			t.Errorf("retryAfter(%q): got %s, want %s", tc.in, got, tc.want)
		}
	}
}

const http1123 = "Mon, 02 Jan 2006 15:04:05 GMT"
