package helix

import (
	"strings"
	"testing"
	"time"
)

// FuzzDecodeStreams checks that decoding a /streams answer never panics,
// and that an accepted answer has a user_id on every stream and an error
// always names the endpoint.
func FuzzDecodeStreams(f *testing.F) {
	f.Add([]byte(`{"data":[{"id":"1","user_id":"100001","user_login":"alice","type":"live"}],"pagination":{}}`))
	f.Add([]byte(`{"data":[],"pagination":{}}`))
	f.Add([]byte(`{"pagination":{}}`))
	f.Add([]byte(`{"data":[{"user_id":`))
	f.Add([]byte(`null`))
	f.Fuzz(func(t *testing.T, body []byte) {
		streams, err := decodeStreams(body)
		if err != nil {
			if !strings.HasPrefix(err.Error(), "helix streams: ") {
				t.Errorf("error %q does not name the endpoint", err)
			}
			return
		}
		if streams == nil {
			t.Fatal("nil streams without error")
		}
		for i, s := range streams {
			if s.UserID == "" {
				t.Errorf("stream %d accepted without user_id", i)
			}
		}
	})
}

// FuzzDecodeUsers is FuzzDecodeStreams for /users answers.
func FuzzDecodeUsers(f *testing.F) {
	f.Add([]byte(`{"data":[{"id":"100001","login":"alice"}]}`))
	f.Add([]byte(`{"data":[]}`))
	f.Add([]byte(`{}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		users, err := decodeUsers(body)
		if err != nil {
			if !strings.HasPrefix(err.Error(), "helix users: ") {
				t.Errorf("error %q does not name the endpoint", err)
			}
			return
		}
		if users == nil {
			t.Fatal("nil users without error")
		}
		for i, u := range users {
			if u.ID == "" || u.Login == "" {
				t.Errorf("user %d accepted without id or login", i)
			}
		}
	})
}

func TestDecodeStreams(t *testing.T) {
	tests := []struct {
		name    string
		body    string
		want    int
		wantErr string
	}{
		{"live and other", `{"data":[{"user_id":"1","type":"live"},{"user_id":"2","type":""}],"pagination":{}}`, 2, ""},
		{"empty data", `{"data":[]}`, 0, ""},
		{"no data", `{}`, 0, `no "data" array`},
		{"null data", `{"data":null}`, 0, `no "data" array`},
		{"data not array", `{"data":{}}`, 0, "decode response"},
		{"stream without user_id", `{"data":[{"type":"live"}]}`, 0, "stream 0 has no user_id"},
		{"truncated", `{"data":[`, 0, "unexpected end of JSON input"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := decodeStreams([]byte(tc.body))
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err: got %v, want it to contain %q", err, tc.wantErr)
				}
				return
			}
			if err != nil || len(got) != tc.want {
				t.Errorf("got %d streams, %v; want %d, nil", len(got), err, tc.want)
			}
		})
	}
}

func TestAPIErrorText(t *testing.T) {
	tests := []struct {
		endpoint string
		status   int
		body     string
		want     string
	}{
		{"streams", 400, `{"error":"Bad Request","status":400,"message":"Malformed query param"}`, "helix streams: 400 Bad Request: Malformed query param"},
		{"validate", 401, `{"status":401,"message":"invalid access token"}`, "oauth2 validate: 401 Unauthorized: invalid access token"},
		{"users", 502, "<html>\nbad gateway</html>", "helix users: 502 Bad Gateway: <html> bad gateway</html>"},
		{"users", 500, strings.Repeat("x", 1000), "helix users: 500 Internal Server Error: " + strings.Repeat("x", maxMessageLen) + "..."},
		{"streams", 503, ``, "helix streams: 503 Service Unavailable"},
	}
	for _, tc := range tests {
		t.Run(tc.want[:20], func(t *testing.T) {
			if got := newAPIError(tc.endpoint, tc.status, []byte(tc.body)).Error(); got != tc.want {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
}

// TestBackoffBounds: the n-th wait of a request's backoff lies in
// [base*2^n/2, base*2^n], capped at BackoffMax, however many draws.
func TestBackoffBounds(t *testing.T) {
	c := New(Options{BackoffBase: 500 * time.Millisecond, BackoffMax: 10 * time.Second})
	tests := []struct {
		attempt  int
		min, max time.Duration
	}{
		{0, 250 * time.Millisecond, 500 * time.Millisecond},
		{1, 500 * time.Millisecond, time.Second},
		{3, 2 * time.Second, 4 * time.Second},
		{5, 5 * time.Second, 10 * time.Second},
		{60, 5 * time.Second, 10 * time.Second},
	}
	for range 100 {
		b := c.newBackoff()
		next := 0 // the attempt whose wait b.Next returns
		for _, tc := range tests {
			var d time.Duration
			for ; next <= tc.attempt; next++ {
				d = b.Next()
			}
			if d < tc.min || d > tc.max {
				t.Fatalf("backoff(%d): got %v, want within [%v, %v]", tc.attempt, d, tc.min, tc.max)
			}
		}
	}
}
