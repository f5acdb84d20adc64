package helixtest_test

import (
	"net/http"
	"net/url"
	"testing"

	"github.com/farmd/farmd/helix/helixtest"
)

// TestFollowedAnswers checks /channels/followed's answers as Twitch gives
// them: a user token of user_id with the scope, 20 a page by default, a
// cursor while more follow, the total, and the control API.
func TestFollowedAnswers(t *testing.T) {
	f := newFixture(t, helixtest.Options{})
	botID := f.srv.AddUser("bot")
	f.srv.AddUserToken("usertok", "bot", helixtest.ScopeReadFollows)
	f.srv.AddUserToken("noscope", "bot", "chat:read")
	f.srv.Follow("bot", "a")
	f.srv.Follow("bot", "b")
	if status, _, _ := f.do(t, http.MethodPost, "/_control/follow?user=bot&channel=c", nil, nil); status != http.StatusNoContent {
		t.Fatalf("follow: got %d, want 204", status)
	}
	f.srv.Follow("bot", "a") // again: no change
	user := func(tok string) http.Header {
		return http.Header{"Client-Id": {f.srv.ClientID()}, "Authorization": {"Bearer " + tok}}
	}
	q := url.Values{"user_id": {botID}, "first": {"2"}}

	status, body, _ := f.do(t, http.MethodGet, "/helix/channels/followed", q, user("usertok"))
	if status != http.StatusOK || body["total"] != float64(3) {
		t.Fatalf("got %d %v, want 200 with total 3", status, body)
	}
	data := body["data"].([]any)
	if len(data) != 2 || data[0].(map[string]any)["broadcaster_login"] != "c" {
		t.Errorf("first page %v, want 2 follows, the latest (c) first", data)
	}
	cursor, _ := body["pagination"].(map[string]any)["cursor"].(string)
	if cursor == "" {
		t.Fatalf("no cursor on a first page of 2 out of 3: %v", body)
	}
	q.Set("after", cursor)
	_, body, _ = f.do(t, http.MethodGet, "/helix/channels/followed", q, user("usertok"))
	if data := body["data"].([]any); len(data) != 1 || data[0].(map[string]any)["broadcaster_login"] != "a" || len(body["pagination"].(map[string]any)) != 0 {
		t.Errorf("last page %v, want [a] and no cursor", body)
	}

	for _, tc := range []struct {
		name   string
		header http.Header
		query  url.Values
		status int
		msg    string
	}{
		{"app token", f.helixHeader(), url.Values{"user_id": {botID}}, http.StatusUnauthorized, helixtest.MsgNeedsUserToken},
		{"without the scope", user("noscope"), url.Values{"user_id": {botID}}, http.StatusUnauthorized, helixtest.MsgMissingFollowsScope},
		{"another user", user("usertok"), url.Values{"user_id": {"1"}}, http.StatusUnauthorized, helixtest.MsgUserIDMismatch},
		{"no user_id", user("usertok"), nil, http.StatusBadRequest, `Missing required parameter "user_id"`},
		{"first too large", user("usertok"), url.Values{"user_id": {botID}, "first": {"101"}}, http.StatusBadRequest, "Malformed query param"},
	} {
		status, body, _ := f.do(t, http.MethodGet, "/helix/channels/followed", tc.query, tc.header)
		if status != tc.status || body["message"] != tc.msg {
			t.Errorf("%s: got %d %v, want %d %q", tc.name, status, body["message"], tc.status, tc.msg)
		}
	}

	if status, _, _ := f.do(t, http.MethodPost, "/_control/unfollow?user=bot&channel=b", nil, nil); status != http.StatusNoContent {
		t.Errorf("unfollow: got %d, want 204", status)
	}
	_, body, _ = f.do(t, http.MethodGet, "/helix/channels/followed", url.Values{"user_id": {botID}}, user("usertok"))
	if body["total"] != float64(2) {
		t.Errorf("after unfollowing b: total %v, want 2", body["total"])
	}
}
