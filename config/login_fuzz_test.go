package config

import (
	"regexp"
	"testing"

	"github.com/farmd/farmd/twitch"
)

// twitchLogin is what farmd may send as a channel name: lowercase ASCII
// letters, digits and underscores, 1 to 25 of them.
var twitchLogin = regexp.MustCompile(`^[a-z0-9_]{1,25}$`)

// FuzzNormalizeLogin checks the promises the rest of farmd relies on: a
// login validLogin accepts (a login, "#login", "@login", a channel's
// address) normalises, by the login rule, to a lowercase ASCII login Twitch can
// take in a JOIN (no '#', no space, no CR/LF that could smuggle an IRC
// command), and normalising it again changes nothing. (NormalizeLogin alone
// is not idempotent: "# x" gives " x"; config validates the raw value, which
// rejects it.) Seeds are in testdata/fuzz/FuzzNormalizeLogin.
func FuzzNormalizeLogin(f *testing.F) {
	for _, s := range []string{"shroud", "#Shroud", " xqc ", "#", "", "a\r\nJOIN #x", "@xqc", "https://www.twitch.tv/Shroud/", "twitch.tv/a\r\n"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		n := normalizeLogin(s)
		if !validLogin(s) {
			return
		}
		if !validLogin(n) {
			t.Fatalf("validLogin(%q) is true but validLogin(NormalizeLogin) = validLogin(%q) is false", s, n)
		}
		if !twitchLogin.MatchString(n) {
			t.Fatalf("validLogin(%q) is true but NormalizeLogin gives %q, not a lowercase Twitch login", s, n)
		}
		if again := twitch.NormalizeLogin(n); again != n {
			t.Fatalf("NormalizeLogin(%q) = %q, not idempotent on valid logins (%q)", s, n, again)
		}
	})
}
