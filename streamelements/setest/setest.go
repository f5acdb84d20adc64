// Package setest is an in-process fake of StreamElements' public API (the
// channel and points endpoints farmd reads), with StreamElements' paths,
// JSON shapes and 404s, plus what tests need: 429s with Retry-After,
// malformed answers, server errors, request counters, the most requests
// seen in flight at once, and a pause that holds requests. Tests and
// `farmd --demo` use it; it does not import "testing".
package setest

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Endpoint names for Count and Request.
const (
	EndpointChannels = "channels"
	EndpointPoints   = "points"
)

// DefaultPointsPerMinute is what Credit adds per minute of watch time:
// StreamElements' default loyalty rate, 10 points every 10 minutes.
const DefaultPointsPerMinute = 1

// Options configures a Server.
type Options struct {
	// Now stamps Requests. Default time.Now; give the test's fake clock.
	Now func() time.Time
	// PointsPerMinute is what Credit adds per minute. Default
	// DefaultPointsPerMinute.
	PointsPerMinute int64
}

// Viewer is one account's numbers in one channel.
type Viewer struct {
	Points        int64 `json:"points"`
	PointsAlltime int64 `json:"pointsAlltime"`
	// Watchtime is in minutes, as StreamElements counts it.
	Watchtime int64 `json:"watchtime"`
}

// Request is one request the fake answered.
type Request struct {
	Endpoint string // EndpointChannels, EndpointPoints or "" (other paths)
	Path     string
	Status   int
	At       time.Time
}

// Server is the fake. Its methods are safe for concurrent use.
type Server struct {
	ts   *httptest.Server
	opts Options

	mu       sync.Mutex
	channels map[string]*seChannel // by login
	byID     map[string]*seChannel
	faults   []fault
	requests []Request
	inFlight int
	maxIn    int
	paused   chan struct{} // closed by Resume; nil when not paused
}

type seChannel struct {
	login   string
	id      string
	viewers map[string]*Viewer
	watch   map[string]bool // viewers Credit adds to
}

// fault answers the next n requests (of endpoint, or any when "") in a
// way a test asked for.
type fault struct {
	endpoint   string
	n          int
	status     int    // 429, 5xx, or 200 with a malformed body
	retryAfter string // for 429
	body       string
}

// New starts a Server on 127.0.0.1.
func New(opts Options) *Server {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.PointsPerMinute == 0 {
		opts.PointsPerMinute = DefaultPointsPerMinute
	}
	s := &Server{opts: opts, channels: map[string]*seChannel{}, byID: map[string]*seChannel{}}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /kappa/v2/channels/{channel}", s.handleChannel)
	mux.HandleFunc("GET /kappa/v2/points/{channel}/{user}", s.handlePoints)
	s.registerControl(mux)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		s.record(Request{Path: r.URL.Path, Status: http.StatusNotFound})
		writeError(w, http.StatusNotFound, "Not Found")
	})
	s.ts = httptest.NewServer(mux)
	return s
}

// URL is the API base to give farmd as points.api_url, like
// https://api.streamelements.com/kappa/v2.
func (s *Server) URL() string { return s.ts.URL + "/kappa/v2" }

// Close resumes held requests and shuts the server down.
func (s *Server) Close() {
	s.Resume()
	s.ts.Close()
}

// AddChannel gives channel login StreamElements and returns its id, 24 hex
// digits derived from the login so that it is the same in every run.
func (s *Server) AddChannel(login string) string {
	login = strings.ToLower(login)
	s.mu.Lock()
	defer s.mu.Unlock()
	if c := s.channels[login]; c != nil {
		return c.id
	}
	sum := sha256.Sum256([]byte("setest:" + login))
	c := &seChannel{login: login, id: hex.EncodeToString(sum[:12]), viewers: map[string]*Viewer{}, watch: map[string]bool{}}
	s.channels[login] = c
	s.byID[c.id] = c
	return c.id
}

// RemoveChannel takes StreamElements away from channel login: both
// endpoints answer 404 for it.
func (s *Server) RemoveChannel(login string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if c := s.channels[strings.ToLower(login)]; c != nil {
		delete(s.channels, c.login)
		delete(s.byID, c.id)
	}
}

// SetViewer sets user's numbers in channel login, adding the channel if
// needed. A user never set is not on the leaderboard: 404.
func (s *Server) SetViewer(login, user string, v Viewer) {
	s.AddChannel(login)
	s.mu.Lock()
	defer s.mu.Unlock()
	vv := v
	s.channels[strings.ToLower(login)].viewers[strings.ToLower(user)] = &vv
}

// Viewer returns user's numbers in channel login.
func (s *Server) Viewer(login, user string) (Viewer, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.channels[strings.ToLower(login)]
	if c == nil || c.viewers[strings.ToLower(user)] == nil {
		return Viewer{}, false
	}
	return *c.viewers[strings.ToLower(user)], true
}

// Grow adds minutes of watch time and points to user in channel login, as
// StreamElements' bot does for a viewer it sees.
func (s *Server) Grow(login, user string, minutes, points int64) {
	s.AddChannel(login)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.growLocked(s.channels[strings.ToLower(login)], strings.ToLower(user), minutes, points)
}

func (s *Server) growLocked(c *seChannel, user string, minutes, points int64) {
	v := c.viewers[user]
	if v == nil {
		v = &Viewer{}
		c.viewers[user] = v
	}
	v.Watchtime += minutes
	v.Points += points
	v.PointsAlltime += max(points, 0)
}

// Watch makes Credit credit user in channel login (on), or stop (off):
// the demo turns it on for the channels farmd joined.
func (s *Server) Watch(login, user string, on bool) {
	s.AddChannel(login)
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.channels[strings.ToLower(login)]
	if on {
		c.watch[strings.ToLower(user)] = true
	} else {
		delete(c.watch, strings.ToLower(user))
	}
}

// Credit adds minutes of watch time, and minutes*PointsPerMinute points,
// to every user Watch turned on: one StreamElements update.
func (s *Server) Credit(minutes int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, c := range s.channels {
		for user := range c.watch {
			s.growLocked(c, user, minutes, minutes*s.opts.PointsPerMinute)
		}
	}
}

// RateLimit answers the next n requests with 429 and Retry-After:
// retryAfter (whole seconds).
func (s *Server) RateLimit(n int, retryAfter time.Duration) {
	s.addFault(fault{n: n, status: http.StatusTooManyRequests,
		retryAfter: strconv.FormatInt(int64(retryAfter/time.Second), 10), body: `{"statusCode":429,"error":"Too Many Requests"}`})
}

// Malformed answers the next n requests to endpoint ("" for any) with a
// 200 whose body is not the documented JSON.
func (s *Server) Malformed(endpoint string, n int) {
	s.addFault(fault{endpoint: endpoint, n: n, status: http.StatusOK, body: `{"points": "many", "watchtime": [`})
}

// Fail answers the next n requests to endpoint ("" for any) with status.
func (s *Server) Fail(endpoint string, n, status int) {
	s.addFault(fault{endpoint: endpoint, n: n, status: status,
		body: `{"statusCode":` + strconv.Itoa(status) + `,"error":"` + http.StatusText(status) + `"}`})
}

func (s *Server) addFault(f fault) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = append(s.faults, f)
}

// takeFault returns the fault for a request to endpoint, if one is due.
func (s *Server) takeFault(endpoint string) (fault, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i := range s.faults {
		f := &s.faults[i]
		if f.n > 0 && (f.endpoint == "" || f.endpoint == endpoint) {
			f.n--
			got := *f
			if f.n == 0 {
				s.faults = append(s.faults[:i], s.faults[i+1:]...)
			}
			return got, true
		}
	}
	return fault{}, false
}

// Pause holds every request that arrives until Resume; they count as in
// flight meanwhile.
func (s *Server) Pause() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.paused == nil {
		s.paused = make(chan struct{})
	}
}

// Resume releases the requests Pause held.
func (s *Server) Resume() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.paused != nil {
		close(s.paused)
		s.paused = nil
	}
}

// InFlight is the number of requests being answered now; MaxInFlight the
// most there ever were at once.
func (s *Server) InFlight() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.inFlight
}

// MaxInFlight is the most requests ever answered at once.
func (s *Server) MaxInFlight() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.maxIn
}

// Count is the number of requests to endpoint ("" for all) so far.
func (s *Server) Count(endpoint string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, r := range s.requests {
		if endpoint == "" || r.Endpoint == endpoint {
			n++
		}
	}
	return n
}

// Requests returns the requests answered so far, in order.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Request(nil), s.requests...)
}

func (s *Server) record(r Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r.At = s.opts.Now()
	s.requests = append(s.requests, r)
}

// enter counts a request in flight and waits while paused; the returned
// func counts it out.
func (s *Server) enter() func() {
	s.mu.Lock()
	s.inFlight++
	s.maxIn = max(s.maxIn, s.inFlight)
	held := s.paused
	s.mu.Unlock()
	if held != nil {
		<-held
	}
	return func() {
		s.mu.Lock()
		s.inFlight--
		s.mu.Unlock()
	}
}

// serveFault answers with f if one is due for endpoint.
func (s *Server) serveFault(w http.ResponseWriter, r *http.Request, endpoint string) bool {
	f, ok := s.takeFault(endpoint)
	if !ok {
		return false
	}
	s.record(Request{Endpoint: endpoint, Path: r.URL.Path, Status: f.status})
	if f.retryAfter != "" {
		w.Header().Set("Retry-After", f.retryAfter)
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(f.status)
	_, _ = w.Write([]byte(f.body))
	return true
}

// handleChannel is GET /kappa/v2/channels/{channel}, by login or id.
func (s *Server) handleChannel(w http.ResponseWriter, r *http.Request) {
	defer s.enter()()
	if s.serveFault(w, r, EndpointChannels) {
		return
	}
	name := strings.ToLower(r.PathValue("channel"))
	s.mu.Lock()
	c := s.channels[name]
	if c == nil {
		c = s.byID[name]
	}
	var body map[string]any
	if c != nil {
		body = channelJSON(c)
	}
	s.mu.Unlock()
	if c == nil {
		s.record(Request{Endpoint: EndpointChannels, Path: r.URL.Path, Status: http.StatusNotFound})
		writeError(w, http.StatusNotFound, "channel "+name+" was not found")
		return
	}
	s.record(Request{Endpoint: EndpointChannels, Path: r.URL.Path, Status: http.StatusOK})
	writeJSON(w, http.StatusOK, body)
}

// channelJSON is StreamElements' channel object.
func channelJSON(c *seChannel) map[string]any {
	return map[string]any{
		"profile":         map[string]any{"headerImage": "https://cdn.streamelements.com/static/user/profile_header_default.png", "title": c.login + "'s profile"},
		"provider":        "twitch",
		"_id":             c.id,
		"avatar":          "",
		"username":        c.login,
		"alias":           c.login,
		"displayName":     c.login,
		"providerId":      "",
		"isPartner":       false,
		"broadcasterType": "",
		"inactive":        false,
		"suspended":       false,
	}
}

// handlePoints is GET /kappa/v2/points/{channel}/{user}, channel by id or
// login.
func (s *Server) handlePoints(w http.ResponseWriter, r *http.Request) {
	defer s.enter()()
	if s.serveFault(w, r, EndpointPoints) {
		return
	}
	key, user := strings.ToLower(r.PathValue("channel")), strings.ToLower(r.PathValue("user"))
	s.mu.Lock()
	c := s.byID[key]
	if c == nil {
		c = s.channels[key]
	}
	var v *Viewer
	var rank int
	if c != nil {
		v = c.viewers[user]
		if v != nil {
			rank = 1
			for _, o := range c.viewers {
				if o.Points > v.Points {
					rank++
				}
			}
		}
	}
	var body map[string]any
	if v != nil {
		body = map[string]any{"channel": c.id, "username": user, "points": v.Points,
			"pointsAlltime": v.PointsAlltime, "watchtime": v.Watchtime, "rank": rank}
	}
	s.mu.Unlock()
	switch {
	case c == nil:
		s.record(Request{Endpoint: EndpointPoints, Path: r.URL.Path, Status: http.StatusNotFound})
		writeError(w, http.StatusNotFound, "channel "+key+" was not found")
	case v == nil:
		s.record(Request{Endpoint: EndpointPoints, Path: r.URL.Path, Status: http.StatusNotFound})
		writeError(w, http.StatusNotFound, "user "+user+" was not found")
	default:
		s.record(Request{Endpoint: EndpointPoints, Path: r.URL.Path, Status: http.StatusOK})
		writeJSON(w, http.StatusOK, body)
	}
}

// writeError writes StreamElements' error object.
func writeError(w http.ResponseWriter, status int, message string) {
	writeJSON(w, status, map[string]any{"statusCode": status, "error": http.StatusText(status), "message": message})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// registerControl adds a small HTTP control API for people playing with
// `farmd --demo`:
//
//	POST /_control/watch?channel=x&user=y&on=true  credit y in x on each Credit (or stop)
//	POST /_control/credit?minutes=10               one StreamElements update
//	GET  /_control/state                           every channel's viewers
func (s *Server) registerControl(mux *http.ServeMux) {
	mux.HandleFunc("POST /_control/watch", func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		on, err := strconv.ParseBool(q.Get("on"))
		if q.Get("channel") == "" || q.Get("user") == "" || err != nil {
			http.Error(w, "want channel=<login>&user=<login>&on=<bool>", http.StatusBadRequest)
			return
		}
		s.Watch(q.Get("channel"), q.Get("user"), on)
		w.WriteHeader(http.StatusNoContent)
	})
	mux.HandleFunc("POST /_control/credit", func(w http.ResponseWriter, r *http.Request) {
		n, err := strconv.ParseInt(r.URL.Query().Get("minutes"), 10, 64)
		if err != nil || n <= 0 {
			http.Error(w, "want minutes=<positive number>", http.StatusBadRequest)
			return
		}
		s.Credit(n)
		w.WriteHeader(http.StatusNoContent)
	})
	mux.HandleFunc("GET /_control/state", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, s.state())
	})
}

// ChannelState is one channel in GET /_control/state.
type ChannelState struct {
	Login    string            `json:"login"`
	ID       string            `json:"id"`
	Viewers  map[string]Viewer `json:"viewers"`
	Watching []string          `json:"watching"`
}

func (s *Server) state() []ChannelState {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]ChannelState, 0, len(s.channels))
	for _, c := range s.channels {
		cs := ChannelState{Login: c.login, ID: c.id, Viewers: map[string]Viewer{}, Watching: []string{}}
		for u, v := range c.viewers {
			cs.Viewers[u] = *v
		}
		for u := range c.watch {
			cs.Watching = append(cs.Watching, u)
		}
		sort.Strings(cs.Watching)
		out = append(out, cs)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Login < out[j].Login })
	return out
}
