package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/signal"
	"regexp"
	"runtime"
	"runtime/debug"
	"strings"
	"syscall"
	"time"

	"github.com/mattn/go-isatty"
	"github.com/rs/zerolog"

	"github.com/farmd/farmd/config"
	"github.com/farmd/farmd/internal/logfmt"
)

// Exit codes, part of farmd's contract with scripts and service managers.
const (
	exitOK      = 0
	exitFatal   = 1 // runtime error: IRC login rejected, token invalid
	exitConfig  = 2 // configuration or usage error, before any network traffic but /validate
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
	// configNamed is set when --config or $FARMD_CONFIG named the file,
	// rather than the default.
	configNamed bool
}

// helpText is --help's text, written out rather than flag.PrintDefaults'
// so that options have two dashes like everywhere else in farmd's docs.
const helpText = `Usage: farmd [--config FILE] [--check | --healthcheck | --demo]
             [--log-level LEVEL] [--log-format FORMAT]
       farmd login [--config FILE]
       farmd notify-test [--config FILE]
       farmd --version | --help

Keeps one Twitch account in the chat of the configured streamers while they
are live. Start from config.example.yaml; README.md explains the setup.

Commands:
  login        log the chat account in (device code flow) and store its
               token in state_dir; once, before the first run
  notify-test  send a test message to every service in notify

Options:
  --config FILE        the configuration file (default: $FARMD_CONFIG, else
                       config.yaml in the current directory)
  --check              check the configuration, secret files included, with
                       no network traffic, and exit: 0 valid, 2 invalid
  --healthcheck        ask the running farmd's /healthz (http.listen of
                       --config) and exit: 0 healthy, 1 not
  --demo               run against an embedded simulated Twitch: no
                       configuration, credentials or network needed
  --log-level LEVEL    debug, info (default), warn or error
  --log-format FORMAT  console (default on a terminal) or json (otherwise)
  --version            print the version and exit
  --help               print this help and exit

Environment:
  FARMD_CONFIG           --config's default (the container image sets it)
  FARMD_CLIENT_SECRET    twitch.client_secret, over the config file
  FARMD_IRC_TOKEN        irc.token, over the config file
  STATE_DIRECTORY        state_dir's default (systemd's StateDirectory=)
  CREDENTIALS_DIRECTORY  systemd's LoadCredential= directory, for *_file
                         paths such as ${CREDENTIALS_DIRECTORY}/client_secret
  HOME                   what ~/ in a path stands for

Exit status:
  0  clean shutdown (SIGTERM, SIGINT); --check: valid; --healthcheck: healthy
  1  fatal runtime error: Twitch rejected a static token or the app
     credentials, or the stored token can no longer be renewed (run farmd
     login); --healthcheck: not healthy
  2  configuration or usage error, found before any network traffic except
     a token of another account than irc.username, which Twitch's
     /validate reveals at start; also no stored token (run farmd login)
`

func parseFlags(args []string, getenv func(string) string) (flags, error) {
	var f flags
	fs := flag.NewFlagSet("farmd", flag.ContinueOnError)
	// The flag package prints an error and the whole usage on its own;
	// run prints one line instead, and --help the text above.
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	fs.StringVar(&f.config, "config", configDefault(getenv), "")
	fs.BoolVar(&f.check, "check", false, "")
	fs.BoolVar(&f.demo, "demo", false, "")
	fs.BoolVar(&f.version, "version", false, "")
	fs.BoolVar(&f.health, "healthcheck", false, "")
	fs.StringVar(&f.logLevel, "log-level", "info", "")
	fs.StringVar(&f.logFormat, "log-format", "", "")
	if err := fs.Parse(args); err != nil {
		return f, flagError(err)
	}
	f.configNamed = getenv(EnvConfig) != ""
	fs.Visit(func(fl *flag.Flag) { f.configNamed = f.configNamed || fl.Name == "config" })
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

var flagName = regexp.MustCompile(`(^|[\s:])-([a-z])`)

// flagError rewrites the flag package's error with two-dash names.
func flagError(err error) error {
	if errors.Is(err, flag.ErrHelp) {
		return err
	}
	if name, ok := strings.CutPrefix(err.Error(), "flag provided but not defined: "); ok {
		return fmt.Errorf("unknown flag --%s", strings.TrimLeft(name, "-"))
	}
	return errors.New(flagName.ReplaceAllString(err.Error(), "$1--$2"))
}

func newLogger(f flags, env environment) zerolog.Logger {
	level, _ := zerolog.ParseLevel(f.logLevel) // checked by parseFlags
	var w io.Writer = env.stderr
	if f.logFormat == "console" || (f.logFormat == "" && env.tty) {
		w = logfmt.Console(env.stderr, env.tty) // durations as "1m30s"; JSON has seconds (logfmt)
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
	f, err := parseFlags(env.args, env.getenv)
	if errors.Is(err, flag.ErrHelp) {
		fmt.Fprint(env.stdout, helpText)
		return exitOK
	}
	if err != nil {
		fmt.Fprintf(env.stderr, "farmd: %v (see farmd --help)\n", err)
		return exitConfig
	}
	if f.version {
		fmt.Fprintln(env.stdout, versionString())
		return exitOK
	}
	if !f.demo {
		if _, err := os.Stat(f.config); errors.Is(err, fs.ErrNotExist) {
			fmt.Fprint(env.stderr, noConfigMessage(f))
			return exitConfig
		}
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

// noConfigMessage says what to do when the config file f names does not
// exist: for a file named on purpose, that it is missing; for the default,
// how to name one, try farmd or make one, since that is a first run.
func noConfigMessage(f flags) string {
	if f.configNamed {
		return fmt.Sprintf("farmd: the configuration file %s does not exist (config.example.yaml documents one; see farmd --help)\n", f.config)
	}
	where := ""
	if dir, err := os.Getwd(); err == nil {
		where = " in " + dir
	}
	return fmt.Sprintf(`farmd: %s does not exist%s, and --config FILE (or $%s) names no other file.
  try farmd without one:   farmd --demo
  or write one:            cp config.example.yaml config.yaml   (set twitch.client_id and streamers)
                           farmd login                          (once: approve the chat account)
                           farmd
  see farmd --help and README.md
`, f.config, where, EnvConfig)
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

// subcommandUsage prints a subcommand's help the way --help prints
// farmd's: head, then every flag GNU style ("--config FILE"), with its
// default unless the text already names one.
func subcommandUsage(w io.Writer, fs *flag.FlagSet, head string) {
	fmt.Fprint(w, head)
	fmt.Fprintln(w, "\nFlags:")
	fs.VisitAll(func(f *flag.Flag) {
		arg, text := flag.UnquoteUsage(f)
		name := "--" + f.Name
		if arg != "" {
			name += " " + strings.ToUpper(arg)
		}
		if f.DefValue != "" && !strings.Contains(text, "default") {
			text += fmt.Sprintf(" (default %s)", f.DefValue)
		}
		fmt.Fprintf(w, "  %-20s %s\n", name, text)
	})
	fmt.Fprintf(w, "  %-20s %s\n", "--help", "print this help and exit")
}
