package librato_test

import (
	"os"
	"testing"

	"github.com/stretchr/testify/require"

	librato "github.com/librato-sdk/librato-go"
	"github.com/librato-sdk/librato-go/internal/permtable"
)

// TestREADMEPermissionTable fails when the README's table and the embedded
// matrix disagree; `go generate` rewrites the table.
func TestREADMEPermissionTable(t *testing.T) {
	raw, err := os.ReadFile("README.md")
	require.NoError(t, err)
	got, err := permtable.Extract(string(raw))
	require.NoError(t, err)
	require.Equal(t, permtable.Render(librato.Permissions()), got, "README.md's permission table is stale: run go generate")
}

func TestPermtableSplice(t *testing.T) {
	in := "a\n" + permtable.Begin + "\nold\n" + permtable.End + "\nz\n"
	out, err := permtable.Splice(in, "new\n")
	require.NoError(t, err)
	require.Equal(t, "a\n"+permtable.Begin+"\nnew\n"+permtable.End+"\nz\n", out)
	got, err := permtable.Extract(out)
	require.NoError(t, err)
	require.Equal(t, "new\n", got)
	_, err = permtable.Splice("no markers", "x")
	require.Error(t, err)
	_, err = permtable.Extract(permtable.Begin + " but no end")
	require.Error(t, err)
}
