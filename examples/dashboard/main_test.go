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
	v := layout(librato.Chart{Name: "Empty"}, nil, end.Add(-time.Hour), end, time.UTC)
	require.True(t, v.Empty)
	require.Len(t, v.Panels, 1)
	require.NotEmpty(t, v.Panels[0].YTicks)

	flat := []librato.ChartSeries{{Label: "flat", Points: []librato.Point{{Time: end.Unix() - 60, Value: 5}, {Time: end.Unix(), Value: 5}}}}
	v = layout(librato.Chart{Name: "Flat"}, flat, end.Add(-time.Hour), end, time.UTC)
	require.False(t, v.Empty)
	require.NotContains(t, v.Panels[0].Lines[0].Points, "NaN")
	require.NotContains(t, v.Panels[0].Lines[0].Points, "Inf")
}

// TestTicksAreRound puts Y ticks on 1, 2 or 5 times a power of ten, never
// on values like 18.75 or 757.5, and covers the data.
func TestTicksAreRound(t *testing.T) {
	for _, tc := range []struct {
		lo, hi float64
		want   []string
	}{
		{0, 75, []string{"0", "20", "40", "60", "80"}},
		{5, 1010, []string{"0", "200", "400", "600", "800", "1000", "1200"}},
		{0, 3030, []string{"0", "1000", "2000", "3000", "4000"}},
		{0.12, 0.9, []string{"0.0", "0.2", "0.4", "0.6", "0.8", "1.0"}},
		{-3, 7, []string{"-4", "-2", "0", "2", "4", "6", "8"}},
		{42, 42, []string{"20", "30", "40", "50", "60", "70"}},
	} {
		ticks, lo, hi := niceTicks(tc.lo, tc.hi, 4)
		var got []string
		for _, v := range ticks {
			got = append(got, formatTick(v, ticks))
		}
		require.Equal(t, tc.want, got, "%v..%v", tc.lo, tc.hi)
		require.LessOrEqual(t, lo, tc.lo)
		require.GreaterOrEqual(t, hi, tc.hi)
	}
}

// TestSeriesOfVeryDifferentMagnitudesGetTheirOwnAxes keeps a series near 5
// from being drawn flat against one near 1,000.
func TestSeriesOfVeryDifferentMagnitudesGetTheirOwnAxes(t *testing.T) {
	end := time.Unix(1_700_000_000, 0)
	pts := func(vs ...float64) []librato.Point {
		out := make([]librato.Point, len(vs))
		for i, v := range vs {
			out[i] = librato.Point{Time: end.Unix() - int64(60*(len(vs)-i)), Value: v}
		}
		return out
	}
	series := []librato.ChartSeries{
		{Label: "5xx", Points: pts(5, 9, 11)},
		{Label: "2xx", Points: pts(900, 1010, 950)},
		{Label: "3xx", Points: pts(300, 200, 250)},
	}
	v := layout(librato.Chart{Name: "Requests"}, series, end.Add(-time.Hour), end, time.UTC)
	require.Len(t, v.Panels, 2)
	labels := func(p panelView) (out []string) {
		for _, l := range p.Lines {
			out = append(out, l.Label)
		}
		return out
	}
	require.Equal(t, []string{"2xx", "3xx"}, labels(v.Panels[0]))
	require.Equal(t, []string{"5xx"}, labels(v.Panels[1]))
	require.Equal(t, "12", v.Panels[1].YTicks[len(v.Panels[1].YTicks)-1].Label)
	require.Len(t, v.Lines, 3, "one legend entry per line")
	require.Contains(t, v.Panels[1].Lines[0].Dots[2].Title, "5xx: 11 at ")
}

func TestHeaderAndAxisSayWhatTheyMean(t *testing.T) {
	require.Equal(t, "1h", shortDuration(time.Hour))
	require.Equal(t, "1h30m", shortDuration(90*time.Minute))
	require.Equal(t, "45m", shortDuration(45*time.Minute))
	require.Equal(t, "45s", shortDuration(45*time.Second))
	require.Equal(t, "UTC+00:00", zoneLabel(time.Unix(0, 0).UTC()))
	berlin, err := time.LoadLocation("Europe/Berlin")
	require.NoError(t, err)
	require.Equal(t, "CET (UTC+01:00)", zoneLabel(time.Date(2026, 1, 5, 12, 0, 0, 0, berlin)))
}
