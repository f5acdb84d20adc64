package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"time"

	"github.com/rs/zerolog"

	"github.com/farmd/farmd/config"
	"github.com/farmd/farmd/notify"
)

// notifyTargets turns the notify section into notify's targets. Event
// names were checked by config; a bad one is named by position.
func notifyTargets(cfg *config.Config) ([]notify.Target, error) {
	targets := make([]notify.Target, 0, len(cfg.Notify))
	for i, n := range cfg.Notify {
		kinds, err := notify.ParseKinds(n.Events)
		if err != nil {
			return nil, fmt.Errorf("notify[%d].%w", i, err)
		}
		targets = append(targets, notify.Target{URL: notify.URL(n.URL), Events: kinds})
	}
	return targets, notify.Validate(targets)
}

// notifications is the daemon's side of notify: it builds the messages from
// what the daemon sees. A nil *notifications (no notify section) sends
// nothing.
type notifications struct {
	n   *notify.Notifier
	log zerolog.Logger
}

func newNotifications(cfg *config.Config, log zerolog.Logger, tune tuning) (*notifications, error) {
	targets, err := notifyTargets(cfg)
	if err != nil || len(targets) == 0 {
		return nil, err
	}
	opts := notify.Options{Log: log}
	if tune.notify != nil {
		tune.notify(&opts)
	}
	n, err := notify.New(targets, opts)
	if err != nil {
		return nil, err
	}
	return &notifications{n: n, log: log}, nil
}

// send queues ev; it never blocks.
func (s *notifications) send(ev notify.Event) {
	if s != nil {
		s.n.Notify(ev)
	}
}

// run delivers until ctx ends, then drains (bounded).
func (s *notifications) run(ctx context.Context) error {
	if s == nil {
		return nil
	}
	return s.n.Run(ctx)
}

// notifyTest is `farmd notify-test`: one test message to every configured
// URL, one line per URL (never its secret parts); exit 0 when all went
// through, 1 otherwise.
func notifyTest(ctx context.Context, env environment, args []string, tune tuning) int {
	fs := flag.NewFlagSet("farmd notify-test", flag.ContinueOnError)
	fs.SetOutput(env.stderr)
	path := fs.String("config", configDefault(env.getenv), "configuration `file` (default: $"+EnvConfig+", else config.yaml)")
	fs.Usage = func() {} // --help prints to stdout, below; an error says where to look
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			subcommandUsage(env.stdout, fs, "Usage: farmd notify-test [--config FILE]\n\n"+
				"Sends one test message to every notify URL and prints one line per URL.\n")
			return exitOK
		}
		fmt.Fprintln(env.stderr, "(see farmd notify-test --help)")
		return exitConfig
	}
	cfg, _, err := config.LoadKeys(*path, env.getenv, "notify")
	if err != nil {
		fmt.Fprintf(env.stderr, "farmd notify-test: invalid configuration %s:\n%s\n", *path, indent(err.Error()))
		return exitConfig
	}
	if len(cfg.Notify) == 0 {
		fmt.Fprintf(env.stderr, "farmd notify-test: %s has no notify section; see config.example.yaml\n", *path)
		return exitConfig
	}
	targets := make([]notify.Target, len(cfg.Notify))
	for i, n := range cfg.Notify {
		targets[i] = notify.Target{URL: notify.URL(n.URL)}
	}
	log := newLogger(flags{logLevel: "warn"}, env)
	opts := notify.Options{Log: log}
	if tune.notify != nil {
		tune.notify(&opts)
	}
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	code := exitOK
	for _, r := range notify.Test(ctx, targets, opts) {
		fmt.Fprintln(env.stdout, r.String())
		if !r.OK() {
			code = exitFatal
		}
	}
	return code
}

// markRunning notes in state_dir that farmd runs and tells the user it
// started, or restarted after an exit that did not go through markStopped
// (a crash, a kill, a power cut).
func (d *daemon) markRunning() {
	dir := d.cfg.StateDir
	if dir == "" || d.notes == nil {
		d.notes.send(notify.Daemon{State: notify.DaemonStarted})
		return
	}
	unclean, err := notify.MarkRunning(dir)
	if err != nil {
		d.log.Warn().Err(err).Msg("cannot note in state_dir that farmd runs; a crash will not be reported at the next start")
	}
	state := notify.DaemonStarted
	if unclean {
		state = notify.DaemonRestarted
	}
	d.notes.send(notify.Daemon{State: state})
}

// markStopped notes a clean stop (err nil or a cancellation): the next
// start is then no restart after a crash.
func (d *daemon) markStopped(err error) {
	if d.notes == nil || d.cfg.StateDir == "" || (err != nil && !errors.Is(err, context.Canceled)) {
		return
	}
	if err := notify.MarkStopped(d.cfg.StateDir); err != nil {
		d.log.Warn().Err(err).Msg("cannot note the clean stop in state_dir")
	}
}

// loginCommand is what the user should run to get a new chat token.
func (d *daemon) loginCommand() string {
	return notify.DefaultTokenCommand
}
