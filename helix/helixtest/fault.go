package helixtest

import (
	"context"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Fault is a misbehaviour injected into an endpoint's answers with Fail.
// Delay and Hang come first; then Status, Body, Truncate or HugeBody decides
// the answer; with none of them the request is answered normally.
type Fault struct {
	// Times is how many requests the fault affects; 0 means every request
	// until ClearFaults.
	Times int
	// Status, if set, answers with this status and Twitch's error body
	// (Message or the status text as "message").
	Status  int
	Message string
	// Delay waits before answering. It ends early (without answer) when
	// the client gives up or the server closes.
	Delay time.Duration
	// Hang blocks the request until Release, the client gives up or the
	// server closes.
	Hang bool
	// Body, if set, answers 200 with this raw body (e.g. malformed JSON).
	Body string
	// Truncate answers 200 with a Content-Length longer than the body,
	// then drops the connection mid-body.
	Truncate bool
	// HugeBody, if positive, answers 200 with valid JSON of about that
	// many bytes.
	HugeBody int64
	// RateLimitReset, if not zero, is sent as the answer's
	// Ratelimit-Reset, e.g. on a 429 from the token endpoint, which has no
	// bucket of its own here. It overrides the Helix bucket's value.
	RateLimitReset time.Time

	left int
}

// Fail queues f for endpoint's next requests. Queued faults apply in order.
func (s *Server) Fail(endpoint string, f Fault) {
	f.left = f.Times
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults[endpoint] = append(s.faults[endpoint], &f)
}

// ClearFaults removes endpoint's queued faults.
func (s *Server) ClearFaults(endpoint string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.faults, endpoint)
}

// Release unblocks every request currently hung by a Hang fault.
func (s *Server) Release() {
	s.mu.Lock()
	defer s.mu.Unlock()
	close(s.release)
	s.release = make(chan struct{})
}

// WaitHung waits until at least n requests in all (since the server
// started, released or not) have been hung by a Hang fault, or ctx is done.
// Counting in all makes "wait for the next wave, then Release" race-free.
func (s *Server) WaitHung(ctx context.Context, n int) error {
	for {
		s.mu.Lock()
		hung, ch := s.hungTotal, s.changed
		s.mu.Unlock()
		if hung >= n {
			return nil
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// nextFault returns the fault for the next request of endpoint, consuming
// one of its Times. s.mu is held.
func (s *Server) nextFault(endpoint string) *Fault {
	q := s.faults[endpoint]
	if len(q) == 0 {
		return nil
	}
	f := q[0]
	if f.Times > 0 {
		f.left--
		if f.left <= 0 {
			s.faults[endpoint] = q[1:]
		}
	}
	cp := *f
	return &cp
}

// applyFault carries out f and reports whether it answered (or abandoned)
// the request.
func (s *Server) applyFault(w http.ResponseWriter, r *http.Request, endpoint string, f *Fault) bool {
	if f.Delay > 0 {
		t := time.NewTimer(f.Delay)
		defer t.Stop()
		select {
		case <-t.C:
		case <-r.Context().Done():
			return true
		case <-s.closed:
			return true
		}
	}
	if f.Hang {
		s.mu.Lock()
		rel := s.release
		s.hungTotal++
		s.notify() // wakes WaitHung
		s.mu.Unlock()
		select {
		case <-rel:
		case <-r.Context().Done():
			return true
		case <-s.closed:
			return true
		}
	}
	isHelix := endpoint == EndpointUsers || endpoint == EndpointStreams
	if isHelix && (f.Status != 0 || f.Body != "" || f.Truncate || f.HugeBody > 0) {
		s.mu.Lock()
		s.bucket.headers(w.Header(), s.opts.Now())
		s.mu.Unlock()
	}
	if !f.RateLimitReset.IsZero() {
		w.Header().Set("Ratelimit-Reset", strconv.FormatInt(f.RateLimitReset.Unix(), 10))
	}
	switch {
	case f.Status != 0:
		msg := f.Message
		if msg == "" {
			msg = http.StatusText(f.Status)
		}
		writeError(w, f.Status, isHelix, msg)
	case f.Body != "":
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Content-Length", strconv.Itoa(len(f.Body)))
		_, _ = w.Write([]byte(f.Body))
	case f.Truncate:
		body := `{"data":[{"id":"1","user_id":"100001","user_login":"someone","type":"live"}],"pagination":{}}`
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Content-Length", strconv.Itoa(len(body)))
		_, _ = w.Write([]byte(body[:len(body)/2]))
		if fl, ok := w.(http.Flusher); ok {
			fl.Flush()
		}
		panic(http.ErrAbortHandler) // drops the connection mid-body
	case f.HugeBody > 0:
		w.Header().Set("Content-Type", "application/json")
		const head, tail = `{"data":[],"pagination":{},"padding":"`, `"}`
		pad := f.HugeBody - int64(len(head)+len(tail))
		if pad < 0 {
			pad = 0
		}
		w.Header().Set("Content-Length", strconv.FormatInt(int64(len(head)+len(tail))+pad, 10))
		if _, err := w.Write([]byte(head)); err != nil {
			return true
		}
		chunk := []byte(strings.Repeat("x", 32<<10))
		for pad > 0 {
			n := min(pad, int64(len(chunk)))
			if _, err := w.Write(chunk[:n]); err != nil {
				return true
			}
			pad -= n
		}
		_, _ = w.Write([]byte(tail))
	default:
		return false
	}
	return true
}
