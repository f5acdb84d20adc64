package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/farmd/farmd/helix/helixtest"
	"github.com/farmd/farmd/internal/testkit"
	"github.com/farmd/farmd/usertoken"
)

// loginWorld is a fake Twitch on a fake clock for `farmd login`: every
// sleep of the login's polling advances the clock, so a 30-minute code
// expires in milliseconds, and onPoll runs before each poll.
type loginWorld struct {
	tw     *helixtest.Server
	clock  *testkit.Clock
	dir    string
	sleeps []time.Duration
	// onSleep runs at each sleep, numbered from 1; it may approve the code.
	onSleep func(n int, d time.Duration) time.Duration
}

func newLoginWorld(tb testing.TB, opts helixtest.Options) *loginWorld {
	tb.Helper()
	w := &loginWorld{clock: testkit.NewClock(), dir: tb.TempDir()}
	opts.Now = w.clock.Now
	w.tw = helixtest.New(opts)
	tb.Cleanup(w.tw.Close)
	return w
}

// config is a login-only config file: no irc token, no streamers.
func (w *loginWorld) config(tb testing.TB, extra string, secret bool) string {
	tb.Helper()
	text := fmt.Sprintf("state_dir: %s\ntwitch:\n  client_id: %s\n  auth_url: %s\n  helix_url: %s\n",
		filepath.Join(w.dir, "state"), w.tw.ClientID(), w.tw.AuthURL(), w.tw.HelixURL())
	if secret {
		text += "  client_secret: " + w.tw.ClientSecret() + "\n"
	}
	path := filepath.Join(w.dir, "farmd.yaml")
	writeFile(tb, path, text+extra)
	return path
}

func (w *loginWorld) run(tb testing.TB, path string) (code int, stdout, stderr string) {
	tb.Helper()
	var out, errs testkit.LogBuffer
	n := 0
	code = run(context.Background(), environment{
		args:   []string{"login", "--config", path},
		getenv: func(string) string { return "" },
		stdout: &out, stderr: &errs,
		tune: func(t *tuning) {
			testTuning(t)
			t.now = w.clock.Now
			t.sleep = func(ctx context.Context, d time.Duration) error {
				n++
				if w.onSleep != nil {
					d = w.onSleep(n, d)
				}
				w.sleeps = append(w.sleeps, d)
				return w.clock.Sleep(ctx, d)
			}
		},
	})
	return code, out.String(), errs.String()
}

// userCode is the code the one login showed.
func (w *loginWorld) userCode(tb testing.TB) string {
	tb.Helper()
	codes := w.tw.PendingUserCodes()
	if len(codes) != 1 {
		tb.Fatalf("%d device codes handed out, want 1", len(codes))
	}
	return codes[0]
}

// TestLogin walks the whole login as Twitch answers it: two pending
// answers, one slow_down (the next poll comes too early), approval; then the
// token is validated and stored 0600 in state_dir, and no token is printed.
func TestLogin(t *testing.T) {
	w := newLoginWorld(t, helixtest.Options{})
	w.onSleep = func(n int, d time.Duration) time.Duration {
		switch n {
		case 3:
			return d - 2*time.Second // too early: Twitch says slow_down
		case 5:
			w.tw.ApproveDevice(w.userCode(t), "farmbot")
		}
		return d
	}
	code, stdout, stderr := w.run(t, w.config(t, "", true))
	if code != exitOK {
		t.Fatalf("exit %d, want 0; stdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	}
	if want := []time.Duration{5e9, 5e9, 3e9, 10e9, 10e9}; fmt.Sprint(w.sleeps) != fmt.Sprint(want) {
		t.Errorf("waits between polls %v, want %v (10 s after slow_down)", w.sleeps, want)
	}
	for _, want := range []string{"/activate?device-code=", w.userCode(t), "Logged in as farmbot", filepath.Join(w.dir, "state", "token.json")} {
		if !strings.Contains(stdout, want) {
			t.Errorf("stdout lacks %q:\n%s", want, stdout)
		}
	}
	store := usertoken.StoreIn(filepath.Join(w.dir, "state"))
	tok, err := store.Load()
	if err != nil {
		t.Fatal(err)
	}
	if tok.Login != "farmbot" || tok.UserID == "" || tok.ClientID != w.tw.ClientID() || tok.ExpiresAt.IsZero() {
		t.Errorf("stored %v, want farmbot with its id, the client id and an expiry", tok)
	}
	if st, err := os.Stat(store.Path); err != nil || st.Mode().Perm() != 0o600 {
		t.Errorf("token.json mode %v, %v; want 0600", st.Mode().Perm(), err)
	}
	if form := w.tw.Requests(helixtest.EndpointDevice)[0]; form.Get("scopes") != "chat:read user:read:follows" {
		t.Errorf("asked for scopes %q, want chat:read user:read:follows", form.Get("scopes"))
	}
	for _, secret := range append(w.tw.IssuedUserTokens(), w.tw.ClientSecret()) {
		if strings.Contains(stdout+stderr, secret) {
			t.Errorf("a secret appears in the output")
		}
	}
}

func TestLoginEndings(t *testing.T) {
	tests := []struct {
		name     string
		opts     helixtest.Options
		extra    string
		secret   bool
		onSleep  func(w *loginWorld, t *testing.T, n int)
		wantCode int
		wantErr  string
		stored   bool
	}{
		{
			name: "another account than irc.username", extra: "irc:\n  username: otherbot\n", secret: true,
			onSleep:  func(w *loginWorld, t *testing.T, n int) { w.tw.ApproveDevice(w.userCode(t), "farmbot") },
			wantCode: exitConfig, wantErr: `you approved as "farmbot", but irc.username is "otherbot"`,
		},
		{
			name: "the code expires", secret: true,
			wantCode: exitFatal, wantErr: "the code expired before it was approved; run `farmd login` again",
		},
		{
			name: "denied", secret: true,
			onSleep:  func(w *loginWorld, t *testing.T, n int) { w.tw.DenyDevice(w.userCode(t)) },
			wantCode: exitFatal, wantErr: "the authorization was denied on Twitch",
		},
		{
			name: "public application, no secret", opts: helixtest.Options{PublicClient: true},
			onSleep:  func(w *loginWorld, t *testing.T, n int) { w.tw.ApproveDevice(w.userCode(t), "farmbot") },
			wantCode: exitOK, stored: true,
		},
		{
			name:     "confidential application without its secret",
			onSleep:  func(w *loginWorld, t *testing.T, n int) { w.tw.ApproveDevice(w.userCode(t), "farmbot") },
			wantCode: exitFatal, wantErr: "a Confidential application needs twitch.client_secret",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			w := newLoginWorld(t, tc.opts)
			if tc.onSleep != nil {
				w.onSleep = func(n int, d time.Duration) time.Duration {
					if n == 2 {
						tc.onSleep(w, t, n)
					}
					return d
				}
			}
			code, stdout, stderr := w.run(t, w.config(t, tc.extra, tc.secret))
			if code != tc.wantCode || !strings.Contains(stderr, tc.wantErr) {
				t.Errorf("exit %d, stderr %q; want %d and %q (stdout %q)", code, stderr, tc.wantCode, tc.wantErr, stdout)
			}
			_, err := os.Stat(filepath.Join(w.dir, "state", "token.json"))
			if stored := err == nil; stored != tc.stored {
				t.Errorf("token.json stored: %v, want %v", stored, tc.stored)
			}
		})
	}
}
