package config

import (
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

// future has the shapes of keys farmd may grow, each written only as a
// struct field: a path, mappings with defaults, a list of mappings holding
// a secret and a list of enum strings, and a list whose entries are a
// login or a mapping. The tests below run Load's steps on it.
type future struct {
	StateDir  string           `yaml:"state_dir" check:"path"`
	EventSub  futureEventSub   `yaml:"eventsub"`
	Follows   futureFollows    `yaml:"follows"`
	Notify    []futureNotify   `yaml:"notify"`
	Streamers []futureStreamer `yaml:"streamers" scalar:"login" dedupe:"" required:"at least one streamer is required (a list of Twitch logins)"`
}

type futureEventSub struct {
	Enabled      bool   `yaml:"enabled" default:"true"`
	WebSocketURL string `yaml:"websocket_url"`
}

type futureFollows struct {
	Enabled bool          `yaml:"enabled"`
	Refresh time.Duration `yaml:"refresh" default:"1h" check:"positive"`
}

type futureNotify struct {
	URL     Secret   `yaml:"url" file:"url_file"`
	URLFile string   `yaml:"url_file"`
	Events  []string `yaml:"events" oneof:"online|offline|joined" required:"at least one event is required"`
}

type futureStreamer struct {
	Login        string        `yaml:"login" check:"login" required:"required (a Twitch login)"`
	Presence     string        `yaml:"presence" oneof:"live|always|never" default:"live"`
	OfflineGrace time.Duration `yaml:"offline_grace" default:"2m" check:"nonnegative"`
	Notify       bool          `yaml:"notify"`
}

var futureSchema = schemaOf(reflect.TypeFor[future]())

// loadFuture runs Load's steps on text over future's defaults, with the
// config file in dir.
func loadFuture(tb testing.TB, text, dir string, env map[string]string) (*future, []string, error) {
	tb.Helper()
	var f future
	v := reflect.ValueOf(&f).Elem()
	applyDefaults(futureSchema, v)
	_, warnings, ps := load([]byte(text), futureSchema, v, filepath.Join(dir, "config.yaml"), envOf(env), nil)
	return &f, warnings, ps.err()
}

func TestFutureShapesGood(t *testing.T) {
	dir := absTestdata(t, "good") // as if the config file were there
	got, warnings, err := loadFuture(t, `
state_dir: ${STATE}/farmd
follows: {enabled: true}
notify:
  - url_file: ../secrets/client_secret
    events: [online, offline]
streamers:
  - Shroud
  - login: "#Pokimane"
    presence: always
    offline_grace: 0s
  - login: shroud
    notify: true
`, dir, map[string]string{"STATE": "/var/lib"})
	if err != nil {
		t.Fatalf("load: %v", err)
	}
	want := future{
		StateDir: "/var/lib/farmd",
		EventSub: futureEventSub{Enabled: true},
		Follows:  futureFollows{Enabled: true, Refresh: time.Hour},
		Notify:   []futureNotify{{URL: "client-secret-from-file", Events: []string{"online", "offline"}}},
		Streamers: []futureStreamer{
			{Login: "shroud", Presence: "live", OfflineGrace: 2 * time.Minute},
			{Login: "pokimane", Presence: "always"},
		},
	}
	if !reflect.DeepEqual(*got, want) {
		t.Errorf("got  %+v\nwant %+v", *got, want)
	}
	if want := []string{`line 12: streamers[2]: duplicate of "shroud", dropped`}; !reflect.DeepEqual(warnings, want) {
		t.Errorf("got warnings %q, want %q", warnings, want)
	}

	got, _, err = loadFuture(t, "state_dir: state\nstreamers: [a]\n", dir, nil)
	if err != nil {
		t.Fatalf("load: %v", err)
	}
	if want := absTestdata(t, "good", "state"); got.StateDir != want {
		t.Errorf("got state_dir %q, want %q (relative to the config's directory)", got.StateDir, want)
	}
}

// TestFutureShapesBad checks the exact error text, one problem a line, of
// bad values in the shapes of future.
func TestFutureShapesBad(t *testing.T) {
	tests := []struct{ name, input, want string }{
		{"unknown key in an entry", "streamers:\n  - login: a\n    presense: always\n", `
line 3: unknown key "presense" in streamers[0] (did you mean "presence"?)`},
		{"entry neither a login nor a mapping", "streamers:\n  - [a]\n  - ~\n", `
line 2: streamers[0]: expected a Twitch login or a mapping with the keys login, presence, offline_grace, notify, got a list
line 3: streamers[1]: expected a Twitch login or a mapping with the keys login, presence, offline_grace, notify, got nothing`},
		{"repeated key in an entry", "streamers:\n  - {login: a, login: b}\n", `
line 2: key "login" in streamers[0] is repeated (first on line 2)`},
		{"bad values in both forms", "streamers:\n  - bad!\n  - login: ok\n    presence: sometimes\n    offline_grace: -1s\n  - {presence: never}\n", `
line 2: streamers[0]: "bad!" is not a valid Twitch login (1-25 letters, digits or underscores; did you mean "bad"?)
line 4: streamers[1].presence: must be one of live, always, never, got "sometimes"
line 5: streamers[1].offline_grace: must not be negative, got -1s
line 6: streamers[2]: required (a Twitch login)`},
		{"list of mappings", "notify: hook\nstreamers: [a]\n", `
line 1: notify: expected a list of mappings with the keys url, url_file, events, got a string`},
		{"secret and enums in a list's entries", "notify:\n  - events: [online, x]\n  - {url: a, url_file: b, events: []}\nstreamers: [a]\n", `
line 2: notify[0].url: required (set url or url_file)
line 2: notify[0].events[1]: must be one of online, offline, joined, got "x"
line 3: notify[1].url: set only one of url and url_file
line 3: notify[1].events: at least one event is required`},
		{"mappings and a path", "state_dir: ${NOPE}/x\neventsub: {enabled: yes please}\nfollows: {refresh: 0s}\nstreamers: [a]\n", `
line 1: state_dir: "${NOPE}/x" uses $NOPE, which is not set
line 2: eventsub.enabled: expected true or false, got "yes please"
line 3: follows.refresh: must be positive, got 0s`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := loadFuture(t, tc.input, t.TempDir(), nil)
			asConfigError(t, err)
			if want := strings.TrimPrefix(tc.want, "\n"); err.Error() != want {
				t.Errorf("got error\n%v\nwant\n%s", err, want)
			}
		})
	}
}
