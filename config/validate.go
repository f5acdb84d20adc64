package config

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"unicode"

	"github.com/farmd/farmd/twitch"
)

// rule is what a check tag names: how a value is checked, put in its
// canonical form and named in messages.
type rule struct {
	// noun and plural name a value in messages about a list's entries.
	noun, plural string
	// check says what is wrong with a value, as the user wrote it, or "".
	check func(f *field, v reflect.Value) string
	// normalize returns a valid value's canonical form.
	normalize func(string) string
	// warn, if set, says what normalize made of a valid value when the
	// user should hear it (a login read from a pasted address), or "".
	warn func(string) string
	// path marks a file or directory path: Load expands $VAR and ${VAR}
	// in it and resolves it against the config file's directory.
	path bool
	// secret, on a secret's rule, says what is wrong with its value, or
	// "", without showing it.
	secret func(string) string
}

// rules are the checks a check tag may name.
var rules = map[string]*rule{
	// id: an identifier such as the Client ID, spaces around it ignored.
	"id": {check: onString(func(_ *field, s string) string {
		if hasSpaceOrControl(strings.TrimSpace(s)) {
			return "must not contain spaces or control characters"
		}
		return ""
	}), normalize: strings.TrimSpace},
	// login: a Twitch login, in any form twitch.LoginFromInput reads.
	"login": {noun: "a Twitch login", plural: "Twitch logins", check: onString(func(_ *field, s string) string {
		if validLogin(s) {
			return ""
		}
		hint := ""
		if guess := twitch.GuessLogin(s); guess != "" {
			hint = fmt.Sprintf("; did you mean %q?", guess)
		}
		return quote(s) + " is not a valid Twitch login (" + twitch.LoginRule + hint + ")"
	}), normalize: normalizeLogin, warn: func(s string) string {
		if login, changed := twitch.LoginFromInput(s); changed && twitch.ValidLogin(login) {
			return fmt.Sprintf("read %s as the login %q", quote(s), login)
		}
		return ""
	}},
	// url: an API base URL; the default is the example in messages.
	"url": {check: onString(checkURL), normalize: func(s string) string {
		return strings.TrimRight(strings.TrimSpace(s), "/")
	}},
	// wsurl: a WebSocket URL (ws or wss).
	"wsurl": {check: onString(checkWSURL), normalize: strings.TrimSpace},
	// address: a server's host:port; the default is the example.
	"address": {check: onString(func(f *field, s string) string {
		if err := checkHostPort(s, false); err != "" {
			return fmt.Sprintf("%s is not host:port (e.g. %s): %s", quote(s), f.def, err)
		}
		return ""
	}), normalize: strings.TrimSpace},
	// listen: a host:port or :port to listen on; empty means off.
	"listen": {check: onString(func(_ *field, s string) string {
		if s == "" {
			return ""
		}
		if err := checkHostPort(s, true); err != "" {
			return fmt.Sprintf("%s is not host:port or :port (e.g. 127.0.0.1:9090): %s", quote(s), err)
		}
		return ""
	}), normalize: strings.TrimSpace},
	// oauth: a chat token, with or without IRC's "oauth:" prefix.
	"oauth":       {normalize: twitch.StripOAuthPrefix, secret: checkPastedToken},
	"positive":    {check: onDuration(func(d string, n int64) string { return ifTrue(n <= 0, "must be positive, got "+d) })},
	"nonnegative": {check: onDuration(func(d string, n int64) string { return ifTrue(n < 0, "must not be negative, got "+d) })},
	"path":        {path: true},
}

func onString(check func(f *field, s string) string) func(*field, reflect.Value) string {
	return func(f *field, v reflect.Value) string { return check(f, v.String()) }
}

func onDuration(check func(d string, n int64) string) func(*field, reflect.Value) string {
	return func(_ *field, v reflect.Value) string {
		return check(fmt.Sprint(v.Interface()), v.Int())
	}
}

func ifTrue(bad bool, msg string) string {
	if bad {
		return msg
	}
	return ""
}

// validLogin reports whether s, once normalised, is a valid Twitch login:
// the config accepts "#Shroud" for "shroud", and
// "https://www.twitch.tv/shroud" too.
func validLogin(s string) bool {
	return twitch.ValidLogin(normalizeLogin(s))
}

// normalizeLogin is the login rule's canonical form.
func normalizeLogin(s string) string {
	login, _ := twitch.LoginFromInput(s)
	return login
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
	check(schema, reflect.ValueOf(c).Elem(), lines, ps)
	checkBetweenKeys(c, lines, ps)
}

// checkBetweenKeys checks the rules that relate two keys, which no field's
// tags can say. There are two: a static token needs the login it belongs
// to (a stored token knows its own), and streamers may be empty only when
// the followed channels fill it.
func checkBetweenKeys(c *Config, lines map[string]int, ps *problems) {
	if c.IRC.Token != "" && strings.TrimSpace(c.IRC.Username) == "" {
		ps.addNew(Problem{Field: "irc.username", Line: lines["irc"], Msg: "required with irc.token (the login of the chat account the token belongs to)"})
	}
	if len(c.Streamers) == 0 && !c.Follows.Enabled {
		ps.addNew(Problem{Field: "streamers", Line: lines["streamers"], Msg: "at least one streamer is required (a list of Twitch logins), or follows.enabled: true"})
	}
}

// check adds the problems of the struct v, whose schema is s, to ps, in
// the order of the schema.
func check(s *field, v reflect.Value, lines map[string]int, ps *problems) {
	walk(s, v, "", func(f *field, v, parent reflect.Value, path string) bool {
		if msg := checkValue(f, v, parent); msg != "" {
			p := Problem{Field: path, Line: lineOfValue(lines, path), Msg: msg}
			if f.scalarKey {
				// Named as its entry, but a problem of one key: the
				// entry's other keys are still checked.
				ps.addLeaf(p)
			} else {
				ps.addNew(p)
			}
		}
		return true
	})
}

// lineOfValue is the line of the value at path, or, for a key missing
// from a list's entry, the entry's: the user looks for the entry. A key
// missing elsewhere has no line.
func lineOfValue(lines map[string]int, path string) int {
	if l, ok := lines[path]; ok {
		return l
	}
	if parent := parentField(path); strings.HasSuffix(parent, "]") {
		return lines[parent]
	}
	return 0
}

// checkValue says what is wrong with the value v of f, or "". parent is
// the struct holding v, or invalid for a list's entry.
func checkValue(f *field, v, parent reflect.Value) string {
	switch {
	case f.file != nil:
		return checkSecret(f, v.String(), parent.Field(f.file.index).String())
	case f.required != "" && blank(v):
		return f.required
	case f.optional && blank(v):
		return ""
	case f.auto >= 0 && parent.Field(f.auto).Bool():
		return ""
	case v.Kind() == reflect.Pointer && v.IsNil():
		return "" // unset: its user falls back to another setting
	case v.Kind() == reflect.Pointer:
		v = v.Elem()
	case f.placeholder != "" && strings.EqualFold(strings.TrimSpace(v.String()), f.placeholder):
		msg := quote(v.String()) + " is the placeholder from config.example.yaml: replace it with your own value"
		if f.optional {
			msg += ", or remove the key"
		}
		return msg
	}
	if f.rule != nil && f.rule.check != nil {
		if msg := f.rule.check(f, v); msg != "" {
			return msg
		}
	}
	if f.oneof != nil && !slices.Contains(f.oneof, v.String()) {
		return fmt.Sprintf("must be one of %s, got %s", strings.Join(f.oneof, ", "), quote(v.String()))
	}
	if n := v; f.min != nil && n.Int() < int64(*f.min) || f.max != nil && n.Int() > int64(*f.max) {
		return outOfRange(f, n.Int())
	}
	return ""
}

func blank(v reflect.Value) bool {
	switch v.Kind() {
	case reflect.String:
		return strings.TrimSpace(v.String()) == ""
	case reflect.Slice:
		return v.Len() == 0
	}
	return false
}

func outOfRange(f *field, n int64) string {
	var msg string
	switch {
	case f.min != nil && f.max != nil:
		msg = fmt.Sprintf("must be between %d and %d", *f.min, *f.max)
	case f.min != nil:
		msg = fmt.Sprintf("must be at least %d", *f.min)
	default:
		msg = fmt.Sprintf("must be at most %d", *f.max)
	}
	if f.why != "" {
		msg += " (" + f.why + ")"
	}
	return fmt.Sprintf("%s, got %d", msg, n)
}

// checkSecret checks a secret and its *_file. The value is never put in a
// message.
func checkSecret(f *field, value, file string) string {
	switch {
	case value != "" && file != "":
		return fmt.Sprintf("set only one of %s and %s", f.name, f.file.name)
	case value == "" && file == "" && f.optional:
		return ""
	case value == "" && file == "" && f.env != "":
		return fmt.Sprintf("required (set %s, %s, or the environment variable %s)", f.name, f.file.name, f.env)
	case value == "" && file == "":
		return fmt.Sprintf("required (set %s or %s)", f.name, f.file.name)
	case value != "":
		if f.rule != nil && f.rule.secret != nil {
			if msg := f.rule.secret(value); msg != "" {
				return msg
			}
		}
		return checkSecretValue(value, f.normalizer())
	}
	return ""
}

// checkPastedToken recognises the two usual mistakes when a token is copied
// by hand: the whole address the browser was sent to after authorizing
// (http://localhost/#access_token=...&scope=...), and an HTTP header's
// "Bearer " prefix. The message says what to paste instead, and never
// shows the value.
func checkPastedToken(v string) string {
	t := strings.TrimSpace(v)
	if strings.Contains(t, "access_token=") || strings.Contains(t, "://") {
		return "is a whole address, not a token: paste only the text between \"access_token=\" and the next \"&\" (or run `farmd login`, which needs no pasting)"
	}
	if len(t) > 7 && strings.EqualFold(t[:7], "bearer ") {
		return "starts with \"Bearer \": paste the token alone, without that prefix"
	}
	return ""
}

// normalizer returns f's normalisation, or the identity.
func (f *field) normalizer() func(string) string {
	if f.rule != nil && f.rule.normalize != nil {
		return f.rule.normalize
	}
	return func(s string) string { return s }
}

// checkSecretValue says what is wrong with a secret, without showing it.
// It is empty when nothing is left once normalised ("oauth:" alone).
func checkSecretValue(v string, normalize func(string) string) string {
	switch {
	case hasSpaceOrControl(v):
		return "contains spaces, line breaks or control characters"
	case normalize(v) == "":
		return "is empty"
	}
	return ""
}

func hasSpaceOrControl(s string) bool {
	return strings.IndexFunc(s, func(r rune) bool {
		return unicode.IsSpace(r) || unicode.IsControl(r) || r == unicode.ReplacementChar
	}) >= 0
}

// checkURL checks an API base URL: absolute http or https, with a host
// and without query, fragment or credentials.
func checkURL(f *field, raw string) string {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.Opaque != "" {
		return fmt.Sprintf("%s is not an absolute http(s) URL (e.g. %s)", quote(redactURL(raw)), f.def)
	}
	switch {
	case u.User != nil:
		return fmt.Sprintf("%s must not hold credentials", quote(u.Redacted()))
	case u.RawQuery != "" || u.ForceQuery || u.Fragment != "":
		return fmt.Sprintf("%s must not have a query or fragment", quote(u.Redacted()))
	}
	return ""
}

// checkWSURL checks a WebSocket URL: absolute ws or wss, with a host and
// without credentials.
func checkWSURL(f *field, raw string) string {
	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil || (u.Scheme != "ws" && u.Scheme != "wss") || u.Host == "" || u.Opaque != "" {
		return fmt.Sprintf("%s is not an absolute ws(s) URL (e.g. %s)", quote(redactURL(raw)), f.def)
	}
	if u.User != nil {
		return fmt.Sprintf("%s must not hold credentials", quote(u.Redacted()))
	}
	return ""
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
