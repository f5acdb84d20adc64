package helix_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"testing"
	"time"

	"github.com/farmd/farmd/helix"
	"github.com/farmd/farmd/helix/helixtest"
)

// TestCheckStreamsStaysInBudget: with 4 points left in the bucket, a cycle
// of 20 requests sends 4 and waits for Ratelimit-Reset before the others,
// whatever its concurrency, so Twitch never answers 429.
func TestCheckStreamsStaysInBudget(t *testing.T) {
	e := newEnv(t, helixtest.Options{}, func(o *helix.Options) { o.MaxConcurrent = 20 })
	ids := addUsers(t, e.srv, "u", 2000)
	e.srv.SetRateLimit(800, 5, e.clock.Now().Add(30*time.Second))
	if _, err := e.c.CheckStreams(context.Background(), ids[:1]); err != nil { // learns the bucket: 4 left
		t.Fatalf("first CheckStreams: %v", err)
	}
	st, err := e.c.CheckStreams(context.Background(), ids)
	if err != nil || len(st) != len(ids) {
		t.Fatalf("CheckStreams: %d statuses, err %v; want %d, nil", len(st), err, len(ids))
	}
	if got := e.c.Stats().Responses["streams"][http.StatusTooManyRequests]; got != 0 {
		t.Errorf("got %d answers 429, want 0: the cycle spent more than Ratelimit-Remaining", got)
	}
	if got := e.srv.Count(helixtest.EndpointStreams); got != 21 {
		t.Errorf("streams requests: got %d, want 21", got)
	}
}

// TestResolveLoginsTeachesBudget: farmd resolves its logins before the
// first poll; the /users answers tell the budget, so the first cycle's
// fan-out does not fire into a nearly empty bucket.
func TestResolveLoginsTeachesBudget(t *testing.T) {
	e := newEnv(t, helixtest.Options{}, func(o *helix.Options) { o.MaxConcurrent = 10 })
	ids := addUsers(t, e.srv, "u", 1000)
	e.srv.SetRateLimit(800, 4, e.clock.Now().Add(30*time.Second))
	if _, err := e.c.ResolveLogins(context.Background(), []string{"u0"}); err != nil { // 3 left
		t.Fatalf("ResolveLogins: %v", err)
	}
	st, err := e.c.CheckStreams(context.Background(), ids)
	if err != nil || len(st) != len(ids) {
		t.Fatalf("CheckStreams: %d statuses, err %v; want %d, nil", len(st), err, len(ids))
	}
	if got := e.c.Stats().Responses["streams"][http.StatusTooManyRequests]; got != 0 {
		t.Errorf("got %d answers 429, want 0", got)
	}
	if got := e.srv.Count(helixtest.EndpointStreams); got != 10 {
		t.Errorf("streams requests: got %d, want 10", got)
	}
}

// TestBudgetWithoutHeaders: a server (or proxy) that sends no Ratelimit-*
// headers gets the usual concurrency after the first answer, not one
// request at a time forever.
func TestBudgetWithoutHeaders(t *testing.T) {
	const limit, batches = 3, 6
	// A proxy that strips the headers; its target is the server newEnv
	// starts, set before the first request.
	var target *url.URL
	proxy := httptest.NewServer(&httputil.ReverseProxy{
		Rewrite: func(r *httputil.ProxyRequest) { r.SetURL(target) },
		ModifyResponse: func(r *http.Response) error {
			for _, h := range []string{"Ratelimit-Limit", "Ratelimit-Remaining", "Ratelimit-Reset"} {
				r.Header.Del(h)
			}
			return nil
		},
	})
	defer proxy.Close()
	e := newEnv(t, helixtest.Options{}, func(o *helix.Options) {
		o.MaxConcurrent = limit
		o.HelixURL = proxy.URL + "/helix"
	})
	target, _ = url.Parse(e.srv.URL())
	ids := addUsers(t, e.srv, "u", batches*100)
	if _, err := e.c.ValidateAppToken(context.Background()); err != nil {
		t.Fatalf("ValidateAppToken: %v", err)
	}
	e.srv.Fail(helixtest.EndpointStreams, helixtest.Fault{Hang: true})
	done := make(chan error, 1)
	go func() {
		_, err := e.c.CheckStreams(context.Background(), ids)
		done <- err
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for released := 0; released < batches; released += limit {
		if err := e.srv.WaitHung(ctx, released+limit); err != nil {
			t.Fatalf("waiting for %d hung requests: %v", released+limit, err)
		}
		e.srv.Release()
	}
	if err := <-done; err != nil {
		t.Fatalf("CheckStreams: %v", err)
	}
	if rl := e.c.RateLimit(); rl.Known {
		t.Errorf("RateLimit: got %+v, want unknown", rl)
	}
	if got := e.srv.MaxInFlight(helixtest.EndpointStreams); got != limit {
		t.Errorf("max concurrent streams requests: got %d, want %d", got, limit)
	}
}
