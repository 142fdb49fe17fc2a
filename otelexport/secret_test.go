package otelexport_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"fmt"
	"log/slog"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	librato "github.com/librato-sdk/librato-go"
	"github.com/librato-sdk/librato-go/otelexport"
)

type captureT struct{ out strings.Builder }

func (c *captureT) Errorf(format string, args ...any) { fmt.Fprintf(&c.out, format, args...) }

// TestExporterNeverPrintsTheToken prints an exporter (and a copy of it)
// through every fmt verb, a failing testify assertion's diff, which walks
// values by reflection into the client it holds, and slog, and finds no
// piece of the token.
func TestExporterNeverPrintsTheToken(t *testing.T) {
	const tok = "otel-S3cret-token-0123456789"
	newExp := func(token string) *otelexport.Exporter {
		c, err := librato.NewClient("ops@example.com", token, librato.WithBaseURL("http://127.0.0.1:1"), librato.WithRole(librato.RoleRecordOnly))
		require.NoError(t, err)
		exp, err := otelexport.New(c)
		require.NoError(t, err)
		t.Cleanup(func() {
			ctx, cancel := context.WithCancel(context.Background())
			cancel()
			_ = exp.Shutdown(ctx)
		})
		return exp
	}
	a, b := newExp(tok), newExp(tok+"X")
	var texts []string
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%X", "%t", "%d", "%f", "%e", "%g", "%c", "%U", "%T"} {
		texts = append(texts, fmt.Sprintf(verb, a))
	}
	ct := &captureT{}
	assert.Equal(ct, a, b)
	texts = append(texts, ct.out.String())
	var buf bytes.Buffer
	slog.New(slog.NewJSONHandler(&buf, nil)).Info("x", "exporter", a)
	texts = append(texts, buf.String())
	needles := []string{base64.StdEncoding.EncodeToString([]byte("ops@example.com:" + tok)), base64.StdEncoding.EncodeToString([]byte(tok))}
	for i := 0; i+12 <= len(tok); i++ {
		needles = append(needles, tok[i:i+12])
	}
	for _, text := range texts {
		for _, n := range needles {
			if strings.Contains(text, n) {
				t.Fatalf("the exporter's rendering leaks %q: %s", n, text)
			}
		}
	}
}
