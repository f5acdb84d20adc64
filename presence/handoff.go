package presence

import "slices"

// handoff is the loop's part that gives the Chat the wanted channels: only
// when they change, except the first evaluation, which is always handed
// over so the Chat learns that nothing is wanted yet.
type handoff struct {
	chat   Chat
	sent   []string
	handed bool
}

func (h *handoff) hand(wanted []string, left map[string]Departure) {
	if h.handed && slices.Equal(wanted, h.sent) {
		return
	}
	h.chat.SetChannels(wanted, left)
	h.sent, h.handed = wanted, true
}

// streamersWatch tells OnStreamers the resolved streamers' IDs when they
// changed since the last call.
type streamersWatch struct {
	notify func([]string)
	ids    []string
	told   bool
}

func (w *streamersWatch) update(ids []string) {
	if w.notify == nil || (w.told && slices.Equal(ids, w.ids)) {
		return
	}
	w.notify(slices.Clone(ids))
	w.ids, w.told = ids, true
}
