package helix_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
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
