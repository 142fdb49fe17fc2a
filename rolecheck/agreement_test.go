package rolecheck_test

import (
	"bytes"
	"context"
	"encoding/json"
	"go/parser"
	"go/token"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	librato "github.com/librato-sdk/librato-go"
	"github.com/librato-sdk/librato-go/internal/endpoints"
	"github.com/librato-sdk/librato-go/mock"
	"github.com/librato-sdk/librato-go/rolecheck"
)

// usage is the mock's usage report (GET /mock/usage).
type usage struct {
	Tokens []tokenUsage `json:"tokens"`
}

// tokenUsage is what one token did, and the least role that covers it.
type tokenUsage struct {
	TokenName   string       `json:"token_name"`
	Role        librato.Role `json:"role"`
	MinimalRole librato.Role `json:"minimal_role"`
	Endpoints   []struct {
		Method   string `json:"method"`
		Endpoint string `json:"endpoint"`
	} `json:"endpoints"`
}

// TestLeastRoleAgreesWithTheMock asks one question twice. The analyzer
// sees every branch of a program and answers with the least role its
// calls need; a run against the mock takes some branches and the mock's
// usage report says what each token the run used needed. So for each
// program under examples/, run in its real-account mode against a mock
// with a Full Access token (the role that lets it take every step), no
// token may have called an endpoint the analyzer's least role may not.
// Calls the analyzer cannot classify are not in its least role: the test
// names them for the program that makes them and compares all the same.
func TestLeastRoleAgreesWithTheMock(t *testing.T) {
	root, err := filepath.Abs("..")
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(t.Context(), 3*time.Minute)
	defer cancel()

	reports, err := rolecheck.Least(ctx, root, false, "./examples/...")
	require.NoError(t, err)
	programs := examplePrograms(t, filepath.Join(root, "examples"))
	require.NotEmpty(t, programs)

	bin := t.TempDir()
	args := []string{"build", "-o", bin + string(filepath.Separator)}
	for _, p := range programs {
		args = append(args, "./examples/"+p)
	}
	build := exec.CommandContext(ctx, goCmd(t), args...)
	build.Dir = root
	out, err := build.CombinedOutput()
	require.NoError(t, err, "go build of the examples:\n%s", out)

	for _, name := range programs {
		t.Run(name, func(t *testing.T) {
			t.Parallel() // after the parent returns: its ctx is done by then
			ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
			defer cancel()
			var report *rolecheck.Report
			for _, r := range reports {
				if strings.HasSuffix(r.Path, "/examples/"+name) {
					report = r
				}
			}
			require.NotNil(t, report, "the analyzer found no SDK call in examples/%s", name)
			least := report.Least()
			t.Logf("analyzer: least role %s for %d calls", least, report.Count())
			for _, u := range report.Unknown() {
				t.Logf("the analyzer cannot classify %s (%s): not in its least role; the run is compared all the same", u.Name, u.Unknown)
			}

			used := runAgainstMock(t, ctx, filepath.Join(bin, name))
			require.NotEmpty(t, used.Tokens, "the run made no authenticated call: nothing was compared")
			for _, tok := range used.Tokens {
				t.Logf("mock: token %q (%s) needed %s for %d endpoint(s)", tok.TokenName, tok.Role, tok.MinimalRole, len(tok.Endpoints))
				for _, ep := range tok.Endpoints {
					row := endpoints.All.Lookup(ep.Method, ep.Endpoint)
					require.NotNil(t, row, "the mock reported %s %s, which is no row of the matrix", ep.Method, ep.Endpoint)
					assert.True(t, row.Allows(string(least)),
						"token %q called %s %s, which the analyzer's least role %s may not: the analyzer missed a call of examples/%s", tok.TokenName, ep.Method, ep.Endpoint, least, name)
				}
			}
		})
	}
}

// examplePrograms lists the directories of examples/ that hold a main
// package.
func examplePrograms(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	var out []string
	for _, e := range entries {
		if !e.IsDir() {
			continue
		}
		files, err := filepath.Glob(filepath.Join(dir, e.Name(), "*.go"))
		require.NoError(t, err)
		for _, f := range files {
			if strings.HasSuffix(f, "_test.go") {
				continue
			}
			pf, err := parser.ParseFile(token.NewFileSet(), f, nil, parser.PackageClauseOnly)
			require.NoError(t, err)
			if pf.Name.Name == "main" {
				out = append(out, e.Name())
				break
			}
		}
	}
	return out
}

// runAgainstMock runs a built example in its real-account mode against a
// fresh mock, with a Full Access token, and returns the usage of the
// tokens the run used. The flags the program declares (its -h output)
// decide the arguments: a short -duration and -interval, the -space the
// test creates first, an -out file in a temporary directory.
func runAgainstMock(t *testing.T, ctx context.Context, prog string) usage {
	t.Helper()
	srv := mock.NewServer()
	t.Cleanup(srv.Close)
	tmp := t.TempDir()

	var help bytes.Buffer
	h := exec.CommandContext(ctx, prog, "-h")
	h.Env = programEnv(tmp)
	h.Stdout, h.Stderr = &help, &help
	_ = h.Run() // -h exits non-zero; only its text matters
	flags := map[string]bool{}
	for _, m := range regexp.MustCompile(`(?m)^\s+-([\w-]+)`).FindAllStringSubmatch(help.String(), -1) {
		flags[m[1]] = true
	}

	var args []string
	if flags["duration"] {
		args = append(args, "-duration", "2s")
	}
	if flags["interval"] {
		args = append(args, "-interval", "1s")
	}
	if flags["out"] {
		args = append(args, "-out", filepath.Join(tmp, "out"))
	}
	if flags["space"] {
		admin, err := srv.Client(librato.RoleFullAccess)
		require.NoError(t, err)
		require.NoError(t, admin.Do(ctx, "POST", "/v1/spaces", map[string]any{"name": "agreement"}, nil))
		args = append(args, "-space", "agreement")
	}
	before := fetchUsage(t, ctx, srv)

	email, token := srv.Credentials(librato.RoleFullAccess)
	runCtx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	cmd := exec.CommandContext(runCtx, prog, args...)
	cmd.Env = append(programEnv(tmp), "LIBRATO_EMAIL="+email, "LIBRATO_TOKEN="+token, "LIBRATO_ROLE=admin", "LIBRATO_URL="+srv.URL())
	cmd.Dir = tmp
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "%s %s:\n%s", filepath.Base(prog), strings.Join(args, " "), out)

	after := fetchUsage(t, ctx, srv)
	var seeded []string
	for _, tok := range before.Tokens {
		seeded = append(seeded, tok.TokenName)
	}
	after.Tokens = slices.DeleteFunc(after.Tokens, func(tok tokenUsage) bool {
		return slices.Contains(seeded, tok.TokenName)
	})
	return after
}

// fetchUsage reads the mock's usage report through its control plane.
func fetchUsage(t *testing.T, ctx context.Context, srv *mock.Server) usage {
	t.Helper()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, srv.URL()+"/mock/usage", nil)
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+srv.ControlToken())
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	var u usage
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&u))
	return u
}

// programEnv is this process's environment without LIBRATO_ variables,
// temporary files kept in tmp.
func programEnv(tmp string) []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "LIBRATO_") && !strings.HasPrefix(kv, "TMPDIR=") {
			env = append(env, kv)
		}
	}
	return append(env, "TMPDIR="+tmp)
}

// goCmd finds the go command (go test puts its own first on PATH).
func goCmd(t *testing.T) string {
	t.Helper()
	p, err := exec.LookPath("go")
	require.NoError(t, err, "the go command is needed to build the example programs")
	return p
}
