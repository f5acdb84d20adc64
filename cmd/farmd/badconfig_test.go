package main

import (
	"bufio"
	"context"
	"errors"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/farmd/farmd/helix"
	"github.com/farmd/farmd/internal/testkit"
	"github.com/farmd/farmd/irc"
)

// countingTransport fails every request and counts it: a bad configuration
// must stop farmd before it makes any.
type countingTransport struct{ n atomic.Int64 }

func (c *countingTransport) RoundTrip(*http.Request) (*http.Response, error) {
	c.n.Add(1)
	return nil, errors.New("network use is forbidden in this test")
}

// wantOf reads a bad-config case's "# want: ..." first line.
func wantOf(tb testing.TB, path string) string {
	tb.Helper()
	f, err := os.Open(path)
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	line, _ := bufio.NewReader(f).ReadString('\n')
	want, ok := strings.CutPrefix(strings.TrimSpace(line), "# want: ")
	if !ok {
		tb.Fatalf("%s: first line must be '# want: <expected error>'", path)
	}
	return want
}

// TestBadConfigsExit2WithoutNetwork runs the real run() on every case of the
// config package's bad-config table, with and without --check: each must exit
// 2, print its expected message and make no connection.
func TestBadConfigsExit2WithoutNetwork(t *testing.T) {
	files, err := filepath.Glob("../../config/testdata/bad/*.yaml")
	if err != nil || len(files) < 15 {
		t.Fatalf("found %d bad-config cases (%v), want at least 15", len(files), err)
	}
	guard, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer guard.Close()
	var dials atomic.Int64
	go func() {
		for {
			c, err := guard.Accept()
			if err != nil {
				return
			}
			dials.Add(1)
			c.Close()
		}
	}()
	transport := &countingTransport{}
	tune := func(t *tuning) {
		t.irc = func(o *irc.Options) { o.Address, o.TLS = guard.Addr().String(), false }
		t.helix = func(o *helix.Options) { o.HTTPClient = &http.Client{Transport: transport} }
	}
	for _, file := range files {
		for _, mode := range []string{"run", "check"} {
			t.Run(filepath.Base(file)+"/"+mode, func(t *testing.T) {
				want := wantOf(t, file)
				var stdout, stderr testkit.LogBuffer
				args := []string{"--config", file, "--log-format", "json"}
				if mode == "check" {
					args = append(args, "--check")
				}
				code := run(context.Background(), environment{
					args:   args,
					getenv: func(string) string { return "" },
					stdout: &stdout, stderr: &stderr,
					signals: make(chan os.Signal),
					tune:    tune,
				})
				if code != exitConfig {
					t.Fatalf("exit code %d, want %d; stderr:\n%s", code, exitConfig, stderr.String())
				}
				if !strings.Contains(stderr.String(), want) {
					t.Errorf("stderr does not contain %q:\n%s", want, stderr.String())
				}
			})
		}
	}
	if n := transport.n.Load() + dials.Load(); n != 0 {
		t.Errorf("%d network connections were attempted, want 0", n)
	}
}

// editedExample writes config.example.yaml with its placeholders set, as
// a user edits it, and returns its path.
func editedExample(tb testing.TB) string {
	tb.Helper()
	data, err := os.ReadFile("../../config.example.yaml")
	if err != nil {
		tb.Fatal(err)
	}
	text := strings.NewReplacer("REPLACE_WITH_YOUR_CLIENT_ID", "abc123", "your_bot_login", "mybot").Replace(string(data))
	path := filepath.Join(tb.TempDir(), "config.yaml")
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
		tb.Fatal(err)
	}
	return path
}

// TestCheckExampleAsShipped checks that --check refuses the example until
// its placeholders are replaced, naming each.
func TestCheckExampleAsShipped(t *testing.T) {
	var stdout, stderr testkit.LogBuffer
	code := run(context.Background(), environment{
		args:   []string{"--config", "../../config.example.yaml", "--check"},
		getenv: func(string) string { return "" },
		stdout: &stdout, stderr: &stderr,
	})
	if code != exitConfig {
		t.Fatalf("exit code %d, want 2; stderr:\n%s", code, stderr.String())
	}
	for _, want := range []string{
		`twitch.client_id: "REPLACE_WITH_YOUR_CLIENT_ID" is the placeholder from config.example.yaml`,
		`irc.username: "your_bot_login" is the placeholder from config.example.yaml`,
	} {
		if !strings.Contains(stderr.String(), want) {
			t.Errorf("stderr does not contain %q:\n%s", want, stderr.String())
		}
	}
}

func TestCheckValidConfig(t *testing.T) {
	var stdout, stderr testkit.LogBuffer
	code := run(context.Background(), environment{
		args: []string{"--config", editedExample(t), "--check"},
		getenv: func(k string) string {
			return map[string]string{"FARMD_CLIENT_SECRET": "s3cret", "FARMD_IRC_TOKEN": "oauth:t0ken"}[k]
		},
		stdout: &stdout, stderr: &stderr,
	})
	if code != exitOK {
		t.Fatalf("exit code %d, want 0; stderr:\n%s", code, stderr.String())
	}
	if !strings.Contains(stdout.String(), "configuration is valid") {
		t.Errorf("stdout %q", stdout.String())
	}
}

func TestUsageErrorsExit2(t *testing.T) {
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"--nope"}, "farmd: unknown flag --nope (see farmd --help)"},
		{[]string{"stray"}, `unexpected argument "stray"`},
		{[]string{"--log-level", "loud"}, `--log-level "loud"`},
		{[]string{"--log-format", "xml"}, `--log-format "xml"`},
		{[]string{"--demo", "--check"}, "cannot be combined"},
		{[]string{"--config", "/does/not/exist.yaml"}, "/does/not/exist.yaml"},
	}
	for _, tc := range tests {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			var stdout, stderr testkit.LogBuffer
			code := run(context.Background(), environment{args: tc.args, getenv: func(string) string { return "" }, stdout: &stdout, stderr: &stderr})
			if code != exitConfig {
				t.Fatalf("exit code %d, want 2", code)
			}
			if !strings.Contains(stderr.String(), tc.want) {
				t.Errorf("stderr %q does not contain %q", stderr.String(), tc.want)
			}
		})
	}
}

func TestVersion(t *testing.T) {
	var stdout, stderr testkit.LogBuffer
	if code := run(context.Background(), environment{args: []string{"--version"}, stdout: &stdout, stderr: &stderr}); code != exitOK {
		t.Fatalf("exit code %d", code)
	}
	if !strings.HasPrefix(stdout.String(), "farmd ") || !strings.Contains(stdout.String(), "go1.") {
		t.Errorf("version output %q", stdout.String())
	}
}
