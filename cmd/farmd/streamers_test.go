package main

import (
	"fmt"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/farmd/farmd/helix/helixtest"
	"github.com/farmd/farmd/internal/testkit"
	"github.com/farmd/farmd/irc/irctest"
)

// withStreamers replaces the streamers section of a test config by text.
func withStreamers(config, text string) string {
	i := strings.Index(config, "streamers:\n")
	return config[:i] + text
}

// TestStreamerModes: an always streamer is joined while offline, a never
// streamer is not joined while live (but polled), and a plain one while
// live; a reload that changes a mode applies it without reconnecting.
func TestStreamerModes(t *testing.T) {
	w := newWorld(t, irctest.Options{})
	w.add(false, "alice")
	w.add(true, "bob", "carol")
	text := withStreamers(w.yaml(cfg{}), "streamers:\n  - login: alice\n    presence: always\n  - login: bob\n    presence: never\n  - carol\n")
	p := start(t, text, nil)
	w.waitJoined(t, p, "alice", "carol")
	w.polls(t, 3)
	if got := w.chat.Joined(); len(got) != 2 {
		t.Fatalf("joined %v, want [alice carol] (bob is never joined)", got)
	}
	// bob becomes a plain streamer, alice plain too (and offline).
	writeFile(t, p.path, withStreamers(w.yaml(cfg{}), "streamers:\n  - alice\n  - bob\n  - carol\n"))
	p.signals <- syscall.SIGHUP
	w.waitJoined(t, p, "bob", "carol")
	if n := w.chat.Connections(); n != 1 {
		t.Errorf("%d connections, want 1 (a reload does not reconnect)", n)
	}
}

// TestFollowsAddChannels: with follows on, the channels the account follows
// (several pages of them) are watched after the listed streamers; a failed
// fetch keeps them (nobody is parted); an unfollow removes the channel at
// the next refresh.
func TestFollowsAddChannels(t *testing.T) {
	w := newTokenWorld(t, 4*time.Hour, helixtest.Options{})
	var followed []string
	for i := range 130 { // two pages
		l := fmt.Sprintf("followed%03d", i)
		followed = append(followed, l)
		w.tw.Follow(botName, l)
	}
	w.add(false, followed...)
	w.tw.SetLive("followed007", true)
	w.tw.SetLive("followed120", true)
	text := w.yaml(cfg{streamers: []string{"alice"}, stateDir: w.dir}) + "follows:\n  enabled: true\n  refresh: 100ms\n"
	w.add(false, "alice")
	p := start(t, text, w.tune)
	w.waitJoined(t, p, "followed007", "followed120")
	if n := w.tw.Count(helixtest.EndpointFollowed); n < 2 {
		t.Errorf("%d followed-channels requests, want at least 2 (two pages)", n)
	}
	w.tw.Fail(helixtest.EndpointFollowed, helixtest.Fault{Status: 500})
	p.stderr.WaitContains(t, "could not fetch the followed channels; keeping the last list")
	w.polls(t, 3)
	if got := w.parts(); len(got) != 0 {
		t.Errorf("PARTs %v while fetching the follows fails, want none", got)
	}
	w.tw.ClearFaults(helixtest.EndpointFollowed)
	w.tw.Unfollow(botName, "followed120")
	w.waitJoined(t, p, "followed007")
	p.stderr.WaitContains(t, `"message":"channel unfollowed; removed"`)
}

// TestFollowsWithoutScopeWarnsOnce: a static token without
// user:read:follows gets one clear warning and the follows stay off; the
// listed streamers are served.
func TestFollowsWithoutScopeWarnsOnce(t *testing.T) {
	w := newWorld(t, irctest.Options{}) // its static token has chat:read only
	w.add(true, "alice")
	w.tw.Follow(botName, "bob")
	w.add(true, "bob")
	p := start(t, w.yaml(cfg{streamers: []string{"alice"}})+"follows:\n  enabled: true\n  refresh: 50ms\n", nil)
	w.waitJoined(t, p, "alice")
	w.polls(t, 6)
	if n := strings.Count(p.stderr.String(), "lacks the user:read:follows scope"); n != 1 {
		t.Errorf("%d scope warnings, want 1", n)
	}
	if got := w.chat.Joined(); len(got) != 1 {
		t.Errorf("joined %v, want [alice]", got)
	}
}

// TestNeverStreamerIsNotified: a never streamer is not joined, but its going
// live is notified; notify: false silences a streamer that is joined.
func TestNeverStreamerIsNotified(t *testing.T) {
	hook := newWebhook(t)
	w := newWorld(t, irctest.Options{})
	w.add(false, "bob", "carol")
	text := withStreamers(w.yaml(cfg{}), "streamers:\n  - login: bob\n    presence: never\n  - login: carol\n    notify: false\n") + notifyYAML(hook.url())
	p := start(t, text, quickNotify)
	w.polls(t, 2)
	w.tw.SetLive("bob", true)
	w.tw.SetLive("carol", true)
	w.waitJoined(t, p, "carol")
	hook.waitFor(t, "bob is live")
	w.polls(t, 3)
	if n := hook.count("carol is live"); n != 0 {
		t.Errorf("%d notifications for carol (notify: false), want 0", n)
	}
	testkit.Eventually(t, "bob still not joined", func() bool { return len(w.chat.Joined()) == 1 })
}
