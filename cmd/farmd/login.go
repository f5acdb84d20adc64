package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"time"

	"github.com/mdp/qrterminal/v3"
	"github.com/rs/zerolog"

	"github.com/farmd/farmd/backoff"
	"github.com/farmd/farmd/config"
	"github.com/farmd/farmd/helix"
	"github.com/farmd/farmd/usertoken"
)

// loginKeys are the settings `farmd login` needs: it runs before the rest
// of the file (streamers, say) is written.
var loginKeys = []string{"state_dir", "twitch", "irc.username"}

// login is `farmd login`: Twitch's device-code flow for the chat account,
// then the token stored in state_dir for the daemon to use and renew.
func login(ctx context.Context, env environment, args []string, tune tuning) int {
	fs := flag.NewFlagSet("farmd login", flag.ContinueOnError)
	fs.SetOutput(env.stderr)
	path := fs.String("config", configDefault(env.getenv), "configuration `file` (default: $"+EnvConfig+", else config.yaml); it needs twitch.client_id, and twitch.client_secret for a confidential application")
	logLevel := fs.String("log-level", "warn", "log `level`: debug, info, warn or error")
	fs.Usage = func() {} // --help prints to stdout, below; an error says where to look
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			subcommandUsage(env.stdout, fs, "Usage: farmd login [--config FILE] [--log-level LEVEL]\n\n"+
				"Logs the chat account in with Twitch's device code flow (no password is\n"+
				"given to farmd) and stores its token in state_dir, where the daemon\n"+
				"renews it.\n")
			return exitOK
		}
		fmt.Fprintln(env.stderr, "(see farmd login --help)")
		return exitConfig
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(env.stderr, "farmd login: unexpected argument %q\n", fs.Arg(0))
		return exitConfig
	}
	log := newLogger(flags{logLevel: *logLevel, logFormat: ""}, env)
	cfg, warnings, err := config.LoadKeys(*path, env.getenv, loginKeys...)
	if err != nil {
		fmt.Fprintf(env.stderr, "farmd login: invalid configuration %s:\n%s\n", *path, indent(err.Error()))
		return exitConfig
	}
	for _, w := range warnings {
		log.Warn().Str("config", *path).Msg(w)
	}
	if err := os.MkdirAll(cfg.StateDir, 0o700); err != nil {
		fmt.Fprintf(env.stderr, "farmd login: state_dir: %v\n", err)
		return exitConfig
	}
	hopts := helixOptions(cfg, log)
	if tune.helix != nil {
		tune.helix(&hopts)
	}
	l := &loginFlow{
		out: env.stdout, qr: env.stdoutTTY, log: log,
		api: helix.New(hopts), cfg: cfg, sleep: tune.sleep, now: tune.now,
		store: usertoken.StoreIn(cfg.StateDir),
	}
	return l.run(ctx, env.stderr)
}

// loginFlow is one `farmd login`.
type loginFlow struct {
	out   io.Writer
	qr    bool // print a QR code of the address (stdout is a terminal)
	log   zerolog.Logger
	api   *helix.Client
	cfg   *config.Config
	store usertoken.Storage
	sleep func(ctx context.Context, d time.Duration) error
	now   func() time.Time
}

func (l *loginFlow) run(ctx context.Context, stderr io.Writer) int {
	fail := func(code int, format string, args ...any) int {
		fmt.Fprintf(stderr, "farmd login: "+format+"\n", args...)
		return code
	}
	dc, err := l.api.StartDeviceLogin(ctx, usertoken.Scopes)
	if err != nil {
		if ctx.Err() != nil {
			return exitOK
		}
		if rejected(err) {
			return fail(exitFatal, "Twitch refused to start a login for twitch.client_id: %v", err)
		}
		return fail(exitFatal, "cannot reach Twitch: %v", err)
	}
	deadline := l.now().Add(dc.ExpiresIn)
	fmt.Fprintf(l.out, "To let farmd use your Twitch chat account, open\n\n    %s\n\nlogged in as that account, and check that it shows the code  %s\n", dc.VerificationURI, dc.UserCode)
	if l.qr {
		fmt.Fprintln(l.out, "\nor scan:")
		qrterminal.GenerateWithConfig(dc.VerificationURI, qrterminal.Config{
			Level: qrterminal.L, Writer: l.out, HalfBlocks: true, QuietZone: 1,
			BlackChar: qrterminal.BLACK_BLACK, WhiteBlackChar: qrterminal.WHITE_BLACK,
			WhiteChar: qrterminal.WHITE_WHITE, BlackWhiteChar: qrterminal.BLACK_WHITE,
		})
	}
	fmt.Fprintf(l.out, "\nWaiting for the approval (the code expires in %s; Ctrl-C to give up)...\n", dc.ExpiresIn.Round(time.Second))

	interval := dc.Interval
	netErrs := backoff.Backoff{Min: interval, Max: time.Minute, Jitter: 0.2}
	var tok *helix.UserToken
	for tok == nil {
		wait := interval
		if err := l.sleep(ctx, wait); err != nil {
			return exitOK // interrupted
		}
		if !l.now().Before(deadline) {
			return fail(exitFatal, "the code expired before it was approved; run `farmd login` again")
		}
		t, err := l.api.PollDeviceLogin(ctx, dc, usertoken.Scopes)
		var apiErr *helix.APIError
		switch {
		case err == nil:
			tok = t
		case ctx.Err() != nil:
			return exitOK
		case errors.Is(err, helix.ErrAuthorizationPending):
			netErrs.Reset()
		case errors.Is(err, helix.ErrSlowDown):
			interval += 5 * time.Second // as RFC 8628 asks
		case errors.As(err, &apiErr) && apiErr.Status == http.StatusBadRequest && apiErr.Message == "invalid device code":
			return fail(exitFatal, "the code expired before it was approved; run `farmd login` again")
		case errors.As(err, &apiErr) && apiErr.Status == http.StatusBadRequest && apiErr.Message == "access_denied":
			return fail(exitFatal, "the authorization was denied on Twitch; run `farmd login` again to retry")
		case rejected(err):
			hint := ""
			if l.cfg.Twitch.ClientSecret == "" {
				hint = " (a Confidential application needs twitch.client_secret; a Public one needs none)"
			}
			return fail(exitFatal, "Twitch refused the login: %v%s", err, hint)
		default:
			d := netErrs.Next()
			l.log.Warn().Err(err).Dur("retry_in", d).Msg("asking Twitch failed; retrying")
			if err := l.sleep(ctx, d); err != nil {
				return exitOK
			}
		}
	}
	info, err := l.api.ValidateToken(ctx, tok.AccessToken)
	if err != nil {
		return fail(exitFatal, "Twitch gave a token it does not validate: %v", err)
	}
	if want := l.cfg.IRC.Username; want != "" && info.Login != want {
		return fail(exitConfig, "you approved as %q, but irc.username is %q: log in as %s, or change irc.username", info.Login, want, want)
	}
	now := l.now()
	stored := &usertoken.Token{
		AccessToken: tok.AccessToken, RefreshToken: tok.RefreshToken,
		Login: info.Login, UserID: info.UserID, ClientID: l.cfg.Twitch.ClientID, Scopes: info.Scopes,
		ExpiresAt: now.Add(info.ExpiresIn), Lifetime: info.ExpiresIn, ObtainedAt: now,
	}
	if err := l.store.Save(stored); err != nil {
		return fail(exitFatal, "%v", err)
	}
	fmt.Fprintf(l.out, "\nLogged in as %s. The token is stored in %s; farmd renews it from now on.\n", info.Login, l.store.Where())
	return exitOK
}
