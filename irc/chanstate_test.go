package irc

import (
	"testing"
	"time"
)

// TestMove checks the channel state machine's table: every event from every
// state it names, and that events outside the table leave the state alone.
func TestMove(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	const timeout = 30 * time.Second
	tests := []struct {
		name      string
		from      ChannelState
		sent      bool
		retryAt   time.Duration // after t0
		ev        chanEvent
		at        time.Duration // after t0
		applied   bool
		want      ChannelState
		wantSent  bool
		wantEvent EventKind // 0: none
	}{
		{"join sent from waiting", StateWaiting, false, 0, evJoinSent, 0, true, StateJoining, true, 0},
		{"join sent from due retry", StateRetrying, true, time.Minute, evJoinSent, time.Minute, true, StateJoining, true, 0},
		{"no join before the retry is due", StateRetrying, true, time.Minute, evJoinSent, time.Second, false, StateRetrying, true, 0},
		{"rate limited retry waits", StateRetrying, true, 0, evRateLimited, 0, true, StateWaiting, true, 0},
		{"echo joins", StateJoining, true, 0, evJoinEchoed, 0, true, StateJoined, true, EventJoined},
		{"late echo of a retried join", StateRetrying, true, time.Hour, evJoinEchoed, 0, true, StateJoined, true, EventJoined},
		{"echo without our join is ignored", StateWaiting, false, 0, evJoinEchoed, 0, false, StateWaiting, false, 0},
		{"second echo is ignored", StateJoined, true, 0, evJoinEchoed, 0, false, StateJoined, true, 0},
		{"timeout after JoinTimeout", StateJoining, true, 0, evJoinTimedOut, timeout, true, StateRetrying, true, EventJoinTimeout},
		{"no timeout before JoinTimeout", StateJoining, true, 0, evJoinTimedOut, timeout - 1, false, StateJoining, true, 0},
		{"refused while joining", StateJoining, true, 0, evRefused, 0, true, StateUnavailable, false, EventUnavailable},
		{"second refusal is ignored", StateUnavailable, false, 0, evRefused, 0, false, StateUnavailable, false, 0},
		{"refused channel never joins", StateUnavailable, false, 0, evJoinSent, 0, false, StateUnavailable, false, 0},
		{"parted by server", StateJoined, true, 0, evPartedByServer, 0, true, StateWaiting, false, 0},
		{"part of a channel not joined is ignored", StateJoining, true, 0, evPartedByServer, 0, false, StateJoining, true, 0},
		{"connection lost while joined", StateJoined, true, 0, evConnLost, 0, true, StateWaiting, false, 0},
		{"connection lost keeps a retry", StateRetrying, true, time.Minute, evConnLost, 0, true, StateRetrying, false, 0},
		{"connection lost keeps a refusal", StateUnavailable, false, 0, evConnLost, 0, true, StateUnavailable, false, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var got []Event
			m := New(Options{JoinTimeout: timeout, OnEvent: func(e Event) { got = append(got, e) }})
			m.move("chan", evWanted, t0, inbound{})
			st := m.chans["chan"]
			st.state, st.sent, st.sentAt, st.retryAt = tc.from, tc.sent, t0, t0.Add(tc.retryAt)
			applied := m.move("chan", tc.ev, t0.Add(tc.at), inbound{msgID: "msg_channel_suspended"})
			m.flush()
			if applied != tc.applied {
				t.Errorf("applied = %v, want %v", applied, tc.applied)
			}
			if st.state != tc.want || st.sent != tc.wantSent {
				t.Errorf("state, sent = %q, %v, want %q, %v", st.state, st.sent, tc.want, tc.wantSent)
			}
			var kinds []EventKind
			for _, e := range got {
				kinds = append(kinds, e.Kind)
			}
			if tc.wantEvent == 0 && len(kinds) != 0 || tc.wantEvent != 0 && (len(kinds) != 1 || kinds[0] != tc.wantEvent) {
				t.Errorf("events = %v, want %v", kinds, tc.wantEvent)
			}
		})
	}

	t.Run("wanted then unwanted", func(t *testing.T) {
		m := New(Options{})
		if !m.move("chan", evWanted, t0, inbound{}) || m.chans["chan"].state != StateWaiting {
			t.Fatalf("evWanted did not track the channel as waiting: %+v", m.chans["chan"])
		}
		if m.move("chan", evWanted, t0, inbound{}) {
			t.Errorf("evWanted applied twice")
		}
		if !m.move("chan", evUnwanted, t0, inbound{}) || m.chans["chan"] != nil {
			t.Errorf("evUnwanted did not forget the channel")
		}
		if m.move("chan", evJoinSent, t0, inbound{}) {
			t.Errorf("an event applied to an untracked channel")
		}
	})
}
