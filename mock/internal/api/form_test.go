package api

import (
	"encoding/json"
	"testing"
)

func FuzzDecodeForm(f *testing.F) {
	for _, s := range []string{"name=x", "a[b][c]=1&a[b][d][]=2", "links[0][rel]=x&links[1][href]=y", "a=1&a[b]=2", "x[]=1&x[]=2", "%zz"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		m, err := decodeForm([]byte(s))
		if err != nil {
			return
		}
		if _, err := json.Marshal(m); err != nil {
			t.Fatalf("decoded form does not encode as JSON: %v", err)
		}
	})
}
