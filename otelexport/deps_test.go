package otelexport_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const module = "github.com/librato-sdk/librato-go"

// listed is the part of `go list -json` output the checks read.
type listed struct {
	ImportPath string
	Standard   bool
	Module     *struct{ Path string }
	Imports    []string
}

// goList runs `go list -deps -json` on patterns from the module root and
// decodes the stream of packages it prints.
func goList(t *testing.T, patterns ...string) []listed {
	t.Helper()
	goCmd, err := exec.LookPath("go")
	require.NoError(t, err, "the go command, on PATH, is needed to list the module's imports")
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, goCmd, append([]string{"list", "-deps", "-json"}, patterns...)...)
	cmd.Dir = ".."
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	require.NoError(t, err, "go list: %s", stderr.String())
	var pkgs []listed
	dec := json.NewDecoder(bytes.NewReader(out))
	for {
		var p listed
		if err := dec.Decode(&p); errors.Is(err, io.EOF) {
			break
		} else {
			require.NoError(t, err)
		}
		pkgs = append(pkgs, p)
	}
	require.NotEmpty(t, pkgs)
	return pkgs
}

// TestRootPackageDependencies: the librato package builds from the
// standard library alone (its own internal packages aside), so users of the
// client never pull in OpenTelemetry or golang.org/x/tools.
func TestRootPackageDependencies(t *testing.T) {
	allowed := map[string]bool{module: true}
	var outside []string
	seen := map[string]bool{}
	for _, p := range goList(t, ".") {
		seen[p.ImportPath] = true
		if p.Standard {
			continue
		}
		if p.Module == nil || !allowed[p.Module.Path] {
			outside = append(outside, p.ImportPath)
		}
	}
	assert.Empty(t, outside, "packages the root package depends on beyond the standard library")
	assert.True(t, seen[module], "go list did not list the root package")
	assert.True(t, seen[module+"/internal/endpoints"], "go list did not list the root's internal packages: the check saw nothing")
}

// TestOnlyOtelexportImportsOpenTelemetry: no package of the module but
// otelexport (and the example built on it) imports OpenTelemetry directly.
func TestOnlyOtelexportImportsOpenTelemetry(t *testing.T) {
	mayImport := map[string]bool{module + "/otelexport": true, module + "/examples/otel": true}
	sawOtelexport := false
	for _, p := range goList(t, "./...") {
		if p.Module == nil || p.Module.Path != module {
			continue
		}
		if p.ImportPath == module+"/otelexport" {
			sawOtelexport = true
		}
		if mayImport[p.ImportPath] {
			continue
		}
		for _, imp := range p.Imports {
			assert.False(t, strings.HasPrefix(imp, "go.opentelemetry.io/"), "%s imports %s", p.ImportPath, imp)
		}
	}
	assert.True(t, sawOtelexport, "go list did not list otelexport: the check saw nothing")
}
