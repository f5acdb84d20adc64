package statefile

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestWriteReplacesAtomicallyWithMode(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "token.json")
	if err := WriteJSON(path, map[string]string{"a": "1"}, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := WriteJSON(path, map[string]string{"a": "2"}, 0o600); err != nil {
		t.Fatal(err)
	}
	var got map[string]string
	if err := ReadJSON(path, &got); err != nil {
		t.Fatal(err)
	}
	if got["a"] != "2" {
		t.Errorf("read %v, want the second write", got)
	}
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if m := st.Mode().Perm(); m != 0o600 {
		t.Errorf("mode %v, want 0600", m)
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 1 {
		var names []string
		for _, e := range entries {
			names = append(names, e.Name())
		}
		t.Errorf("directory holds %v, want only token.json (no temporary files left)", names)
	}
}

// TestFailedWriteKeepsOldFile: a write that cannot complete (here: the
// value cannot be encoded, then the directory is read-only) leaves the old
// file as it was.
func TestFailedWriteKeepsOldFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "state.json")
	if err := Write(path, []byte(`{"v":1}`), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := WriteJSON(path, map[string]any{"f": func() {}}, 0o600); err == nil {
		t.Fatal("WriteJSON of a func succeeded")
	}
	if os.Geteuid() != 0 { // root ignores directory permissions
		if err := os.Chmod(dir, 0o500); err != nil {
			t.Fatal(err)
		}
		defer os.Chmod(dir, 0o700)
		if err := Write(path, []byte(`{"v":2}`), 0o600); err == nil {
			t.Error("Write into a read-only directory succeeded")
		}
	}
	data, err := Read(path)
	if err != nil {
		t.Fatal(err)
	}
	if string(data) != `{"v":1}` {
		t.Errorf("file holds %q after failed writes, want the old contents", data)
	}
}

func TestReadErrors(t *testing.T) {
	dir := t.TempDir()
	if _, err := Read(filepath.Join(dir, "missing")); !errors.Is(err, ErrNotExist) {
		t.Errorf("Read(missing) = %v, want ErrNotExist", err)
	}
	if _, err := Read(dir); err == nil || !strings.Contains(err.Error(), "not a regular file") {
		t.Errorf("Read(dir) = %v, want 'not a regular file'", err)
	}
	bad := filepath.Join(dir, "bad.json")
	if err := os.WriteFile(bad, []byte("{not json"), 0o600); err != nil {
		t.Fatal(err)
	}
	var v map[string]any
	if err := ReadJSON(bad, &v); err == nil || !strings.Contains(err.Error(), "bad.json: not valid JSON") {
		t.Errorf("ReadJSON(bad) = %v, want an error naming the file", err)
	}
}
