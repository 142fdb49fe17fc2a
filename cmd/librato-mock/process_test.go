package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	librato "github.com/librato-sdk/librato-go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// These tests run librato-mock as a program, as a script or another
// language's test suite would, and talk to it over HTTP only.

// buildMock compiles the program into a temporary directory.
func buildMock(t *testing.T) string {
	t.Helper()
	// go test puts its own GOROOT/bin first on the PATH of the tests it
	// runs, so this is the toolchain running the test.
	gobin, err := exec.LookPath("go")
	require.NoError(t, err, "no go command on the PATH")
	bin := filepath.Join(t.TempDir(), "librato-mock")
	out, err := exec.Command(gobin, "build", "-o", bin, ".").CombinedOutput()
	require.NoError(t, err, "go build: %s", out)
	return bin
}

// lockedBuffer collects a process's output while it runs.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// mockProc is a running librato-mock.
type mockProc struct {
	cmd    *exec.Cmd
	vars   map[string]string
	stdout *lockedBuffer
	stderr *lockedBuffer
	done   chan error
}

// startMock starts the program and waits until it serves.
func startMock(t *testing.T, bin string, args ...string) *mockProc {
	t.Helper()
	p := &mockProc{cmd: exec.Command(bin, args...), vars: map[string]string{},
		stdout: &lockedBuffer{}, stderr: &lockedBuffer{}, done: make(chan error, 1)}
	p.cmd.Stderr = p.stderr
	out, err := p.cmd.StdoutPipe()
	require.NoError(t, err)
	require.NoError(t, p.cmd.Start())
	t.Cleanup(func() {
		select {
		case <-p.done:
		default:
			_ = p.cmd.Process.Kill()
			<-p.done
		}
	})
	serving := make(chan struct{})
	go func() {
		sc := bufio.NewScanner(out)
		signalled := false
		for sc.Scan() {
			line := sc.Text()
			_, _ = p.stdout.Write([]byte(line + "\n"))
			if !signalled && strings.HasPrefix(line, "# librato-mock is serving") {
				signalled = true
				close(serving)
			}
		}
		p.done <- p.cmd.Wait()
	}()
	select {
	case <-serving:
	case <-time.After(30 * time.Second):
		t.Fatalf("librato-mock did not start; stdout:\n%s\nstderr:\n%s", p.stdout, p.stderr)
	}
	for _, line := range strings.Split(p.stdout.String(), "\n") {
		if k, v, ok := strings.Cut(line, "="); ok && !strings.HasPrefix(line, "#") {
			p.vars[k] = v
		}
	}
	return p
}

// wait waits for the program to exit.
func (p *mockProc) wait(t *testing.T) error {
	t.Helper()
	select {
	case err := <-p.done:
		p.done <- err
		return err
	case <-time.After(15 * time.Second):
		t.Fatal("librato-mock did not exit")
		return nil
	}
}

func TestProgramStopsCleanlyOnSignals(t *testing.T) {
	bin := buildMock(t)
	for _, sig := range []os.Signal{syscall.SIGTERM, os.Interrupt} {
		t.Run(sig.String(), func(t *testing.T) {
			envFile := filepath.Join(t.TempDir(), "mock.env")
			require.NoError(t, os.WriteFile(envFile, []byte("export LIBRATO_MOCK_URL=stale\n"), 0o600))
			p := startMock(t, bin, "-addr", "127.0.0.1:0", "-env", envFile)

			u, err := url.Parse(p.vars["LIBRATO_MOCK_URL"])
			require.NoError(t, err)
			_, port, err := net.SplitHostPort(u.Host)
			require.NoError(t, err)
			assert.NotEqual(t, "0", port, "the real port is printed")

			// The env file holds every variable, quoted for a shell, and
			// only the owner may read it.
			data, err := os.ReadFile(envFile)
			require.NoError(t, err)
			info, err := os.Stat(envFile)
			require.NoError(t, err)
			assert.Equal(t, os.FileMode(0o600), info.Mode().Perm())
			for _, k := range []string{"LIBRATO_MOCK_URL", "LIBRATO_MOCK_EMAIL", "LIBRATO_MOCK_TOKEN_ADMIN",
				"LIBRATO_MOCK_TOKEN_RECORDER", "LIBRATO_MOCK_TOKEN_VIEWER", "LIBRATO_MOCK_CONTROL_TOKEN"} {
				require.NotEmpty(t, p.vars[k], k)
				assert.Contains(t, string(data), "export "+k+"='"+p.vars[k]+"'\n")
			}
			sh, err := exec.LookPath("sh")
			require.NoError(t, err)
			out, err := exec.Command(sh, "-c", `. "$1" && printf %s "$LIBRATO_MOCK_CONTROL_TOKEN"`, "sh", envFile).Output()
			require.NoError(t, err)
			assert.Equal(t, p.vars["LIBRATO_MOCK_CONTROL_TOKEN"], string(out), "the file sources")

			res, err := http.Get(p.vars["LIBRATO_MOCK_URL"] + "/v1/metrics")
			require.NoError(t, err)
			res.Body.Close()
			assert.Equal(t, 401, res.StatusCode)

			require.NoError(t, p.cmd.Process.Signal(sig))
			require.NoError(t, p.wait(t), "exit status 0; stderr: %s", p.stderr)
			assert.Equal(t, 0, p.cmd.ProcessState.ExitCode())
			assert.Contains(t, p.stdout.String(), "# librato-mock stopped")
			_, err = os.Stat(envFile)
			assert.ErrorIs(t, err, os.ErrNotExist, "the env file goes with the process")

			ln, err := net.Listen("tcp", u.Host)
			require.NoError(t, err, "the port is released")
			ln.Close()
		})
	}
}

// ctl sends a control-plane request and returns the status and body.
func ctl(t *testing.T, hc *http.Client, p *mockProc, method, path string, body any) (int, []byte) {
	t.Helper()
	var rd io.Reader
	if body != nil {
		data, err := json.Marshal(body)
		require.NoError(t, err)
		rd = bytes.NewReader(data)
	}
	req, err := http.NewRequest(method, p.vars["LIBRATO_MOCK_URL"]+path, rd)
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+p.vars["LIBRATO_MOCK_CONTROL_TOKEN"])
	res, err := hc.Do(req)
	require.NoError(t, err)
	defer res.Body.Close()
	data, err := io.ReadAll(res.Body)
	require.NoError(t, err)
	return res.StatusCode, data
}

func TestProgramBlackBox(t *testing.T) {
	p := startMock(t, buildMock(t), "-addr", "127.0.0.1:0", "-log")
	base, email, recorder := p.vars["LIBRATO_MOCK_URL"], p.vars["LIBRATO_MOCK_EMAIL"], p.vars["LIBRATO_MOCK_TOKEN_RECORDER"]
	secrets := []string{p.vars["LIBRATO_MOCK_TOKEN_ADMIN"], recorder, p.vars["LIBRATO_MOCK_TOKEN_VIEWER"], p.vars["LIBRATO_MOCK_CONTROL_TOKEN"]}
	for _, s := range secrets {
		require.Len(t, s, 64)
	}
	tr := &http.Transport{}
	defer tr.CloseIdleConnections()
	hc := &http.Client{Transport: tr, Timeout: 10 * time.Second}
	var answers []string // every control-plane answer and the refusals, checked for tokens at the end

	// The next two measurement submissions fail with 503.
	st, body := ctl(t, hc, p, "POST", "/mock/faults", map[string]any{"count": 2, "status": 503, "method": "POST", "endpoint": "/v1/measurements"})
	require.Equal(t, 204, st, "%s", body)

	// Submit through the SDK with the printed credentials; it retries.
	c, err := librato.NewClient(email, recorder, librato.WithBaseURL(base), librato.WithRole(librato.RoleRecordOnly),
		librato.WithHTTPClient(&http.Client{Transport: tr}))
	require.NoError(t, err)
	now := time.Now().Unix()
	_, err = c.Measurements.Create(context.Background(), &librato.MeasurementBatch{
		Tags: map[string]string{"host": "web1"},
		Measurements: []librato.Measurement{
			{Name: "bb.cpu", Value: 41, Time: now - 60},
			{Name: "bb.cpu", Value: 42, Time: now},
			{Name: "bb.mem", Value: 7, Time: now},
		},
	})
	require.NoError(t, err)

	// What was recorded, filtered by metric and tag.
	st, body = ctl(t, hc, p, "GET", "/mock/recorded?metric=bb.cpu&tags[host]=web1", nil)
	require.Equal(t, 200, st, "%s", body)
	answers = append(answers, string(body))
	var rec struct {
		Measurements []struct {
			Name  string            `json:"name"`
			Value float64           `json:"value"`
			Time  int64             `json:"time"`
			Tags  map[string]string `json:"tags"`
		} `json:"measurements"`
	}
	require.NoError(t, json.Unmarshal(body, &rec))
	require.Len(t, rec.Measurements, 2)
	assert.Equal(t, 41.0, rec.Measurements[0].Value)
	assert.Equal(t, now-60, rec.Measurements[0].Time)
	assert.Equal(t, 42.0, rec.Measurements[1].Value)
	assert.Equal(t, map[string]string{"host": "web1"}, rec.Measurements[1].Tags)

	// The journal shows the two injected 503s, then the retry that passed.
	st, body = ctl(t, hc, p, "GET", "/mock/journal", nil)
	require.Equal(t, 200, st, "%s", body)
	answers = append(answers, string(body))
	var journal struct {
		Requests []struct {
			Method     string   `json:"method"`
			Path       string   `json:"path"`
			Endpoint   string   `json:"endpoint"`
			Status     int      `json:"status"`
			TokenName  string   `json:"token_name"`
			Role       string   `json:"role"`
			DurationMS *float64 `json:"duration_ms"`
			Error      string   `json:"error"`
			Injected   bool     `json:"injected"`
		} `json:"requests"`
	}
	require.NoError(t, json.Unmarshal(body, &journal))
	require.Len(t, journal.Requests, 3, "%s", body)
	for i, r := range journal.Requests {
		assert.Equal(t, "POST", r.Method)
		assert.Equal(t, "/v1/measurements", r.Path)
		assert.Equal(t, "/v1/measurements", r.Endpoint)
		assert.Equal(t, "recorder", r.Role)
		assert.NotEmpty(t, r.TokenName)
		assert.Equal(t, journal.Requests[0].TokenName, r.TokenName, "the same token each time")
		require.NotNil(t, r.DurationMS)
		if i < 2 {
			assert.Equal(t, 503, r.Status)
			assert.True(t, r.Injected)
			assert.Contains(t, r.Error, `"system"`)
		} else {
			assert.Equal(t, 202, r.Status)
			assert.False(t, r.Injected)
			assert.Empty(t, r.Error)
		}
	}

	// The least privilege the token needed.
	st, body = ctl(t, hc, p, "GET", "/mock/usage", nil)
	require.Equal(t, 200, st, "%s", body)
	answers = append(answers, string(body))
	var usage struct {
		Tokens []struct {
			TokenName   string `json:"token_name"`
			Role        string `json:"role"`
			MinimalRole string `json:"minimal_role"`
			Endpoints   []struct {
				Method   string `json:"method"`
				Endpoint string `json:"endpoint"`
				Calls    int    `json:"calls"`
			} `json:"endpoints"`
		} `json:"tokens"`
	}
	require.NoError(t, json.Unmarshal(body, &usage))
	require.Len(t, usage.Tokens, 1, "%s", body)
	u := usage.Tokens[0]
	assert.Equal(t, journal.Requests[0].TokenName, u.TokenName)
	assert.Equal(t, "recorder", u.Role)
	assert.Equal(t, "recorder", u.MinimalRole)
	require.Len(t, u.Endpoints, 1)
	assert.Equal(t, "POST", u.Endpoints[0].Method)
	assert.Equal(t, "/v1/measurements", u.Endpoints[0].Endpoint)
	assert.Equal(t, 1, u.Endpoints[0].Calls, "injected failures never reached the endpoint")

	// The two planes keep to their own credentials.
	req, _ := http.NewRequest("GET", base+"/mock/journal", nil)
	req.SetBasicAuth(email, p.vars["LIBRATO_MOCK_TOKEN_ADMIN"])
	res, err := hc.Do(req)
	require.NoError(t, err)
	data, _ := io.ReadAll(res.Body)
	res.Body.Close()
	assert.Equal(t, 401, res.StatusCode)
	answers = append(answers, string(data))
	req, _ = http.NewRequest("GET", base+"/v1/metrics", nil)
	req.Header.Set("Authorization", "Bearer "+p.vars["LIBRATO_MOCK_CONTROL_TOKEN"])
	res, err = hc.Do(req)
	require.NoError(t, err)
	data, _ = io.ReadAll(res.Body)
	res.Body.Close()
	assert.Equal(t, 401, res.StatusCode)
	answers = append(answers, string(data)) // the 401 must not echo the control token

	// The -log lines: one per API request, none for the control plane.
	waitLines := func() []string {
		deadline := time.Now().Add(5 * time.Second)
		for {
			var lines []string
			for _, l := range strings.Split(strings.TrimSpace(p.stderr.String()), "\n") {
				if strings.Contains(l, "librato-mock request") {
					lines = append(lines, l)
				}
			}
			if len(lines) >= 4 || time.Now().After(deadline) {
				return lines
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	lines := waitLines()
	require.Len(t, lines, 4, "three submissions and the bearer-token /v1 call:\n%s", p.stderr)
	assert.Contains(t, lines[0], "status=503")
	assert.Contains(t, lines[2], "status=202")
	assert.Contains(t, lines[3], "status=401")

	st, body = ctl(t, hc, p, "GET", "/mock/journal", nil)
	require.Equal(t, 200, st)
	answers = append(answers, string(body))
	for _, secret := range secrets {
		for _, a := range answers {
			assert.NotContains(t, a, secret, "an answer holds a token")
		}
		assert.NotContains(t, p.stderr.String(), secret, "the log holds a token")
	}

	require.NoError(t, p.cmd.Process.Signal(syscall.SIGTERM))
	require.NoError(t, p.wait(t))
}
