// Package irctest provides an in-process Twitch IRC (TMI) server for tests
// and for farmd's demo mode, the way net/http/httptest serves net/http. It
// speaks enough of TMI for farmd: CAP, PASS/NICK login with Twitch's refusal
// NOTICEs, the 001-376 welcome, JOIN/PART echoes with NAMES, USERSTATE and
// ROOMSTATE, PING/PONG, RECONNECT, channel NOTICEs, and Twitch's JOIN rate
// limit. Control methods are safe for concurrent use; Wait lets tests wait
// for a condition without sleeping.
//
// The server runs on the real clock, as Twitch does: its JOIN rate limit
// and FloodAt's rate are measured in real time, whatever clock the client
// under test uses.
//
// The package does not import "testing", so the daemon's --demo mode can use
// it.
package irctest

import (
	"bufio"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/farmd/farmd/twitch"
)

// Options configure a Server.
type Options struct {
	// Username is the login the server accepts (any when empty).
	Username string
	// CheckToken, if set, decides which tokens log in, as Twitch chat does
	// at PASS: it returns the token's login, and false for a token that is
	// unknown, expired or revoked. Wire helixtest.Server.UserTokenLogin in.
	CheckToken func(token string) (login string, ok bool)
	// Token is the expected token, with or without "oauth:" (any when
	// empty).
	Token string
	// JoinLimit channel JOINs in any JoinWindow (default 20 per 10 s).
	JoinLimit  int
	JoinWindow time.Duration
	// EnforceJoinLimit closes the connection on the (JoinLimit+1)th channel
	// JOIN within a JoinWindow, as Twitch does, and counts a violation.
	EnforceJoinLimit bool
	// TLS serves TLS with a self-signed certificate made at start; see
	// ClientTLSConfig.
	TLS bool
	// Logf, if set, receives a line per event.
	Logf func(format string, args ...any)
}

// JoinRecord is one JOIN line the server received.
type JoinRecord struct {
	Time     time.Time
	Channels []string
}

type channelNotice struct{ msgID, text string }

// Server is an in-process TMI server on 127.0.0.1.
type Server struct {
	o         Options
	ln        net.Listener
	clientTLS *tls.Config
	pool      *x509.CertPool
	done      chan struct{}
	wg        sync.WaitGroup
	closeOnce sync.Once

	mu          sync.Mutex
	changed     chan struct{}
	conns       map[*client]struct{}
	connections int
	logins      int
	violations  int
	received    []string
	joinLog     []JoinRecord
	pongs       []string
	notices     map[string]channelNotice
	silent      map[string]bool
	rejectLogin bool
	noWelcome   bool
	ignorePings bool
	frozen      bool
}

// client is one accepted connection.
type client struct {
	nc  net.Conn
	wmu sync.Mutex

	// Guarded by Server.mu.
	nick, pass string
	tags       bool
	loggedIn   bool
	joined     map[string]bool
}

// NewServer starts a server listening on 127.0.0.1:0.
func NewServer(o Options) (*Server, error) {
	if o.JoinLimit <= 0 {
		o.JoinLimit = 20
	}
	if o.JoinWindow <= 0 {
		o.JoinWindow = 10 * time.Second
	}
	o.Username = twitch.NormalizeLogin(o.Username)
	o.Token = twitch.StripOAuthPrefix(o.Token)
	s := &Server{
		o:       o,
		done:    make(chan struct{}),
		changed: make(chan struct{}),
		conns:   map[*client]struct{}{},
		notices: map[string]channelNotice{},
		silent:  map[string]bool{},
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("listen: %w", err)
	}
	if o.TLS {
		cert, pool, err := selfSigned()
		if err != nil {
			_ = ln.Close()
			return nil, fmt.Errorf("tls certificate: %w", err)
		}
		ln = tls.NewListener(ln, &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12})
		s.pool = pool
		s.clientTLS = &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
	}
	s.ln = ln
	s.wg.Add(1)
	go s.acceptLoop()
	return s, nil
}

// Addr returns the server's host:port.
func (s *Server) Addr() string { return s.ln.Addr().String() }

// ClientTLSConfig returns a client configuration trusting the server's
// certificate, or nil without TLS.
func (s *Server) ClientTLSConfig() *tls.Config {
	if s.clientTLS == nil {
		return nil
	}
	return s.clientTLS.Clone()
}

// CertPool returns a pool trusting the server's certificate, or nil without
// TLS.
func (s *Server) CertPool() *x509.CertPool { return s.pool }

// Close stops the server, closes every connection and waits for its
// goroutines.
func (s *Server) Close() {
	s.closeOnce.Do(func() {
		close(s.done)
		_ = s.ln.Close()
		s.mu.Lock()
		for c := range s.conns {
			_ = c.nc.Close()
		}
		s.mu.Unlock()
	})
	s.wg.Wait()
}

func (s *Server) logf(format string, args ...any) {
	if s.o.Logf != nil {
		s.o.Logf(format, args...)
	}
}

// notify wakes Wait callers; s.mu must be held.
func (s *Server) notify() {
	close(s.changed)
	s.changed = make(chan struct{})
}

// Changed returns a channel closed at the next state change.
func (s *Server) Changed() <-chan struct{} {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.changed
}

// Wait returns nil once cond(s) is true, checking it at every state change
// (line received, connection accepted or closed, ...), or ctx's error.
// cond must not hold the server's state across calls; it may call any
// method of s.
func (s *Server) Wait(ctx context.Context, cond func(*Server) bool) error {
	for {
		ch := s.Changed()
		if cond(s) {
			return nil
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return fmt.Errorf("irctest: wait: %w", ctx.Err())
		}
	}
}

func (s *Server) acceptLoop() {
	defer s.wg.Done()
	for {
		nc, err := s.ln.Accept()
		if err != nil {
			select {
			case <-s.done:
				return
			default:
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				continue
			}
			s.logf("irctest: accept: %v", err)
			return
		}
		c := &client{nc: nc, joined: map[string]bool{}}
		s.mu.Lock()
		select {
		case <-s.done:
			s.mu.Unlock()
			_ = nc.Close()
			return
		default:
		}
		s.conns[c] = struct{}{}
		s.connections++
		s.notify()
		s.mu.Unlock()
		s.wg.Add(1)
		go s.serve(c)
	}
}

// serve reads a connection's lines until it closes.
func (s *Server) serve(c *client) {
	defer s.wg.Done()
	defer func() {
		_ = c.nc.Close()
		s.mu.Lock()
		delete(s.conns, c)
		c.joined = map[string]bool{}
		s.notify()
		s.mu.Unlock()
	}()
	sc := bufio.NewScanner(c.nc)
	sc.Buffer(make([]byte, 4096), 64<<10)
	for sc.Scan() {
		line := strings.TrimRight(sc.Text(), "\r")
		if !s.handle(c, line) {
			return
		}
	}
}

// handle answers one client line; false closes the connection.
func (s *Server) handle(c *client, line string) bool {
	s.mu.Lock()
	s.received = append(s.received, line)
	frozen := s.frozen
	s.notify()
	s.mu.Unlock()
	if frozen {
		return true
	}

	cmd, arg, _ := strings.Cut(line, " ")
	switch strings.ToUpper(cmd) {
	case "CAP":
		caps := arg
		if i := strings.Index(arg, ":"); i >= 0 {
			caps = arg[i+1:]
		}
		s.mu.Lock()
		c.tags = c.tags || strings.Contains(caps, "twitch.tv/tags")
		s.mu.Unlock()
		s.write(c, ":tmi.twitch.tv CAP * ACK :"+caps)
	case "PASS":
		s.mu.Lock()
		c.pass = arg
		s.mu.Unlock()
	case "NICK":
		return s.login(c, twitch.NormalizeLogin(strings.TrimPrefix(arg, ":")))
	case "JOIN":
		return s.join(c, arg)
	case "PART":
		s.part(c, arg)
	case "PING":
		s.mu.Lock()
		ignore := s.ignorePings
		s.mu.Unlock()
		if !ignore {
			s.write(c, ":tmi.twitch.tv PONG tmi.twitch.tv :"+strings.TrimPrefix(arg, ":"))
		}
	case "PONG":
		s.mu.Lock()
		s.pongs = append(s.pongs, strings.TrimPrefix(arg, ":"))
		s.notify()
		s.mu.Unlock()
	case "QUIT":
		return false
	}
	return true
}

// login checks PASS and NICK the way TMI does and welcomes the user.
// tokenLogsIn applies CheckToken: the token must be valid and the nick its
// login.
func (s *Server) tokenLogsIn(token, nick string) bool {
	if s.o.CheckToken == nil {
		return true
	}
	login, ok := s.o.CheckToken(token)
	return ok && login == nick
}

func (s *Server) login(c *client, nick string) bool {
	s.mu.Lock()
	c.nick = nick
	pass, reject, noWelcome, tags := c.pass, s.rejectLogin, s.noWelcome, c.tags
	s.mu.Unlock()
	token := twitch.StripOAuthPrefix(pass)
	switch {
	case token == "" || pass != twitch.ChatPassword(token):
		s.write(c, ":tmi.twitch.tv NOTICE * :Improperly formatted auth")
		return false
	case reject || (s.o.Token != "" && token != s.o.Token) ||
		(s.o.Username != "" && nick != s.o.Username) || !s.tokenLogsIn(token, nick):
		s.write(c, ":tmi.twitch.tv NOTICE * :Login authentication failed")
		return false
	case noWelcome:
		return true
	}
	lines := []string{
		":tmi.twitch.tv 001 " + nick + " :Welcome, GLHF!",
		":tmi.twitch.tv 002 " + nick + " :Your host is tmi.twitch.tv",
		":tmi.twitch.tv 003 " + nick + " :This server is rather new",
		":tmi.twitch.tv 004 " + nick + " :-",
		":tmi.twitch.tv 375 " + nick + " :-",
		":tmi.twitch.tv 372 " + nick + " :You are in a maze of twisty passages, all alike.",
		":tmi.twitch.tv 376 " + nick + " :>",
	}
	if tags {
		lines = append(lines, "@badge-info=;badges=;color=;display-name="+nick+
			";emote-sets=0;user-id=1;user-type= :tmi.twitch.tv GLOBALUSERSTATE")
	}
	// Logged in before the 001 goes out, so that a client that has seen
	// the welcome finds Send, Flood and Joined working.
	s.mu.Lock()
	c.loggedIn = true
	s.logins++
	s.notify()
	s.mu.Unlock()
	s.write(c, lines...)
	s.logf("irctest: %s logged in", nick)
	return true
}

// join answers a JOIN of one or more channels; false closes the connection
// (JOIN rate limit exceeded).
func (s *Server) join(c *client, arg string) bool {
	var chans []string
	for _, ch := range strings.Split(strings.TrimPrefix(arg, ":"), ",") {
		if ch = channelName(ch); ch != "" {
			chans = append(chans, ch)
		}
	}
	now := time.Now()
	s.mu.Lock()
	if !c.loggedIn {
		s.mu.Unlock()
		return true // TMI ignores commands before the welcome
	}
	s.joinLog = append(s.joinLog, JoinRecord{Time: now, Channels: chans})
	n := len(chans)
	for _, r := range s.joinLog[:len(s.joinLog)-1] {
		if now.Sub(r.Time) < s.o.JoinWindow {
			n += len(r.Channels)
		}
	}
	if s.o.EnforceJoinLimit && n > s.o.JoinLimit {
		s.violations++
		s.notify()
		s.mu.Unlock()
		s.logf("irctest: join rate limit exceeded (%d in %s), closing", n, s.o.JoinWindow)
		return false
	}
	nick := c.nick
	type answer struct {
		ch     string
		notice *channelNotice
		silent bool
	}
	answers := make([]answer, 0, len(chans))
	for _, ch := range chans {
		a := answer{ch: ch, silent: s.silent[ch]}
		if n, ok := s.notices[ch]; ok {
			a.notice = &n
		} else if !a.silent {
			c.joined[ch] = true
		}
		answers = append(answers, a)
	}
	tags := c.tags
	s.notify()
	s.mu.Unlock()

	var lines []string
	for _, a := range answers {
		switch {
		case a.notice != nil:
			lines = append(lines, "@msg-id="+a.notice.msgID+" :tmi.twitch.tv NOTICE #"+a.ch+" :"+a.notice.text)
		case a.silent:
		default:
			lines = append(lines,
				":"+nick+"!"+nick+"@"+nick+".tmi.twitch.tv JOIN #"+a.ch,
				":"+nick+".tmi.twitch.tv 353 "+nick+" = #"+a.ch+" :"+nick,
				":"+nick+".tmi.twitch.tv 366 "+nick+" #"+a.ch+" :End of /NAMES list")
			if tags {
				lines = append(lines,
					"@badge-info=;badges=;color=;display-name="+nick+";emote-sets=0;mod=0;subscriber=0;user-type= :tmi.twitch.tv USERSTATE #"+a.ch,
					"@emote-only=0;followers-only=-1;r9k=0;room-id=1;slow=0;subs-only=0 :tmi.twitch.tv ROOMSTATE #"+a.ch)
			}
		}
	}
	s.write(c, lines...)
	return true
}

// channelName is a channel of a JOIN or PART argument, or one a test
// names, in the form Twitch uses: without '#', lowercased.
func channelName(s string) string { return twitch.NormalizeLogin(s) }

// part echoes a PART of one or more channels.
func (s *Server) part(c *client, arg string) {
	var lines []string
	s.mu.Lock()
	nick := c.nick
	for _, ch := range strings.Split(strings.TrimPrefix(arg, ":"), ",") {
		if ch = channelName(ch); ch == "" {
			continue
		}
		delete(c.joined, ch)
		lines = append(lines, ":"+nick+"!"+nick+"@"+nick+".tmi.twitch.tv PART #"+ch)
	}
	s.notify()
	s.mu.Unlock()
	s.write(c, lines...)
}

// write sends lines to c in one write; errors close c (its reader then
// stops).
func (s *Server) write(c *client, lines ...string) {
	if len(lines) == 0 {
		return
	}
	var b strings.Builder
	for _, l := range lines {
		b.WriteString(l)
		b.WriteString("\r\n")
	}
	c.wmu.Lock()
	defer c.wmu.Unlock()
	_ = c.nc.SetWriteDeadline(time.Now().Add(5 * time.Second))
	if _, err := c.nc.Write([]byte(b.String())); err != nil {
		_ = c.nc.Close()
	}
}

// open returns the open connections, logged-in ones only if loggedIn.
func (s *Server) open(loggedIn bool) []*client {
	s.mu.Lock()
	defer s.mu.Unlock()
	var cs []*client
	for c := range s.conns {
		if !loggedIn || c.loggedIn {
			cs = append(cs, c)
		}
	}
	return cs
}

// Send writes a raw line (CR LF appended) to every logged-in connection.
func (s *Server) Send(line string) {
	for _, c := range s.open(true) {
		s.write(c, line)
	}
}

// Drop closes every open connection, as a network failure would.
func (s *Server) Drop() {
	for _, c := range s.open(false) {
		_ = c.nc.Close()
	}
}

// SendReconnect sends RECONNECT to every logged-in connection.
func (s *Server) SendReconnect() { s.Send(":tmi.twitch.tv RECONNECT") }

// SendPing sends PING :payload to every logged-in connection; Pongs records
// the answers.
func (s *Server) SendPing(payload string) { s.Send("PING :" + payload) }

// Flood sends n realistic tagged PRIVMSG lines in channel to every
// logged-in connection, as one burst.
func (s *Server) Flood(channel string, n int) {
	channel = channelName(channel)
	lines := make([]string, 0, n)
	for i := range n {
		lines = append(lines, floodLine(channel, i, true))
	}
	for _, c := range s.open(true) {
		s.write(c, lines...)
	}
}

// Joined returns the channels the logged-in connections are in, sorted.
func (s *Server) Joined() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []string
	for c := range s.conns {
		for ch := range c.joined {
			out = append(out, ch)
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// Connections returns how many TCP connections were accepted.
func (s *Server) Connections() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.connections
}

// Logins returns how many logins were welcomed with 001.
func (s *Server) Logins() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.logins
}

// Violations returns how many times the JOIN rate limit was exceeded.
func (s *Server) Violations() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.violations
}

// Received returns every line received, in order, PASS included verbatim.
func (s *Server) Received() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.received)
}

// JoinLog returns every JOIN received from a logged-in connection.
func (s *Server) JoinLog() []JoinRecord {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]JoinRecord, len(s.joinLog))
	for i, r := range s.joinLog {
		out[i] = JoinRecord{Time: r.Time, Channels: slices.Clone(r.Channels)}
	}
	return out
}

// Pongs returns the payloads of the PONGs received, in order.
func (s *Server) Pongs() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.pongs)
}

// SetNotice makes a JOIN of channel answer
// `@msg-id=<msgID> :tmi.twitch.tv NOTICE #<channel> :<text>` instead of the
// echo. An empty msgID removes the rule.
func (s *Server) SetNotice(channel, msgID, text string) {
	channel = channelName(channel)
	s.mu.Lock()
	defer s.mu.Unlock()
	if msgID == "" {
		delete(s.notices, channel)
		return
	}
	s.notices[channel] = channelNotice{msgID: msgID, text: text}
}

// SetSilent makes a JOIN of channel get no answer at all, as TMI does for
// a channel that does not exist.
func (s *Server) SetSilent(channel string, silent bool) {
	channel = channelName(channel)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.silent[channel] = silent
}

// SetRejectLogin makes every login fail with "Login authentication failed".
func (s *Server) SetRejectLogin(v bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.rejectLogin = v
}

// SetNoWelcome makes the server accept logins but never send 001.
func (s *Server) SetNoWelcome(v bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.noWelcome = v
}

// SetIgnorePings makes the server leave client PINGs unanswered.
func (s *Server) SetIgnorePings(v bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.ignorePings = v
}

// SetFrozen makes the server record what it receives but answer nothing,
// like a server that has hung.
func (s *Server) SetFrozen(v bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.frozen = v
}
