package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"reflect"
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
	d := decode(data, schema, reflect.ValueOf(&c).Elem())
	return &c, d.lines, d.ps
}

// decoded is what decode learnt besides the values: the line of each field
// it saw, the list entries written as plain values, and the problems.
type decoded struct {
	lines map[string]int
	plain map[string]bool
	ps    *problems
}

// decode decodes the one YAML document in data into the struct v, whose
// schema is s, as parse does.
func decode(data []byte, s *field, v reflect.Value) decoded {
	p := &parser{lines: make(map[string]int), plain: make(map[string]bool), ps: &problems{}}
	d := decoded{lines: p.lines, plain: p.plain, ps: p.ps}

	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			p.ps.add(Problem{Msg: "config file is empty"})
		} else {
			p.ps.add(syntaxProblem(err, data))
		}
		p.ps.fatal = true
		return d
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
		return d
	}
	if deref(root).Kind != yaml.MappingNode {
		p.ps.fatal = true
	}
	p.mapping(root, s, v, "", false)
	return d
}

// parser walks the YAML node tree along the schema. Walking the nodes
// instead of decoding into the structs lets it report every problem with
// its line in the config's own terms: users never see a Go type name.
type parser struct {
	lines map[string]int
	// plain holds the paths of the list entries written as a plain value
	// rather than a mapping (scalar tag), for dedupe:"plain".
	plain map[string]bool
	ps    *problems
}

// mapping decodes the mapping n into the struct v, whose schema is f and
// path is path ("" at the top), reporting unknown, repeated and malformed
// keys. A null value leaves the defaults, unless n is a list's entry.
func (p *parser) mapping(n *yaml.Node, f *field, v reflect.Value, path string, entry bool) {
	n = deref(n)
	if isNull(n) && !entry {
		return
	}
	if f.scalar != nil && n.Kind == yaml.ScalarNode && !isNull(n) {
		p.lines[path] = n.Line
		p.plain[path] = true
		p.key(n, f.scalar, v, path)
		return
	}
	names := f.keyNames()
	if n.Kind != yaml.MappingNode {
		msg := fmt.Sprintf("expected %s, got %s", f.noun(), describe(n))
		if path == "" {
			msg = "the top level must be a mapping with the keys " + strings.Join(names, ", ") + ", got " + describe(n)
		}
		p.problem(path, n, msg)
		return
	}
	where := ""
	if path != "" {
		where = " in " + path
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
		k := f.key(name)
		if k == nil {
			p.ps.add(Problem{Line: kn.Line, Msg: fmt.Sprintf("unknown key %q%s (%s)", name, where, suggest(name, names))})
			continue
		}
		kpath := f.keyPath(path, k)
		p.lines[kpath] = kn.Line
		p.key(vn, k, v, kpath)
	}
}

// key decodes n as the value of key k of the struct parent.
func (p *parser) key(n *yaml.Node, k *field, parent reflect.Value, path string) {
	v := parent.Field(k.index)
	switch {
	case k.keys != nil:
		p.mapping(n, k, v, path, false)
	case k.elem != nil:
		p.list(n, k, v, path)
	case k.auto >= 0:
		auto := parent.Field(k.auto)
		if s := deref(n); s.Kind == yaml.ScalarNode && strings.TrimSpace(s.Value) == AutoIntervalValue {
			v.SetZero()
			auto.SetBool(true)
			return
		}
		auto.SetBool(false)
		p.scalar(n, k, v, path, false)
	default:
		p.scalar(n, k, v, path, false)
	}
}

// list decodes the list n into the slice v. Every entry keeps its place,
// even a bad one, so that indexes in later messages match the file and the
// list does not look empty. A null list is empty.
func (p *parser) list(n *yaml.Node, f *field, v reflect.Value, path string) {
	n = deref(n)
	if isNull(n) {
		v.SetZero()
		return
	}
	if n.Kind != yaml.SequenceNode {
		p.problem(path, n, fmt.Sprintf("expected %s, got %s", f.noun(), describe(n)))
		return
	}
	out := reflect.MakeSlice(f.typ, len(n.Content), len(n.Content))
	for i, item := range n.Content {
		ipath := entryPath(path, i)
		p.lines[ipath] = deref(item).Line
		ev := out.Index(i)
		switch e := f.elem; {
		case e.keys != nil:
			if d, shared := e.defaulted(); shared {
				ev.Set(d) // a copy that shares nothing (plainValues)
			} else {
				applyDefaults(e, ev)
			}
			p.mapping(item, e, ev, ipath, true)
		case e.elem != nil:
			p.list(item, e, ev, ipath)
		default:
			p.scalar(item, e, ev, ipath, true)
		}
	}
	v.Set(out)
}

// plainValues reports whether the struct v holds no reference to memory a
// copy would share: every pointer, slice, map and interface in it is nil.
func plainValues(v reflect.Value) bool {
	for i := range v.NumField() {
		switch f := v.Field(i); f.Kind() {
		case reflect.Pointer, reflect.Slice, reflect.Map, reflect.Interface:
			if !f.IsNil() {
				return false
			}
		case reflect.Struct:
			if f.Type() == reflect.TypeFor[time.Time]() {
				continue // its *Location is never written through
			}
			if !plainValues(f) {
				return false
			}
		case reflect.Array:
			return false // none in the schema; not worth walking
		}
	}
	return true
}

// scalar decodes the plain value n into v. A null value keeps the default,
// unless n is a list's entry, which must have a value.
func (p *parser) scalar(n *yaml.Node, f *field, v reflect.Value, path string, entry bool) {
	n = deref(n)
	want, _ := f.typeNoun()
	if entry {
		want = f.noun()
	}
	if isNull(n) && !entry {
		return
	}
	if n.Kind != yaml.ScalarNode || isNull(n) {
		p.problem(path, n, fmt.Sprintf("expected %s, got %s", want, describe(n)))
		return
	}
	if f.typ.Kind() == reflect.Pointer {
		// A value that may be unset: set once decoded, nil otherwise.
		into := reflect.New(f.typ.Elem())
		if p.plainValue(n, f, into.Elem(), path, want) {
			v.Set(into)
		}
		return
	}
	p.plainValue(n, f, v, path, want)
}

// plainValue decodes the non-null scalar n into v, of f's base type, and
// reports whether it could.
func (p *parser) plainValue(n *yaml.Node, f *field, v reflect.Value, path, want string) bool {
	switch t := f.base(); {
	case t == durationType:
		d, err := time.ParseDuration(strings.TrimSpace(n.Value))
		if err != nil {
			p.problem(path, n, fmt.Sprintf("%s is not a duration (use e.g. 60s)", quote(n.Value)))
			return false
		}
		v.SetInt(int64(d))
	case t.Kind() == reflect.String:
		v.SetString(n.Value)
	case t.Kind() == reflect.Bool:
		b, err := strconv.ParseBool(n.Value)
		if err != nil || n.ShortTag() != "!!bool" {
			p.problem(path, n, fmt.Sprintf("expected %s, got %s", want, quote(n.Value)))
			return false
		}
		v.SetBool(b)
	case t.Kind() == reflect.Int:
		var i int
		if n.ShortTag() != "!!int" || n.Decode(&i) != nil {
			p.problem(path, n, fmt.Sprintf("expected %s, got %s", want, quote(n.Value)))
			return false
		}
		v.SetInt(int64(i))
	}
	return true
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

// syntaxProblem turns a yaml.v3 parse error into a Problem on the line the
// user must fix, with a hint for the usual causes (a tab, an indentation
// that matches no key, a missing ':', an unclosed quote), which yaml.v3's
// own messages do not name.
func syntaxProblem(err error, data []byte) Problem {
	msg := err.Error()
	line := 0
	if m := yamlLineErr.FindStringSubmatch(msg); m != nil {
		line, _ = strconv.Atoi(m[1])
		msg = m[2]
	} else {
		msg = strings.TrimPrefix(msg, "yaml: ")
	}
	line = failingLine(data, msg, line)
	if line > 0 {
		line, msg = explainSyntax(data, msg, line)
	}
	return Problem{Line: line, Msg: "invalid YAML: " + msg}
}

// maxSyntaxScan bounds the lines failingLine parses again, so that a huge
// file cannot make an error slow to report.
const maxSyntaxScan = 200

// failingLine finds the line where the error msg happens. yaml.v3 reports
// the line where the construct holding the error starts (the first key of
// a mapping, even the line before it), which may be far above the line to
// fix: an over-indented key six lines down is reported on its mapping's
// first line. The first line whose prefix of the file fails to parse with
// the same message is the one; reported is where yaml.v3 said, from
// which the search starts, and what is kept when the search finds nothing.
func failingLine(data []byte, msg string, reported int) int {
	end, n := 0, 0
	for i := 0; i < len(data) && n < reported+maxSyntaxScan; n++ {
		nl := bytes.IndexByte(data[i:], '\n')
		if nl < 0 {
			end = len(data)
		} else {
			end = i + nl + 1
		}
		if n+1 >= reported {
			var doc yaml.Node
			if err := yaml.Unmarshal(data[:end], &doc); err != nil {
				_, got, _ := strings.Cut(err.Error(), ": line ")
				if _, got, ok := strings.Cut(got, ": "); ok && got == msg || strings.TrimPrefix(err.Error(), "yaml: ") == msg {
					return n + 1
				}
			}
		}
		i = end
	}
	return reported
}

// explainSyntax adds a hint to the message msg about line, and moves to
// the line above when that is where the mistake is.
func explainSyntax(data []byte, msg string, line int) (int, string) {
	text := lineOf(data, line)
	indent := leadingSpace(text)
	switch {
	case strings.Contains(indent, "\t"):
		return line, msg + " (a tab character: YAML indentation must use spaces)"
	case strings.Contains(msg, "tab"):
		return line, msg + " (YAML indentation must use spaces)"
	case strings.HasPrefix(msg, "did not find expected key"),
		strings.HasPrefix(msg, "did not find expected '-' indicator"):
		return line, msg + " (this line is indented differently from the key above it: the keys of one mapping must start in the same column)"
	case msg == "could not find expected ':'":
		return line, msg + ` (is the ":" after the key missing on this line?)`
	case strings.HasPrefix(msg, "found unexpected end of stream") && strings.ContainsAny(text, `"'`):
		return line, msg + " (the quote opened on this line is never closed)"
	case msg == "mapping values are not allowed in this context":
		// A key's value runs on to the next line when that line is
		// indented more, or when the line above has no ':' at all: the
		// ':' found there is "not allowed".
		prev, prevLine := previousContent(data, line)
		switch {
		case prevLine > 0 && leadingSpace(prev) == indent && !strings.Contains(prev, ":"):
			return prevLine, msg + ` (is the ":" after the key missing on this line?)`
		case prevLine > 0 && len(indent) > len(leadingSpace(prev)):
			return line, msg + " (this line is indented more than the key above it: the keys of one mapping must start in the same column)"
		}
	}
	return line, msg
}

// previousContent returns the last line above line n that is neither blank
// nor a comment, and its number, or 0.
func previousContent(data []byte, n int) (string, int) {
	for i := n - 1; i > 0; i-- {
		l := lineOf(data, i)
		if t := strings.TrimSpace(l); t != "" && !strings.HasPrefix(t, "#") {
			return l, i
		}
	}
	return "", 0
}

// leadingSpace returns the spaces and tabs l starts with.
func leadingSpace(l string) string {
	return l[:len(l)-len(strings.TrimLeft(l, " \t"))]
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
