package librato

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"
)

// ChartWindow is the time window a chart is read over: Duration back from
// End (the zero End means now), at Resolution (whole seconds, at most one
// week). Duration and Resolution are required.
type ChartWindow struct {
	End        time.Time
	Duration   time.Duration
	Resolution time.Duration
}

func (w *ChartWindow) validate() error {
	switch {
	case w == nil:
		return invalid("window", -1, "is required: pass a ChartWindow with a Duration and a Resolution")
	case w.Duration <= 0 || w.Duration%time.Second != 0:
		return invalid("duration", -1, "must be a positive whole number of seconds")
	case w.Resolution <= 0 || w.Resolution%time.Second != 0 || w.Resolution > MaxResolution*time.Second:
		return invalid("resolution", -1, "is required, in whole seconds up to one week")
	}
	return nil
}

// ChartSeries is one line a chart shows: the stream it comes from, a label
// for the legend, the tags that tell it apart from the stream's other
// lines, and its points with the stream's transform_function applied.
type ChartSeries struct {
	Stream      ChartStream       // the chart stream that produced this line
	StreamIndex int               // its position in Chart.Streams
	Label       string            // the stream's name (or metric, or "composite") and Tags
	Tags        map[string]string // the grouped or broken-out tags of this line; nil for one combined line
	Units       string            // the stream's short units, then its long units, if any
	Points      []Point
}

// Series reads the data every stream of chart shows over window, the way
// the chart draws it, and returns one ChartSeries per line, in stream
// order:
//
//   - a metric stream is read with GET /v1/measurements/:name: its tag
//     filters become tags[name]=values; its summary_function
//     (average, sum, min, max, count) picks the per-point value; its
//     group_function combines the matching streams: average (the default),
//     sum, min or max draw one combined line, or one line per value of the
//     tags marked Grouped; breakout draws one line per value of the
//     highest-cardinality tag among the streams read (ties: the first tag
//     name in order), each the average of its streams;
//   - a composite stream runs its expression through Measurements.Compose,
//     one line per result series; its downsample_function is the API's to
//     apply;
//   - the stream's transform_function is applied to every point, with p the
//     stream's period (or the resolution when it has none).
//
// A metric that does not exist yet gives no line, not an error. Other
// errors (the guard, validation, the API) end the call; a transform
// function the SDK cannot evaluate is a *ValidationError naming the stream.
func (s *ChartsService) Series(ctx context.Context, chart *Chart, window *ChartWindow) ([]ChartSeries, error) {
	if chart == nil {
		return nil, invalid("chart", -1, "is required")
	}
	if err := window.validate(); err != nil {
		return nil, err
	}
	end := window.End
	if end.IsZero() {
		end = time.Now()
	}
	end = end.Truncate(time.Second)
	var out []ChartSeries
	for i, st := range chart.Streams {
		lines, err := s.streamSeries(ctx, st, end, window)
		if err != nil {
			return nil, fmt.Errorf("librato: chart %q stream %d: %w", chart.Name, i, err)
		}
		period := float64(st.Period)
		if period <= 0 {
			period = window.Resolution.Seconds()
		}
		var tf *transform
		if strings.TrimSpace(st.TransformFunction) != "" {
			if tf, err = parseTransform(st.TransformFunction); err != nil {
				return nil, invalid(fmt.Sprintf("streams[%d].transform_function", i), -1, "%v", err)
			}
		}
		for _, l := range lines {
			l.Stream, l.StreamIndex = st, i
			l.Units = st.UnitsShort
			if l.Units == "" {
				l.Units = st.UnitsLong
			}
			l.Label = streamLabel(st, l.Tags)
			if tf != nil {
				for j := range l.Points {
					l.Points[j].Value = tf.eval(l.Points[j].Value, period)
				}
			}
			out = append(out, l)
		}
	}
	return out, nil
}

// streamSeries reads one stream's lines over [end-window, end].
func (s *ChartsService) streamSeries(ctx context.Context, st ChartStream, end time.Time, w *ChartWindow) ([]ChartSeries, error) {
	m := (*MeasurementsService)(s)
	if st.Composite != "" {
		res, err := m.Compose(ctx, &CompositeQuery{Compose: st.Composite, StartTime: end.Add(-w.Duration), EndTime: end, Resolution: w.Resolution})
		if err != nil {
			return nil, err
		}
		lines := make([]ChartSeries, 0, len(res))
		for _, r := range res {
			lines = append(lines, ChartSeries{Tags: r.Tags, Points: r.Measurements})
		}
		return lines, nil
	}
	if st.Metric == "" {
		return nil, invalid("metric", -1, "is empty: a chart stream needs a metric or a composite")
	}
	q := &MeasurementsQuery{EndTime: end, Duration: w.Duration, Resolution: w.Resolution, SummaryFunction: chartSummary(st.SummaryFunction)}
	var grouped []string
	for _, t := range st.Tags {
		if len(t.Values) > 0 {
			if q.Tags == nil {
				q.Tags = map[string][]string{}
			}
			q.Tags[t.Name] = t.Values
		}
		if t.Grouped {
			grouped = append(grouped, t.Name)
		}
	}
	gf := st.GroupFunction
	if gf == "breakout" {
		series, err := collect(m.All(ctx, st.Metric, q))
		if err != nil {
			return nil, err
		}
		return breakout(series), nil
	}
	q.GroupByFunction = chartGroup(gf)
	q.GroupBy = grouped
	if len(grouped) == 0 {
		q.GroupBy = []string{"*"}
	}
	series, err := collect(m.All(ctx, st.Metric, q))
	if err != nil {
		return nil, err
	}
	lines := make([]ChartSeries, 0, len(series))
	for _, sr := range series {
		l := ChartSeries{Points: sr.Measurements}
		if len(grouped) > 0 {
			l.Tags = sr.Tags
		}
		lines = append(lines, l)
	}
	return lines, nil
}

// collect drains a series iterator; a metric that does not exist yet reads
// as no series.
func collect(seq func(func(Series, error) bool)) ([]Series, error) {
	var out []Series
	for sr, err := range seq {
		if errors.Is(err, ErrNotFound) {
			return nil, nil
		}
		if err != nil {
			return nil, err
		}
		out = append(out, sr)
	}
	return out, nil
}

// chartSummary maps a chart stream's summary_function to the query's.
func chartSummary(fn string) string {
	if fn == "" || fn == "average" {
		return "mean"
	}
	return fn
}

// chartGroup maps a chart stream's group_function to a group_by_function.
func chartGroup(fn string) string {
	if fn == "" || fn == "average" {
		return "mean"
	}
	return fn
}

// breakout draws one line per value of the tag with the most distinct
// values among series, each line the per-timestamp average of its series;
// series without that tag share one line.
func breakout(series []Series) []ChartSeries {
	if len(series) == 0 {
		return nil
	}
	values := map[string]map[string]bool{}
	for _, sr := range series {
		for k, v := range sr.Tags {
			if values[k] == nil {
				values[k] = map[string]bool{}
			}
			values[k][v] = true
		}
	}
	names := slices.Sorted(maps.Keys(values))
	tag := ""
	for _, n := range names {
		if tag == "" || len(values[n]) > len(values[tag]) {
			tag = n
		}
	}
	type acc struct {
		sum map[int64]float64
		n   map[int64]int
	}
	groups := map[string]*acc{}
	for _, sr := range series {
		v := sr.Tags[tag]
		g := groups[v]
		if g == nil {
			g = &acc{sum: map[int64]float64{}, n: map[int64]int{}}
			groups[v] = g
		}
		for _, p := range sr.Measurements {
			g.sum[p.Time] += p.Value
			g.n[p.Time]++
		}
	}
	out := make([]ChartSeries, 0, len(groups))
	for _, v := range slices.Sorted(maps.Keys(groups)) {
		g := groups[v]
		pts := make([]Point, 0, len(g.sum))
		for _, t := range slices.Sorted(maps.Keys(g.sum)) {
			pts = append(pts, Point{Time: t, Value: g.sum[t] / float64(g.n[t])})
		}
		var tags map[string]string
		if tag != "" {
			tags = map[string]string{tag: v}
		}
		out = append(out, ChartSeries{Tags: tags, Points: pts})
	}
	return out
}

// streamLabel names a line by its stream's display name (or metric, or
// "composite") followed by its tags in name order.
func streamLabel(st ChartStream, tags map[string]string) string {
	name := st.Name
	switch {
	case name != "":
	case st.Metric != "":
		name = st.Metric
	default:
		name = "composite"
	}
	var b strings.Builder
	b.WriteString(name)
	for _, k := range slices.Sorted(maps.Keys(tags)) {
		b.WriteString(" " + k + "=" + tags[k])
	}
	return b.String()
}

// transform is a parsed transform_function: a formula over x (the value)
// and p (the period in seconds) with + - * /, parentheses and decimal
// numbers, evaluated in double precision.
type transform struct{ root tnode }

type tnode interface{ eval(x, p float64) float64 }

type tnum float64
type tvar byte
type tbin struct {
	op   byte
	l, r tnode
}
type tneg struct{ e tnode }

func (n tnum) eval(_, _ float64) float64 { return float64(n) }
func (v tvar) eval(x, p float64) float64 {
	if v == 'p' {
		return p
	}
	return x
}
func (n tneg) eval(x, p float64) float64 { return -n.e.eval(x, p) }
func (n tbin) eval(x, p float64) float64 {
	l, r := n.l.eval(x, p), n.r.eval(x, p)
	switch n.op {
	case '+':
		return l + r
	case '-':
		return l - r
	case '*':
		return l * r
	}
	if r == 0 {
		return math.NaN()
	}
	return l / r
}

func (t *transform) eval(x, p float64) float64 { return t.root.eval(x, p) }

// maxTransformLen bounds what parseTransform reads, so a hostile chart
// cannot make the parser recurse deeply.
const maxTransformLen = 256

func parseTransform(s string) (*transform, error) {
	if len(s) > maxTransformLen {
		return nil, fmt.Errorf("is longer than %d characters", maxTransformLen)
	}
	p := &tparser{s: s}
	n, err := p.sum()
	if err != nil {
		return nil, err
	}
	p.space()
	if p.i < len(p.s) {
		return nil, fmt.Errorf("has an unexpected %q at position %d", p.s[p.i], p.i+1)
	}
	return &transform{root: n}, nil
}

type tparser struct {
	s string
	i int
}

func (p *tparser) space() {
	for p.i < len(p.s) && p.s[p.i] == ' ' {
		p.i++
	}
}

func (p *tparser) peek() byte {
	p.space()
	if p.i < len(p.s) {
		return p.s[p.i]
	}
	return 0
}

func (p *tparser) sum() (tnode, error) {
	l, err := p.product()
	for err == nil {
		op := p.peek()
		if op != '+' && op != '-' {
			return l, nil
		}
		p.i++
		var r tnode
		if r, err = p.product(); err == nil {
			l = tbin{op: op, l: l, r: r}
		}
	}
	return nil, err
}

func (p *tparser) product() (tnode, error) {
	l, err := p.unary()
	for err == nil {
		op := p.peek()
		if op != '*' && op != '/' {
			return l, nil
		}
		p.i++
		var r tnode
		if r, err = p.unary(); err == nil {
			l = tbin{op: op, l: l, r: r}
		}
	}
	return nil, err
}

func (p *tparser) unary() (tnode, error) {
	switch c := p.peek(); {
	case c == '-':
		p.i++
		e, err := p.unary()
		return tneg{e}, err
	case c == '(':
		p.i++
		e, err := p.sum()
		if err != nil {
			return nil, err
		}
		if p.peek() != ')' {
			return nil, fmt.Errorf("misses a ')' at position %d", p.i+1)
		}
		p.i++
		return e, nil
	case c == 'x' || c == 'p':
		p.i++
		return tvar(c), nil
	case c >= '0' && c <= '9' || c == '.':
		start := p.i
		for p.i < len(p.s) && (p.s[p.i] >= '0' && p.s[p.i] <= '9' || p.s[p.i] == '.') {
			p.i++
		}
		f, err := strconv.ParseFloat(p.s[start:p.i], 64)
		if err != nil {
			return nil, fmt.Errorf("has a malformed number %q", p.s[start:p.i])
		}
		return tnum(f), nil
	case c == 0:
		return nil, errors.New("ends where a value was expected")
	default:
		return nil, fmt.Errorf("has an unexpected %q at position %d: only digits, x, p, parentheses and + - * / are allowed", c, p.i+1)
	}
}
