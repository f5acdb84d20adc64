package config

import (
	"errors"
	"reflect"
	"strings"
	"testing"
	"testing/iotest"
)

// TestParseLiteral checks that Parse decodes over the defaults and leaves
// values as written: normalising, the environment and files are Load's.
func TestParseLiteral(t *testing.T) {
	c, err := Parse(strings.NewReader(`
twitch:
  client_secret_file: ${CREDENTIALS_DIRECTORY}/client_secret
irc:
  username: "#MyBot"
  token: oauth:tok3n
poll:
  interval: 90s
streamers: ["#Shroud", shroud]
`))
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	want := Default()
	want.Twitch.ClientSecretFile = "${CREDENTIALS_DIRECTORY}/client_secret"
	want.IRC.Username = "#MyBot"
	want.IRC.Token = "oauth:tok3n"
	want.Poll.Interval = 90e9
	want.Streamers = PlainStreamers("#Shroud", "shroud")
	if !reflect.DeepEqual(*c, want) {
		t.Errorf("got  %s\nwant %s", showConfig(c), showConfig(&want))
	}
}

// TestParseProblems checks the field, line and wording of decoding
// problems: the user's terms, never a Go type.
func TestParseProblems(t *testing.T) {
	tests := []struct {
		name  string
		input string
		want  []Problem
	}{
		{
			name:  "unknown top-level key",
			input: "twitch: {}\nstreamer: [a]\n",
			want:  []Problem{{Line: 2, Msg: `unknown key "streamer" (did you mean "streamers"?)`}},
		},
		{
			name:  "unknown nested key",
			input: "poll:\n  interval: 1s\n  intervall: 2s\n",
			want:  []Problem{{Line: 3, Msg: `unknown key "intervall" in poll (did you mean "interval"?)`}},
		},
		{
			name:  "wrong types, all reported",
			input: "irc:\n  tls: 1\n  max_channels: 1.5\n  username: [a]\npoll: {interval: 60}\n",
			want: []Problem{
				{Field: "irc.tls", Line: 2, Msg: `expected true or false, got "1"`},
				{Field: "irc.max_channels", Line: 3, Msg: `expected a whole number, got "1.5"`},
				{Field: "irc.username", Line: 4, Msg: `expected a string, got a list`},
				{Field: "poll.interval", Line: 5, Msg: `"60" is not a duration (use e.g. 60s)`},
			},
		},
		{
			name:  "quoted bool is a string",
			input: "irc: {verified_bot: \"true\"}\n",
			want:  []Problem{{Field: "irc.verified_bot", Line: 1, Msg: `expected true or false, got "true"`}},
		},
		{
			name:  "block mapping where a string belongs",
			input: "twitch:\n  client_id:\n    a: b\n",
			want:  []Problem{{Field: "twitch.client_id", Line: 2, Msg: "expected a string, got a mapping"}},
		},
		{
			name:  "streamer neither a login nor a mapping",
			input: "streamers:\n  - a\n  - {b: c}\n  - ~\n",
			want: []Problem{
				{Line: 3, Msg: `unknown key "b" in streamers[1] (known keys: login, presence, offline_grace, notify)`},
				{Field: "streamers[2]", Line: 4, Msg: "expected a Twitch login or a mapping with the keys login, presence, offline_grace, notify, got nothing"},
			},
		},
		{
			name:  "repeated key",
			input: "poll:\n  interval: 1s\n  interval: 2s\n",
			want:  []Problem{{Line: 3, Msg: `key "interval" in poll is repeated (first on line 2)`}},
		},
		{
			name:  "key that is not a name",
			input: "? [a, b]\n: c\n",
			want:  []Problem{{Line: 1, Msg: "a key is a list; keys must be plain names"}},
		},
		{
			name:  "empty",
			input: "",
			want:  []Problem{{Msg: "config file is empty"}},
		},
		{
			name:  "only comments",
			input: "# nothing\n\n",
			want:  []Problem{{Msg: "config file is empty"}},
		},
		{
			name:  "two documents",
			input: "poll: {}\n---\npoll: {}\n",
			want:  []Problem{{Line: 2, Msg: "more than one YAML document (---): the config file must hold exactly one"}},
		},
		{
			name:  "scalar document",
			input: "hello\n",
			want:  []Problem{{Line: 1, Msg: "the top level must be a mapping with the keys state_dir, twitch, irc, poll, http, eventsub, points, notify, streamers, follows, got a string"}},
		},
		{
			name:  "tab indentation",
			input: "poll:\n\tinterval: 1s\n",
			want:  []Problem{{Line: 2, Msg: "invalid YAML: found character that cannot start any token (a tab character: YAML indentation must use spaces)"}},
		},
		{
			name:  "control character",
			input: "irc: {username: \x01}\n",
			want:  []Problem{{Line: 1, Msg: "invalid YAML: control characters are not allowed"}},
		},
		{
			name:  "aliases are followed",
			input: "poll: &p {interval: 5s}\nhttp: *p\n",
			want:  []Problem{{Line: 1, Msg: `unknown key "interval" in http (known keys: listen)`}},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c, err := Parse(strings.NewReader(tc.input))
			if c != nil {
				t.Errorf("got a config with the error")
			}
			ce := asConfigError(t, err)
			if !reflect.DeepEqual(ce.Problems, tc.want) {
				t.Errorf("got  %#v\nwant %#v", ce.Problems, tc.want)
			}
			for _, goType := range []string{"config.", "time.Duration", "[]string", "!!"} {
				if strings.Contains(err.Error(), goType) {
					t.Errorf("error %q shows the internal name %q", err, goType)
				}
			}
		})
	}
}

func TestParseTooLarge(t *testing.T) {
	big := "# " + strings.Repeat("x", MaxFileSize) + "\n"
	_, err := Parse(strings.NewReader(big))
	ce := asConfigError(t, err)
	if len(ce.Problems) != 1 || !strings.Contains(ce.Problems[0].Msg, "larger than") {
		t.Errorf("got %v, want one problem saying the file is too large", err)
	}
}

func TestParseReaderError(t *testing.T) {
	boom := errors.New("boom")
	_, err := Parse(iotest.ErrReader(boom))
	if !errors.Is(err, boom) {
		t.Fatalf("got %v, want an error wrapping the reader's", err)
	}
	var ce *Error
	if errors.As(err, &ce) {
		t.Errorf("got an *Error for a failing reader, want a plain error")
	}
}

func TestProblemString(t *testing.T) {
	tests := []struct {
		p    Problem
		want string
	}{
		{Problem{Field: "poll.interval", Line: 7, Msg: "must be positive, got 0s"}, "line 7: poll.interval: must be positive, got 0s"},
		{Problem{Field: "twitch.client_id", Msg: "required"}, "twitch.client_id: required"},
		{Problem{Line: 3, Msg: `unknown key "x"`}, `line 3: unknown key "x"`},
		{Problem{Msg: "config file is empty"}, "config file is empty"},
	}
	for _, tc := range tests {
		if got := tc.p.String(); got != tc.want {
			t.Errorf("got %q, want %q", got, tc.want)
		}
	}
	err := &Error{Problems: []Problem{tests[0].p, tests[1].p}}
	if got, want := err.Error(), tests[0].want+"\n"+tests[1].want; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}
