// Command dashboard is a View Only reader: it reads a space, its charts and,
// through Charts.Series, the lines every chart shows over the last hour, and
// renders them as a self-contained HTML page (standard library only): a grid
// of inline SVG charts that fills the window, Y axes on round steps with
// their units, series of very different magnitudes on separate axes, the
// time axis in the -tz zone, and each point's value on hover. Every chart
// is drawn with lines (stacked charts too); big numbers are not drawn as
// such. It also shows the guard refusing an edit, since a View Only token
// may read a space but never change it.
//
// By default a Full Access client first seeds the bundled mock API (running
// in-process) with an hour of measurements and a space "Production" of three
// charts:
//
//	go run ./examples/dashboard -out /tmp/production.html
//
// With LIBRATO_EMAIL, LIBRATO_TOKEN and LIBRATO_ROLE (viewer or admin) set,
// it renders the real account's space named by -space, changing nothing
// (LIBRATO_URL optionally names another API root, such as a librato-mock):
//
//	LIBRATO_EMAIL=you@example.com LIBRATO_TOKEN=... LIBRATO_ROLE=viewer go run ./examples/dashboard -space Production
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"os/signal"
	"time"

	librato "github.com/librato-sdk/librato-go"
	"github.com/librato-sdk/librato-go/examples/internal/realaccount"
	"github.com/librato-sdk/librato-go/mock"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, os.Stdout, os.Args[1:]); err != nil && !errors.Is(err, flag.ErrHelp) {
		fmt.Fprintln(os.Stderr, "dashboard:", err)
		os.Exit(1)
	}
}

// run reads the space and writes the HTML page, printing one line per step
// to stdout.
//
// A dashboard: its token is View Only, which librato-vet checks every call against (the mock is seeded by a Full Access client the check follows).
//
//librato:role viewer
func run(ctx context.Context, stdout io.Writer, args []string) error {
	fs := flag.NewFlagSet("dashboard", flag.ContinueOnError)
	fs.SetOutput(stdout)
	spaceName := fs.String("space", "Production", "name of the space to render")
	out := fs.String("out", "", "HTML file to write (default: a new temporary file)")
	window := fs.Duration("window", time.Hour, "how far back to read measurements")
	resolution := fs.Duration("resolution", time.Minute, "resolution of the points read (whole seconds)")
	zone := fs.String("tz", "Local", `time zone of the time axis, such as "UTC" or "Europe/Berlin"`)
	if err := fs.Parse(args); err != nil {
		return err
	}
	loc, err := time.LoadLocation(*zone)
	if err != nil {
		return fmt.Errorf("-tz %q: %w", *zone, err)
	}
	say := func(format string, a ...any) { fmt.Fprintf(stdout, format+"\n", a...) }

	var (
		srv    *mock.Server
		viewer *librato.Client
	)
	env, err := realaccount.FromEnv()
	if err != nil {
		return err
	}
	if env == nil {
		if srv, err = mock.New(); err != nil {
			return fmt.Errorf("starting the mock API: %w", err)
		}
		defer srv.Close()
		say("mock: Librato API serving at %s", srv.URL())
		admin, err := srv.Client(librato.RoleFullAccess)
		if err != nil {
			return err
		}
		if err := seed(ctx, admin, *spaceName, time.Now()); err != nil {
			return fmt.Errorf("seeding the mock: %w", err)
		}
		say("seed: Full Access client created space %q with 3 charts and an hour of measurements", *spaceName)
		if viewer, err = srv.Client(librato.RoleViewOnly, librato.WithUserAgent("librato-dashboard")); err != nil {
			return err
		}
	} else {
		if !librato.Permitted(env.Role, "GET", "/v1/spaces/:id") {
			return fmt.Errorf("a %s token may not read spaces; use a View Only or Full Access token", env.Role.Label())
		}
		if viewer, err = env.Client("librato-dashboard"); err != nil {
			return err
		}
		say("real account %s with a %s token", env.Email, env.Role.Label())
	}

	// Find the space by name, then read it and its charts.
	var spaceID int64
	for sp, err := range viewer.Spaces.All(ctx, &librato.ListOptions{Name: *spaceName}) {
		if err != nil {
			return fmt.Errorf("listing spaces: %w", err)
		}
		if sp.Name == *spaceName {
			spaceID = sp.ID
			break
		}
	}
	if spaceID == 0 {
		return fmt.Errorf("no space is named %q", *spaceName)
	}
	space, err := viewer.Spaces.Get(ctx, spaceID)
	if err != nil {
		return fmt.Errorf("reading space %q: %w", *spaceName, err)
	}
	say("read space %q (id %d) with %d charts", space.Name, space.ID, len(space.Charts))

	end := time.Now().Truncate(time.Second)
	page := pageView{Space: space.Name, Generated: end.In(loc).Format("2006-01-02 15:04:05 MST"), Window: shortDuration(*window), Zone: zoneLabel(end.In(loc))}
	var charts []librato.Chart
	for _, ref := range space.Charts {
		ch, err := viewer.Charts.Get(ctx, space.ID, ref.ID)
		if err != nil {
			return fmt.Errorf("reading chart %d: %w", ref.ID, err)
		}
		charts = append(charts, *ch)
		series, err := viewer.Charts.Series(ctx, ch, &librato.ChartWindow{End: end, Duration: *window, Resolution: *resolution})
		if err != nil {
			return fmt.Errorf("reading chart %q: %w", ch.Name, err)
		}
		points := 0
		for _, s := range series {
			points += len(s.Points)
		}
		say("read chart %q: %d stream(s), %d series, %d points", ch.Name, len(ch.Streams), len(series), points)
		page.Charts = append(page.Charts, layout(*ch, series, end.Add(-*window), end, loc))
	}

	// Write the page.
	f, err := createOutput(*out)
	if err != nil {
		return err
	}
	if err := pageTemplate.Execute(f, page); err != nil {
		f.Close()
		return fmt.Errorf("writing %s: %w", f.Name(), err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("writing %s: %w", f.Name(), err)
	}
	say("wrote %s (%d charts)", f.Name(), len(page.Charts))

	// The guard: a View Only client may not edit what it reads.
	if viewer.Role() == librato.RoleViewOnly && len(charts) > 0 {
		before := 0
		if srv != nil {
			before = srv.Requests()
		}
		//librato:ignore shows the guard refusing an edit by a View Only client
		err := viewer.Charts.Update(ctx, space.ID, charts[0].ID, &librato.ChartUpdate{Name: librato.Ptr(charts[0].Name + " (edited)")})
		var refused *librato.ErrForbiddenForRole
		if !errors.As(err, &refused) {
			return fmt.Errorf("expected the guard to refuse a chart edit by a View Only client, got %v", err)
		}
		say("refused before sending: %v", refused)
		if srv != nil && srv.Requests() != before {
			return errors.New("the refused edit reached the server")
		}
	}
	return nil
}

// createOutput opens path for writing, or a new temporary file.
func createOutput(path string) (*os.File, error) {
	if path == "" {
		f, err := os.CreateTemp("", "librato-dashboard-*.html")
		if err != nil {
			return nil, fmt.Errorf("creating the output file: %w", err)
		}
		return f, nil
	}
	f, err := os.Create(path)
	if err != nil {
		return nil, fmt.Errorf("creating the output file: %w", err)
	}
	return f, nil
}

// seed fills an account, through a Full Access client, with an hour of
// per-minute measurements ending at now and a space of three charts whose
// streams show them.
//
// Seeding creates spaces and charts: Full Access.
//
//librato:role admin
func seed(ctx context.Context, admin *librato.Client, spaceName string, now time.Time) error {
	end := now.Truncate(time.Minute)
	batch := &librato.MeasurementBatch{}
	for i := 0; i < 60; i++ {
		at := end.Add(-time.Duration(59-i) * time.Minute).Unix()
		phase := float64(i) / 60 * 2 * math.Pi
		batch.Measurements = append(batch.Measurements,
			librato.Measurement{Name: "app.cpu", Value: round(45 + 20*math.Sin(phase)), Time: at, Tags: map[string]string{"host": "web-1"}},
			librato.Measurement{Name: "app.cpu", Value: round(60 + 15*math.Cos(phase)), Time: at, Tags: map[string]string{"host": "web-2"}},
			librato.Measurement{Name: "app.requests", Value: float64(900 + 10*(i%12)), Time: at, Tags: map[string]string{"status": "2xx"}},
			librato.Measurement{Name: "app.requests", Value: float64(5 + i%7), Time: at, Tags: map[string]string{"status": "5xx"}},
			librato.Measurement{Name: "app.latency_ms", Value: round(120 + 30*math.Sin(3*phase)), Time: at, Tags: map[string]string{"host": "web-1"}},
			librato.Measurement{Name: "app.latency_ms", Value: round(140 + 25*math.Sin(2*phase)), Time: at, Tags: map[string]string{"host": "web-2"}},
		)
	}
	if _, err := admin.Measurements.Create(ctx, batch); err != nil {
		return err
	}
	sp, err := admin.Spaces.Create(ctx, &librato.Space{Name: spaceName})
	if err != nil {
		return err
	}
	charts := []librato.Chart{
		{Name: "CPU", Label: "%", Streams: []librato.ChartStream{
			{Metric: "app.cpu", Tags: []librato.StreamTag{{Name: "host", Values: []string{"*"}, Grouped: true}}},
		}},
		{Name: "Requests per minute", Label: "req/min", Type: librato.ChartTypeStacked, Streams: []librato.ChartStream{
			{Metric: "app.requests", GroupFunction: "sum", Tags: []librato.StreamTag{{Name: "status", Values: []string{"*"}, Grouped: true}}},
		}},
		{Name: "Latency <web-1 & web-2>", Label: "ms", Streams: []librato.ChartStream{
			{Metric: "app.latency_ms", Name: "latency web-1", UnitsShort: "ms", Tags: []librato.StreamTag{{Name: "host", Values: []string{"web-1"}}}},
			{Metric: "app.latency_ms", Name: "latency web-2", UnitsShort: "ms", Tags: []librato.StreamTag{{Name: "host", Values: []string{"web-2"}}}},
		}},
	}
	for i := range charts {
		if _, err := admin.Charts.Create(ctx, sp.ID, &charts[i]); err != nil {
			return err
		}
	}
	return nil
}
