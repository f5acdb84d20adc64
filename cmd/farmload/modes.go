package main

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/farmd/farmd/irc/irctest"
)

// joins: 100 streamers go live at once; the JOINs must arrive at exactly
// the allowed rate with no violation of the fake's enforced limit.
func joins(ctx context.Context, o options, out io.Writer) error {
	limit, window := 20, 10*time.Second
	if o.verified {
		limit = 2000
	}
	for r := range o.runs {
		w, err := newWorld(irctest.Options{JoinLimit: limit, JoinWindow: window, EnforceJoinLimit: true}, 0)
		if err != nil {
			return err
		}
		names := logins("join", 100)
		for _, n := range names {
			w.tw.SetLive(n, true)
		}
		f, err := w.startFarmd(o.farmd, farmdConfig{streamers: names, interval: "1s", grace: "2m", verified: o.verified})
		if err != nil {
			w.close()
			return err
		}
		err = w.waitJoined(ctx, 100, 3*time.Minute)
		stopErr := f.stop()
		log := w.chat.JoinLog()
		violations, conns := w.chat.Violations(), w.chat.Connections()
		w.close()
		if err != nil {
			return err
		}
		if stopErr != nil {
			return stopErr
		}
		maxIn, total := 0, 0
		for i, rec := range log {
			n := 0
			for _, r2 := range log[i:] {
				if r2.Time.Sub(rec.Time) < window {
					n += len(r2.Channels)
				}
			}
			maxIn = max(maxIn, n)
			total += len(rec.Channels)
		}
		span := log[len(log)-1].Time.Sub(log[0].Time)
		fmt.Fprintf(out, "joins run=%d verified=%v channels=%d join_lines=%d max_in_any_%s=%d limit=%d violations=%d connections=%d first_to_last=%s\n",
			r, o.verified, total, len(log), window, maxIn, limit, violations, conns, span.Round(time.Millisecond))
	}
	return nil
}

// latency: streamers go live one by one at random moments; each sample is
// the time from SetLive in the fake to the JOIN line reaching the chat fake,
// split into detection (SetLive to the /streams answer that showed it) and
// reaction (that answer to the JOIN).
func latency(ctx context.Context, o options, out io.Writer) error {
	w, err := newWorld(irctest.Options{EnforceJoinLimit: true}, 0)
	if err != nil {
		return err
	}
	defer w.close()
	names := logins("lat", o.samples)
	for _, n := range names {
		w.tw.AddUser(n)
	}
	f, err := w.startFarmd(o.farmd, farmdConfig{streamers: names, interval: o.interval.String(), grace: "1h"})
	if err != nil {
		return err
	}
	defer f.stop()
	// Let the first poll resolve the logins and log in.
	lctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	err = w.chat.Wait(lctx, func(s *irctest.Server) bool { return s.Logins() > 0 })
	cancel()
	if err != nil {
		return fmt.Errorf("farmd did not log in: %w", err)
	}
	time.Sleep(2 * o.interval) // pacing the load, not synchronisation
	spread := o.spread
	if spread == 0 {
		// One JOIN every 0.6 s at most on average keeps far below 20 per 10 s.
		spread = time.Duration(o.samples) * max(o.interval/4, 1200*time.Millisecond)
	}
	// Random moments, independent of the poll phase.
	at := make([]time.Duration, o.samples)
	for i := range at {
		at[i] = time.Duration(rand.Int64N(int64(spread)))
	}
	slices.Sort(at)
	start := time.Now()
	wentLive := make([]time.Time, o.samples)
	for i, d := range at {
		select {
		case <-time.After(time.Until(start.Add(d))):
		case <-ctx.Done():
			return ctx.Err()
		}
		wentLive[i] = time.Now()
		w.tw.SetLive(names[i], true)
	}
	if err := w.waitJoined(ctx, o.samples, o.interval+time.Minute); err != nil {
		return err
	}
	joinedAt := map[string]time.Time{}
	for _, rec := range w.chat.JoinLog() {
		for _, ch := range rec.Channels {
			if _, ok := joinedAt[ch]; !ok {
				joinedAt[ch] = rec.Time
			}
		}
	}
	var total, detect, react []time.Duration
	for i, n := range names {
		j := joinedAt[n]
		total = append(total, j.Sub(wentLive[i]))
		if a, ok := w.lastAnswerBefore(j); ok && a.After(wentLive[i]) {
			detect = append(detect, a.Sub(wentLive[i]))
			react = append(react, j.Sub(a))
		}
	}
	fmt.Fprintf(out, "latency interval=%s samples=%d violations=%d\n", o.interval, len(total), w.chat.Violations())
	fmt.Fprintf(out, "  golive_to_join   %s\n", dist(total))
	fmt.Fprintf(out, "  golive_to_answer %s\n", dist(detect))
	fmt.Fprintf(out, "  answer_to_join   %s\n", dist(react))
	return nil
}

// memory: farmd watches o.watched streamers, 100 of them live and joined,
// polling every o.step; every second two live streamers end and two others
// start, and the chat carries 200 lines a second. RSS is sampled every
// second; the Go heap comes from farmd's /metrics.
func memory(ctx context.Context, o options, out io.Writer) error {
	w, err := newWorld(irctest.Options{JoinLimit: 2000, EnforceJoinLimit: true}, 0)
	if err != nil {
		return err
	}
	defer w.close()
	names := logins("mem", o.watched)
	for i, n := range names {
		w.tw.AddUser(n)
		if i < 100 {
			w.tw.SetLive(n, true)
		}
	}
	addr, err := freeAddr()
	if err != nil {
		return err
	}
	f, err := w.startFarmd(o.farmd, farmdConfig{streamers: names, interval: o.step.String(), grace: "0s", verified: true, listen: addr})
	if err != nil {
		return err
	}
	defer f.stop()
	if err := w.waitJoined(ctx, 100, time.Minute); err != nil {
		return err
	}
	fctx, cancel := context.WithCancel(ctx)
	flooded := make(chan struct{})
	defer func() { cancel(); <-flooded }()
	chans := logins("mem", 100)
	go func() { defer close(flooded); w.chat.FloodAt(fctx, chans, 200) }()
	pid := f.cmd.Process.Pid
	start := time.Now()
	next := 100 // next streamer to go live
	var rss []int
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	for time.Since(start) < o.duration {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-tick.C:
		}
		// Rotate: the two oldest live end, two new ones start; 100 stay live.
		for range 2 {
			w.tw.SetLive(names[next-100], false)
			w.tw.SetLive(names[next%len(names)], true)
			next++
		}
		r, _, err := memKB(pid)
		if err != nil {
			return fmt.Errorf("farmd died: %w", err)
		}
		rss = append(rss, r)
	}
	_, hwm, _ := memKB(pid)
	cpu, _ := cpuSeconds(pid)
	polls := w.tw.Count("streams")
	metrics := scrape("http://" + addr + "/metrics")
	joined := len(w.chat.Joined())
	fmt.Fprintf(out, "memory watched=%d joined=%d step=%s duration=%s streams_requests=%d simulated_at_auto=%s cpu_s=%.2f\n",
		o.watched, joined, o.step, o.duration, polls, time.Duration(polls/((o.watched+99)/100))*15*time.Second, cpu)
	fmt.Fprintf(out, "  rss_kb first=%d median=%d last=%d peak(VmHWM)=%d\n", rss[0], median(rss), rss[len(rss)-1], hwm)
	for _, k := range []string{"go_memstats_heap_inuse_bytes", "go_memstats_heap_alloc_bytes", "go_memstats_heap_sys_bytes",
		"go_memstats_stack_inuse_bytes", "go_memstats_sys_bytes", "go_goroutines", "go_gc_duration_seconds_count", "process_resident_memory_bytes"} {
		fmt.Fprintf(out, "  %s %s\n", k, metrics[k])
	}
	return nil
}

// ingest: farmd, joined to 100 channels, and then a plain go-twitch-irc
// client, each alone on the fake while it floods o.rate PRIVMSG lines a
// second; CPU seconds per million lines and RSS of each process.
func ingest(ctx context.Context, o options, out io.Writer) error {
	self, err := os.Executable()
	if err != nil {
		return err
	}
	chans := logins("chat", 100)
	for r := range o.runs {
		for _, who := range strings.Split(o.clients, ",") {
			w, err := newWorld(irctest.Options{JoinLimit: 2000, EnforceJoinLimit: true}, 0)
			if err != nil {
				return err
			}
			var pid int
			var stop func() error
			var baseOut strings.Builder
			if who == "farmd" {
				for _, c := range chans {
					w.tw.SetLive(c, true)
				}
				f, err := w.startFarmd(o.farmd, farmdConfig{streamers: chans, interval: "1h", grace: "1h", verified: true})
				if err != nil {
					w.close()
					return err
				}
				pid, stop = f.cmd.Process.Pid, f.stop
			} else {
				args := []string{"-mode", "gotwitchirc", "-addr", w.chat.Addr(), "-user", botName, "-token", botToken, "-channels", "100"}
				switch who {
				case "go-twitch-irc": // default capabilities, OnPrivateMessage: a typical bot
				case "go-twitch-irc-nocallback":
					args = append(args, "-callback=false")
				case "go-twitch-irc-nocaps":
					args = append(args, "-caps=false")
				default:
					w.close()
					return fmt.Errorf("-clients: unknown client %q", who)
				}
				cmd := exec.Command(self, args...)
				cmd.Stdout, cmd.Stderr = &baseOut, &baseOut
				if err := cmd.Start(); err != nil {
					w.close()
					return err
				}
				pid = cmd.Process.Pid
				stop = func() error {
					_ = cmd.Process.Signal(os.Interrupt)
					return cmd.Wait()
				}
			}
			if err := w.waitJoined(ctx, 100, time.Minute); err != nil {
				_ = stop()
				w.close()
				return fmt.Errorf("%s: %w", who, err)
			}
			time.Sleep(time.Second) // let the JOIN answers settle (pacing, not synchronisation)
			cpu0, _ := cpuSeconds(pid)
			fctx, cancel := context.WithTimeout(ctx, o.flood)
			sent := w.chat.FloodAt(fctx, chans, o.rate)
			cancel()
			time.Sleep(500 * time.Millisecond) // let the client drain its socket
			cpu1, err := cpuSeconds(pid)
			if err != nil {
				_ = stop()
				w.close()
				return fmt.Errorf("%s died during the flood: %w", who, err)
			}
			rss, hwm, _ := memKB(pid)
			conns := w.chat.Connections()
			stopErr := stop()
			w.close()
			perM := (cpu1 - cpu0) / float64(sent) * 1e6
			fmt.Fprintf(out, "ingest run=%d client=%s lines=%d rate=%d cpu_s=%.2f cpu_s_per_million_lines=%.2f rss_kb=%d peak_kb=%d connections=%d %s\n",
				r, who, sent, o.rate, cpu1-cpu0, perM, rss, hwm, conns, strings.TrimSpace(baseOut.String()))
			if stopErr != nil && who == "farmd" {
				return stopErr
			}
		}
	}
	return nil
}

func freeAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}

// scrape returns the unlabelled samples of a Prometheus text page.
func scrape(url string) map[string]string {
	out := map[string]string{}
	resp, err := http.Get(url)
	if err != nil {
		return out
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	for _, line := range strings.Split(string(b), "\n") {
		if k, v, ok := strings.Cut(line, " "); ok && !strings.HasPrefix(k, "#") && !strings.Contains(k, "{") {
			out[k] = v
		}
	}
	return out
}

func median(v []int) int {
	s := slices.Clone(v)
	slices.Sort(s)
	return s[len(s)/2]
}

// dist formats p50, p90, p99 and max of d.
func dist(d []time.Duration) string {
	if len(d) == 0 {
		return "n=0"
	}
	s := slices.Clone(d)
	slices.Sort(s)
	p := func(q float64) time.Duration {
		i := int(q*float64(len(s))+0.5) - 1
		return s[min(max(i, 0), len(s)-1)].Round(time.Millisecond)
	}
	return "n=" + strconv.Itoa(len(s)) + " p50=" + p(0.5).String() + " p90=" + p(0.9).String() +
		" p99=" + p(0.99).String() + " max=" + s[len(s)-1].Round(time.Millisecond).String()
}
