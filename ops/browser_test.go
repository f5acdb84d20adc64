package ops

import (
	"context"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// browsers are the headless browsers the test knows, Debian's first (CI
// installs chromium).
var browsers = []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable"}

// TestStatusPageInBrowser loads the status page in a real headless
// browser: the DOM it renders must carry the text an operator reads, and
// screenshots at desktop and phone sizes go to $FARMD_ARTIFACTS (CI keeps
// them) so that a person can look at the layout.
func TestStatusPageInBrowser(t *testing.T) {
	browser := findBrowser()
	if browser == "" {
		t.Skipf("no headless browser on PATH (looked for %s); CI installs Debian's chromium", strings.Join(browsers, ", "))
	}
	if testing.Short() {
		t.Skip("starts a browser; skipped with -short")
	}
	out := artifactsDir(t)
	w := pageWorld(t)
	srv := httptest.NewServer(w.s.Handler())
	defer srv.Close()
	url := srv.URL + "/"

	dom := runBrowser(t, browser, "--dump-dom", url)
	text := pageText(dom)
	for _, want := range []string{
		"Healthy: ok",
		"alice live in chat since 10:25:00 UTC (1h35m ago)",
		"bob live, waiting for a slot not in chat",
		"carol unavailable until 13:00:00 UTC (in 1h): msg_banned",
		"dave offline, in grace until 12:04:00 UTC (in 4m)",
		"Twitch chat reconnected after 10m0s",
		"Twitch refused #carol: msg_banned",
		"stored token of farmbot, expires in 3h20m",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("the browser's DOM lacks %q", want)
		}
	}
	if strings.Contains(dom, "<script") {
		t.Errorf("the hostile login became a script element in the browser's DOM")
	}

	for _, size := range []struct{ name, window string }{
		{"status-page-desktop.png", "1280,900"},
		{"status-page-phone.png", "390,844"},
	} {
		path := filepath.Join(out, size.name)
		os.Remove(path)
		runBrowser(t, browser, "--screenshot="+path, "--window-size="+size.window, "--hide-scrollbars", url)
		fi, err := os.Stat(path)
		if err != nil {
			t.Fatalf("no screenshot: %v", err)
		}
		// A blank page compresses to a few hundred bytes.
		if fi.Size() < 10<<10 {
			t.Errorf("screenshot %s is %d bytes: blank?", path, fi.Size())
		}
		t.Logf("screenshot: %s", path)
	}
}

// artifactsDir is $FARMD_ARTIFACTS, made; a relative path is taken from
// the module's root (go test runs in the package's directory), so that
// FARMD_ARTIFACTS=.ci/artifacts means the same from anywhere. Without it,
// a temporary directory.
func artifactsDir(tb testing.TB) string {
	tb.Helper()
	out := os.Getenv("FARMD_ARTIFACTS")
	if out == "" {
		return tb.TempDir()
	}
	if !filepath.IsAbs(out) {
		dir, err := os.Getwd()
		if err != nil {
			tb.Fatal(err)
		}
		for {
			if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
				break
			}
			parent := filepath.Dir(dir)
			if parent == dir {
				tb.Fatalf("FARMD_ARTIFACTS=%s is relative and no go.mod is above %s", out, dir)
			}
			dir = parent
		}
		out = filepath.Join(dir, out)
	}
	if err := os.MkdirAll(out, 0o755); err != nil {
		tb.Fatal(err)
	}
	return out
}

func findBrowser() string {
	for _, name := range browsers {
		if path, err := exec.LookPath(name); err == nil {
			return path
		}
	}
	return ""
}

// runBrowser runs the browser headless with args and returns its
// standard output.
func runBrowser(tb testing.TB, browser string, args ...string) string {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	base := []string{
		"--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
		"--no-first-run", "--no-default-browser-check", "--disable-extensions",
		"--user-data-dir=" + tb.TempDir(),
	}
	cmd := exec.CommandContext(ctx, browser, append(base, args...)...)
	var stdout, stderr strings.Builder
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		tb.Fatalf("%s %s: %v\n%s", browser, strings.Join(args, " "), err, stderr.String())
	}
	return stdout.String()
}
