// Command dashboard is a View Only reader: it reads a space, its charts and
// every chart stream's measurements over the last hour, and renders them as
// a self-contained HTML page with one inline SVG line chart per chart
// (standard library only). It also shows the guard refusing an edit, since a
// View Only token may read a space but never change it.
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
	"html/template"
	"io"
	"math"
	"os"
	"os/signal"
	"sort"
	"strconv"
	"strings"
	"time"

	librato "github.com/librato-sdk/librato-go"
	"github.com/librato-sdk/librato-go/examples/internal/realaccount"
	"github.com/librato-sdk/librato-go/mock"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, os.Stdout, os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "dashboard:", err)
		os.Exit(1)
	}
}

// run reads the space and writes the HTML page, printing one line per step
// to stdout.
func run(ctx context.Context, stdout io.Writer, args []string) error {
	fs := flag.NewFlagSet("dashboard", flag.ContinueOnError)
	fs.SetOutput(stdout)
	spaceName := fs.String("space", "Production", "name of the space to render")
	out := fs.String("out", "", "HTML file to write (default: a new temporary file)")
	window := fs.Duration("window", time.Hour, "how far back to read measurements")
	resolution := fs.Duration("resolution", time.Minute, "resolution of the points read (whole seconds)")
	if err := fs.Parse(args); err != nil {
		return err
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
	for sp, err := range viewer.Spaces.All(ctx, &librato.SpaceListOptions{Name: *spaceName}) {
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
	page := pageView{Space: space.Name, Generated: end.UTC().Format(time.RFC3339), Window: window.String()}
	var charts []librato.Chart
	for _, ref := range space.Charts {
		ch, err := viewer.Charts.Get(ctx, space.ID, ref.ID)
		if err != nil {
			return fmt.Errorf("reading chart %d: %w", ref.ID, err)
		}
		charts = append(charts, *ch)
		var lines []line
		for _, st := range ch.Streams {
			got, err := readStream(ctx, viewer, st, end, *window, *resolution)
			if err != nil {
				return fmt.Errorf("reading chart %q: %w", ch.Name, err)
			}
			lines = append(lines, got...)
		}
		points := 0
		for _, l := range lines {
			points += len(l.points)
		}
		say("read chart %q: %d stream(s), %d series, %d points", ch.Name, len(ch.Streams), len(lines), points)
		page.Charts = append(page.Charts, layout(ch.Name, ch.Label, lines, end.Add(-*window), end))
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
		_, err := viewer.Charts.Update(ctx, space.ID, charts[0].ID, &librato.Chart{Name: charts[0].Name + " (edited)"})
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

// line is one series to draw.
type line struct {
	label  string
	points []librato.Point
}

// readStream reads one chart stream's series over [end-window, end]: a
// metric stream with its tag filters, or a composite expression.
func readStream(ctx context.Context, c *librato.Client, st librato.ChartStream, end time.Time, window, resolution time.Duration) ([]line, error) {
	var lines []line
	if st.Composite != "" {
		series, err := c.Measurements.Compose(ctx, &librato.CompositeQuery{
			Compose: st.Composite, StartTime: end.Add(-window), EndTime: end, Resolution: resolution,
		})
		if err != nil {
			return nil, err
		}
		for _, s := range series {
			lines = append(lines, line{label: seriesLabel(st, "composite", s.Tags), points: s.Measurements})
		}
		return lines, nil
	}
	q := &librato.MeasurementsQuery{EndTime: end, Duration: window, Resolution: resolution}
	for _, t := range st.Tags {
		if len(t.Values) > 0 {
			if q.Tags == nil {
				q.Tags = map[string][]string{}
			}
			q.Tags[t.Name] = t.Values
		}
	}
	page, err := c.Measurements.Get(ctx, st.Metric, q)
	if errors.Is(err, librato.ErrNotFound) {
		return nil, nil // a chart may show a metric that has no data yet
	}
	if err != nil {
		return nil, err
	}
	for _, s := range page.Series {
		lines = append(lines, line{label: seriesLabel(st, st.Metric, s.Tags), points: s.Measurements})
	}
	return lines, nil
}

// seriesLabel names a series by its stream's display name, or its metric,
// and its tags.
func seriesLabel(st librato.ChartStream, metric string, tags map[string]string) string {
	name := st.Name
	if name == "" {
		name = metric
	}
	keys := make([]string, 0, len(tags))
	for k := range tags {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	b.WriteString(name)
	for _, k := range keys {
		b.WriteString(" " + k + "=" + tags[k])
	}
	return b.String()
}

// Geometry of one chart, in SVG user units.
const (
	chartW, plotH = 720, 172
	marginL       = 64
	marginR       = 16
	marginT       = 32
	axisB         = 24 // below the plot: the time labels
	legendLine    = 14 // each series adds one legend line below those
)

var palette = []string{"#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#17becf"}

type pageView struct {
	Space     string
	Generated string
	Window    string
	Charts    []chartView
}

type chartView struct {
	Title          string
	Label          string
	W, H           int
	X0, X1, Y0, Y1 float64 // plot area
	YTicks         []tick
	XTicks         []tick
	Lines          []lineView
	Empty          bool
}

type tick struct {
	Pos   float64
	Label string
}

type lineView struct {
	Label   string
	Color   string
	Points  string
	LegendY float64 // baseline of the legend's text
	RectY   float64 // top of the legend's colour swatch
}

// layout scales the lines into the plot area of one chart.
func layout(title, label string, lines []line, start, end time.Time) chartView {
	h := marginT + plotH + axisB + legendLine*len(lines) + 8
	v := chartView{
		Title: title, Label: label, W: chartW, H: h,
		X0: marginL, X1: chartW - marginR, Y0: marginT, Y1: marginT + plotH,
	}
	lo, hi := math.Inf(1), math.Inf(-1)
	for _, l := range lines {
		for _, p := range l.points {
			lo, hi = math.Min(lo, p.Value), math.Max(hi, p.Value)
		}
	}
	if math.IsInf(lo, 1) {
		v.Empty = true
		lo, hi = 0, 1
	}
	if lo > 0 && lo < hi/2 {
		lo = 0 // start the axis at zero when that does not flatten the lines
	}
	if hi == lo {
		hi, lo = hi+1, lo-1
	}
	t0, t1 := float64(start.Unix()), float64(end.Unix())
	x := func(t int64) float64 { return v.X0 + (float64(t)-t0)/(t1-t0)*(v.X1-v.X0) }
	y := func(val float64) float64 { return v.Y1 - (val-lo)/(hi-lo)*(v.Y1-v.Y0) }
	for i := 0; i <= 4; i++ {
		val := lo + (hi-lo)*float64(i)/4
		v.YTicks = append(v.YTicks, tick{Pos: round(y(val)), Label: strconv.FormatFloat(val, 'g', 4, 64)})
	}
	for i := 0; i <= 4; i++ {
		t := start.Add(time.Duration(float64(end.Sub(start)) * float64(i) / 4))
		v.XTicks = append(v.XTicks, tick{Pos: round(x(t.Unix())), Label: t.UTC().Format("15:04")})
	}
	for i, l := range lines {
		var b strings.Builder
		for j, p := range l.points {
			if j > 0 {
				b.WriteByte(' ')
			}
			fmt.Fprintf(&b, "%g,%g", round(x(p.Time)), round(y(p.Value)))
		}
		v.Lines = append(v.Lines, lineView{
			Label: l.label, Color: palette[i%len(palette)], Points: b.String(),
			LegendY: v.Y1 + axisB + float64(legendLine*(i+1)),
			RectY:   v.Y1 + axisB + float64(legendLine*(i+1)) - 1.5,
		})
	}
	return v
}

func round(f float64) float64 { return math.Round(f*10) / 10 }

// pageTemplate escapes every value it inserts (titles, labels, tags), so
// names from the account cannot break the page or the SVG markup.
var pageTemplate = template.Must(template.New("page").Parse(`<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>{{.Space}}</title>
<style>
body { font-family: sans-serif; margin: 2em; }
figure { margin: 0 0 2em 0; }
svg text { font-size: 11px; fill: #333; }
svg .title { font-size: 14px; font-weight: bold; }
</style>
</head>
<body>
<h1>{{.Space}}</h1>
<p>Last {{.Window}}, rendered at {{.Generated}}.</p>
{{range .Charts}}<figure>
<svg xmlns="http://www.w3.org/2000/svg" width="{{.W}}" height="{{.H}}" viewBox="0 0 {{.W}} {{.H}}" role="img">
<title>{{.Title}}</title>
<text class="title" x="{{.X0}}" y="20">{{.Title}}</text>
<line x1="{{.X0}}" y1="{{.Y1}}" x2="{{.X1}}" y2="{{.Y1}}" stroke="#333"/>
<line x1="{{.X0}}" y1="{{.Y0}}" x2="{{.X0}}" y2="{{.Y1}}" stroke="#333"/>
{{- $c := .}}
{{range .YTicks}}<line x1="{{$c.X0}}" y1="{{.Pos}}" x2="{{$c.X1}}" y2="{{.Pos}}" stroke="#ddd"/><text x="{{$c.X0}}" dx="-4" y="{{.Pos}}" dy="4" text-anchor="end">{{.Label}}</text>
{{end}}{{range .XTicks}}<text x="{{.Pos}}" y="{{$c.Y1}}" dy="14" text-anchor="middle">{{.Label}}</text>
{{end}}{{if .Label}}<text x="12" y="{{$c.Y0}}" dy="-8">{{.Label}}</text>
{{end}}{{if .Empty}}<text x="{{$c.X0}}" dx="12" y="{{$c.Y0}}" dy="20">no data in this window</text>
{{end}}{{range .Lines}}<polyline fill="none" stroke="{{.Color}}" stroke-width="1.5" points="{{.Points}}"/>
<rect x="{{$c.X0}}" y="{{.RectY}}" width="10" height="3" fill="{{.Color}}"/><text x="{{$c.X0}}" dx="14" y="{{.LegendY}}" dy="4">{{.Label}}</text>
{{end}}</svg>
</figure>
{{end}}</body>
</html>
`))

// seed fills an account, through a Full Access client, with an hour of
// per-minute measurements ending at now and a space of three charts whose
// streams show them.
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
			{Metric: "app.cpu", Tags: []librato.StreamTag{{Name: "host", Values: []string{"*"}}}},
		}},
		{Name: "Requests per minute", Type: librato.ChartTypeStacked, Streams: []librato.ChartStream{
			{Metric: "app.requests", Tags: []librato.StreamTag{{Name: "status", Values: []string{"*"}}}},
		}},
		{Name: "Latency <web-1 & web-2>", Label: "ms", Streams: []librato.ChartStream{
			{Metric: "app.latency_ms", Name: "latency", Tags: []librato.StreamTag{{Name: "host", Values: []string{"web-1"}}}},
			{Metric: "app.latency_ms", Name: "latency", Tags: []librato.StreamTag{{Name: "host", Values: []string{"web-2"}}}},
		}},
	}
	for i := range charts {
		if _, err := admin.Charts.Create(ctx, sp.ID, &charts[i]); err != nil {
			return err
		}
	}
	return nil
}
