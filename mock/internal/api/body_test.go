package api

import (
	"bytes"
	"encoding/json"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/librato-sdk/librato-go/mock/internal/tsdb"
)

func FuzzCheckJSONText(f *testing.F) {
	for _, s := range []string{`{"name":"x"}`, "{\"name\":\"\xff\"}", `{"a":["\udcff"]}`, `{"a":{"b":"\ud83d\ude00"}}`,
		`{"\ud800":1}`, `{"a":"\\udcff"}`, `[1,"\ud800\u0041"]`, `"\udfff"`, `{"a":`, "\xfe"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		rep := CheckJSONText(data)
		if utf8.Valid(data) && !bytes.Contains(data, []byte(`\u`)) && rep != nil {
			t.Fatalf("valid text refused: %q", data)
		}
		// Bytes that are not UTF-8 in a syntactically valid document can
		// only be inside strings, so they are always found.
		if json.Valid(data) && !utf8.Valid(data) && rep == nil {
			t.Fatalf("invalid UTF-8 accepted: %q", data)
		}
		if rep != nil && rep.Status != 400 {
			t.Fatalf("status %d", rep.Status)
		}
	})
}

func FuzzParseEpoch(f *testing.F) {
	for _, s := range []string{"1714564800", "2024-05-01T12:00:00Z", "0001-01-01", "1e9", "-1", "9999-12-31T23:59:59+14:00", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		for _, v := range []any{s, json.Number(s)} {
			if n, _, ok := ParseEpoch(v); ok && !tsdb.ValidTime(n) {
				t.Fatalf("%q read as %d, out of range", s, n)
			}
		}
	})
}

func TestBadJSONStringPaths(t *testing.T) {
	for in, want := range map[string]string{
		"{\"name\":\"\xff\"}":                              "name",
		"{\"a\":{\"b\":[1,{\"c\":\"\xff\"}]}}":             "a.b[1].c",
		"{\"a\":[[\"ok\"],[\"x\",\"\xfe\"]]}":              "a[1][1]",
		`{"ok":"\u00e9","bad":"\udc00"}`:                   "bad",
		"{\"k\xff\":1}":                                    "k\uFFFD",
		"\"\xff\"":                                         "request",
		`{"m":[{"name":"a","tags":{"h":"\ud800\u0041"}}]}`: "m[0].tags.h",
	} {
		rep := CheckJSONText([]byte(in))
		require.NotNil(t, rep, "%q", in)
		eb := rep.body.(errorBody)
		assert.Contains(t, eb.Errors.Params, want, "%q", in)
	}
	assert.Nil(t, CheckJSONText([]byte(`{"a":"\ud83d\ude00","b":"\\ud800"}`)))
}

// BenchmarkCheckJSONText measures the UTF-8 check on a 1,000-measurement
// body: the common case (valid text) and the walk that names a bad field.
func BenchmarkCheckJSONText(b *testing.B) {
	var sb strings.Builder
	sb.WriteString(`{"tags":{"region":"us-east-1"},"measurements":[`)
	for i := 0; i < 1000; i++ {
		if i > 0 {
			sb.WriteByte(',')
		}
		sb.WriteString(`{"name":"app.requests.latency","value":12.5,"time":1714564800,"tags":{"host":"web-` + strconv.Itoa(i) + `","path":"/api/v1/items"}}`)
	}
	sb.WriteString(`]}`)
	good := []byte(sb.String())
	bad := append([]byte(nil), good...)
	bad[bytes.LastIndex(bad, []byte("items"))] = 0xff // inside the last string
	for name, data := range map[string][]byte{"valid": good, "invalid": bad} {
		b.Run(name, func(b *testing.B) {
			b.SetBytes(int64(len(data)))
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				rep := CheckJSONText(data)
				if (rep == nil) != (name == "valid") {
					b.Fatal(rep)
				}
			}
		})
	}
}
