package notify

import (
	"strings"
	"testing"
	"time"
)

func TestEventText(t *testing.T) {
	expires := time.Date(2024, 1, 2, 15, 4, 0, 0, time.FixedZone("CET", 3600))
	tests := []struct {
		name string
		ev   Event
		kind Kind
		want string
	}{
		{"live full", Live{Login: "shroud", Title: "ranked grind", Game: "Counter-Strike", Viewers: 12345, ViewersKnown: true}, KindLive,
			`shroud is live: "ranked grind" (Counter-Strike, 12345 viewers) https://twitch.tv/shroud`},
		{"live one viewer", Live{Login: "a", Viewers: 1, ViewersKnown: true}, KindLive, "a is live (1 viewer) https://twitch.tv/a"},
		{"live zero viewers known", Live{Login: "a", Game: "Chess", ViewersKnown: true}, KindLive, "a is live (Chess, 0 viewers) https://twitch.tv/a"},
		{"live nothing known", Live{Login: "a"}, KindLive, "a is live https://twitch.tv/a"},
		{"live title on one line", Live{Login: "a", Title: "day 3\n\tof   \"speedruns\""}, KindLive,
			`a is live: "day 3 of \"speedruns\"" https://twitch.tv/a`},
		{"live long title", Live{Login: "a", Title: strings.Repeat("é", 200)}, KindLive,
			`a is live: "` + strings.Repeat("é", 119) + `…" https://twitch.tv/a`},
		{"offline", Offline{Login: "shroud", Duration: 3*time.Hour + 12*time.Minute + 20*time.Second, Present: 3*time.Hour + 5*time.Minute}, KindOffline,
			"shroud went offline after 3h12m; farmd was in its chat for 3h05m"},
		{"offline short", Offline{Login: "a", Duration: 45 * time.Minute, Present: 20 * time.Second}, KindOffline,
			"a went offline after 45m; farmd was in its chat for less than a minute"},
		{"offline unknown", Offline{Login: "a"}, KindOffline, "a went offline; farmd was not in its chat"},
		{"unavailable", Unavailable{Login: "a", Reason: "banned"}, KindUnavailable, "twitch refused channel a: banned"},
		{"unavailable no reason", Unavailable{Login: "a"}, KindUnavailable, "twitch refused channel a: unavailable"},
		{"token rejected", Token{Problem: TokenRejected}, KindToken, `farmd's IRC token was rejected by Twitch; run "farmd login"`},
		{"token expiring", Token{Problem: TokenExpiring, ExpiresAt: expires}, KindToken,
			`farmd's IRC token expires on 2024-01-02 14:04 UTC; run "farmd login"`},
		{"token expiring unknown", Token{Problem: TokenExpiring}, KindToken, `farmd's IRC token expires soon; run "farmd login"`},
		{"token refresh failed", Token{Problem: TokenRefreshFailed, Reason: "invalid_grant", Command: "farmd login --device"}, KindToken,
			`farmd could not refresh its IRC token (invalid_grant); run "farmd login --device"`},
		{"daemon started", Daemon{State: DaemonStarted, Detail: "v1.2.0"}, KindDaemon, "farmd started (v1.2.0)"},
		{"daemon restarted", Daemon{State: DaemonRestarted}, KindDaemon, "farmd started after an unclean exit"},
		{"daemon stopping", Daemon{State: DaemonStopping, Detail: "SIGTERM"}, KindDaemon, "farmd is stopping (SIGTERM)"},
		{"credit", Credit{Login: "alice", Present: 40*time.Minute + 20*time.Second}, KindCredit, "alice: present 40m0s in the live chat, StreamElements credited no watch time (loyalty may be off there, or the bot ignores this account)"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.ev.Text(); got != tc.want {
				t.Errorf("Text() = %q, want %q", got, tc.want)
			}
			if got := tc.ev.Kind(); got != tc.kind {
				t.Errorf("Kind() = %v, want %v", got, tc.kind)
			}
		})
	}
}

func TestRender(t *testing.T) {
	t.Run("one event is its text", func(t *testing.T) {
		got := render([]Event{Daemon{State: DaemonStarted}})
		if len(got) != 1 || got[0] != (message{text: "farmd started", events: 1}) {
			t.Errorf("got %+v", got)
		}
	})
	t.Run("headers", func(t *testing.T) {
		tests := []struct {
			evs  []Event
			want string
		}{
			{[]Event{Live{Login: "a"}, Live{Login: "b"}}, "2 streamers went live:\n- a is live https://twitch.tv/a\n- b is live https://twitch.tv/b"},
			{[]Event{Offline{Login: "a"}, Offline{Login: "b"}}, "2 streams ended:\n- a went offline; farmd was not in its chat\n- b went offline; farmd was not in its chat"},
			{[]Event{Live{Login: "a"}, Daemon{State: DaemonStarted}}, "2 notifications from farmd:\n- a is live https://twitch.tv/a\n- farmd started"},
		}
		for _, tc := range tests {
			got := render(tc.evs)
			if len(got) != 1 || got[0].text != tc.want || got[0].events != len(tc.evs) {
				t.Errorf("render = %+v, want one message %q", got, tc.want)
			}
		}
	})
	t.Run("long batches split under the limit", func(t *testing.T) {
		var evs []Event
		for i := range 200 {
			evs = append(evs, Live{Login: "streamer" + strings.Repeat("x", i%20), Title: strings.Repeat("t", 100), Game: "Just Chatting"})
		}
		msgs := render(evs)
		total := 0
		for _, m := range msgs {
			if len(m.text) > maxMessage {
				t.Errorf("message of %d bytes, limit %d", len(m.text), maxMessage)
			}
			if lines := strings.Count(m.text, "\n- "); lines != m.events {
				t.Errorf("message with %d lines counts %d events", lines, m.events)
			}
			total += m.events
		}
		if total != len(evs) || len(msgs) < 2 {
			t.Errorf("%d messages carry %d events, want several carrying %d", len(msgs), total, len(evs))
		}
	})
}

func TestKinds(t *testing.T) {
	for k := KindLive; k <= KindCredit; k++ {
		got, err := ParseKind(" " + strings.ToUpper(k.String()) + " ")
		if err != nil || got != k {
			t.Errorf("ParseKind(%q) = %v, %v", k.String(), got, err)
		}
	}
	if _, err := ParseKind("credits"); err == nil || !strings.Contains(err.Error(), "live, offline, unavailable, token, daemon, credit") {
		t.Errorf("ParseKind(credits) error %v, want the accepted names", err)
	}
	all, err := ParseKinds(nil)
	if err != nil || all != AllKinds() || all.String() != "live,offline,unavailable,token,daemon,credit" {
		t.Errorf("ParseKinds(nil) = %v, %v; want every kind", all, err)
	}
	s, err := ParseKinds([]string{"offline", "live"})
	if err != nil || !s.Has(KindLive) || !s.Has(KindOffline) || s.Has(KindDaemon) || s.String() != "live,offline" {
		t.Errorf("ParseKinds = %v, %v", s, err)
	}
	if _, err := ParseKinds([]string{"live", "livee"}); err == nil || !strings.HasPrefix(err.Error(), "events[1]: ") {
		t.Errorf("ParseKinds error %v, want events[1] named", err)
	}
	var k Kind
	if err := k.UnmarshalText([]byte("token")); err != nil || k != KindToken {
		t.Errorf("UnmarshalText = %v, %v", k, err)
	}
	if b, err := KindDaemon.MarshalText(); err != nil || string(b) != "daemon" {
		t.Errorf("MarshalText = %q, %v", b, err)
	}
	if Kind(0).String() != "kind(0)" || Kinds(0).Has(Kind(0)) {
		t.Error("the zero Kind is not a kind")
	}
}
