package rolecheck_test

import (
	"context"
	"go/ast"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/tools/go/analysis"
	"golang.org/x/tools/go/analysis/checker"
	"golang.org/x/tools/go/packages"

	"github.com/librato-sdk/librato-go/rolecheck"
)

// TestEveryEndpointIsDerived: every endpoint the SDK's root package
// declares with newEndpoint reaches the fact of some exported function, so
// no typed method escapes the check, and the role probe is unknown.
func TestEveryEndpointIsDerived(t *testing.T) {
	root, err := filepath.Abs("..")
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	pkgs, err := packages.Load(&packages.Config{Context: ctx, Dir: root, Mode: packages.LoadAllSyntax | packages.NeedModule}, ".")
	require.NoError(t, err)
	require.Len(t, pkgs, 1)
	require.Empty(t, pkgs[0].Errors)
	graph, err := checker.Analyze([]*analysis.Analyzer{rolecheck.New(rolecheck.Config{})}, pkgs, nil)
	require.NoError(t, err)
	act := graph.Roots[0]
	require.NoError(t, act.Err)

	covered := map[string][]string{} // row -> the functions that need it
	var probe *rolecheck.Needs
	for _, f := range act.AllObjectFacts() {
		n, ok := f.Fact.(*rolecheck.Needs)
		if !ok || f.Object.Pkg() != act.Package.Types {
			continue
		}
		for _, r := range n.Rows {
			covered[r] = append(covered[r], f.Object.Name())
		}
		if f.Object.Name() == "DetectRole" {
			probe = n
		}
	}

	// The endpoints as the source declares them, read without the analyzer.
	declared := map[string]bool{}
	for _, f := range pkgs[0].Syntax {
		ast.Inspect(f, func(n ast.Node) bool {
			call, ok := n.(*ast.CallExpr)
			if !ok || len(call.Args) != 2 {
				return true
			}
			if id, ok := call.Fun.(*ast.Ident); !ok || id.Name != "newEndpoint" {
				return true
			}
			m, err1 := strconv.Unquote(call.Args[0].(*ast.BasicLit).Value)
			p, err2 := strconv.Unquote(call.Args[1].(*ast.BasicLit).Value)
			require.NoError(t, err1)
			require.NoError(t, err2)
			declared[m+" "+p] = true
			return true
		})
	}
	require.Greater(t, len(declared), 40, "the SDK declares its endpoints with newEndpoint")
	for ep := range declared {
		assert.NotEmpty(t, covered[ep], "no exported function of the SDK is found to need %s", ep)
	}
	require.NotNil(t, probe, "DetectRole has no fact")
	assert.Empty(t, probe.Rows, "the role probe is unknown, not its probes' rows")
	assert.NotEmpty(t, probe.Unknown)
}

// TestOnlyTheRoleCheckImportsXTools: golang.org/x/tools is imported by the
// analyzer and its command alone, so the SDK's users never build it.
func TestOnlyTheRoleCheckImportsXTools(t *testing.T) {
	goBin, err := exec.LookPath("go")
	require.NoError(t, err)
	cmd := exec.CommandContext(t.Context(), goBin, "list", "-test", "-f", `{{.ImportPath}}{{range .Imports}} {{.}}{{end}}`, "./...")
	cmd.Dir = ".."
	out, err := cmd.Output()
	require.NoError(t, err)
	mayImport := map[string]bool{
		"github.com/librato-sdk/librato-go/rolecheck":            true,
		"github.com/librato-sdk/librato-go/rolecheck_test":       true,
		"github.com/librato-sdk/librato-go/cmd/librato-vet":      true,
		"github.com/librato-sdk/librato-go/rolecheck.test":       true,
		"github.com/librato-sdk/librato-go/cmd/librato-vet.test": true,
	}
	importers := 0
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		f := strings.Fields(line)
		pkg := f[0]
		for _, imp := range f[1:] {
			if strings.HasPrefix(imp, "golang.org/x/tools/") {
				importers++
				assert.True(t, mayImport[pkg], "%s imports %s", pkg, imp)
			}
		}
	}
	assert.Positive(t, importers, "go list saw no importer of x/tools: the check saw nothing")
}
