package helix_test

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/farmd/farmd/helix"
	"github.com/farmd/farmd/helix/helixtest"
)

var loginScopes = []string{"chat:read", "user:read:follows"}

// TestDeviceLogin: the device-code login as Twitch answers it, pending and
// slow_down told apart from the end of the login, then a token pair that
// validates as the approving account.
func TestDeviceLogin(t *testing.T) {
	e := newEnv(t, helixtest.Options{UserTokenTTL: 4 * time.Hour}, nil)
	ctx := context.Background()
	dc, err := e.c.StartDeviceLogin(ctx, loginScopes)
	if err != nil {
		t.Fatal(err)
	}
	if dc.Interval != 5*time.Second || dc.ExpiresIn != 30*time.Minute || dc.UserCode == "" {
		t.Errorf("device code %+v, want interval 5s, expiry 30m and a user code", dc)
	}
	if got := e.srv.Requests(helixtest.EndpointDevice)[0].Get("scopes"); got != "chat:read user:read:follows" {
		t.Errorf("scopes sent %q, want them space-separated in scopes", got)
	}
	if _, err := e.c.PollDeviceLogin(ctx, dc, loginScopes); !errors.Is(err, helix.ErrAuthorizationPending) {
		t.Fatalf("first poll: %v, want ErrAuthorizationPending", err)
	}
	if _, err := e.c.PollDeviceLogin(ctx, dc, loginScopes); !errors.Is(err, helix.ErrSlowDown) {
		t.Fatalf("immediate second poll: %v, want ErrSlowDown", err)
	}
	e.srv.ApproveDevice(dc.UserCode, "farmbot")
	e.clock.Advance(11 * time.Second)
	tok, err := e.c.PollDeviceLogin(ctx, dc, loginScopes)
	if err != nil {
		t.Fatalf("poll after approval: %v", err)
	}
	if tok.ExpiresIn != 4*time.Hour || tok.RefreshToken == "" {
		t.Errorf("token %v, want a refresh token and 4h", tok)
	}
	if s := tok.String(); strings.Contains(s, tok.AccessToken) || strings.Contains(s, tok.RefreshToken) {
		t.Errorf("UserToken.String() shows a secret: %s", s)
	}
	info, err := e.c.ValidateToken(ctx, tok.AccessToken)
	if err != nil || info.Login != "farmbot" {
		t.Fatalf("validate: %+v, %v", info, err)
	}
	form := e.srv.Requests(helixtest.EndpointToken)
	last := form[len(form)-1]
	if last.Get("grant_type") != helix.GrantDeviceCode || last.Get("device_code") != dc.DeviceCode {
		t.Errorf("token form %v, want the device-code grant", last)
	}
}

func TestDeviceLoginEnds(t *testing.T) {
	tests := []struct {
		name string
		act  func(*env, *helix.DeviceCode)
		want string
	}{
		{"expired", func(e *env, _ *helix.DeviceCode) { e.clock.Advance(31 * time.Minute) }, "invalid device code"},
		{"denied", func(e *env, dc *helix.DeviceCode) { e.srv.DenyDevice(dc.UserCode) }, "access_denied"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, helixtest.Options{}, nil)
			ctx := context.Background()
			dc, err := e.c.StartDeviceLogin(ctx, loginScopes)
			if err != nil {
				t.Fatal(err)
			}
			tc.act(e, dc)
			_, err = e.c.PollDeviceLogin(ctx, dc, loginScopes)
			var apiErr *helix.APIError
			if !errors.As(err, &apiErr) || apiErr.Status != http.StatusBadRequest || apiErr.Message != tc.want {
				t.Fatalf("poll: %v, want a 400 APIError %q", err, tc.want)
			}
			if !strings.HasPrefix(err.Error(), "oauth2 token: 400") {
				t.Errorf("error %q does not name the endpoint", err)
			}
		})
	}
}

// TestRefreshUserToken: a refresh returns the rotated pair; the spent
// refresh token is refused with a 400, which is not retried; a 5xx is.
func TestRefreshUserToken(t *testing.T) {
	e := newEnv(t, helixtest.Options{}, nil)
	ctx := context.Background()
	e.srv.AddRefreshableUserToken("access0", "refresh0", "farmbot", time.Hour, "chat:read")
	e.srv.Fail(helixtest.EndpointToken, helixtest.Fault{Status: 503, Times: 1})
	tok, err := e.c.RefreshUserToken(ctx, "refresh0")
	if err != nil {
		t.Fatalf("refresh after one 503: %v", err)
	}
	if tok.RefreshToken == "refresh0" || tok.AccessToken == "" {
		t.Errorf("refresh gave %v, want a rotated pair", tok)
	}
	if got := e.srv.Requests(helixtest.EndpointToken)[0].Get("client_secret"); got != "" {
		t.Errorf("the recorded form shows client_secret %q (the fake must hide it)", got)
	}
	before := e.srv.Count(helixtest.EndpointToken)
	_, err = e.c.RefreshUserToken(ctx, "refresh0")
	var apiErr *helix.APIError
	if !errors.As(err, &apiErr) || apiErr.Status != http.StatusBadRequest {
		t.Fatalf("refresh with the spent token: %v, want a 400 APIError", err)
	}
	if n := e.srv.Count(helixtest.EndpointToken) - before; n != 1 {
		t.Errorf("%d requests for a refused refresh, want 1 (a 400 is not retried)", n)
	}
}

// fakeUserTokens is a UserTokens that renews on Invalidate by asking the
// fake Twitch for a refresh, as usertoken.Keeper would.
type fakeUserTokens struct {
	mu       sync.Mutex
	tok      string
	renew    func() string
	rejected []string
}

func (f *fakeUserTokens) Token() string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.tok
}

func (f *fakeUserTokens) Invalidate(tok string) {
	f.mu.Lock()
	f.rejected = append(f.rejected, tok)
	f.mu.Unlock()
	go func() { // renewed a moment later, from another goroutine
		next := f.renew()
		f.mu.Lock()
		f.tok = next
		f.mu.Unlock()
	}()
}

// TestPublicClientPollsWithTheUserToken: without a client secret, Helix
// requests carry the user token and no app token is ever requested; a 401
// makes the client wait for the renewed user token and retry once.
func TestPublicClientPollsWithTheUserToken(t *testing.T) {
	srv := helixtest.New(helixtest.Options{PublicClient: true})
	defer srv.Close()
	srv.AddRefreshableUserToken("user0", "refresh0", "farmbot", time.Hour, "chat:read")
	id := srv.AddUser("alice")
	srv.SetLive("alice", true)
	ut := &fakeUserTokens{tok: "user0", renew: func() string {
		srv.AddRefreshableUserToken("user1", "refresh1", "farmbot", time.Hour, "chat:read")
		return "user1"
	}}
	c := helix.New(helix.Options{ClientID: srv.ClientID(), AuthURL: srv.AuthURL(), HelixURL: srv.HelixURL(), UserTokens: ut})
	if c.UsesAppToken() {
		t.Fatal("UsesAppToken() without a secret")
	}
	ctx := context.Background()
	st, err := c.CheckStreams(ctx, []string{id})
	if err != nil || len(st) != 1 || !st[0].Live {
		t.Fatalf("CheckStreams = %v, %v", st, err)
	}
	srv.ExpireUserToken("user0")
	if _, err := c.CheckStreams(ctx, []string{id}); err != nil {
		t.Fatalf("CheckStreams after the user token expired: %v", err)
	}
	ut.mu.Lock()
	rejected := slices.Clone(ut.rejected)
	ut.mu.Unlock()
	if len(rejected) != 1 || rejected[0] != "user0" {
		t.Errorf("Invalidate calls %q, want [user0]", rejected)
	}
	if n := srv.Count(helixtest.EndpointToken); n != 0 {
		t.Errorf("%d token requests, want 0 (a public application has no app token)", n)
	}
	if _, err := c.AppToken(ctx); err == nil {
		t.Error("AppToken without a secret succeeded")
	}
}
