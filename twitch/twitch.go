// Package twitch holds the rules of Twitch's own that several of farmd's
// packages apply: what a login looks like, how a chat token is written and
// where Twitch's services are. Each rule has its home here so that config,
// helix and irc agree; the package imports nothing of farmd's.
package twitch

import "strings"

// The addresses of Twitch's services.
const (
	// DefaultAuthURL is the OAuth base (id.twitch.tv): /token, /validate,
	// /device.
	DefaultAuthURL = "https://id.twitch.tv/oauth2"
	// DefaultHelixURL is the Helix API base.
	DefaultHelixURL = "https://api.twitch.tv/helix"
	// DefaultIRCAddress is Twitch chat over TLS.
	DefaultIRCAddress = "irc.chat.twitch.tv:6697"
	// DefaultEventSubURL is EventSub's WebSocket endpoint.
	DefaultEventSubURL = "wss://eventsub.wss.twitch.tv/ws"
)

// MaxLoginLen is the longest login Twitch allows.
const MaxLoginLen = 25

// LoginRule says in words what ValidLogin accepts, for error messages.
const LoginRule = "1-25 letters, digits or underscores"

// NormalizeLogin returns the canonical form of a Twitch login or channel
// name: spaces trimmed, one leading '#' removed, lowercased. Twitch's logins
// and IRC channel names are lowercase; every comparison in farmd is between
// normalised logins.
func NormalizeLogin(s string) string {
	s = strings.TrimSpace(s)
	s = strings.TrimPrefix(s, "#")
	return strings.ToLower(s)
}

// ValidLogin reports whether s, as given (not normalised), is shaped like a
// Twitch login: 1 to 25 of [A-Za-z0-9_]. Helix rejects a whole /users
// request with 400 when one login is malformed, so a login is checked
// before it is sent.
func ValidLogin(s string) bool {
	if len(s) == 0 || len(s) > MaxLoginLen {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_') {
			return false
		}
	}
	return true
}

// oauthPrefix is what an IRC PASS line puts before a user token.
const oauthPrefix = "oauth:"

// StripOAuthPrefix returns token without surrounding spaces and without one
// "oauth:" prefix, in any case: tokens are stored and sent to Helix bare,
// and IRC adds the prefix itself (ChatPassword).
func StripOAuthPrefix(token string) string {
	token = strings.TrimSpace(token)
	if len(token) >= len(oauthPrefix) && strings.EqualFold(token[:len(oauthPrefix)], oauthPrefix) {
		token = token[len(oauthPrefix):]
	}
	return token
}

// ChatPassword is the PASS argument for token: "oauth:" followed by the
// bare token, whether or not token had the prefix.
func ChatPassword(token string) string {
	return oauthPrefix + StripOAuthPrefix(token)
}
