package notify

import (
	"fmt"
	"strings"
)

// Kind is the kind of an event, the unit a target's events filter selects.
// Adding a kind takes a constant and its name in kindNames.
type Kind uint8

// The event kinds, in the order the config documents them.
const (
	// KindLive: a streamer went live.
	KindLive Kind = iota + 1
	// KindOffline: a stream ended, after the streamer's offline grace.
	KindOffline
	// KindUnavailable: Twitch refused a channel (banned, suspended, not found).
	KindUnavailable
	// KindToken: the IRC token was rejected, expires soon, or cannot be refreshed.
	KindToken
	// KindDaemon: farmd started, is stopping, or restarted after an unclean exit.
	KindDaemon
	// KindCredit: farmd was present in a live chat, but the loyalty bot
	// credited no watch time.
	KindCredit
)

// kindNames holds the config name of every kind, indexed by Kind.
var kindNames = [...]string{
	KindLive:        "live",
	KindOffline:     "offline",
	KindUnavailable: "unavailable",
	KindToken:       "token",
	KindDaemon:      "daemon",
	KindCredit:      "credit",
}

// String returns the kind's config name ("live"), or "kind(N)" for a value
// that is not a kind.
func (k Kind) String() string {
	if k.valid() {
		return kindNames[k]
	}
	return fmt.Sprintf("kind(%d)", uint8(k))
}

func (k Kind) valid() bool { return k > 0 && int(k) < len(kindNames) }

// MarshalText returns the kind's config name.
func (k Kind) MarshalText() ([]byte, error) {
	if !k.valid() {
		return nil, fmt.Errorf("unknown event kind %d", uint8(k))
	}
	return []byte(kindNames[k]), nil
}

// UnmarshalText parses a config name, as ParseKind does.
func (k *Kind) UnmarshalText(b []byte) error {
	v, err := ParseKind(string(b))
	if err != nil {
		return err
	}
	*k = v
	return nil
}

// ParseKind returns the kind named s ("live", "offline", …), ignoring case
// and surrounding space. The error lists the names it accepts.
func ParseKind(s string) (Kind, error) {
	name := strings.ToLower(strings.TrimSpace(s))
	for k := KindLive; k.valid(); k++ {
		if kindNames[k] == name {
			return k, nil
		}
	}
	return 0, fmt.Errorf("unknown event %q (want one of %s)", s, strings.Join(kindNames[1:], ", "))
}

// Kinds is a set of kinds: the events filter of a target. The zero value
// is the empty set; AllKinds has every kind.
type Kinds uint32

// AllKinds returns the set of every kind, the filter of a target that
// names none.
func AllKinds() Kinds {
	var s Kinds
	for k := KindLive; k.valid(); k++ {
		s = s.With(k)
	}
	return s
}

// KindsOf returns the set of the given kinds.
func KindsOf(kinds ...Kind) Kinds {
	var s Kinds
	for _, k := range kinds {
		s = s.With(k)
	}
	return s
}

// ParseKinds parses a config events list. An empty list means every kind;
// an unknown name is an error naming its position (events[1]: …).
func ParseKinds(names []string) (Kinds, error) {
	if len(names) == 0 {
		return AllKinds(), nil
	}
	var s Kinds
	for i, name := range names {
		k, err := ParseKind(name)
		if err != nil {
			return 0, fmt.Errorf("events[%d]: %w", i, err)
		}
		s = s.With(k)
	}
	return s, nil
}

// With returns s with k added.
func (s Kinds) With(k Kind) Kinds {
	if !k.valid() {
		return s
	}
	return s | 1<<k
}

// Has reports whether k is in s.
func (s Kinds) Has(k Kind) bool { return k.valid() && s&(1<<k) != 0 }

// String lists the kinds in s in config order, "live,offline".
func (s Kinds) String() string {
	var names []string
	for k := KindLive; k.valid(); k++ {
		if s.Has(k) {
			names = append(names, kindNames[k])
		}
	}
	return strings.Join(names, ",")
}
