package main

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/farmd/farmd/internal/testkit"
	"github.com/farmd/farmd/irc/irctest"
)

// TestDemo runs --demo in-process until it has joined a channel and been
// refused one, then stops it.
func TestDemo(t *testing.T) {
	var stdout, stderr testkit.LogBuffer
	signals := make(chan os.Signal, 1)
	done := make(chan int, 1)
	go func() {
		done <- run(context.Background(), environment{
			args: []string{"--demo", "--log-format", "json"}, getenv: func(string) string { return "" },
			stdout: &stdout, stderr: &stderr, signals: signals,
		})
	}()
	testkit.Eventually(t, "the demo to log in, join a channel and skip the banned one", func() bool {
		log := stderr.String()
		return strings.Contains(log, `"message":"joined"`) && strings.Contains(log, "twitch refuses this channel") &&
			strings.Contains(log, "twitch does not know this login")
	})
	// The demo's token lives 12 s and is renewed with 3 s left: on a
	// loaded machine that may take longer than one wait.
	for deadline := time.Now().Add(3 * waitMax); !strings.Contains(stderr.String(), `"message":"user token refreshed"`); time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the demo never renewed its token")
		}
	}
	if out := stdout.String(); !strings.Contains(out, "Logged in as farmd_demo") {
		t.Errorf("the demo's output does not show the login:\n%s", out)
	}
	signals <- syscall.SIGTERM
	select {
	case code := <-done:
		if code != exitOK {
			t.Fatalf("exit code %d, want 0", code)
		}
	case <-time.After(waitMax):
		t.Fatal("demo did not stop")
	}
}

// TestBinary builds the real farmd binary and drives it with real signals:
// SIGHUP adds a streamer without reconnecting, SIGTERM parts and exits 0.
func TestBinary(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	gobin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go toolchain on PATH to build the binary")
	}
	bin := filepath.Join(t.TempDir(), "farmd")
	build := exec.Command(gobin, "build", "-o", bin, ".")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}

	w := newWorld(t, irctest.Options{})
	w.add(true, "alice", "bob")
	c := cfg{streamers: []string{"alice"}, interval: "100ms"}
	path := filepath.Join(t.TempDir(), "farmd.yaml")
	writeFile(t, path, w.yaml(c))
	var stderr testkit.LogBuffer
	cmd := exec.Command(bin, "--config", path, "--log-format", "json")
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	defer func() {
		if cmd.ProcessState == nil {
			cmd.Process.Kill()
			<-exited
		}
	}()
	p := &proc{tb: t, stderr: testkit.LogBuffer{}}
	w.waitJoined(t, p, "alice")

	c.streamers = []string{"alice", "bob"}
	writeFile(t, path, w.yaml(c))
	if err := cmd.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	w.waitJoined(t, p, "alice", "bob")
	if n := w.chat.Connections(); n != 1 {
		t.Errorf("%d connections after SIGHUP, want 1", n)
	}

	start := time.Now()
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-exited:
		var exitErr *exec.ExitError
		if errors.As(err, &exitErr) {
			t.Fatalf("exit code %d, want 0; log:\n%s", exitErr.ExitCode(), testkit.Tail(stderr.String(), 20))
		} else if err != nil {
			t.Fatal(err)
		}
	case <-time.After(waitMax):
		t.Fatal("farmd did not exit after SIGTERM")
	}
	t.Logf("SIGTERM to exit: %v", time.Since(start))
	got := w.parts()
	slices.Sort(got)
	if len(got) == 0 || !strings.Contains(strings.Join(got, ","), "alice") || !strings.Contains(strings.Join(got, ","), "bob") {
		t.Errorf("PART lines %q, want alice and bob parted", got)
	}
}
