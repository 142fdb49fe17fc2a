package mock

import (
	"encoding/json"
	"testing"

	librato "github.com/librato-sdk/librato-go"
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

func TestGlob(t *testing.T) {
	for _, c := range []struct {
		p, s string
		want bool
	}{
		{"*", "", true}, {"*", "abc", true}, {"a*", "abc", true}, {"*c", "abc", true}, {"a*c", "abbbc", true},
		{"*token*", "my token", true}, {"us-*-app", "us-west-2-app", true}, {"US-*", "us-east", true},
		{"a*c", "abd", false}, {"abc", "ab", false}, {"ab", "abc", false}, {"*x*", "abc", false}, {"", "a", false},
	} {
		assert.Equal(t, c.want, glob(c.p, c.s), "%q ~ %q", c.p, c.s)
	}
}

func TestParseSearch(t *testing.T) {
	tags := map[string]string{"region": "us-east-1", "db": "main-prod", "host": "web1"}
	for _, c := range []struct {
		expr string
		want bool
	}{
		{"region=us-east* and db=*prod*", true},
		{"region=us-west* or db=*prod*", true},
		{"region=us-west* or db=*dev*", false},
		{"not region=us-west*", true},
		{"NOT (region=us-east* AND host=web1)", false},
		{"region!=us-west*", true},
		{"missing!=x", false},
		{`host="web1"`, true},
		{"region=!eu-*", true},
		{"Region=US-EAST-1", true},
	} {
		e, err := parseSearch(c.expr)
		require.NoError(t, err, c.expr)
		assert.Equal(t, c.want, e.eval(tags), c.expr)
	}
	for _, bad := range []string{"", "region", "region=", "(a=b", "a=b and", "a=b c=d", "=x", `a="x`} {
		_, err := parseSearch(bad)
		assert.Error(t, err, bad)
	}
}

// TestRoutesMatchTheMatrix checks the route table has exactly one route
// per matrix row, plus the legacy sources routes, which have none, and
// that routing and the matrix classify the same concrete paths alike.
func TestRoutesMatchTheMatrix(t *testing.T) {
	table := routes()
	perms := librato.Permissions()
	rowless := map[string]bool{"GET /v1/sources": true, "GET /v1/sources/:name": true, "PUT /v1/sources/:name": true}
	require.Len(t, table, len(perms)+len(rowless))
	for _, r := range table {
		_, ok := librato.LookupPermission(r.method, r.template)
		assert.Equal(t, !rowless[r.method+" "+r.template], ok, "%s %s", r.method, r.template)
	}
	for _, p := range perms {
		n := 0
		for _, r := range table {
			if r.method == p.Method && r.template == p.Endpoint {
				n++
			}
		}
		assert.Equal(t, 1, n, "%s %s", p.Method, p.Endpoint)
	}
	for _, c := range []struct{ method, path, template string }{
		{"GET", "/v1/alerts/status", "/v1/alerts/status"},
		{"GET", "/v1/alerts/12", "/v1/alerts/:id"},
		{"GET", "/v1/alerts/12/status", "/v1/alerts/:id/status"},
		{"GET", "/v1/alerts/status/status", "/v1/alerts/:id/status"},
		{"GET", "/v1/metrics/a%2Fb", "/v1/metrics/:name"},
		{"GET", "/v1/metrics/%2E%2E", "/v1/metrics/:name"},
		{"GET", "/v1/metrics/%73tatus", "/v1/metrics/:name"},
		{"GET", "/v1/measurements/cpu", "/v1/measurements/:name"},
		{"GET", "/v1/measurements", "/v1/measurements"},
		{"DELETE", "/v1/annotations/a/1/links/r%20el", "/v1/annotations/:name/:id/links/:rel"},
	} {
		segs, ok := splitPath(c.path)
		require.True(t, ok, c.path)
		r, _ := match(table, c.method, segs)
		require.NotNil(t, r, c.path)
		assert.Equal(t, c.template, r.template, c.path)
		p, ok := librato.LookupPermission(c.method, canonicalPath(segs))
		require.True(t, ok, c.path)
		assert.Equal(t, c.template, p.Endpoint, c.path)
	}
	segs, _ := splitPath("/v1/alerts/%73tatus")
	r, _ := match(table, "GET", segs)
	p, _ := librato.LookupPermission("GET", canonicalPath(segs))
	assert.Equal(t, r.template, p.Endpoint, "an escaped literal is routed and classified alike")
	for _, bad := range []string{"", "v1/metrics", "/v1//metrics", "/v1/metrics/", "/v1/metrics/%zz"} {
		_, ok := splitPath(bad)
		assert.False(t, ok, bad)
	}
}
