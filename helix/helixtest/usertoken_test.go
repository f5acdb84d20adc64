package helixtest_test

import (
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/farmd/farmd/helix/helixtest"
)

func (f *fixture) deviceStart(tb testing.TB) (code, user string) {
	tb.Helper()
	status, body, _ := f.do(tb, http.MethodPost, "/oauth2/device", url.Values{
		"client_id": {f.srv.ClientID()},
		"scopes":    {"chat:read user:read:follows"},
	}, nil)
	if status != http.StatusOK {
		tb.Fatalf("device: got %d %v", status, body)
	}
	for _, k := range []string{"device_code", "user_code", "verification_uri"} {
		if s, _ := body[k].(string); s == "" {
			tb.Fatalf("device answer has no %s: %v", k, body)
		}
	}
	if body["interval"] != float64(5) || body["expires_in"] != float64(1800) {
		tb.Errorf("device answer interval %v expires_in %v, want 5 and 1800", body["interval"], body["expires_in"])
	}
	return body["device_code"].(string), body["user_code"].(string)
}

func (f *fixture) devicePoll(tb testing.TB, code string, secret bool) (int, map[string]any) {
	tb.Helper()
	form := url.Values{
		"client_id":   {f.srv.ClientID()},
		"device_code": {code},
		"scopes":      {"chat:read user:read:follows"},
		"grant_type":  {"urn:ietf:params:oauth:grant-type:device_code"},
	}
	if secret {
		form.Set("client_secret", f.srv.ClientSecret())
	}
	status, body, _ := f.do(tb, http.MethodPost, "/oauth2/token", form, nil)
	return status, body
}

func (f *fixture) refresh(tb testing.TB, rt string) (int, map[string]any) {
	tb.Helper()
	status, body, _ := f.do(tb, http.MethodPost, "/oauth2/token", url.Values{
		"client_id":     {f.srv.ClientID()},
		"client_secret": {f.srv.ClientSecret()},
		"grant_type":    {"refresh_token"},
		"refresh_token": {rt},
	}, nil)
	return status, body
}

func (f *fixture) validateUser(tb testing.TB, tok string) (int, map[string]any) {
	tb.Helper()
	status, body, _ := f.do(tb, http.MethodGet, "/oauth2/validate", nil, http.Header{"Authorization": {"OAuth " + tok}})
	return status, body
}

// TestDeviceFlow walks Twitch's device-code grant: pending answers carry the
// word in "message", polling too fast answers slow_down and lengthens the
// interval, approval gives a token pair whose lifetime /validate reports.
func TestDeviceFlow(t *testing.T) {
	f := newFixture(t, helixtest.Options{UserTokenTTL: 4 * time.Hour})
	code, user := f.deviceStart(t)

	status, body := f.devicePoll(t, code, true)
	if status != http.StatusBadRequest || body["message"] != "authorization_pending" {
		t.Fatalf("first poll: %d %v, want 400 authorization_pending", status, body)
	}
	if _, ok := body["error"]; ok {
		t.Errorf("pending answer has an error field: %v (Twitch puts the word in message only)", body)
	}
	status, body = f.devicePoll(t, code, true) // no time passed
	if status != http.StatusBadRequest || body["message"] != "slow_down" {
		t.Fatalf("fast poll: %d %v, want 400 slow_down", status, body)
	}
	f.now = f.now.Add(6 * time.Second) // the interval is now 10 s
	if status, body = f.devicePoll(t, code, true); body["message"] != "slow_down" {
		t.Fatalf("poll 6 s later: %d %v, want slow_down (interval grew by 5 s)", status, body)
	}
	if !f.srv.ApproveDevice(user, "farmbot") {
		t.Fatal("ApproveDevice: code not pending")
	}
	f.now = f.now.Add(16 * time.Second)
	status, body = f.devicePoll(t, code, true)
	if status != http.StatusOK {
		t.Fatalf("poll after approval: %d %v", status, body)
	}
	access, _ := body["access_token"].(string)
	if access == "" || body["refresh_token"] == "" || body["expires_in"] != float64(4*3600) {
		t.Fatalf("token answer %v, want access_token, refresh_token, expires_in 14400", body)
	}
	if status, _ := f.devicePoll(t, code, true); status != http.StatusBadRequest {
		t.Errorf("device code reused: %d, want 400", status)
	}
	f.now = f.now.Add(time.Hour)
	status, body = f.validateUser(t, access)
	if status != http.StatusOK || body["login"] != "farmbot" || body["expires_in"] != float64(3*3600) {
		t.Errorf("validate: %d %v, want login farmbot, expires_in 10800", status, body)
	}
	f.now = f.now.Add(3 * time.Hour)
	if status, _ := f.validateUser(t, access); status != http.StatusUnauthorized {
		t.Errorf("validate of an expired token: %d, want 401", status)
	}
	if _, ok := f.srv.UserTokenLogin(access); ok {
		t.Error("UserTokenLogin accepts an expired token")
	}
}

func TestDeviceFlowEndings(t *testing.T) {
	t.Run("expired", func(t *testing.T) {
		f := newFixture(t, helixtest.Options{})
		code, _ := f.deviceStart(t)
		f.now = f.now.Add(31 * time.Minute)
		if status, body := f.devicePoll(t, code, true); status != http.StatusBadRequest || body["message"] != "invalid device code" {
			t.Errorf("poll of an expired code: %d %v, want 400 invalid device code", status, body)
		}
	})
	t.Run("denied", func(t *testing.T) {
		f := newFixture(t, helixtest.Options{})
		code, user := f.deviceStart(t)
		f.srv.DenyDevice(user)
		if status, body := f.devicePoll(t, code, true); status != http.StatusBadRequest || body["message"] != "access_denied" {
			t.Errorf("poll of a denied code: %d %v, want 400 access_denied", status, body)
		}
	})
	t.Run("confidential client without its secret", func(t *testing.T) {
		f := newFixture(t, helixtest.Options{})
		code, user := f.deviceStart(t)
		f.srv.ApproveDevice(user, "farmbot")
		if status, _ := f.devicePoll(t, code, false); status != http.StatusBadRequest {
			t.Errorf("poll without the secret: %d, want 400", status)
		}
	})
	t.Run("public client without a secret", func(t *testing.T) {
		f := newFixture(t, helixtest.Options{PublicClient: true})
		code, user := f.deviceStart(t)
		f.srv.ApproveDevice(user, "farmbot")
		if status, body := f.devicePoll(t, code, false); status != http.StatusOK {
			t.Errorf("poll without a secret: %d %v, want 200", status, body)
		}
	})
}

// TestRefreshRotates: a refresh gives a new pair and spends the old refresh
// token; revoking the user invalidates both kinds.
func TestRefreshRotates(t *testing.T) {
	f := newFixture(t, helixtest.Options{})
	f.srv.AddRefreshableUserToken("access0", "refresh0", "farmbot", time.Hour, "chat:read")
	status, body := f.refresh(t, "refresh0")
	if status != http.StatusOK {
		t.Fatalf("refresh: %d %v", status, body)
	}
	access, rt := body["access_token"].(string), body["refresh_token"].(string)
	if access == "" || rt == "" || rt == "refresh0" {
		t.Fatalf("refresh answer %v, want a new pair", body)
	}
	if status, body := f.refresh(t, "refresh0"); status != http.StatusBadRequest || body["message"] != "Invalid refresh token" {
		t.Errorf("reusing the rotated refresh token: %d %v, want 400 Invalid refresh token", status, body)
	}
	if got := f.srv.Refreshes(); got != 1 {
		t.Errorf("Refreshes() = %d, want 1", got)
	}
	if login, ok := f.srv.UserTokenLogin("oauth:" + access); !ok || login != "farmbot" {
		t.Errorf("UserTokenLogin(new) = %q, %v", login, ok)
	}
	f.srv.RevokeUser("farmbot")
	if status, _ := f.validateUser(t, access); status != http.StatusUnauthorized {
		t.Errorf("validate after revocation: %d, want 401", status)
	}
	if status, _ := f.refresh(t, rt); status != http.StatusBadRequest {
		t.Errorf("refresh after revocation: %d, want 400", status)
	}
}
