package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// parseOutput reads the KEY=value lines run prints.
func parseOutput(out string) map[string]string {
	vars := map[string]string{}
	for _, line := range strings.Split(out, "\n") {
		if k, v, ok := strings.Cut(line, "="); ok && !strings.HasPrefix(line, "#") {
			vars[k] = v
		}
	}
	return vars
}

func TestRunWithCancelledContext(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	var out bytes.Buffer
	err := run(ctx, []string{"-addr", "127.0.0.1:0", "-seed", "testdata/seed.json", "-email", "ci@example.com"}, &out, io.Discard)
	require.NoError(t, err)
	vars := parseOutput(out.String())
	assert.Regexp(t, `^http://127\.0\.0\.1:\d+$`, vars["LIBRATO_MOCK_URL"])
	assert.Equal(t, "ci@example.com", vars["LIBRATO_MOCK_EMAIL"])
	for _, role := range []string{"ADMIN", "RECORDER", "VIEWER"} {
		assert.Regexp(t, `^[0-9a-f]{64}$`, vars["LIBRATO_MOCK_TOKEN_"+role])
	}
	assert.Regexp(t, `^[0-9a-f]{64}$`, vars["LIBRATO_MOCK_CONTROL_TOKEN"])
	assert.Contains(t, out.String(), "# librato-mock stopped")
}

func TestRunServesUntilCancelled(t *testing.T) {
	vars, stop := serve(t, "-seed", "testdata/seed.json")

	tr := &http.Transport{}
	defer tr.CloseIdleConnections()
	hc := &http.Client{Transport: tr, Timeout: 5 * time.Second}
	get := func(token, path string) *http.Response {
		req, err := http.NewRequest("GET", vars["LIBRATO_MOCK_URL"]+path, nil)
		require.NoError(t, err)
		req.SetBasicAuth(vars["LIBRATO_MOCK_EMAIL"], token)
		res, err := hc.Do(req)
		require.NoError(t, err)
		return res
	}
	res := get(vars["LIBRATO_MOCK_TOKEN_VIEWER"], "/v1/spaces")
	var spaces struct {
		Spaces []struct{ Name string } `json:"spaces"`
	}
	require.NoError(t, json.NewDecoder(res.Body).Decode(&spaces))
	res.Body.Close()
	require.Equal(t, 200, res.StatusCode)
	require.Len(t, spaces.Spaces, 1)
	assert.Equal(t, "Operations", spaces.Spaces[0].Name)

	// The seed's fixed token works too, and the composite metric answers.
	res = get(strings.Repeat("0", 58)+"c1c1c1", "/v1/measurements/cpu.load.web?duration=3600&resolution=60")
	res.Body.Close()
	assert.Equal(t, 200, res.StatusCode)
	res = get(vars["LIBRATO_MOCK_TOKEN_RECORDER"], "/v1/spaces")
	res.Body.Close()
	assert.Equal(t, 403, res.StatusCode)

	require.NoError(t, stop())
	_, err := hc.Get(vars["LIBRATO_MOCK_URL"] + "/v1/spaces")
	assert.Error(t, err, "the server is closed")
}

func TestRunErrors(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	for _, args := range [][]string{
		{"-nope"},
		{"-addr", "127.0.0.1:0", "extra"},
		{"-addr", "127.0.0.1:0", "-seed", "testdata/missing.json"},
		{"-addr", "127.0.0.1:0", "-email", ""},
		{"-addr", "127.0.0.1:0", "-job-steps", "-1"},
		{"-addr", "127.0.0.1:0", "-job-steps", "2", "-job-delay", "1s"},
		{"-addr", "127.0.0.1:0", "-job-delay", "-1s"},
		{"-addr", "127.0.0.1:0", "-journal-bytes", "-1"},
		{"-addr", "not an address"},
	} {
		var out bytes.Buffer
		assert.Error(t, run(ctx, args, &out, io.Discard), "%q", args)
	}
	var out bytes.Buffer
	err := run(ctx, []string{"-h"}, &out, io.Discard)
	assert.True(t, errors.Is(err, flag.ErrHelp))
	assert.Contains(t, out.String(), "-seed")
}

// serve runs the program with args on a free port and returns the
// variables it printed and a stop that ends it and returns run's error.
func serve(t *testing.T, args ...string) (map[string]string, func() error) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() {
		err := run(ctx, append([]string{"-addr", "127.0.0.1:0"}, args...), pw, io.Discard)
		pw.Close()
		done <- err
	}()
	vars := map[string]string{}
	sc := bufio.NewScanner(pr)
	for sc.Scan() {
		if k, v, ok := strings.Cut(sc.Text(), "="); ok {
			vars[k] = v
		}
		if strings.HasPrefix(sc.Text(), "# librato-mock is serving") {
			break
		}
	}
	go func() { _, _ = io.Copy(io.Discard, pr) }()
	require.NotEmpty(t, vars["LIBRATO_MOCK_URL"])
	return vars, func() error {
		cancel()
		select {
		case err := <-done:
			return err
		case <-time.After(5 * time.Second):
			return errors.New("run did not return after its context ended")
		}
	}
}

// serveFor is serve until the test ends.
func serveFor(t *testing.T, args ...string) map[string]string {
	t.Helper()
	vars, stop := serve(t, args...)
	t.Cleanup(func() { require.NoError(t, stop()) })
	return vars
}

// call sends a request with the control token (path under /mock/) or the
// recorder token, and returns the status and body.
func call(t *testing.T, vars map[string]string, method, path, body string, header ...string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(method, vars["LIBRATO_MOCK_URL"]+path, strings.NewReader(body))
	require.NoError(t, err)
	if strings.HasPrefix(path, "/mock/") {
		req.Header.Set("Authorization", "Bearer "+vars["LIBRATO_MOCK_CONTROL_TOKEN"])
	} else {
		req.SetBasicAuth(vars["LIBRATO_MOCK_EMAIL"], vars["LIBRATO_MOCK_TOKEN_RECORDER"])
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	res, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer res.Body.Close()
	data, err := io.ReadAll(res.Body)
	require.NoError(t, err)
	return res.StatusCode, string(data)
}

func TestRunFlags(t *testing.T) {
	vars := serveFor(t, "-job-delay", "250ms", "-gzip=false", "-journal-bytes", "0")
	st, body := call(t, vars, "GET", "/mock/jobs", "")
	require.Equal(t, 200, st, body)
	assert.JSONEq(t, `{"delay_ms":250,"steps":2}`, body)
	st, body = call(t, vars, "GET", "/mock/encodings", "")
	require.Equal(t, 200, st, body)
	assert.JSONEq(t, `{"gzip":false}`, body)
	st, body = call(t, vars, "POST", "/v1/measurements", "\x1f\x8b", "Content-Type", "application/json", "Content-Encoding", "gzip")
	assert.Equal(t, 415, st, body)
	st, body = call(t, vars, "GET", "/mock/journal", "")
	require.Equal(t, 200, st, body)
	assert.JSONEq(t, `{"requests":[]}`, body, "-journal-bytes 0 keeps none")

	vars = serveFor(t, "-job-steps", "3")
	st, body = call(t, vars, "GET", "/mock/jobs", "")
	require.Equal(t, 200, st, body)
	assert.JSONEq(t, `{"delay_ms":0,"steps":3}`, body, "-job-steps pins jobs to their reads")
}
