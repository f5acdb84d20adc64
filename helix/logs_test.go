package helix_test

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/farmd/farmd/helix"
	"github.com/farmd/farmd/helix/helixtest"
)

// TestNoSecretsInLogsOrErrors runs a whole session at debug level (token
// fetch, 401 renewal, retries, errors, validation) and checks that neither
// the client secret, nor any app token, nor the user token appears in a log
// line or an error text.
func TestNoSecretsInLogsOrErrors(t *testing.T) {
	const userToken = "usertokenabcdef0123456789"
	e := newEnv(t, helixtest.Options{ClientSecret: "supersecretvalue42"}, nil)
	e.srv.AddUserToken(userToken, "botaccount", "chat:read")
	id := e.srv.AddUser("alice")
	e.srv.SetLive("alice", true)
	ctx := context.Background()

	var errs []error
	record := func(err error) {
		if err != nil {
			errs = append(errs, err)
		}
	}
	_, err := e.c.ResolveLogins(ctx, []string{"alice", "ghost"})
	record(err)
	_, err = e.c.CheckStreams(ctx, []string{id})
	record(err)
	e.srv.RevokeAppTokens() // 401 -> renewal
	_, err = e.c.CheckStreams(ctx, []string{id})
	record(err)
	e.srv.Fail(helixtest.EndpointStreams, helixtest.Fault{Status: http.StatusServiceUnavailable, Times: 1})
	e.srv.Fail(helixtest.EndpointStreams, helixtest.Fault{Status: http.StatusUnauthorized, Times: 2})
	_, err = e.c.CheckStreams(ctx, []string{id})
	record(err)
	_, err = e.c.ValidateToken(ctx, "oauth:"+userToken)
	record(err)
	_, err = e.c.ValidateToken(ctx, "oauth:"+userToken+"x")
	record(err)
	_, err = e.c.ValidateAppToken(ctx)
	record(err)
	e.srv.Fail(helixtest.EndpointToken, helixtest.Fault{Status: http.StatusInternalServerError, Times: 1})
	e.srv.RevokeAppTokens()
	_, err = e.c.ValidateAppToken(ctx)
	record(err)

	// A client with a wrong secret: its error must not quote the secret.
	bad := newEnv(t, helixtest.Options{}, func(o *helix.Options) { o.ClientSecret = "wrongsecretvalue77" })
	_, err = bad.c.CheckStreams(ctx, []string{"1"})
	record(err)

	if len(errs) < 3 {
		t.Fatalf("session errors: got %d, want at least 3 (the session must exercise error paths)", len(errs))
	}
	issued := e.srv.IssuedAppTokens()
	if len(issued) < 3 {
		t.Fatalf("issued app tokens: got %d, want at least 3", len(issued))
	}
	logs := e.logs.String() + bad.logs.String()
	for _, want := range []string{`"component":"helix"`, "app token obtained", "app token rejected", `"level":"debug"`} {
		if !strings.Contains(logs, want) {
			t.Errorf("logs lack %q: the session did not log what it should", want)
		}
	}
	secrets := append([]string{"supersecretvalue42", "wrongsecretvalue77", userToken}, issued...)
	var texts []string
	texts = append(texts, logs, helix.Options{ClientSecret: "supersecretvalue42"}.String())
	for _, err := range errs {
		texts = append(texts, err.Error())
	}
	for i, s := range secrets {
		for j, text := range texts {
			// Name the secret and text by index only: the failure
			// message must not spread what the test protects.
			if strings.Contains(text, s) {
				t.Errorf("secret #%d appears in text #%d (0: logs, 1: Options.String, then errors)", i, j)
			}
		}
	}
}
