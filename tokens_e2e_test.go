package librato_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	librato "github.com/librato-sdk/librato-go"
	"github.com/librato-sdk/librato-go/mock"
)

// TestAPITokensListByNameAgainstTheMock finds tokens by name with List's
// filter on the mock: exact names (any case), wildcards, names that need
// escaping, no match, and an all-digit name.
func TestAPITokensListByNameAgainstTheMock(t *testing.T) {
	srv := mock.NewServer()
	t.Cleanup(srv.Close)
	c, err := srv.Client(librato.RoleFullAccess)
	require.NoError(t, err)
	ctx := context.Background()
	ids := map[string]int64{}
	for _, name := range []string{"ci deploy", "ci / nightly", "Collector", "2024"} {
		tok, err := c.APITokens.Create(ctx, &librato.APIToken{Name: librato.Ptr(name), Role: librato.RoleRecordOnly})
		require.NoError(t, err)
		ids[name] = tok.ID
	}
	names := func(toks []librato.APIToken) []string {
		var out []string
		for _, tk := range toks {
			out = append(out, *tk.Name)
		}
		return out
	}
	byName := func(name string) ([]librato.APIToken, error) {
		page, err := c.APITokens.List(ctx, &librato.ListOptions{Name: name})
		if err != nil {
			return nil, err
		}
		return page.APITokens, nil
	}

	toks, err := byName("collector")
	require.NoError(t, err)
	require.Len(t, toks, 1)
	assert.Equal(t, ids["Collector"], toks[0].ID)
	assert.Len(t, toks[0].Token(), 64, "the secret comes with it")

	toks, err = byName("ci*")
	require.NoError(t, err)
	assert.ElementsMatch(t, []string{"ci deploy", "ci / nightly"}, names(toks))

	toks, err = byName("ci / nightly")
	require.NoError(t, err)
	assert.Equal(t, []string{"ci / nightly"}, names(toks))

	toks, err = byName("nobody")
	require.NoError(t, err)
	assert.Empty(t, toks)

	toks, err = byName("2024")
	require.NoError(t, err)
	require.Equal(t, []string{"2024"}, names(toks))
	assert.Equal(t, ids["2024"], toks[0].ID)

	// The by-id read is unchanged.
	one, err := c.APITokens.Get(ctx, ids["Collector"])
	require.NoError(t, err)
	assert.Equal(t, "Collector", *one.Name)
}
