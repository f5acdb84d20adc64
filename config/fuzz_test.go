package config

import (
	"bytes"
	"errors"
	"strings"
	"testing"
)

// FuzzParse checks that Parse never panics, that every failure is an
// *Error with at least one problem and one line of text per problem, and
// that a config it accepts survives Validate. Seeds are in
// testdata/fuzz/FuzzParse (the good, bad and example configs and odd YAML).
func FuzzParse(f *testing.F) {
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := Parse(bytes.NewReader(data))
		if err != nil {
			var ce *Error
			if !errors.As(err, &ce) {
				t.Fatalf("got error %v (%T), want an *Error", err, err)
			}
			if c != nil {
				t.Fatalf("got a config with the error")
			}
			if len(ce.Problems) == 0 {
				t.Fatalf("got an *Error with no problems")
			}
			if got := strings.Count(err.Error(), "\n") + 1; got != len(ce.Problems) {
				t.Fatalf("got %d lines for %d problems", got, len(ce.Problems))
			}
			return
		}
		if c == nil {
			t.Fatal("got neither a config nor an error")
		}
		_ = c.Validate()
	})
}
