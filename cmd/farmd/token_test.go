package main

import (
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/farmd/farmd/helix/helixtest"
	"github.com/farmd/farmd/internal/testkit"
	"github.com/farmd/farmd/irc/irctest"
	"github.com/farmd/farmd/usertoken"
)

// tokenWorld is a simulated Twitch where the chat account's token is the
// one `farmd login` stored: chat accepts only tokens Helix considers valid
// (unexpired, not revoked), and the fake's clock is the keeper's.
type tokenWorld struct {
	*world
	clock *testkit.Clock
	dir   string // state_dir
	store usertoken.Store
}

// newTokenWorld stores a token of lifetime ttl for botName, as `farmd
// login` would have.
func newTokenWorld(tb testing.TB, ttl time.Duration, helixOpts helixtest.Options) *tokenWorld {
	tb.Helper()
	clock := testkit.NewClock()
	helixOpts.Now = clock.Now
	if helixOpts.UserTokenTTL == 0 {
		helixOpts.UserTokenTTL = ttl // renewed tokens live as long as the first
	}
	w := &tokenWorld{clock: clock, dir: tb.TempDir()}
	var tw *helixtest.Server
	w.world = newWorldWith(tb, helixOpts, irctest.Options{
		Username:   botName,
		CheckToken: func(tok string) (string, bool) { return tw.UserTokenLogin(tok) },
	})
	tw = w.tw
	w.tw.AddRefreshableUserToken("access0", "refresh0", botName, ttl, "chat:read", "user:read:follows")
	w.store = usertoken.StoreIn(w.dir)
	err := w.store.Save(&usertoken.Token{
		AccessToken: "access0", RefreshToken: "refresh0", Login: botName, UserID: w.tw.AddUser(botName),
		ClientID: helixtest.DefaultClientID, Scopes: []string{"chat:read", "user:read:follows"},
		ExpiresAt: clock.Now().Add(ttl), Lifetime: ttl, ObtainedAt: clock.Now(),
	})
	if err != nil {
		tb.Fatal(err)
	}
	return w
}

// tune runs the keeper on the world's clock.
func (w *tokenWorld) tune(t *tuning) {
	t.now, t.at = w.clock.Now, w.clock.At
}

func (w *tokenWorld) stored(tb testing.TB) *usertoken.Token {
	tb.Helper()
	tok, err := w.store.Load()
	if err != nil {
		tb.Fatal(err)
	}
	return tok
}

// TestDaemonUsesStoredToken: without irc.token farmd logs in to chat with
// the stored token and needs no irc.username.
func TestDaemonUsesStoredToken(t *testing.T) {
	w := newTokenWorld(t, 4*time.Hour, helixtest.Options{})
	w.add(true, "alice")
	c := cfg{streamers: []string{"alice"}, stateDir: w.dir}
	text := strings.Replace(w.yaml(c), "  username: "+botName+"\n", "", 1)
	p := start(t, text, w.tune)
	w.waitJoined(t, p, "alice")
	if n := countReceived(w.chat, "PASS oauth:access0"); n != 1 {
		t.Errorf("%d logins with the stored token, want 1", n)
	}
	if code := p.stop(); code != exitOK {
		t.Errorf("exit %d, want 0", code)
	}
}

// TestNoStoredTokenExits2: without irc.token and without token.json, farmd
// exits 2 before any network traffic and says to run farmd login.
func TestNoStoredTokenExits2(t *testing.T) {
	w := newWorld(t, irctest.Options{})
	p := start(t, w.yaml(cfg{streamers: []string{"alice"}, stateDir: t.TempDir()}), nil)
	if code := p.wait(); code != exitConfig {
		t.Fatalf("exit %d, want 2", code)
	}
	if !strings.Contains(p.stderr.String(), "run `farmd login --config") {
		t.Errorf("the log does not say to run farmd login:\n%s", testkit.Tail(p.stderr.String(), 5))
	}
	if n := w.tw.Count(helixtest.EndpointValidate) + w.tw.Count(helixtest.EndpointToken) + w.chat.Connections(); n != 0 {
		t.Errorf("%d requests or connections before exiting, want 0", n)
	}
}

// TestRefreshBeforeExpiryKeepsPresence: the keeper renews the token with
// ten minutes left; the open chat connection is kept, the rotated pair is
// stored, and the next connection (after the old token expired) logs in
// with the new token and joins again.
func TestRefreshBeforeExpiryKeepsPresence(t *testing.T) {
	w := newTokenWorld(t, 4*time.Hour, helixtest.Options{})
	w.add(true, "alice")
	p := start(t, w.yaml(cfg{streamers: []string{"alice"}, stateDir: w.dir}), w.tune)
	w.waitJoined(t, p, "alice")
	testkit.Eventually(t, "the keeper to wait", func() bool { return w.clock.Waiters() > 0 })
	w.clock.Advance(3*time.Hour + 51*time.Minute)
	testkit.Eventually(t, "a refresh", func() bool { return w.tw.Refreshes() == 1 })
	testkit.Eventually(t, "the rotated pair stored", func() bool { return w.stored(t).RefreshToken != "refresh0" })
	if n := w.chat.Connections(); n != 1 {
		t.Errorf("%d chat connections after the refresh, want 1 (the open one is kept)", n)
	}
	w.clock.Advance(10 * time.Minute) // access0 has expired
	w.chat.Drop()
	testkit.WaitChat(t, w.chat, "a second login", func(s *irctest.Server) bool { return s.Logins() == 2 })
	w.waitJoined(t, p, "alice")
	if n := countReceived(w.chat, "PASS oauth:"+w.stored(t).AccessToken); n != 1 {
		t.Errorf("the reconnect did not log in with the renewed token")
	}
	assertNoTokenLeaks(t, w, p)
}

// TestRefreshOnValidate401: the hourly validation finding the token
// expired renews it at once instead of exiting.
func TestRefreshOnValidate401(t *testing.T) {
	w := newTokenWorld(t, 4*time.Hour, helixtest.Options{})
	w.add(true, "alice")
	p := start(t, w.yaml(cfg{streamers: []string{"alice"}, stateDir: w.dir}), chain(w.tune, func(t *tuning) { t.validateEvery = 30 * time.Millisecond }))
	w.waitJoined(t, p, "alice")
	w.tw.ExpireUserToken("access0")
	testkit.Eventually(t, "a refresh", func() bool { return w.tw.Refreshes() == 1 })
	p.stderr.WaitContains(t, "Twitch says the chat token is no longer valid; renewing it")
	w.polls(t, 2)
	if p.exited {
		t.Fatal("farmd exited")
	}
	if got := w.parts(); len(got) != 0 {
		t.Errorf("PARTs %v while renewing the token, want none", got)
	}
}

// TestRefreshOnChatRejection: chat refusing the token at a reconnect makes
// the keeper renew it, and the next attempt logs in with the new token.
func TestRefreshOnChatRejection(t *testing.T) {
	w := newTokenWorld(t, 4*time.Hour, helixtest.Options{})
	w.add(true, "alice")
	p := start(t, w.yaml(cfg{streamers: []string{"alice"}, stateDir: w.dir}), w.tune)
	w.waitJoined(t, p, "alice")
	w.tw.ExpireUserToken("access0")
	w.chat.Drop()
	testkit.Eventually(t, "a refresh", func() bool { return w.tw.Refreshes() == 1 })
	testkit.WaitChat(t, w.chat, "a login with the new token", func(s *irctest.Server) bool { return s.Logins() == 2 })
	w.waitJoined(t, p, "alice")
	p.stderr.WaitContains(t, "login rejected; reconnecting with a renewed token")
}

// TestRevokedRefreshTokenExits1: when the user disconnected the app on
// Twitch, the refresh is refused: exit 1 telling to run farmd login.
func TestRevokedRefreshTokenExits1(t *testing.T) {
	w := newTokenWorld(t, 4*time.Hour, helixtest.Options{})
	w.add(true, "alice")
	p := start(t, w.yaml(cfg{streamers: []string{"alice"}, stateDir: w.dir}), chain(w.tune, func(t *tuning) { t.validateEvery = 30 * time.Millisecond }))
	w.waitJoined(t, p, "alice")
	w.tw.RevokeUser(botName)
	if code := p.wait(); code != exitFatal {
		t.Fatalf("exit %d, want 1", code)
	}
	if !strings.Contains(p.stderr.String(), "run `farmd login`") {
		t.Errorf("the log does not say to run farmd login:\n%s", testkit.Tail(p.stderr.String(), 5))
	}
}

// TestRefreshServerErrorsRetried: 5xx answers to the refresh are retried
// with backoff; farmd stays up and in its channels, then renews.
func TestRefreshServerErrorsRetried(t *testing.T) {
	w := newTokenWorld(t, 4*time.Hour, helixtest.Options{})
	w.add(true, "alice")
	p := start(t, w.yaml(cfg{streamers: []string{"alice"}, stateDir: w.dir}), chain(w.tune, func(t *tuning) { t.validateEvery = 30 * time.Millisecond }))
	w.waitJoined(t, p, "alice")
	w.tw.Fail(helixtest.EndpointToken, helixtest.Fault{Status: 503})
	w.tw.ExpireUserToken("access0")
	p.stderr.WaitContains(t, "could not refresh the user token; retrying")
	w.tw.ClearFaults(helixtest.EndpointToken)
	for w.tw.Refreshes() == 0 { // the keeper's backoff runs on the world's clock
		testkit.Eventually(t, "the keeper to wait", func() bool { return w.clock.Waiters() > 0 || w.tw.Refreshes() > 0 })
		w.clock.Advance(10 * time.Second)
		if p.exited {
			t.Fatal("farmd exited on 5xx")
		}
	}
	if got := w.chat.Joined(); len(got) != 1 {
		t.Errorf("joined %v, want [alice]", got)
	}
}

// TestRestartUsesRotatedToken: after a refresh, a restart logs in with the
// rotated pair from token.json (the old access token has expired and the
// old refresh token is spent, so nothing else would work).
func TestRestartUsesRotatedToken(t *testing.T) {
	w := newTokenWorld(t, 4*time.Hour, helixtest.Options{})
	w.add(true, "alice")
	c := cfg{streamers: []string{"alice"}, stateDir: w.dir}
	p := start(t, w.yaml(c), w.tune)
	w.waitJoined(t, p, "alice")
	testkit.Eventually(t, "the keeper to wait", func() bool { return w.clock.Waiters() > 0 })
	w.clock.Advance(3*time.Hour + 51*time.Minute)
	testkit.Eventually(t, "a refresh", func() bool { return w.tw.Refreshes() == 1 })
	testkit.Eventually(t, "the rotated pair stored", func() bool { return w.stored(t).RefreshToken != "refresh0" })
	if code := p.stop(); code != exitOK {
		t.Fatalf("exit %d", code)
	}
	w.tw.ExpireUserToken("access0")
	p2 := start(t, w.yaml(c), w.tune)
	w.waitJoined(t, p2, "alice")
	if n := w.tw.Refreshes(); n != 1 {
		t.Errorf("%d refreshes, want 1 (the restart uses the stored, still valid token)", n)
	}
}

// TestPublicClientNeedsNoSecret: a public application (no client secret)
// runs on the stored token alone, for Helix too: no app token is asked for.
func TestPublicClientNeedsNoSecret(t *testing.T) {
	w := newTokenWorld(t, 4*time.Hour, helixtest.Options{PublicClient: true})
	w.add(true, "alice")
	p := start(t, w.yaml(cfg{streamers: []string{"alice"}, stateDir: w.dir, noSecret: true}), w.tune)
	w.waitJoined(t, p, "alice")
	w.polls(t, 2)
	if n := w.tw.Count(helixtest.EndpointToken); n != 0 {
		t.Errorf("%d token requests, want 0 (no app token without a secret)", n)
	}
}

// TestTokenFileAndNoLeaks: token.json is 0600 and no token appears in the
// log (at debug level), /status or /metrics, which show the token's source,
// login and expiry.
func TestTokenFileAndNoLeaks(t *testing.T) {
	defer http.DefaultClient.CloseIdleConnections()
	w := newTokenWorld(t, 4*time.Hour, helixtest.Options{})
	w.add(true, "alice")
	addr := freeAddr(t)
	p := start(t, w.yaml(cfg{streamers: []string{"alice"}, stateDir: w.dir, httpListen: addr}), w.tune)
	w.waitJoined(t, p, "alice")
	testkit.Eventually(t, "the keeper to wait", func() bool { return w.clock.Waiters() > 0 })
	w.clock.Advance(3*time.Hour + 51*time.Minute)
	testkit.Eventually(t, "a refresh", func() bool { return w.tw.Refreshes() == 1 })
	st, err := os.Stat(filepath.Join(w.dir, usertoken.FileName))
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Errorf("token.json mode %v (%v), want 0600", st.Mode().Perm(), err)
	}
	var status string
	testkit.Eventually(t, "/status to show the refresh", func() bool {
		_, status = httpGet(t, "http://"+addr+"/status")
		return strings.Contains(status, `"refreshes": 1`)
	})
	if !strings.Contains(status, `"source": "stored"`) || !strings.Contains(status, `"login": "`+botName+`"`) {
		t.Errorf("/status does not describe the token:\n%s", status)
	}
	_, metrics := httpGet(t, "http://"+addr+"/metrics")
	if !strings.Contains(metrics, "farmd_user_token_refreshes_total 1") {
		t.Errorf("/metrics lacks farmd_user_token_refreshes_total 1")
	}
	for _, secret := range append(w.tw.IssuedUserTokens(), "access0", "refresh0", helixtest.DefaultClientSecret) {
		if strings.Contains(status+metrics, secret) {
			t.Errorf("a token appears in /status or /metrics")
		}
	}
	assertNoTokenLeaks(t, w, p)
}

func assertNoTokenLeaks(tb testing.TB, w *tokenWorld, p *proc) {
	tb.Helper()
	logs := p.stdout.String() + p.stderr.String()
	for _, secret := range append(w.tw.IssuedUserTokens(), "access0", "refresh0", helixtest.DefaultClientSecret) {
		if strings.Contains(logs, secret) {
			tb.Errorf("a token appears in the log")
		}
	}
}

// countReceived counts the lines the chat server received equal to line.
func countReceived(s *irctest.Server, line string) int {
	n := 0
	for _, l := range s.Received() {
		if l == line {
			n++
		}
	}
	return n
}

// TestChatRefusesRenewedTokensExits1: chat refusing every login, even with
// freshly renewed tokens that Helix accepts, ends farmd (exit 1) after a
// bounded number of renewals instead of renewing forever.
func TestChatRefusesRenewedTokensExits1(t *testing.T) {
	w := newTokenWorld(t, 4*time.Hour, helixtest.Options{})
	w.add(true, "alice")
	w.chat.SetRejectLogin(true)
	p := start(t, w.yaml(cfg{streamers: []string{"alice"}, stateDir: w.dir}), w.tune)
	if code := p.wait(); code != exitFatal {
		t.Fatalf("exit %d, want 1", code)
	}
	if n := w.tw.Refreshes(); n != maxChatRejections {
		t.Errorf("%d refreshes, want %d", n, maxChatRejections)
	}
}

// TestTokenSoak runs farmd across 1,000 lifetimes of its chat token on the
// fake clock (100 with -short): each lifetime ends in a renewal, every
// tenth the chat connection drops and must log in again with the current
// token (the older ones have expired), and presence must hold throughout:
// every live channel joined again after each drop, no PART ever.
func TestTokenSoak(t *testing.T) {
	lifetimes := 1000
	if testing.Short() {
		lifetimes = 100
	}
	const ttl = time.Hour
	w := newTokenWorld(t, ttl, helixtest.Options{})
	live := []string{"alice", "bob", "carol"}
	w.add(true, live...)
	renewed := make(chan usertoken.Status, 1)
	// verified_bot: a hundred reconnects of three JOINs each would otherwise
	// wait for the 20-per-10-s JOIN limit, which is not what this soaks.
	c := cfg{streamers: live, stateDir: w.dir, interval: "500ms", extraIRC: "  verified_bot: true\n"}
	p := start(t, w.yaml(c), chain(w.tune, func(t *tuning) {
		t.onTokenRefresh = func(s usertoken.Status) { renewed <- s }
	}), "--log-level", "info")
	w.waitJoined(t, p, live...)
	began := time.Now()
	reconnects := 0
	for i := 1; i <= lifetimes; i++ {
		// Past the renewal point (10 minutes before expiry) of the token
		// in use: one renewal, and the token before it expires meanwhile.
		w.clock.Advance(ttl - 10*time.Minute + time.Second)
		select {
		case s := <-renewed:
			if s.Refreshes != int64(i) {
				t.Fatalf("renewal %d reports %d renewals", i, s.Refreshes)
			}
		case <-time.After(waitMax):
			t.Fatalf("no renewal %d", i)
		}
		if i%10 == 0 {
			logins := w.chat.Logins()
			w.chat.Drop()
			testkit.WaitChat(t, w.chat, fmt.Sprintf("login %d", logins+1), func(s *irctest.Server) bool { return s.Logins() > logins })
			w.waitJoined(t, p, live...)
			reconnects++
		}
		if p.exited {
			t.Fatalf("farmd exited after %d lifetimes:\n%s", i, testkit.Tail(p.stderr.String(), 10))
		}
	}
	if n := w.tw.Refreshes(); n != lifetimes {
		t.Errorf("%d renewals over %d lifetimes, want one each", n, lifetimes)
	}
	if got := w.parts(); len(got) != 0 {
		t.Errorf("PARTs during the soak: %v", got)
	}
	if n := strings.Count(p.stderr.String(), "login rejected"); n != 0 {
		t.Errorf("%d chat logins rejected, want 0 (every reconnect had a valid token)", n)
	}
	t.Logf("%d token lifetimes (%s of token time), %d renewals, %d reconnects with the renewed token, in %s",
		lifetimes, time.Duration(lifetimes)*(ttl-10*time.Minute+time.Second), w.tw.Refreshes(), reconnects, time.Since(began).Round(time.Millisecond))
	if code := p.stop(); code != exitOK {
		t.Errorf("exit %d, want 0", code)
	}
}
