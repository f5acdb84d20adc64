package config

import (
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/farmd/farmd/twitch"
)

// The config's schema is the struct tags of Config and the types it holds,
// read once into a tree of fields. Decoding, defaults, validation,
// normalisation, secrets, the environment and reload all walk that tree,
// so a key is declared in one place: its struct field. The tags are:
//
//	yaml:"name"        the key; "-" keeps a field out of the file
//	default:"text"     the default, written as in the file; a name in
//	                   namedDefaults stands for a rule homed elsewhere
//	check:"rule"       a rule of rules (on a list: the rule of its entries)
//	oneof:"a|b|c"      the values allowed (on a list: for its entries)
//	required:"msg"     the message when the value is empty
//	placeholder:"text" the value config.example.yaml holds in its place,
//	                   which a user must replace: an error, not a value
//	min:"n" max:"n" why:"reason"
//	                   the range of a whole number, and why
//	file:"key"         on a Secret: the sibling key naming a file holding it
//	env:"VAR"          on a Secret: the variable that overrides it
//	optional:""        the value may be empty (a Secret: missing altogether)
//	auto:"Field"       the literal "auto" sets this bool sibling instead
//	reload:""          applied on SIGHUP (on a mapping: all it holds); the
//	                   rest needs a restart
//	dedupe:""          on a list: repeated entries are dropped with a warning
//	dedupe:"plain"     on a list of mappings with a scalar key: only
//	                   entries written as plain values are dropped; a
//	                   repeat where either entry is a mapping is an error,
//	                   since which entry's settings win would be a guess
//	scalar:"key"       on a list of mappings: an entry may be a plain
//	                   value, which sets that key; that key's problems
//	                   name the entry ("streamers[2]"), as the user may
//	                   have written no key at all
//
// A pointer to a plain type (*time.Duration) is a value that may be unset:
// nil when the file leaves it out, so that its user can fall back to
// another setting.
//
// A tag that does not fit its field panics when the package loads, so a
// mistake fails every test at once.

// field is one value in the config file: a key of a mapping, or the
// entries of a list.
type field struct {
	name  string // the YAML key; "" for a list's entries
	index int    // the Go field's index in its struct
	typ   reflect.Type

	keys   []*field // a mapping's keys, in file order
	elem   *field   // a list's entries
	scalar *field   // the key a plain-value entry sets (scalar tag)
	// scalarKey: this is the key a plain-value entry sets, whose path is
	// the entry's.
	scalarKey bool

	rule        *rule
	oneof       []string
	def         string
	required    string
	placeholder string
	min, max    *int
	why         string
	file        *field // a secret's file sibling
	env         string
	optional    bool
	auto        int // index of the bool set by the literal "auto", or -1

	// A mapping's struct with its defaults applied (defaulted).
	defOnce   sync.Once
	defValue  reflect.Value
	defShared bool
	reload    bool
	dedupe    bool
	// dedupePlain: only entries written as plain values are dropped as
	// repeats (dedupe:"plain").
	dedupePlain bool
}

// namedDefaults are the defaults whose home is another package: a default
// tag names the constant instead of copying its value.
var namedDefaults = map[string]string{
	"twitch.DefaultAuthURL":     twitch.DefaultAuthURL,
	"twitch.DefaultHelixURL":    twitch.DefaultHelixURL,
	"twitch.DefaultIRCAddress":  twitch.DefaultIRCAddress,
	"twitch.DefaultEventSubURL": twitch.DefaultEventSubURL,
}

var (
	durationType = reflect.TypeFor[time.Duration]()
	secretType   = reflect.TypeFor[Secret]()
)

// schema is Config's, read once.
var schema = schemaOf(reflect.TypeFor[Config]())

// defaults is Config with every default applied, computed once from the
// schema.
var defaults = func() Config {
	var c Config
	applyDefaults(schema, reflect.ValueOf(&c).Elem())
	return c
}()

// defaultStreamer is a Streamer with every default applied, as a plain
// entry gets them.
var defaultStreamer = func() Streamer {
	d, _ := schema.key("streamers").elem.defaulted()
	return d.Interface().(Streamer)
}()

// schemaOf reads the schema of the struct type t. It panics on a tag that
// does not fit its field.
func schemaOf(t reflect.Type) *field {
	if t.Kind() != reflect.Struct {
		panic(fmt.Sprintf("config schema: %s is not a struct", t))
	}
	return newField("", -1, t, "")
}

func newField(name string, index int, t reflect.Type, tag reflect.StructTag) *field {
	f := &field{name: name, index: index, typ: t, auto: -1}
	fail := func(format string, args ...any) {
		panic(fmt.Sprintf("config schema: key %q: ", name) + fmt.Sprintf(format, args...))
	}
	if rule := tag.Get("check"); rule != "" {
		if f.rule = rules[rule]; f.rule == nil {
			fail("unknown check %q", rule)
		}
	}
	if s := tag.Get("oneof"); s != "" {
		if f.oneof = strings.Split(s, "|"); t.Kind() != reflect.String && (t.Kind() != reflect.Slice || t.Elem().Kind() != reflect.String) {
			fail("oneof needs strings")
		}
	}
	f.def = tag.Get("default")
	if v, ok := namedDefaults[f.def]; ok {
		f.def = v
	}
	f.required = tag.Get("required")
	if f.placeholder = tag.Get("placeholder"); f.placeholder != "" && t.Kind() != reflect.String {
		fail("placeholder needs a string")
	}
	f.why = tag.Get("why")
	f.env = tag.Get("env")
	_, f.optional = tag.Lookup("optional")
	_, f.reload = tag.Lookup("reload")
	_, f.dedupe = tag.Lookup("dedupe")
	f.dedupePlain = tag.Get("dedupe") == "plain"
	for _, b := range []struct {
		tag string
		dst **int
	}{{"min", &f.min}, {"max", &f.max}} {
		if s, ok := tag.Lookup(b.tag); ok {
			n, err := strconv.Atoi(s)
			if err != nil || t.Kind() != reflect.Int {
				fail("%s:%q needs a whole number on an int", b.tag, s)
			}
			*b.dst = &n
		}
	}

	switch {
	case t.Kind() == reflect.Struct:
		f.keys = keysOf(t)
		if f.rule != nil || f.oneof != nil {
			fail("a mapping has no check; its keys do")
		}
	case t.Kind() == reflect.Slice:
		// A list's checks are its entries'.
		f.elem = newField("", -1, t.Elem(), reflect.StructTag(fmt.Sprintf("check:%q oneof:%q", tag.Get("check"), tag.Get("oneof"))))
		f.rule, f.oneof = nil, nil
		if f.def != "" {
			fail("a list has no default")
		}
		if s := tag.Get("scalar"); s != "" {
			if f.elem.keys == nil {
				fail("scalar:%q needs a list of mappings", s)
			}
			f.elem.scalar = f.elem.key(s)
			if f.elem.scalar == nil || !f.elem.scalar.isScalar() {
				fail("scalar:%q names no plain key of the entries", s)
			}
			f.elem.scalar.scalarKey = true
		}
		if f.dedupe && f.elem.typ.Kind() != reflect.String && f.elem.scalar == nil {
			fail("dedupe needs a list of strings or of mappings with a scalar key")
		}
		if f.dedupePlain && f.elem.scalar == nil {
			fail(`dedupe:"plain" needs a list of mappings with a scalar key`)
		}
	case t.Kind() == reflect.Pointer:
		if b := t.Elem(); b != durationType && b.Kind() != reflect.String && b.Kind() != reflect.Bool && b.Kind() != reflect.Int {
			fail("type %s is not supported", t)
		}
		if f.required != "" || f.def != "" {
			fail("a value that may be unset has no default and is not required")
		}
	case t == durationType, t.Kind() == reflect.String, t.Kind() == reflect.Bool, t.Kind() == reflect.Int:
	default:
		fail("type %s is not supported", t)
	}
	return f
}

// keysOf reads the keys of struct type t and ties the siblings that tags
// name.
func keysOf(t reflect.Type) []*field {
	var keys []*field
	for i := range t.NumField() {
		sf := t.Field(i)
		name, _, _ := strings.Cut(sf.Tag.Get("yaml"), ",")
		if name == "-" || !sf.IsExported() {
			continue
		}
		if name == "" {
			panic(fmt.Sprintf("config schema: %s.%s has no yaml tag", t, sf.Name))
		}
		keys = append(keys, newField(name, i, sf.Type, sf.Tag))
	}
	parent := &field{keys: keys}
	for _, k := range keys {
		sf := t.Field(k.index)
		if s := sf.Tag.Get("file"); s != "" {
			if k.file = parent.key(s); k.file == nil || k.typ != secretType || k.file.typ.Kind() != reflect.String {
				panic(fmt.Sprintf("config schema: key %q: file:%q needs a Secret and a string sibling", k.name, s))
			}
		} else if k.typ == secretType {
			panic(fmt.Sprintf("config schema: key %q: a Secret needs a file sibling", k.name))
		}
		if s := sf.Tag.Get("auto"); s != "" {
			b, ok := t.FieldByName(s)
			if !ok || b.Type.Kind() != reflect.Bool || len(b.Index) != 1 {
				panic(fmt.Sprintf("config schema: key %q: auto:%q names no bool field", k.name, s))
			}
			k.auto = b.Index[0]
		}
	}
	return keys
}

// key returns the key of mapping f called name, or nil.
func (f *field) key(name string) *field {
	for _, k := range f.keys {
		if k.name == name {
			return k
		}
	}
	return nil
}

func (f *field) isScalar() bool { return f.keys == nil && f.elem == nil }

// base is the type of f's plain value: the pointed-to type of a value that
// may be unset.
func (f *field) base() reflect.Type {
	if f.typ.Kind() == reflect.Pointer {
		return f.typ.Elem()
	}
	return f.typ
}

// keyPath is the path of key k of the mapping f at path: the entry's own
// path for the key a plain entry stands for (scalar tag).
func (f *field) keyPath(path string, k *field) string {
	if k == f.scalar {
		return path
	}
	return join(path, k.name)
}

// keyNames lists a mapping's keys for messages.
func (f *field) keyNames() []string {
	names := make([]string, len(f.keys))
	for i, k := range f.keys {
		names[i] = k.name
	}
	return names
}

// typeNoun names what a plain value of f's type looks like, and plural
// many of them.
func (f *field) typeNoun() (noun, plural string) {
	switch t := f.base(); {
	case t == durationType:
		return "a duration such as 60s", "durations"
	case t.Kind() == reflect.Bool:
		return "true or false", "true/false values"
	case t.Kind() == reflect.Int:
		return "a whole number", "whole numbers"
	}
	return "a string", "strings"
}

// noun names what a list entry f should be, for messages.
func (f *field) noun() string {
	switch {
	case f.keys != nil && f.scalar != nil:
		return f.scalar.noun() + " or " + f.mappingNoun()
	case f.keys != nil:
		return f.mappingNoun()
	case f.elem != nil:
		return "a list of " + f.elem.plural()
	case f.rule != nil && f.rule.noun != "":
		return f.rule.noun
	case f.oneof != nil:
		return "one of " + strings.Join(f.oneof, ", ")
	}
	noun, _ := f.typeNoun()
	return noun
}

func (f *field) mappingNoun() string {
	return "a mapping with the keys " + strings.Join(f.keyNames(), ", ")
}

// plural names a list's entries, for "expected a list of ...".
func (f *field) plural() string {
	switch {
	case f.rule != nil && f.rule.plural != "":
		return f.rule.plural
	case f.keys != nil && f.scalar != nil:
		// A list of logins that may carry settings is still, first, a
		// list of logins.
		return f.scalar.plural()
	case f.keys != nil:
		return "mappings with the keys " + strings.Join(f.keyNames(), ", ")
	case f.elem != nil:
		return "lists"
	}
	_, plural := f.typeNoun()
	return plural
}

// join returns the path of key name in the mapping at path.
func join(path, name string) string {
	if path == "" {
		return name
	}
	return path + "." + name
}

// entryPath returns the path of a list's entry i.
func entryPath(path string, i int) string {
	return path + "[" + strconv.Itoa(i) + "]"
}

// defaulted returns the struct of mapping f with every default applied,
// decoded once: decoding them costs about 10 KB of garbage, which a list
// of 10,000 entries paid 10,000 times (100 MB at start and at every
// reload). shared reports whether a copy of it may be given to each entry:
// not when a default holds a reference the copies would share
// (plainValues); then each entry applies its own (applyDefaults).
func (f *field) defaulted() (v reflect.Value, shared bool) {
	f.defOnce.Do(func() {
		f.defValue = reflect.New(f.typ).Elem()
		applyDefaults(f, f.defValue)
		f.defShared = plainValues(f.defValue)
	})
	return f.defValue, f.defShared
}

// applyDefaults sets the defaults of mapping f in the struct v, through
// the same decoder as the file, so a default is written as a user would
// write it.
func applyDefaults(f *field, v reflect.Value) {
	for _, k := range f.keys {
		switch {
		case k.keys != nil:
			applyDefaults(k, v.Field(k.index))
		case k.def != "":
			var n yaml.Node
			if err := yaml.Unmarshal([]byte(k.def), &n); err != nil || len(n.Content) != 1 {
				panic(fmt.Sprintf("config schema: key %q: default %q is not YAML", k.name, k.def))
			}
			p := &parser{lines: map[string]int{}, plain: map[string]bool{}, ps: &problems{}}
			p.key(n.Content[0], k, v, k.name)
			if err := p.ps.err(); err != nil {
				panic(fmt.Sprintf("config schema: default of %v", err))
			}
		}
	}
}

// visitor is called by walk for one value: v is the value of f at path,
// parent the struct holding it (invalid for a list's entry). It returns
// whether walk should go on into what v holds.
type visitor func(f *field, v, parent reflect.Value, path string) bool

// walk calls visit for every value in the struct v, whose schema is the
// mapping f at path, in the order of the schema, each value before what
// it holds.
func walk(f *field, v reflect.Value, path string, visit visitor) {
	for _, k := range f.keys {
		walkValue(k, v.Field(k.index), v, f.keyPath(path, k), visit)
	}
}

func walkValue(f *field, v, parent reflect.Value, path string, visit visitor) {
	if !visit(f, v, parent, path) {
		return
	}
	switch {
	case f.keys != nil:
		walk(f, v, path, visit)
	case f.elem != nil:
		for i := range v.Len() {
			walkValue(f.elem, v.Index(i), reflect.Value{}, entryPath(path, i), visit)
		}
	}
}
