package main

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The command is built once and run as a user runs it, on the analyzer's
// fixtures: a module of their own that replaces the SDK with this
// checkout.
func TestCommand(t *testing.T) {
	goBin, err := exec.LookPath("go")
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(t.Context(), 4*time.Minute)
	defer cancel()
	bin := filepath.Join(t.TempDir(), "librato-vet")
	build := exec.CommandContext(ctx, goBin, "build", "-o", bin, ".")
	out, err := build.CombinedOutput()
	require.NoError(t, err, "%s", out)
	fixtures, err := filepath.Abs(filepath.Join("..", "..", "rolecheck", "testdata"))
	require.NoError(t, err)

	run := func(t *testing.T, name string, args ...string) (stdout, stderr string, code int) {
		t.Helper()
		cmd := exec.CommandContext(ctx, name, args...)
		cmd.Dir = fixtures
		cmd.Env = append(os.Environ(), "GOFLAGS=-mod=mod", "GOPROXY=off", "GOWORK=off")
		var o, e bytes.Buffer
		cmd.Stdout, cmd.Stderr = &o, &e
		err := cmd.Run()
		var exit *exec.ExitError
		if errors.As(err, &exit) {
			code = exit.ExitCode()
		} else {
			require.NoError(t, err)
		}
		return o.String(), e.String(), code
	}
	const refused = "declare/declare.go:22:2: Spaces.Create (POST /v1/spaces) is not allowed for a View Only token (role viewer); allowed: admin (Full Access)\n"

	t.Run("standalone", func(t *testing.T) {
		_, stderr, code := run(t, bin, "-v", "./declare")
		assert.Equal(t, 3, code, "singlechecker's status for diagnostics")
		assert.Contains(t, stderr, refused)
		assert.Regexp(t, `declare\.go:\d+:\d+: Spaces\.Create \(POST /v1/spaces\): no declared role: c is a parameter\n`, stderr, "-v notes every call")
		assert.NotContains(t, stderr, "declare.go:32:2: Client.Do (unknown: Client.Do with a path built at run time) is not allowed", "Do with a path built at run time: only under -strict")

		_, stderr, code = run(t, bin, "-strict", "./declare")
		assert.Equal(t, 3, code)
		assert.Contains(t, stderr, "declare/declare.go:32:2: Client.Do (unknown: Client.Do with a path built at run time) is not allowed for a View Only token (role viewer) under a strict guard")
	})

	t.Run("go vet -vettool", func(t *testing.T) {
		_, stderr, code := run(t, goBin, "vet", "-vettool="+bin, "./declare")
		assert.NotZero(t, code)
		assert.Contains(t, stderr, refused)
	})

	t.Run("-least", func(t *testing.T) {
		stdout, stderr, code := run(t, bin, "-least", "-v", "./least", "./usehelper")
		require.Zero(t, code, stderr)
		var heads []string
		for _, l := range strings.Split(stdout, "\n") {
			if !strings.HasPrefix(l, "  ") {
				heads = append(heads, l)
			}
		}
		assert.Equal(t, []string{
			"least role for example.com/fixtures/least: viewer (4 calls)",
			"least role for example.com/fixtures/usehelper: admin (8 calls)",
			"",
		}, heads)
		assert.Contains(t, stdout, "\n  1 of them cannot be classified and are not in the least role (a strict guard lets only admin make them)\n")
		assert.Contains(t, stdout, "\n  least/least.go:13:2: Spaces.List (GET /v1/spaces)\n")
		assert.Regexp(t, `\n  least/least\.go:17:2: Client\.DetectRole \(unknown: Client\.DetectRole: .+\)\n`, stdout)
		assert.Contains(t, stdout, "\n  helper/helper.go:14:13: Spaces.Create (POST /v1/spaces)\n", "the calls of an imported package of the module")

		_, stderr, code = run(t, bin, "-least")
		assert.Equal(t, 2, code)
		assert.Contains(t, stderr, "usage: librato-vet -least")
	})
}
