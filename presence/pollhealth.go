package presence

import (
	"time"

	"github.com/rs/zerolog"
)

// PollState is how the last poll cycle went. A cycle serves when it
// determines the status of at least one streamer, or has nobody to check and
// no error: one failing batch out of many leaves the others served.
type PollState string

// The poll states, as Snapshot and PollResult report them.
const (
	PollsOK      PollState = "ok"      // no failure
	PollsPartial PollState = "partial" // failures, but some streamers were checked: served
	PollsFailing PollState = "failing" // failures and nobody checked: nothing served
)

// pollEnd is the event that moves the poll health: one finished cycle.
type pollEnd struct {
	at        time.Time
	checked   int // streamers whose status was determined
	unchecked int // configured streamers left undetermined by an error
	err       error
}

func (p pollEnd) state() PollState {
	switch {
	case p.err == nil:
		return PollsOK
	case p.checked > 0:
		return PollsPartial
	}
	return PollsFailing
}

// pollHealth is the loop's part that keeps how polls go, for Snapshot and
// the log. Its state is the state of the last cycle (empty before the
// first); record is the one function that moves it.
type pollHealth struct {
	log   zerolog.Logger
	state PollState

	lastPoll, lastGood, lastServed time.Time
	failingSince                   time.Time // first of the current run of cycles with failures
	partialSince                   time.Time // first of the current run of partial cycles
	lastErr                        string
	unchecked                      int
	failures                       int       // cycles in the current run with failures
	logged                         time.Time // when the current run was last logged
}

// record moves the health by one finished cycle and logs what an operator
// should see: the first failure at once, repeats when the state or the
// error changes or at most every ten minutes, so a long outage does not
// flood the log; and the recovery.
func (h *pollHealth) record(p pollEnd) {
	from, to := h.state, p.state()
	h.state, h.lastPoll, h.unchecked = to, p.at, p.unchecked
	switch to {
	case PollsOK:
		if from == PollsPartial || from == PollsFailing {
			h.log.Info().Time("failing_since", h.failingSince).Int("failed_polls", h.failures).Msg("polling recovered")
		}
		h.lastGood, h.lastServed = p.at, p.at
		h.failingSince, h.partialSince, h.lastErr, h.failures = time.Time{}, time.Time{}, "", 0
		return
	case PollsPartial:
		h.lastServed = p.at
		if from != PollsPartial {
			h.partialSince = p.at
		}
	case PollsFailing:
		h.partialSince = time.Time{}
	}
	h.failures++
	if h.failingSince.IsZero() {
		h.failingSince = p.at
	}
	msg := p.err.Error()
	if from != to || msg != h.lastErr || p.at.Sub(h.logged) >= 10*time.Minute {
		h.log.Warn().Err(p.err).Str("poll_state", string(to)).Int("checked", p.checked).Int("unchecked", p.unchecked).
			Int("failed_polls", h.failures).Time("failing_since", h.failingSince).
			Msg("poll failed; streamers not checked keep their state")
		h.logged = p.at
	}
	h.lastErr = msg
}

// fill copies the health into s.
func (h *pollHealth) fill(s *Snapshot) {
	s.Polls, s.LastPoll, s.LastGood, s.LastServed = h.state, h.lastPoll, h.lastGood, h.lastServed
	s.LastError, s.FailingFor, s.PartialSince, s.Unchecked = h.lastErr, h.failingSince, h.partialSince, h.unchecked
}
