package main

import (
	"fmt"
	"html/template"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	librato "github.com/librato-sdk/librato-go"
)

// The page lays charts out in a grid that fills the window (two or three
// per row on a desktop screen, one on a phone); each SVG scales to its
// cell through its viewBox, so these are user units, not pixels.
const (
	chartW     = 640
	panelH     = 150 // the plot area of one panel
	marginL    = 64
	marginR    = 16
	titleH     = 28
	axisB      = 34 // below the last panel: time labels and the zone
	panelGap   = 22
	legendLine = 15
)

// magnitudeSplit is how many times larger one series' peak may be than
// another's before they get separate panels (and Y axes), so a series near
// 0 is not drawn flat against one near 1,000.
const magnitudeSplit = 10

var palette = []string{"#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#17becf"}

type pageView struct {
	Space     string
	Generated string
	Window    string
	Zone      string
	Charts    []chartView
}

type chartView struct {
	Title  string
	W, H   int
	X0, X1 float64
	Panels []panelView
	XTicks []tick
	AxisY  float64 // baseline of the time labels
	Zone   string
	Empty  bool
	Lines  []lineView // every line of every panel, for the legend
}

type panelView struct {
	Y0, Y1 float64 // top and bottom of the plot area
	Unit   string  // the Y axis caption
	YTicks []tick
	Lines  []lineView
}

type tick struct {
	Pos   float64
	Label string
}

type lineView struct {
	Label   string
	Color   string
	Points  string
	Dots    []dot
	LegendY float64 // baseline of the legend's text
	RectY   float64 // top of the legend's colour swatch
}

type dot struct {
	X, Y  float64
	Title string // shown on hover: the line, the value with its unit, the time
}

// layout draws one chart: its lines split into panels by magnitude (each
// with a Y axis of round steps and the lines' unit), a shared time axis in
// loc, a dot with a hover title on every point, and a legend.
func layout(ch librato.Chart, series []librato.ChartSeries, start, end time.Time, loc *time.Location) chartView {
	v := chartView{Title: ch.Name, W: chartW, X0: marginL, X1: chartW - marginR, Zone: zoneLabel(end.In(loc))}
	var lines []librato.ChartSeries
	for _, s := range series {
		if len(s.Points) > 0 {
			lines = append(lines, s)
		}
	}
	groups := splitByMagnitude(lines)
	if len(groups) == 0 {
		v.Empty = true
		groups = [][]librato.ChartSeries{nil}
	}
	t0, t1 := float64(start.Unix()), float64(end.Unix())
	x := func(t int64) float64 { return v.X0 + (float64(t)-t0)/(t1-t0)*(v.X1-v.X0) }
	y := float64(titleH)
	color := 0
	for _, g := range groups {
		p := panelView{Y0: y, Y1: y + panelH, Unit: unitOf(ch, g)}
		lo, hi := bounds(g, ch)
		ticks, lo, hi := niceTicks(lo, hi, 4)
		scaleY := func(val float64) float64 { return p.Y1 - (val-lo)/(hi-lo)*(p.Y1-p.Y0) }
		for _, tv := range ticks {
			p.YTicks = append(p.YTicks, tick{Pos: round(scaleY(tv)), Label: formatTick(tv, ticks)})
		}
		for _, s := range g {
			lv := lineView{Label: s.Label, Color: palette[color%len(palette)]}
			color++
			var b strings.Builder
			for j, pt := range s.Points {
				px, py := round(x(pt.Time)), round(scaleY(pt.Value))
				if j > 0 {
					b.WriteByte(' ')
				}
				fmt.Fprintf(&b, "%g,%g", px, py)
				lv.Dots = append(lv.Dots, dot{X: px, Y: py, Title: fmt.Sprintf("%s: %s%s at %s", s.Label,
					strconv.FormatFloat(pt.Value, 'f', -1, 64), unitSuffix(p.Unit), time.Unix(pt.Time, 0).In(loc).Format("15:04:05 MST"))})
			}
			lv.Points = b.String()
			p.Lines = append(p.Lines, lv)
		}
		v.Panels = append(v.Panels, p)
		y = p.Y1 + panelGap
	}
	last := v.Panels[len(v.Panels)-1]
	v.AxisY = last.Y1 + 14
	for i := 0; i <= 4; i++ {
		at := start.Add(time.Duration(float64(end.Sub(start)) * float64(i) / 4))
		v.XTicks = append(v.XTicks, tick{Pos: round(x(at.Unix())), Label: at.In(loc).Format("15:04")})
	}
	legendTop := last.Y1 + axisB
	for _, p := range v.Panels {
		for _, l := range p.Lines {
			l.LegendY = legendTop + float64(legendLine*(len(v.Lines)+1))
			l.RectY = l.LegendY - 1.5
			v.Lines = append(v.Lines, l)
		}
	}
	v.H = int(legendTop) + legendLine*len(v.Lines) + 10
	return v
}

// splitByMagnitude groups lines whose peaks are within magnitudeSplit of
// each other, largest first; lines with different units never share a
// panel.
func splitByMagnitude(lines []librato.ChartSeries) [][]librato.ChartSeries {
	type item struct {
		s    librato.ChartSeries
		peak float64
		at   int
	}
	items := make([]item, len(lines))
	for i, s := range lines {
		peak := 0.0
		for _, p := range s.Points {
			peak = math.Max(peak, math.Abs(p.Value))
		}
		items[i] = item{s, peak, i}
	}
	slices.SortStableFunc(items, func(a, b item) int {
		if a.s.Units != b.s.Units {
			return strings.Compare(a.s.Units, b.s.Units)
		}
		return -cmpFloat(a.peak, b.peak)
	})
	var groups [][]item
	var top float64
	for i, it := range items {
		if i == 0 || it.s.Units != items[i-1].s.Units || (it.peak > 0 && top/it.peak > magnitudeSplit) || (it.peak == 0 && top > 1) {
			groups = append(groups, nil)
			top = it.peak
		}
		groups[len(groups)-1] = append(groups[len(groups)-1], it)
	}
	out := make([][]librato.ChartSeries, len(groups))
	for i, g := range groups {
		// within a panel, lines keep the chart's order
		slices.SortFunc(g, func(a, b item) int { return a.at - b.at })
		for _, it := range g {
			out[i] = append(out[i], it.s)
		}
	}
	return out
}

func cmpFloat(a, b float64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// bounds is the value range of lines, widened to the chart's Min and Max,
// and to zero when that does not flatten the lines.
func bounds(lines []librato.ChartSeries, ch librato.Chart) (lo, hi float64) {
	lo, hi = math.Inf(1), math.Inf(-1)
	for _, s := range lines {
		for _, p := range s.Points {
			lo, hi = math.Min(lo, p.Value), math.Max(hi, p.Value)
		}
	}
	if math.IsInf(lo, 1) {
		return 0, 1
	}
	if ch.Min != nil {
		lo = math.Min(lo, *ch.Min)
	}
	if ch.Max != nil {
		hi = math.Max(hi, *ch.Max)
	}
	if lo > 0 && lo < hi/2 {
		lo = 0
	}
	return lo, hi
}

// niceTicks returns the ticks of a Y axis covering [lo, hi] on a round
// step (1, 2 or 5 times a power of ten) with about n intervals (3 to 6),
// choosing the step that wastes the least of the axis, and the covered
// range.
func niceTicks(lo, hi float64, n int) ([]float64, float64, float64) {
	if hi == lo {
		if lo == 0 {
			hi = 1
		} else {
			lo, hi = lo-math.Abs(lo)/2, hi+math.Abs(hi)/2
		}
	}
	mag := math.Pow(10, math.Floor(math.Log10((hi-lo)/float64(n))))
	best, bestFirst, bestLast := 0.0, 0.0, 0.0
	for _, m := range []float64{0.5, 1, 2, 5, 10, 20} {
		step := m * mag
		first, last := math.Floor(lo/step)*step, math.Ceil(hi/step)*step
		intervals := math.Round((last - first) / step)
		if intervals < 3 || intervals > 6 {
			continue
		}
		if best == 0 || last-first < bestLast-bestFirst {
			best, bestFirst, bestLast = step, first, last
		}
	}
	if best == 0 { // no candidate had 3 to 6 intervals: take the raw range in n steps
		best, bestFirst, bestLast = (hi-lo)/float64(n), lo, hi
	}
	var out []float64
	for i := 0; ; i++ {
		v := bestFirst + float64(i)*best
		if v > bestLast+best/2 {
			break
		}
		out = append(out, v)
	}
	return out, bestFirst, bestLast
}

// formatTick prints a tick with as many decimals as its step needs.
func formatTick(v float64, ticks []float64) string {
	dec := 0
	if len(ticks) > 1 {
		step := ticks[1] - ticks[0]
		for dec < 6 && math.Abs(step*math.Pow(10, float64(dec))-math.Round(step*math.Pow(10, float64(dec)))) > 1e-9 {
			dec++
		}
	}
	return strconv.FormatFloat(v, 'f', dec, 64)
}

// unitOf is the Y axis caption of a panel: the chart's label, else the
// lines' unit.
func unitOf(ch librato.Chart, lines []librato.ChartSeries) string {
	if ch.Label != "" {
		return ch.Label
	}
	for _, s := range lines {
		if s.Units != "" {
			return s.Units
		}
	}
	return ""
}

func unitSuffix(u string) string {
	if u == "" {
		return ""
	}
	return " " + u
}

// zoneLabel names the time zone of t, such as "CET (UTC+01:00)".
func zoneLabel(t time.Time) string {
	name, off := t.Zone()
	sign := '+'
	if off < 0 {
		sign, off = '-', -off
	}
	utc := fmt.Sprintf("UTC%c%02d:%02d", sign, off/3600, off%3600/60)
	if name == "UTC" || strings.HasPrefix(name, "+") || strings.HasPrefix(name, "-") {
		return utc
	}
	return name + " (" + utc + ")"
}

// shortDuration prints d without zero units: 1h, 90m, 1h30m, 45s.
func shortDuration(d time.Duration) string {
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}

func round(f float64) float64 { return math.Round(f*10) / 10 }

// pageTemplate escapes every value it inserts (titles, labels, tags), so
// names from the account cannot break the page or the SVG markup.
var pageTemplate = template.Must(template.New("page").Parse(`<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{.Space}}</title>
<style>
body { font-family: system-ui, sans-serif; margin: 1.5em; color: #222; }
header p { color: #555; margin-top: -0.5em; }
.charts { display: grid; align-items: start; grid-template-columns: repeat(auto-fill, minmax(min(100%, 560px), 1fr)); gap: 1.5em; }
figure { margin: 0; padding: 0.5em; border: 1px solid #e3e3e3; border-radius: 6px; background: #fff; }
svg { display: block; width: 100%; height: auto; }
svg text { font-size: 11px; fill: #333; }
svg .title { font-size: 14px; font-weight: 600; }
svg .unit, svg .zone { fill: #666; }
svg circle { fill-opacity: 0; }
svg circle:hover { fill-opacity: 1; }
@media (max-width: 640px) { body { margin: 0.5em; } figure { padding: 0.25em; } }
</style>
</head>
<body>
<header>
<h1>{{.Space}}</h1>
<p>Last {{.Window}}, rendered {{.Generated}}; times in {{.Zone}}. Hover a point for its value.</p>
</header>
<div class="charts">
{{range .Charts}}{{$c := .}}<figure>
<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {{.W}} {{.H}}" role="img" aria-label="{{.Title}}">
<title>{{.Title}}</title>
<text class="title" x="{{.X0}}" y="18">{{.Title}}</text>
{{range .Panels}}{{$p := .}}<g class="panel">
<line x1="{{$c.X0}}" y1="{{.Y1}}" x2="{{$c.X1}}" y2="{{.Y1}}" stroke="#333"/>
<line x1="{{$c.X0}}" y1="{{.Y0}}" x2="{{$c.X0}}" y2="{{.Y1}}" stroke="#333"/>
{{range .YTicks}}<line x1="{{$c.X0}}" y1="{{.Pos}}" x2="{{$c.X1}}" y2="{{.Pos}}" stroke="#eee"/><text x="{{$c.X0}}" dx="-4" y="{{.Pos}}" dy="4" text-anchor="end">{{.Label}}</text>
{{end}}{{if .Unit}}<text class="unit" x="12" y="{{.Y0}}" dy="-6">{{.Unit}}</text>
{{end}}{{range .Lines}}<polyline class="series" fill="none" stroke="{{.Color}}" stroke-width="1.5" points="{{.Points}}"/>
{{$l := .}}{{range .Dots}}<circle cx="{{.X}}" cy="{{.Y}}" r="3" fill="{{$l.Color}}"><title>{{.Title}}</title></circle>{{end}}
{{end}}</g>
{{end}}{{if .Empty}}<text x="{{$c.X0}}" dx="12" y="{{(index .Panels 0).Y0}}" dy="20">no data in this window</text>
{{end}}{{range .XTicks}}<text x="{{.Pos}}" y="{{$c.AxisY}}" text-anchor="middle">{{.Label}}</text>
{{end}}<text class="zone" x="{{.X1}}" y="{{.AxisY}}" dy="14" text-anchor="end">{{.Zone}}</text>
{{range .Lines}}<rect x="{{$c.X0}}" y="{{.RectY}}" width="10" height="3" fill="{{.Color}}"/><text x="{{$c.X0}}" dx="14" y="{{.LegendY}}" dy="4">{{.Label}}</text>
{{end}}</svg>
</figure>
{{end}}</div>
</body>
</html>
`))
