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

func (h *handoff) hand(wanted []string) {
	if h.handed && slices.Equal(wanted, h.sent) {
		return
	}
	h.chat.SetChannels(wanted)
	h.sent, h.handed = wanted, true
}
