// Package usertoken obtains, stores and renews the chat account's user
// access token: the device-code login behind `farmd login`, the token file
// in state_dir, and the Keeper that refreshes the token before it expires
// and whenever Twitch rejects it.
package usertoken

import (
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"slices"
	"sync"
	"time"

	"github.com/farmd/farmd/statefile"
)

// FileName is the token file's name in state_dir.
const FileName = "token.json"

// Scopes are what `farmd login` asks for: reading chat, and the followed
// channels.
var Scopes = []string{"chat:read", "user:read:follows"}

// ErrNoToken reports that no token has been stored: `farmd login` has not
// run (for this state_dir). Test for it with errors.Is.
var ErrNoToken = errors.New("no stored token")

// Token is a stored user token. Its String and GoString redact the secrets,
// and it has no JSON encoding of its own: only Store writes it.
type Token struct {
	AccessToken  string
	RefreshToken string
	Login        string
	UserID       string
	ClientID     string // the application the token was issued to
	Scopes       []string
	// ExpiresAt is when the access token expires, as of the last grant or
	// validation; Lifetime is the remaining lifetime Twitch reported then.
	ExpiresAt time.Time
	Lifetime  time.Duration
	// ObtainedAt is when the access token was issued to farmd.
	ObtainedAt time.Time
}

// String describes t without its secrets.
func (t Token) String() string {
	return fmt.Sprintf("usertoken.Token{Login:%q UserID:%q Scopes:%v ExpiresAt:%s AccessToken:[redacted] RefreshToken:[redacted]}",
		t.Login, t.UserID, t.Scopes, t.ExpiresAt.Format(time.RFC3339))
}

// GoString is String, so %#v redacts too.
func (t Token) GoString() string { return t.String() }

// file is Token as token.json holds it.
type file struct {
	AccessToken     string    `json:"access_token"`
	RefreshToken    string    `json:"refresh_token"`
	Login           string    `json:"login"`
	UserID          string    `json:"user_id"`
	ClientID        string    `json:"client_id"`
	Scopes          []string  `json:"scopes"`
	ExpiresAt       time.Time `json:"expires_at"`
	LifetimeSeconds int64     `json:"lifetime_seconds"`
	ObtainedAt      time.Time `json:"obtained_at"`
}

// Storage keeps a Token between runs. Store (a file in state_dir) is the
// one farmd uses; MemoryStorage serves the demo, which may run where
// nothing is writable.
type Storage interface {
	Load() (*Token, error)
	Save(*Token) error
	// Where names the storage in messages.
	Where() string
}

var (
	_ Storage = Store{}
	_ Storage = (*MemoryStorage)(nil)
)

// MemoryStorage is a Storage in memory, safe for concurrent use.
type MemoryStorage struct {
	mu  sync.Mutex
	tok *Token
}

// Load returns the saved token, or ErrNoToken.
func (m *MemoryStorage) Load() (*Token, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.tok == nil {
		return nil, ErrNoToken
	}
	t := *m.tok
	t.Scopes = slices.Clone(t.Scopes)
	return &t, nil
}

// Save keeps a copy of t.
func (m *MemoryStorage) Save(t *Token) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	c := *t
	c.Scopes = slices.Clone(t.Scopes)
	m.tok = &c
	return nil
}

// Where says the token is kept in memory.
func (m *MemoryStorage) Where() string { return "memory (not kept after exit)" }

// Where is the file's path.
func (s Store) Where() string { return s.Path }

// Store is the token file in a state directory.
type Store struct {
	// Path is the file, usually filepath.Join(state_dir, FileName).
	Path string
}

// StoreIn returns the Store for dir.
func StoreIn(dir string) Store { return Store{Path: filepath.Join(dir, FileName)} }

// Load reads the stored token. A missing file is ErrNoToken; a file that is
// not a token farmd wrote is an error naming the file.
func (s Store) Load() (*Token, error) {
	var f file
	if err := statefile.ReadJSON(s.Path, &f); err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("%w in %s: run `farmd login`", ErrNoToken, s.Path)
		}
		return nil, err
	}
	if f.AccessToken == "" || f.RefreshToken == "" || f.Login == "" {
		return nil, fmt.Errorf("read %s: no access_token, refresh_token or login: run `farmd login` again", s.Path)
	}
	return &Token{
		AccessToken:  f.AccessToken,
		RefreshToken: f.RefreshToken,
		Login:        f.Login,
		UserID:       f.UserID,
		ClientID:     f.ClientID,
		Scopes:       f.Scopes,
		ExpiresAt:    f.ExpiresAt,
		Lifetime:     time.Duration(f.LifetimeSeconds) * time.Second,
		ObtainedAt:   f.ObtainedAt,
	}, nil
}

// Save replaces the stored token atomically (temporary file, fsync,
// rename, fsync of the directory) with mode 0600: a crash at any point
// leaves either the old token or the new one, never a torn file.
func (s Store) Save(t *Token) error {
	return statefile.WriteJSON(s.Path, file{
		AccessToken:     t.AccessToken,
		RefreshToken:    t.RefreshToken,
		Login:           t.Login,
		UserID:          t.UserID,
		ClientID:        t.ClientID,
		Scopes:          slices.Clone(t.Scopes),
		ExpiresAt:       t.ExpiresAt.UTC(),
		LifetimeSeconds: int64(t.Lifetime / time.Second),
		ObtainedAt:      t.ObtainedAt.UTC(),
	}, 0o600)
}
