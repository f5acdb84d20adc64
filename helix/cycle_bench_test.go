package helix_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/farmd/farmd/helix"
	"github.com/farmd/farmd/helix/helixtest"
)

// benchLatency is the server latency injected into every token and /streams
// answer of the poll-cycle benchmarks (issue 5).
const benchLatency = 20 * time.Millisecond

// cycleWorld is a fake Helix with n users, one live in 100, every answer
// delayed by latency, and a transport that counts the TCP connections it
// dials.
type cycleWorld struct {
	srv   *helixtest.Server
	ids   []string
	dials atomic.Int64
}

func newCycleWorld(tb testing.TB, n int, latency time.Duration) *cycleWorld {
	tb.Helper()
	// The naive design spends n points a cycle; the bucket is made large
	// enough that it measures cost, not 429s (Twitch's 800 would stop it).
	w := &cycleWorld{srv: helixtest.New(helixtest.Options{RateLimit: 1 << 30})}
	tb.Cleanup(w.srv.Close)
	w.ids = make([]string, n)
	for i := range n {
		login := "streamer" + strconv.Itoa(i)
		w.ids[i] = w.srv.AddUser(login)
		if i%100 == 0 {
			w.srv.SetLive(login, true)
		}
	}
	if latency > 0 {
		w.srv.Fail(helixtest.EndpointStreams, helixtest.Fault{Delay: latency})
		w.srv.Fail(helixtest.EndpointToken, helixtest.Fault{Delay: latency})
	}
	return w
}

// transport is http.DefaultTransport's settings with a dial counter;
// maxIdlePerHost 0 keeps DefaultTransport's 2.
func (w *cycleWorld) transport(maxIdlePerHost, maxConnsPerHost int) *http.Transport {
	t := http.DefaultTransport.(*http.Transport).Clone()
	d := &net.Dialer{Timeout: 30 * time.Second, KeepAlive: 30 * time.Second}
	t.DialContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
		w.dials.Add(1)
		return d.DialContext(ctx, network, addr)
	}
	if maxIdlePerHost > 0 {
		t.MaxIdleConnsPerHost = maxIdlePerHost
	}
	t.MaxConnsPerHost = maxConnsPerHost
	return t
}

// BenchmarkPollCycle measures one poll cycle of N streamers against the fake
// with 20 ms latency: farmd's helix.Client (100 IDs a request, one cached
// token) at several MaxConcurrent values, against the naive design (a new
// token and one request per streamer every cycle, all concurrent). Besides
// ns/op it reports requests/op, tokens/op and dials/op (new TCP connections
// a cycle). allocs/op include the fake server's allocations, which grow
// with the number of requests. Run with:
//
//	go test -run '^$' -bench BenchmarkPollCycle -benchtime 20x ./helix/
func BenchmarkPollCycle(b *testing.B) {
	for _, n := range []int{100, 1000, 10000} {
		b.Run(fmt.Sprintf("farmd/default/N=%d", n), func(b *testing.B) {
			benchFarmd(b, n, 0, -1)
		})
		for _, conc := range []int{4, 8, 10, 16} {
			b.Run(fmt.Sprintf("farmd/conc=%d/idle=default/N=%d", conc, n), func(b *testing.B) {
				benchFarmd(b, n, conc, 0)
			})
			b.Run(fmt.Sprintf("farmd/conc=%d/idle=conc/N=%d", conc, n), func(b *testing.B) {
				benchFarmd(b, n, conc, conc)
			})
		}
		b.Run(fmt.Sprintf("naive/N=%d", n), func(b *testing.B) { benchNaive(b, n) })
	}
}

// benchFarmd runs cycles of farmd's client; conc 0 and idle -1 are
// helix.New's defaults.
func benchFarmd(b *testing.B, n, conc, idle int) {
	w := newCycleWorld(b, n, benchLatency)
	opts := helix.Options{
		ClientID:      w.srv.ClientID(),
		ClientSecret:  w.srv.ClientSecret(),
		AuthURL:       w.srv.AuthURL(),
		HelixURL:      w.srv.HelixURL(),
		MaxConcurrent: conc,
	}
	if idle >= 0 { // idle < 0: helix.New's own transport, whose dials are not counted
		tr := w.transport(idle, 0)
		b.Cleanup(tr.CloseIdleConnections)
		opts.HTTPClient = &http.Client{Transport: tr, Timeout: 10 * time.Second}
	}
	hc := helix.New(opts)
	ctx := context.Background()
	// The first cycle fetches the app token and warms the connection pool;
	// steady state is what runs for months.
	if _, err := hc.CheckStreams(ctx, w.ids); err != nil {
		b.Fatalf("warm-up cycle: %v", err)
	}
	reqs0, tok0, dials0 := w.srv.Count(helixtest.EndpointStreams), w.srv.Count(helixtest.EndpointToken), w.dials.Load()
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		st, err := hc.CheckStreams(ctx, w.ids)
		if err != nil || len(st) != n {
			b.Fatalf("cycle: %d statuses, err %v; want %d, nil", len(st), err, n)
		}
	}
	b.StopTimer()
	report(b, w, reqs0, tok0, dials0, idle >= 0)
}

// report adds the per-cycle request, token and dial counts to b's output.
func report(b *testing.B, w *cycleWorld, reqs0, tok0 int, dials0 int64, dials bool) {
	b.Helper()
	per := func(v float64) float64 { return v / float64(b.N) }
	b.ReportMetric(per(float64(w.srv.Count(helixtest.EndpointStreams)-reqs0)), "requests/op")
	b.ReportMetric(per(float64(w.srv.Count(helixtest.EndpointToken)-tok0)), "tokens/op")
	if dials {
		b.ReportMetric(per(float64(w.dials.Load()-dials0)), "dials/op")
	}
}

// benchNaive is the seed blog's design: every cycle a new app token, then
// one /streams request per streamer, all at once. The transport keeps up to
// 1,000 connections (idle and in use): 10,000 sockets on each side would
// exceed this machine's 20,000 file descriptors, so at N=10,000 requests
// queue for a connection, which only flatters the baseline.
func benchNaive(b *testing.B, n int) {
	w := newCycleWorld(b, n, benchLatency)
	tr := w.transport(1000, 1000)
	b.Cleanup(tr.CloseIdleConnections)
	hc := &http.Client{Transport: tr, Timeout: 30 * time.Second}
	ctx := context.Background()
	cycle := func() {
		tok, err := naiveToken(ctx, hc, w.srv)
		if err != nil {
			b.Fatalf("naive token: %v", err)
		}
		var wg sync.WaitGroup
		var failed atomic.Int64
		for _, id := range w.ids {
			wg.Go(func() {
				if err := naiveCheck(ctx, hc, w.srv, tok, id); err != nil {
					failed.Add(1)
				}
			})
		}
		wg.Wait()
		if f := failed.Load(); f > 0 {
			b.Fatalf("naive cycle: %d of %d requests failed", f, n)
		}
	}
	cycle() // warm the pool like farmd's warm-up
	reqs0, tok0, dials0 := w.srv.Count(helixtest.EndpointStreams), w.srv.Count(helixtest.EndpointToken), w.dials.Load()
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		cycle()
	}
	b.StopTimer()
	report(b, w, reqs0, tok0, dials0, true)
}

func naiveToken(ctx context.Context, hc *http.Client, srv *helixtest.Server) (string, error) {
	form := url.Values{"client_id": {srv.ClientID()}, "client_secret": {srv.ClientSecret()}, "grant_type": {"client_credentials"}}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, srv.AuthURL()+"/token", strings.NewReader(form.Encode()))
	if err != nil {
		return "", err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := hc.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	var body struct {
		AccessToken string `json:"access_token"`
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(&body); err != nil || body.AccessToken == "" {
		return "", fmt.Errorf("token answer %d: %v", resp.StatusCode, err)
	}
	return body.AccessToken, nil
}

func naiveCheck(ctx context.Context, hc *http.Client, srv *helixtest.Server, tok, id string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, srv.HelixURL()+"/streams?user_id="+id, nil)
	if err != nil {
		return err
	}
	req.Header.Set("Client-Id", srv.ClientID())
	req.Header.Set("Authorization", "Bearer "+tok)
	resp, err := hc.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	var body struct {
		Data []struct {
			UserID string `json:"user_id"`
			Type   string `json:"type"`
		} `json:"data"`
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(&body); err != nil || resp.StatusCode != http.StatusOK {
		return fmt.Errorf("streams answer %d: %v", resp.StatusCode, err)
	}
	return nil
}

// TestCheckStreamsRequestsPerCycle proves the cost the benchmark reports:
// a cycle of N streamers is ceil(N/100) /streams requests and no token
// request once the token is cached.
func TestCheckStreamsRequestsPerCycle(t *testing.T) {
	for _, tc := range []struct{ n, want int }{{1, 1}, {100, 1}, {101, 2}, {1000, 10}, {10000, 100}} {
		t.Run(strconv.Itoa(tc.n), func(t *testing.T) {
			w := newCycleWorld(t, tc.n, 0)
			hc := helix.New(helix.Options{
				ClientID: w.srv.ClientID(), ClientSecret: w.srv.ClientSecret(),
				AuthURL: w.srv.AuthURL(), HelixURL: w.srv.HelixURL(),
			})
			for cycle := range 3 {
				before := w.srv.Count(helixtest.EndpointStreams)
				st, err := hc.CheckStreams(context.Background(), w.ids)
				if err != nil || len(st) != tc.n {
					t.Fatalf("cycle %d: %d statuses, err %v; want %d, nil", cycle, len(st), err, tc.n)
				}
				if got := w.srv.Count(helixtest.EndpointStreams) - before; got != tc.want {
					t.Errorf("cycle %d: got %d /streams requests, want %d", cycle, got, tc.want)
				}
			}
			if got := w.srv.Count(helixtest.EndpointToken); got != 1 {
				t.Errorf("got %d token requests over 3 cycles, want 1", got)
			}
		})
	}
}
