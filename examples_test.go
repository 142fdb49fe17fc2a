package librato_test

import (
	"bytes"
	"context"
	"encoding/xml"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// exampleEnv is the environment the example programs run with: the test's
// own, minus every LIBRATO_ variable, so they always use the in-process
// mock and never reach a real account.
func exampleEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "LIBRATO_") {
			env = append(env, kv)
		}
	}
	return env
}

// goTool finds the go command that runs this test.
func goTool(t *testing.T) string {
	t.Helper()
	p, err := exec.LookPath("go")
	require.NoError(t, err, "the go command, on PATH, is needed to build the example programs")
	return p
}

// runExample runs a built example program with args, as a user would from
// a shell, and returns its stdout and stderr.
func runExample(t *testing.T, bin string, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Env = exampleEnv()
	cmd.Dir = t.TempDir()
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err = cmd.Run()
	if ctx.Err() != nil {
		err = errors.Join(err, ctx.Err())
	}
	return out.String(), errOut.String(), err
}

// TestExamplePrograms builds every program under examples/ once and runs
// each against its in-process mock, checking that it exits 0 and prints
// what it promises.
func TestExamplePrograms(t *testing.T) {
	bin := t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	build := exec.CommandContext(ctx, goTool(t), "build", "-o", bin+string(filepath.Separator),
		"./examples/quickstart", "./examples/collector", "./examples/dashboard", "./examples/provision", "./examples/otel")
	build.Env = exampleEnv()
	out, err := build.CombinedOutput()
	require.NoError(t, err, "go build of the examples:\n%s", out)
	program := func(name string) string { return filepath.Join(bin, name) }

	t.Run("-h", func(t *testing.T) {
		for _, name := range []string{"quickstart", "collector", "dashboard", "provision", "otel"} {
			stdout, stderr, err := runExample(t, program(name), "-h")
			require.NoError(t, err, "%s -h exits 0; stderr:\n%s", name, stderr)
			assert.Contains(t, stdout, "Usage of "+name, "%s -h prints its flags", name)
		}
	})

	t.Run("quickstart", func(t *testing.T) {
		t.Parallel()
		stdout, stderr, err := runExample(t, program("quickstart"))
		require.NoError(t, err, "stdout:\n%s\nstderr:\n%s", stdout, stderr)
		assert.Contains(t, stdout, "submit: Record Only client sent 9 measurements (accepted 9, failed 0)")
		assert.Regexp(t, `read: quickstart\.cpu host=web-1 at 60s resolution: 1 series, 3 points`, stdout)
		assert.Contains(t, stdout, `create space: Full Access client created space "Quickstart"`)
		assert.Contains(t, stdout, "list spaces: View Only client sees 1 space(s)")
		assert.Contains(t, stdout, "refused before sending: librato: a View Only token (role viewer) may not call POST /v1/spaces")
		m := regexp.MustCompile(`requests received by the mock: (\d+) before, (\d+) after`).FindStringSubmatch(stdout)
		require.NotNil(t, m, stdout)
		assert.Equal(t, m[1], m[2], "the refused call reached the mock")
		assert.Contains(t, stdout, `issued token "quickstart-dashboard" with role viewer (View Only)`)
		assert.Regexp(t, `(?m)^done$`, stdout)
	})

	t.Run("collector", func(t *testing.T) {
		t.Parallel()
		stdout, stderr, err := runExample(t, program("collector"), "-duration", "2s", "-interval", "1s")
		require.NoError(t, err, "stdout:\n%s\nstderr:\n%s", stdout, stderr)
		m := regexp.MustCompile(`stats: added=(\d+) sent=(\d+) failed=(\d+) dropped=(\d+) invalid=(\d+) retried=(\d+) batches=(\d+)`).FindStringSubmatch(stdout)
		require.NotNil(t, m, stdout)
		added, sent := atoi(t, m[1]), atoi(t, m[2])
		assert.Positive(t, sent, "nothing was sent")
		assert.Equal(t, added, sent, "added and sent differ")
		assert.Equal(t, "0", m[3], "failed")
		assert.Equal(t, "0", m[4], "dropped")
		assert.Contains(t, stdout, "mock recorded "+m[2]+" measurements; batcher sent "+m[2])
		assert.Contains(t, stdout, "sample 1: ")
	})

	t.Run("dashboard", func(t *testing.T) {
		t.Parallel()
		page := filepath.Join(t.TempDir(), "production.html")
		stdout, stderr, err := runExample(t, program("dashboard"), "-out", page)
		require.NoError(t, err, "stdout:\n%s\nstderr:\n%s", stdout, stderr)
		m := regexp.MustCompile(`read space "Production" \(id \d+\) with (\d+) charts`).FindStringSubmatch(stdout)
		require.NotNil(t, m, stdout)
		charts := atoi(t, m[1])
		assert.Equal(t, 3, charts, "the seeded space has three charts")
		assert.Contains(t, stdout, "wrote "+page)
		assert.Contains(t, stdout, "refused before sending: librato: a View Only token (role viewer) may not call PUT /v1/spaces/:id/charts/:chart_id")

		raw, err := os.ReadFile(page)
		require.NoError(t, err)
		html := string(raw)
		assert.True(t, strings.HasPrefix(html, "<!DOCTYPE html>"), "not an HTML page")
		assert.Contains(t, html, "</html>")
		assert.Equal(t, charts, strings.Count(html, "<svg"), "one <svg per chart")
		svgs := regexp.MustCompile(`(?s)<svg\b.*?</svg>`).FindAllString(html, -1)
		require.Len(t, svgs, charts)
		for i, svg := range svgs {
			elems := xmlElements(t, svg)
			assert.Equal(t, "svg", elems[0], "chart %d", i)
			assert.Contains(t, elems, "polyline", "chart %d draws no series", i)
			assert.Contains(t, elems, "title", "chart %d has no title", i)
		}
		// Chart names are escaped, not injected into the markup.
		assert.Contains(t, html, "Latency &lt;web-1 &amp; web-2&gt;")
	})

	t.Run("provision", func(t *testing.T) {
		t.Parallel()
		stdout, stderr, err := runExample(t, program("provision"))
		require.NoError(t, err, "stdout:\n%s\nstderr:\n%s", stdout, stderr)
		found := regexp.MustCompile(`detect: token "[^"]+" declared=(\S+) .*detected=(\S+) `).FindAllStringSubmatch(stdout, -1)
		require.Len(t, found, 3, stdout)
		var declared []string
		for _, m := range found {
			assert.Equal(t, m[1], m[2], "declared and detected roles differ")
			declared = append(declared, m[1])
		}
		assert.ElementsMatch(t, []string{"admin", "recorder", "viewer"}, declared)
		assert.Equal(t, 3, strings.Count(stdout, "now gets 401"), stdout)
		assert.NotRegexp(t, `[0-9a-f]{64}`, stdout, "a token's secret was printed")
	})

	t.Run("otel", func(t *testing.T) {
		t.Parallel()
		stdout, stderr, err := runExample(t, program("otel"))
		require.NoError(t, err, "stdout:\n%s\nstderr:\n%s", stdout, stderr)
		m := regexp.MustCompile(`mock recorded (\d+) measurement\(s\); batcher sent (\d+)`).FindStringSubmatch(stdout)
		require.NotNil(t, m, stdout)
		assert.Equal(t, m[1], m[2], "the mock recorded something else than the exporter sent")
		assert.Positive(t, atoi(t, m[1]))
		assert.Contains(t, stdout, "shutdown: everything exported was delivered")
		assert.Regexp(t, `check: shop\.requests delivered equals the \d+ request\(s\) made`, stdout)
		for _, series := range []string{"shop.requests", "shop.in_flight", "shop.request.duration", "shop.queue.length"} {
			assert.Contains(t, stdout, "delivered "+series+" ", "no %s delivered", series)
		}
	})

	t.Run("half-configured environment", func(t *testing.T) {
		t.Parallel()
		// Only one of the three variables: the program must refuse, not
		// fall back to the mock or reach for a real account.
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		cmd := exec.CommandContext(ctx, program("quickstart"))
		cmd.Env = append(exampleEnv(), "LIBRATO_EMAIL=someone@example.com")
		var stderr bytes.Buffer
		cmd.Stderr, cmd.Stdout = &stderr, io.Discard
		err := cmd.Run()
		var exit *exec.ExitError
		require.ErrorAs(t, err, &exit)
		assert.NotZero(t, exit.ExitCode())
		assert.Contains(t, stderr.String(), "set all of LIBRATO_EMAIL, LIBRATO_TOKEN and LIBRATO_ROLE")
	})
}

// xmlElements checks that fragment is well-formed XML and returns the names
// of its elements in document order.
func xmlElements(t *testing.T, fragment string) []string {
	t.Helper()
	d := xml.NewDecoder(strings.NewReader(fragment))
	d.Strict = true
	var names []string
	for {
		tok, err := d.Token()
		if err == io.EOF {
			break
		}
		require.NoError(t, err, "malformed SVG:\n%s", fragment)
		if se, ok := tok.(xml.StartElement); ok {
			names = append(names, se.Name.Local)
		}
	}
	require.NotEmpty(t, names)
	return names
}

func atoi(t *testing.T, s string) int {
	t.Helper()
	n, err := strconv.Atoi(s)
	require.NoError(t, err)
	return n
}
