package helixtest

import (
	"context"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/farmd/farmd/internal/testkit"
)

// TestServiceTimeWorkers checks that a request beyond Workers waits for a
// worker: with two workers and a service time longer than the test, the
// third of three concurrent requests is counted but not in service.
func TestServiceTimeWorkers(t *testing.T) {
	s := New(Options{ServiceTime: time.Hour, Workers: 2})
	defer s.Close()
	tok := s.issueTestToken(t)
	ctx, cancel := context.WithCancel(context.Background())
	tr := &http.Transport{}
	defer tr.CloseIdleConnections()
	hc := &http.Client{Transport: tr}
	var wg sync.WaitGroup
	for range 3 {
		wg.Go(func() {
			req, _ := http.NewRequestWithContext(ctx, http.MethodGet, s.HelixURL()+"/streams?user_id=1", nil)
			req.Header.Set("Client-Id", s.ClientID())
			req.Header.Set("Authorization", "Bearer "+tok)
			if resp, err := hc.Do(req); err == nil {
				resp.Body.Close()
			}
		})
	}
	busy := func() int {
		s.mu.Lock()
		defer s.mu.Unlock()
		return s.busy
	}
	if err := s.WaitCount(context.Background(), EndpointStreams, 3); err != nil {
		t.Fatalf("WaitCount: %v", err)
	}
	testkit.Eventually(t, "two requests in service", func() bool { return busy() == 2 })
	s.mu.Lock()
	inFlight := s.inFlight[EndpointStreams]
	s.mu.Unlock()
	if got := busy(); got != 2 || inFlight != 3 {
		t.Errorf("got %d in service of %d in flight, want 2 of 3", got, inFlight)
	}
	cancel()
	wg.Wait()
	testkit.Eventually(t, "no request in service after the clients gave up", func() bool { return busy() == 0 })
}

// issueTestToken registers an app token directly, without a token request.
func (s *Server) issueTestToken(tb testing.TB) string {
	tb.Helper()
	const tok = "testtoken0123456789"
	s.mu.Lock()
	defer s.mu.Unlock()
	s.appTokens[tok] = s.opts.Now().Add(time.Hour)
	return tok
}
