package helix_test

import (
	"net/http"
	"strconv"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/farmd/farmd/helix"
	"github.com/farmd/farmd/helix/helixtest"
	"github.com/farmd/farmd/internal/testkit"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// env is a helix.Client talking to a helixtest.Server over real HTTP.
type env struct {
	srv   *helixtest.Server
	c     *helix.Client
	clock *testkit.Clock
	logs  *testkit.LogBuffer
}

// newEnv starts a fake server and a client for it. mod, if not nil, edits
// the client options before New.
func newEnv(tb testing.TB, sopts helixtest.Options, mod func(*helix.Options)) *env {
	tb.Helper()
	clk := testkit.NewClock()
	if sopts.Now == nil {
		sopts.Now = clk.Now
	}
	srv := helixtest.New(sopts)
	tr := &http.Transport{}
	tb.Cleanup(func() {
		srv.Close()
		tr.CloseIdleConnections()
	})
	logs := testkit.NewLogBuffer()
	o := helix.Options{
		ClientID:     srv.ClientID(),
		ClientSecret: srv.ClientSecret(),
		AuthURL:      srv.AuthURL(),
		HelixURL:     srv.HelixURL(),
		HTTPClient:   &http.Client{Transport: tr, Timeout: 10 * time.Second},
		Logger:       logs.Logger(),
		Now:          clk.Now,
		Sleep:        clk.Sleep,
	}
	if mod != nil {
		mod(&o)
	}
	return &env{srv: srv, c: helix.New(o), clock: clk, logs: logs}
}

// addUsers adds n users named prefix0, prefix1, ... and returns their IDs.
func addUsers(tb testing.TB, srv *helixtest.Server, prefix string, n int) []string {
	tb.Helper()
	ids := make([]string, n)
	for i := range ids {
		ids[i] = srv.AddUser(prefix + strconv.Itoa(i))
	}
	return ids
}
