package tsdb

import (
	"maps"
	"math"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
)

// This file evaluates composite expressions parsed by composite.go. The
// data comes only from Store.ReadStreams.
//
// Evaluation model (the reference documents little of it; every rule not
// in the reference is marked "mock:"):
//
//   - series()/s() loads one series per stored stream that matches, with
//     its points bucketed at the query resolution, or at a series() period
//     when one is given (mock: the larger of period and resolution, since
//     data cannot be finer than the resolution read), summarised with the
//     function option. mock: without a function option, the metric's
//     summarize_function is used, which is mean unless the metric says
//     otherwise (and, for a persisted composite read, the query's
//     summary_function when given). Streams without points in the window
//     are left out.
//   - Every series carries an effective period p: the series() period,
//     else the metric's period, else the resolution, and never less than
//     the resolution (the reference's rule for rate). rate divides by it,
//     fill inserts points on its slots, and it is the "period" of the
//     answer. fill needs the period to come from the metric or series().
//   - Combining functions align points by timestamp: sum, mean, min and
//     max use whichever inputs have a point at a time; divide, subtract
//     and (mock:) multiply emit a point only where every input has one.
//     Gaps stay gaps; only fill, zero_fill and last_fill create points.
//   - mock: a point that is not a finite number (divide by zero, or an
//     overflow) is dropped, as are series left without points.
//   - mock: a combined series keeps the tags all its inputs share, and
//     the metric and period of its first input.

// Bounds on the work one expression may cause, so nested timeshift, map
// and group_by, or fill over a long window at a short period, cannot
// exhaust the mock: each stream read costs readCost plus its points,
// every computed series its points plus one.
const (
	maxComposeWork = 5_000_000
	readCost       = 1000
	maxFillSlots   = 100_000
	defaultTop     = 10
)

// Series is one series of an evaluated composite expression.
type Series struct {
	Metric    *Metric
	Tags      map[string]string
	Pts       []valuePoint
	Period    int64 // effective period p, in seconds
	hasPeriod bool  // p comes from the metric or series(): fill may use it
}

// evalCtx is what an evaluation sees: the store, the window (shifted
// inside timeshift), the group inside group_by and the "&" of map().
type evalCtx struct {
	db        *Store
	w         Window
	defFn     string
	group     map[string]string
	metricSub *string
	sourceSub *string
	work      *int64
}

func (ctx *evalCtx) spend(n int64, where string) error {
	*ctx.work += n
	if *ctx.work > maxComposeWork {
		return &composeError{"the expression asks for too much work for the mock (" + where + "): more than " + strconv.Itoa(maxComposeWork) + " points and stream reads; narrow the series, the window or the shifts"}
	}
	return nil
}

// Expr is a parsed and checked composite expression, or a node of one.
type Expr interface {
	// eval computes the node's set of series.
	eval(ctx *evalCtx) ([]Series, error)
	// collect reports the tags of every stream a grouped series() under
	// the node loads, for group_by to find its groups.
	collect(ctx *evalCtx, found func(tags map[string]string)) error
}

// EvalCompose evaluates an expression over window w; defFn is the summary
// function of series() calls without a function option ("" for each
// metric's summarize_function).
func (s *Store) EvalCompose(n Expr, w Window, defFn string) ([]Series, error) {
	var work int64
	return n.eval(&evalCtx{db: s, w: w, defFn: defFn, work: &work})
}

// --- sets -------------------------------------------------------------------

type setNode struct{ elems []Expr }

func (n *setNode) eval(ctx *evalCtx) ([]Series, error) {
	var out []Series
	for _, e := range n.elems {
		s, err := e.eval(ctx)
		if err != nil {
			return nil, err
		}
		out = append(out, s...)
	}
	return out, nil
}

func (n *setNode) collect(ctx *evalCtx, found func(map[string]string)) error {
	for _, e := range n.elems {
		if err := e.collect(ctx, found); err != nil {
			return err
		}
	}
	return nil
}

// --- series() ---------------------------------------------------------------

type seriesNode struct {
	where     string
	metric    string
	tags      map[string]string // nil: every stream
	source    string            // legacy source pattern: the tag "source"
	hasSource bool
	fn        string
	period    int64
	grouped   bool
}

func (n *seriesNode) substitute(ctx *evalCtx, v string, metric bool) (string, error) {
	if !strings.Contains(v, "&") {
		return v, nil
	}
	sub, kind := ctx.sourceSub, "source"
	if metric {
		sub, kind = ctx.metricSub, "metric"
	}
	if sub == nil {
		return "", &composeError{`series() at ` + n.where + `: "&" stands for each ` + kind + ` only inside map({` + kind + `: "pattern"}, ...)`}
	}
	return strings.ReplaceAll(v, "&", *sub), nil
}

func (n *seriesNode) read(ctx *evalCtx) ([]Series, error) {
	name, err := n.substitute(ctx, n.metric, true)
	if err != nil {
		return nil, err
	}
	if !strings.Contains(name, "*") && ctx.db.IsComposite(name) {
		return nil, &composeError{"series() at " + n.where + ": " + strconv.Quote(name) + " is a composite metric; a composite cannot use another composite"}
	}
	tags := n.tags
	if len(tags) > 0 {
		tags = make(map[string]string, len(n.tags))
		for k, v := range n.tags {
			if tags[k], err = n.substitute(ctx, v, false); err != nil {
				return nil, err
			}
		}
	}
	source := n.source
	if n.hasSource {
		if source, err = n.substitute(ctx, source, false); err != nil {
			return nil, err
		}
	}
	keep := func(t map[string]string) bool {
		if n.grouped {
			for k, v := range ctx.group {
				if got, ok := t[k]; !ok || got != v {
					return false
				}
			}
		}
		for k, p := range tags {
			if v, ok := t[k]; !ok || !matchValue(p, v) {
				return false
			}
		}
		if n.hasSource {
			if v, ok := t["source"]; !ok || !matchValue(source, v) {
				return false
			}
		}
		return true
	}
	res := ctx.w.Res
	bucket := res
	if n.period > 0 {
		bucket = max(n.period, res)
	}
	fn := n.fn
	if fn == "" {
		fn = ctx.defFn
	}
	streams := ctx.db.ReadStreams(name, keep, ctx.w, bucket, fn)
	out := make([]Series, 0, len(streams))
	cost := int64(readCost)
	for _, st := range streams {
		if len(st.Pts) == 0 {
			continue
		}
		cost += int64(len(st.Pts)) + 1
		s := Series{Metric: st.Metric, Tags: maps.Clone(st.Tags), Pts: st.Pts, Period: res}
		switch {
		case n.period > 0:
			s.Period, s.hasPeriod = bucket, true
		case st.Metric != nil && st.Metric.period != nil:
			s.Period, s.hasPeriod = max(*st.Metric.period, res), true
		}
		if s.Tags == nil {
			s.Tags = map[string]string{}
		}
		out = append(out, s)
	}
	if err := ctx.spend(cost, "series() at "+n.where); err != nil {
		return nil, err
	}
	return out, nil
}

func (n *seriesNode) eval(ctx *evalCtx) ([]Series, error) { return n.read(ctx) }

func (n *seriesNode) collect(ctx *evalCtx, found func(map[string]string)) error {
	ss, err := n.read(ctx)
	if err != nil || !n.grouped {
		return err
	}
	for _, s := range ss {
		found(s.Tags)
	}
	return nil
}

// --- functions over a set ----------------------------------------------------

// applyFunc computes a function's output set from its input set.
type applyFunc func(ctx *evalCtx, in []Series, where string) ([]Series, error)

// transform describes a function of the form f(set[, options]).
type transform struct {
	options []string
	pairs   bool // exactly two input series (divide, subtract)
	build   func(o opts) (applyFunc, error)
}

type funcNode struct {
	name  string
	where string
	in    Expr
	pairs bool
	apply applyFunc
}

func (n *funcNode) eval(ctx *evalCtx) ([]Series, error) {
	in, err := n.in.eval(ctx)
	if err != nil {
		return nil, err
	}
	if n.pairs {
		switch {
		case len(in) > 2:
			return nil, &composeError{n.name + "() at " + n.where + " takes exactly two series, got " + strconv.Itoa(len(in)) + "; combine each side to one series first, e.g. with sum()"}
		case len(in) < 2:
			return nil, nil // a side without data: no point has both
		}
	}
	out, err := n.apply(ctx, in, n.name+"() at "+n.where)
	if err != nil {
		return nil, err
	}
	kept := out[:0]
	cost := int64(0)
	for _, s := range out {
		pts := s.Pts[:0:0]
		for _, p := range s.Pts {
			if !math.IsNaN(p.V) && !math.IsInf(p.V, 0) {
				pts = append(pts, p)
			}
		}
		if len(pts) == 0 {
			continue
		}
		s.Pts = pts
		cost += int64(len(pts)) + 1
		kept = append(kept, s)
	}
	return kept, ctx.spend(cost, n.name+"() at "+n.where)
}

func (n *funcNode) collect(ctx *evalCtx, found func(map[string]string)) error {
	return n.in.collect(ctx, found)
}

// perPoint builds a function that maps every value of every series.
func perPoint(f func(v float64) float64) func(opts) (applyFunc, error) {
	return func(opts) (applyFunc, error) {
		return eachSeries(func(s Series) []valuePoint {
			out := make([]valuePoint, len(s.Pts))
			for i, p := range s.Pts {
				out[i] = valuePoint{T: p.T, V: f(p.V)}
			}
			return out
		}), nil
	}
}

// eachSeries applies f to each series, keeping its tags and metric.
func eachSeries(f func(s Series) []valuePoint) applyFunc {
	return func(_ *evalCtx, in []Series, _ string) ([]Series, error) {
		out := make([]Series, len(in))
		for i, s := range in {
			out[i] = s
			out[i].Pts = f(s)
		}
		return out, nil
	}
}

var reFraction = regexp.MustCompile(`^([0-9]+)/([0-9]+)$`)

// transforms are the functions of the form f(set[, options]), with their
// options and defaults.
var transforms = map[string]transform{
	// derive: the change from the previous point; the first point has no
	// predecessor and gives none. detect_reset "true": a fall is a counter
	// reset and the delta is the current value. mock: detect_reset
	// defaults to "false" (the reference's two copies of the page
	// disagree; the newer one says false).
	"derive": {options: []string{"detect_reset"}, build: func(o opts) (applyFunc, error) {
		r, err := o.oneOf("detect_reset", "false", "true", "false")
		if err != nil {
			return nil, err
		}
		reset := r == "true"
		return eachSeries(func(s Series) []valuePoint {
			out := make([]valuePoint, 0, max(len(s.Pts)-1, 0))
			for i := 1; i < len(s.Pts); i++ {
				cur, prev := s.Pts[i].V, s.Pts[i-1].V
				d := cur - prev
				if reset && cur < prev {
					d = cur
				}
				out = append(out, valuePoint{T: s.Pts[i].T, V: d})
			}
			return out
		}), nil
	}},
	// rate: x / p * duration, p the series' effective period.
	"rate": {options: []string{"duration"}, build: func(o opts) (applyFunc, error) {
		d, _, err := o.number("duration", "1")
		if err != nil {
			return nil, err
		}
		if d <= 0 {
			_, pos, _ := o.get("duration", "1")
			return nil, o.bad("duration", pos, "must be a positive number of seconds")
		}
		return eachSeries(func(s Series) []valuePoint {
			out := make([]valuePoint, len(s.Pts))
			for i, p := range s.Pts {
				out[i] = valuePoint{T: p.T, V: p.V / float64(s.Period) * d}
			}
			return out
		}), nil
	}},
	// integrate: the running sum.
	"integrate": {build: func(opts) (applyFunc, error) {
		return eachSeries(func(s Series) []valuePoint {
			out := make([]valuePoint, len(s.Pts))
			sum := 0.0
			for i, p := range s.Pts {
				sum += p.V
				out[i] = valuePoint{T: p.T, V: sum}
			}
			return out
		}), nil
	}},
	// scale: every value times factor, a decimal or a fraction n/d.
	"scale": {options: []string{"factor"}, build: func(o opts) (applyFunc, error) {
		if err := o.require("factor", "1/1024"); err != nil {
			return nil, err
		}
		v, pos, _ := o.get("factor", "")
		var f float64
		if m := reFraction.FindStringSubmatch(v); m != nil {
			num, err1 := strconv.ParseFloat(m[1], 64)
			den, err2 := strconv.ParseFloat(m[2], 64)
			switch {
			case err1 != nil || err2 != nil:
				return nil, o.bad("factor", pos, "is out of range: "+strconv.Quote(v))
			case den == 0:
				return nil, o.bad("factor", pos, "must have a denominator other than 0, got "+strconv.Quote(v))
			}
			f = num / den
		} else {
			var err error
			if f, _, err = o.number("factor", ""); err != nil {
				return nil, o.bad("factor", pos, `must be a number such as "0.1" or a fraction such as "1/1024", got `+strconv.Quote(v))
			}
		}
		return perPoint(func(x float64) float64 { return x * f })(o)
	}},
	// window: a trailing window of size points; a point without size-1
	// predecessors gives none.
	"window": {options: []string{"size", "function"}, build: func(o opts) (applyFunc, error) {
		size, err := o.whole("size", "1", 1, 64)
		if err != nil {
			return nil, err
		}
		fn, err := o.oneOf("function", "mean", "mean", "sum", "min", "max", "median")
		if err != nil {
			return nil, err
		}
		return windowOf(int(size), fn), nil
	}},
	// moving_average: window with function mean. mock: size defaults to
	// "1", window's default.
	"moving_average": {options: []string{"size"}, build: func(o opts) (applyFunc, error) {
		size, err := o.whole("size", "1", 1, 64)
		if err != nil {
			return nil, err
		}
		return windowOf(int(size), "mean"), nil
	}},
	// fill: a point with value (a number, or "last": the last value seen
	// in the window) at every period slot without data.
	"fill": {options: []string{"value"}, build: func(o opts) (applyFunc, error) {
		if err := o.require("value", "0"); err != nil {
			return nil, err
		}
		if v, _, _ := o.get("value", ""); v == "last" {
			return fillWith(0, true), nil
		}
		v, _, err := o.number("value", "")
		if err != nil {
			return nil, o.bad("value", o.m["value"].pos, `must be a number or "last", got `+strconv.Quote(o.m["value"].text))
		}
		return fillWith(v, false), nil
	}},
	"zero_fill": {build: func(opts) (applyFunc, error) { return fillWith(0, false), nil }},
	// last_fill: mock: fill with value "last".
	"last_fill": {build: func(opts) (applyFunc, error) { return fillWith(0, true), nil }},
	// filter: keeps a series when function over its points is within
	// every bound given (the bounds are ANDed); at least one bound.
	"filter": {options: []string{"gt", "gte", "lt", "lte", "function"}, build: func(o opts) (applyFunc, error) {
		fn, err := o.oneOf("function", "mean", "mean", "min", "max", "sum")
		if err != nil {
			return nil, err
		}
		type bound struct {
			ok func(x, b float64) bool
			b  float64
		}
		var bounds []bound
		for _, k := range []string{"gt", "gte", "lt", "lte"} {
			b, given, err := o.number(k, "")
			if err != nil {
				return nil, err
			}
			if !given {
				continue
			}
			var ok func(x, b float64) bool
			switch k {
			case "gt":
				ok = func(x, b float64) bool { return x > b }
			case "gte":
				ok = func(x, b float64) bool { return x >= b }
			case "lt":
				ok = func(x, b float64) bool { return x < b }
			default:
				ok = func(x, b float64) bool { return x <= b }
			}
			bounds = append(bounds, bound{ok, b})
		}
		if len(bounds) == 0 {
			return nil, o.c.err(o.call.pos, `filter() needs at least one of the options gt, gte, lt, lte, e.g. {gt: "0"}`)
		}
		return func(_ *evalCtx, in []Series, _ string) ([]Series, error) {
			var out []Series
			for _, s := range in {
				x := scalar(s.Pts, fn)
				pass := true
				for _, b := range bounds {
					pass = pass && b.ok(x, b.b)
				}
				if pass {
					out = append(out, s)
				}
			}
			return out, nil
		}, nil
	}},
	// top: the count series with the highest function over the window,
	// highest first (ties keep input order). mock: count defaults to 10.
	"top": {options: []string{"count", "function"}, build: func(o opts) (applyFunc, error) {
		count, err := o.whole("count", strconv.Itoa(defaultTop), 1, 1_000_000)
		if err != nil {
			return nil, err
		}
		fn, err := o.oneOf("function", "mean", "mean", "min", "max", "sum")
		if err != nil {
			return nil, err
		}
		return func(_ *evalCtx, in []Series, _ string) ([]Series, error) {
			type ranked struct {
				s     Series
				score float64
			}
			rs := make([]ranked, len(in))
			for i, s := range in {
				rs[i] = ranked{s, scalar(s.Pts, fn)}
			}
			sort.SliceStable(rs, func(x, y int) bool { return rs[x].score > rs[y].score })
			out := make([]Series, 0, min(len(rs), int(count)))
			for _, r := range rs[:min(len(rs), int(count))] {
				out = append(out, r.s)
			}
			return out, nil
		}, nil
	}},
	"sum":  {build: aggregate("sum")},
	"mean": {build: aggregate("mean")},
	"min":  {build: aggregate("min")},
	"max":  {build: aggregate("max")},
	// multiply: the product per timestamp. mock: only where every input
	// has a point, like divide and subtract.
	"multiply": {build: allInputs(func(vs []float64) float64 {
		p := 1.0
		for _, v := range vs {
			p *= v
		}
		return p
	})},
	// divide: first / second where both have a point; mock: a point whose
	// divisor is 0 is dropped (JSON has no Inf or NaN).
	"divide":   {pairs: true, build: allInputs(func(vs []float64) float64 { return vs[0] / vs[1] })},
	"subtract": {pairs: true, build: allInputs(func(vs []float64) float64 { return vs[0] - vs[1] })},
	// abs: mock: the reference names the page absolute_value but never
	// shows the call; both names are accepted.
	"abs":            {build: perPoint(math.Abs)},
	"absolute_value": {build: perPoint(math.Abs)},
}

// scalar summarises a whole series: mean, min, max or sum of its points.
func scalar(pts []valuePoint, fn string) float64 {
	if len(pts) == 0 {
		return math.NaN()
	}
	r := pts[0].V
	sum := 0.0
	for _, p := range pts {
		sum += p.V
		r = pickOf(fn, r, p.V)
	}
	switch fn {
	case "sum":
		return sum
	case "mean":
		return sum / float64(len(pts))
	}
	return r
}

func pickOf(fn string, a, b float64) float64 {
	switch fn {
	case "min":
		return math.Min(a, b)
	case "max":
		return math.Max(a, b)
	}
	return a
}

// reduce applies sum, mean, min, max or median to vs (not empty).
func reduce(vs []float64, fn string) float64 {
	switch fn {
	case "sum", "mean":
		s := 0.0
		for _, v := range vs {
			s += v
		}
		if fn == "mean" {
			s /= float64(len(vs))
		}
		return s
	case "median":
		c := slices.Clone(vs)
		slices.Sort(c)
		if len(c)%2 == 1 {
			return c[len(c)/2]
		}
		return (c[len(c)/2-1] + c[len(c)/2]) / 2
	}
	r := vs[0]
	for _, v := range vs[1:] {
		r = pickOf(fn, r, v)
	}
	return r
}

func windowOf(size int, fn string) applyFunc {
	return eachSeries(func(s Series) []valuePoint {
		if len(s.Pts) < size {
			return nil
		}
		out := make([]valuePoint, 0, len(s.Pts)-size+1)
		vs := make([]float64, size)
		for i := size - 1; i < len(s.Pts); i++ {
			for j := range size {
				vs[j] = s.Pts[i-size+1+j].V
			}
			out = append(out, valuePoint{T: s.Pts[i].T, V: reduce(vs, fn)})
		}
		return out
	})
}

// fillWith fills every empty period slot of the window with v, or with
// the last value seen when last is set (no value before the first point).
func fillWith(v float64, last bool) applyFunc {
	return func(ctx *evalCtx, in []Series, where string) ([]Series, error) {
		out := make([]Series, len(in))
		for i, s := range in {
			if !s.hasPeriod {
				name := ""
				if s.Metric != nil {
					name = strconv.Quote(s.Metric.Name) + " "
				}
				return nil, &composeError{where + " needs a period: the metric " + name + "has none; give the metric a period or series() a period option, e.g. {period: \"60\"}"}
			}
			e := s.Period
			first, lastSlot := floorTo(ctx.w.Start, e), floorTo(ctx.w.End, e)
			slots := (lastSlot-first)/e + 1
			if slots > maxFillSlots {
				return nil, &composeError{where + " would fill " + strconv.FormatInt(slots, 10) + " slots of " + strconv.FormatInt(e, 10) + " s; the mock fills at most " + strconv.Itoa(maxFillSlots) + ": shorten the window or use a longer period"}
			}
			if err := ctx.spend(slots, where); err != nil {
				return nil, err
			}
			pts := make([]valuePoint, 0, int(slots)+len(s.Pts))
			j := 0
			lv, have := 0.0, false
			for slot := first; slot <= lastSlot; slot += e {
				for j < len(s.Pts) && s.Pts[j].T < slot {
					pts = append(pts, s.Pts[j])
					lv, have = s.Pts[j].V, true
					j++
				}
				if j < len(s.Pts) && s.Pts[j].T < slot+e {
					continue // the slot has data
				}
				switch {
				case !last:
					pts = append(pts, valuePoint{T: slot, V: v})
				case have:
					pts = append(pts, valuePoint{T: slot, V: lv})
				}
			}
			pts = append(pts, s.Pts[j:]...)
			out[i] = s
			out[i].Pts = pts
		}
		return out, nil
	}
}

// combined is the output series of a combining function: the tags all
// inputs share, the first input's metric and period.
func combined(in []Series, pts []valuePoint) Series {
	tags := maps.Clone(in[0].Tags)
	for _, s := range in[1:] {
		for k, v := range tags {
			if s.Tags[k] != v {
				delete(tags, k)
			}
		}
	}
	return Series{Metric: in[0].Metric, Tags: tags, Pts: pts, Period: in[0].Period, hasPeriod: in[0].hasPeriod}
}

// byTime gathers the values of all inputs per timestamp, ascending, and
// how many inputs had a point there.
func byTime(in []Series) ([]int64, map[int64][]float64) {
	vals := map[int64][]float64{}
	for _, s := range in {
		for _, p := range s.Pts {
			vals[p.T] = append(vals[p.T], p.V)
		}
	}
	times := slices.Collect(maps.Keys(vals))
	slices.Sort(times)
	return times, vals
}

// aggregate builds sum, mean, min or max: one series, per timestamp over
// the inputs that have a point there.
func aggregate(fn string) func(opts) (applyFunc, error) {
	return func(opts) (applyFunc, error) {
		return func(_ *evalCtx, in []Series, _ string) ([]Series, error) {
			if len(in) == 0 {
				return nil, nil
			}
			times, vals := byTime(in)
			pts := make([]valuePoint, len(times))
			for i, t := range times {
				pts[i] = valuePoint{T: t, V: reduce(vals[t], fn)}
			}
			return []Series{combined(in, pts)}, nil
		}, nil
	}
}

// allInputs builds a function of one output series with a point only
// where every input has one; f sees the values in input order.
func allInputs(f func(vs []float64) float64) func(opts) (applyFunc, error) {
	return func(opts) (applyFunc, error) {
		return func(_ *evalCtx, in []Series, _ string) ([]Series, error) {
			if len(in) == 0 {
				return nil, nil
			}
			idx := make([]int, len(in))
			var pts []valuePoint
			vs := make([]float64, len(in))
			for _, p := range in[0].Pts {
				ok := true
				for k := 1; k < len(in) && ok; k++ {
					s := in[k].Pts
					for idx[k] < len(s) && s[idx[k]].T < p.T {
						idx[k]++
					}
					ok = idx[k] < len(s) && s[idx[k]].T == p.T
					if ok {
						vs[k] = s[idx[k]].V
					}
				}
				if !ok {
					continue
				}
				vs[0] = p.V
				v := f(vs)
				pts = append(pts, valuePoint{T: p.T, V: v})
			}
			return []Series{combined(in, pts)}, nil
		}, nil
	}
}

// --- timeshift, map, group_by ------------------------------------------------

// timeshiftNode evaluates its set once per shift over the window moved
// back by the shift, then moves the points forward by the same amount, so
// every shifted series overlays the query window (mock: the reference
// does not say where shifted points are shown).
type timeshiftNode struct {
	shifts []int64 // seconds back in time; negative goes forward
	in     Expr
}

func (n *timeshiftNode) shifted(ctx *evalCtx, back int64) *evalCtx {
	sub := *ctx
	sub.w = Window{Start: ctx.w.Start - back, End: ctx.w.End - back, Res: ctx.w.Res}
	return &sub
}

func (n *timeshiftNode) eval(ctx *evalCtx) ([]Series, error) {
	var out []Series
	for _, back := range n.shifts {
		ss, err := n.in.eval(n.shifted(ctx, back))
		if err != nil {
			return nil, err
		}
		for _, s := range ss {
			pts := make([]valuePoint, len(s.Pts))
			for i, p := range s.Pts {
				pts[i] = valuePoint{T: p.T + back, V: p.V}
			}
			s.Pts = pts
			out = append(out, s)
		}
	}
	return out, nil
}

func (n *timeshiftNode) collect(ctx *evalCtx, found func(map[string]string)) error {
	for _, back := range n.shifts {
		if err := n.in.collect(n.shifted(ctx, back), found); err != nil {
			return err
		}
	}
	return nil
}

// mapNode evaluates its set once per metric (or value of the tag source)
// matching pattern, with "&" standing for it; the results are
// concatenated in name order. mock: the metrics (and sources) are those
// with data in the query window.
type mapNode struct {
	where    string
	byMetric bool
	pattern  string
	in       Expr
}

func (n *mapNode) each(ctx *evalCtx, f func(*evalCtx) error) error {
	var names []string
	if n.byMetric {
		for _, s := range ctx.db.ReadStreams(n.pattern, nil, ctx.w, ctx.w.Res, "") {
			if len(s.Pts) > 0 && (len(names) == 0 || names[len(names)-1] != s.Metric.Name) {
				names = append(names, s.Metric.Name)
			}
		}
	} else {
		seen := map[string]bool{}
		for _, s := range ctx.db.ReadStreams("*", func(t map[string]string) bool {
			v, ok := t["source"]
			return ok && Glob(n.pattern, v)
		}, ctx.w, ctx.w.Res, "") {
			if len(s.Pts) > 0 && !seen[s.Tags["source"]] {
				seen[s.Tags["source"]] = true
				names = append(names, s.Tags["source"])
			}
		}
		slices.Sort(names)
	}
	if err := ctx.spend(readCost+int64(len(names)), "map() at "+n.where); err != nil {
		return err
	}
	for _, name := range names {
		sub := *ctx
		if n.byMetric {
			sub.metricSub = &name
		} else {
			sub.sourceSub = &name
		}
		if err := f(&sub); err != nil {
			return err
		}
	}
	return nil
}

func (n *mapNode) eval(ctx *evalCtx) ([]Series, error) {
	var out []Series
	err := n.each(ctx, func(sub *evalCtx) error {
		ss, err := n.in.eval(sub)
		out = append(out, ss...)
		return err
	})
	return out, err
}

func (n *mapNode) collect(ctx *evalCtx, found func(map[string]string)) error {
	return n.each(ctx, func(sub *evalCtx) error { return n.in.collect(sub, found) })
}

// groupByNode evaluates its set once per distinct combination of values
// of tags among the streams its grouped series() calls load (streams
// lacking one of the tags belong to no group), with those series()
// restricted to the group; a series() with {group: "false"} loads all its
// streams in every group. Groups come in the order of their tag pairs;
// mock: every output series of a group carries the group's tags.
type groupByNode struct {
	tags []string
	in   Expr
}

func (n *groupByNode) groups(ctx *evalCtx) ([]map[string]string, error) {
	byKey := map[string]map[string]string{}
	err := n.in.collect(ctx, func(t map[string]string) {
		g := make(map[string]string, len(n.tags))
		for _, k := range n.tags {
			v, ok := t[k]
			if !ok {
				return
			}
			g[k] = v
		}
		byKey[tagKey(g)] = g
	})
	if err != nil {
		return nil, err
	}
	out := make([]map[string]string, 0, len(byKey))
	for _, k := range sortedKeys(byKey) {
		out = append(out, byKey[k])
	}
	return out, nil
}

func (n *groupByNode) within(ctx *evalCtx, g map[string]string) *evalCtx {
	sub := *ctx
	sub.group = maps.Clone(ctx.group)
	if sub.group == nil {
		sub.group = map[string]string{}
	}
	maps.Copy(sub.group, g)
	return &sub
}

func (n *groupByNode) eval(ctx *evalCtx) ([]Series, error) {
	groups, err := n.groups(ctx)
	if err != nil {
		return nil, err
	}
	var out []Series
	for _, g := range groups {
		ss, err := n.in.eval(n.within(ctx, g))
		if err != nil {
			return nil, err
		}
		for _, s := range ss {
			s.Tags = maps.Clone(s.Tags)
			maps.Copy(s.Tags, g)
			out = append(out, s)
		}
	}
	return out, nil
}

func (n *groupByNode) collect(ctx *evalCtx, found func(map[string]string)) error {
	return n.in.collect(ctx, found)
}

// --- answers -----------------------------------------------------------------

// composeSeriesJSON is one element of the bare array a composite query
// answers.
type composeSeriesJSON struct {
	Tags         map[string]string  `json:"tags"`
	Measurements []composePointJSON `json:"measurements"`
	Metric       composeMetricJSON  `json:"metric"`
	Period       int64              `json:"period"`
}

type composePointJSON struct {
	Time  int64   `json:"time"`
	Value float64 `json:"value"`
}

type composeMetricJSON struct {
	Name       string         `json:"name"`
	Type       string         `json:"type"`
	Attributes map[string]any `json:"attributes"`
	Period     *int64         `json:"period"`
}

// ComposeJSON renders evaluated series as GET /v1/measurements?compose=
// answers them: a bare array of {tags, measurements, metric, period}.
func ComposeJSON(ss []Series) []composeSeriesJSON {
	out := make([]composeSeriesJSON, 0, len(ss))
	for _, s := range ss {
		cs := composeSeriesJSON{Tags: s.Tags, Period: s.Period, Measurements: make([]composePointJSON, len(s.Pts))}
		if cs.Tags == nil {
			cs.Tags = map[string]string{}
		}
		for i, p := range s.Pts {
			cs.Measurements[i] = composePointJSON{Time: p.T, Value: p.V}
		}
		if s.Metric != nil {
			mj := s.Metric.JSON()
			cs.Metric = composeMetricJSON{Name: mj.Name, Type: mj.Type, Attributes: mj.Attributes, Period: mj.Period}
		}
		out = append(out, cs)
	}
	return out
}

// ComposedSeries turns evaluated series into the series of a measurements
// page.
func ComposedSeries(ss []Series, search SearchExpr, groupTags []string, gfn string) []SeriesJSON {
	var kept []Series
	for _, s := range ss {
		if search == nil || search.eval(s.Tags) {
			kept = append(kept, s)
		}
	}
	toPoints := func(pts []valuePoint) []point {
		out := make([]point, len(pts))
		for i, p := range pts {
			out[i] = point{Time: p.T, Value: p.V}
		}
		return out
	}
	if len(groupTags) == 0 {
		out := make([]SeriesJSON, 0, len(kept))
		for _, s := range kept {
			out = append(out, SeriesJSON{Tags: s.Tags, Measurements: toPoints(s.Pts)})
		}
		return out
	}
	all := len(groupTags) == 1 && groupTags[0] == "*"
	groups := map[string][]Series{}
	gtags := map[string]map[string]string{}
	for _, s := range kept {
		g, ok := groupOf(s.Tags, groupTags, all)
		if !ok {
			continue
		}
		k := tagKey(g)
		groups[k] = append(groups[k], s)
		gtags[k] = g
	}
	out := make([]SeriesJSON, 0, len(groups))
	for _, k := range sortedKeys(groups) {
		times, vals := byTime(groups[k])
		pts := make([]valuePoint, len(times))
		for i, t := range times {
			pts[i] = valuePoint{T: t, V: reduce(vals[t], gfn)}
		}
		sj := SeriesJSON{Measurements: toPoints(pts)}
		if !all {
			sj.Tags = gtags[k]
		}
		out = append(out, sj)
	}
	return out
}
