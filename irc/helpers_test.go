package irc

import (
	"context"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/farmd/farmd/internal/testkit"
	"github.com/farmd/farmd/irc/irctest"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

const (
	testUser  = "farmbot"
	testToken = "s3cr3ttoken0123456789"
)

// newServer starts an irctest server that accepts testUser/testToken.
func newServer(tb testing.TB, o irctest.Options) *irctest.Server {
	tb.Helper()
	if o.Username == "" {
		o.Username = testUser
	}
	if o.Token == "" {
		o.Token = testToken
	}
	srv, err := irctest.NewServer(o)
	if err != nil {
		tb.Fatalf("start irctest server: %v", err)
	}
	tb.Cleanup(srv.Close)
	return srv
}

// fastOptions are Options pointing at srv with durations short enough for a
// suite that takes seconds.
func fastOptions(srv *irctest.Server) Options {
	return Options{
		Address:         srv.Addr(),
		TLSConfig:       srv.ClientTLSConfig(),
		TLS:             srv.ClientTLSConfig() != nil,
		Username:        testUser,
		Token:           testToken,
		JoinTimeout:     5 * time.Second,
		BackoffMin:      5 * time.Millisecond,
		BackoffMax:      20 * time.Millisecond,
		PingInterval:    time.Minute,
		PongTimeout:     time.Minute,
		WelcomeTimeout:  5 * time.Second,
		ShutdownTimeout: 2 * time.Second,
	}
}

// events records a Manager's events and signals every new one.
type events struct {
	mu      sync.Mutex
	list    []Event
	changed chan struct{}
}

func newEvents() *events { return &events{changed: make(chan struct{})} }

func (e *events) add(ev Event) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.list = append(e.list, ev)
	close(e.changed)
	e.changed = make(chan struct{})
}

func (e *events) snapshot() ([]Event, <-chan struct{}) {
	e.mu.Lock()
	defer e.mu.Unlock()
	return slices.Clone(e.list), e.changed
}

// count returns how many events of kind for channel ("" for any) were seen.
func (e *events) count(kind EventKind, channel string) int {
	list, _ := e.snapshot()
	return countEvents(list, kind, channel)
}

func countEvents(list []Event, kind EventKind, channel string) int {
	n := 0
	for _, ev := range list {
		if ev.Kind == kind && (channel == "" || ev.Channel == channel) {
			n++
		}
	}
	return n
}

// waitEvent waits until at least n events of kind for channel were seen.
func (e *events) waitEvent(tb testing.TB, kind EventKind, channel string, n int) {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), testkit.WaitMax)
	defer cancel()
	for {
		list, ch := e.snapshot()
		got := countEvents(list, kind, channel)
		if got >= n {
			return
		}
		select {
		case <-ch:
		case <-ctx.Done():
			tb.Fatalf("waiting for %d %v event(s) for %q: got %d; events: %v", n, kind, channel, got, list)
		}
	}
}

// running is a Manager whose Run runs in a goroutine.
type running struct {
	m      *Manager
	ev     *events
	cancel context.CancelFunc
	done   chan error
	once   sync.Once
	err    error
}

// start runs New(o).Run and stops it at cleanup.
func start(tb testing.TB, o Options) *running {
	tb.Helper()
	return startManager(tb, New(o))
}

// startManager runs an existing Manager (made with New) and records its
// events from now on.
func startManager(tb testing.TB, m *Manager) *running {
	tb.Helper()
	ev := newEvents()
	m.o.OnEvent = ev.add
	r := &running{m: m, ev: ev, done: make(chan error, 1)}
	ctx, cancel := context.WithCancel(context.Background())
	r.cancel = cancel
	go func() { r.done <- m.Run(ctx) }()
	tb.Cleanup(func() { r.stop(tb) })
	return r
}

// stop cancels Run and returns its result.
func (r *running) stop(tb testing.TB) error {
	tb.Helper()
	r.once.Do(func() {
		r.cancel()
		select {
		case r.err = <-r.done:
		case <-time.After(testkit.WaitMax):
			tb.Fatalf("Run did not return within %s of cancel", testkit.WaitMax)
		}
	})
	return r.err
}

// result waits for Run to return by itself.
func (r *running) result(tb testing.TB) error {
	tb.Helper()
	select {
	case err := <-r.done:
		r.once.Do(func() { r.cancel(); r.err = err })
		return err
	case <-time.After(testkit.WaitMax):
		tb.Fatalf("Run did not return within %s", testkit.WaitMax)
		return nil
	}
}

// joinedAre returns a condition: the server has the account in exactly chans.
func joinedAre(chans ...string) func(*irctest.Server) bool {
	want := slices.Sorted(slices.Values(chans))
	return func(s *irctest.Server) bool { return slices.Equal(s.Joined(), want) }
}

// countLines counts received lines equal to line.
func countLines(srv *irctest.Server, line string) int {
	n := 0
	for _, l := range srv.Received() {
		if l == line {
			n++
		}
	}
	return n
}

// joinsOf counts the JOINs of channel the server received, multi-channel
// JOINs included.
func joinsOf(srv *irctest.Server, channel string) int {
	n := 0
	for _, r := range srv.JoinLog() {
		for _, c := range r.Channels {
			if c == channel {
				n++
			}
		}
	}
	return n
}

// indexOf returns the index of the first received line with prefix, or -1.
func indexOf(lines []string, prefix string) int {
	return slices.IndexFunc(lines, func(l string) bool { return strings.HasPrefix(l, prefix) })
}

// channelState returns the state of channel in m's Status.
func channelState(m *Manager, channel string) (ChannelStatus, bool) {
	for _, c := range m.Status().Channels {
		if c.Name == channel {
			return c, true
		}
	}
	return ChannelStatus{}, false
}
