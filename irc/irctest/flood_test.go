package irctest

import (
	"bufio"
	"context"
	"net"
	"strings"
	"testing"
)

// TestFloodAt checks that FloodAt's lines reach a logged-in client as
// PRIVMSGs to the given channels in turn, tagged only for a client that
// requested twitch.tv/tags, and that it counts what it wrote.
func TestFloodAt(t *testing.T) {
	for _, tc := range []struct {
		name string
		cap  string
		tags bool
	}{
		{"tags", "CAP REQ :twitch.tv/tags twitch.tv/commands\r\n", true},
		{"no caps", "", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, err := NewServer(Options{})
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			nc, err := net.Dial("tcp", s.Addr())
			if err != nil {
				t.Fatal(err)
			}
			defer nc.Close()
			r := bufio.NewReader(nc)
			if _, err := nc.Write([]byte(tc.cap + "PASS oauth:x\r\nNICK bot\r\n")); err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithCancel(context.Background())
			done := make(chan int64, 1)
			go func() { done <- s.FloodAt(ctx, []string{"#A", "b"}, 1000) }()
			var got []string
			for len(got) < 4 {
				line, err := r.ReadString('\n')
				if err != nil {
					t.Fatal(err)
				}
				if strings.Contains(line, " PRIVMSG ") {
					got = append(got, line)
				}
			}
			cancel()
			sent := <-done
			for i, want := range []string{"PRIVMSG #a :", "PRIVMSG #b :", "PRIVMSG #a :", "PRIVMSG #b :"} {
				if strings.HasPrefix(got[i], "@badge-info=") != tc.tags || !strings.Contains(got[i], want) || !strings.HasSuffix(got[i], "\r\n") {
					t.Errorf("line %d: got %q, want tags %v and %q", i, got[i], tc.tags, want)
				}
			}
			if sent < int64(len(got)) {
				t.Errorf("FloodAt returned %d, want at least the %d lines read", sent, len(got))
			}
		})
	}
}
