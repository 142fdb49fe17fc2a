package tsdb

import (
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
		e, err := ParseSearch(c.expr)
		require.NoError(t, err, c.expr)
		assert.Equal(t, c.want, e.eval(tags), c.expr)
	}
	for _, bad := range []string{"", "region", "region=", "(a=b", "a=b and", "a=b c=d", "=x", `a="x`} {
		_, err := ParseSearch(bad)
		assert.Error(t, err, bad)
	}
}

func FuzzParseSearch(f *testing.F) {
	for _, s := range []string{"a=b and c=d*", "not (a=b or c!=d)", `x="y z"`, "((a=b)", "a=", "!"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if e, err := ParseSearch(s); err == nil {
			e.eval(map[string]string{"a": "b", "c": "d"})
		}
	})
}
