package helix

import (
	"context"
	"crypto/tls"
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/farmd/farmd/helix/helixtest"
)

// newTLSClient returns a Client with New's own transport, trusting srv's
// certificate: the transport farmd runs with, not one written for the test.
func newTLSClient(tb testing.TB, srv *helixtest.Server, o Options) *Client {
	tb.Helper()
	o.ClientID, o.ClientSecret = srv.ClientID(), srv.ClientSecret()
	o.AuthURL, o.HelixURL = srv.AuthURL(), srv.HelixURL()
	c := New(o)
	tr, ok := c.hc.Transport.(*http.Transport)
	if !ok {
		tb.Fatalf("New's transport is a %T, want *http.Transport", c.hc.Transport)
	}
	// Only the roots are set, as SSL_CERT_FILE sets them for the binary;
	// whether "h2" is offered is left to what pooledTransport built.
	tr.TLSClientConfig = &tls.Config{RootCAs: srv.ClientTLSConfig().RootCAs}
	tb.Cleanup(tr.CloseIdleConnections)
	return c
}

func cycleIDs(srv *helixtest.Server, n int) []string {
	ids := make([]string, n)
	for i := range ids {
		login := "s" + strconv.Itoa(i)
		ids[i] = srv.AddUser(login)
		if i%100 == 0 {
			srv.SetLive(login, true)
		}
	}
	return ids
}

// TestHTTP2Negotiated: helix's default transport speaks HTTP/2 to a TLS
// server that offers it (a custom http.Transport silently falls back to
// HTTP/1.1 unless ForceAttemptHTTP2 is set), and a cycle of 10,000
// streamers then needs one connection for the token and all 100 requests.
func TestHTTP2Negotiated(t *testing.T) {
	srv := helixtest.New(helixtest.Options{HTTP2: true, RateLimit: 1 << 20})
	defer srv.Close()
	ids := cycleIDs(srv, 10000)
	c := newTLSClient(t, srv, Options{})
	for cycle := range 3 {
		st, err := c.CheckStreams(context.Background(), ids)
		if err != nil || len(st) != len(ids) {
			t.Fatalf("cycle %d: %d statuses, err %v; want %d, nil", cycle, len(st), err, len(ids))
		}
	}
	if got := srv.Protocols(helixtest.EndpointStreams); got["HTTP/2.0"] != 300 {
		t.Errorf("protocols of the /streams requests: got %v, want HTTP/2.0: 300", got)
	}
	if got := srv.Connections(); got > 2 {
		t.Errorf("connections over 3 cycles: got %d, want at most 2", got)
	}
}

// TestHTTP1OverTLSReusesConnections: against a TLS server that offers only
// HTTP/1.1, every request in flight is a connection. The first cycle of 100
// requests opens about DefaultMaxConcurrent (net/http may dial a spare
// when a request waits: 17 for 16 were seen), and the pool keeps them, so
// that later cycles open none: no TLS handshake per cycle.
func TestHTTP1OverTLSReusesConnections(t *testing.T) {
	srv := helixtest.New(helixtest.Options{TLS: true, RateLimit: 1 << 20})
	defer srv.Close()
	ids := cycleIDs(srv, 10000)
	c := newTLSClient(t, srv, Options{})
	if _, err := c.CheckStreams(context.Background(), ids); err != nil {
		t.Fatalf("first cycle: %v", err)
	}
	first := srv.Connections()
	for cycle := range 2 {
		if _, err := c.CheckStreams(context.Background(), ids); err != nil {
			t.Fatalf("cycle %d: %v", cycle, err)
		}
	}
	if got := srv.Connections(); got != first {
		t.Errorf("connections after 2 more cycles: got %d, want %d (reused)", got, first)
	}
	if got := srv.Protocols(helixtest.EndpointStreams); got["HTTP/1.1"] != 300 {
		t.Errorf("protocols: got %v, want HTTP/1.1: 300", got)
	}
}

// TestConcurrencyBothProtocols: a cycle sends DefaultMaxConcurrent requests
// at a time over HTTP/1.1 and over HTTP/2 alike (all of a cycle at once
// over HTTP/2 was measured: no faster against a busy server, and more of
// farmd's memory), and a configured MaxConcurrent bounds both.
func TestConcurrencyBothProtocols(t *testing.T) {
	tests := []struct {
		name    string
		opts    helixtest.Options
		max     int
		batches int
		want    int
	}{
		{"HTTP/2 default", helixtest.Options{HTTP2: true}, 0, 70, DefaultMaxConcurrent},
		{"HTTP/1.1 default", helixtest.Options{TLS: true}, 0, 70, DefaultMaxConcurrent},
		{"HTTP/2 configured", helixtest.Options{HTTP2: true}, 7, 20, 7},
		{"HTTP/1.1 configured", helixtest.Options{TLS: true}, 50, 60, 50},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tc.opts.RateLimit = 1 << 20
			srv := helixtest.New(tc.opts)
			defer srv.Close()
			ids := cycleIDs(srv, tc.batches*100)
			c := newTLSClient(t, srv, Options{MaxConcurrent: tc.max})
			srv.Fail(helixtest.EndpointStreams, helixtest.Fault{Hang: true})
			done := make(chan error, 1)
			go func() {
				_, err := c.CheckStreams(context.Background(), ids)
				done <- err
			}()
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			// Released wave by wave: a client over the bound would have
			// more requests hung at once.
			for released := 0; released < tc.batches; {
				next := min(released+tc.want, tc.batches)
				if err := srv.WaitHung(ctx, next); err != nil {
					t.Fatalf("waiting for %d hung requests: %v", next, err)
				}
				srv.Release()
				released = next
			}
			if err := <-done; err != nil {
				t.Fatalf("CheckStreams: %v", err)
			}
			if got := srv.MaxInFlight(helixtest.EndpointStreams); got != tc.want {
				t.Errorf("max concurrent streams requests: got %d, want %d", got, tc.want)
			}
		})
	}
}
