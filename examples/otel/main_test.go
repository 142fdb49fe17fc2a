package main

import (
	"bytes"
	"context"
	"regexp"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	librato "github.com/librato-sdk/librato-go"
	"github.com/librato-sdk/librato-go/mock"
)

// noRealAccount makes sure the program uses its in-process mock: an empty
// variable counts as unset.
func noRealAccount(t *testing.T) {
	for _, k := range []string{"LIBRATO_EMAIL", "LIBRATO_TOKEN", "LIBRATO_ROLE", "LIBRATO_URL"} {
		t.Setenv(k, "")
	}
}

// TestRun runs the program in-process (under -race too) against its mock:
// every request the load generator made is delivered as shop.requests, and
// each instrument kind reached the mock.
func TestRun(t *testing.T) {
	noRealAccount(t)
	var out bytes.Buffer
	require.NoError(t, run(context.Background(), &out, []string{"-duration", "2s", "-interval", "1s"}), out.String())
	s := out.String()
	assert.Contains(t, s, "shutdown: everything exported was delivered")
	assert.Regexp(t, `check: shop.requests delivered equals the [1-9]\d* request\(s\) made`, s)
	for _, name := range []string{"shop.requests", "shop.in_flight", "shop.request.duration", "shop.queue.length"} {
		assert.Contains(t, s, "delivered "+name+" ", name)
	}
	assert.Regexp(t, `exporter: exports=\d+ data_points=\d+ queued=\d+ not_queued=0 lost=0`, s)
	assert.Regexp(t, `batcher: sent=[1-9]\d* failed=0 invalid=0`, s)
}

// syncBuffer is a bytes.Buffer safe to read while run writes to it; it
// closes seen once the output holds want.
type syncBuffer struct {
	mu   sync.Mutex
	b    bytes.Buffer
	want string
	seen chan struct{}
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	n, err := s.b.Write(p)
	if s.seen != nil && bytes.Contains(s.b.Bytes(), []byte(s.want)) {
		close(s.seen)
		s.seen = nil
	}
	return n, err
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestRunStopsOnSignal cancels the context, as SIGINT does, long before
// the duration ends: the program still delivers everything.
func TestRunStopsOnSignal(t *testing.T) {
	noRealAccount(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	seen := make(chan struct{})
	out := &syncBuffer{want: "shop serving at", seen: seen}
	done := make(chan error, 1)
	go func() { done <- run(ctx, out, []string{"-duration", "1m", "-interval", "1s"}) }()
	select {
	case <-seen:
	case err := <-done:
		t.Fatalf("run ended before the signal: %v\n%s", err, out.String())
	case <-time.After(15 * time.Second):
		t.Fatalf("the shop did not start:\n%s", out.String())
	}
	time.Sleep(300 * time.Millisecond) // let the load generator make some requests
	cancel()
	select {
	case err := <-done:
		require.NoError(t, err, out.String())
	case <-time.After(15 * time.Second):
		t.Fatalf("run did not stop after cancellation:\n%s", out.String())
	}
	assert.Contains(t, out.String(), "stopping: signal received")
	assert.Contains(t, out.String(), "check: shop.requests delivered equals")
}

// TestRunWithAccount runs the real-account mode against a mock standing in
// for Librato: a Record Only token delivers the metrics and makes no call
// its role may not make.
func TestRunWithAccount(t *testing.T) {
	srv, err := mock.New()
	require.NoError(t, err)
	defer srv.Close()
	email, token := srv.Credentials(librato.RoleRecordOnly)
	t.Setenv("LIBRATO_EMAIL", email)
	t.Setenv("LIBRATO_TOKEN", token)
	t.Setenv("LIBRATO_ROLE", "recorder")
	t.Setenv("LIBRATO_URL", srv.URL())

	var out bytes.Buffer
	require.NoError(t, run(context.Background(), &out, []string{"-duration", "1s", "-interval", "1s"}), out.String())
	assert.Contains(t, out.String(), "real account ")
	m := regexp.MustCompile(`batcher: sent=(\d+) failed=0`).FindStringSubmatch(out.String())
	require.NotNil(t, m, out.String())
	sent, err := strconv.Atoi(m[1])
	require.NoError(t, err)
	assert.Positive(t, sent)
	assert.Equal(t, sent, srv.RecordedCount())
	role, ok := srv.MinimalRole(token)
	require.True(t, ok)
	assert.Equal(t, librato.RoleRecordOnly, role)
}

// TestRunRefusesViewOnly fails before serving: a View Only token may not
// submit measurements, and nothing is sent.
func TestRunRefusesViewOnly(t *testing.T) {
	srv, err := mock.New()
	require.NoError(t, err)
	defer srv.Close()
	email, token := srv.Credentials(librato.RoleViewOnly)
	t.Setenv("LIBRATO_EMAIL", email)
	t.Setenv("LIBRATO_TOKEN", token)
	t.Setenv("LIBRATO_ROLE", "viewer")
	t.Setenv("LIBRATO_URL", srv.URL())

	var out bytes.Buffer
	err = run(context.Background(), &out, []string{"-duration", "1s"})
	var refused *librato.ErrForbiddenForRole
	require.ErrorAs(t, err, &refused)
	assert.Zero(t, srv.Requests())
}

// TestRunRejectsFractionalInterval checks the flag before starting anything.
func TestRunRejectsFractionalInterval(t *testing.T) {
	noRealAccount(t)
	var out bytes.Buffer
	require.ErrorContains(t, run(context.Background(), &out, []string{"-interval", "500ms"}), "whole number of seconds")
}
