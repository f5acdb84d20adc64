package irctest

import (
	"bufio"
	"context"
	"crypto/tls"
	"net"
	"slices"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// rawClient is a bare TMI client for testing the server itself.
type rawClient struct {
	nc net.Conn
	r  *bufio.Reader
}

func dialRaw(tb testing.TB, s *Server) *rawClient {
	tb.Helper()
	var nc net.Conn
	var err error
	if cfg := s.ClientTLSConfig(); cfg != nil {
		nc, err = tls.Dial("tcp", s.Addr(), cfg)
	} else {
		nc, err = net.Dial("tcp", s.Addr())
	}
	if err != nil {
		tb.Fatalf("dial: %v", err)
	}
	tb.Cleanup(func() { _ = nc.Close() })
	_ = nc.SetDeadline(time.Now().Add(10 * time.Second))
	return &rawClient{nc: nc, r: bufio.NewReader(nc)}
}

func (c *rawClient) send(tb testing.TB, lines ...string) {
	tb.Helper()
	for _, l := range lines {
		if _, err := c.nc.Write([]byte(l + "\r\n")); err != nil {
			tb.Fatalf("write %q: %v", l, err)
		}
	}
}

// readUntil reads lines until one contains s and returns all read.
func (c *rawClient) readUntil(tb testing.TB, s string) []string {
	tb.Helper()
	var got []string
	for {
		l, err := c.r.ReadString('\n')
		if err != nil {
			tb.Fatalf("read waiting for %q: %v; got %q", s, err, got)
		}
		l = strings.TrimRight(l, "\r\n")
		got = append(got, l)
		if strings.Contains(l, s) {
			return got
		}
	}
}

func newTestServer(tb testing.TB, o Options) *Server {
	tb.Helper()
	o.Username, o.Token = "bot", "tok"
	s, err := NewServer(o)
	if err != nil {
		tb.Fatalf("NewServer: %v", err)
	}
	tb.Cleanup(s.Close)
	return s
}

func TestLogin(t *testing.T) {
	tests := []struct {
		name   string
		tls    bool
		reject bool
		pass   string
		want   string
		wantOK bool
	}{
		{"good login", false, false, "PASS oauth:tok", ":tmi.twitch.tv 001 bot :Welcome, GLHF!", true},
		{"good login over TLS", true, false, "PASS oauth:tok", ":tmi.twitch.tv 001 bot :Welcome, GLHF!", true},
		{"wrong token", false, false, "PASS oauth:nope", ":tmi.twitch.tv NOTICE * :Login authentication failed", false},
		{"no oauth prefix", false, false, "PASS tok", ":tmi.twitch.tv NOTICE * :Improperly formatted auth", false},
		{"rejecting", false, true, "PASS oauth:tok", ":tmi.twitch.tv NOTICE * :Login authentication failed", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := newTestServer(t, Options{TLS: tc.tls})
			s.SetRejectLogin(tc.reject)
			c := dialRaw(t, s)
			c.send(t, "CAP REQ :twitch.tv/tags twitch.tv/commands", tc.pass, "NICK bot")
			got := c.readUntil(t, tc.want)
			if got[0] != ":tmi.twitch.tv CAP * ACK :twitch.tv/tags twitch.tv/commands" {
				t.Fatalf("first line %q, want the CAP ACK", got[0])
			}
			if got[len(got)-1] != tc.want {
				t.Fatalf("got %q, want %q", got[len(got)-1], tc.want)
			}
			if tc.wantOK {
				c.readUntil(t, "GLOBALUSERSTATE")
			}
			wantLogins := 0
			if tc.wantOK {
				wantLogins = 1
			}
			if s.Logins() != wantLogins || s.Connections() != 1 {
				t.Fatalf("logins, connections = %d, %d, want %d, 1", s.Logins(), s.Connections(), wantLogins)
			}
			if r := s.Received(); r[1] != tc.pass {
				t.Fatalf("recorded PASS %q, want %q verbatim", r[1], tc.pass)
			}
		})
	}
}

func login(tb testing.TB, s *Server) *rawClient {
	tb.Helper()
	c := dialRaw(tb, s)
	c.send(tb, "CAP REQ :twitch.tv/tags twitch.tv/commands", "PASS oauth:tok", "NICK bot")
	c.readUntil(tb, "GLOBALUSERSTATE")
	return c
}

func TestJoinPartNoticeSilent(t *testing.T) {
	s := newTestServer(t, Options{})
	s.SetNotice("gone", "msg_channel_suspended", "This channel has been suspended.")
	s.SetSilent("ghost", true)
	c := login(t, s)
	c.send(t, "JOIN #ghost,#gone,#alpha")
	got := c.readUntil(t, "ROOMSTATE #alpha")
	if !slices.Contains(got, "@msg-id=msg_channel_suspended :tmi.twitch.tv NOTICE #gone :This channel has been suspended.") {
		t.Fatalf("no suspended NOTICE in %q", got)
	}
	if !slices.Contains(got, ":bot!bot@bot.tmi.twitch.tv JOIN #alpha") || slices.ContainsFunc(got, func(l string) bool {
		return strings.Contains(l, "#ghost")
	}) {
		t.Fatalf("want a JOIN echo for alpha only, got %q", got)
	}
	if j := s.Joined(); !slices.Equal(j, []string{"alpha"}) {
		t.Fatalf("Joined = %q, want [alpha]", j)
	}
	c.send(t, "PART #alpha", "PING :x")
	got = c.readUntil(t, "PONG")
	if got[0] != ":bot!bot@bot.tmi.twitch.tv PART #alpha" || got[1] != ":tmi.twitch.tv PONG tmi.twitch.tv :x" {
		t.Fatalf("got %q, want PART echo then PONG", got)
	}
	if j := s.Joined(); len(j) != 0 {
		t.Fatalf("Joined = %q after PART, want none", j)
	}
	if log := s.JoinLog(); len(log) != 1 || !slices.Equal(log[0].Channels, []string{"ghost", "gone", "alpha"}) {
		t.Fatalf("JoinLog = %+v, want one record of three channels", log)
	}
}

func TestJoinLimitEnforced(t *testing.T) {
	tests := []struct {
		name           string
		joins          []string
		wantViolations int
	}{
		{"at the limit", []string{"JOIN #a,#b", "JOIN #c"}, 0},
		{"one over the limit in a multi-channel JOIN", []string{"JOIN #a,#b", "JOIN #c,#d"}, 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := newTestServer(t, Options{JoinLimit: 3, JoinWindow: time.Hour, EnforceJoinLimit: true})
			c := login(t, s)
			c.send(t, tc.joins...)
			c.send(t, "PING :end")
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			err := s.Wait(ctx, func(s *Server) bool {
				return s.Violations() > 0 || slices.Contains(s.Received(), "PING :end")
			})
			if err != nil {
				t.Fatal(err)
			}
			if v := s.Violations(); v != tc.wantViolations {
				t.Fatalf("violations = %d, want %d", v, tc.wantViolations)
			}
		})
	}
}

func TestControls(t *testing.T) {
	s := newTestServer(t, Options{})
	c := login(t, s)
	s.SendPing("hello")
	c.readUntil(t, "PING :hello")
	c.send(t, "PONG :hello")
	s.SendReconnect()
	c.readUntil(t, ":tmi.twitch.tv RECONNECT")
	s.Flood("#alpha", 3)
	got := c.readUntil(t, "message number 2")
	if n := len(got); n != 3 {
		t.Fatalf("flood read %d lines, want 3: %q", n, got)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := s.Wait(ctx, func(s *Server) bool { return slices.Equal(s.Pongs(), []string{"hello"}) }); err != nil {
		t.Fatalf("pong not recorded: %v", err)
	}
	s.Drop()
	if _, err := c.r.ReadString('\n'); err == nil {
		t.Fatalf("read after Drop succeeded, want the connection closed")
	}
}
