package setest

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"
)

func get(tb testing.TB, url string) (int, http.Header, map[string]any) {
	tb.Helper()
	resp, err := http.Get(url)
	if err != nil {
		tb.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	var v map[string]any
	_ = json.Unmarshal(body, &v)
	return resp.StatusCode, resp.Header, v
}

func TestShapes(t *testing.T) {
	s := New(Options{})
	defer s.Close()
	id := s.AddChannel("Alpha")
	if len(id) != 24 || s.AddChannel("alpha") != id {
		t.Fatalf("got id %q, want 24 hex digits, stable", id)
	}
	status, _, v := get(t, s.URL()+"/channels/alpha")
	if status != 200 || v["_id"] != id || v["username"] != "alpha" || v["provider"] != "twitch" {
		t.Fatalf("channel: got %d %v", status, v)
	}
	status, _, v = get(t, s.URL()+"/channels/nobody")
	if status != 404 || v["statusCode"] != float64(404) || v["error"] != "Not Found" {
		t.Fatalf("unknown channel: got %d %v, want StreamElements' 404", status, v)
	}
	status, _, _ = get(t, s.URL()+"/points/"+id+"/bot")
	if status != 404 {
		t.Fatalf("user not on the leaderboard: got %d, want 404", status)
	}
	s.SetViewer("alpha", "top", Viewer{Points: 1000})
	s.Watch("alpha", "bot", true)
	s.Credit(10)
	s.Credit(10)
	status, _, v = get(t, s.URL()+"/points/"+id+"/Bot")
	want := map[string]any{"channel": id, "username": "bot", "points": float64(20), "pointsAlltime": float64(20), "watchtime": float64(20), "rank": float64(2)}
	for k, w := range want {
		if v[k] != w {
			t.Fatalf("points: got %d %v, want %v", status, v, want)
		}
	}
	if c := s.Count(EndpointPoints); c != 2 {
		t.Fatalf("got %d points requests, want 2", c)
	}
}

func TestFaults(t *testing.T) {
	s := New(Options{})
	defer s.Close()
	id := s.AddChannel("alpha")
	s.SetViewer("alpha", "bot", Viewer{Watchtime: 1})
	s.RateLimit(2, 90*time.Second)
	for range 2 {
		if status, h, _ := get(t, s.URL()+"/channels/alpha"); status != 429 || h.Get("Retry-After") != "90" {
			t.Fatalf("got %d Retry-After %q, want 429 and 90", status, h.Get("Retry-After"))
		}
	}
	s.Malformed(EndpointPoints, 1)
	if status, _, v := get(t, s.URL()+"/channels/alpha"); status != 200 || v["_id"] != id {
		t.Fatalf("channels after the 429s: got %d %v (a points fault must not touch it)", status, v)
	}
	resp, err := http.Get(s.URL() + "/points/" + id + "/bot")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || json.Valid(body) {
		t.Fatalf("malformed: got %d %q, want 200 and invalid JSON", resp.StatusCode, body)
	}
	s.Fail("", 1, 503)
	if status, _, _ := get(t, s.URL()+"/points/"+id+"/bot"); status != 503 {
		t.Fatalf("got %d, want 503", status)
	}
	if status, _, _ := get(t, s.URL()+"/points/"+id+"/bot"); status != 200 {
		t.Fatalf("got %d, want 200 once the faults are spent", status)
	}
	if got := s.Count(""); got != 6 {
		t.Fatalf("got %d requests, want 6", got)
	}
}

func TestControl(t *testing.T) {
	s := New(Options{})
	defer s.Close()
	base := strings.TrimSuffix(s.URL(), "/kappa/v2")
	for _, u := range []string{"/_control/watch?channel=alpha&user=bot&on=true", "/_control/credit?minutes=10"} {
		resp, err := http.Post(base+u, "", nil)
		if err != nil || resp.StatusCode != http.StatusNoContent {
			t.Fatalf("POST %s: %v %v", u, resp, err)
		}
		resp.Body.Close()
	}
	if v, ok := s.Viewer("alpha", "bot"); !ok || v.Watchtime != 10 || v.Points != 10 {
		t.Fatalf("got %+v %v, want 10 minutes and 10 points", v, ok)
	}
	resp, err := http.Get(base + "/_control/state")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var st []ChannelState
	if err := json.NewDecoder(resp.Body).Decode(&st); err != nil || len(st) != 1 || st[0].Viewers["bot"].Watchtime != 10 {
		t.Fatalf("state: got %+v %v", st, err)
	}
	resp2, _ := http.Post(base+"/_control/credit?minutes=x", "", nil)
	if resp2.StatusCode != http.StatusBadRequest {
		t.Fatalf("bad minutes: got %d, want 400", resp2.StatusCode)
	}
	resp2.Body.Close()
}
