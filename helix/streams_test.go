package helix_test

import (
	"context"
	"errors"
	"net"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/farmd/farmd/helix"
	"github.com/farmd/farmd/helix/helixtest"
	"github.com/farmd/farmd/presence"
)

func TestCheckStreamsBatches(t *testing.T) {
	e := newEnv(t, helixtest.Options{}, nil)
	ids := addUsers(t, e.srv, "u", 250)
	e.srv.SetLive("u7", true)
	e.srv.SetLive("u249", true)
	got, err := e.c.CheckStreams(context.Background(), append(ids, ids[0], "")) // duplicate and empty dropped
	if err != nil {
		t.Fatalf("CheckStreams: %v", err)
	}
	reqs := e.srv.Requests(helixtest.EndpointStreams)
	if len(reqs) != 3 {
		t.Fatalf("streams requests: got %d, want 3", len(reqs))
	}
	var sent []string
	for i, q := range reqs {
		if n := len(q["user_id"]); n > 100 || n == 0 {
			t.Errorf("request %d: got %d user_id, want 1..100", i, n)
		}
		if q.Get("first") != "100" {
			t.Errorf("request %d: got first=%q, want 100", i, q.Get("first"))
		}
		sent = append(sent, q["user_id"]...)
	}
	slices.Sort(sent)
	want := slices.Clone(ids)
	slices.Sort(want)
	if !slices.Equal(sent, want) {
		t.Errorf("user_ids sent: got %d distinct-sorted, want the 250 IDs once each", len(sent))
	}
	if len(got) != 250 {
		t.Fatalf("statuses: got %d, want 250", len(got))
	}
	for i, st := range got {
		if st.UserID != ids[i] {
			t.Fatalf("status %d: got user %s, want %s (input order)", i, st.UserID, ids[i])
		}
		wantLive := i == 7 || i == 249
		if st.Live != wantLive {
			t.Errorf("status %d: got live %v, want %v", i, st.Live, wantLive)
		}
	}
}

func TestCheckStreamsConcurrencyBounded(t *testing.T) {
	const limit, batches = 2, 7
	e := newEnv(t, helixtest.Options{}, func(o *helix.Options) { o.MaxConcurrent = limit })
	ids := addUsers(t, e.srv, "u", batches*100)
	if _, err := e.c.ValidateAppToken(context.Background()); err != nil {
		t.Fatalf("ValidateAppToken: %v", err)
	}
	e.srv.Fail(helixtest.EndpointStreams, helixtest.Fault{Hang: true})
	type result struct {
		st  []presence.Status
		err error
	}
	done := make(chan result, 1)
	go func() {
		st, err := e.c.CheckStreams(context.Background(), ids)
		done <- result{st, err}
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	// Release the requests wave by wave: a client that ignored the limit
	// would have more than `limit` requests hung at once.
	for released := 0; released < batches; {
		next := min(released+limit, batches)
		if err := e.srv.WaitHung(ctx, next); err != nil {
			t.Fatalf("waiting for %d hung requests: %v", next, err)
		}
		e.srv.Release()
		released = next
	}
	r := <-done
	if r.err != nil {
		t.Fatalf("CheckStreams: %v", r.err)
	}
	if len(r.st) != batches*100 {
		t.Errorf("statuses: got %d, want %d", len(r.st), batches*100)
	}
	if got := e.srv.MaxInFlight(helixtest.EndpointStreams); got != limit {
		t.Errorf("max concurrent streams requests: got %d, want %d", got, limit)
	}
}

func TestCheckStreamsMapping(t *testing.T) {
	e := newEnv(t, helixtest.Options{}, nil)
	live := e.srv.AddUser("live_one")
	e.srv.SetLive("live_one", true)
	offline := e.srv.AddUser("offline_one")
	odd := e.srv.AddUser("odd_type")
	e.srv.SetLive("odd_type", true)
	e.srv.SetStreamType("odd_type", "")
	renamed := e.srv.AddUser("old_name")
	e.srv.SetLive("old_name", true)
	e.srv.Rename("old_name", "new_name")
	unknown := "999999"

	// A stream with type "" (Twitch's error marker) has an unknown status:
	// absent, with ErrStreamType, never read as offline.
	got, err := e.c.CheckStreams(context.Background(), []string{live, offline, odd, renamed, unknown})
	if !errors.Is(err, helix.ErrStreamType) {
		t.Fatalf("CheckStreams: got error %v, want ErrStreamType", err)
	}
	want := []presence.Status{
		{UserID: live, Login: "live_one", Live: true},
		{UserID: offline},
		{UserID: renamed, Login: "new_name", Live: true},
		{UserID: unknown},
	}
	for i := range got { // the stream's description, checked apart
		if s := got[i].Stream; got[i].Live {
			if s == nil || s.Title != "live with "+got[i].Login || s.Game != "Just Chatting" || !s.ViewersKnown || s.Viewers != 42 || s.StartedAt.IsZero() || s.ID == "" {
				t.Errorf("status %d: stream %+v, want the fake's title, game, viewers, start and id", i, s)
			}
		} else if s != nil {
			t.Errorf("status %d is offline with a stream %+v", i, s)
		}
		got[i].Stream = nil
	}
	if !slices.Equal(got, want) {
		t.Errorf("statuses:\n got %+v\nwant %+v", got, want)
	}
}

func TestCheckStreamsEmpty(t *testing.T) {
	e := newEnv(t, helixtest.Options{}, nil)
	got, err := e.c.CheckStreams(context.Background(), nil)
	if err != nil || len(got) != 0 {
		t.Errorf("CheckStreams(nil): got %v, %v, want nothing", got, err)
	}
	if n := e.srv.Count(helixtest.EndpointToken) + e.srv.Count(helixtest.EndpointStreams); n != 0 {
		t.Errorf("requests: got %d, want 0", n)
	}
}

func TestCheckStreamsFailures(t *testing.T) {
	tests := []struct {
		name         string
		fault        helixtest.Fault
		opts         func(*helix.Options)
		wantRequests int
		wantSleeps   int
		wantErr      string // substring; "" means success
		wantStatus   int    // APIError status expected in the chain, 0 for none
		wantTimeout  bool
	}{
		{
			name:         "5xx burst retried then succeeds",
			fault:        helixtest.Fault{Status: http.StatusServiceUnavailable, Times: 2},
			wantRequests: 3,
			wantSleeps:   2,
		},
		{
			name:         "truncated body retried then succeeds",
			fault:        helixtest.Fault{Truncate: true, Times: 1},
			wantRequests: 2,
			wantSleeps:   1,
		},
		{
			name:         "persistent 5xx gives up after 4 attempts",
			fault:        helixtest.Fault{Status: http.StatusInternalServerError},
			wantRequests: 4,
			wantSleeps:   3,
			wantErr:      "helix streams: giving up after 4 attempts: helix streams: 500 Internal Server Error",
			wantStatus:   http.StatusInternalServerError,
		},
		{
			name:         "400 not retried",
			fault:        helixtest.Fault{Status: http.StatusBadRequest, Message: "Malformed query param", Times: 1},
			wantRequests: 1,
			wantErr:      "helix streams: 400 Bad Request: Malformed query param",
			wantStatus:   http.StatusBadRequest,
		},
		{
			name:         "hang times out after bounded retries",
			fault:        helixtest.Fault{Hang: true},
			opts:         func(o *helix.Options) { o.HTTPClient.Timeout = 100 * time.Millisecond },
			wantRequests: 4,
			wantSleeps:   3,
			wantErr:      "helix streams: giving up after 4 attempts: ",
			wantTimeout:  true,
		},
		{
			name:         "malformed JSON names the endpoint",
			fault:        helixtest.Fault{Body: `{"data":[{"user_id":`, Times: 1},
			wantRequests: 1,
			wantErr:      "helix streams: decode response",
		},
		{
			name:         "missing data array is an error, not offline",
			fault:        helixtest.Fault{Body: `{"pagination":{}}`, Times: 1},
			wantRequests: 1,
			wantErr:      `helix streams: decode response: no "data" array`,
		},
		{
			name:         "body over the bound",
			fault:        helixtest.Fault{HugeBody: 64 << 10, Times: 1},
			opts:         func(o *helix.Options) { o.MaxBodyBytes = 16 << 10 },
			wantRequests: 1,
			wantErr:      "response body too large",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, helixtest.Options{}, tc.opts)
			id := e.srv.AddUser("alice")
			e.srv.SetLive("alice", true)
			if _, err := e.c.ValidateAppToken(context.Background()); err != nil {
				t.Fatalf("ValidateAppToken: %v", err)
			}
			e.srv.Fail(helixtest.EndpointStreams, tc.fault)
			got, err := e.c.CheckStreams(context.Background(), []string{id})
			if n := e.srv.Count(helixtest.EndpointStreams); n != tc.wantRequests {
				t.Errorf("streams requests: got %d, want %d", n, tc.wantRequests)
			}
			if n := len(e.clock.Sleeps()); n != tc.wantSleeps {
				t.Errorf("backoff sleeps: got %d, want %d", n, tc.wantSleeps)
			}
			if tc.wantErr == "" {
				if err != nil {
					t.Fatalf("CheckStreams: %v", err)
				}
				if len(got) != 1 || !got[0].Live {
					t.Errorf("statuses: got %+v, want alice live", got)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("err: got %v, want it to contain %q", err, tc.wantErr)
			}
			if len(got) != 0 {
				t.Errorf("statuses: got %+v, want none (a failure is not offline)", got)
			}
			var ae *helix.APIError
			if gotAE := errors.As(err, &ae); gotAE != (tc.wantStatus != 0) || (gotAE && ae.Status != tc.wantStatus) {
				t.Errorf("APIError: got %v (%v), want status %d", gotAE, ae, tc.wantStatus)
			}
			var ne net.Error
			if isTimeout := errors.As(err, &ne) && ne.Timeout(); isTimeout != tc.wantTimeout {
				t.Errorf("timeout error: got %v, want %v (err %v)", isTimeout, tc.wantTimeout, err)
			}
		})
	}
}

func TestCheckStreamsPartialFailure(t *testing.T) {
	e := newEnv(t, helixtest.Options{}, func(o *helix.Options) { o.MaxConcurrent = 1 })
	ids := addUsers(t, e.srv, "u", 150)
	e.srv.SetLive("u120", true)
	if _, err := e.c.ValidateAppToken(context.Background()); err != nil {
		t.Fatalf("ValidateAppToken: %v", err)
	}
	// With one request at a time, the first batch gets all four 502s.
	e.srv.Fail(helixtest.EndpointStreams, helixtest.Fault{Status: http.StatusBadGateway, Times: 4})
	got, err := e.c.CheckStreams(context.Background(), ids)
	var ae *helix.APIError
	if !errors.As(err, &ae) || ae.Status != http.StatusBadGateway {
		t.Fatalf("err: got %v, want a 502 APIError", err)
	}
	if len(got) != 50 {
		t.Fatalf("statuses: got %d, want 50 (the second batch only)", len(got))
	}
	for i, st := range got {
		if st.UserID != ids[100+i] {
			t.Fatalf("status %d: got user %s, want %s", i, st.UserID, ids[100+i])
		}
		if st.Live != (st.UserID == ids[120]) {
			t.Errorf("status %d: got live %v for %s", i, st.Live, st.UserID)
		}
	}
}

func TestRateLimit429WaitsForReset(t *testing.T) {
	e := newEnv(t, helixtest.Options{}, nil)
	id := e.srv.AddUser("alice")
	if _, err := e.c.ValidateAppToken(context.Background()); err != nil {
		t.Fatalf("ValidateAppToken: %v", err)
	}
	reset := e.clock.Now().Add(30 * time.Second)
	e.srv.SetRateLimit(800, 0, reset)
	if _, err := e.c.CheckStreams(context.Background(), []string{id}); err != nil {
		t.Fatalf("CheckStreams: %v", err)
	}
	if got, want := e.clock.Sleeps(), []time.Duration{30 * time.Second}; !slices.Equal(got, want) {
		t.Errorf("sleeps: got %v, want %v (until Ratelimit-Reset)", got, want)
	}
	if got := e.srv.Count(helixtest.EndpointStreams); got != 2 {
		t.Errorf("streams requests: got %d, want 2", got)
	}
}

func TestRateLimit429WaitBounded(t *testing.T) {
	e := newEnv(t, helixtest.Options{}, func(o *helix.Options) { o.MaxRateLimitWait = 5 * time.Second })
	id := e.srv.AddUser("alice")
	if _, err := e.c.ValidateAppToken(context.Background()); err != nil {
		t.Fatalf("ValidateAppToken: %v", err)
	}
	e.srv.SetRateLimit(800, 0, e.clock.Now().Add(time.Hour))
	_, err := e.c.CheckStreams(context.Background(), []string{id})
	var ae *helix.APIError
	if !errors.As(err, &ae) || ae.Status != http.StatusTooManyRequests {
		t.Fatalf("err: got %v, want a 429 APIError", err)
	}
	want := []time.Duration{5 * time.Second, 5 * time.Second, 5 * time.Second}
	if got := e.clock.Sleeps(); !slices.Equal(got, want) {
		t.Errorf("sleeps: got %v, want %v", got, want)
	}
}

func TestRateLimitTracked(t *testing.T) {
	e := newEnv(t, helixtest.Options{RateLimit: 50}, nil)
	id := e.srv.AddUser("alice")
	if rl := e.c.RateLimit(); rl.Known {
		t.Fatalf("RateLimit before any request: got %+v, want unknown", rl)
	}
	for want := 49; want >= 47; want-- {
		if _, err := e.c.CheckStreams(context.Background(), []string{id}); err != nil {
			t.Fatalf("CheckStreams: %v", err)
		}
		rl := e.c.RateLimit()
		wantReset := e.clock.Now().Add(time.Minute) // the fake clock does not move here
		if !rl.Known || rl.Limit != 50 || rl.Remaining != want || !rl.Reset.Equal(wantReset) {
			t.Errorf("RateLimit: got %+v, want limit 50 remaining %d reset %v", rl, want, wantReset)
		}
	}
}

func TestCheckStreamsCanceled(t *testing.T) {
	e := newEnv(t, helixtest.Options{}, nil)
	ids := addUsers(t, e.srv, "u", 150)
	if _, err := e.c.ValidateAppToken(context.Background()); err != nil {
		t.Fatalf("ValidateAppToken: %v", err)
	}
	e.srv.Fail(helixtest.EndpointStreams, helixtest.Fault{Hang: true})
	ctx, cancel := context.WithCancel(context.Background())
	type result struct {
		st  []presence.Status
		err error
	}
	done := make(chan result, 1)
	go func() {
		st, err := e.c.CheckStreams(ctx, ids)
		done <- result{st, err}
	}()
	wctx, wcancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer wcancel()
	if err := e.srv.WaitHung(wctx, 2); err != nil {
		t.Fatalf("WaitHung: %v", err)
	}
	cancel()
	r := <-done
	if !errors.Is(r.err, context.Canceled) {
		t.Errorf("err: got %v, want context.Canceled", r.err)
	}
	if len(r.st) != 0 {
		t.Errorf("statuses: got %d, want none", len(r.st))
	}
	if got := e.srv.Count(helixtest.EndpointStreams); got != 2 {
		t.Errorf("streams requests: got %d, want 2 (no retry after cancel)", got)
	}
}

// TestCheckStreamsNormalisesLogin: a stream's user_login becomes the channel
// farmd joins and later parts, so it is normalised like the logins
// ResolveLogins returns; go-twitch-irc lowercases JOIN but not PART.
func TestCheckStreamsNormalisesLogin(t *testing.T) {
	e := newEnv(t, helixtest.Options{}, nil)
	id := e.srv.AddUser("alice")
	e.srv.Fail(helixtest.EndpointStreams, helixtest.Fault{Times: 1,
		Body: `{"data":[{"user_id":"` + id + `","user_login":"Alice","type":"live"}],"pagination":{}}`})
	got, err := e.c.CheckStreams(context.Background(), []string{id})
	if err != nil {
		t.Fatalf("CheckStreams: %v", err)
	}
	want := []presence.Status{{UserID: id, Login: "alice", Live: true}}
	if len(got) == 1 && got[0].Stream != nil {
		if s := got[0].Stream; s.ViewersKnown || !s.StartedAt.IsZero() {
			t.Errorf("stream %+v, want viewers and start unknown (the answer has neither)", s)
		}
		got[0].Stream = nil
	}
	if !slices.Equal(got, want) {
		t.Errorf("statuses: got %+v, want %+v", got, want)
	}
}
