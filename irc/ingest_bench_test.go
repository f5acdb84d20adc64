package irc

import (
	"testing"

	twitchirc "github.com/gempir/go-twitch-irc/v4"
)

// benchPrivmsg is a chat line as Twitch sends it with twitch.tv/tags.
const benchPrivmsg = "@badge-info=subscriber/12;badges=subscriber/12,premium/1;client-nonce=5b1c0f5e8d4f4f3c9a7e0001;" +
	"color=#1E90FF;display-name=viewer1;emotes=25:0-4;first-msg=0;flags=;id=8d3c7a6e-1f2b-4c5d-9e8f-000000000001;mod=0;" +
	"returning-chatter=0;room-id=12345;subscriber=1;tmi-sent-ts=1700000000001;turbo=0;user-id=100001;user-type= " +
	":viewer1!viewer1@viewer1.tmi.twitch.tv PRIVMSG #chat1 :Kappa message number 1 PogChamp"

// benchPrivmsgPlain is the same line without the tags capability.
const benchPrivmsgPlain = ":viewer1!viewer1@viewer1.tmi.twitch.tv PRIVMSG #chat1 :Kappa message number 1 PogChamp"

// BenchmarkClassifyLine measures the per-line work of chat ingest: farmd's
// parseLine (command word only, the line dropped) against go-twitch-irc's
// ParseMessage, which its Client runs on every line whatever callbacks are
// registered, with and without tags. Run with:
//
//	go test -run '^$' -bench BenchmarkClassifyLine ./irc/
func BenchmarkClassifyLine(b *testing.B) {
	for _, tc := range []struct{ name, line string }{{"tags", benchPrivmsg}, {"notags", benchPrivmsgPlain}} {
		b.Run("farmd/"+tc.name, func(b *testing.B) {
			line := []byte(tc.line)
			b.ReportAllocs()
			for b.Loop() {
				if _, ok := parseLine(line, "loadbot"); ok {
					b.Fatal("a PRIVMSG was handed to the manager")
				}
			}
		})
		b.Run("go-twitch-irc/"+tc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, ok := twitchirc.ParseMessage(tc.line).(*twitchirc.PrivateMessage); !ok {
					b.Fatal("not parsed as a PRIVMSG")
				}
			}
		})
	}
}
