package tsdb

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestGlob(t *testing.T) {
	for _, c := range []struct {
		p, s string
		want bool
	}{
		{"*", "", true}, {"*", "abc", true}, {"a*", "abc", true}, {"*c", "abc", true}, {"a*c", "abbbc", true},
		{"*token*", "my token", true}, {"us-*-app", "us-west-2-app", true}, {"US-*", "us-east", true},
		{"a*c", "abd", false}, {"abc", "ab", false}, {"ab", "abc", false}, {"*x*", "abc", false}, {"", "a", false},
	} {
		assert.Equal(t, c.want, Glob(c.p, c.s), "%q ~ %q", c.p, c.s)
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
		e, err := ParseSearch(c.expr, nil)
		require.NoError(t, err, c.expr)
		assert.Equal(t, c.want, e.eval(tags), c.expr)
	}
	for _, bad := range []string{"", "region", "region=", "(a=b", "a=b and", "a=b c=d", "=x", `a="x`} {
		_, err := ParseSearch(bad, nil)
		assert.Error(t, err, bad)
	}
}

func FuzzParseSearch(f *testing.F) {
	for _, s := range []string{"a=b and c=d*", "not (a=b or c!=d)", `x="y z"`, "((a=b)", "a=", "!"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if e, err := ParseSearch(s, nil); err == nil {
			e.eval(map[string]string{"a": "b", "c": "d"})
		}
	})
}

// globBacktrack is the backtracking matcher Glob replaced, quadratic on
// hostile patterns; Glob must agree with it.
func globBacktrack(pattern, s string) bool {
	p, t := strings.ToLower(pattern), strings.ToLower(s)
	pi, ti := 0, 0
	star, mark := -1, 0
	for ti < len(t) {
		switch {
		case pi < len(p) && p[pi] == '*':
			star, mark = pi, ti
			pi++
		case pi < len(p) && p[pi] == t[ti]:
			pi++
			ti++
		case star >= 0:
			pi = star + 1
			mark++
			ti = mark
		default:
			return false
		}
	}
	for pi < len(p) && p[pi] == '*' {
		pi++
	}
	return pi == len(p)
}

func FuzzGlob(f *testing.F) {
	for _, c := range [][2]string{{"*", ""}, {"a*b", "ab"}, {"a*a", "a"}, {"ab*ba", "aba"}, {"*x*y*", "axbyc"},
		{"web-*", "Web-1"}, {"**", "x"}, {"", ""}, {"a", "A"}, {"*aab", "aaab"}, {"a*b*a", "abba"}} {
		f.Add(c[0], c[1])
	}
	f.Fuzz(func(t *testing.T, pattern, s string) {
		if got, want := Glob(pattern, s), globBacktrack(pattern, s); got != want {
			t.Fatalf("Glob(%q, %q) = %v, want %v", pattern, s, got, want)
		}
	})
}
