package helix_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/farmd/farmd/helix"
	"github.com/farmd/farmd/helix/helixtest"
)

// followsEnv is an env whose account "bot" has a user token with scopes.
func followsEnv(tb testing.TB, mod func(*helix.Options), scopes ...string) (e *env, botID, token string) {
	tb.Helper()
	e = newEnv(tb, helixtest.Options{}, mod)
	token = "bot-user-token"
	e.srv.AddUserToken(token, "bot", scopes...)
	return e, e.srv.AddUser("bot"), token
}

func TestFollowedChannelsEveryPage(t *testing.T) {
	e, botID, token := followsEnv(t, nil, "chat:read", helix.ScopeReadFollows)
	var want []string
	for i := range 250 {
		login := "chan" + strconv.Itoa(i)
		e.srv.Follow("bot", login)
		want = append([]string{login}, want...) // Twitch lists the latest follow first
	}
	got, err := e.c.FollowedChannels(context.Background(), botID, "oauth:"+token)
	if err != nil {
		t.Fatalf("FollowedChannels: %v", err)
	}
	if !slices.Equal(got, want) {
		t.Errorf("got %d logins %v..., want %d %v...", len(got), got[:min(3, len(got))], len(want), want[:3])
	}
	reqs := e.srv.Requests(helixtest.EndpointFollowed)
	if len(reqs) != 3 {
		t.Fatalf("requests: got %d, want 3 (100 a page)", len(reqs))
	}
	for i, q := range reqs {
		if q.Get("user_id") != botID || q.Get("first") != "100" || (i == 0) != (q.Get("after") == "") {
			t.Errorf("request %d: query %v, want user_id=%s first=100 and a cursor after the first", i, q, botID)
		}
	}
	// The client polls Helix with an app token; the follows went with the
	// user token, or Twitch would have refused them.
	if !e.c.UsesAppToken() {
		t.Fatal("the test client should poll with an app token")
	}
}

func TestFollowedChannelsNone(t *testing.T) {
	e, botID, token := followsEnv(t, nil, helix.ScopeReadFollows)
	got, err := e.c.FollowedChannels(context.Background(), botID, token)
	if err != nil || got != nil {
		t.Errorf("got %v, %v; want no logins and no error", got, err)
	}
	e.srv.Follow("bot", "a")
	e.srv.Follow("bot", "b")
	if !e.srv.Unfollow("bot", "a") || e.srv.Unfollow("bot", "a") {
		t.Fatal("Unfollow: want true once, then false")
	}
	if got, err := e.c.FollowedChannels(context.Background(), botID, token); err != nil || !slices.Equal(got, []string{"b"}) {
		t.Errorf("after unfollowing a: got %v, %v; want [b]", got, err)
	}
}

func TestFollowedChannelsRefused(t *testing.T) {
	tests := []struct {
		name         string
		scopes       []string
		token        string // default: the bot's token
		userID       string // default: the bot's ID
		missingScope bool
		wantMsg      string
	}{
		{name: "missing scope", scopes: []string{"chat:read"}, missingScope: true, wantMsg: helixtest.MsgMissingFollowsScope},
		{name: "invalid token", scopes: []string{helix.ScopeReadFollows}, token: "revoked", wantMsg: "Invalid OAuth token"},
		{name: "another user's follows", scopes: []string{helix.ScopeReadFollows}, userID: "999", wantMsg: helixtest.MsgUserIDMismatch},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e, botID, token := followsEnv(t, nil, tc.scopes...)
			e.srv.Follow("bot", "a")
			if tc.token != "" {
				token = tc.token
			}
			if tc.userID != "" {
				botID = tc.userID
			}
			got, err := e.c.FollowedChannels(context.Background(), botID, token)
			if got != nil || !errors.Is(err, helix.ErrUnauthorized) {
				t.Fatalf("got %v, %v; want no logins and an error matching ErrUnauthorized", got, err)
			}
			if errors.Is(err, helix.ErrMissingScope) != tc.missingScope {
				t.Errorf("errors.Is(%v, ErrMissingScope) = %v, want %v", err, !tc.missingScope, tc.missingScope)
			}
			if !strings.Contains(err.Error(), tc.wantMsg) || strings.Contains(err.Error(), token) {
				t.Errorf("error %q: want it to say %q and never show the token", err, tc.wantMsg)
			}
			if n := e.srv.Count(helixtest.EndpointFollowed); n != 1 {
				t.Errorf("requests: got %d, want 1 (a 401 is not retried)", n)
			}
		})
	}
}

// failAfterFirstPage answers 503 to every request for a page after the
// first, as a Helix outage in the middle of the pages would.
type failAfterFirstPage struct{ next http.RoundTripper }

func (f failAfterFirstPage) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.URL.Query().Get("after") != "" {
		return &http.Response{
			StatusCode: http.StatusServiceUnavailable, Header: http.Header{},
			Body: io.NopCloser(strings.NewReader(`{"error":"Service Unavailable","status":503,"message":""}`)), Request: r,
		}, nil
	}
	return f.next.RoundTrip(r)
}

// TestFollowedChannelsAllOrNothing checks that a page failing after
// retries gives an error and no logins: a partial list would read as
// unfollows.
func TestFollowedChannelsAllOrNothing(t *testing.T) {
	e, botID, token := followsEnv(t, func(o *helix.Options) {
		o.HTTPClient = &http.Client{Transport: failAfterFirstPage{next: o.HTTPClient.Transport}}
	}, helix.ScopeReadFollows)
	for i := range 150 {
		e.srv.Follow("bot", "chan"+strconv.Itoa(i))
	}
	got, err := e.c.FollowedChannels(context.Background(), botID, token)
	if got != nil || err == nil || errors.Is(err, helix.ErrUnauthorized) {
		t.Fatalf("got %d logins, %v; want none and a non-401 error", len(got), err)
	}
	if n := e.c.Stats().Retries; n != int64(helix.DefaultMaxAttempts-1) {
		t.Errorf("retries: got %d, want %d (the failing page retried like any request)", n, helix.DefaultMaxAttempts-1)
	}
}

func TestFollowedChannelsMalformed(t *testing.T) {
	for _, body := range []string{`{"data":[{"broadcaster_id":"1"}]}`, `{"total":0}`, `not json`} {
		e, botID, token := followsEnv(t, nil, helix.ScopeReadFollows)
		e.srv.Fail(helixtest.EndpointFollowed, helixtest.Fault{Body: body})
		if got, err := e.c.FollowedChannels(context.Background(), botID, token); got != nil || !errors.Is(err, helix.ErrMalformedResponse) {
			t.Errorf("body %s: got %v, %v; want an error matching ErrMalformedResponse", body, got, err)
		}
	}
}

func TestFollowedChannelsRepeatedCursor(t *testing.T) {
	e, botID, token := followsEnv(t, nil, helix.ScopeReadFollows)
	page := `{"data":[{"broadcaster_id":"1","broadcaster_login":"a"}],"pagination":{"cursor":"same"}}`
	e.srv.Fail(helixtest.EndpointFollowed, helixtest.Fault{Body: page, Times: 2})
	got, err := e.c.FollowedChannels(context.Background(), botID, token)
	if got != nil || !errors.Is(err, helix.ErrMalformedResponse) {
		t.Errorf("got %v, %v; want an error matching ErrMalformedResponse", got, err)
	}
	if n := e.srv.Count(helixtest.EndpointFollowed); n != 2 {
		t.Errorf("requests: got %d, want 2 (stopped at the repeated cursor)", n)
	}
}
