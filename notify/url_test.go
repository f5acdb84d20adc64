package notify

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"strings"
	"testing"

	"github.com/rs/zerolog"
)

func TestURLRedacts(t *testing.T) {
	u := URL("telegram://" + telegramToken + "@telegram?chats=@farmdtest")
	const want = "telegram://[redacted]"
	for _, format := range []string{"%v", "%s", "%+v", "%x", "%X", "%d", "%10s", "%-v"} {
		if got := fmt.Sprintf(format, u); got != want {
			t.Errorf("Sprintf(%q) = %q, want %q", format, got, want)
		}
	}
	if got := fmt.Sprintf("%q %#v", u, u); got != `"telegram://[redacted]" "telegram://[redacted]"` {
		t.Errorf("%%q %%#v = %s", got)
	}
	j, _ := json.Marshal(struct{ U URL }{u})
	if string(j) != `{"U":"telegram://[redacted]"}` {
		t.Errorf("JSON %s", j)
	}
	if b, _ := u.MarshalText(); string(b) != want {
		t.Errorf("MarshalText %q", b)
	}
	var buf bytes.Buffer
	log := zerolog.New(&buf)
	log.Info().Interface("u", u).Stringer("s", u).Interface("t", Target{URL: u}).Msg("x")
	if strings.Contains(buf.String(), "AAH") || strings.Contains(buf.String(), "farmdtest") {
		t.Errorf("log has the URL: %s", buf.String())
	}
	for raw, want := range map[string]string{
		"":                         "",
		"generic+https://x/y":      "generic+https://[redacted]",
		"SECRET-no-scheme":         "[redacted]",
		"https://user:pass@host/p": "https://[redacted]",
	} {
		if got := URL(raw).String(); got != want {
			t.Errorf("URL(%q).String() = %q, want %q", raw, got, want)
		}
	}
	if got := URL("Generic+HTTPS://x").Service(); got != "generic" {
		t.Errorf("Service() = %q, want generic", got)
	}
}

// secretParts are the pieces of the test URLs no error may show.
var secretParts = []string{"AAHsecret", "123456789", telegramToken, discordToken, discordID, twilioSID, twilioToken,
	"15550001111", "15550002222", "farmdtest", "hunter2", "s3cr3tpath"}

func assertNoSecret(tb testing.TB, what, text string) {
	tb.Helper()
	for _, s := range secretParts {
		if strings.Contains(text, s) {
			tb.Errorf("%s contains secret %q: %s", what, s, text)
		}
	}
}

func TestValidate(t *testing.T) {
	targets := []Target{
		{URL: "logger://"},
		{URL: URL("telegram://" + telegramToken + "@telegram?chats=@farmdtest")},
		{URL: URL("telegrm://" + telegramToken + "@telegram")},                    // unknown service
		{URL: URL("discord://" + discordToken + "@")},                             // no webhook ID
		{URL: URL("twilio://" + twilioSID + ":" + twilioToken + "@+15550001111")}, // no recipient
		{URL: "ntfy://user:hunter2@ntfy.sh/"},                                     // no topic
		{URL: "http://[::1%en0/s3cr3tpath"},                                       // not a URL
		{URL: "   "},
	}
	err := Validate(targets)
	if err == nil {
		t.Fatal("Validate accepted bad URLs")
	}
	lines := strings.Split(err.Error(), "\n")
	var named []string
	for _, l := range lines {
		named = append(named, strings.SplitN(l, ":", 2)[0])
	}
	if got, want := strings.Join(named, " "), "notify[2].url notify[3].url notify[4].url notify[5].url notify[6].url notify[7].url"; got != want {
		t.Errorf("errors name %q, want %q:\n%v", got, want, err)
	}
	assertNoSecret(t, "Validate error", err.Error())
	if !strings.Contains(err.Error(), `unknown service: "telegrm"`) {
		t.Errorf("the unknown service is not named:\n%v", err)
	}
	for i := range 2 {
		if err := ValidateURL(targets[i].URL); err != nil {
			t.Errorf("ValidateURL(targets[%d]) = %v", i, err)
		}
	}
}

func TestScrubber(t *testing.T) {
	tests := []struct {
		url, text, want string
	}{
		{
			"telegram://" + telegramToken + "@telegram?chats=@farmdtest",
			`sending POST request to "https://api.telegram.org/bot` + telegramToken + `/sendMessage": dial tcp: connection refused (chat @farmdtest)`,
			`sending POST request to "https://api.telegram.org/bot[redacted]/sendMessage": dial tcp: connection refused (chat [redacted])`,
		},
		{
			"telegram://" + telegramToken + "@telegram?chats=@farmdtest",
			"telegram: token 123456789 rejected", "telegram: token [redacted] rejected",
		},
		{
			"twilio://" + twilioSID + ":" + twilioToken + "@+15550001111/+15550002222",
			"sending to +15550002222: Post \"https://api.twilio.com/2010-04-01/Accounts/" + twilioSID + "/Messages.json\": EOF",
			"sending to [redacted]: Post \"https://api.twilio.com/2010-04-01/Accounts/[redacted]/Messages.json\": EOF",
		},
		{
			"generic+https://example.com/hooks/s3cr3tpath?key=hunter2",
			"Post \"https://example.com/hooks/s3cr3tpath?key=hunter2\": 500",
			// Every path segment goes: "hooks" looks no different from a secret.
			"Post \"https://[redacted]/[redacted]/[redacted]?key=[redacted]\": 500",
		},
		{
			"ntfy://user:hunter%32@ntfy.sh/topic", "auth hunter2 or hunter%32", "auth [redacted] or [redacted]",
		},
	}
	for _, tc := range tests {
		if got := newScrubber(URL(tc.url)).text(tc.text); got != tc.want {
			t.Errorf("scrub %q\n got %q\nwant %q", tc.text, got, tc.want)
		}
	}
}

func TestTestResults(t *testing.T) {
	good := newFake(t, "ok")
	telegram := newFake(t, `{"ok":false,"error_code":401,"description":"Unauthorized"}`)
	telegram.status = func(int) int { return 401 }
	discord := newFake(t, "")
	discord.status = func(int) int { return 404 }
	client := testClient(t, map[string]*fakeService{"api.telegram.org": telegram, "discord.com": discord})
	targets := []Target{
		{URL: genericURL(good, "/hooks/s3cr3tpath"), Events: KindsOf(KindLive)}, // filters do not apply to the test
		{URL: URL("telegram://" + telegramToken + "@telegram?chats=@farmdtest")},
		{URL: URL("generic+http://" + closedPort(t) + "/hooks/s3cr3tpath?key=hunter2")},
		{URL: URL("discord://" + discordToken + "@" + discordID)},
		{URL: URL("telegrm://" + telegramToken + "@telegram")},
	}
	results := Test(context.Background(), targets, Options{HTTPClient: client, Log: discard})
	if len(results) != len(targets) {
		t.Fatalf("%d results, want %d", len(results), len(targets))
	}
	wantOK := []bool{true, false, false, false, false}
	wantService := []string{"generic", "telegram", "generic", "discord", "telegrm"}
	for i, r := range results {
		if r.Index != i || r.OK() != wantOK[i] || r.Service != wantService[i] {
			t.Errorf("result %d = %+v (ok %v), want index %d ok %v service %s", i, r, r.OK(), i, wantOK[i], wantService[i])
		}
		assertNoSecret(t, fmt.Sprintf("result %d", i), r.String())
	}
	if got := good.WaitRequests(t, 1)[0].Body; got != "farmd test notification: notify[0] (generic) works" {
		t.Errorf("test message %q", got)
	}
	if got := results[0].String(); got != "notify[0] generic: ok" {
		t.Errorf("String() = %q", got)
	}
	if got := results[1].String(); !strings.HasPrefix(got, "notify[1] telegram: failed: ") || !strings.Contains(got, "Unauthorized") {
		t.Errorf("String() = %q, want the service's reason", got)
	}
	if len(telegram.Requests()) != 1 || len(discord.Requests()) != 1 {
		t.Errorf("telegram got %d requests, discord %d; want 1 each", len(telegram.Requests()), len(discord.Requests()))
	}
	for i, r := range results {
		t.Logf("result %d: %s", i, r)
	}
}

// FuzzScrubber checks that no credential of a URL survives in an error that
// quotes the request URL built from it, the way shoutrrr's errors do.
func FuzzScrubber(f *testing.F) {
	f.Add("123456789", "AAHsecretTelegramToken")
	f.Add("user", "p%40ss word")
	f.Add("ACsid", "tok/en?x=1")
	f.Fuzz(func(t *testing.T, user, pass string) {
		if len(user) < minSecret || len(pass) < minSecret {
			t.Skip()
		}
		raw := "telegram://" + url.UserPassword(user, pass).String() + "@telegram?chats=@c"
		p, err := url.Parse(raw)
		if err != nil {
			t.Skip()
		}
		gotPass, _ := p.User.Password()
		if gotPass != pass || p.User.Username() != user {
			t.Skip()
		}
		text := fmt.Sprintf(`Post "https://api.telegram.org/bot%s:%s/sendMessage": dial tcp: i/o timeout (%s)`, user, pass, raw)
		out := newScrubber(URL(raw)).text(text)
		// The text around the secrets, and what replaces them: a secret
		// that occurs in it ("tele") cannot be told apart.
		const frame = `Post "https://api.telegram.org/bot:/sendMessage": dial tcp: i/o timeout (telegram://@telegram?chats=@c) ` + redacted
		for _, s := range []string{user, pass} {
			if !strings.Contains(frame, s) && strings.Contains(out, s) {
				t.Errorf("scrubbed text still has %q: %s", s, out)
			}
		}
		if strings.Contains(out, raw) {
			t.Errorf("scrubbed text still has the URL: %s", out)
		}
	})
}
