package helixtest

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"net"
	"net/http"
	"net/http/httptest"
	"time"
)

// Span is when one request arrived at the server and when its answer was
// complete, on the real clock (not Options.Now), so that a load run can
// measure a poll cycle from outside the client.
type Span struct {
	Start, End time.Time
}

// start serves the handler on 127.0.0.1: plain HTTP/1.1, or TLS offering
// HTTP/2 and HTTP/1.1 (HTTP2), or TLS offering only HTTP/1.1 (TLS), as a
// proxy in front of Twitch might.
func (s *Server) start(h http.Handler) {
	s.ts = httptest.NewUnstartedServer(h)
	s.ts.Config.ConnState = func(_ net.Conn, st http.ConnState) {
		if st == http.StateNew {
			s.mu.Lock()
			s.conns++
			s.mu.Unlock()
		}
	}
	switch {
	case s.opts.HTTP2:
		s.ts.EnableHTTP2 = true
		s.ts.StartTLS()
	case s.opts.TLS:
		s.ts.StartTLS()
	default:
		s.ts.Start()
	}
}

// Connections returns how many connections the server has accepted: over
// HTTP/1.1 one per request in flight at once, over HTTP/2 one for all.
func (s *Server) Connections() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.conns
}

// Protocols returns how many requests endpoint received per protocol, as
// the server saw it ("HTTP/1.1", "HTTP/2.0").
func (s *Server) Protocols(endpoint string) map[string]int {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make(map[string]int, len(s.protos[endpoint]))
	for k, v := range s.protos[endpoint] {
		out[k] = v
	}
	return out
}

// Spans returns when each request of endpoint arrived and was answered, in
// the order they arrived.
func (s *Server) Spans(endpoint string) []Span {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Span, 0, len(s.spans[endpoint]))
	for _, sp := range s.spans[endpoint] {
		out = append(out, *sp)
	}
	return out
}

// ClientTLSConfig returns a TLS configuration that trusts the server's
// certificate, with HTTP/2 and HTTP/1.1 offered by ALPN. It is nil for a
// plain HTTP server.
func (s *Server) ClientTLSConfig() *tls.Config {
	cert := s.ts.Certificate()
	if cert == nil {
		return nil
	}
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	return &tls.Config{RootCAs: pool, NextProtos: []string{"h2", "http/1.1"}}
}

// CertificatePEM returns the server's certificate in PEM, nil for a plain
// HTTP server: a child process (the real farmd binary) trusts it through
// SSL_CERT_FILE.
func (s *Server) CertificatePEM() []byte {
	cert := s.ts.Certificate()
	if cert == nil {
		return nil
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: cert.Raw})
}

// serve spends the request's service time on one of the server's workers:
// with Workers busy, a request waits for one, so concurrent requests slow
// each other down as on a CPU-bound server. It reports false when the
// client gave up or the server closed while it waited.
func (s *Server) serve(r *http.Request) bool {
	if s.opts.ServiceTime <= 0 {
		return true
	}
	select {
	case s.workers <- struct{}{}:
	case <-r.Context().Done():
		return false
	case <-s.closed:
		return false
	}
	s.mu.Lock()
	s.busy++
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		s.busy--
		s.mu.Unlock()
		<-s.workers
	}()
	t := time.NewTimer(s.opts.ServiceTime)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-r.Context().Done():
		return false
	case <-s.closed:
		return false
	}
}
