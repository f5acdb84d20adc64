package helixtest_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/farmd/farmd/helix/helixtest"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// fixture is a server plus an app token and an HTTP client for raw requests.
type fixture struct {
	srv   *helixtest.Server
	hc    *http.Client
	token string
	now   time.Time
}

func newFixture(tb testing.TB, opts helixtest.Options) *fixture {
	tb.Helper()
	f := &fixture{now: time.Unix(1_700_000_000, 0)}
	if opts.Now == nil {
		opts.Now = func() time.Time { return f.now }
	}
	f.srv = helixtest.New(opts)
	tr := &http.Transport{}
	f.hc = &http.Client{Transport: tr}
	tb.Cleanup(func() {
		f.srv.Close()
		tr.CloseIdleConnections()
	})
	status, body, _ := f.do(tb, http.MethodPost, "/oauth2/token", url.Values{
		"client_id":     {f.srv.ClientID()},
		"client_secret": {f.srv.ClientSecret()},
		"grant_type":    {"client_credentials"},
	}, nil)
	if status != http.StatusOK {
		tb.Fatalf("token: got %d %v", status, body)
	}
	f.token = body["access_token"].(string)
	return f
}

// do sends a request (form as POST body, or as query for GET) and decodes
// the JSON answer.
func (f *fixture) do(tb testing.TB, method, path string, form url.Values, header http.Header) (int, map[string]any, http.Header) {
	tb.Helper()
	var body io.Reader
	u := f.srv.URL() + path
	if method == http.MethodPost {
		body = strings.NewReader(form.Encode())
	} else if form != nil {
		u += "?" + form.Encode()
	}
	req, err := http.NewRequest(method, u, body)
	if err != nil {
		tb.Fatal(err)
	}
	if method == http.MethodPost {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	for k, v := range header {
		req.Header[k] = v
	}
	resp, err := f.hc.Do(req)
	if err != nil {
		tb.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	var m map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&m); err != nil && resp.StatusCode != http.StatusNoContent {
		tb.Fatalf("%s %s: decode: %v", method, path, err)
	}
	return resp.StatusCode, m, resp.Header
}

// helixHeader is what a well-behaved client sends to Helix.
func (f *fixture) helixHeader() http.Header {
	return http.Header{"Client-Id": {f.srv.ClientID()}, "Authorization": {"Bearer " + f.token}}
}

func repeat(key string, n int) url.Values {
	v := url.Values{}
	for i := range n {
		v.Add(key, "user"+strconv.Itoa(i))
	}
	return v
}

func TestErrorShapes(t *testing.T) {
	tests := []struct {
		name       string
		method     string
		path       string
		query      url.Values
		header     func(*fixture) http.Header
		setup      func(*fixture)
		wantStatus int
		wantBody   map[string]any
	}{
		{
			name: "token wrong secret", method: http.MethodPost, path: "/oauth2/token",
			query:      url.Values{"client_id": {helixtest.DefaultClientID}, "client_secret": {"nope"}, "grant_type": {"client_credentials"}},
			wantStatus: 403, wantBody: map[string]any{"status": 403.0, "message": "invalid client secret"},
		},
		{
			name: "token unknown client", method: http.MethodPost, path: "/oauth2/token",
			query:      url.Values{"client_id": {"nobody"}, "client_secret": {"nope"}, "grant_type": {"client_credentials"}},
			wantStatus: 400, wantBody: map[string]any{"status": 400.0, "message": "invalid client"},
		},
		{
			name: "validate unknown token", method: http.MethodGet, path: "/oauth2/validate",
			header:     func(*fixture) http.Header { return http.Header{"Authorization": {"OAuth nope"}} },
			wantStatus: 401, wantBody: map[string]any{"status": 401.0, "message": "invalid access token"},
		},
		{
			name: "validate revoked app token", method: http.MethodGet, path: "/oauth2/validate",
			header:     func(f *fixture) http.Header { return http.Header{"Authorization": {"OAuth " + f.token}} },
			setup:      func(f *fixture) { f.srv.RevokeAppTokens() },
			wantStatus: 401, wantBody: map[string]any{"status": 401.0, "message": "invalid access token"},
		},
		{
			name: "users without token", method: http.MethodGet, path: "/helix/users", query: url.Values{"login": {"alice"}},
			header:     func(f *fixture) http.Header { return http.Header{"Client-Id": {f.srv.ClientID()}} },
			wantStatus: 401, wantBody: map[string]any{"error": "Unauthorized", "status": 401.0, "message": "Invalid OAuth token"},
		},
		{
			name: "users with expired token", method: http.MethodGet, path: "/helix/users", query: url.Values{"login": {"alice"}},
			setup:      func(f *fixture) { f.now = f.now.Add(helixtest.DefaultTokenTTL) },
			wantStatus: 401, wantBody: map[string]any{"error": "Unauthorized", "status": 401.0, "message": "Invalid OAuth token"},
		},
		{
			name: "users malformed login", method: http.MethodGet, path: "/helix/users", query: url.Values{"login": {"alice", "bad login"}},
			wantStatus: 400, wantBody: map[string]any{"error": "Bad Request", "status": 400.0, "message": "Invalid login names, emails or IDs in request"},
		},
		{
			name: "users over 100", method: http.MethodGet, path: "/helix/users", query: repeat("login", 101),
			wantStatus: 400,
		},
		{
			name: "streams unknown user_login", method: http.MethodGet, path: "/helix/streams", query: url.Values{"user_login": {"ghost"}},
			wantStatus: 400, wantBody: map[string]any{"error": "Bad Request", "status": 400.0, "message": "Malformed query param"},
		},
		{
			// Twitch takes logins, not channel names: "#alice" is malformed
			// even though farmd would normalise it to a known login.
			name: "streams malformed user_login", method: http.MethodGet, path: "/helix/streams", query: url.Values{"user_login": {"#alice"}},
			wantStatus: 400, wantBody: map[string]any{"error": "Bad Request", "status": 400.0, "message": "Malformed query param"},
		},
		{
			name: "streams 101 user_id", method: http.MethodGet, path: "/helix/streams", query: repeat("user_id", 101),
			wantStatus: 400,
		},
		{
			name: "streams first=0", method: http.MethodGet, path: "/helix/streams", query: url.Values{"first": {"0"}},
			wantStatus: 400,
		},
		{
			name: "streams first=101", method: http.MethodGet, path: "/helix/streams", query: url.Values{"first": {"101"}},
			wantStatus: 400,
		},
		{
			name: "streams rate limited", method: http.MethodGet, path: "/helix/streams", query: url.Values{"user_id": {"1"}},
			setup:      func(f *fixture) { f.srv.SetRateLimit(800, 0, f.now.Add(10*time.Second)) },
			wantStatus: 429, wantBody: map[string]any{"error": "Too Many Requests", "status": 429.0, "message": "Too Many Requests"},
		},
		{
			name: "injected 503", method: http.MethodGet, path: "/helix/streams", query: url.Values{"user_id": {"1"}},
			setup: func(f *fixture) {
				f.srv.Fail(helixtest.EndpointStreams, helixtest.Fault{Status: 503, Times: 1})
			},
			wantStatus: 503, wantBody: map[string]any{"error": "Service Unavailable", "status": 503.0, "message": "Service Unavailable"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t, helixtest.Options{})
			f.srv.AddUser("alice")
			if tc.setup != nil {
				tc.setup(f)
			}
			h := f.helixHeader()
			if tc.header != nil {
				h = tc.header(f)
			}
			status, body, hdr := f.do(t, tc.method, tc.path, tc.query, h)
			if status != tc.wantStatus {
				t.Fatalf("status: got %d (%v), want %d", status, body, tc.wantStatus)
			}
			if tc.wantBody != nil && !equalJSON(body, tc.wantBody) {
				t.Errorf("body: got %v, want %v", body, tc.wantBody)
			}
			if strings.HasPrefix(tc.path, "/helix/") {
				for _, k := range []string{"Ratelimit-Limit", "Ratelimit-Remaining", "Ratelimit-Reset"} {
					if hdr.Get(k) == "" {
						t.Errorf("header %s missing", k)
					}
				}
			}
		})
	}
}

func equalJSON(a, b map[string]any) bool {
	x, _ := json.Marshal(a)
	y, _ := json.Marshal(b)
	return string(x) == string(y)
}

func TestStreamsPaginationAndShape(t *testing.T) {
	f := newFixture(t, helixtest.Options{})
	for i := range 30 {
		f.srv.SetLive("user"+strconv.Itoa(i), true)
	}
	f.srv.AddUser("offline_user")
	status, body, _ := f.do(t, http.MethodGet, "/helix/streams", nil, f.helixHeader())
	if status != 200 {
		t.Fatalf("status: got %d, want 200", status)
	}
	data := body["data"].([]any)
	cursor, _ := body["pagination"].(map[string]any)["cursor"].(string)
	if len(data) != 20 || cursor == "" {
		t.Fatalf("first page: got %d streams, cursor %q; want 20 and a cursor", len(data), cursor)
	}
	s := data[0].(map[string]any)
	for _, k := range []string{"id", "user_id", "user_login", "user_name", "game_id", "game_name", "type", "title",
		"viewer_count", "started_at", "language", "thumbnail_url", "tags", "is_mature"} {
		if _, ok := s[k]; !ok {
			t.Errorf("stream object lacks %q", k)
		}
	}
	if s["type"] != "live" {
		t.Errorf("type: got %v, want live", s["type"])
	}
	_, body, _ = f.do(t, http.MethodGet, "/helix/streams", url.Values{"after": {cursor}, "first": {"100"}}, f.helixHeader())
	if n := len(body["data"].([]any)); n != 10 {
		t.Errorf("second page: got %d streams, want 10", n)
	}
	if p := body["pagination"].(map[string]any); len(p) != 0 {
		t.Errorf("second page pagination: got %v, want {}", p)
	}
}

func TestRateLimitBucket(t *testing.T) {
	f := newFixture(t, helixtest.Options{RateLimit: 3})
	q := url.Values{"user_id": {"1"}}
	wantReset := strconv.FormatInt(f.now.Add(time.Minute).Unix(), 10)
	for i, want := range []struct {
		status    int
		remaining string
	}{{200, "2"}, {200, "1"}, {200, "0"}, {429, "0"}} {
		status, _, h := f.do(t, http.MethodGet, "/helix/streams", q, f.helixHeader())
		if status != want.status || h.Get("Ratelimit-Remaining") != want.remaining ||
			h.Get("Ratelimit-Limit") != "3" || h.Get("Ratelimit-Reset") != wantReset {
			t.Errorf("request %d: got %d remaining %s limit %s reset %s; want %d remaining %s limit 3 reset %s", i,
				status, h.Get("Ratelimit-Remaining"), h.Get("Ratelimit-Limit"), h.Get("Ratelimit-Reset"),
				want.status, want.remaining, wantReset)
		}
	}
	f.now = f.now.Add(time.Minute)
	if status, _, h := f.do(t, http.MethodGet, "/helix/streams", q, f.helixHeader()); status != 200 || h.Get("Ratelimit-Remaining") != "2" {
		t.Errorf("after reset: got %d remaining %s, want 200 remaining 2", status, h.Get("Ratelimit-Remaining"))
	}
}

func TestUsersAndValidate(t *testing.T) {
	f := newFixture(t, helixtest.Options{})
	alice := f.srv.AddUser("alice")
	if again := f.srv.AddUser("Alice"); again != alice || alice != "100001" {
		t.Errorf("AddUser: got %s then %s, want 100001 twice", alice, again)
	}
	f.srv.AddUserToken("utok", "bot", "chat:read")
	_, body, _ := f.do(t, http.MethodGet, "/helix/users", url.Values{"login": {"alice", "ghost"}, "id": {alice}}, f.helixHeader())
	data := body["data"].([]any)
	if len(data) != 1 || data[0].(map[string]any)["login"] != "alice" {
		t.Errorf("users: got %v, want alice once, ghost absent", data)
	}
	_, body, _ = f.do(t, http.MethodGet, "/oauth2/validate", nil, http.Header{"Authorization": {"OAuth utok"}})
	if body["login"] != "bot" || body["user_id"] != "100002" || body["client_id"] != f.srv.ClientID() {
		t.Errorf("validate user token: got %v", body)
	}
	_, body, _ = f.do(t, http.MethodGet, "/oauth2/validate", nil, http.Header{"Authorization": {"OAuth " + f.token}})
	if _, hasLogin := body["login"]; hasLogin || body["client_id"] != f.srv.ClientID() {
		t.Errorf("validate app token: got %v, want client_id and no login", body)
	}
}

func TestBasicAuthCounted(t *testing.T) {
	f := newFixture(t, helixtest.Options{})
	req, _ := http.NewRequest(http.MethodPost, f.srv.AuthURL()+"/token", strings.NewReader("grant_type=client_credentials"))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(f.srv.ClientID(), f.srv.ClientSecret())
	resp, err := f.hc.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadRequest {
		t.Errorf("Basic-only token request: got %d, want 400 (credentials only in the form)", resp.StatusCode)
	}
	if got := f.srv.BasicAuthTokenRequests(); got != 1 {
		t.Errorf("BasicAuthTokenRequests: got %d, want 1", got)
	}
	if got := f.srv.Count(helixtest.EndpointToken); got != 2 {
		t.Errorf("token requests: got %d, want 2", got)
	}
	if got := f.srv.Requests(helixtest.EndpointToken)[0].Get("client_secret"); got != "" {
		t.Errorf("recorded token form keeps client_secret %q", got)
	}
}

func TestControlEndpoint(t *testing.T) {
	f := newFixture(t, helixtest.Options{})
	for _, path := range []string{"/_control/user?login=alice", "/_control/live?login=alice&live=true", "/_control/rename?from=alice&to=alicia"} {
		resp, err := f.hc.Post(f.srv.URL()+path, "", nil)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode/100 != 2 {
			t.Fatalf("POST %s: got %d", path, resp.StatusCode)
		}
	}
	_, body, _ := f.do(t, http.MethodGet, "/helix/streams", url.Values{"user_login": {"alicia"}}, f.helixHeader())
	if data := body["data"].([]any); len(data) != 1 || data[0].(map[string]any)["user_login"] != "alicia" {
		t.Errorf("streams after control calls: got %v, want alicia live", data)
	}
	resp, err := f.hc.Post(f.srv.URL()+"/_control/live?login=alicia&live=maybe", "", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadRequest {
		t.Errorf("bad live value: got %d, want 400", resp.StatusCode)
	}
}

func TestCloseUnblocksHang(t *testing.T) {
	tests := []struct {
		name  string
		fault helixtest.Fault
	}{
		{"hang", helixtest.Fault{Hang: true}},
		{"long delay", helixtest.Fault{Delay: time.Hour}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			srv := helixtest.New(helixtest.Options{})
			tr := &http.Transport{}
			defer tr.CloseIdleConnections()
			srv.Fail(helixtest.EndpointValidate, tc.fault)
			errc := make(chan error, 1)
			go func() {
				resp, err := (&http.Client{Transport: tr}).Get(srv.AuthURL() + "/validate")
				if err == nil {
					resp.Body.Close()
				}
				errc <- err
			}()
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			if err := srv.WaitCount(ctx, helixtest.EndpointValidate, 1); err != nil {
				t.Fatalf("WaitCount: %v", err)
			}
			srv.Close() // must return: the hung handler has to unblock
			select {
			case <-errc: // an error or an empty answer: either way it ended
			case <-ctx.Done():
				t.Fatal("request still blocked after Close")
			}
		})
	}
}

// TestFaultRateLimitReset: a fault's RateLimitReset reaches the answer, so
// that a test can give the token endpoint, which keeps no bucket, a
// Ratelimit-Reset.
func TestFaultRateLimitReset(t *testing.T) {
	f := newFixture(t, helixtest.Options{})
	f.srv.Fail(helixtest.EndpointToken, helixtest.Fault{
		Status: http.StatusTooManyRequests, Times: 1,
		RateLimitReset: time.Unix(1_700_000_030, 0),
	})
	status, body, hdr := f.do(t, http.MethodPost, "/oauth2/token", url.Values{
		"client_id":     {f.srv.ClientID()},
		"client_secret": {f.srv.ClientSecret()},
		"grant_type":    {"client_credentials"},
	}, nil)
	if status != http.StatusTooManyRequests {
		t.Fatalf("status: got %d (%v), want 429", status, body)
	}
	if got := hdr.Get("Ratelimit-Reset"); got != "1700000030" {
		t.Errorf("Ratelimit-Reset: got %q, want 1700000030", got)
	}
}

// TestTransports checks what each server mode negotiates with a client that
// trusts its certificate and offers HTTP/2, and that Connections counts
// the connections accepted: three sequential requests reuse one.
func TestTransports(t *testing.T) {
	tests := []struct {
		name      string
		opts      helixtest.Options
		scheme    string
		wantProto string
	}{
		{"plain", helixtest.Options{}, "http://", "HTTP/1.1"},
		{"TLS", helixtest.Options{TLS: true}, "https://", "HTTP/1.1"},
		{"HTTP2", helixtest.Options{HTTP2: true}, "https://", "HTTP/2.0"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			srv := helixtest.New(tc.opts)
			defer srv.Close()
			if !strings.HasPrefix(srv.URL(), tc.scheme) {
				t.Fatalf("URL: got %s, want %s...", srv.URL(), tc.scheme)
			}
			if got := srv.ClientTLSConfig() != nil; got != (tc.scheme == "https://") {
				t.Errorf("ClientTLSConfig: got non-nil %v, want %v", got, !got)
			}
			if got := srv.CertificatePEM() != nil; got != (tc.scheme == "https://") {
				t.Errorf("CertificatePEM: got non-nil %v, want %v", got, !got)
			}
			tr := &http.Transport{TLSClientConfig: srv.ClientTLSConfig(), ForceAttemptHTTP2: true}
			defer tr.CloseIdleConnections()
			hc := &http.Client{Transport: tr}
			id := srv.AddUser("alice")
			for range 3 {
				resp, err := hc.PostForm(srv.AuthURL()+"/token", url.Values{
					"client_id": {srv.ClientID()}, "client_secret": {srv.ClientSecret()}, "grant_type": {"client_credentials"},
				})
				if err != nil {
					t.Fatalf("token: %v", err)
				}
				var tok struct {
					AccessToken string `json:"access_token"`
				}
				err = json.NewDecoder(resp.Body).Decode(&tok)
				resp.Body.Close()
				if err != nil {
					t.Fatalf("token answer: %v", err)
				}
				if resp.Proto != tc.wantProto {
					t.Errorf("client saw %s, want %s", resp.Proto, tc.wantProto)
				}
				req, _ := http.NewRequest(http.MethodGet, srv.HelixURL()+"/streams?user_id="+id, nil)
				req.Header.Set("Client-Id", srv.ClientID())
				req.Header.Set("Authorization", "Bearer "+tok.AccessToken)
				resp, err = hc.Do(req)
				if err != nil {
					t.Fatalf("streams: %v", err)
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode != http.StatusOK {
					t.Fatalf("streams: got status %d, want 200", resp.StatusCode)
				}
			}
			if got := srv.Protocols(helixtest.EndpointStreams); len(got) != 1 || got[tc.wantProto] != 3 {
				t.Errorf("Protocols: got %v, want %s: 3", got, tc.wantProto)
			}
			if got := srv.Connections(); got != 1 {
				t.Errorf("Connections: got %d, want 1", got)
			}
			spans := srv.Spans(helixtest.EndpointStreams)
			if len(spans) != 3 {
				t.Fatalf("Spans: got %d, want 3", len(spans))
			}
			for i, sp := range spans {
				if sp.End.Before(sp.Start) || (i > 0 && sp.Start.Before(spans[i-1].End)) {
					t.Errorf("span %d: %v, want after span %d and ending after it starts", i, sp, i-1)
				}
			}
		})
	}
}
