package streamelements

import (
	"errors"
	"testing"
)

func FuzzDecodePoints(f *testing.F) {
	for _, s := range []string{
		`{"channel":"5f2de5dd9a474a2c2daaaaaa","username":"u","points":49020,"pointsAlltime":20,"watchtime":14090,"rank":1}`,
		`{"points":0,"watchtime":0}`,
		`{"points":-5,"watchtime":3}`,
		`{"points":1,"watchtime":-1}`,
		`{"points":1.5,"watchtime":1}`,
		`{"points":"many","watchtime":[`,
		`null`, `[]`, ``,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		r, err := decodePoints(body)
		if err != nil {
			if !errors.Is(err, ErrMalformed) {
				t.Fatalf("error %v is not ErrMalformed", err)
			}
			return
		}
		if r.WatchtimeMinutes < 0 || r.Rank < 0 {
			t.Fatalf("accepted %+v from %q", r, body)
		}
	})
}

func FuzzDecodeChannel(f *testing.F) {
	for _, s := range []string{
		`{"_id":"5b2e2007760aeb7729487dab","username":"leeeeex","provider":"twitch"}`,
		`{"_id":""}`, `{"_id":"../../x"}`, `{"_id":5}`, `{}`, `null`, `{"statusCode":404}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		id, err := decodeChannel(body)
		if err != nil {
			if !errors.Is(err, ErrMalformed) {
				t.Fatalf("error %v is not ErrMalformed", err)
			}
			return
		}
		if !validID(id) {
			t.Fatalf("accepted id %q from %q", id, body)
		}
	})
}
