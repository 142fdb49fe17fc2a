package librato

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/jarcoal/httpmock"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// encodeLetters spells the letters of s as percent escapes: every letter,
// or every other one (mixed), in upper or lower hex, or alternating case.
func encodeLetters(s string, every int, hexCase string) string {
	var b strings.Builder
	n := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		isLetter := 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || c == '_'
		if !isLetter {
			b.WriteByte(c)
			continue
		}
		n++
		if n%every != 0 {
			b.WriteByte(c)
			continue
		}
		esc := fmt.Sprintf("%%%02X", c)
		if hexCase == "lower" || (hexCase == "alternate" && n%2 == 0) {
			esc = strings.ToLower(esc)
		}
		b.WriteString(esc)
	}
	return b.String()
}

// spellings writes every literal segment of the concrete path of template
// in percent escapes, several ways.
func spellings(template string) []string {
	var out []string
	for _, way := range []struct {
		every   int
		hexCase string
	}{{1, "upper"}, {1, "lower"}, {1, "alternate"}, {2, "upper"}, {2, "alternate"}, {3, "lower"}} {
		segs := strings.Split(concretePath(template), "/")
		tsegs := strings.Split(template, "/")
		for i := range segs {
			if !strings.HasPrefix(tsegs[i], ":") {
				segs[i] = encodeLetters(segs[i], way.every, way.hexCase)
			}
		}
		out = append(out, strings.Join(segs, "/"))
	}
	return out
}

// TestDoClassifiesEncodedPaths sends every row of the matrix through Do
// with its literal segments spelled in percent escapes, as every role,
// lenient and strict: the guard must refuse it for exactly the roles the
// matrix refuses, with nothing sent, and let the rest reach the server at
// the path the matrix classified.
func TestDoClassifiesEncodedPaths(t *testing.T) {
	ctx := context.Background()
	for _, p := range Permissions() {
		allowed := map[Role]bool{}
		for _, r := range p.Roles {
			allowed[r] = true
		}
		for _, path := range spellings(p.Endpoint) {
			require.NotEqual(t, concretePath(p.Endpoint), path)
			for _, role := range append(Roles(), "") {
				for _, strict := range []bool{false, true} {
					var opts []Option
					if role != "" {
						opts = append(opts, WithRole(role))
					}
					if strict {
						opts = append(opts, WithStrictGuard())
					}
					c, mt := newMockClient(t, opts...)
					var got string
					mt.RegisterNoResponder(func(req *http.Request) (*http.Response, error) {
						got = req.URL.EscapedPath()
						return httpmock.NewStringResponse(204, ""), nil
					})
					err := c.Do(ctx, p.Method, path, nil, nil)
					refused := role != "" && !allowed[role] && (p.Enforced() || strict)
					what := fmt.Sprintf("%s %s as %q strict=%v", p.Method, path, role, strict)
					if refused {
						var fe *ErrForbiddenForRole
						if assert.ErrorAs(t, err, &fe, what) {
							assert.Equal(t, p.Endpoint, fe.Endpoint, what)
						}
						assert.Zero(t, mt.GetTotalCallCount(), "%s: sent", what)
						continue
					}
					require.NoError(t, err, what)
					assert.Equal(t, 1, mt.GetTotalCallCount(), what)
					assert.Equal(t, "/prefix"+concretePath(p.Endpoint), got, "%s: the server sees the path that was classified", what)
				}
			}
		}
	}
}

// TestDoRefusesEncodedSeparatorsAndDotSegments checks that no spelling of
// '/', '\' or a dot segment gets through Do, for any role.
func TestDoRefusesEncodedSeparatorsAndDotSegments(t *testing.T) {
	bad := []string{
		"/v1/metrics%2Fcpu", "/v1/metrics%2fcpu", "/v1/spaces/1%2F..%2F..%2Fapi_tokens",
		"/v1/metrics%5Ccpu", "/v1/metrics/%5c",
		"/v1/metrics/%2E", "/v1/metrics/%2e", "/v1/metrics/%2E%2E/api_tokens", "/v1/metrics/%2e%2E/api_tokens",
		"/v1/metrics/.%2E/api_tokens", "/v1/metrics/%2E./api_tokens", "/v1/%2E%2E/v1/api_tokens", "/v1/%2e/api_tokens",
		"/v1/metrics/cpu/%2E%2E", "/%76%31/..", "/v1/metrics/%", "/v1/metrics/%4", "/v1/metrics/%zz",
		"/%2Fv1/api_tokens", "/v1/%2F/api_tokens", "/v2/%61pi_tokens", "/%76%32/api_tokens",
	}
	for _, role := range append(Roles(), "") {
		var opts []Option
		if role != "" {
			opts = append(opts, WithRole(role))
		}
		c, mt := newMockClient(t, opts...)
		acceptAll(mt)
		for _, path := range bad {
			for _, method := range []string{"GET", "POST", "DELETE"} {
				err := c.Do(context.Background(), method, path, nil, nil)
				var ve *ValidationError
				assert.ErrorAs(t, err, &ve, "%s %s as %q", method, path, role)
			}
		}
		assert.Zero(t, mt.GetTotalCallCount(), "as %q", role)
	}
}

// TestDoSendsTheCleanedPath keeps escapes that are not unreserved
// characters, in upper case, and the query as given.
func TestDoSendsTheCleanedPath(t *testing.T) {
	c, mt := newMockClient(t)
	var got string
	mt.RegisterNoResponder(func(req *http.Request) (*http.Response, error) {
		got = req.URL.RequestURI()
		return httpmock.NewStringResponse(204, ""), nil
	})
	require.NoError(t, c.Do(context.Background(), "GET", "/v1/%6Detrics/a%2eb%20c%3f?name=%2F%2e&x=1", nil, nil))
	assert.Equal(t, "/prefix/v1/metrics/a.b%20c%3F?name=%2F%2e&x=1", got)
	perm, ok := LookupPermission("GET", strings.TrimPrefix(got, "/prefix"))
	require.True(t, ok)
	assert.Equal(t, "/v1/metrics/:name", perm.Endpoint)
}
