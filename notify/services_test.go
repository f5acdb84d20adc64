package notify

import (
	"encoding/json"
	"strings"
	"testing"
)

// The URLs below are the README's examples: each is verified here against
// a fake of its service's API.
const (
	telegramToken = "123456789:AAHsecretTelegramToken"
	discordToken  = "secretDiscordWebhookToken"
	discordID     = "112233445566778899"
	twilioSID     = "ACsecretAccountSid"
	twilioToken   = "secretTwilioAuthToken"
)

func TestServicesAgainstFakes(t *testing.T) {
	tests := []struct {
		name  string
		reply string
		// url builds the target URL; host is the fake's host:port for
		// services whose host the URL names.
		url        func(host string) string
		redirected string // the API host the request was meant for
		check      func(t *testing.T, r request, text string)
	}{
		{
			name:  "generic webhook",
			reply: "ok",
			url:   func(host string) string { return "generic+http://" + host + "/hooks/farmd" },
			check: func(t *testing.T, r request, text string) {
				if r.Method != "POST" || r.Path != "/hooks/farmd" || r.Body != text {
					t.Errorf("got %s %s %q, want POST /hooks/farmd %q", r.Method, r.Path, r.Body, text)
				}
			},
		},
		{
			name:       "discord",
			reply:      "",
			url:        func(string) string { return "discord://" + discordToken + "@" + discordID },
			redirected: "discord.com",
			check: func(t *testing.T, r request, text string) {
				if want := "/api/webhooks/" + discordID + "/" + discordToken; r.Path != want {
					t.Errorf("path %q, want %q", r.Path, want)
				}
				var payload struct {
					Embeds []struct {
						Description string `json:"description"`
					} `json:"embeds"`
					Content string `json:"content"`
				}
				if err := json.Unmarshal([]byte(r.Body), &payload); err != nil {
					t.Fatalf("body %q: %v", r.Body, err)
				}
				got := payload.Content
				if len(payload.Embeds) > 0 {
					got = payload.Embeds[0].Description
				}
				if got != text {
					t.Errorf("discord message %q, want %q (body %s)", got, text, r.Body)
				}
			},
		},
		{
			name:       "telegram",
			reply:      `{"ok":true,"result":{"message_id":1,"text":"x"}}`,
			url:        func(string) string { return "telegram://" + telegramToken + "@telegram?chats=@farmdtest" },
			redirected: "api.telegram.org",
			check: func(t *testing.T, r request, text string) {
				if want := "/bot" + telegramToken + "/sendMessage"; r.Path != want {
					t.Errorf("path %q, want %q", r.Path, want)
				}
				var payload struct {
					ChatID any    `json:"chat_id"`
					Text   string `json:"text"`
				}
				if err := json.Unmarshal([]byte(r.Body), &payload); err != nil {
					t.Fatalf("body %q: %v", r.Body, err)
				}
				if payload.Text != text || payload.ChatID != "@farmdtest" {
					t.Errorf("telegram chat %v text %q, want @farmdtest %q", payload.ChatID, payload.Text, text)
				}
			},
		},
		{
			name:       "twilio",
			reply:      `{"sid":"SM1","status":"queued"}`,
			url:        func(string) string { return "twilio://" + twilioSID + ":" + twilioToken + "@+15550001111/+15550002222" },
			redirected: "api.twilio.com",
			check: func(t *testing.T, r request, text string) {
				if want := "/2010-04-01/Accounts/" + twilioSID + "/Messages.json"; r.Path != want {
					t.Errorf("path %q, want %q", r.Path, want)
				}
				if r.Form.Get("Body") != text || r.Form.Get("From") != "+15550001111" || r.Form.Get("To") != "+15550002222" {
					t.Errorf("twilio form %v, want Body %q From +15550001111 To +15550002222", r.Form, text)
				}
			},
		},
		{
			name:  "ntfy",
			reply: `{"id":"1"}`,
			url:   func(host string) string { return "ntfy://" + host + "/farmd?scheme=http" },
			check: func(t *testing.T, r request, text string) {
				if r.Path != "/farmd" || r.Body != text {
					t.Errorf("got %s %q, want /farmd %q", r.Path, r.Body, text)
				}
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			fake := newFake(t, tc.reply)
			hosts := map[string]*fakeService{}
			if tc.redirected != "" {
				hosts[tc.redirected] = fake
			}
			h := newHarness(t, []Target{{URL: URL(tc.url(fake.hostPort()))}}, Options{HTTPClient: testClient(t, hosts)})
			h.start(t)
			ev := Live{Login: "shroud", Title: "ranked", Game: "Counter-Strike", Viewers: 5, ViewersKnown: true}
			h.Notify(ev)
			h.timers.Fire(t, testWindow, 1)
			reqs := fake.WaitRequests(t, 1)
			h.stop()
			if len(reqs) != 1 {
				t.Fatalf("got %d requests, want 1", len(reqs))
			}
			if tc.redirected != "" && reqs[0].Host != tc.redirected {
				t.Errorf("request for host %q, want %q", reqs[0].Host, tc.redirected)
			}
			tc.check(t, reqs[0], ev.Text())
			if st := h.Stats()[0]; st.Sent != 1 || st.Failed != 0 || st.Dropped != 0 {
				t.Errorf("stats %+v, want sent 1", st)
			}
			if strings.Contains(h.logs.String(), "notification failed") {
				t.Errorf("log has a failure:\n%s", h.logs.String())
			}
		})
	}
}
