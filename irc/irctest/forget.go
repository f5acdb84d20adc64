package irctest

// Forget drops the lines, JOIN records and PONGs recorded so far, keeping
// the counters (Connections, Logins, Violations) and the channels joined.
// Long tests (soak, 1,000 reconnects) call it so that the server's own
// records do not hide whether the client's memory stays flat.
func (s *Server) Forget() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.received, s.joinLog, s.pongs = nil, nil, nil
}
