package irctest

import (
	"context"
	"fmt"
	"time"
)

// floodTick is how often FloodAt writes the lines that have fallen due.
const floodTick = 10 * time.Millisecond

// floodLine is a realistic PRIVMSG as Twitch sends it, with tags (about
// 450 bytes) to a client that requested twitch.tv/tags, else without.
func floodLine(channel string, i int, tags bool) string {
	u := fmt.Sprintf("viewer%d", i%997)
	if !tags {
		return fmt.Sprintf(":%s!%s@%s.tmi.twitch.tv PRIVMSG #%s :Kappa message number %d PogChamp", u, u, u, channel, i)
	}
	return fmt.Sprintf("@badge-info=subscriber/12;badges=subscriber/12,premium/1;"+
		"client-nonce=5b1c0f5e8d4f4f3c9a7e%04x;color=#1E90FF;display-name=%s;emotes=25:0-4;first-msg=0;flags=;"+
		"id=8d3c7a6e-1f2b-4c5d-9e8f-%012x;mod=0;returning-chatter=0;room-id=12345;subscriber=1;"+
		"tmi-sent-ts=%d;turbo=0;user-id=%d;user-type= :%s!%s@%s.tmi.twitch.tv PRIVMSG #%s :Kappa message number %d PogChamp",
		i%65536, u, i, 1700000000000+int64(i), 100000+i%997, u, u, u, channel, i)
}

// FloodAt sends realistic PRIVMSG lines (tagged for clients that requested
// twitch.tv/tags), spread over channels in
// turn, to every logged-in connection at perSecond lines a second until ctx
// is done, and returns how many lines it wrote to each connection (lines
// due while no connection is logged in are skipped, not counted). Lines are
// rendered once beforehand, so the flood costs the server little CPU; a
// client that reads too slowly is closed after the server's 5 s write
// deadline, as Twitch drops slow readers.
//
// FloodAt blocks; run it in a goroutine the caller owns.
func (s *Server) FloodAt(ctx context.Context, channels []string, perSecond int) int64 {
	if len(channels) == 0 || perSecond <= 0 {
		<-ctx.Done()
		return 0
	}
	const distinct = 4096
	tagged, plain := make([]string, distinct), make([]string, distinct)
	for i := range tagged {
		ch := channelName(channels[i%len(channels)])
		tagged[i], plain[i] = floodLine(ch, i, true), floodLine(ch, i, false)
	}
	start := time.Now()
	var issued, written int64 // lines fallen due; lines written to a connection
	next := 0
	t := time.NewTicker(floodTick)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return written
		case <-s.done:
			return written
		case now := <-t.C:
			due := int64(now.Sub(start).Seconds()*float64(perSecond)) - issued
			if due <= 0 {
				continue
			}
			issued += due
			first := next
			next = (next + int(due)) % distinct
			conns := s.open(true)
			for _, c := range conns {
				s.mu.Lock()
				lines := plain
				if c.tags {
					lines = tagged
				}
				s.mu.Unlock()
				batch := make([]string, 0, due)
				for k := range int(due) {
					batch = append(batch, lines[(first+k)%distinct])
				}
				s.write(c, batch...)
			}
			if len(conns) > 0 {
				written += due
			}
		}
	}
}
