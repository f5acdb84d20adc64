package config

import (
	"bufio"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"strings"
	"testing"
	"time"
)

// noEnv is the empty environment the bad-config cases are loaded with, so
// that no case depends on the machine's environment.
func noEnv(string) string { return "" }

// envOf returns a getenv backed by m.
func envOf(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

// wantOf returns the expectation on the first line of a bad-config file,
// "# want: <substring of the error>".
func wantOf(tb testing.TB, path string) string {
	tb.Helper()
	f, err := os.Open(path)
	if err != nil {
		tb.Fatal(err)
	}
	defer func() { _ = f.Close() }()
	line, err := bufio.NewReader(f).ReadString('\n')
	if err != nil {
		tb.Fatalf("%s: read first line: %v", path, err)
	}
	want, ok := strings.CutPrefix(strings.TrimRight(line, "\r\n"), "# want: ")
	if !ok || strings.TrimSpace(want) == "" {
		tb.Fatalf("%s: first line must be \"# want: <substring of the error>\", got %q", path, line)
	}
	return want
}

// asConfigError returns err as an *Error or fails the test.
func asConfigError(tb testing.TB, err error) *Error {
	tb.Helper()
	var ce *Error
	if !errors.As(err, &ce) {
		tb.Fatalf("got error %v (%T), want an *Error", err, err)
	}
	return ce
}

// TestLoadBadConfigs loads every testdata/bad/*.yaml with an empty
// environment and checks that it fails with the error its first line names.
func TestLoadBadConfigs(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("testdata", "bad", "*.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if len(files) < 25 {
		t.Fatalf("got %d bad-config cases, want at least 25", len(files))
	}
	for _, file := range files {
		t.Run(strings.TrimSuffix(filepath.Base(file), ".yaml"), func(t *testing.T) {
			want := wantOf(t, file)
			c, _, err := Load(file, noEnv)
			if err == nil {
				t.Fatalf("Load succeeded with %+v, want an error containing %q", c, want)
			}
			if c != nil {
				t.Errorf("Load returned a config with its error")
			}
			asConfigError(t, err)
			if !strings.Contains(err.Error(), want) {
				t.Errorf("got error:\n%v\nwant it to contain %q", err, want)
			}
		})
	}
}

// withoutModeWarnings drops the file-mode warning, which depends on the
// checkout's umask; TestLoadModeWarning covers it.
func withoutModeWarnings(ws []string) []string {
	var out []string
	for _, w := range ws {
		if !strings.Contains(w, "readable by group or others") {
			out = append(out, w)
		}
	}
	return out
}

// writeConfig writes a config file with the given mode in a temporary
// directory and returns its path.
func writeConfig(tb testing.TB, content string, mode os.FileMode) string {
	tb.Helper()
	path := filepath.Join(tb.TempDir(), "farmd.yaml")
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		tb.Fatal(err)
	}
	if err := os.Chmod(path, mode); err != nil {
		tb.Fatal(err)
	}
	return path
}

// absTestdata returns the absolute path of a testdata directory.
func absTestdata(tb testing.TB, elem ...string) string {
	tb.Helper()
	p, err := filepath.Abs(filepath.Join(append([]string{"testdata"}, elem...)...))
	if err != nil {
		tb.Fatal(err)
	}
	return p
}

// withRequired returns Default with the required settings of the good
// test files.
func withRequired(edit func(c *Config)) Config {
	c := Default()
	c.Twitch.ClientID = "abc123"
	c.Twitch.ClientSecret = "s3cr3t"
	c.IRC.Username = "mybot"
	c.IRC.Token = "tok3n"
	c.Streamers = PlainStreamers("shroud")
	if edit != nil {
		edit(&c)
	}
	return c
}

// showConfig prints c with its secrets, for test failure messages only.
func showConfig(c *Config) string {
	if c == nil {
		return "<nil>"
	}
	return fmt.Sprintf("%+v client_secret=%q token=%q", *c, string(c.Twitch.ClientSecret), string(c.IRC.Token))
}

func TestLoadGood(t *testing.T) {
	credentials := absTestdata(t, "secrets")
	tests := []struct {
		name         string
		file         string
		env          map[string]string
		want         Config
		wantWarnings []string
	}{
		{
			name: "defaults applied",
			file: "minimal.yaml",
			want: withRequired(nil),
		},
		{
			name: "every setting",
			file: "full.yaml",
			want: withRequired(func(c *Config) {
				c.Twitch.AuthURL = "http://127.0.0.1:8080/oauth2"
				c.Twitch.HelixURL = "http://127.0.0.1:8080/helix"
				c.IRC.Address = "127.0.0.1:6667"
				c.IRC.TLS = false
				c.IRC.VerifiedBot = true
				c.IRC.MaxChannels = 50
				c.Poll = Poll{Interval: 30 * time.Second, OfflineGrace: 0}
				c.HTTP.Listen = "127.0.0.1:9090"
				c.Streamers = PlainStreamers("shroud", "pokimane")
			}),
		},
		{
			name: "null values keep defaults",
			file: "null-values.yaml",
			want: withRequired(nil),
		},
		{
			name: "env overrides inline secrets",
			file: "minimal.yaml",
			env:  map[string]string{EnvClientSecret: "env-secret", EnvIRCToken: "oauth:env-token"},
			want: withRequired(func(c *Config) {
				c.Twitch.ClientSecret = "env-secret"
				c.IRC.Token = "env-token"
			}),
		},
		{
			name: "env supplies missing secrets",
			file: "no-secrets.yaml",
			env:  map[string]string{EnvClientSecret: "env-secret", EnvIRCToken: "env-token"},
			want: withRequired(func(c *Config) {
				c.Twitch.ClientSecret = "env-secret"
				c.IRC.Token = "env-token"
			}),
		},
		{
			name: "secret files read, newline trimmed, CREDENTIALS_DIRECTORY expanded",
			file: "secret-files.yaml",
			env:  map[string]string{"CREDENTIALS_DIRECTORY": credentials},
			want: withRequired(func(c *Config) {
				c.Twitch.ClientSecret = "client-secret-from-file"
				c.IRC.Token = "token-from-file"
			}),
		},
		{
			name: "env overrides secret files",
			file: "secret-files.yaml",
			env:  map[string]string{EnvClientSecret: "env-secret", EnvIRCToken: "env-token"},
			want: withRequired(func(c *Config) {
				c.Twitch.ClientSecret = "env-secret"
				c.IRC.Token = "env-token"
			}),
		},
		{
			name: "both streamer forms, follows",
			file: "streamer-forms.yaml",
			want: withRequired(func(c *Config) {
				c.Poll.OfflineGrace = 3 * time.Minute
				ten, zero := 10*time.Minute, time.Duration(0)
				c.Streamers = []Streamer{
					{Login: "shroud", Presence: PresenceLive, Notify: true},
					{Login: "xqc", Presence: PresenceAlways, OfflineGrace: &ten},
					{Login: "pokimane", Presence: PresenceNever, Notify: true},
					{Login: "summit1g", Presence: PresenceLive, OfflineGrace: &zero, Notify: true},
				}
				c.Follows = Follows{Enabled: true, Refresh: 30 * time.Minute}
			}),
			wantWarnings: []string{`line 20: streamers[4]: duplicate of "shroud", dropped`},
		},
		{
			name: "followed channels only",
			file: "follows-only.yaml",
			want: withRequired(func(c *Config) {
				c.Streamers = nil
				c.Follows.Enabled = true
			}),
		},
		{
			name: "normalised, duplicates dropped in order",
			file: "normalize.yaml",
			want: withRequired(func(c *Config) {
				c.Streamers = PlainStreamers("shroud", "pokimane", "xqc", "summit1g")
			}),
			wantWarnings: []string{
				`line 13: streamers[2]: read " shroud " as the login "shroud"`,
				`line 13: streamers[2]: duplicate of "shroud", dropped`,
				`line 15: streamers[4]: duplicate of "pokimane", dropped`,
			},
		},
		{
			name: "logins pasted as addresses or @login read as logins, with a warning",
			file: "login-forms.yaml",
			want: withRequired(func(c *Config) {
				c.Streamers = PlainStreamers("shroud", "pokimane", "xqc", "summit1g")
			}),
			wantWarnings: []string{
				`line 6: irc.username: read "@MyBot" as the login "mybot"`,
				`line 9: streamers[0]: read "https://www.twitch.tv/Shroud/" as the login "shroud"`,
				`line 10: streamers[1]: read "twitch.tv/pokimane" as the login "pokimane"`,
				`line 11: streamers[2]: read "@xqc" as the login "xqc"`,
				`line 13: streamers[4]: read "https://twitch.tv/shroud" as the login "shroud"`,
				`line 13: streamers[4]: duplicate of "shroud", dropped`,
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, warnings, err := Load(filepath.Join("testdata", "good", tc.file), envOf(tc.env))
			if err != nil {
				t.Fatalf("Load: %v", err)
			}
			if tc.want.StateDir == "" { // the default: the config file's directory
				dir, err := filepath.Abs(filepath.Join("testdata", "good"))
				if err != nil {
					t.Fatal(err)
				}
				tc.want.StateDir = dir
			}
			if !reflect.DeepEqual(*got, tc.want) {
				t.Errorf("got  %s\nwant %s", showConfig(got), showConfig(&tc.want))
			}
			if w := withoutModeWarnings(warnings); !reflect.DeepEqual(w, tc.wantWarnings) {
				t.Errorf("got warnings %q, want %q", w, tc.wantWarnings)
			}
			if err := got.Validate(); err != nil {
				t.Errorf("Validate of the loaded config: %v", err)
			}
		})
	}
}

// TestLoadEnvOverridesBrokenFile shows that an environment variable
// replaces a secret file entirely: the file is not even read.
func TestLoadEnvOverridesBrokenFile(t *testing.T) {
	path := writeConfig(t, `
twitch:
  client_id: abc123
  client_secret_file: /nonexistent/client_secret
irc:
  username: mybot
  token_file: ${UNSET_DIR}/token
streamers: [shroud]
`, 0o600)
	env := envOf(map[string]string{EnvClientSecret: "env-secret", EnvIRCToken: "env-token"})
	c, _, err := Load(path, env)
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	if got, want := string(c.Twitch.ClientSecret), "env-secret"; got != want {
		t.Errorf("got client secret %q, want %q", got, want)
	}
	if got, want := string(c.IRC.Token), "env-token"; got != want {
		t.Errorf("got token %q, want %q", got, want)
	}
	if c.Twitch.ClientSecretFile != "" || c.IRC.TokenFile != "" {
		t.Errorf("got secret files %q, %q, want both cleared", c.Twitch.ClientSecretFile, c.IRC.TokenFile)
	}
}

func TestLoadSecretFileNewlines(t *testing.T) {
	tests := []struct {
		name    string
		content string
		want    string
		wantErr string
	}{
		{name: "no newline", content: "abc", want: "abc"},
		{name: "LF", content: "abc\n", want: "abc"},
		{name: "CRLF", content: "abc\r\n", want: "abc"},
		{name: "oauth prefix and LF", content: "oauth:abc\n", want: "abc"},
		{name: "two LFs", content: "abc\n\n", wantErr: "contains spaces, line breaks or control characters"},
		{name: "only LF", content: "\n", wantErr: "is empty"},
		{name: "inner newline", content: "abc\ndef\n", wantErr: "contains spaces, line breaks or control characters"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			if err := os.WriteFile(filepath.Join(dir, "token"), []byte(tc.content), 0o600); err != nil {
				t.Fatal(err)
			}
			path := writeConfig(t, "twitch: {client_id: abc123, client_secret: s3cr3t}\n"+
				"irc: {username: mybot, token_file: $SECRETS/token}\nstreamers: [shroud]\n", 0o600)
			c, _, err := Load(path, envOf(map[string]string{"SECRETS": dir}))
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("got error %v, want one containing %q", err, tc.wantErr)
				}
				if !strings.Contains(err.Error(), "irc.token_file") {
					t.Errorf("got error %v, want it to name irc.token_file", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("Load: %v", err)
			}
			if got := string(c.IRC.Token); got != tc.want {
				t.Errorf("got token %q, want %q", got, tc.want)
			}
		})
	}
}

func TestLoadModeWarning(t *testing.T) {
	const inline = "twitch: {client_id: abc123, client_secret: s3cr3t}\n" +
		"irc: {username: mybot, token: tok3n}\nstreamers: [shroud]\n"
	const noInline = "twitch: {client_id: abc123}\nirc: {username: mybot}\nstreamers: [shroud]\n"
	env := envOf(map[string]string{EnvClientSecret: "env-secret", EnvIRCToken: "env-token"})
	tests := []struct {
		name    string
		content string
		mode    os.FileMode
		want    bool
	}{
		{name: "inline, owner only", content: inline, mode: 0o600, want: false},
		{name: "inline, group readable", content: inline, mode: 0o640, want: true},
		{name: "inline, world readable", content: inline, mode: 0o604, want: true},
		{name: "inline, group writable", content: inline, mode: 0o620, want: true},
		{name: "no inline secret, world readable", content: noInline, mode: 0o644, want: false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			path := writeConfig(t, tc.content, tc.mode)
			_, warnings, err := Load(path, env)
			if err != nil {
				t.Fatalf("Load: %v", err)
			}
			var got []string
			for _, w := range warnings {
				if strings.Contains(w, "readable by group or others") {
					got = append(got, w)
				}
			}
			if tc.want != (len(got) == 1) || len(got) > 1 {
				t.Fatalf("got mode warnings %q, want one: %v", got, tc.want)
			}
			if tc.want && (!strings.Contains(got[0], "twitch.client_secret and irc.token") || !strings.Contains(got[0], path)) {
				t.Errorf("got warning %q, want it to name the file and both inline secrets", got[0])
			}
		})
	}
}

// TestLoadReportsAllProblems checks that every problem is reported at
// once, in file order, with its field and line.
func TestLoadReportsAllProblems(t *testing.T) {
	path := writeConfig(t, `twitch:
  client_secret: s3cr3t
  client_secret_file: x
  auth_url: not a url
irc:
  username: "no way"
  token: tok3n
  max_channels: 0
  colour: red
poll:
  interval: soon
  offline_grace: -1s
streamers:
  - shroud
  - "bad!"
`, 0o600)
	_, _, err := Load(path, noEnv)
	ce := asConfigError(t, err)
	type fl struct {
		Field string
		Line  int
	}
	// In the order of the file; the missing key, which has no line, last.
	want := []fl{
		{"twitch.client_secret", 2}, // both set
		{"twitch.auth_url", 4},      // not a URL
		{"irc.username", 6},         // bad login
		{"irc.max_channels", 8},     // out of range
		{"", 9},                     // unknown key colour
		{"poll.interval", 11},       // not a duration
		{"poll.offline_grace", 12},  // negative
		{"streamers[1]", 15},        // bad login
		{"twitch.client_id", 0},     // required
	}
	var got []fl
	for _, p := range ce.Problems {
		got = append(got, fl{p.Field, p.Line})
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got problems\n%v\nwant fields and lines %v", err, want)
	}
	if n := strings.Count(err.Error(), "\n") + 1; n != len(want) {
		t.Errorf("got %d lines in the error text, want %d (one per problem)", n, len(want))
	}
}

func TestLoadFileErrors(t *testing.T) {
	tests := []struct {
		name   string
		path   func(t *testing.T) string
		target error
	}{
		{name: "missing", path: func(t *testing.T) string { return filepath.Join(t.TempDir(), "nope.yaml") }, target: fs.ErrNotExist},
		{name: "directory", path: func(t *testing.T) string { return t.TempDir() }, target: errIsDir},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := Load(tc.path(t), noEnv)
			if !errors.Is(err, tc.target) {
				t.Fatalf("got error %v, want one wrapping %v", err, tc.target)
			}
			var ce *Error
			if errors.As(err, &ce) {
				t.Errorf("got an *Error for an unreadable config file, want a plain error")
			}
		})
	}
}

// TestLoadNeverShowsSecrets checks the error and warning texts of configs
// that are bad around their secrets.
func TestLoadNeverShowsSecrets(t *testing.T) {
	const secret = "Sup3rS3cretValue"
	tests := []struct {
		name    string
		content string
		env     map[string]string
		file    string // content of $DIR/secret, if set
	}{
		{name: "inline with space", content: "twitch: {client_id: a, client_secret: \"" + secret + " \"}\n"},
		{name: "inline and file", content: "twitch: {client_id: a, client_secret: " + secret + ", client_secret_file: x}\n"},
		{name: "env with newline", env: map[string]string{EnvIRCToken: secret + "\nPRIVMSG #x :hi"}, content: "irc: {username: a}\n"},
		{name: "file with two lines", file: secret + "\n" + secret + "\n", content: "irc: {username: a, token_file: $DIR/secret}\n"},
		{name: "syntax error on the secret's line", content: "twitch:\n  client_secret: \"" + secret + "\n  client_id: [\n"},
		{name: "secret as a list", content: "twitch:\n  client_secret: [" + secret + "]\n"},
		{name: "secret as a mapping", content: "irc:\n  token: {" + secret + ": 1}\n"},
		{name: "secret with bad tag", content: "irc:\n  token: !!int " + secret + "\n"},
		{name: "secret in a URL", content: "twitch:\n  auth_url: https://user:" + secret + "@example.com/?x=1\n"},
		{name: "secret in an unparsable URL", content: "twitch:\n  helix_url: \"https://user:" + secret + "@exa mple.com:x/\"\n"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			env := map[string]string{"DIR": dir}
			for k, v := range tc.env {
				env[k] = v
			}
			if tc.file != "" {
				if err := os.WriteFile(filepath.Join(dir, "secret"), []byte(tc.file), 0o600); err != nil {
					t.Fatal(err)
				}
			}
			path := writeConfig(t, tc.content, 0o644)
			_, warnings, err := Load(path, envOf(env))
			if err == nil {
				t.Fatal("Load succeeded, want an error")
			}
			all := err.Error() + "\n" + strings.Join(warnings, "\n")
			if strings.Contains(all, secret) {
				t.Errorf("the secret shows in:\n%s", all)
			}
		})
	}
}

// TestLoadKeys: a command that needs only some keys loads a file whose
// other keys are incomplete, and still reports the problems of its keys.
func TestLoadKeys(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "farmd.yaml")
	if err := os.WriteFile(path, []byte("twitch:\n  client_id: abc123\nirc:\n  username: my-bot\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, _, err := Load(path, noEnv); err == nil {
		t.Fatal("Load accepted a file without streamers")
	}
	c, _, err := LoadKeys(path, noEnv, "twitch", "state_dir")
	if err != nil {
		t.Fatalf("LoadKeys(twitch, state_dir): %v", err)
	}
	if c.Twitch.ClientID != "abc123" || c.StateDir != dir {
		t.Errorf("got client_id %q state_dir %q, want abc123 and %s", c.Twitch.ClientID, c.StateDir, dir)
	}
	_, _, err = LoadKeys(path, noEnv, "twitch", "irc.username")
	if err == nil || !strings.Contains(err.Error(), "irc.username") || strings.Contains(err.Error(), "streamers") {
		t.Errorf("LoadKeys(twitch, irc.username) = %v, want only the irc.username problem", err)
	}
}

// TestLoadHomePaths checks that ~/ in a path is the home directory, as in
// a shell, for the *_file secrets and state_dir alike.
func TestLoadHomePaths(t *testing.T) {
	home := t.TempDir()
	if err := os.WriteFile(filepath.Join(home, "client_secret"), []byte("s3cr3t\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	path := writeConfig(t, "state_dir: ~/farmd\ntwitch:\n  client_id: abc123\n  client_secret_file: ~/client_secret\nstreamers:\n  - shroud\n", 0o600)
	c, _, err := Load(path, envOf(map[string]string{"HOME": home}))
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	if want := filepath.Join(home, "farmd"); c.StateDir != want {
		t.Errorf("got state_dir %q, want %q", c.StateDir, want)
	}
	if c.Twitch.ClientSecret != "s3cr3t" {
		t.Errorf("got client secret %q, want the one in ~/client_secret", string(c.Twitch.ClientSecret))
	}
}

// TestProblemsSortedByLine checks that problems are listed in the order of
// the file, whichever step found them, and that problems without a line
// (a missing key, the environment) follow in the order they were found.
func TestProblemsSortedByLine(t *testing.T) {
	path := writeConfig(t, strings.Join([]string{
		"poll:",                   // 1
		"  interval: -5s",         // 2
		"irc:",                    // 3
		"  username: my-bot",      // 4
		"  token_file: ${NOPE}/t", // 5
		"  max_channels: 500",     // 6
		"streamers:",              // 7
		"  - Bad Login!",          // 8
		"  - shroud",              // 9
		"http:",                   // 10
		"  listen: nowhere",       // 11
	}, "\n")+"\n", 0o600)
	_, _, err := Load(path, envOf(map[string]string{EnvClientSecret: "has a space"}))
	ce := asConfigError(t, err)
	var got []string
	for _, p := range ce.Problems {
		got = append(got, fmt.Sprintf("%d %s", p.Line, p.Field))
	}
	want := []string{
		"2 poll.interval",
		"4 irc.username",
		"5 irc.token_file",
		"6 irc.max_channels",
		"8 streamers[0]",
		"11 http.listen",
		"0 twitch.client_secret",
		"0 twitch.client_id",
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got problems in the order\n%s\nwant\n%s\n(%v)", strings.Join(got, "\n"), strings.Join(want, "\n"), err)
	}
}

// TestLoadLongListCostsLittlePerEntry: a list of thousands of streamers
// (follows make 2,000 ordinary) is decoded without paying for the entries'
// defaults once per entry, which cost about 10 KB an entry (100 MB for
// 10,000 at start and at every reload) before they were decoded once.
func TestLoadLongListCostsLittlePerEntry(t *testing.T) {
	const n = 2000
	var b strings.Builder
	b.WriteString("twitch:\n  client_id: abc123\n  client_secret: s3cr3t\nirc:\n  username: mybot\n  token: tok3n\nstreamers:\n")
	for i := range n {
		fmt.Fprintf(&b, "  - streamer%d\n", i)
	}
	path := writeConfig(t, b.String(), 0o600)
	load := func() {
		cfg, _, err := Load(path, noEnv)
		if err != nil || len(cfg.Streamers) != n {
			t.Fatalf("Load: %v", err)
		}
	}
	load() // the defaults, decoded once for the process
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	load()
	runtime.ReadMemStats(&after)
	// Measured with this test: 1,140 bytes an entry with the defaults
	// decoded once (the YAML tree and the parser's own work), 11,779
	// before (commit 29562fb).
	if perEntry := (after.TotalAlloc - before.TotalAlloc) / n; perEntry > 4<<10 {
		t.Errorf("loading %d streamers allocated %d bytes an entry, want at most %d", n, perEntry, 4<<10)
	}
}
