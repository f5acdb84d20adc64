package config

import (
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"testing"
)

const examplePath = "../config.example.yaml"

// yamlKeys returns the yaml keys of t's fields, recursing into structs and
// the entries of lists of structs.
func yamlKeys(t reflect.Type) []string {
	var keys []string
	for i := range t.NumField() {
		f := t.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
		if name == "" || name == "-" {
			continue
		}
		keys = append(keys, name)
		ft := f.Type
		if ft.Kind() == reflect.Slice {
			ft = ft.Elem()
		}
		if ft.Kind() == reflect.Struct && ft.PkgPath() == t.PkgPath() {
			keys = append(keys, yamlKeys(ft)...)
		}
	}
	return keys
}

// placeholders returns the placeholder tags of the schema by path.
func placeholders() map[string]string {
	m := make(map[string]string)
	walk(schema, reflect.ValueOf(new(Config)).Elem(), "", func(f *field, _, _ reflect.Value, path string) bool {
		if f.placeholder != "" {
			m[path] = f.placeholder
		}
		return true
	})
	return m
}

// editedExample writes a copy of config.example.yaml with its placeholders
// replaced, as a user edits it, and returns its path.
func editedExample(tb testing.TB) string {
	tb.Helper()
	data, err := os.ReadFile(examplePath)
	if err != nil {
		tb.Fatal(err)
	}
	text := string(data)
	for _, p := range placeholders() {
		text = strings.ReplaceAll(text, p, "edited_value")
	}
	path := filepath.Join(tb.TempDir(), "config.yaml")
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
		tb.Fatal(err)
	}
	return path
}

// TestExampleConfig checks that config.example.yaml, its placeholders
// replaced, loads, shows the defaults, and documents every key, so a new
// key without documentation fails here.
func TestExampleConfig(t *testing.T) {
	env := envOf(map[string]string{EnvClientSecret: "example-secret", EnvIRCToken: "example-token"})
	c, warnings, err := Load(editedExample(t), env)
	if err != nil {
		t.Fatalf("Load(%s, edited): %v", examplePath, err)
	}
	if w := withoutModeWarnings(warnings); len(w) != 0 {
		t.Errorf("got warnings %q, want none", w)
	}
	def := Default()
	if c.Twitch.AuthURL != def.Twitch.AuthURL || c.Twitch.HelixURL != def.Twitch.HelixURL {
		t.Errorf("got URLs %q, %q, want the defaults", c.Twitch.AuthURL, c.Twitch.HelixURL)
	}
	got, want := c.IRC, def.IRC
	got.Username, got.Token = "", ""
	if got != want {
		t.Errorf("got irc %+v, want the defaults %+v", got, want)
	}
	if c.Poll != def.Poll || c.HTTP != def.HTTP {
		t.Errorf("got poll %+v http %+v, want the defaults %+v %+v", c.Poll, c.HTTP, def.Poll, def.HTTP)
	}
	if string(c.Twitch.ClientSecret) != "example-secret" || string(c.IRC.Token) != "example-token" {
		t.Errorf("the example holds secrets; want them left to the environment or a file")
	}

	data, err := os.ReadFile(examplePath)
	if err != nil {
		t.Fatal(err)
	}
	keys := yamlKeys(reflect.TypeFor[Config]())
	if len(keys) < 19 {
		t.Fatalf("found only %d yaml keys (%q); is the struct walk broken?", len(keys), keys)
	}
	for _, k := range keys {
		// A key counts as documented when it is set, or shown commented
		// out, also as the first key of a list entry.
		re := regexp.MustCompile(`(?m)^\s*(#\s*)?(-\s+)?` + regexp.QuoteMeta(k) + `:`)
		if !re.Match(data) {
			t.Errorf("%s does not mention the key %q", examplePath, k)
		}
	}
	for _, s := range []string{EnvClientSecret, EnvIRCToken, "CREDENTIALS_DIRECTORY"} {
		if !strings.Contains(string(data), s) {
			t.Errorf("%s does not mention %s", examplePath, s)
		}
	}
}

// TestExampleConfigPlaceholders checks that the example as shipped is
// refused with exactly one problem per placeholder, naming its key, so a
// user who copies it and forgets to edit it is told what to change.
func TestExampleConfigPlaceholders(t *testing.T) {
	want := placeholders()
	if len(want) < 2 {
		t.Fatalf("got placeholders %v, want at least twitch.client_id and irc.username", want)
	}
	_, _, err := Load(examplePath, noEnv)
	ce := asConfigError(t, err)
	got := make(map[string]string)
	for _, p := range ce.Problems {
		if p.Line == 0 || !strings.Contains(p.Msg, "is the placeholder from config.example.yaml") {
			t.Errorf("got problem %q, want only placeholders, each on its line", p)
		}
		got[p.Field] = want[p.Field]
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got placeholder problems for %v, want %v", got, want)
	}
}

// TestExampleConfigLoads checks that the example, edited as a public
// application with `farmd login` would use it, loads: no secret is
// required in it.
func TestExampleConfigLoads(t *testing.T) {
	c, _, err := Load(editedExample(t), noEnv)
	if err != nil {
		t.Fatalf("the edited example does not load: %v", err)
	}
	if c.Twitch.ClientSecret != "" || c.IRC.Token != "" {
		t.Errorf("the example sets a secret")
	}
}
