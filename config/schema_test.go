package config

import (
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/farmd/farmd/twitch"
)

// TestDefault checks the defaults the tags give, and that the ones whose
// home is package twitch come from there.
func TestDefault(t *testing.T) {
	want := Config{
		Twitch:   Twitch{AuthURL: twitch.DefaultAuthURL, HelixURL: twitch.DefaultHelixURL},
		IRC:      IRC{Address: twitch.DefaultIRCAddress, TLS: true, MaxChannels: 100},
		Poll:     Poll{Interval: 60 * time.Second, OfflineGrace: 2 * time.Minute},
		EventSub: EventSub{Enabled: true, WebSocketURL: twitch.DefaultEventSubURL},
		Points:   Points{APIURL: "https://api.streamelements.com/kappa/v2", Every: 30 * time.Minute},
		Follows:  Follows{Refresh: time.Hour},
	}
	if got := Default(); !reflect.DeepEqual(got, want) {
		t.Errorf("got  %+v\nwant %+v", got, want)
	}
}

// TestSchemaEnv checks that the env tags name the documented variables.
func TestSchemaEnv(t *testing.T) {
	got := map[string]string{}
	walk(schema, reflect.ValueOf(Default()), "", func(f *field, _, _ reflect.Value, path string) bool {
		if f.env != "" {
			got[path] = f.env
		}
		return true
	})
	want := map[string]string{"twitch.client_secret": EnvClientSecret, "irc.token": EnvIRCToken}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %v, want %v", got, want)
	}
}

// TestSchemaTagErrors checks that a tag that does not fit its field stops
// the schema from being read, rather than being ignored.
func TestSchemaTagErrors(t *testing.T) {
	tests := []struct {
		name string
		typ  reflect.Type
		want string
	}{
		{"unknown check", reflect.TypeFor[struct {
			A string `yaml:"a" check:"nope"`
		}](), `key "a": unknown check "nope"`},
		{"no yaml tag", reflect.TypeFor[struct{ A string }](), "has no yaml tag"},
		{"secret without file", reflect.TypeFor[struct {
			A Secret `yaml:"a"`
		}](), `key "a": a Secret needs a file sibling`},
		{"file sibling missing", reflect.TypeFor[struct {
			A Secret `yaml:"a" file:"a_file"`
		}](), `file:"a_file" needs a Secret and a string sibling`},
		{"default of the wrong type", reflect.TypeFor[struct {
			A int `yaml:"a" default:"many"`
		}](), `a: expected a whole number, got "many"`},
		{"default on a list", reflect.TypeFor[struct {
			A []string `yaml:"a" default:"x"`
		}](), "a list has no default"},
		{"range on a string", reflect.TypeFor[struct {
			A string `yaml:"a" min:"1"`
		}](), `min:"1" needs a whole number on an int`},
		{"auto without a bool", reflect.TypeFor[struct {
			A time.Duration `yaml:"a" auto:"B"`
		}](), `auto:"B" names no bool field`},
		{"scalar key missing", reflect.TypeFor[struct {
			A []struct {
				B string `yaml:"b"`
			} `yaml:"a" scalar:"c"`
		}](), `scalar:"c" names no plain key`},
		{"dedupe without a key", reflect.TypeFor[struct {
			A []struct {
				B string `yaml:"b"`
			} `yaml:"a" dedupe:""`
		}](), "dedupe needs a list of strings"},
		{"unsupported type", reflect.TypeFor[struct {
			A float64 `yaml:"a"`
		}](), "type float64 is not supported"},
		{"pointer to an unsupported type", reflect.TypeFor[struct {
			A *float64 `yaml:"a"`
		}](), "type *float64 is not supported"},
		{"default on a value that may be unset", reflect.TypeFor[struct {
			A *time.Duration `yaml:"a" default:"1m"`
		}](), "a value that may be unset has no default"},
		{"plain dedupe without a scalar key", reflect.TypeFor[struct {
			A []string `yaml:"a" dedupe:"plain"`
		}](), `dedupe:"plain" needs a list of mappings with a scalar key`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			defer func() {
				r := recover()
				if s, _ := r.(string); !strings.Contains(s, tc.want) {
					t.Errorf("got panic %v, want one containing %q", r, tc.want)
				}
			}()
			s := schemaOf(tc.typ)
			applyDefaults(s, reflect.New(tc.typ).Elem())
		})
	}
}

func TestPlainValues(t *testing.T) {
	d := time.Second
	type inner struct{ P *int }
	n := 1
	for _, c := range []struct {
		name string
		v    any
		want bool
	}{
		{"scalars", struct {
			S string
			B bool
			D time.Duration
		}{"x", true, d}, true},
		{"nil pointer, slice and map", struct {
			P *time.Duration
			L []string
			M map[string]int
		}{}, true},
		{"a time", struct{ T time.Time }{time.Now()}, true},
		{"pointer set", struct{ P *time.Duration }{&d}, false},
		{"slice set", struct{ L []string }{[]string{"a"}}, false},
		{"pointer set in a struct", struct{ I inner }{inner{&n}}, false},
	} {
		if got := plainValues(reflect.ValueOf(c.v)); got != c.want {
			t.Errorf("%s: plainValues = %v, want %v", c.name, got, c.want)
		}
	}
}
