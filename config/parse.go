package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// MaxFileSize is the largest config file accepted. A real one is a few
// kilobytes; the cap keeps a wrong path (a log, a device) from being read
// whole.
const MaxFileSize = 1 << 20

// Parse decodes a YAML config from r over Default. It is strict: an unknown
// or repeated key, a value of the wrong type, an empty input or more than
// one YAML document is an error. Parse applies no environment overrides,
// reads no secret files and neither normalises nor validates; Load does.
// A bad input gives an *Error; only a failing r gives another error.
func Parse(r io.Reader) (*Config, error) {
	data, err := readLimited(r)
	if err != nil {
		return nil, err
	}
	c, _, ps := parse(data)
	if err := ps.err(); err != nil {
		return nil, err
	}
	return c, nil
}

// readLimited reads all of r, up to MaxFileSize.
func readLimited(r io.Reader) ([]byte, error) {
	data, err := io.ReadAll(io.LimitReader(r, MaxFileSize+1))
	if err != nil {
		return nil, fmt.Errorf("read config: %w", err)
	}
	if len(data) > MaxFileSize {
		return nil, &Error{Problems: []Problem{{
			Msg: fmt.Sprintf("config file is larger than %d bytes", MaxFileSize),
		}}}
	}
	return data, nil
}

// parse decodes data over Default. It returns the config, the line of each
// field it saw (keyed by path, such as "poll.interval" or "streamers[2]")
// and the problems found. The config is usable even when there are
// problems: a field with a problem keeps its default.
func parse(data []byte) (*Config, map[string]int, *problems) {
	c := Default()
	p := &parser{lines: make(map[string]int), ps: &problems{}}

	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			p.ps.add(Problem{Msg: "config file is empty"})
		} else {
			p.ps.add(syntaxProblem(err, data))
		}
		p.ps.fatal = true
		return &c, p.lines, p.ps
	}
	var next yaml.Node
	switch err := dec.Decode(&next); {
	case errors.Is(err, io.EOF):
	case err != nil:
		p.ps.add(syntaxProblem(err, data))
	default:
		p.ps.add(Problem{Line: next.Line, Msg: "more than one YAML document (---): the config file must hold exactly one"})
	}

	root := &doc
	if root.Kind == yaml.DocumentNode && len(root.Content) > 0 {
		root = root.Content[0]
	}
	if isNull(root) {
		p.ps.add(Problem{Msg: "config file is empty"})
		p.ps.fatal = true
		return &c, p.lines, p.ps
	}
	if deref(root).Kind != yaml.MappingNode {
		p.ps.fatal = true
	}
	p.config(root, &c)
	return &c, p.lines, p.ps
}

// parser walks the YAML node tree along the config's schema. Walking the
// nodes instead of decoding into the structs lets it report every problem
// with its line in the config's own terms: users never see a Go type name.
type parser struct {
	lines map[string]int
	ps    *problems
}

// key is one known key of a mapping and how to decode its value.
type key struct {
	name string
	set  func(n *yaml.Node, field string)
}

func (p *parser) config(root *yaml.Node, c *Config) {
	p.mapping(root, "", []key{
		{"twitch", func(n *yaml.Node, f string) {
			p.mapping(n, f, []key{
				{"client_id", p.str(&c.Twitch.ClientID)},
				{"client_secret", p.secret(&c.Twitch.ClientSecret)},
				{"client_secret_file", p.str(&c.Twitch.ClientSecretFile)},
				{"auth_url", p.str(&c.Twitch.AuthURL)},
				{"helix_url", p.str(&c.Twitch.HelixURL)},
			})
		}},
		{"irc", func(n *yaml.Node, f string) {
			p.mapping(n, f, []key{
				{"username", p.str(&c.IRC.Username)},
				{"token", p.secret(&c.IRC.Token)},
				{"token_file", p.str(&c.IRC.TokenFile)},
				{"address", p.str(&c.IRC.Address)},
				{"tls", p.boolean(&c.IRC.TLS)},
				{"verified_bot", p.boolean(&c.IRC.VerifiedBot)},
				{"max_channels", p.integer(&c.IRC.MaxChannels)},
			})
		}},
		{"poll", func(n *yaml.Node, f string) {
			p.mapping(n, f, []key{
				{"interval", p.interval(&c.Poll)},
				{"offline_grace", p.duration(&c.Poll.OfflineGrace)},
			})
		}},
		{"http", func(n *yaml.Node, f string) {
			p.mapping(n, f, []key{
				{"listen", p.str(&c.HTTP.Listen)},
			})
		}},
		{"streamers", p.logins(&c.Streamers)},
	})
}

// mapping decodes the mapping n, whose path is field ("" at the top),
// reporting unknown, repeated and malformed keys. A null value (a key with
// nothing after it) leaves the defaults.
func (p *parser) mapping(n *yaml.Node, field string, keys []key) {
	n = deref(n)
	if isNull(n) {
		return
	}
	names := make([]string, len(keys))
	for i, k := range keys {
		names[i] = k.name
	}
	if n.Kind != yaml.MappingNode {
		msg := fmt.Sprintf("expected a mapping with the keys %s, got %s", strings.Join(names, ", "), describe(n))
		if field == "" {
			msg = "the top level must be a mapping with the keys " + strings.Join(names, ", ") + ", got " + describe(n)
		}
		p.problem(field, n, msg)
		return
	}
	where := ""
	if field != "" {
		where = " in " + field
	}
	seen := make(map[string]int)
	for i := 0; i+1 < len(n.Content); i += 2 {
		kn, vn := deref(n.Content[i]), n.Content[i+1]
		if kn.Kind != yaml.ScalarNode {
			p.ps.add(Problem{Line: kn.Line, Msg: fmt.Sprintf("a key%s is %s; keys must be plain names", where, describe(kn))})
			continue
		}
		name := kn.Value
		if name == "<<" && kn.ShortTag() == "!!merge" {
			p.ps.add(Problem{Line: kn.Line, Msg: "merge keys (<<) are not supported" + where})
			continue
		}
		if first, ok := seen[name]; ok {
			p.ps.add(Problem{Line: kn.Line, Msg: fmt.Sprintf("key %q%s is repeated (first on line %d)", name, where, first)})
			continue
		}
		seen[name] = kn.Line
		var set func(*yaml.Node, string)
		for _, k := range keys {
			if k.name == name {
				set = k.set
				break
			}
		}
		if set == nil {
			p.ps.add(Problem{Line: kn.Line, Msg: fmt.Sprintf("unknown key %q%s (%s)", name, where, suggest(name, names))})
			continue
		}
		path := name
		if field != "" {
			path = field + "." + name
		}
		p.lines[path] = kn.Line
		set(vn, path)
	}
}

// problem reports a problem with the value n of field, on the line of the
// field's key when known: a block list or mapping starts on the line after
// its key, which is not where the user looks.
func (p *parser) problem(field string, n *yaml.Node, msg string) {
	line := n.Line
	if l, ok := p.lines[field]; ok && field != "" {
		line = l
	}
	p.ps.add(Problem{Field: field, Line: line, Msg: msg})
}

// scalar returns n as a non-null scalar, or reports that it is not one. A
// null value returns false without a problem: the default stays.
func (p *parser) scalar(n *yaml.Node, field, want string) (*yaml.Node, bool) {
	n = deref(n)
	if isNull(n) {
		return nil, false
	}
	if n.Kind != yaml.ScalarNode {
		p.problem(field, n, fmt.Sprintf("expected %s, got %s", want, describe(n)))
		return nil, false
	}
	return n, true
}

func (p *parser) str(dst *string) func(*yaml.Node, string) {
	return func(n *yaml.Node, field string) {
		if s, ok := p.scalar(n, field, "a string"); ok {
			*dst = s.Value
		}
	}
}

func (p *parser) secret(dst *Secret) func(*yaml.Node, string) {
	return func(n *yaml.Node, field string) {
		if s, ok := p.scalar(n, field, "a string"); ok {
			*dst = Secret(s.Value)
		}
	}
}

func (p *parser) boolean(dst *bool) func(*yaml.Node, string) {
	return func(n *yaml.Node, field string) {
		s, ok := p.scalar(n, field, "true or false")
		if !ok {
			return
		}
		v, err := strconv.ParseBool(s.Value)
		if err != nil || s.ShortTag() != "!!bool" {
			p.problem(field, s, fmt.Sprintf("expected true or false, got %s", quote(s.Value)))
			return
		}
		*dst = v
	}
}

func (p *parser) integer(dst *int) func(*yaml.Node, string) {
	return func(n *yaml.Node, field string) {
		s, ok := p.scalar(n, field, "a whole number")
		if !ok {
			return
		}
		var v int
		if s.ShortTag() != "!!int" || s.Decode(&v) != nil {
			p.problem(field, s, fmt.Sprintf("expected a whole number, got %s", quote(s.Value)))
			return
		}
		*dst = v
	}
}

func (p *parser) duration(dst *time.Duration) func(*yaml.Node, string) {
	return func(n *yaml.Node, field string) {
		s, ok := p.scalar(n, field, "a duration such as 60s")
		if !ok {
			return
		}
		v, err := time.ParseDuration(strings.TrimSpace(s.Value))
		if err != nil {
			p.problem(field, s, fmt.Sprintf("%s is not a duration (use e.g. 60s)", quote(s.Value)))
			return
		}
		*dst = v
	}
}

// interval decodes poll.interval: a duration, or "auto".
func (p *parser) interval(dst *Poll) func(*yaml.Node, string) {
	dur := p.duration(&dst.Interval)
	return func(n *yaml.Node, field string) {
		if s := deref(n); s.Kind == yaml.ScalarNode && strings.TrimSpace(s.Value) == AutoIntervalValue {
			dst.Interval, dst.AutoInterval = 0, true
			return
		}
		dst.AutoInterval = false
		dur(n, field)
	}
}

func (p *parser) logins(dst *[]string) func(*yaml.Node, string) {
	return func(n *yaml.Node, field string) {
		n = deref(n)
		if isNull(n) {
			*dst = nil
			return
		}
		if n.Kind != yaml.SequenceNode {
			p.problem(field, n, fmt.Sprintf("expected a list of Twitch logins, got %s", describe(n)))
			return
		}
		out := make([]string, 0, len(n.Content))
		for i, item := range n.Content {
			path := fmt.Sprintf("%s[%d]", field, i)
			item = deref(item)
			p.lines[path] = item.Line
			if item.Kind != yaml.ScalarNode || isNull(item) {
				p.ps.add(Problem{Field: path, Line: item.Line, Msg: fmt.Sprintf("expected a Twitch login, got %s", describe(item))})
				// Keep the place, so that indexes in later messages
				// match the file and the list does not look empty.
				out = append(out, "")
				continue
			}
			out = append(out, item.Value)
		}
		*dst = out
	}
}

// deref follows an alias to the node it names.
func deref(n *yaml.Node) *yaml.Node {
	for i := 0; n.Kind == yaml.AliasNode && n.Alias != nil && i < 100; i++ {
		n = n.Alias
	}
	return n
}

func isNull(n *yaml.Node) bool {
	return n.Kind == 0 || (n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null")
}

// describe names the kind of a node for a message, in YAML's terms rather
// than Go's.
func describe(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		switch n.ShortTag() {
		case "!!null":
			return "nothing"
		case "!!bool":
			return "true/false"
		case "!!int", "!!float":
			return "a number"
		}
		return "a string"
	}
	return "something else"
}

// quote quotes a user's value for a message, shortened so that a stray
// paste cannot flood the output. It is never used on secrets.
func quote(s string) string {
	const limit = 60
	if r := []rune(s); len(r) > limit {
		s = string(r[:limit]) + "..."
	}
	return strconv.Quote(s)
}

// suggest names the closest known key, or lists them all.
func suggest(name string, known []string) string {
	best, bestDist := "", 3
	for _, k := range known {
		if d := editDistance(strings.ToLower(name), k); d < bestDist {
			best, bestDist = k, d
		}
	}
	if best != "" {
		return fmt.Sprintf("did you mean %q?", best)
	}
	return "known keys: " + strings.Join(known, ", ")
}

// editDistance is the Levenshtein distance between a and b.
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

var yamlLineErr = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)

// syntaxProblem turns a yaml.v3 parse error into a Problem, with a hint
// when the line holds a tab: YAML forbids tabs in indentation and yaml.v3's
// own message does not say so.
func syntaxProblem(err error, data []byte) Problem {
	msg := err.Error()
	line := 0
	if m := yamlLineErr.FindStringSubmatch(msg); m != nil {
		line, _ = strconv.Atoi(m[1])
		msg = m[2]
	} else {
		msg = strings.TrimPrefix(msg, "yaml: ")
	}
	if line > 0 {
		if l := lineOf(data, line); strings.Contains(l, "\t") && !strings.Contains(msg, "tab") {
			msg += " (a tab character: YAML indentation must use spaces)"
		} else if strings.Contains(msg, "tab") {
			msg += " (YAML indentation must use spaces)"
		}
	}
	return Problem{Line: line, Msg: "invalid YAML: " + msg}
}

// lineOf returns the 1-based line n of data, or "".
func lineOf(data []byte, n int) string {
	for i := 1; len(data) > 0; i++ {
		l, rest, _ := bytes.Cut(data, []byte("\n"))
		if i == n {
			return string(l)
		}
		data = rest
	}
	return ""
}
