package config

import (
	"reflect"
	"testing"
	"time"

	"github.com/farmd/farmd/twitch"
)

func TestValidate(t *testing.T) {
	tests := []struct {
		name       string
		edit       func(c *Config)
		wantFields []string // fields with a problem, in order; nil means valid
	}{
		{name: "valid", edit: func(*Config) {}},
		{name: "logins checked after normalising", edit: func(c *Config) {
			c.IRC.Username = " #MyBot "
			c.Streamers = PlainStreamers("#Shroud", "shroud", "Summit1G")
		}},
		{name: "oauth prefix allowed", edit: func(c *Config) { c.IRC.Token = "oauth:tok3n" }},
		{name: "secret files count as set", edit: func(c *Config) {
			c.Twitch.ClientSecret, c.Twitch.ClientSecretFile = "", "/run/credentials/farmd/client_secret"
			c.IRC.Token, c.IRC.TokenFile = "", "token"
		}},
		{name: "listen on all interfaces", edit: func(c *Config) { c.HTTP.Listen = ":9090" }},
		{name: "listen on IPv6", edit: func(c *Config) { c.HTTP.Listen = "[::1]:9090" }},
		{name: "URL with trailing slash", edit: func(c *Config) { c.Twitch.HelixURL += "/" }},
		{name: "zero grace", edit: func(c *Config) { c.Poll.OfflineGrace = 0 }},
		{name: "max channels bounds", edit: func(c *Config) { c.IRC.MaxChannels = 1 }},
		{name: "everything missing", edit: func(c *Config) { *c = Default() }, wantFields: []string{
			"twitch.client_id", "streamers", // no secrets: a public application with a stored token needs none
		}},
		{name: "static token without its login", edit: func(c *Config) { c.IRC.Username = "" }, wantFields: []string{"irc.username"}},
		{name: "both secret and file", edit: func(c *Config) {
			c.Twitch.ClientSecretFile = "x"
			c.IRC.TokenFile = "y"
		}, wantFields: []string{"twitch.client_secret", "irc.token"}},
		{name: "bad values", edit: func(c *Config) {
			c.Twitch.ClientID = "abc 123"
			c.Twitch.AuthURL = "id.twitch.tv"
			c.Twitch.HelixURL = "https://user:pw@api.twitch.tv/helix"
			c.IRC.Username = "my-bot"
			c.IRC.Token = "oauth:"
			c.IRC.Address = ":6697"
			c.IRC.MaxChannels = 101
			c.Poll.Interval = 0
			c.Poll.OfflineGrace = -time.Second
			c.HTTP.Listen = "localhost"
			c.Streamers = PlainStreamers("ok", "", "x y", "#")
		}, wantFields: []string{
			"twitch.client_id", "twitch.auth_url", "twitch.helix_url",
			"irc.username", "irc.token", "irc.address", "irc.max_channels",
			"poll.interval", "poll.offline_grace", "http.listen",
			"streamers[1]", "streamers[2]", "streamers[3]",
		}},
		{name: "followed channels instead of a list", edit: func(c *Config) {
			c.Streamers, c.Follows.Enabled = nil, true
		}},
		{name: "per-streamer settings", edit: func(c *Config) {
			zero := time.Duration(0)
			c.Streamers = []Streamer{{Login: "a", Presence: PresenceAlways, OfflineGrace: &zero}, {Login: "b", Presence: PresenceNever}}
		}},
		{name: "bad per-streamer settings", edit: func(c *Config) {
			neg := -time.Second
			c.Streamers = []Streamer{
				{Login: "a", Presence: "sometimes", OfflineGrace: &neg},
				{Login: "b b", Presence: "x"},
			}
			c.Follows.Refresh = 0
		}, wantFields: []string{
			"streamers[0].presence", "streamers[0].offline_grace", "streamers[1]", "streamers[1].presence", "follows.refresh",
		}},
		{name: "control character in token", edit: func(c *Config) { c.IRC.Token = "tok\r\nQUIT" }, wantFields: []string{"irc.token"}},
		{name: "negative max channels", edit: func(c *Config) { c.IRC.MaxChannels = -1 }, wantFields: []string{"irc.max_channels"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := withRequired(nil)
			tc.edit(&c)
			err := c.Validate()
			if tc.wantFields == nil {
				if err != nil {
					t.Fatalf("Validate: %v", err)
				}
				return
			}
			ce := asConfigError(t, err)
			var got []string
			for _, p := range ce.Problems {
				got = append(got, p.Field)
				if p.Line != 0 {
					t.Errorf("got line %d for %s, want 0 outside Load", p.Line, p.Field)
				}
			}
			if !reflect.DeepEqual(got, tc.wantFields) {
				t.Errorf("got problems\n%v\nwant fields %q", err, tc.wantFields)
			}
		})
	}
}

func TestNormalizeLogin(t *testing.T) {
	tests := []struct {
		in, want string
		valid    bool
	}{
		{"shroud", "shroud", true},
		{"#Shroud", "shroud", true},
		{"  #xQc ", "xqc", true},
		{"##double", "#double", false},
		{"a_b_9", "a_b_9", true},
		{"", "", false},
		{"bad login", "bad login", false},
		{"abcdefghijklmnopqrstuvwxy", "abcdefghijklmnopqrstuvwxy", true},
		{"abcdefghijklmnopqrstuvwxyz", "abcdefghijklmnopqrstuvwxyz", false},
		{"ünïcode", "ünïcode", false},
	}
	for _, tc := range tests {
		if got := twitch.NormalizeLogin(tc.in); got != tc.want {
			t.Errorf("NormalizeLogin(%q) = %q, want %q", tc.in, got, tc.want)
		}
		if got := validLogin(tc.in); got != tc.valid {
			t.Errorf("validLogin(%q) = %v, want %v", tc.in, got, tc.valid)
		}
	}
}
