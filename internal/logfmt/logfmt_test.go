package logfmt

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"
)

// TestJSONDurationsAreSeconds checks that a Dur field is a number of
// seconds in JSON, fractions included.
func TestJSONDurationsAreSeconds(t *testing.T) {
	var buf bytes.Buffer
	l := zerolog.New(&buf)
	l.Info().Dur("retry_in", 1500*time.Millisecond).Dur("offline_grace", time.Hour).Msg("x")
	var got map[string]any
	if err := json.Unmarshal(buf.Bytes(), &got); err != nil {
		t.Fatal(err)
	}
	if got["retry_in"] != 1.5 || got["offline_grace"] != 3600.0 {
		t.Errorf("got retry_in %v offline_grace %v, want 1.5 and 3600 (seconds): %s", got["retry_in"], got["offline_grace"], buf.String())
	}
}

// TestConsoleDurationsAreStrings checks that the console writer shows
// duration fields as Go durations and leaves other numbers alone.
func TestConsoleDurationsAreStrings(t *testing.T) {
	var buf bytes.Buffer
	l := zerolog.New(Console(&buf, false))
	l.Info().Dur("retry_in", 852*time.Millisecond).
		Dur("expires_in", 5184000*time.Second).Int("max_channels", 800).Str("interval", "auto").Msg("x")
	got := buf.String()
	for _, want := range []string{"retry_in=852ms", "expires_in=1440h0m0s", "max_channels=800", "interval=auto"} {
		if !strings.Contains(got, want) {
			t.Errorf("console line %q lacks %q", got, want)
		}
	}
}

// logField is a field in a zerolog call: .Dur("retry_in", ...
var logField = regexp.MustCompile(`\.\s*(Dur|Stringer|Str|Int|Int64|Float64|Uint|Bool|Time|Interface)\("([a-z_]+)"`)

// TestFieldNamesFollowTheRule checks every log call in the tree against
// the package's rule: a Dur field has a duration name, and a duration name
// is logged with Dur only (a Stringer would be a string in JSON, an Int
// would read as seconds or not depending on the caller).
func TestFieldNamesFollowTheRule(t *testing.T) {
	root := filepath.Join("..", "..")
	checked := 0
	err := filepath.WalkDir(root, func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && strings.HasPrefix(d.Name(), ".") && path != root {
			return filepath.SkipDir
		}
		if d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		src, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		for _, m := range logField.FindAllStringSubmatch(string(src), -1) {
			kind, name := m[1], m[2]
			checked++
			if (kind == "Dur") != IsDuration(name) {
				t.Errorf("%s: %s(%q): a duration must be logged with Dur under a name IsDuration accepts, and only then", path, kind, name)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if checked < 50 {
		t.Fatalf("checked %d log fields, want the tree's (at least 50): is the walk rooted right?", checked)
	}
}
