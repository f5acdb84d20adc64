package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime"
	"runtime/debug"
	"strings"
	"syscall"
	"time"

	"github.com/mattn/go-isatty"
	"github.com/rs/zerolog"

	"github.com/farmd/farmd/config"
)

// Exit codes, part of farmd's contract with scripts and service managers.
const (
	exitOK      = 0
	exitFatal   = 1 // runtime error: IRC login rejected, token invalid
	exitConfig  = 2 // configuration or usage error, before any network traffic
	stopTimeout = 5 * time.Second
)

// defaultConfig is --config's default when $FARMD_CONFIG is not set (the
// container image sets it, so `docker compose run farmd login` finds the
// mounted file).
const defaultConfig = "config.yaml"

// EnvConfig names the environment variable holding --config's default.
const EnvConfig = "FARMD_CONFIG"

// configDefault is --config's default in env.
func configDefault(getenv func(string) string) string {
	if p := getenv(EnvConfig); p != "" {
		return p
	}
	return defaultConfig
}

// version is set at build time with -ldflags "-X main.version=v1.2.3".
var version = ""

// environment is everything run takes from the process, so tests can run the
// real wiring in-process with their own arguments, variables and signals.
type environment struct {
	args   []string
	getenv func(string) string
	stdout io.Writer
	stderr io.Writer
	// tty reports whether stderr is a terminal (console logs by default);
	// stdoutTTY whether stdout is (`farmd login` prints a QR code there).
	tty, stdoutTTY bool
	// signals delivers SIGHUP, SIGINT and SIGTERM; nil subscribes to the
	// process's own.
	signals <-chan os.Signal
	// tune, if set, adjusts the daemon's internal timings (tests).
	tune func(*tuning)
}

func processEnv() environment {
	return environment{
		args:      os.Args[1:],
		getenv:    os.Getenv,
		stdout:    os.Stdout,
		stderr:    os.Stderr,
		tty:       isatty.IsTerminal(os.Stderr.Fd()) || isatty.IsCygwinTerminal(os.Stderr.Fd()),
		stdoutTTY: isatty.IsTerminal(os.Stdout.Fd()) || isatty.IsCygwinTerminal(os.Stdout.Fd()),
	}
}

// flags are farmd's command-line options.
type flags struct {
	config    string
	check     bool
	demo      bool
	version   bool
	logLevel  string
	logFormat string
	health    bool
}

func parseFlags(args []string, stderr io.Writer, getenv func(string) string) (flags, error) {
	var f flags
	fs := flag.NewFlagSet("farmd", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&f.config, "config", configDefault(getenv), "configuration `file` (default: $"+EnvConfig+", else config.yaml)")
	fs.BoolVar(&f.check, "check", false, "validate the configuration (no network traffic) and exit: 0 valid, 2 invalid")
	fs.BoolVar(&f.demo, "demo", false, "run against an embedded simulated Twitch: no credentials, no network")
	fs.BoolVar(&f.version, "version", false, "print the version and exit")
	fs.BoolVar(&f.health, "healthcheck", false, "ask the running farmd's /healthz (at http.listen of --config) and exit 0 (healthy) or 1")
	fs.StringVar(&f.logLevel, "log-level", "info", "log `level`: debug, info, warn or error")
	fs.StringVar(&f.logFormat, "log-format", "", "log `format`: json or console (default: console on a terminal, else json)")
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "Usage: farmd [--config FILE] [--check | --healthcheck | --demo] [--log-level LEVEL] [--log-format json|console]\n"+
			"       farmd login [--config FILE]\n"+
			"       farmd notify-test [--config FILE]\n\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return f, err
	}
	if fs.NArg() > 0 {
		return f, fmt.Errorf("unexpected argument %q (options start with --)", fs.Arg(0))
	}
	switch f.logLevel {
	case "debug", "info", "warn", "error":
	default:
		return f, fmt.Errorf("--log-level %q: want debug, info, warn or error", f.logLevel)
	}
	switch f.logFormat {
	case "", "json", "console":
	default:
		return f, fmt.Errorf("--log-format %q: want json or console", f.logFormat)
	}
	if n := btoi(f.demo) + btoi(f.check) + btoi(f.health); n > 1 {
		return f, errors.New("--demo, --check and --healthcheck cannot be combined")
	}
	return f, nil
}

func newLogger(f flags, env environment) zerolog.Logger {
	level, _ := zerolog.ParseLevel(f.logLevel) // checked by parseFlags
	var w io.Writer = env.stderr
	if f.logFormat == "console" || (f.logFormat == "" && env.tty) {
		w = zerolog.ConsoleWriter{Out: env.stderr, TimeFormat: time.DateTime, NoColor: !env.tty}
	}
	return zerolog.New(w).Level(level).With().Timestamp().Logger()
}

func versionString() string {
	v, commit := version, ""
	if info, ok := debug.ReadBuildInfo(); ok {
		if v == "" && info.Main.Version != "" && info.Main.Version != "(devel)" {
			v = info.Main.Version
		}
		for _, s := range info.Settings {
			if s.Key == "vcs.revision" && len(s.Value) >= 12 {
				commit = s.Value[:12]
			}
		}
	}
	if v == "" {
		v = "devel"
	}
	s := "farmd " + v
	if commit != "" {
		s += " (" + commit + ")"
	}
	return s + " " + runtime.Version() + " " + runtime.GOOS + "/" + runtime.GOARCH
}

// run is farmd's main, returning the exit code.
func run(ctx context.Context, env environment) int {
	if env.getenv == nil {
		env.getenv = func(string) string { return "" }
	}
	tune := defaultTuning()
	if env.tune != nil {
		env.tune(&tune)
	}
	if len(env.args) > 0 {
		switch env.args[0] {
		case "login":
			return login(ctx, env, env.args[1:], tune)
		case "notify-test":
			return notifyTest(ctx, env, env.args[1:], tune)
		}
	}
	f, err := parseFlags(env.args, env.stderr, env.getenv)
	if errors.Is(err, flag.ErrHelp) {
		return exitOK
	}
	if err != nil {
		fmt.Fprintf(env.stderr, "farmd: %v\n", err)
		return exitConfig
	}
	if f.version {
		fmt.Fprintln(env.stdout, versionString())
		return exitOK
	}
	if f.check {
		return check(f.config, env)
	}
	if f.health {
		return healthcheck(f.config, env)
	}
	log := newLogger(f, env)

	signals := env.signals
	if signals == nil {
		ch := make(chan os.Signal, 4)
		signal.Notify(ch, syscall.SIGHUP, syscall.SIGINT, syscall.SIGTERM)
		defer signal.Stop(ch)
		signals = ch
	}

	if f.demo {
		return runDemo(ctx, log, env.stdout, signals, defaultTuning())
	}
	cfg, warnings, err := config.Load(f.config, env.getenv)
	if err != nil {
		fmt.Fprintf(env.stderr, "farmd: invalid configuration %s:\n%s\n", f.config, indent(err.Error()))
		return exitConfig
	}
	for _, w := range warnings {
		log.Warn().Str("config", f.config).Msg(w)
	}
	loader := func() (*config.Config, []string, error) { return config.Load(f.config, env.getenv) }
	return serve(ctx, log, cfg, f.config, loader, signals, tune)
}

// check validates the configuration file and prints every problem.
func check(path string, env environment) int {
	cfg, warnings, err := config.Load(path, env.getenv)
	for _, w := range warnings {
		fmt.Fprintf(env.stderr, "warning: %s\n", w)
	}
	if err == nil {
		_, err = notifyTargets(cfg) // shoutrrr's own parser, by position
	}
	if err != nil {
		fmt.Fprintf(env.stderr, "%s: invalid configuration:\n%s\n", path, indent(err.Error()))
		return exitConfig
	}
	fmt.Fprintf(env.stdout, "%s: configuration is valid\n", path)
	return exitOK
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

func indent(s string) string {
	return "  " + strings.ReplaceAll(strings.TrimRight(s, "\n"), "\n", "\n  ")
}
