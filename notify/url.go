package notify

import (
	"errors"
	"fmt"
	"net/url"
	"sort"
	"strconv"
	"strings"
)

// redacted replaces a URL, or any part of one, wherever it would be shown.
const redacted = "[redacted]"

// URL is a shoutrrr service URL ("telegram://TOKEN@telegram?chats=@x"). It
// holds credentials, so every way of formatting or marshalling it (String,
// GoString, fmt verbs, MarshalText, MarshalJSON, and so YAML and zerolog's
// Interface) shows only its service, "telegram://[redacted]", or "" when
// it is empty. Callers get the value with string(u).
type URL string

// String returns "SERVICE://[redacted]", "[redacted]" when the scheme is
// not a plain service name, or "" when u is empty.
func (u URL) String() string {
	if u == "" {
		return ""
	}
	if scheme := u.scheme(); scheme != "" {
		return scheme + "://" + redacted
	}
	return redacted
}

// GoString returns the redacted value as a Go string literal, for %#v.
func (u URL) GoString() string { return strconv.Quote(u.String()) }

// Format redacts u for every fmt verb, including ones such as %x that
// would otherwise print the underlying string.
func (u URL) Format(f fmt.State, verb rune) {
	switch {
	case verb == 'v' && f.Flag('#'), verb == 'q':
		_, _ = f.Write([]byte(u.GoString()))
	default:
		_, _ = f.Write([]byte(u.String()))
	}
}

// MarshalText returns the redacted value.
func (u URL) MarshalText() ([]byte, error) { return []byte(u.String()), nil }

// MarshalJSON returns the redacted value as a JSON string.
func (u URL) MarshalJSON() ([]byte, error) { return []byte(strconv.Quote(u.String())), nil }

// Service is the name of the service the URL addresses: the scheme before
// any "+" ("telegram", "generic" for "generic+https://…"), or "" when the
// URL has no plain scheme.
func (u URL) Service() string {
	s, _, _ := strings.Cut(u.scheme(), "+")
	return s
}

// scheme returns u's scheme in lower case when it is one (letters, digits,
// "+", "-", "." after a letter, followed by "://" or ":"), else "".
func (u URL) scheme() string {
	s, _, ok := strings.Cut(string(u), ":")
	if !ok || s == "" || len(s) > 32 {
		return ""
	}
	for i, r := range s {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z':
		case i > 0 && (r >= '0' && r <= '9' || r == '+' || r == '-' || r == '.'):
		default:
			return ""
		}
	}
	return strings.ToLower(s)
}

// Target is one entry of the config's notify list: where to send, and
// which kinds of events. The config resolves url_file into URL.
type Target struct {
	URL URL
	// Events is the set of kinds sent to URL; the zero set means every
	// kind, as an absent events list does in the config.
	Events Kinds
}

func (t Target) wants(k Kind) bool { return t.Events == 0 || t.Events.Has(k) }

// ValidateURL checks u with shoutrrr's own parser: the service exists and
// accepts the URL's parts. The error never contains u or any part of it.
func ValidateURL(u URL) error {
	if strings.TrimSpace(string(u)) == "" {
		return errors.New("empty URL")
	}
	if _, err := locate(u, nil); err != nil {
		return err
	}
	return nil
}

// Validate checks every target's URL, as ValidateURL does, and returns one
// error per bad URL naming its position ("notify[2].url: …"), joined.
func Validate(targets []Target) error {
	var errs []error
	for i, t := range targets {
		if err := ValidateURL(t.URL); err != nil {
			errs = append(errs, fmt.Errorf("notify[%d].url: %w", i, err))
		}
	}
	return errors.Join(errs...)
}

// scrubber removes every part of one URL from text: the whole URL, its
// user name and password, host, path segments, query values and fragment,
// also in their escaped forms. Services put the URL or parts of it into
// their errors (a Telegram bot token is in the API URL a failed request
// names), so every error from a service goes through one.
type scrubber struct{ secrets []string }

// minSecret is the shortest part scrubbed: shorter parts ("v1", "api") are
// not secrets, and replacing them would garble the rest of the text.
const minSecret = 4

func newScrubber(u URL) scrubber {
	raw := string(u)
	// The pieces of the raw text between delimiters catch parts in the
	// form the user wrote them (a password spelled with %-escapes).
	parts := append([]string{raw}, strings.FieldsFunc(raw, func(r rune) bool {
		return strings.ContainsRune(":/@?&=#,", r)
	})...)
	if p, err := url.Parse(raw); err == nil {
		parts = append(parts, p.Opaque, p.Host, p.Hostname(), p.Fragment)
		if p.User != nil {
			pass, _ := p.User.Password()
			parts = append(parts, p.User.String(), p.User.Username(), pass)
		}
		for _, path := range []string{p.Path, p.EscapedPath(), p.Opaque} {
			parts = append(parts, strings.Split(path, "/")...)
		}
		for _, vs := range p.Query() {
			for _, v := range vs {
				parts = append(parts, v)
				parts = append(parts, strings.Split(v, ",")...)
			}
		}
	}
	// The service's name is no secret ("telegram://TOKEN@telegram"), and
	// scrubbing it would hide which service failed.
	keep := map[string]bool{u.scheme(): true, u.Service(): true}
	seen := map[string]bool{}
	var secrets []string
	add := func(s string) {
		if len(s) < minSecret || seen[s] || keep[strings.ToLower(s)] {
			return
		}
		seen[s] = true
		secrets = append(secrets, s)
	}
	for _, s := range parts {
		s = strings.TrimSpace(s)
		add(s)
		add(url.PathEscape(s))
		add(url.QueryEscape(s))
		if d, err := url.PathUnescape(s); err == nil {
			add(d)
		}
	}
	// Longest first, so a token is replaced whole before a part of it.
	sort.Slice(secrets, func(i, j int) bool { return len(secrets[i]) > len(secrets[j]) })
	return scrubber{secrets: secrets}
}

// text returns s with every secret replaced by "[redacted]".
func (sc scrubber) text(s string) string {
	for _, secret := range sc.secrets {
		s = strings.ReplaceAll(s, secret, redacted)
	}
	return s
}

// err returns err with a scrubbed message, or nil. The result does not
// wrap err: unwrapping would hand the unscrubbed text back.
func (sc scrubber) err(err error) error {
	if err == nil {
		return nil
	}
	return scrubbedError(sc.text(err.Error()))
}

// scrubbedError is an error whose text no longer holds any part of a URL.
type scrubbedError string

func (e scrubbedError) Error() string { return string(e) }
