package helix_test

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/farmd/farmd/helix"
	"github.com/farmd/farmd/helix/helixtest"
)

func TestTokenFetchedOnceAndReused(t *testing.T) {
	e := newEnv(t, helixtest.Options{}, func(o *helix.Options) { o.MaxConcurrent = 4 })
	ids := addUsers(t, e.srv, "u", 250)
	ctx := context.Background()
	for range 3 {
		if _, err := e.c.CheckStreams(ctx, ids); err != nil {
			t.Fatalf("CheckStreams: %v", err)
		}
	}
	if _, err := e.c.ResolveLogins(ctx, []string{"u1", "u2"}); err != nil {
		t.Fatalf("ResolveLogins: %v", err)
	}
	if got := e.srv.Count(helixtest.EndpointToken); got != 1 {
		t.Errorf("token requests: got %d, want 1", got)
	}
	if got := e.srv.BasicAuthTokenRequests(); got != 0 {
		t.Errorf("token requests with HTTP Basic: got %d, want 0", got)
	}
	if got := e.c.Stats().TokenFetches; got != 1 {
		t.Errorf("Stats().TokenFetches: got %d, want 1", got)
	}
	form := e.srv.Requests(helixtest.EndpointToken)[0]
	if form.Get("grant_type") != "client_credentials" || form.Get("client_id") != e.srv.ClientID() {
		t.Errorf("token form: got %v, want grant_type=client_credentials and client_id", form)
	}
}

func TestTokenRenewedOn401(t *testing.T) {
	tests := []struct {
		name        string
		setup       func(*helixtest.Server)
		wantErr     bool
		wantTokens  int
		wantStreams int
	}{
		{
			name:        "revoked token renewed and request retried once",
			setup:       func(s *helixtest.Server) { s.RevokeAppTokens() },
			wantTokens:  2,
			wantStreams: 2,
		},
		{
			name: "second 401 is an error, not a loop",
			setup: func(s *helixtest.Server) {
				s.Fail(helixtest.EndpointStreams, helixtest.Fault{Status: http.StatusUnauthorized, Message: "Invalid OAuth token"})
			},
			wantErr:     true,
			wantTokens:  2,
			wantStreams: 2,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, helixtest.Options{}, nil)
			id := e.srv.AddUser("alice")
			e.srv.SetLive("alice", true)
			ctx := context.Background()
			if _, err := e.c.ValidateAppToken(ctx); err != nil { // gets the first token
				t.Fatalf("ValidateAppToken: %v", err)
			}
			tc.setup(e.srv)
			got, err := e.c.CheckStreams(ctx, []string{id})
			if tc.wantErr {
				if !errors.Is(err, helix.ErrUnauthorized) {
					t.Fatalf("err: got %v, want ErrUnauthorized", err)
				}
				if len(got) != 0 {
					t.Errorf("statuses: got %v, want none", got)
				}
			} else {
				if err != nil {
					t.Fatalf("CheckStreams: %v", err)
				}
				if len(got) != 1 || !got[0].Live {
					t.Errorf("statuses: got %v, want alice live", got)
				}
			}
			if n := e.srv.Count(helixtest.EndpointToken); n != tc.wantTokens {
				t.Errorf("token requests: got %d, want %d", n, tc.wantTokens)
			}
			if n := e.srv.Count(helixtest.EndpointStreams); n != tc.wantStreams {
				t.Errorf("streams requests: got %d, want %d", n, tc.wantStreams)
			}
		})
	}
}

func TestTokenRenewedBeforeExpiry(t *testing.T) {
	e := newEnv(t, helixtest.Options{TokenTTL: time.Hour}, nil)
	id := e.srv.AddUser("alice")
	ctx := context.Background()
	if _, err := e.c.CheckStreams(ctx, []string{id}); err != nil {
		t.Fatalf("CheckStreams: %v", err)
	}
	e.clock.Advance(59 * time.Minute) // inside the renewal margin, before expiry
	if _, err := e.c.CheckStreams(ctx, []string{id}); err != nil {
		t.Fatalf("CheckStreams: %v", err)
	}
	if got := e.srv.Count(helixtest.EndpointToken); got != 2 {
		t.Errorf("token requests: got %d, want 2", got)
	}
	if got := e.srv.Count(helixtest.EndpointStreams); got != 2 {
		t.Errorf("streams requests: got %d, want 2 (no 401 round trip)", got)
	}
}

func TestTokenErrors(t *testing.T) {
	tests := []struct {
		name       string
		id, secret string
		wantStatus int
		wantMsg    string
	}{
		{"wrong secret", helixtest.DefaultClientID, "not-the-secret-xyz", http.StatusForbidden, "invalid client secret"},
		{"unknown client", "nobody", "not-the-secret-xyz", http.StatusBadRequest, "invalid client"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, helixtest.Options{}, func(o *helix.Options) {
				o.ClientID, o.ClientSecret = tc.id, tc.secret
			})
			_, err := e.c.CheckStreams(context.Background(), []string{"1"})
			var ae *helix.APIError
			if !errors.As(err, &ae) {
				t.Fatalf("err: got %v, want *APIError", err)
			}
			if ae.Status != tc.wantStatus || ae.Message != tc.wantMsg || ae.Endpoint != "token" {
				t.Errorf("APIError: got %+v, want status %d message %q endpoint token", ae, tc.wantStatus, tc.wantMsg)
			}
			if strings.Contains(err.Error(), tc.secret) {
				t.Errorf("error text %q contains the client secret", err)
			}
			if got := e.srv.Count(helixtest.EndpointToken); got != 1 {
				t.Errorf("token requests: got %d, want 1 (4xx not retried)", got)
			}
		})
	}
}

func TestValidateToken(t *testing.T) {
	tests := []struct {
		name      string
		token     string
		wantLogin string
		wantErr   error
	}{
		{"bare token", "usertoken123", "botaccount", nil},
		{"oauth prefix", "oauth:usertoken123", "botaccount", nil},
		{"oauth prefix in capitals", "OAuth:usertoken123", "botaccount", nil},
		{"unknown token", "oauth:nope", "", helix.ErrUnauthorized},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, helixtest.Options{}, nil)
			e.srv.AddUserToken("usertoken123", "botaccount", "chat:read")
			info, err := e.c.ValidateToken(context.Background(), tc.token)
			if tc.wantErr != nil {
				if !errors.Is(err, tc.wantErr) {
					t.Fatalf("err: got %v, want %v", err, tc.wantErr)
				}
				var ae *helix.APIError
				if !errors.As(err, &ae) || ae.Status != http.StatusUnauthorized || ae.Endpoint != "validate" {
					t.Errorf("err: got %#v, want *APIError 401 validate", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("ValidateToken: %v", err)
			}
			wantID := e.srv.AddUser("botaccount")
			if info.Login != tc.wantLogin || info.UserID != wantID || info.ClientID != e.srv.ClientID() ||
				len(info.Scopes) != 1 || info.Scopes[0] != "chat:read" || info.ExpiresIn <= 0 {
				t.Errorf("TokenInfo: got %+v, want login %s, user %s, scopes [chat:read]", info, tc.wantLogin, wantID)
			}
			if got := e.srv.Count(helixtest.EndpointToken); got != 0 {
				t.Errorf("token requests: got %d, want 0 (user token validation needs no app token)", got)
			}
		})
	}
}

func TestValidateAppTokenAfterRevoke(t *testing.T) {
	e := newEnv(t, helixtest.Options{}, nil)
	ctx := context.Background()
	info, err := e.c.ValidateAppToken(ctx)
	if err != nil {
		t.Fatalf("ValidateAppToken: %v", err)
	}
	if info.ClientID != e.srv.ClientID() || info.Login != "" || info.ExpiresIn <= 0 {
		t.Errorf("TokenInfo: got %+v, want app token of %s", info, e.srv.ClientID())
	}
	e.srv.RevokeAppTokens()
	if _, err := e.c.ValidateAppToken(ctx); err != nil {
		t.Fatalf("ValidateAppToken after revoke: %v", err)
	}
	if got := e.srv.Count(helixtest.EndpointToken); got != 2 {
		t.Errorf("token requests: got %d, want 2", got)
	}
	if got := e.srv.Count(helixtest.EndpointValidate); got != 3 {
		t.Errorf("validate requests: got %d, want 3 (ok, 401, ok)", got)
	}
	// Twitch rejecting every token ends in an error, not a loop.
	e.srv.Fail(helixtest.EndpointValidate, helixtest.Fault{Status: http.StatusUnauthorized, Message: "invalid access token"})
	if _, err := e.c.ValidateAppToken(ctx); !errors.Is(err, helix.ErrUnauthorized) {
		t.Errorf("err: got %v, want ErrUnauthorized", err)
	}
	if got := e.srv.Count(helixtest.EndpointValidate); got != 5 {
		t.Errorf("validate requests: got %d, want 5", got)
	}
}

// TestTokenGivesUp: a token endpoint that keeps failing costs MaxAttempts
// requests with growing backoff between them, and the error names the
// endpoint like every other one.
func TestTokenGivesUp(t *testing.T) {
	e := newEnv(t, helixtest.Options{}, nil)
	e.srv.Fail(helixtest.EndpointToken, helixtest.Fault{Status: http.StatusServiceUnavailable})
	_, err := e.c.ValidateAppToken(context.Background())
	const want = "validate app token: get app token: oauth2 token: giving up after 4 attempts: oauth2 token: 503 Service Unavailable: Service Unavailable"
	if err == nil || err.Error() != want {
		t.Fatalf("err: got %v, want %q", err, want)
	}
	var ae *helix.APIError
	if !errors.As(err, &ae) || ae.Status != http.StatusServiceUnavailable || ae.Endpoint != "token" {
		t.Errorf("APIError: got %v, want 503 from token", ae)
	}
	if got := e.srv.Count(helixtest.EndpointToken); got != helix.DefaultMaxAttempts {
		t.Errorf("token requests: got %d, want %d", got, helix.DefaultMaxAttempts)
	}
	sleeps := e.clock.Sleeps()
	if len(sleeps) != helix.DefaultMaxAttempts-1 {
		t.Fatalf("sleeps: got %v, want %d", sleeps, helix.DefaultMaxAttempts-1)
	}
	for i, d := range sleeps {
		hi := helix.DefaultBackoffBase << i
		if d < hi/2 || d > hi {
			t.Errorf("sleep %d: got %v, want within [%v, %v]", i, d, hi/2, hi)
		}
	}
	st := e.c.Stats()
	if st.TokenFailures != helix.DefaultMaxAttempts || st.Retries != helix.DefaultMaxAttempts-1 || st.TokenFetches != 0 {
		t.Errorf("Stats: got %d failures, %d retries, %d fetches; want %d, %d, 0",
			st.TokenFailures, st.Retries, st.TokenFetches, helix.DefaultMaxAttempts, helix.DefaultMaxAttempts-1)
	}
	if got := st.Responses["token"][http.StatusServiceUnavailable]; got != helix.DefaultMaxAttempts {
		t.Errorf("Responses[token][503]: got %d, want %d", got, helix.DefaultMaxAttempts)
	}
}

// TestToken429WaitsForReset: a 429 from the token endpoint waits for its
// Ratelimit-Reset, as one from Helix does, instead of retrying after a
// backoff that is shorter than the wait Twitch asked for.
func TestToken429WaitsForReset(t *testing.T) {
	e := newEnv(t, helixtest.Options{}, nil)
	reset := e.clock.Now().Add(30 * time.Second)
	e.srv.Fail(helixtest.EndpointToken, helixtest.Fault{
		Status: http.StatusTooManyRequests, Times: 1,
		RateLimitReset: reset,
	})
	if _, err := e.c.ValidateAppToken(context.Background()); err != nil {
		t.Fatalf("ValidateAppToken: %v", err)
	}
	if got, want := e.clock.Sleeps(), []time.Duration{30 * time.Second}; !slices.Equal(got, want) {
		t.Errorf("sleeps: got %v, want %v (until Ratelimit-Reset)", got, want)
	}
	if got := e.srv.Count(helixtest.EndpointToken); got != 2 {
		t.Errorf("token requests: got %d, want 2", got)
	}
}
