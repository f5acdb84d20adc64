package irc

import (
	"slices"
	"strings"
	"testing"
)

func TestParseLine(t *testing.T) {
	tests := []struct {
		name string
		line string
		want inbound
		ok   bool
	}{
		{"server ping", "PING :tmi.twitch.tv", inbound{kind: inPing, text: "tmi.twitch.tv"}, true},
		{"ping payload with spaces kept whole", "PING :a b c", inbound{kind: inPing, text: "a b c"}, true},
		{"ping with a bare CR cut there", "PING :abc\rPRIVMSG #x :hi", inbound{kind: inPing, text: "abc"}, true},
		{"welcome", ":tmi.twitch.tv 001 farmbot :Welcome, GLHF!", inbound{kind: inWelcome}, true},
		{"reconnect", ":tmi.twitch.tv RECONNECT", inbound{kind: inReconnect}, true},
		{"own join", ":farmbot!farmbot@farmbot.tmi.twitch.tv JOIN #Chan", inbound{kind: inJoin, channel: "chan"}, true},
		{"own join, nick in another case", ":FarmBot!FarmBot@farmbot.tmi.twitch.tv JOIN #chan", inbound{kind: inJoin, channel: "chan"}, true},
		{"someone else's join", ":viewer!viewer@viewer.tmi.twitch.tv JOIN #chan", inbound{}, false},
		{"own part", ":farmbot!farmbot@farmbot.tmi.twitch.tv PART #chan", inbound{kind: inPart, channel: "chan"}, true},
		{
			"channel notice with msg-id",
			"@msg-id=msg_channel_suspended :tmi.twitch.tv NOTICE #gone :This channel has been suspended.",
			inbound{kind: inNotice, channel: "gone", msgID: "msg_channel_suspended", text: "This channel has been suspended."}, true,
		},
		{"login notice", ":tmi.twitch.tv NOTICE * :Login authentication failed", inbound{kind: inNotice, channel: "*", text: "Login authentication failed"}, true},
		{"notice without params", ":tmi.twitch.tv NOTICE", inbound{}, false},
		{"privmsg dropped", "@badge-info=;color= :a!a@a.tmi.twitch.tv PRIVMSG #chan :PING :x", inbound{}, false},
		{"usernotice dropped", "@msg-id=sub :tmi.twitch.tv USERNOTICE #chan :hi", inbound{}, false},
		{"pong dropped", ":tmi.twitch.tv PONG tmi.twitch.tv :farmd", inbound{}, false},
		{"empty", "", inbound{}, false},
		{"tags only", "@a=b", inbound{}, false},
		{"source only", ":tmi.twitch.tv", inbound{}, false},
		{"invalid utf-8", "\xff\xfe JOIN \xff", inbound{}, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := parseLine([]byte(tc.line), testUser)
			if ok != tc.ok || got != tc.want {
				t.Fatalf("parseLine(%q) = %+v, %v; want %+v, %v", tc.line, got, ok, tc.want, tc.ok)
			}
		})
	}
}

// FuzzHandleLine checks farmd's handling of any server line: no panic, and
// whatever it acts on is safe to act on (no CR/LF or oversize in a PONG, a
// lowercase channel for JOIN/PART).
func FuzzHandleLine(f *testing.F) {
	for _, s := range []string{
		"PING :tmi.twitch.tv",
		":tmi.twitch.tv 001 farmbot :Welcome, GLHF!",
		":farmbot!farmbot@farmbot.tmi.twitch.tv JOIN #chan",
		"@msg-id=msg_banned :tmi.twitch.tv NOTICE #chan :You are permanently banned.",
		":tmi.twitch.tv NOTICE * :Login authentication failed",
		":tmi.twitch.tv NOTICE",
		":tmi.twitch.tv RECONNECT",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, line []byte) {
		in, ok := parseLine(line, testUser)
		if !ok {
			if in != (inbound{}) {
				t.Fatalf("ignored line returned %+v", in)
			}
			return
		}
		switch in.kind {
		case inPing:
			if strings.ContainsAny(in.text, "\r\n\x00") || len(in.text) > maxPingPayload {
				t.Fatalf("unsafe PING payload %q", in.text)
			}
		case inJoin, inPart:
			if in.channel == "" || in.channel != strings.ToLower(in.channel) {
				t.Fatalf("bad channel %q", in.channel)
			}
		case inWelcome, inReconnect, inNotice:
		default:
			t.Fatalf("unexpected kind %d", in.kind)
		}
	})
}

func TestBatch(t *testing.T) {
	many := make([]string, 100)
	for i := range many {
		many[i] = strings.Repeat(string(rune('a'+i%26)), 25) // longest Twitch login
	}
	tests := []struct {
		name      string
		channels  []string
		wantLines int
	}{
		{"none", nil, 0},
		{"one", []string{"alpha"}, 1},
		{"a few share a line", []string{"alpha", "beta", "gamma"}, 1},
		{"100 long logins split under 512 bytes", many, 6},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			lines := batch("JOIN", tc.channels)
			if len(lines) != tc.wantLines {
				t.Fatalf("got %d lines, want %d: %q", len(lines), tc.wantLines, lines)
			}
			var got []string
			for _, l := range lines {
				if len(l)+2 > 512 {
					t.Fatalf("line of %d bytes with CR LF, want <= 512", len(l)+2)
				}
				rest, ok := strings.CutPrefix(l, "JOIN #")
				if !ok {
					t.Fatalf("line %q does not start with JOIN #", l)
				}
				got = append(got, strings.Split(rest, ",#")...)
			}
			if len(tc.channels) > 0 && !slices.Equal(got, tc.channels) {
				t.Fatalf("channels %q, want %q in order", got, tc.channels)
			}
		})
	}
}

// BenchmarkParseLinePrivmsg measures the cost of a chat line farmd ignores:
// it must not allocate.
func BenchmarkParseLinePrivmsg(b *testing.B) {
	line := []byte("@badge-info=subscriber/12;badges=subscriber/12,premium/1;color=#1E90FF;display-name=Viewer;" +
		"emotes=;id=8d3c7a6e-1f2b-4c5d-9e8f-000000000001;mod=0;room-id=12345;subscriber=1;tmi-sent-ts=1700000000000;" +
		"turbo=0;user-id=98765;user-type= :viewer!viewer@viewer.tmi.twitch.tv PRIVMSG #chan :Kappa hello PogChamp")
	b.ReportAllocs()
	for b.Loop() {
		if _, ok := parseLine(line, testUser); ok {
			b.Fatal("PRIVMSG was not ignored")
		}
	}
}

func TestParseLinePrivmsgDoesNotAllocate(t *testing.T) {
	line := []byte("@color=#1E90FF;id=1 :viewer!viewer@viewer.tmi.twitch.tv PRIVMSG #chan :hello")
	if n := testing.AllocsPerRun(100, func() { parseLine(line, testUser) }); n != 0 {
		t.Fatalf("parseLine allocated %.0f times per PRIVMSG, want 0", n)
	}
}
