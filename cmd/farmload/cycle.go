package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/farmd/farmd/helix"
	"github.com/farmd/farmd/helix/helixtest"
	"github.com/farmd/farmd/irc/irctest"
)

// cycleResult is what one cycle run measured.
type cycleResult struct {
	cycles            []time.Duration // steady-state cycles, first (cold) one excluded
	rssKB             []int
	hwmKB             int
	connsFirst, conns int // accepted by the fake after the first cycle, and in all
	protos            map[string]int
	metrics           string // farmd's Go heap figures at the end
}

// cycle: the poll cycle against a Helix fake that answers after o.latency
// of network latency plus o.service of service time on o.workers workers,
// over HTTPS with HTTP/1.1 only ("http1") or with HTTP/2 ("http2"), or
// over plain HTTP/1.1 ("plain", to see what TLS costs). The
// client is helix.Client in a child process (-mode pollclient) at each of
// o.concs, or the real farmd binary at its default ("farmd"). Cycle times
// are measured at the fake (first request in to last answer out), RSS from
// /proc, connections by the fake's ConnState hook.
func cycle(ctx context.Context, o options, out io.Writer) error {
	self, err := os.Executable()
	if err != nil {
		return err
	}
	for r := range o.runs {
		for _, proto := range strings.Split(o.protos, ",") {
			for _, ns := range strings.Split(o.ns, ",") {
				n, err := strconv.Atoi(ns)
				if err != nil || n <= 0 {
					return fmt.Errorf("-ns: bad size %q", ns)
				}
				for _, client := range strings.Split(o.cycleClients, ",") {
					concs := []string{"default"}
					if client == "helix" {
						concs = strings.Split(o.concs, ",")
					}
					for _, conc := range concs {
						res, err := cycleRun(ctx, o, self, proto, client, conc, n)
						if err != nil {
							return fmt.Errorf("%s %s conc=%s N=%d: %w", proto, client, conc, n, err)
						}
						fmt.Fprintf(out, "cycle run=%d proto=%s client=%s conc=%s N=%d latency=%s service=%s workers=%d cycles=%d "+
							"cycle_median=%s cycle_max=%s rss_kb_median=%d peak_kb=%d conns_first_cycle=%d conns_total=%d protocols=%v%s\n",
							r, proto, client, conc, n, o.latency, o.service, o.workers, len(res.cycles),
							medianDur(res.cycles), slices.Max(res.cycles).Round(100*time.Microsecond),
							median(res.rssKB), res.hwmKB, res.connsFirst, res.conns, res.protos, res.metrics)
					}
				}
			}
		}
	}
	return nil
}

// cycleRun measures one client at one concurrency and size.
func cycleRun(ctx context.Context, o options, self, proto, client, conc string, n int) (*cycleResult, error) {
	hopts := helixtest.Options{ServiceTime: o.service, Workers: o.workers}
	switch proto {
	case "http1":
		hopts.TLS = true
	case "http2":
		hopts.HTTP2 = true
	case "plain":
	default:
		return nil, fmt.Errorf("-protos: unknown protocol %q (http1, http2, plain)", proto)
	}
	w, err := newWorldWith(irctest.Options{JoinLimit: 2000, EnforceJoinLimit: true}, hopts)
	if err != nil {
		return nil, err
	}
	defer w.close()
	names := logins("cyc", n)
	for i, name := range names {
		w.tw.AddUser(name)
		if i%100 == 0 {
			w.tw.SetLive(name, true)
		}
	}
	if o.latency > 0 {
		w.tw.Fail(helixtest.EndpointStreams, helixtest.Fault{Delay: o.latency})
		w.tw.Fail(helixtest.EndpointToken, helixtest.Fault{Delay: o.latency})
	}
	dir, err := os.MkdirTemp("", "farmload-cycle-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	var env []string
	if pem := w.tw.CertificatePEM(); pem != nil {
		certFile := filepath.Join(dir, "ca.pem")
		if err := os.WriteFile(certFile, pem, 0o600); err != nil {
			return nil, err
		}
		env = []string{"SSL_CERT_FILE=" + certFile}
	}

	var pid int
	var stop func() error
	metricsURL := ""
	switch client {
	case "farmd":
		addr, err := freeAddr()
		if err != nil {
			return nil, err
		}
		metricsURL = "http://" + addr + "/metrics"
		f, err := w.startFarmd(o.farmd, farmdConfig{streamers: names, interval: o.interval.String(), grace: "1h",
			verified: true, direct: true, env: env, listen: addr})
		if err != nil {
			return nil, err
		}
		pid, stop = f.cmd.Process.Pid, f.stop
	case "helix":
		var childOut strings.Builder
		cmd := exec.Command(self, "-mode", "pollclient", "-auth-url", w.tw.AuthURL(), "-helix-url", w.tw.HelixURL(),
			"-conc", conc, "-watched", strconv.Itoa(n), "-interval", o.interval.String())
		cmd.Env = append(os.Environ(), env...)
		cmd.Stdout, cmd.Stderr = &childOut, &childOut
		if err := cmd.Start(); err != nil {
			return nil, err
		}
		pid = cmd.Process.Pid
		stop = func() error {
			_ = cmd.Process.Signal(os.Interrupt)
			if err := cmd.Wait(); err != nil {
				return fmt.Errorf("poll client: %w: %s", err, strings.TrimSpace(childOut.String()))
			}
			return nil
		}
	default:
		return nil, fmt.Errorf("-cycle-clients: unknown client %q (helix, farmd)", client)
	}
	res := &cycleResult{}
	err = sampleCycles(ctx, o, w, pid, batchesOf(n), res)
	if metricsURL != "" {
		m := scrape(metricsURL)
		for _, k := range []string{"go_memstats_heap_inuse_bytes", "go_memstats_heap_sys_bytes", "go_memstats_stack_inuse_bytes", "go_goroutines"} {
			res.metrics += " " + strings.TrimPrefix(k, "go_memstats_") + "=" + m[k]
		}
	}
	stopErr := stop()
	if err != nil {
		return nil, err
	}
	if stopErr != nil {
		return nil, stopErr
	}
	res.conns, res.protos = w.tw.Connections(), w.tw.Protocols(helixtest.EndpointStreams)
	res.cycles, err = cycleTimes(w.tw.Spans(helixtest.EndpointStreams), batchesOf(n), o.interval)
	if err != nil {
		return nil, err
	}
	return res, nil
}

func batchesOf(n int) int { return (n + 99) / 100 }

// sampleCycles samples pid's RSS every 200 ms until o.cycles cycles after
// the first have started, and notes the connections of the first cycle.
func sampleCycles(ctx context.Context, o options, w *world, pid, batches int, res *cycleResult) error {
	ctx, cancel := context.WithTimeout(ctx, time.Duration(o.cycles+3)*o.interval+time.Minute)
	defer cancel()
	if err := w.tw.WaitCount(ctx, helixtest.EndpointStreams, batches); err != nil {
		return fmt.Errorf("waiting for the first cycle: %w", err)
	}
	res.connsFirst = w.tw.Connections()
	start := w.tw.Count(helixtest.EndpointStreams)
	tick := time.NewTicker(200 * time.Millisecond)
	defer tick.Stop()
	for w.tw.Count(helixtest.EndpointStreams) < start+(o.cycles+1)*batches {
		select {
		case <-ctx.Done():
			return fmt.Errorf("waiting for %d cycles (%d requests so far): %w", o.cycles+1, w.tw.Count(helixtest.EndpointStreams), ctx.Err())
		case <-tick.C:
		}
		rss, hwm, err := memKB(pid)
		if err != nil {
			return fmt.Errorf("the client died: %w", err)
		}
		res.rssKB, res.hwmKB = append(res.rssKB, rss), hwm
	}
	return nil
}

// cycleTimes groups the /streams spans into cycles (a request that starts
// more than half an interval after its cycle's first starts a new one) and
// returns each complete cycle's time from its first request's arrival to
// its last answer. Cycles before the first complete one (farmd polls the
// logins it has resolved so far while resolving the rest) and that first,
// cold one are left out, and so is a last cycle cut short by the end of
// the run; a short cycle in between is an error.
func cycleTimes(spans []helixtest.Span, batches int, interval time.Duration) ([]time.Duration, error) {
	var groups [][]helixtest.Span
	for _, sp := range spans {
		if len(groups) == 0 || sp.Start.Sub(groups[len(groups)-1][0].Start) > interval/2 {
			groups = append(groups, nil)
		}
		groups[len(groups)-1] = append(groups[len(groups)-1], sp)
	}
	var out []time.Duration
	warm := false
	for i, g := range groups {
		complete := len(g) == batches
		end := g[0].Start
		for _, sp := range g {
			complete = complete && !sp.End.IsZero()
			end = maxTime(end, sp.End)
		}
		switch {
		case !warm:
			warm = complete
		case complete:
			out = append(out, end.Sub(g[0].Start))
		case i < len(groups)-1:
			return nil, fmt.Errorf("cycle %d has %d requests, want %d", i, len(g), batches)
		}
	}
	if len(out) == 0 {
		return nil, errors.New("no complete cycle after the first")
	}
	return out, nil
}

func maxTime(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

func medianDur(d []time.Duration) time.Duration {
	s := slices.Clone(d)
	slices.Sort(s)
	return s[len(s)/2].Round(100 * time.Microsecond)
}

// pollClient (-mode pollclient, run by the cycle mode) is farmd's Helix
// client alone: it resolves o.watched logins and polls them every
// o.interval with MaxConcurrent o.conc ("default": helix's own rule) and
// helix's default transport, until ctx is done.
func pollClient(ctx context.Context, o options) error {
	opts := helix.Options{
		ClientID: helixtest.DefaultClientID, ClientSecret: helixtest.DefaultClientSecret,
		AuthURL: o.authURL, HelixURL: o.helixURL,
	}
	if o.conc != "default" {
		n, err := strconv.Atoi(o.conc)
		if err != nil || n <= 0 {
			return fmt.Errorf("-conc: bad value %q", o.conc)
		}
		opts.MaxConcurrent = n
	}
	c := helix.New(opts)
	streamers, err := c.ResolveLogins(ctx, logins("cyc", o.watched))
	if err != nil {
		return err
	}
	ids := make([]string, len(streamers))
	for i, s := range streamers {
		ids[i] = s.ID
	}
	t := time.NewTicker(o.interval)
	defer t.Stop()
	for {
		if _, err := c.CheckStreams(ctx, ids); err != nil && ctx.Err() == nil {
			return err
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}
