package twitch

import "strings"

// LoginFromInput returns the login a user means by s, as people paste one:
// a login, "#login" or "@login", a channel's address (https://twitch.tv/login,
// https://www.twitch.tv/login/, twitch.tv/login?referrer=raid), any of
// them with spaces around. The login is normalised (NormalizeLogin).
// changed reports whether s held more than a login in another case or with
// IRC's '#': the caller should then say which login it read. When s is not
// one of those forms, LoginFromInput returns NormalizeLogin(s) and false,
// for the caller to check (and reject) as a login.
func LoginFromInput(s string) (login string, changed bool) {
	trimmed := strings.TrimSpace(s)
	changed = trimmed != s
	if rest, ok := strings.CutPrefix(trimmed, "@"); ok && rest != "" {
		trimmed, changed = rest, true
	} else if path, ok := channelPath(trimmed); ok {
		path, _, _ = strings.Cut(path, "?")
		path, _, _ = strings.Cut(path, "#")
		path = strings.TrimSuffix(path, "/")
		if path != "" && !strings.Contains(path, "/") {
			trimmed, changed = path, true
		}
	}
	login = NormalizeLogin(trimmed)
	if !ValidLogin(login) {
		return NormalizeLogin(s), false
	}
	return login, changed
}

// GuessLogin returns the login that s, which is not a login in any form
// LoginFromInput accepts, probably holds, or "": the channel of an address
// with more after it (https://twitch.tv/login/videos), or a login between
// brackets or quotes or followed by punctuation. It is for "did you mean"
// hints, never to accept s.
func GuessLogin(s string) string {
	t := strings.TrimSpace(s)
	if path, ok := channelPath(t); ok {
		t, _, _ = strings.Cut(path, "/")
		t, _, _ = strings.Cut(t, "?")
	}
	t = strings.Trim(t, `<>()[]{}"'.,;:!?`+"`")
	t = strings.TrimPrefix(t, "@")
	login := NormalizeLogin(t)
	if !ValidLogin(login) || login == NormalizeLogin(s) {
		return ""
	}
	return login
}

// channelPath returns what follows twitch.tv/ in s, an address on Twitch's
// site with or without scheme and www. or m.
func channelPath(s string) (string, bool) {
	lower := strings.ToLower(s)
	n := 0
	for _, scheme := range []string{"https://", "http://"} {
		if strings.HasPrefix(lower, scheme) {
			n = len(scheme)
			break
		}
	}
	for _, host := range []string{"twitch.tv/", "www.twitch.tv/", "m.twitch.tv/"} {
		if strings.HasPrefix(lower[n:], host) {
			return s[n+len(host):], true
		}
	}
	return "", false
}
