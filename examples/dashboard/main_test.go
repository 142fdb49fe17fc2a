package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	librato "github.com/librato-sdk/librato-go"
	"github.com/librato-sdk/librato-go/mock"
)

// TestRun runs the program in-process (under -race too) against the mock.
func TestRun(t *testing.T) {
	noRealAccount(t)
	page := filepath.Join(t.TempDir(), "page.html")
	var out bytes.Buffer
	require.NoError(t, run(context.Background(), &out, []string{"-out", page}), out.String())
	raw, err := os.ReadFile(page)
	require.NoError(t, err)
	require.Equal(t, 3, strings.Count(string(raw), "<svg"))
	require.Contains(t, out.String(), "refused before sending: ")
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

// TestRunWithAccount renders an existing space of a real account (a seeded
// mock standing in for Librato) with a View Only and a Full Access token,
// reading only.
func TestRunWithAccount(t *testing.T) {
	for _, role := range []librato.Role{librato.RoleViewOnly, librato.RoleFullAccess} {
		t.Run(string(role), func(t *testing.T) {
			srv, err := mock.New(mock.WithSeed(&mock.Seed{
				Measurements: []map[string]any{
					{"name": "cpu", "value": 40, "time": -120, "tags": map[string]any{"host": "web1"}},
					{"name": "cpu", "value": 42, "time": -60, "tags": map[string]any{"host": "web1"}},
				},
				Spaces: []map[string]any{{"name": "Ops", "charts": []any{
					map[string]any{"name": "CPU", "type": "line", "streams": []any{map[string]any{"metric": "cpu"}}},
					map[string]any{"name": "Missing", "type": "line", "streams": []any{map[string]any{"metric": "nothing.here"}}},
				}}},
			}))
			require.NoError(t, err)
			defer srv.Close()
			token := useAccount(t, srv, role)

			page := filepath.Join(t.TempDir(), "ops.html")
			var out bytes.Buffer
			require.NoError(t, run(context.Background(), &out, []string{"-space", "Ops", "-out", page}), out.String())
			raw, err := os.ReadFile(page)
			require.NoError(t, err)
			require.Equal(t, 2, strings.Count(string(raw), "<svg"))
			require.Equal(t, 1, strings.Count(string(raw), "<polyline"))
			require.Contains(t, string(raw), "no data in this window")
			for _, p := range srv.Usage(token) {
				require.Equal(t, "GET", p.Method, "the dashboard changed something")
			}
		})
	}
}

// TestRunRefusesRecordOnly fails before any request: a Record Only token
// may not read spaces.
func TestRunRefusesRecordOnly(t *testing.T) {
	srv, err := mock.New()
	require.NoError(t, err)
	defer srv.Close()
	useAccount(t, srv, librato.RoleRecordOnly)
	var out bytes.Buffer
	require.ErrorContains(t, run(context.Background(), &out, []string{"-out", filepath.Join(t.TempDir(), "x.html")}), "may not read spaces")
	require.Zero(t, srv.Requests())
}

// TestLayoutWithoutData draws an empty chart rather than dividing by zero.
func TestLayoutWithoutData(t *testing.T) {
	end := time.Unix(1_700_000_000, 0)
	v := layout("Empty", "", nil, end.Add(-time.Hour), end)
	require.True(t, v.Empty)
	require.Len(t, v.YTicks, 5)

	flat := []line{{label: "flat", points: []librato.Point{{Time: end.Unix() - 60, Value: 5}, {Time: end.Unix(), Value: 5}}}}
	v = layout("Flat", "", flat, end.Add(-time.Hour), end)
	require.False(t, v.Empty)
	require.NotContains(t, v.Lines[0].Points, "NaN")
	require.NotContains(t, v.Lines[0].Points, "Inf")
}
