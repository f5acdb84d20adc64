package config

import (
	"reflect"
	"testing"
)

// TestRestartNeeded changes each setting in turn and checks that a
// reload applies exactly the documented ones (streamers, follows.*, poll.*,
// irc.max_channels) and names every other as needing a restart.
func TestRestartNeeded(t *testing.T) {
	reloadable := map[string]bool{
		"poll.interval": true, "poll.offline_grace": true, "irc.max_channels": true, "streamers": true,
		"follows.enabled": true, "follows.refresh": true,
	}
	running := withRequired(nil)
	if got := RestartNeeded(&running, &running); got != nil {
		t.Errorf("RestartNeeded of the same config: got %q, want none", got)
	}
	var paths []string
	walk(schema, reflect.ValueOf(&running).Elem(), "", func(f *field, _, _ reflect.Value, path string) bool {
		if f.keys == nil {
			paths = append(paths, path)
		}
		return f.elem == nil
	})
	if len(paths) != 25 {
		t.Fatalf("got %d settings %q, want 25", len(paths), paths)
	}
	for _, path := range paths {
		t.Run(path, func(t *testing.T) {
			loaded := withRequired(nil)
			changeSetting(t, &loaded, path)
			var want []string
			if !reloadable[path] {
				want = []string{path}
			}
			if got := RestartNeeded(&running, &loaded); !reflect.DeepEqual(got, want) {
				t.Errorf("RestartNeeded: got %q, want %q", got, want)
			}
			got := Reloaded(&running, &loaded)
			wantCfg := running
			if reloadable[path] {
				wantCfg = loaded
			}
			if !reflect.DeepEqual(*got, wantCfg) {
				t.Errorf("Reloaded: got %s\nwant %s", showConfig(got), showConfig(&wantCfg))
			}
		})
	}
}

// changeSetting gives the setting at path of c another value; for
// poll.interval, it also switches AutoInterval, which comes with it.
func changeSetting(tb testing.TB, c *Config, path string) {
	tb.Helper()
	found := false
	walk(schema, reflect.ValueOf(c).Elem(), "", func(f *field, v, parent reflect.Value, p string) bool {
		if p != path {
			return true
		}
		found = true
		switch v.Kind() {
		case reflect.String:
			v.SetString(v.String() + "x")
		case reflect.Bool:
			v.SetBool(!v.Bool())
		case reflect.Int, reflect.Int64:
			v.SetInt(v.Int() + 1)
		case reflect.Slice:
			v.Set(reflect.Append(v, reflect.Zero(v.Type().Elem())))
		}
		if f.auto >= 0 {
			parent.Field(f.auto).SetBool(!parent.Field(f.auto).Bool())
		}
		return false
	})
	if !found {
		tb.Fatalf("no setting %s", path)
	}
}
