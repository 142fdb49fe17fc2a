package endpoints

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParseRejectsMalformedData(t *testing.T) {
	bad := []string{
		"GET\t/v1/x\tyes\tyes\n",                                                            // too few fields
		"FETCH\t/v1/x\tyes\tno\tno\tpublished\n",                                            // method
		"get\t/v1/x\tyes\tno\tno\tpublished\n",                                              // method case
		"GET\tv1/x\tyes\tno\tno\tpublished\n",                                               // template
		"GET\t/v1/x\tyes\tmaybe\tno\tpublished\n",                                           // cell
		"GET\t/v1/x\tyes\tno\tno\trumour\n",                                                 // source
		"GET\t/v1/x\tno\tyes\tno\tpublished\n",                                              // full access refused
		"GET\t/v1/x//y\tyes\tno\tno\tpublished\n",                                           // empty segment
		"GET\t/v1/x/:\tyes\tno\tno\tpublished\n",                                            // unnamed parameter
		"GET\t/v1/xs/:a\tyes\tno\tno\tpublished\nGET\t/v1/xs/:b\tyes\tyes\tno\tpublished\n", // same shape twice
	}
	for _, tsv := range bad {
		_, err := Parse(tsv)
		assert.Error(t, err, "%q", tsv)
	}
	tb, err := Parse("# comment\r\nGET\t/v1/xs/:id\tyes\tno\tyes\tpublished\r\n")
	require.NoError(t, err)
	row := tb.Match("GET", "/v1/xs/1")
	require.NotNil(t, row)
	assert.Equal(t, []string{"admin", "viewer"}, row.Roles())
	assert.True(t, row.Allows("viewer"))
	assert.False(t, row.Allows("recorder"))
	assert.False(t, row.Allows("Viewer"), "roles are API names, exactly")
}

func TestMatchPrefersLiteralsAndBacktracks(t *testing.T) {
	tb, err := Parse("GET\t/v1/a/:id\tyes\tno\tno\tpublished\n" +
		"GET\t/v1/a/status\tyes\tno\tno\tpublished\n" +
		"GET\t/v1/a/status/x\tyes\tno\tno\tpublished\n" +
		"GET\t/v1/a/:id/y\tyes\tno\tno\tpublished\n" +
		"PUT\t/v1/a/:id\tyes\tno\tno\tpublished\n")
	require.NoError(t, err)
	cases := map[string]string{
		"GET /v1/a/status":     "/v1/a/status",
		"GET /v1/a/7":          "/v1/a/:id",
		"GET /v1/a/:id":        "/v1/a/:id",
		"GET /v1/a/status/x":   "/v1/a/status/x",
		"GET /v1/a/status/y":   "/v1/a/:id/y", // the literal branch leads nowhere: back to the parameter
		"GET /v1/a/7/y?z=1":    "/v1/a/:id/y",
		"PUT /v1/a/status":     "/v1/a/:id", // no literal row for PUT
		"GET /v1/a/7#frag":     "/v1/a/:id",
		"GET /v1/a/":           "",
		"GET /v1/a//y":         "",
		"GET /v1/a":            "",
		"DELETE /v1/a/7":       "",
		"GET v1/a/7":           "",
		"GET /v1/a/7/y/z":      "",
		"GET /v1/a/status/x/":  "",
		"GET /v2/a/7":          "",
		"GET /v1/a/status%2Fx": "/v1/a/:id", // an escaped slash is part of the segment
		"GET /v1/a/%73tatus":   "/v1/a/:id", // escapes are the caller's to decode
		"get /v1/a/7":          "",
		"GET ":                 "",
	}
	for in, want := range cases {
		method, path, _ := cut(in)
		row := tb.Match(method, path)
		if want == "" {
			assert.Nil(t, row, in)
			continue
		}
		if assert.NotNil(t, row, in) {
			assert.Equal(t, want, row.Template, in)
		}
	}
	assert.Equal(t, []string{"7"}, tb.Match("GET", "/v1/a/7/y").Params("/v1/a/7/y?q"))
	assert.NotNil(t, tb.Lookup("GET", "/v1/a/:id"))
	assert.Nil(t, tb.Lookup("GET", "/v1/a/7"), "Lookup takes templates only")
}

func cut(s string) (string, string, bool) {
	for i := range s {
		if s[i] == ' ' {
			return s[:i], s[i+1:], true
		}
	}
	return s, "", false
}

func TestEmbeddedMatrix(t *testing.T) {
	rows := All.Rows()
	require.Len(t, rows, 56)
	for i := range rows {
		r := &rows[i]
		assert.Same(t, r, All.Match(r.Method, r.Template), r.String())
		assert.Same(t, r, All.Lookup(r.Method, r.Template), r.String())
		assert.True(t, r.Allows("admin"), r.String())
	}
}

func BenchmarkMatch(b *testing.B) {
	b.ReportAllocs()
	for range b.N {
		if All.Match("DELETE", "/v1/annotations/deploys/42/links/runbook") == nil {
			b.Fatal("no row")
		}
	}
}
