package librato_test

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// Every fenced block of README.md is either run by these tests or says,
// in an HTML comment on the line before it, why it is not:
//
//	<!-- readme: run -->            the block runs (Go: in a program of its
//	                                own module; sh: in bash, in order)
//	<!-- readme: go.mod -->         the go.mod the Go blocks are built with
//	<!-- readme: output -->         what the block before prints, checked
//	<!-- readme: not run: <why> --> e.g. the test command itself
//
// so the README cannot drift from the code again.

type readmeBlock struct {
	line      int    // of the opening fence
	lang      string // the fence's info string
	directive string // run, go.mod, output, or "not run: ..."
	text      string
}

var readmeDirective = regexp.MustCompile(`^<!-- readme: (.+?) -->$`)

func readmeBlocks(t *testing.T) []readmeBlock {
	t.Helper()
	raw, err := os.ReadFile("README.md")
	require.NoError(t, err)
	lines := strings.Split(string(raw), "\n")
	var out []readmeBlock
	for i := 0; i < len(lines); i++ {
		fence, ok := strings.CutPrefix(lines[i], "```")
		if !ok {
			continue
		}
		b := readmeBlock{line: i + 1, lang: strings.TrimSpace(fence)}
		if i > 0 {
			if m := readmeDirective.FindStringSubmatch(strings.TrimSpace(lines[i-1])); m != nil {
				b.directive = m[1]
			}
		}
		var body []string
		for i++; i < len(lines) && !strings.HasPrefix(lines[i], "```"); i++ {
			body = append(body, lines[i])
		}
		require.Less(t, i, len(lines), "README.md:%d: the block is not closed", b.line)
		b.text = strings.Join(body, "\n") + "\n"
		out = append(out, b)
	}
	require.NotEmpty(t, out)
	return out
}

// TestREADMEBlocksSayWhatTheyAre: no block is left unchecked by accident,
// and a block that is not run names a path that exists.
func TestREADMEBlocksSayWhatTheyAre(t *testing.T) {
	paths := regexp.MustCompile(`\./(?:examples|cmd)/[\w-]+`)
	for _, b := range readmeBlocks(t) {
		switch {
		case b.directive == "run" && (b.lang == "go" || b.lang == "sh"):
		case b.directive == "go.mod" && b.lang == "gomod":
		case b.directive == "output":
		case strings.HasPrefix(b.directive, "not run: ") && len(b.directive) > len("not run: ")+10:
		default:
			t.Errorf("README.md:%d: a ```%s block needs <!-- readme: run -->, <!-- readme: not run: <why> --> or another directive on the line before it (got %q)", b.line, b.lang, b.directive)
		}
		for _, p := range paths.FindAllString(b.text, -1) {
			_, err := os.Stat(p)
			require.NoError(t, err, "README.md:%d names %s", b.line, p)
		}
	}
}

// readmeImports are the packages every generated block may use; the
// program references each once so an unused one is no error.
var readmeImports = []struct{ path, name, use string }{
	{"context", "", "context.Background"},
	{"errors", "", "errors.Is"},
	{"fmt", "", "fmt.Sprint"},
	{"log", "", "log.Print"},
	{"log/slog", "", "slog.Default"},
	{"net/http", "", "http.StatusOK"},
	{"os", "", "os.Exit"},
	{"time", "", "time.Second"},
	{"github.com/librato-sdk/librato-go", "librato", "librato.Version"},
	{"github.com/librato-sdk/librato-go/mock", "", "mock.NewServer"},
	{"github.com/librato-sdk/librato-go/otelexport", "", "otelexport.New"},
	{"go.opentelemetry.io/otel/sdk/metric", "sdkmetric", "sdkmetric.NewMeterProvider"},
	{"go.opentelemetry.io/otel/sdk/resource", "", "resource.Default"},
}

// newClientCall finds librato.NewClient(email, token...) in a block, so the
// program can point it at its mock instead of the real API.
var newClientCall = regexp.MustCompile(`librato\.NewClient\(([\w.]+), ([\w.()]+)([,)])`)

// TestREADMEGoBlocksRun builds every Go block into one program, in a
// module of its own that uses this one through the README's go.mod
// (replace directive included), and runs it against a mock: each block is
// the body of a function with ctx, email, token and hostname declared,
// and every librato.NewClient(email, token...) gets the mock's URL.
func TestREADMEGoBlocksRun(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a program: not with -short")
	}
	var goBlocks []readmeBlock
	var gomod string
	for _, b := range readmeBlocks(t) {
		switch {
		case b.directive == "go.mod":
			gomod = b.text
		case b.directive == "run" && b.lang == "go":
			goBlocks = append(goBlocks, b)
		}
	}
	require.NotEmpty(t, gomod, "README.md has no <!-- readme: go.mod --> block")
	require.NotEmpty(t, goBlocks)

	repo, err := filepath.Abs(".")
	require.NoError(t, err)
	dir := t.TempDir()
	// The README's go.mod, with its replace directive pointed at this
	// checkout: what a user of the unpublished module writes.
	replace := regexp.MustCompile(`(?m)^(replace github\.com/librato-sdk/librato-go => ).*$`)
	require.Regexp(t, replace, gomod, "the README's go.mod shows no replace directive")
	mod := replace.ReplaceAllString(gomod, "${1}"+repo)
	require.NoError(t, os.WriteFile(filepath.Join(dir, "go.mod"), []byte(mod), 0o644))
	sum, err := os.ReadFile("go.sum")
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(dir, "go.sum"), sum, 0o644))

	var prog bytes.Buffer
	prog.WriteString("// Code generated by TestREADMEGoBlocksRun from README.md. DO NOT EDIT.\n\npackage main\n\nimport (\n")
	for _, im := range readmeImports {
		fmt.Fprintf(&prog, "\t%s %q\n", im.name, im.path)
	}
	prog.WriteString(")\n\nvar (\n")
	for _, im := range readmeImports {
		fmt.Fprintf(&prog, "\t_ = %s\n", im.use)
	}
	prog.WriteString(")\n\n")
	prog.WriteString(readmeMain)
	for i, b := range goBlocks {
		body := newClientCall.ReplaceAllStringFunc(b.text, func(call string) string {
			m := newClientCall.FindStringSubmatch(call)
			if m[3] == ")" {
				return "librato.NewClient(" + m[1] + ", " + m[2] + ", readmeAPI)"
			}
			return "librato.NewClient(" + m[1] + ", " + m[2] + ", readmeAPI,"
		})
		fmt.Fprintf(&prog, "\n// README.md:%d\nfunc block%d(ctx context.Context, email, token, hostname string, readmeAPI librato.Option) {\n\t_, _, _, _, _ = ctx, email, token, hostname, readmeAPI\n%s}\n", b.line, i, body)
	}
	fmt.Fprintf(&prog, "\nvar blocks = []func(context.Context, string, string, string, librato.Option){")
	for i := range goBlocks {
		fmt.Fprintf(&prog, "block%d, ", i)
	}
	prog.WriteString("}\n\nvar lines = []int{")
	for _, b := range goBlocks {
		fmt.Fprintf(&prog, "%d, ", b.line)
	}
	prog.WriteString("}\n")
	require.NoError(t, os.WriteFile(filepath.Join(dir, "main.go"), prog.Bytes(), 0o644))

	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	goTool := filepath.Join(runtime.GOROOT(), "bin", "go")
	tidy := exec.CommandContext(ctx, goTool, "mod", "tidy")
	tidy.Dir, tidy.Env = dir, append(os.Environ(), "GOFLAGS=-mod=mod", "GOPROXY=off", "GOWORK=off")
	out, err := tidy.CombinedOutput()
	require.NoError(t, err, "go mod tidy in the README's module:\n%s", out)
	run := exec.CommandContext(ctx, goTool, "run", ".")
	run.Dir, run.Env = dir, append(os.Environ(), "GOPROXY=off", "GOWORK=off", "LIBRATO_EMAIL=", "LIBRATO_TOKEN=")
	out, err = run.CombinedOutput()
	require.NoError(t, err, "the README's Go blocks (main.go in %s):\n%s", dir, out)
	for _, b := range goBlocks {
		require.Contains(t, string(out), fmt.Sprintf("README.md:%d ok", b.line))
	}
}

// readmeMain runs every block, each against a fresh mock whose tokens the
// blocks' email and token stand for (a Full Access token: the blocks
// declare the role they mean with WithRole).
const readmeMain = `func main() {
	for i, block := range blocks {
		srv := mock.NewServer()
		email, token := srv.Credentials(librato.RoleFullAccess)
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		block(ctx, email, token, "web-1", librato.WithBaseURL(srv.URL()))
		cancel()
		srv.Close()
		fmt.Printf("README.md:%d ok\n", lines[i])
	}
}
`

// TestREADMEShellBlocksRun runs the README's shell blocks marked to run,
// in order, in one bash script from a directory that looks like a fresh
// clone (this checkout's files, its directories linked), with curl on the
// PATH.
func TestREADMEShellBlocksRun(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and starts librato-mock: not with -short")
	}
	bash, err := exec.LookPath("bash")
	if err != nil {
		t.Skip("no bash on this machine")
	}
	if _, err := exec.LookPath("curl"); err != nil {
		t.Skip("no curl on this machine; the README's shell walkthrough needs it")
	}
	var script strings.Builder
	script.WriteString("set -euo pipefail\n")
	var checks []readmeBlock
	blocks := readmeBlocks(t)
	for i, b := range blocks {
		if b.directive != "run" || b.lang != "sh" {
			continue
		}
		fmt.Fprintf(&script, "echo '--- README.md:%d'\n%s", b.line, b.text)
		if i+1 < len(blocks) && blocks[i+1].directive == "output" {
			checks = append(checks, blocks[i+1])
		}
	}
	require.Contains(t, script.String(), "librato-mock", "no shell block to run")

	repo, err := filepath.Abs(".")
	require.NoError(t, err)
	dir := t.TempDir()
	entries, err := os.ReadDir(repo)
	require.NoError(t, err)
	for _, e := range entries {
		src, dst := filepath.Join(repo, e.Name()), filepath.Join(dir, e.Name())
		switch {
		case strings.HasPrefix(e.Name(), "."):
		case e.IsDir():
			require.NoError(t, os.Symlink(src, dst))
		default: // files are copied: go:embed refuses a symlink
			raw, err := os.ReadFile(src)
			require.NoError(t, err)
			require.NoError(t, os.WriteFile(dst, raw, 0o644))
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, bash, "-c", script.String())
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "PATH="+filepath.Join(runtime.GOROOT(), "bin")+string(os.PathListSeparator)+os.Getenv("PATH"), "GOFLAGS=-mod=mod", "GOPROXY=off")
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "the README's shell blocks:\n%s\n%s", script.String(), out)
	for _, c := range checks {
		for _, want := range strings.Split(strings.TrimSpace(c.text), "\n") {
			if want = strings.TrimSpace(strings.TrimPrefix(want, "#")); want != "" && !strings.Contains(want, "...") {
				require.Contains(t, string(out), want, "README.md:%d: the output the README shows", c.line)
			}
		}
	}
}
