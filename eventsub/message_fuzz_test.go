package eventsub

import (
	"errors"
	"testing"
	"time"
)

// FuzzDecodeMessage checks that decoding a frame never panics, that every
// error is errMalformed, and that an accepted message has what its type
// needs.
func FuzzDecodeMessage(f *testing.F) {
	f.Add([]byte(`{"metadata":{"message_id":"1","message_type":"session_welcome","message_timestamp":"2023-07-19T14:56:51.634234626Z"},"payload":{"session":{"id":"AQoQ","status":"connected","keepalive_timeout_seconds":10,"reconnect_url":null}}}`))
	f.Add([]byte(`{"metadata":{"message_id":"2","message_type":"session_keepalive","message_timestamp":"2023-07-19T10:11:12.634234626Z"},"payload":{}}`))
	f.Add([]byte(`{"metadata":{"message_id":"3","message_type":"notification","message_timestamp":"2022-11-16T10:11:12.464757833Z","subscription_type":"stream.online","subscription_version":"1"},"payload":{"subscription":{"id":"s","status":"enabled","type":"stream.online","version":"1","cost":1,"condition":{"broadcaster_user_id":"1337"},"transport":{"method":"conduit","conduit_id":"c"}},"event":{"broadcaster_user_id":"1337","broadcaster_user_login":"cool_user","type":"live","started_at":"2020-10-11T10:11:12.123Z"}}}`))
	f.Add([]byte(`{"metadata":{"message_id":"4","message_type":"session_reconnect"},"payload":{"session":{"id":"AQoQ","status":"reconnecting","reconnect_url":"wss://eventsub.wss.twitch.tv?x"}}}`))
	f.Add([]byte(`{"metadata":{"message_id":"5","message_type":"revocation","subscription_type":"stream.offline"},"payload":{"subscription":{"status":"authorization_revoked","type":"stream.offline","condition":{"broadcaster_user_id":"1"}}}}`))
	f.Add([]byte(`{"metadata":{}}`))
	f.Add([]byte(`null`))
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := decodeMessage(data)
		if err != nil {
			if !errors.Is(err, errMalformed) {
				t.Errorf("error %q is not errMalformed", err)
			}
			return
		}
		if m.ID == "" || m.Type == "" {
			t.Errorf("accepted %+v without message_id or message_type", m)
		}
		switch m.Type {
		case msgWelcome, msgReconnect:
			if m.Session.ID == "" {
				t.Errorf("accepted %s without session id", m.Type)
			}
			if m.Type == msgReconnect && m.Session.ReconnectURL == "" {
				t.Error("accepted a reconnect without reconnect_url")
			}
		case msgNotification:
			if m.Event.BroadcasterUserID == "" {
				t.Error("accepted a notification without broadcaster_user_id")
			}
		}
	})
}

func TestDedupBounded(t *testing.T) {
	var d dedup
	now := time.Unix(1_700_000_000, 0)
	if d.seenBefore("a", now) {
		t.Fatal("first a: seen")
	}
	if !d.seenBefore("a", now.Add(time.Minute)) {
		t.Fatal("second a within 10 min: not seen")
	}
	if d.seenBefore("a", now.Add(dedupAge+time.Second)) {
		t.Error("a after 10 min: still remembered")
	}
	for i := range 3 * dedupMax {
		d.seenBefore(string(rune(i+1000)), now.Add(dedupAge+time.Second))
	}
	if len(d.seen) > dedupMax || len(d.order) > dedupMax {
		t.Errorf("remembers %d ids (%d in order), want at most %d", len(d.seen), len(d.order), dedupMax)
	}
}
