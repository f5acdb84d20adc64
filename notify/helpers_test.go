package notify

import (
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"
	"go.uber.org/goleak"

	"github.com/farmd/farmd/internal/testkit"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// request is what a fake service received.
type request struct {
	Method, Host, Path, ContentType string
	Body                            string
	Form                            url.Values
}

// fakeService is an HTTP server standing in for a notification service.
// Respond, when set, writes the answer (default: 200 with reply as body);
// Hang makes every request wait until Release.
type fakeService struct {
	*httptest.Server
	reply   string
	status  func(n int) int // status of the n-th request (from 1); nil: 200
	hang    bool
	entered chan struct{} // a hanging request arrived
	aborted chan struct{} // a hanging request's client went away
	release chan struct{}
	once    sync.Once

	mu       sync.Mutex
	requests []request
	changed  chan struct{}
}

func newFake(tb testing.TB, reply string) *fakeService {
	tb.Helper()
	f := &fakeService{reply: reply, entered: make(chan struct{}, 100), aborted: make(chan struct{}, 100), release: make(chan struct{}), changed: make(chan struct{})}
	f.Server = httptest.NewServer(http.HandlerFunc(f.serve))
	tb.Cleanup(func() {
		f.Release()
		f.Close()
	})
	return f
}

func (f *fakeService) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	req := request{Method: r.Method, Host: r.Host, Path: r.URL.EscapedPath(), ContentType: r.Header.Get("Content-Type"), Body: string(body)}
	if strings.HasPrefix(req.ContentType, "application/x-www-form-urlencoded") {
		req.Form, _ = url.ParseQuery(req.Body)
	}
	f.mu.Lock()
	f.requests = append(f.requests, req)
	n := len(f.requests)
	close(f.changed)
	f.changed = make(chan struct{})
	f.mu.Unlock()
	if f.hang {
		f.entered <- struct{}{}
		select {
		case <-f.release:
		case <-r.Context().Done():
			f.aborted <- struct{}{}
			<-f.release
		}
		return
	}
	status := http.StatusOK
	if f.status != nil {
		status = f.status(n)
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = io.WriteString(w, f.reply)
}

// Release lets hanging requests finish.
func (f *fakeService) Release() { f.once.Do(func() { close(f.release) }) }

// Requests returns what the fake received so far.
func (f *fakeService) Requests() []request {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]request(nil), f.requests...)
}

// WaitRequests waits until the fake has received at least n requests.
func (f *fakeService) WaitRequests(tb testing.TB, n int) []request {
	tb.Helper()
	deadline := time.NewTimer(testkit.WaitMax)
	defer deadline.Stop()
	for {
		f.mu.Lock()
		got, ch := len(f.requests), f.changed
		f.mu.Unlock()
		if got >= n {
			return f.Requests()
		}
		select {
		case <-ch:
		case <-deadline.C:
			tb.Fatalf("fake %s got %d requests, want %d", f.URL, got, n)
		}
	}
}

// hostPort is the fake's address, for URLs that name a host.
func (f *fakeService) hostPort() string { return strings.TrimPrefix(f.URL, "http://") }

// redirect sends requests for the named hosts (discord.com,
// api.telegram.org, …) to fakes over plain HTTP, keeping the Host header,
// and lets the rest through: the services with a fixed API host are pointed
// at fakes by replacing the HTTP client, as shoutrrr's SenderOptions allow.
type redirect struct {
	hosts map[string]*fakeService
	base  *http.Transport
}

func (r *redirect) RoundTrip(req *http.Request) (*http.Response, error) {
	if f, ok := r.hosts[req.URL.Host]; ok {
		req = req.Clone(req.Context())
		req.URL.Scheme = "http"
		req.URL.Host = f.hostPort()
	}
	return r.base.RoundTrip(req)
}

// testClient returns an HTTP client redirecting hosts to fakes; its idle
// connections are closed when the test ends.
func testClient(tb testing.TB, hosts map[string]*fakeService) *http.Client {
	tr := &http.Transport{}
	tb.Cleanup(tr.CloseIdleConnections)
	return &http.Client{Transport: &redirect{hosts: hosts, base: tr}, Timeout: testkit.WaitMax}
}

// closedPort returns an address where nothing listens.
func closedPort(tb testing.TB) string {
	tb.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return addr
}

// timers is a fake for Notifier.after. Durations in manual wait until the
// test fires them (the collection window, the drain timeout); every other
// one (retry backoff) fires at once. All are recorded in order.
type timers struct {
	manual map[time.Duration]bool

	mu      sync.Mutex
	asked   []time.Duration
	pending map[time.Duration][]chan time.Time
	changed chan struct{}
}

func newTimers(manual ...time.Duration) *timers {
	t := &timers{manual: map[time.Duration]bool{}, pending: map[time.Duration][]chan time.Time{}, changed: make(chan struct{})}
	for _, d := range manual {
		t.manual[d] = true
	}
	return t
}

func (t *timers) after(d time.Duration) <-chan time.Time {
	ch := make(chan time.Time, 1)
	t.mu.Lock()
	defer t.mu.Unlock()
	t.asked = append(t.asked, d)
	if t.manual[d] {
		t.pending[d] = append(t.pending[d], ch)
		close(t.changed)
		t.changed = make(chan struct{})
	} else {
		ch <- time.Time{}
	}
	return ch
}

// Fire waits until n timers of duration d are pending and fires them.
func (t *timers) Fire(tb testing.TB, d time.Duration, n int) {
	tb.Helper()
	deadline := time.NewTimer(testkit.WaitMax)
	defer deadline.Stop()
	for {
		t.mu.Lock()
		if len(t.pending[d]) >= n {
			for _, ch := range t.pending[d][:n] {
				ch <- time.Time{}
			}
			t.pending[d] = t.pending[d][n:]
			t.mu.Unlock()
			return
		}
		got, ch := len(t.pending[d]), t.changed
		t.mu.Unlock()
		select {
		case <-ch:
		case <-deadline.C:
			tb.Fatalf("%d timers of %v pending, want %d", got, d, n)
		}
	}
}

// Asked returns every duration asked for, in order.
func (t *timers) Asked() []time.Duration {
	t.mu.Lock()
	defer t.mu.Unlock()
	return append([]time.Duration(nil), t.asked...)
}

// Test timings: distinct values so the fake timers tell them apart.
const (
	testWindow = 2 * time.Second
	testDrain  = 3 * time.Second
)

// harness is a Notifier under test with its fake clock, timers and log.
type harness struct {
	*Notifier
	timers *timers
	clock  *testkit.Clock
	logs   *testkit.LogBuffer
	stop   func()
}

// newHarness builds a Notifier for targets with fake timers and clock; opts
// get test defaults (no jitter, the test window and drain).
func newHarness(tb testing.TB, targets []Target, opts Options) *harness {
	tb.Helper()
	h := &harness{timers: newTimers(testWindow, testDrain), clock: testkit.NewClock(), logs: testkit.NewLogBuffer()}
	opts.Log = h.logs.Logger()
	opts.Window, opts.DrainTimeout = testWindow, testDrain
	if opts.Retry.Min == 0 {
		opts.Retry.Min, opts.Retry.Max = 5*time.Second, 5*time.Minute
	}
	if opts.SendTimeout == 0 {
		opts.SendTimeout = testkit.WaitMax
	}
	n, err := New(targets, opts)
	if err != nil {
		tb.Fatalf("New: %v", err)
	}
	n.after, n.now = h.timers.after, h.clock.Now
	h.Notifier = n
	return h
}

// start runs the notifier until stop (or the end of the test); stop
// cancels Run and waits for it to return.
func (h *harness) start(tb testing.TB) {
	tb.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- h.Run(ctx) }()
	var once sync.Once
	h.stop = func() {
		once.Do(func() {
			cancel()
			select {
			case err := <-done:
				if err != nil {
					tb.Errorf("Run: %v", err)
				}
			case <-time.After(testkit.WaitMax):
				tb.Fatalf("Run did not return after cancel")
			}
		})
	}
	tb.Cleanup(h.stop)
}

// discard is a logger for tests that do not read the log.
var discard = zerolog.Nop()
