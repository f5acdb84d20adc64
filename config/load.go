package config

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"
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
// $VAR and ${VAR} through getenv (and nothing else) and resolving a
// relative path against the config file's directory, trimming one trailing
// newline; validates; and normalises: logins lowercased without '#' or
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
	c, lines, ps := parse(data)
	if ps.fatal {
		return nil, nil, ps.err()
	}

	var warnings []string
	if w := modeWarning(path, info.Mode(), c); w != "" {
		warnings = append(warnings, w)
	}

	dir := filepath.Dir(path)
	for _, s := range secretsOf(c) {
		resolveSecret(s, dir, getenv, lines, ps)
	}
	validate(c, lines, ps)
	normalize(c)
	warnings = append(warnings, dedupe(c, lines)...)
	if err := ps.err(); err != nil {
		return nil, warnings, err
	}
	return c, warnings, nil
}

var errIsDir = errors.New("is a directory")

// secretSource ties a secret to its file field and environment variable.
type secretSource struct {
	value             *Secret
	file              *string
	field, fileField  string
	key, fileKey, env string
}

// secretsOf lists c's secrets: the client secret, then the IRC token.
func secretsOf(c *Config) []secretSource {
	return []secretSource{
		{&c.Twitch.ClientSecret, &c.Twitch.ClientSecretFile,
			"twitch.client_secret", "twitch.client_secret_file", "client_secret", "client_secret_file", EnvClientSecret},
		{&c.IRC.Token, &c.IRC.TokenFile,
			"irc.token", "irc.token_file", "token", "token_file", EnvIRCToken},
	}
}

// resolveSecret fills one secret from the environment or its file. On
// success the value is in s.value and s.file is cleared; on a problem with
// the file, s.value stays empty and s.file set, so that validate does not
// report the field again.
func resolveSecret(s secretSource, dir string, getenv func(string) string, lines map[string]int, ps *problems) {
	if *s.value != "" && *s.file != "" {
		ps.add(Problem{Field: s.field, Line: lines[s.field], Msg: fmt.Sprintf("set only one of %s and %s", s.key, s.fileKey)})
		return
	}
	if v := getenv(s.env); v != "" {
		if msg := checkSecretValue(stripOAuth(v)); msg != "" {
			ps.add(Problem{Field: s.field, Msg: fmt.Sprintf("the value of the environment variable %s %s", s.env, msg)})
			return
		}
		*s.value, *s.file = Secret(v), ""
		return
	}
	if *s.file == "" {
		return
	}
	v, msg := readSecretFile(*s.file, dir, getenv)
	if msg != "" {
		ps.add(Problem{Field: s.fileField, Line: lines[s.fileField], Msg: msg})
		return
	}
	*s.value, *s.file = Secret(v), ""
}

// readSecretFile reads a secret file, trims one trailing newline and checks
// the value. It returns the value, or a message naming the path (never the
// contents).
func readSecretFile(raw, dir string, getenv func(string) string) (string, string) {
	path, missing := expand(raw, getenv)
	if missing != "" {
		return "", fmt.Sprintf("%q uses $%s, which is not set", raw, missing)
	}
	if path == "" {
		return "", "is empty"
	}
	if !filepath.IsAbs(path) {
		path = filepath.Join(dir, path)
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
	if m := checkSecretValue(stripOAuth(v)); m != "" {
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

// modeWarning warns when the file holds a secret inline and others than
// its owner may read it.
func modeWarning(path string, mode fs.FileMode, c *Config) string {
	if runtime.GOOS == "windows" || mode.Perm()&0o077 == 0 {
		return ""
	}
	var inline []string
	if c.Twitch.ClientSecret != "" {
		inline = append(inline, "twitch.client_secret")
	}
	if c.IRC.Token != "" {
		inline = append(inline, "irc.token")
	}
	if len(inline) == 0 {
		return ""
	}
	return fmt.Sprintf("config file %q holds %s inline and is readable by group or others (mode %04o): chmod 600 it, or move the secret to a *_file, an environment variable or a systemd credential",
		path, strings.Join(inline, " and "), mode.Perm())
}

// normalize puts c's values in their canonical form. It runs after
// validation so that messages show values as the user wrote them.
func normalize(c *Config) {
	c.Twitch.ClientID = strings.TrimSpace(c.Twitch.ClientID)
	c.Twitch.AuthURL = strings.TrimRight(strings.TrimSpace(c.Twitch.AuthURL), "/")
	c.Twitch.HelixURL = strings.TrimRight(strings.TrimSpace(c.Twitch.HelixURL), "/")
	c.IRC.Username = NormalizeLogin(c.IRC.Username)
	c.IRC.Token = Secret(stripOAuth(string(c.IRC.Token)))
	c.IRC.Address = strings.TrimSpace(c.IRC.Address)
	c.HTTP.Listen = strings.TrimSpace(c.HTTP.Listen)
	for i, s := range c.Streamers {
		c.Streamers[i] = NormalizeLogin(s)
	}
}

// dedupe drops repeated streamers, keeping the first of each and the
// order, and returns a warning for each one dropped.
func dedupe(c *Config, lines map[string]int) []string {
	var warnings []string
	first := make(map[string]bool, len(c.Streamers))
	out := c.Streamers[:0]
	for i, s := range c.Streamers {
		if first[s] {
			field := fmt.Sprintf("streamers[%d]", i)
			warnings = append(warnings, Problem{Field: field, Line: lines[field], Msg: fmt.Sprintf("duplicate of %q, dropped", s)}.String())
			continue
		}
		first[s] = true
		out = append(out, s)
	}
	c.Streamers = out
	return warnings
}
