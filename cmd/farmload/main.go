// Command farmload is farmd's end-to-end load run (BENCHMARKS.md).
// It runs the real farmd binary against the in-process fakes
// (helix/helixtest, eventsub/eventsubtest, irc/irctest) on loopback and
// measures what unit benchmarks cannot: JOIN throughput, detection latency
// by polling and through EventSub, the binary's memory with 10,000
// streamers watched, the CPU cost of chat ingest side by side with a plain
// go-twitch-irc client, and the poll cycle's time, memory and connections
// over HTTP/1.1 and HTTP/2. Every mode is bounded in time and touches
// nothing but 127.0.0.1.
//
//	go build -o /tmp/farmd ./cmd/farmd
//	go run ./cmd/farmload -farmd /tmp/farmd -mode joins
//	go run ./cmd/farmload -farmd /tmp/farmd -mode latency -interval 1s -samples 40
//	go run ./cmd/farmload -farmd /tmp/farmd -mode eventsub-latency -interval 60s -samples 200
//	go run ./cmd/farmload -farmd /tmp/farmd -mode memory -duration 60s
//	go run ./cmd/farmload -farmd /tmp/farmd -mode ingest -runs 3
//	go run ./cmd/farmload -farmd /tmp/farmd -mode cycle -runs 3
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"syscall"
	"time"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// options are the command-line flags.
type options struct {
	mode     string
	farmd    string
	runs     int
	interval time.Duration
	samples  int
	spread   time.Duration
	duration time.Duration
	step     time.Duration
	watched  int
	// eventsub-latency: streamers cycled live and offline, a go-live every
	// `every`.
	streamers int
	every     time.Duration
	rate      int
	flood     time.Duration
	verified  bool
	// child mode (-mode gotwitchirc): the baseline client.
	clients           string
	addr, user, token string
	channels          int
	caps, callback    bool
	// cycle mode, and its child (-mode pollclient).
	protos, ns, concs, cycleClients string
	latency, service                time.Duration
	workers, cycles                 int
	authURL, helixURL, conc         string
}

func run(args []string, stdout, stderr io.Writer) int {
	var o options
	fs := flag.NewFlagSet("farmload", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&o.mode, "mode", "", "what to measure: joins, latency, eventsub-latency, memory, ingest or cycle")
	fs.StringVar(&o.farmd, "farmd", "", "path of the farmd `binary` to measure (go build -o /tmp/farmd ./cmd/farmd)")
	fs.IntVar(&o.runs, "runs", 3, "repetitions (ingest, joins, cycle)")
	fs.DurationVar(&o.interval, "interval", time.Second, "latency, eventsub-latency, cycle: poll.interval of farmd (and of the poll client)")
	fs.IntVar(&o.samples, "samples", 40, "latency: streamers going live, one sample each; eventsub-latency: go-lives")
	fs.DurationVar(&o.spread, "spread", 0, "latency: time over which the samples go live at random moments (default samples * max(interval/4, 1.2s))")
	fs.IntVar(&o.streamers, "streamers", 20, "eventsub-latency: streamers going live in turn")
	fs.DurationVar(&o.every, "every", 600*time.Millisecond, "eventsub-latency: time between go-lives (at least 550ms: farmd joins 20 per 11 s)")
	fs.DurationVar(&o.duration, "duration", 60*time.Second, "memory: how long farmd runs")
	fs.DurationVar(&o.step, "step", 500*time.Millisecond, "memory: poll.interval, compressing time (auto would be 15s at 10,000 streamers)")
	fs.IntVar(&o.watched, "watched", 10000, "memory, pollclient: streamers watched")
	fs.StringVar(&o.protos, "protos", "http1,http2", "cycle: what the Helix fake offers over TLS: http1 (HTTP/1.1 only), http2 (HTTP/2 and HTTP/1.1)")
	fs.StringVar(&o.ns, "ns", "1000,10000", "cycle: numbers of streamers watched")
	fs.StringVar(&o.concs, "concs", "10,32,100,default", "cycle: MaxConcurrent values of the helix client (default: helix's rule)")
	fs.StringVar(&o.cycleClients, "cycle-clients", "helix,farmd", "cycle: helix (helix.Client alone in a child process, at each -concs) and farmd (the binary, at its default)")
	fs.DurationVar(&o.latency, "latency", 20*time.Millisecond, "cycle: network latency of every /streams and token answer")
	fs.DurationVar(&o.service, "service", 2*time.Millisecond, "cycle: the fake's service time per Helix request")
	fs.IntVar(&o.workers, "workers", 2, "cycle: requests the fake serves at once")
	fs.IntVar(&o.cycles, "cycles", 15, "cycle: steady-state cycles measured per run")
	fs.StringVar(&o.authURL, "auth-url", "", "pollclient (internal): OAuth base URL")
	fs.StringVar(&o.helixURL, "helix-url", "", "pollclient (internal): Helix base URL")
	fs.StringVar(&o.conc, "conc", "default", "pollclient (internal): MaxConcurrent, or default")
	fs.IntVar(&o.rate, "rate", 5000, "ingest: PRIVMSG lines a second")
	fs.DurationVar(&o.flood, "flood", 20*time.Second, "ingest: flood length per run")
	fs.BoolVar(&o.verified, "verified", false, "joins: verified bot (2000 JOINs per 10 s) instead of 20")
	fs.StringVar(&o.clients, "clients", "farmd,go-twitch-irc", "ingest: clients measured in turn: farmd, go-twitch-irc, go-twitch-irc-nocallback, go-twitch-irc-nocaps")
	fs.BoolVar(&o.caps, "caps", true, "gotwitchirc (internal): request the default capabilities (tags, commands)")
	fs.BoolVar(&o.callback, "callback", true, "gotwitchirc (internal): register OnPrivateMessage")
	fs.StringVar(&o.addr, "addr", "", "gotwitchirc (internal): IRC address")
	fs.StringVar(&o.user, "user", "", "gotwitchirc (internal): login")
	fs.StringVar(&o.token, "token", "", "gotwitchirc (internal): token")
	fs.IntVar(&o.channels, "channels", 100, "gotwitchirc (internal): channels to join (load0..)")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if o.mode == "gotwitchirc" {
		if err := baselineClient(ctx, o, stdout); err != nil {
			fmt.Fprintln(stderr, "farmload gotwitchirc:", err)
			return 1
		}
		return 0
	}
	if o.mode == "pollclient" {
		if err := pollClient(ctx, o); err != nil {
			fmt.Fprintln(stderr, "farmload pollclient:", err)
			return 1
		}
		return 0
	}
	if o.farmd == "" {
		fmt.Fprintln(stderr, "farmload: -farmd is required (go build -o /tmp/farmd ./cmd/farmd)")
		return 2
	}
	if _, err := exec.LookPath(o.farmd); err != nil {
		fmt.Fprintln(stderr, "farmload:", err)
		return 2
	}
	var err error
	switch o.mode {
	case "joins":
		err = joins(ctx, o, stdout)
	case "latency":
		err = latency(ctx, o, stdout)
	case "eventsub-latency":
		err = eventsubLatency(ctx, o, stdout)
	case "memory":
		err = memory(ctx, o, stdout)
	case "ingest":
		err = ingest(ctx, o, stdout)
	case "cycle":
		err = cycle(ctx, o, stdout)
	default:
		err = errors.New("-mode must be joins, latency, eventsub-latency, memory, ingest or cycle")
	}
	if err != nil {
		fmt.Fprintln(stderr, "farmload:", err)
		return 1
	}
	return 0
}
