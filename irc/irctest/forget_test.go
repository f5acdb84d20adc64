package irctest

import (
	"slices"
	"testing"
)

func TestForget(t *testing.T) {
	s := newTestServer(t, Options{})
	c := dialRaw(t, s)
	c.send(t, "PASS oauth:tok", "NICK bot")
	c.readUntil(t, " 376 ")
	c.send(t, "JOIN #a")
	c.readUntil(t, "JOIN #a")
	if len(s.Received()) == 0 || len(s.JoinLog()) == 0 {
		t.Fatal("nothing recorded before Forget: the test would prove nothing")
	}
	s.Forget()
	if got := s.Received(); len(got) != 0 {
		t.Errorf("Received after Forget: %q, want none", got)
	}
	if got := s.JoinLog(); len(got) != 0 {
		t.Errorf("JoinLog after Forget: %v, want none", got)
	}
	if got := s.Joined(); !slices.Equal(got, []string{"a"}) {
		t.Errorf("Joined after Forget: %v, want [a] (channels are kept)", got)
	}
	if got := s.Logins(); got != 1 {
		t.Errorf("Logins after Forget: %d, want 1 (counters are kept)", got)
	}
}
