package config

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"unicode"
)

// loginRE is what Twitch accepts as a login.
var loginRE = regexp.MustCompile(`^[a-zA-Z0-9_]{1,25}$`)

const loginRule = "is not a valid Twitch login (1-25 letters, digits or underscores)"

// NormalizeLogin returns the canonical form of a Twitch login or channel
// name: spaces trimmed, one leading '#' removed, lowercased.
func NormalizeLogin(s string) string {
	s = strings.TrimSpace(s)
	s = strings.TrimPrefix(s, "#")
	return strings.ToLower(s)
}

// ValidLogin reports whether s, once normalised, is a valid Twitch login.
func ValidLogin(s string) bool {
	return loginRE.MatchString(NormalizeLogin(s))
}

// Validate checks c and returns an *Error listing every problem, or nil.
// Logins are checked in their normalised form, so "#Shroud" passes. A
// secret counts as set when either it or its *_file is set (Validate reads
// no files and no environment); both set is an error.
func (c *Config) Validate() error {
	ps := &problems{}
	validate(c, nil, ps)
	return ps.err()
}

// validate adds c's problems to ps, skipping fields that already have one.
// lines, which may be nil, gives the line of each field.
func validate(c *Config, lines map[string]int, ps *problems) {
	add := func(field, format string, args ...any) {
		ps.addNew(Problem{Field: field, Line: lines[field], Msg: fmt.Sprintf(format, args...)})
	}

	switch id := strings.TrimSpace(c.Twitch.ClientID); {
	case id == "":
		add("twitch.client_id", "required (the Client ID of your application at dev.twitch.tv/console)")
	case hasSpaceOrControl(id):
		add("twitch.client_id", "must not contain spaces or control characters")
	}
	secrets := secretsOf(c)
	validateSecret(add, secrets[0], false)
	validateURL(add, "twitch.auth_url", c.Twitch.AuthURL)
	validateURL(add, "twitch.helix_url", c.Twitch.HelixURL)

	switch u := c.IRC.Username; {
	case strings.TrimSpace(u) == "":
		add("irc.username", "required (the login of the chat account)")
	case !ValidLogin(u):
		add("irc.username", "%s %s", quote(u), loginRule)
	}
	validateSecret(add, secrets[1], true)
	if err := checkHostPort(c.IRC.Address, false); err != "" {
		add("irc.address", "%s is not host:port (e.g. %s): %s", quote(c.IRC.Address), DefaultIRCAddress, err)
	}
	if m := c.IRC.MaxChannels; m < 1 || m > MaxChannelsLimit {
		add("irc.max_channels", "must be between 1 and %d (Twitch's limit of channels joined at once), got %d", MaxChannelsLimit, m)
	}

	if !c.Poll.AutoInterval && c.Poll.Interval <= 0 {
		add("poll.interval", "must be positive, got %s", c.Poll.Interval)
	}
	if c.Poll.OfflineGrace < 0 {
		add("poll.offline_grace", "must not be negative, got %s", c.Poll.OfflineGrace)
	}

	if l := c.HTTP.Listen; l != "" {
		if err := checkHostPort(l, true); err != "" {
			add("http.listen", "%s is not host:port or :port (e.g. 127.0.0.1:9090): %s", quote(l), err)
		}
	}

	if len(c.Streamers) == 0 {
		add("streamers", "at least one streamer is required (a list of Twitch logins)")
	}
	for i, s := range c.Streamers {
		if !ValidLogin(s) {
			add(fmt.Sprintf("streamers[%d]", i), "%s %s", quote(s), loginRule)
		}
	}
}

// validateSecret checks one secret and its *_file. The value is never put
// in a message.
func validateSecret(add func(field, format string, args ...any), s secretSource, oauth bool) {
	switch value, file := *s.value, *s.file; {
	case value != "" && file != "":
		add(s.field, "set only one of %s and %s", s.key, s.fileKey)
	case value == "" && file == "":
		add(s.field, "required (set %s, %s, or the environment variable %s)", s.key, s.fileKey, s.env)
	case value != "":
		v := string(value)
		if oauth {
			v = stripOAuth(v)
		}
		if msg := checkSecretValue(v); msg != "" {
			add(s.field, "%s", msg)
		}
	}
}

// checkSecretValue says what is wrong with a secret, without showing it.
func checkSecretValue(v string) string {
	switch {
	case v == "":
		return "is empty"
	case hasSpaceOrControl(v):
		return "contains spaces, line breaks or control characters"
	}
	return ""
}

// stripOAuth removes the "oauth:" prefix IRC passwords carry, in any case.
func stripOAuth(v string) string {
	const prefix = "oauth:"
	if len(v) >= len(prefix) && strings.EqualFold(v[:len(prefix)], prefix) {
		return v[len(prefix):]
	}
	return v
}

func hasSpaceOrControl(s string) bool {
	return strings.IndexFunc(s, func(r rune) bool {
		return unicode.IsSpace(r) || unicode.IsControl(r) || r == unicode.ReplacementChar
	}) >= 0
}

// validateURL checks an API base URL: absolute http or https, with a host
// and without query, fragment or credentials.
func validateURL(add func(field, format string, args ...any), field, raw string) {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.Opaque != "" {
		add(field, "%s is not an absolute http(s) URL (e.g. %s)", quote(redactURL(raw)), defaultFor(field))
		return
	}
	switch {
	case u.User != nil:
		add(field, "%s must not hold credentials", quote(u.Redacted()))
	case u.RawQuery != "" || u.ForceQuery || u.Fragment != "":
		add(field, "%s must not have a query or fragment", quote(u.Redacted()))
	}
}

// redactURL hides userinfo in a URL that may not parse.
func redactURL(raw string) string {
	if u, err := url.Parse(raw); err == nil {
		return u.Redacted()
	}
	if at := strings.LastIndex(raw, "@"); at >= 0 {
		if scheme := strings.Index(raw, "://"); scheme >= 0 && scheme < at {
			return raw[:scheme+3] + "xxxxx" + raw[at:]
		}
	}
	return raw
}

func defaultFor(field string) string {
	if field == "twitch.auth_url" {
		return DefaultAuthURL
	}
	return DefaultHelixURL
}

// checkHostPort checks a host:port address and returns what is wrong, or
// "". emptyHost allows ":port" (listen on every interface).
func checkHostPort(addr string, emptyHost bool) string {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		var ae *net.AddrError
		if errors.As(err, &ae) {
			return ae.Err
		}
		return "cannot split host and port"
	}
	if host == "" && !emptyHost {
		return "missing host"
	}
	if hasSpaceOrControl(host) {
		return "host has spaces or control characters"
	}
	n, err := strconv.Atoi(port)
	if err != nil || n < 1 || n > 65535 {
		return "port must be a number from 1 to 65535"
	}
	return ""
}
