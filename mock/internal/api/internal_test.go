package api

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/librato-sdk/librato-go/internal/endpoints"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestDecodeForm(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"name=x", `{"name":"x"}`},
		{"attributes%5Bdisplay_min%5D=0&attributes%5Bcolor%5D=%23fff000", `{"attributes":{"display_min":"0","color":"#fff000"}}`},
		{"names%5B%5D=a&names%5B%5D=b", `{"names":["a","b"]}`},
		{"names[]=only", `{"names":["only"]}`},
		{"names=*.time", `{"names":"*.time"}`},
		{"links[0][rel]=x&links[0][href]=h&links[1][rel]=y", `{"links":[{"rel":"x","href":"h"},{"rel":"y"}]}`},
		{"links[10][rel]=b&links[2][rel]=a", `{"links":[{"rel":"a"},{"rel":"b"}]}`},
		{"settings[room]=Ops&settings[token]=t", `{"settings":{"room":"Ops","token":"t"}}`},
		{"a[b][c]=1&a[b][d][]=2&a[b][d][]=3", `{"a":{"b":{"c":"1","d":["2","3"]}}}`},
		{"x=1&x=2", `{"x":["1","2"]}`},
		{"", `{}`},
	} {
		got, err := decodeForm([]byte(c.in))
		require.NoError(t, err, c.in)
		raw, _ := json.Marshal(got)
		assert.JSONEq(t, c.want, string(raw), c.in)
	}
	for _, bad := range []string{"a=1&a[b]=2", "[x]=1", "a[b=1", "a[]x=1", "a[][b]=1", "a[b]=1&a[]=2", "%zz=1"} {
		_, err := decodeForm([]byte(bad))
		assert.Error(t, err, bad)
	}
}

func TestFieldReaders(t *testing.T) {
	m, err := decodeJSON([]byte(`{"i":"12","f":"1.5","b":"true","n":null,"s":3,"big":1e400,"obj":{"k":1},"l":[1,"a"],"e":""}`))
	require.NoError(t, err)
	errs := perrs{}
	o := newObj(m, errs)
	i, ok := o.int("i")
	assert.True(t, ok)
	assert.Equal(t, int64(12), i)
	f, _ := o.float("f")
	assert.Equal(t, 1.5, f)
	b, _ := o.boolean("b")
	assert.True(t, b)
	_, ok = o.str("n")
	assert.False(t, ok, "null reads as absent")
	s, _ := o.str("s")
	assert.Equal(t, "3", s)
	big, ok := o.float("big")
	assert.True(t, ok)
	_, ok = checkMagnitude(o, "big", big)
	assert.False(t, ok)
	_, ok = o.int("f")
	assert.False(t, ok)
	_, ok = o.float("e")
	assert.False(t, ok, "an empty form value is no value")
	_, ok = o.object("l")
	assert.False(t, ok)
	_, ok = o.strList("l")
	assert.True(t, ok)
	assert.Equal(t, map[string][]string{
		"big": {"is out of range: the magnitude may not exceed 1e126"},
		"f":   {"is invalid: expected an integer"},
		"l":   {"is invalid: expected an object"},
	}, map[string][]string(errs))
	for _, bad := range []string{`[]`, `{"a":1} x`, `{"a":`, `"s"`} {
		_, err := decodeJSON([]byte(bad))
		assert.Error(t, err, bad)
	}
}

// matrixTSV writes rows in the permissions.tsv format, so a test can
// build the router against a matrix that differs from the embedded one.
func matrixTSV(rows []endpoints.Row) string {
	var b strings.Builder
	for _, r := range rows {
		b.WriteString(r.Method + "\t" + r.Template)
		for _, role := range endpoints.RoleNames {
			if r.Allows(role) {
				b.WriteString("\tyes")
			} else {
				b.WriteString("\tno")
			}
		}
		b.WriteString("\t" + r.Source + "\n")
	}
	return b.String()
}

// TestRouterServesExactlyTheMatrix: every row of the endpoint table has
// one handler and every handler a row; a matrix with a row the mock does
// not serve, or without a row it does, stops the server at start-up with
// an error naming the row.
func TestRouterServesExactlyTheMatrix(t *testing.T) {
	rt, err := NewRouter(endpoints.All)
	require.NoError(t, err)
	require.Len(t, rt.byRow, len(endpoints.All.Rows()))
	for _, ep := range rt.byRow {
		require.NotNil(t, ep.h)
	}

	rows := endpoints.All.Rows()
	extra, err := endpoints.Parse(matrixTSV(rows) + "GET\t/v1/widgets/:id\tyes\tyes\tyes\tunlisted\n")
	require.NoError(t, err)
	_, err = NewRouter(extra)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "no handler for the matrix rows GET /v1/widgets/:id")

	var fewer []endpoints.Row
	for _, r := range rows {
		if r.String() != "PUT /v1/sources/:name" {
			fewer = append(fewer, r)
		}
	}
	missing, err := endpoints.Parse(matrixTSV(fewer))
	require.NoError(t, err)
	_, err = NewRouter(missing)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "handlers for no matrix row: PUT /v1/sources/:name")
}

// TestRouting: the router finds rows by the unescaped segments, a literal
// beating a parameter, and hands the handler the unescaped parameters.
func TestRouting(t *testing.T) {
	rt, err := NewRouter(endpoints.All)
	require.NoError(t, err)
	for _, c := range []struct {
		method, path, template string
		params                 []string
	}{
		{"GET", "/v1/alerts/status", "/v1/alerts/status", nil},
		{"GET", "/v1/alerts/%73tatus", "/v1/alerts/status", nil},
		{"GET", "/v1/alerts/12", "/v1/alerts/:id", []string{"12"}},
		{"GET", "/v1/alerts/12/status", "/v1/alerts/:id/status", []string{"12"}},
		{"GET", "/v1/alerts/status/status", "/v1/alerts/:id/status", []string{"status"}},
		{"GET", "/v1/metrics/a%2Fb", "/v1/metrics/:name", []string{"a/b"}},
		{"GET", "/v1/metrics/%2E%2E", "/v1/metrics/:name", []string{".."}},
		{"GET", "/v1/metrics/%73tatus", "/v1/metrics/:name", []string{"status"}},
		{"GET", "/v1/metrics/a%3Fb%23c", "/v1/metrics/:name", []string{"a?b#c"}},
		{"GET", "/v1/measurements/cpu", "/v1/measurements/:name", []string{"cpu"}},
		{"GET", "/v1/measurements", "/v1/measurements", nil},
		{"PUT", "/v1/sources/web%201", "/v1/sources/:name", []string{"web 1"}},
		{"DELETE", "/v1/annotations/a/1/links/r%20el", "/v1/annotations/:name/:id/links/:rel", []string{"a", "1", "r el"}},
	} {
		rq := rt.Route(c.method, c.path)
		require.NotNil(t, rq.Row, c.path)
		assert.Equal(t, c.template, rq.Template(), c.path)
		assert.Equal(t, c.params, rq.params, c.path)
	}
	for _, c := range []struct{ method, path string }{
		{"GET", ""}, {"GET", "v1/metrics"}, {"GET", "/v1//metrics"}, {"GET", "/v1/metrics/"}, {"GET", "/v1/metrics/%zz"},
		{"PATCH", "/v1/metrics"}, {"GET", "/v2/metrics"}, {"POST", "/v1/sources"},
	} {
		assert.Nil(t, rt.Route(c.method, c.path).Row, "%s %s", c.method, c.path)
	}
}
