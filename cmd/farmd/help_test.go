package main

import (
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/farmd/farmd/internal/testkit"
)

// runArgs runs farmd's run with args and an empty environment.
func runArgs(tb testing.TB, args ...string) (code int, stdout, stderr string) {
	tb.Helper()
	var out, errOut testkit.LogBuffer
	code = run(context.Background(), environment{args: args, getenv: func(string) string { return "" }, stdout: &out, stderr: &errOut})
	return code, out.String(), errOut.String()
}

// TestHelp checks that --help prints, on stdout, every flag in GNU style
// (two dashes), the subcommands, the environment variables and the exit
// codes, and exits 0.
func TestHelp(t *testing.T) {
	for _, arg := range []string{"--help", "-h"} {
		t.Run(arg, func(t *testing.T) {
			code, stdout, stderr := runArgs(t, arg)
			if code != exitOK {
				t.Fatalf("exit code %d, want 0; stderr:\n%s", code, stderr)
			}
			if stderr != "" {
				t.Errorf("got stderr %q, want nothing (help goes to stdout)", stderr)
			}
			for _, want := range []string{
				"--config FILE", "--check", "--healthcheck", "--demo", "--version",
				"--log-level LEVEL", "--log-format FORMAT", "--help",
				"farmd login", "farmd notify-test",
				"FARMD_CONFIG", "FARMD_CLIENT_SECRET", "FARMD_IRC_TOKEN", "STATE_DIRECTORY", "CREDENTIALS_DIRECTORY",
				"Exit status:", "\n  0 ", "\n  1 ", "\n  2 ",
			} {
				if !strings.Contains(stdout, want) {
					t.Errorf("help does not contain %q:\n%s", want, stdout)
				}
			}
			if m := regexp.MustCompile(`(^|[\s\[(])-[a-z]`).FindString(stdout); m != "" {
				t.Errorf("help has a one-dash option (%q):\n%s", m, stdout)
			}
		})
	}
}

// TestUnknownFlag checks that an unknown flag is one line on stderr,
// pointing at --help, and exit 2.
func TestUnknownFlag(t *testing.T) {
	code, stdout, stderr := runArgs(t, "--bogus")
	if code != exitConfig {
		t.Fatalf("exit code %d, want 2", code)
	}
	if want := "farmd: unknown flag --bogus (see farmd --help)\n"; stderr != want {
		t.Errorf("got stderr %q, want %q", stderr, want)
	}
	if stdout != "" {
		t.Errorf("got stdout %q, want nothing", stdout)
	}
}

// TestNoConfigFile checks what bare farmd says when the default config
// file does not exist: how to name one, the demo, and how to make one.
func TestNoConfigFile(t *testing.T) {
	if _, err := os.Stat(defaultConfig); err == nil {
		t.Skipf("%s exists in %s", defaultConfig, filepath.Dir("."))
	}
	for _, args := range [][]string{nil, {"--check"}} {
		t.Run(strings.Join(append([]string{"farmd"}, args...), " "), func(t *testing.T) {
			code, _, stderr := runArgs(t, args...)
			if code != exitConfig {
				t.Fatalf("exit code %d, want 2; stderr:\n%s", code, stderr)
			}
			for _, want := range []string{"config.yaml does not exist", "--config FILE", "FARMD_CONFIG", "farmd --demo", "cp config.example.yaml config.yaml", "farmd login"} {
				if !strings.Contains(stderr, want) {
					t.Errorf("stderr does not contain %q:\n%s", want, stderr)
				}
			}
			if strings.Contains(stderr, "open config") {
				t.Errorf("stderr has the bare os error:\n%s", stderr)
			}
		})
	}
}

// TestSubcommandHelp: `farmd login --help` and `farmd notify-test --help`
// print on stdout, with GNU-style flags like farmd's own --help, and exit
// 0; an unknown flag exits 2 and says where the help is.
func TestSubcommandHelp(t *testing.T) {
	for _, tc := range []struct {
		cmd   string
		flags []string
	}{
		{"login", []string{"--config FILE", "--log-level LEVEL", "--help"}},
		{"notify-test", []string{"--config FILE", "--help"}},
	} {
		t.Run(tc.cmd, func(t *testing.T) {
			code, stdout, stderr := runArgs(t, tc.cmd, "--help")
			if code != exitOK || stderr != "" {
				t.Fatalf("exit code %d, stderr %q; want 0 and nothing", code, stderr)
			}
			if !strings.HasPrefix(stdout, "Usage: farmd "+tc.cmd) {
				t.Errorf("stdout does not start with the usage line:\n%s", stdout)
			}
			for _, f := range tc.flags {
				if !strings.Contains(stdout, "\n  "+f) {
					t.Errorf("help lacks %q:\n%s", f, stdout)
				}
			}
			if regexp.MustCompile(`(?m)^\s+-[a-z]`).MatchString(stdout) {
				t.Errorf("help has one-dash flags:\n%s", stdout)
			}
			code, _, stderr = runArgs(t, tc.cmd, "--bogus")
			if code != exitConfig || !strings.Contains(stderr, "farmd "+tc.cmd+" --help") {
				t.Errorf("--bogus: exit %d, stderr %q; want 2 and a pointer to --help", code, stderr)
			}
		})
	}
}
