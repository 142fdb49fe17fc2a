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

// TestProgram builds the example as a user would (go build ./examples/otel)
// and runs it against its in-process mock, in the manner of the module's
// TestExamplePrograms: it must exit 0 and print what it promises.
func TestProgram(t *testing.T) {
	goCmd, err := exec.LookPath("go")
	require.NoError(t, err, "the go command, on PATH, is needed to build the example")
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "LIBRATO_") {
			env = append(env, kv)
		}
	}
	bin := filepath.Join(t.TempDir(), "otel")
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	build := exec.CommandContext(ctx, goCmd, "build", "-o", bin, "./examples/otel")
	build.Dir = filepath.Join("..", "..")
	build.Env = env
	out, err := build.CombinedOutput()
	require.NoError(t, err, "go build ./examples/otel:\n%s", out)

	runCtx, cancelRun := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancelRun()
	cmd := exec.CommandContext(runCtx, bin, "-duration", "2s", "-interval", "1s")
	cmd.Env = env
	cmd.Dir = t.TempDir()
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err = cmd.Run()
	if runCtx.Err() != nil {
		err = errors.Join(err, runCtx.Err())
	}
	require.NoError(t, err, "stdout:\n%s\nstderr:\n%s", stdout.String(), stderr.String())
	s := stdout.String()
	assert.Contains(t, s, "mock: Librato API serving at http://127.0.0.1:")
	assert.Regexp(t, `batcher: sent=[1-9]\d* failed=0 invalid=0`, s)
	assert.Regexp(t, `mock recorded (\d+) measurement\(s\); batcher sent (\d+)`, s)
	assert.Regexp(t, `check: shop.requests delivered equals the [1-9]\d* request\(s\) made, per route and status`, s)
	assert.Regexp(t, `delivered shop.request.duration .*http.route=/cart .*: \d+ summary\(ies\), [1-9]\d* request\(s\)`, s)
}
