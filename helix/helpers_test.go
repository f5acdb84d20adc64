package helix_test

import (
	"bytes"
	"context"
	"net/http"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"
	"go.uber.org/goleak"

	"github.com/farmd/farmd/helix"
	"github.com/farmd/farmd/helix/helixtest"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// clock is a fake time source shared by the client and the fake server.
// Sleeping advances it, so backoff and rate-limit waits cost no real time.
type clock struct {
	mu     sync.Mutex
	now    time.Time
	sleeps []time.Duration
}

func newClock() *clock { return &clock{now: time.Unix(1_700_000_000, 0)} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

func (c *clock) Sleep(ctx context.Context, d time.Duration) error {
	c.mu.Lock()
	c.sleeps = append(c.sleeps, d)
	c.now = c.now.Add(d)
	c.mu.Unlock()
	return ctx.Err()
}

func (c *clock) Sleeps() []time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]time.Duration(nil), c.sleeps...)
}

// syncBuffer is a bytes.Buffer safe for zerolog's concurrent writes.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// env is a helix.Client talking to a helixtest.Server over real HTTP.
type env struct {
	srv   *helixtest.Server
	c     *helix.Client
	clock *clock
	logs  *syncBuffer
}

// newEnv starts a fake server and a client for it. mod, if not nil, edits
// the client options before New.
func newEnv(tb testing.TB, sopts helixtest.Options, mod func(*helix.Options)) *env {
	tb.Helper()
	clk := newClock()
	if sopts.Now == nil {
		sopts.Now = clk.Now
	}
	srv := helixtest.New(sopts)
	tr := &http.Transport{}
	tb.Cleanup(func() {
		srv.Close()
		tr.CloseIdleConnections()
	})
	logs := &syncBuffer{}
	o := helix.Options{
		ClientID:     srv.ClientID(),
		ClientSecret: srv.ClientSecret(),
		AuthURL:      srv.AuthURL(),
		HelixURL:     srv.HelixURL(),
		HTTPClient:   &http.Client{Transport: tr, Timeout: 10 * time.Second},
		Logger:       zerolog.New(logs).Level(zerolog.DebugLevel),
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
