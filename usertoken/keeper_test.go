package usertoken_test

import (
	"context"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/farmd/farmd/helix"
	"github.com/farmd/farmd/helix/helixtest"
	"github.com/farmd/farmd/internal/testkit"
	"github.com/farmd/farmd/usertoken"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// env is a Keeper on a token stored in a temporary state_dir, talking to
// helixtest through the real helix client, on a fake clock.
type env struct {
	srv    *helixtest.Server
	clock  *testkit.Clock
	store  usertoken.Store
	logs   *testkit.LogBuffer
	k      *usertoken.Keeper
	done   chan error
	cancel context.CancelFunc
	saves  chan struct{}
}

func newEnv(tb testing.TB, ttl time.Duration, mod func(*usertoken.Options)) *env {
	tb.Helper()
	e := &env{clock: testkit.NewClock(), logs: testkit.NewLogBuffer(), saves: make(chan struct{}, 100)}
	e.srv = helixtest.New(helixtest.Options{Now: e.clock.Now, UserTokenTTL: ttl})
	tb.Cleanup(e.srv.Close)
	e.srv.AddRefreshableUserToken("access0", "refresh0", "farmbot", ttl, "chat:read")
	tr := &http.Transport{}
	tb.Cleanup(tr.CloseIdleConnections)
	api := helix.New(helix.Options{
		ClientID: e.srv.ClientID(), ClientSecret: e.srv.ClientSecret(),
		AuthURL: e.srv.AuthURL(), HelixURL: e.srv.HelixURL(),
		HTTPClient: &http.Client{Transport: tr, Timeout: 5 * time.Second},
		Now:        e.clock.Now, Sleep: e.clock.Sleep,
	})
	e.store = usertoken.StoreIn(tb.TempDir())
	tok := &usertoken.Token{
		AccessToken: "access0", RefreshToken: "refresh0", Login: "farmbot", UserID: "100001",
		ClientID: e.srv.ClientID(), Scopes: []string{"chat:read"},
		ExpiresAt: e.clock.Now().Add(ttl), Lifetime: ttl, ObtainedAt: e.clock.Now(),
	}
	if err := e.store.Save(tok); err != nil {
		tb.Fatal(err)
	}
	o := usertoken.Options{
		API: api, Logger: e.logs.Logger(),
		Save: func(t *usertoken.Token) error {
			err := e.store.Save(t)
			e.saves <- struct{}{}
			return err
		},
		Now: e.clock.Now, At: e.clock.At,
		RetryMin: time.Second, RetryMax: 4 * time.Second,
	}
	if mod != nil {
		mod(&o)
	}
	e.k = usertoken.NewKeeper(o, tok)
	ctx, cancel := context.WithCancel(context.Background())
	e.cancel, e.done = cancel, make(chan error, 1)
	go func() { e.done <- e.k.Run(ctx) }()
	tb.Cleanup(func() { e.stop(tb) })
	return e
}

func (e *env) stop(tb testing.TB) error {
	tb.Helper()
	e.cancel()
	select {
	case err := <-e.done:
		e.done <- err
		return err
	case <-time.After(testkit.WaitMax):
		tb.Fatal("Run did not return")
		return nil
	}
}

// waiting waits until Run waits on the clock, so that an Advance is seen.
func (e *env) waiting(tb testing.TB) {
	tb.Helper()
	testkit.Eventually(tb, "the keeper to wait on the clock", func() bool { return e.clock.Waiters() > 0 })
}

func (e *env) refreshes(tb testing.TB, n int) {
	tb.Helper()
	testkit.Eventually(tb, "refreshes", func() bool { return e.k.Status().Refreshes >= int64(n) })
}

// TestRefreshBeforeExpiry: a 4-hour token is renewed when 10 minutes are
// left, not before; the rotated pair is stored (0600) before it is used,
// and the old refresh token is spent.
func TestRefreshBeforeExpiry(t *testing.T) {
	e := newEnv(t, 4*time.Hour, nil)
	e.waiting(t)
	e.clock.Advance(3*time.Hour + 49*time.Minute)
	e.waiting(t)
	if n := e.srv.Refreshes(); n != 0 {
		t.Fatalf("%d refreshes 11 minutes before expiry, want 0", n)
	}
	e.clock.Advance(2 * time.Minute)
	e.refreshes(t, 1)
	got, err := e.store.Load()
	if err != nil {
		t.Fatal(err)
	}
	if got.AccessToken != e.k.Token() || got.RefreshToken == "refresh0" || got.Login != "farmbot" {
		t.Errorf("stored %v (access %q), want the rotated pair in use", got, got.AccessToken)
	}
	if want := e.clock.Now().Add(4 * time.Hour); !got.ExpiresAt.Equal(want) {
		t.Errorf("stored expiry %v, want %v (from /validate)", got.ExpiresAt, want)
	}
	st, err := os.Stat(e.store.Path)
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Errorf("token file mode %v (%v), want 0600", st.Mode().Perm(), err)
	}
	if _, ok := e.srv.UserTokenLogin(got.AccessToken); !ok {
		t.Error("the stored access token is not valid at Twitch")
	}
	assertNoSecrets(t, e)
}

// TestShortLifetimeRefreshedAtAQuarter: a 20-minute token is renewed with
// 5 minutes left.
func TestShortLifetimeRefreshedAtAQuarter(t *testing.T) {
	e := newEnv(t, 20*time.Minute, nil)
	e.waiting(t)
	e.clock.Advance(14 * time.Minute)
	e.waiting(t)
	if n := e.srv.Refreshes(); n != 0 {
		t.Fatalf("%d refreshes with 6 minutes left, want 0", n)
	}
	e.clock.Advance(90 * time.Second)
	e.refreshes(t, 1)
}

// TestInvalidateRefreshesOnce: a rejected token is renewed at once; a late
// report about the old token after that changes nothing.
func TestInvalidateRefreshesOnce(t *testing.T) {
	e := newEnv(t, 4*time.Hour, nil)
	e.waiting(t)
	e.k.Invalidate("access0")
	e.refreshes(t, 1)
	e.k.Invalidate("access0") // the same rejection, reported again
	e.waiting(t)
	if n := e.srv.Refreshes(); n != 1 {
		t.Errorf("%d refreshes, want 1", n)
	}
}

// TestRevokedRefreshTokenIsFatal: Twitch refusing the refresh token ends
// Run with ErrLoginNeeded, whose text tells what to run.
func TestRevokedRefreshTokenIsFatal(t *testing.T) {
	e := newEnv(t, 4*time.Hour, nil)
	e.waiting(t)
	e.srv.RevokeUser("farmbot")
	e.k.Invalidate("access0")
	var err error
	select {
	case err = <-e.done:
		e.done <- err
	case <-time.After(testkit.WaitMax):
		t.Fatal("Run did not return after the refresh token was refused")
	}
	if !errors.Is(err, usertoken.ErrLoginNeeded) || !strings.Contains(err.Error(), "farmd login") {
		t.Errorf("Run = %v, want ErrLoginNeeded naming farmd login", err)
	}
}

// TestServerErrorsAreRetried: 5xx on refresh is retried with backoff while
// the current token is kept, and is not fatal.
func TestServerErrorsAreRetried(t *testing.T) {
	e := newEnv(t, 4*time.Hour, nil)
	e.waiting(t)
	e.srv.Fail(helixtest.EndpointToken, helixtest.Fault{Status: 503, Times: 8}) // two refreshes' worth of attempts
	e.k.Invalidate("access0")
	testkit.Eventually(t, "a failed refresh", func() bool { return e.k.Status().LastError != "" })
	if e.k.Token() != "access0" {
		t.Errorf("token changed after a failed refresh")
	}
	e.logs.WaitContains(t, "could not refresh the user token; retrying")
	for e.k.Status().Refreshes == 0 {
		e.waiting(t)
		e.clock.Advance(5 * time.Second)
		select {
		case err := <-e.done:
			t.Fatalf("Run returned %v on 5xx", err)
		default:
		}
	}
	if st := e.k.Status(); st.LastError != "" || !st.FailingSince.IsZero() {
		t.Errorf("status after recovery %+v, want no error", st)
	}
}

// TestStoreFailureKeepsTheNewToken: when the renewed token cannot be
// stored, the Keeper still uses it (the old refresh token is spent) and
// says loudly what that means; the old file is untouched.
func TestStoreFailureKeepsTheNewToken(t *testing.T) {
	e := newEnv(t, 4*time.Hour, func(o *usertoken.Options) {
		o.Save = func(*usertoken.Token) error { return errors.New("disk full") }
	})
	e.waiting(t)
	e.k.Invalidate("access0")
	e.refreshes(t, 1)
	if e.k.Token() == "access0" {
		t.Error("the renewed token is not in use")
	}
	e.logs.WaitContains(t, "could not store the renewed user token")
	got, err := e.store.Load()
	if err != nil || got.AccessToken != "access0" {
		t.Errorf("file after a failed store: %v, %v; want the old token, readable", got, err)
	}
}

// TestCrashBeforeStoreLeavesAUsableFile: a crash between receiving the
// rotated pair and storing it (the Save that never returns) leaves the old
// token file whole, and its access token still works at Twitch.
func TestCrashBeforeStoreLeavesAUsableFile(t *testing.T) {
	block := make(chan struct{})
	defer close(block)
	reached := make(chan struct{})
	e := newEnv(t, 4*time.Hour, func(o *usertoken.Options) {
		o.Save = func(*usertoken.Token) error { close(reached); <-block; return nil }
	})
	e.waiting(t)
	e.k.Invalidate("access0")
	<-reached // the "crash": the process is killed here
	got, err := e.store.Load()
	if err != nil {
		t.Fatalf("token file after the crash: %v", err)
	}
	if login, ok := e.srv.UserTokenLogin(got.AccessToken); !ok || login != "farmbot" {
		t.Errorf("the file's access token does not log in (%q, %v)", login, ok)
	}
	entries, _ := os.ReadDir(filepath.Dir(e.store.Path))
	if len(entries) != 1 {
		t.Errorf("state dir holds %d files, want only token.json", len(entries))
	}
}

func TestStoreErrors(t *testing.T) {
	dir := t.TempDir()
	s := usertoken.StoreIn(dir)
	if _, err := s.Load(); !errors.Is(err, usertoken.ErrNoToken) || !strings.Contains(err.Error(), "farmd login") {
		t.Errorf("Load of a missing file = %v, want ErrNoToken naming farmd login", err)
	}
	if err := os.WriteFile(s.Path, []byte(`{"login":"x"}`), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Load(); err == nil || !strings.Contains(err.Error(), "token.json") {
		t.Errorf("Load of an incomplete file = %v, want an error naming the file", err)
	}
	tok := usertoken.Token{AccessToken: "sekritaccess", RefreshToken: "sekritrefresh", Login: "farmbot"}
	for _, s := range []string{tok.String(), tok.GoString()} {
		if strings.Contains(s, "sekrit") {
			t.Errorf("Token's text shows a secret: %s", s)
		}
	}
}

func assertNoSecrets(tb testing.TB, e *env) {
	tb.Helper()
	logs := e.logs.String()
	for _, s := range append(e.srv.IssuedUserTokens(), "access0", "refresh0") {
		if strings.Contains(logs, s) {
			tb.Errorf("a token appears in the log:\n%s", logs)
		}
	}
}

func TestMemoryStorage(t *testing.T) {
	var m usertoken.MemoryStorage
	if _, err := m.Load(); !errors.Is(err, usertoken.ErrNoToken) {
		t.Fatalf("Load of an empty MemoryStorage = %v, want ErrNoToken", err)
	}
	tok := &usertoken.Token{AccessToken: "a", RefreshToken: "r", Login: "farmbot", Scopes: []string{"chat:read"}}
	if err := m.Save(tok); err != nil {
		t.Fatal(err)
	}
	tok.Scopes[0] = "changed" // the saved copy must not change with it
	got, err := m.Load()
	if err != nil || got.Login != "farmbot" || got.Scopes[0] != "chat:read" {
		t.Errorf("Load = %v (scopes %v), %v; want the saved copy", got, got.Scopes, err)
	}
}
