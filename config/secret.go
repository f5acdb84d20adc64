package config

import (
	"fmt"
	"strconv"
)

// redacted is what a non-empty Secret prints as.
const redacted = "[redacted]"

// Secret is a credential. Every way of formatting or marshalling it
// (String, GoString, fmt verbs, MarshalText, MarshalJSON, and so YAML and
// zerolog's Interface) prints "[redacted]", or "" when it is empty, so a
// Config can be logged safely. Callers get the value with string(s).
type Secret string

// String returns "[redacted]", or "" when s is empty.
func (s Secret) String() string {
	if s == "" {
		return ""
	}
	return redacted
}

// GoString returns the redacted value as a Go string literal, for %#v.
func (s Secret) GoString() string {
	return strconv.Quote(s.String())
}

// Format redacts s for every fmt verb, including ones such as %d or %x
// that would otherwise print the underlying string.
func (s Secret) Format(f fmt.State, verb rune) {
	if verb == 'v' && f.Flag('#') {
		_, _ = f.Write([]byte(s.GoString()))
		return
	}
	if verb == 'q' {
		_, _ = f.Write([]byte(strconv.Quote(s.String())))
		return
	}
	_, _ = f.Write([]byte(s.String()))
}

// MarshalText returns the redacted value.
func (s Secret) MarshalText() ([]byte, error) {
	return []byte(s.String()), nil
}

// MarshalJSON returns the redacted value as a JSON string.
func (s Secret) MarshalJSON() ([]byte, error) {
	return []byte(strconv.Quote(s.String())), nil
}
