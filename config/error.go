package config

import (
	"slices"
	"strconv"
	"strings"
)

// Error is returned by Parse, Load and Validate when the configuration is
// bad. It lists every problem found, not just the first.
type Error struct {
	Problems []Problem
}

// Error returns one problem per line.
func (e *Error) Error() string {
	var b strings.Builder
	for i, p := range e.Problems {
		if i > 0 {
			b.WriteByte('\n')
		}
		b.WriteString(p.String())
	}
	return b.String()
}

// Problem is one thing wrong with a configuration. Its text never holds a
// secret value.
type Problem struct {
	// Field is the setting's path, such as "poll.interval" or
	// "streamers[3]"; empty when the problem is not about one setting (an
	// unknown key, a YAML syntax error, an empty file).
	Field string
	// Line is the 1-based line in the config file, or 0 when unknown.
	Line int
	// Msg says what is wrong, such as "must be positive, got 0s".
	Msg string
}

// String formats p as "line N: field: msg", leaving out what is unknown.
func (p Problem) String() string {
	var b strings.Builder
	if p.Line > 0 {
		b.WriteString("line ")
		b.WriteString(strconv.Itoa(p.Line))
		b.WriteString(": ")
	}
	if p.Field != "" {
		b.WriteString(p.Field)
		b.WriteString(": ")
	}
	b.WriteString(p.Msg)
	return b.String()
}

// problems collects Problems, remembering which fields already have one so
// that a later pass does not report the same field twice.
type problems struct {
	list   []Problem
	fields map[string]bool
	// leaves are fields with a problem that says nothing about what they
	// hold (addLeaf).
	leaves map[string]bool
	// fatal is set when the input could not be decoded at all (empty, not
	// YAML, not a mapping), so checking its fields would only add noise.
	fatal bool
}

func (ps *problems) add(p Problem) {
	if p.Field != "" {
		if ps.fields == nil {
			ps.fields = make(map[string]bool)
		}
		ps.fields[p.Field] = true
	}
	ps.list = append(ps.list, p)
}

// keep drops the problems of fields outside keys (each a dotted path,
// which keeps the field and everything under it); problems without a field
// stay.
func (ps *problems) keep(keys []string) {
	ps.list = slices.DeleteFunc(ps.list, func(p Problem) bool {
		if p.Field == "" {
			return false
		}
		for _, k := range keys {
			if p.Field == k || strings.HasPrefix(p.Field, k+".") || strings.HasPrefix(p.Field, k+"[") {
				return false
			}
		}
		return true
	})
}

// addNew adds p unless its field, or a section holding it, already has a
// problem: "twitch.client_id: required" says nothing new after "twitch:
// expected a mapping".
func (ps *problems) addNew(p Problem) {
	for f := p.Field; f != ""; f = parentField(f) {
		if ps.fields[f] {
			return
		}
	}
	ps.add(p)
}

// addLeaf adds p unless its field or a section holding it already has a
// problem, without hiding the later problems of the fields it holds: for
// the key a plain list entry stands for, whose path is the entry's (a bad
// login says nothing about the entry's other keys).
func (ps *problems) addLeaf(p Problem) {
	if ps.leaves[p.Field] {
		return
	}
	for f := p.Field; f != ""; f = parentField(f) {
		if ps.fields[f] {
			return
		}
	}
	if ps.leaves == nil {
		ps.leaves = make(map[string]bool)
	}
	ps.leaves[p.Field] = true
	ps.list = append(ps.list, p)
}

// parentField returns the field holding f: "twitch" for
// "twitch.client_id", "streamers" for "streamers[2]", "" at the top.
func parentField(f string) string {
	if i := strings.LastIndexAny(f, ".["); i >= 0 {
		return f[:i]
	}
	return ""
}

// err returns the collected problems as an *Error, sorted by line, or
// nil when there are none.
func (ps *problems) err() error {
	if len(ps.list) == 0 {
		return nil
	}
	// In the order of the file, whichever step found them; those with no
	// line (a missing key, the environment) come after, as found.
	list := slices.Clone(ps.list)
	slices.SortStableFunc(list, func(a, b Problem) int {
		switch {
		case a.Line == b.Line:
			return 0
		case a.Line == 0:
			return 1
		case b.Line == 0:
			return -1
		}
		return a.Line - b.Line
	})
	return &Error{Problems: list}
}
