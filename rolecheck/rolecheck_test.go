package rolecheck_test

import (
	"bytes"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/tools/go/analysis/analysistest"

	librato "github.com/librato-sdk/librato-go"
	"github.com/librato-sdk/librato-go/rolecheck"
)

// testdata is a module of its own whose go.mod replaces the SDK with this
// checkout, so the fixtures compile against the SDK's real types and the
// facts are derived from its real code, without network.
func testdata(t *testing.T) string {
	t.Helper()
	dir, err := filepath.Abs("testdata")
	require.NoError(t, err)
	return dir
}

// TestDiagnostics covers each kind of call (service methods, iterators,
// Do, batchers, the OpenTelemetry exporter's constructor, helpers of
// another package, method values, interfaces, function values) and each
// way of declaring a role (WithRole, the mock's Client, branches,
// directives on the function and the package clause, WithStrictGuard),
// against the `// want` lines of the fixtures; then what the same run
// reports for -least and notes for -v.
func TestDiagnostics(t *testing.T) {
	var notes bytes.Buffer
	res := analysistest.Run(t, testdata(t), rolecheck.New(rolecheck.Config{Verbose: &notes}),
		"./declare", "./helper", "./usehelper", "./pkgdirective", "./least")

	t.Run("least role", func(t *testing.T) {
		byPath := map[string]*rolecheck.Report{}
		for _, r := range res {
			rep, ok := r.Action.Result.(*rolecheck.Report)
			require.True(t, ok)
			byPath[rep.Path] = rep
		}

		least := byPath["example.com/fixtures/least"]
		require.NotNil(t, least)
		assert.Equal(t, librato.RoleViewOnly, least.Least())
		assert.Equal(t, 4, least.Count())
		unknown := least.Unknown()
		require.Len(t, unknown, 1, "the role probe, and nothing else, is unknown")
		assert.Equal(t, "Client.DetectRole", unknown[0].Name)

		use := byPath["example.com/fixtures/usehelper"]
		require.NotNil(t, use)
		assert.Equal(t, librato.RoleFullAccess, use.Least(), "helper.Provision creates a space")
		assert.Equal(t, 8, use.Count(), "3 calls of its own and the 5 of the helper package")
		require.Len(t, use.Packages, 2)
		assert.Equal(t, "example.com/fixtures/usehelper", use.Packages[0].Path, "own calls first")
		assert.Equal(t, "example.com/fixtures/helper", use.Packages[1].Path)

		helper := byPath["example.com/fixtures/helper"]
		require.NotNil(t, helper)
		assert.Equal(t, 5, helper.Count(), "the calls inside the unexported helper count too")
		assert.Len(t, helper.Packages, 1)
	})

	t.Run("notes", func(t *testing.T) {
		out := notes.String()
		assert.Regexp(t, `declare.go:\d+:\d+: Spaces\.Create \(POST /v1/spaces\): no declared role: c is a parameter\n`, out)
		assert.Regexp(t, `Spaces\.Create \(POST /v1/spaces\): no declared role: NewClient is given a role chosen at run time\n`, out)
		assert.Regexp(t, `Spaces\.Create \(POST /v1/spaces\): no declared role: the client is built without WithRole, so it does not guard\n`, out)
		assert.Regexp(t, `Spaces\.Create \(POST /v1/spaces\): no declared role: the field h\.c is not followed\n`, out)
		assert.Regexp(t, `Spaces\.Create \(POST /v1/spaces\): declared viewer \(View Only\) by NewClient at \S+declare.go:\d+:\d+; ignored: shows the guard refusing\n`, out)
		assert.Regexp(t, `sc\.Create \(unknown: a call through an interface \(sc\.Create\)\): declared recorder \(Record Only\) by NewClient at \S+; unknown, so reported only under a strict guard\n`, out)
		assert.Regexp(t, `Spaces\.Create \(POST /v1/spaces\): declared viewer \(View Only\) by //librato:role viewer at `, out)
		assert.Contains(t, out, "no declared role: clientFor(...) is not followed\n")
		assert.NotContains(t, out, "s3cr3t", "a literal of the code, such as a token, in a note")
	})
}

// TestFlags: -role gives every call a role, -strict makes unlisted rows and
// unknown calls count.
func TestFlags(t *testing.T) {
	analysistest.Run(t, testdata(t), rolecheck.New(rolecheck.Config{Role: "viewer", Strict: true}), "./flags")
}

// TestRoleFlagRefusesUnknownRoles: a -role no token has is an error, not a
// silent check with no role.
func TestRoleFlagRefusesUnknownRoles(t *testing.T) {
	res := analysistest.Run(nopT{}, testdata(t), rolecheck.New(rolecheck.Config{Role: "operator"}), "./plain")
	require.Len(t, res, 1)
	require.Error(t, res[0].Action.Err)
	assert.Equal(t, `-role: librato: unknown token role "operator": use one of admin (Full Access), recorder (Record Only), viewer (View Only)`, res[0].Action.Err.Error())

	a := rolecheck.New(rolecheck.Config{})
	err := a.Flags.Set("role", "operator")
	require.Error(t, err, "the command line refuses it too")
	require.NoError(t, a.Flags.Set("role", "Record Only"), "UI labels work")
	assert.Equal(t, "recorder", a.Flags.Lookup("role").Value.String())
}

// nopT swallows the errors analysistest reports for a run expected to fail.
type nopT struct{}

func (nopT) Errorf(string, ...any) {}
