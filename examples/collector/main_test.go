package main

import (
	"bytes"
	"context"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	librato "github.com/librato-sdk/librato-go"
	"github.com/librato-sdk/librato-go/mock"
)

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

// TestRunStopsOnSignal cancels the context, as SIGINT does, long before the
// duration ends: the program must flush everything and exit cleanly.
func TestRunStopsOnSignal(t *testing.T) {
	noRealAccount(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	seen := make(chan struct{})
	out := &syncBuffer{want: "sample 2:", seen: seen}
	done := make(chan error, 1)
	go func() { done <- run(ctx, out, []string{"-duration", "1m", "-interval", "1s"}) }()
	select {
	case <-seen: // two samples taken: now "press Ctrl-C"
	case err := <-done:
		t.Fatalf("run ended before the signal: %v\n%s", err, out.String())
	case <-time.After(15 * time.Second):
		t.Fatalf("no second sample:\n%s", out.String())
	}
	cancel()
	select {
	case err := <-done:
		require.NoError(t, err, out.String())
	case <-time.After(15 * time.Second):
		t.Fatalf("run did not stop after cancellation:\n%s", out.String())
	}
	require.Contains(t, out.String(), "stopping: signal received")
	require.Contains(t, out.String(), "failed=0 dropped=0")
	require.Contains(t, out.String(), "mock recorded ")
}

// noRealAccount makes sure the program uses its in-process mock: an empty
// variable counts as unset.
func noRealAccount(t *testing.T) {
	for _, k := range []string{"LIBRATO_EMAIL", "LIBRATO_TOKEN", "LIBRATO_ROLE", "LIBRATO_URL"} {
		t.Setenv(k, "")
	}
}

// useAccount points the program's real-account mode at srv with a fresh
// token of role, and returns the token.
func useAccount(t *testing.T, srv *mock.Server, role librato.Role) string {
	email, token := srv.Credentials(role)
	t.Setenv("LIBRATO_EMAIL", email)
	t.Setenv("LIBRATO_TOKEN", token)
	t.Setenv("LIBRATO_ROLE", string(role))
	t.Setenv("LIBRATO_URL", srv.URL())
	return token
}

// TestRunWithAccount runs the real-account mode against a mock standing in
// for Librato: a Record Only token reports everything it sampled, and
// makes no call its role may not make.
func TestRunWithAccount(t *testing.T) {
	srv, err := mock.New()
	require.NoError(t, err)
	defer srv.Close()
	token := useAccount(t, srv, librato.RoleRecordOnly)

	var out bytes.Buffer
	require.NoError(t, run(context.Background(), &out, []string{"-duration", "1s"}), out.String())
	require.Contains(t, out.String(), "real account ")
	require.Contains(t, out.String(), "failed=0 dropped=0")
	require.Positive(t, srv.RecordedCount())
	role, ok := srv.MinimalRole(token)
	require.True(t, ok)
	require.Equal(t, librato.RoleRecordOnly, role)
}

// TestRunRefusesViewOnly fails before sampling: a View Only token may not
// submit measurements, and nothing is sent.
func TestRunRefusesViewOnly(t *testing.T) {
	srv, err := mock.New()
	require.NoError(t, err)
	defer srv.Close()
	useAccount(t, srv, librato.RoleViewOnly)

	var out bytes.Buffer
	err = run(context.Background(), &out, []string{"-duration", "1s"})
	var refused *librato.ErrForbiddenForRole
	require.ErrorAs(t, err, &refused)
	require.Zero(t, srv.Requests())
}

// TestRunRejectsFractionalInterval checks the flag before starting anything.
func TestRunRejectsFractionalInterval(t *testing.T) {
	var out bytes.Buffer
	require.ErrorContains(t, run(context.Background(), &out, []string{"-interval", "500ms"}), "whole number of seconds")
}
