package config

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

func TestSecretRedaction(t *testing.T) {
	const clientSecret, token = "cl1entS3cret", "t0kenValue"
	c := withRequired(func(c *Config) {
		c.Twitch.ClientSecret = clientSecret
		c.IRC.Token = token
	})
	jsonOf := func(v any) string {
		b, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	yamlOf := func(v any) string {
		b, err := yaml.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	tests := []struct {
		name string
		got  string
	}{
		{"%v", fmt.Sprintf("%v", c)},
		{"%+v", fmt.Sprintf("%+v", c)},
		{"%#v", fmt.Sprintf("%#v", c)},
		{"%v pointer", fmt.Sprintf("%v", &c)},
		{"%s secret", fmt.Sprintf("%s", c.IRC.Token)},
		{"%q secret", fmt.Sprintf("%q", c.IRC.Token)},
		{"%x secret", fmt.Sprintf("%x", c.IRC.Token)},
		{"%d secret", fmt.Sprintf("%d", c.IRC.Token)},
		{"%#v secret", fmt.Sprintf("%#v", c.IRC.Token)},
		{"Println", fmt.Sprintln(c.Twitch.ClientSecret, c.IRC)},
		{"json.Marshal", jsonOf(c)},
		{"yaml.Marshal", yamlOf(c)},
		{"error wrapping", fmt.Errorf("login with %v: %w", c.IRC.Token, fmt.Errorf("bad")).Error()},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			for _, s := range []string{clientSecret, token, fmt.Sprintf("%x", token)} {
				if strings.Contains(tc.got, s) {
					t.Errorf("got %q, which shows a secret", tc.got)
				}
			}
			if !strings.Contains(tc.got, "[redacted]") {
				t.Errorf("got %q, want it to say [redacted]", tc.got)
			}
		})
	}
}

func TestSecretForms(t *testing.T) {
	tests := []struct {
		s                            Secret
		wantString, wantGo, wantJSON string
	}{
		{"abc", "[redacted]", `"[redacted]"`, `"[redacted]"`},
		{"", "", `""`, `""`},
	}
	for _, tc := range tests {
		if got := tc.s.String(); got != tc.wantString {
			t.Errorf("String() = %q, want %q", got, tc.wantString)
		}
		if got := fmt.Sprintf("%#v", tc.s); got != tc.wantGo {
			t.Errorf("%%#v = %q, want %q", got, tc.wantGo)
		}
		if got, _ := tc.s.MarshalText(); string(got) != tc.wantString {
			t.Errorf("MarshalText() = %q, want %q", got, tc.wantString)
		}
		if got, _ := json.Marshal(tc.s); string(got) != tc.wantJSON {
			t.Errorf("json.Marshal = %s, want %s", got, tc.wantJSON)
		}
	}
	if got := string(Secret("abc")); got != "abc" {
		t.Errorf("string(s) = %q, want the value", got)
	}
}
