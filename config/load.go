package config

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"strings"

	"github.com/farmd/farmd/twitch"
)

// maxSecretFileSize caps a secret file read. Twitch secrets are about 30
// characters; the cap keeps a wrong path from being read whole.
const maxSecretFileSize = 64 << 10

// Load reads the config file at path and returns the configuration ready
// to use, with warnings worth logging.
//
// In order it: decodes the file strictly over Default (see Parse); lets the
// environment override the secrets (FARMD_CLIENT_SECRET, FARMD_IRC_TOKEN;
// an empty variable counts as unset); reads the *_file secrets, expanding
// a leading ~/ to $HOME and $VAR and ${VAR} through getenv (and nothing
// else) and resolving a relative path against the config file's
// directory, trimming one trailing newline; validates; and normalises: logins lowercased without '#' or
// spaces, the "oauth:" prefix stripped from the IRC token, a trailing '/'
// trimmed from URLs, duplicate streamers dropped (each with a warning).
// After Load the secrets are in ClientSecret and Token and the *File fields
// are empty.
//
// A bad configuration gives an *Error listing every problem; the warnings
// found so far are returned with it. A config file that cannot be opened
// gives a plain error wrapping the os error (errors.Is(err,
// fs.ErrNotExist) holds for a missing file). getenv is usually os.Getenv;
// nil means os.Getenv.
func Load(path string, getenv func(string) string) (*Config, []string, error) {
	return loadKeys(path, getenv, nil)
}

// LoadKeys is Load for a command that needs only some settings, such as
// `farmd login`, which needs twitch.* and state_dir but no streamers:
// problems with keys outside keys (dotted paths or their prefixes, such as
// "twitch") are not reported. Problems with no key (a YAML syntax error)
// always are.
func LoadKeys(path string, getenv func(string) string, keys ...string) (*Config, []string, error) {
	return loadKeys(path, getenv, keys)
}

func loadKeys(path string, getenv func(string) string, keys []string) (*Config, []string, error) {
	if getenv == nil {
		getenv = os.Getenv
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, fmt.Errorf("open config: %w", err)
	}
	defer func() { _ = f.Close() }()
	info, err := f.Stat()
	if err != nil {
		return nil, nil, fmt.Errorf("stat config: %w", err)
	}
	if info.IsDir() {
		return nil, nil, fmt.Errorf("open config: %s: %w", path, errIsDir)
	}
	data, err := readLimited(f)
	if err != nil {
		return nil, nil, err
	}
	c := Default()
	inline, warnings, ps := load(data, schema, reflect.ValueOf(&c).Elem(), path, getenv,
		func(lines map[string]int, ps *problems) { checkBetweenKeys(&c, lines, ps) })
	if ps.fatal {
		return nil, nil, ps.err()
	}
	if w := modeWarning(path, info.Mode(), inline); w != "" {
		warnings = append([]string{w}, warnings...)
	}
	if keys != nil {
		ps.keep(keys)
	}
	if err := ps.err(); err != nil {
		return nil, warnings, err
	}
	if c.StateDir == "" {
		c.StateDir = defaultStateDir(path, getenv)
	}
	return &c, warnings, nil
}

// defaultStateDir is state_dir when the file sets none: systemd's
// $STATE_DIRECTORY (the first, when StateDirectory= lists several), or the
// config file's directory.
func defaultStateDir(configPath string, getenv func(string) string) string {
	if dir, _, _ := strings.Cut(getenv("STATE_DIRECTORY"), ":"); dir != "" {
		return dir
	}
	if abs, err := filepath.Abs(configPath); err == nil {
		return filepath.Dir(abs)
	}
	return filepath.Dir(configPath)
}

// load runs Load's steps on data over the struct v, which holds the
// defaults and whose schema is s: decode, secrets and paths (configPath
// is the config file's, which relative paths are relative to), validation (between checks the rules that
// relate two keys), normalisation. It returns the
// paths of the secrets set inline, the warnings, and the problems.
func load(data []byte, s *field, v reflect.Value, configPath string, getenv func(string) string, between func(map[string]int, *problems)) (inline, warnings []string, ps *problems) {
	d := decode(data, s, v)
	lines, ps := d.lines, d.ps
	if ps.fatal {
		return nil, nil, ps
	}
	inline = resolve(s, v, configPath, getenv, lines, ps)
	check(s, v, lines, ps)
	if between != nil {
		between(lines, ps)
	}
	return inline, normalize(s, v, d), ps
}

var errIsDir = errors.New("is a directory")

// resolve fills the secrets of the struct v, whose schema is s, from the
// environment or their files, and expands and resolves its paths.
// configPath is the config file's. It returns the paths of the secrets that
// were set inline.
func resolve(s *field, v reflect.Value, configPath string, getenv func(string) string, lines map[string]int, ps *problems) (inline []string) {
	walk(s, v, "", func(f *field, v, parent reflect.Value, path string) bool {
		switch {
		case f.file != nil:
			if v.String() != "" {
				inline = append(inline, path)
			}
			filePath := strings.TrimSuffix(path, f.name) + f.file.name
			resolveSecret(f, v, parent.Field(f.file.index), path, filePath, configPath, getenv, lines, ps)
		case f.rule != nil && f.rule.path && v.String() != "":
			p, msg := expandPath(v.String(), configPath, getenv)
			if msg != "" {
				ps.add(Problem{Field: path, Line: lines[path], Msg: msg})
				return true
			}
			v.SetString(p)
		}
		return true
	})
	return inline
}

// resolveSecret fills one secret, the value of f at path, from the
// environment or its file, at filePath. On success the value is in value
// and file is cleared; on a problem with the file, value stays empty and
// file set, so that validation does not report the field again.
func resolveSecret(f *field, value, file reflect.Value, path, filePath, configPath string, getenv func(string) string, lines map[string]int, ps *problems) {
	if value.String() != "" && file.String() != "" {
		ps.add(Problem{Field: path, Line: lines[path], Msg: fmt.Sprintf("set only one of %s and %s", f.name, f.file.name)})
		return
	}
	if f.env != "" {
		if v := getenv(f.env); v != "" {
			// Whichever secret it is for, a value from the environment
			// or a file is checked without an "oauth:" prefix: "oauth:"
			// alone is refused as empty.
			if msg := checkSecretValue(v, twitch.StripOAuthPrefix); msg != "" {
				ps.add(Problem{Field: path, Msg: fmt.Sprintf("the value of the environment variable %s %s", f.env, msg)})
				return
			}
			value.SetString(v)
			file.SetString("")
			return
		}
	}
	if file.String() == "" {
		return
	}
	v, msg := readSecretFile(file.String(), configPath, getenv)
	if msg != "" {
		ps.add(Problem{Field: filePath, Line: lines[filePath], Msg: msg})
		return
	}
	value.SetString(v)
	file.SetString("")
}

// expandPath expands a leading ~/ to $HOME, as a shell does, and $VAR and
// ${VAR} through getenv, and resolves a relative path against the
// directory of the config file at configPath. It returns the path, or a
// message naming raw.
func expandPath(raw, configPath string, getenv func(string) string) (string, string) {
	path, missing := expand(raw, getenv)
	switch {
	case missing == credentialsDirectory:
		return "", fmt.Sprintf("%q uses $%s, which is not set: systemd sets it for the service (LoadCredential= in the unit); to check the file by hand run `sudo env %s=/etc/farmd farmd --check --config %s` (with the directory holding the credential files)",
			raw, missing, credentialsDirectory, configPath)
	case missing != "":
		return "", fmt.Sprintf("%q uses $%s, which is not set", raw, missing)
	case path == "":
		return "", "is empty"
	case path == "~" || strings.HasPrefix(path, "~/"):
		home := getenv("HOME")
		if home == "" {
			return "", fmt.Sprintf("%s uses ~/, but $HOME is not set", quote(raw))
		}
		path = filepath.Join(home, path[1:])
	case strings.HasPrefix(path, "~"):
		return "", fmt.Sprintf("%s: only ~/ (your home directory) is expanded; write the whole path", quote(raw))
	}
	if !filepath.IsAbs(path) {
		path = filepath.Join(filepath.Dir(configPath), path)
	}
	return path, ""
}

// credentialsDirectory is the variable systemd's LoadCredential= sets for
// the service, and only for it: a check by hand must set it itself.
const credentialsDirectory = "CREDENTIALS_DIRECTORY"

// readSecretFile reads a secret file, trims one trailing newline and checks
// the value. It returns the value, or a message naming the path (never the
// contents).
func readSecretFile(raw, configPath string, getenv func(string) string) (string, string) {
	path, msg := expandPath(raw, configPath, getenv)
	if msg != "" {
		return "", msg
	}
	f, err := os.Open(path)
	if err != nil {
		return "", fmt.Sprintf("cannot read %q: %s", path, reason(err))
	}
	defer func() { _ = f.Close() }()
	if info, err := f.Stat(); err == nil && info.IsDir() {
		return "", fmt.Sprintf("cannot read %q: is a directory", path)
	}
	data, err := io.ReadAll(io.LimitReader(f, maxSecretFileSize+1))
	if err != nil {
		return "", fmt.Sprintf("cannot read %q: %s", path, reason(err))
	}
	if len(data) > maxSecretFileSize {
		return "", fmt.Sprintf("%q is larger than %d bytes; it should hold only the secret", path, maxSecretFileSize)
	}
	v := string(data)
	if t, ok := strings.CutSuffix(v, "\n"); ok {
		v = strings.TrimSuffix(t, "\r")
	}
	if v == "" {
		return "", fmt.Sprintf("%q is empty", path)
	}
	if m := checkSecretValue(v, twitch.StripOAuthPrefix); m != "" {
		return "", fmt.Sprintf("the secret in %q %s", path, m)
	}
	return v, ""
}

// expand replaces $VAR and ${VAR} in s through getenv. It returns the name
// of the first variable that is unset or empty, since silently reading
// "/client_secret" instead of "${CREDENTIALS_DIRECTORY}/client_secret"
// would be a confusing failure.
func expand(s string, getenv func(string) string) (string, string) {
	missing := ""
	out := os.Expand(s, func(name string) string {
		v := getenv(name)
		if v == "" && missing == "" {
			missing = name
		}
		return v
	})
	return out, missing
}

// reason is the os error's own text without the operation and path, which
// the message already gives.
func reason(err error) string {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err.Error()
	}
	return err.Error()
}

// modeWarning warns when the file holds the secrets inline (their paths)
// and others than its owner may read it.
func modeWarning(path string, mode fs.FileMode, inline []string) string {
	if runtime.GOOS == "windows" || mode.Perm()&0o077 == 0 || len(inline) == 0 {
		return ""
	}
	return fmt.Sprintf("config file %q holds %s inline and is readable by group or others (mode %04o): chmod 600 it, or move the secret to a *_file, an environment variable or a systemd credential",
		path, strings.Join(inline, " and "), mode.Perm())
}

// normalize puts the values of the struct v, whose schema is s, in their
// canonical form, with a warning where the rule asks for one, then drops repeated entries of the lists that ask for
// it, keeping the first of each and the order, with a warning for each
// one dropped (or, for a repeat dedupe:"plain" refuses, a problem in d.ps).
// It runs after validation so that messages show values as the user wrote
// them.
func normalize(s *field, v reflect.Value, d decoded) []string {
	var warnings []string
	walk(s, v, "", func(f *field, v, _ reflect.Value, path string) bool {
		if v.Kind() == reflect.Pointer {
			if v.IsNil() {
				return true
			}
			v = v.Elem()
		}
		if f.rule != nil && f.rule.warn != nil {
			if msg := f.rule.warn(v.String()); msg != "" {
				warnings = append(warnings, Problem{Field: path, Line: d.lines[path], Msg: msg}.String())
			}
		}
		if f.rule != nil && f.rule.normalize != nil {
			v.SetString(f.rule.normalize(v.String()))
		}
		return true
	})
	walk(s, v, "", func(f *field, v, _ reflect.Value, path string) bool {
		if f.dedupe {
			warnings = append(warnings, dedupe(f, v, path, d)...)
		}
		return true
	})
	return warnings
}

// dedupe drops the repeated entries of the list v, the value of f at path.
// Entries are the same when their values are, or, for mappings that may be
// written as a plain value, the values of that key. With dedupe:"plain", a
// repeat where either entry is a mapping is a problem instead, and both
// entries stay.
func dedupe(f *field, v reflect.Value, path string, d decoded) []string {
	if v.Len() == 0 {
		return nil
	}
	lines := d.lines
	keyOf := func(e reflect.Value) string {
		if f.elem.scalar != nil {
			e = e.Field(f.elem.scalar.index)
		}
		return e.String()
	}
	var warnings []string
	first := make(map[string]int, v.Len()) // key -> index of its first entry
	out := reflect.MakeSlice(v.Type(), 0, v.Len())
	for i := range v.Len() {
		e := v.Index(i)
		k := keyOf(e)
		field := entryPath(path, i)
		j, seen := first[k]
		switch {
		case seen && f.dedupePlain && !(d.plain[field] && d.plain[entryPath(path, j)]):
			d.ps.addNew(Problem{Field: field, Line: lines[field], Msg: fmt.Sprintf(
				"%q is listed twice (first on line %d); list a streamer with its own settings only once", k, lines[entryPath(path, j)])})
			continue
		case seen:
			warnings = append(warnings, Problem{Field: field, Line: lines[field], Msg: fmt.Sprintf("duplicate of %q, dropped", k)}.String())
			continue
		}
		first[k] = i
		out = reflect.Append(out, e)
	}
	v.Set(out)
	return warnings
}
