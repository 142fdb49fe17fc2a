package api

import (
	"cmp"
	"maps"
	"math"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/librato-sdk/librato-go/mock/internal/tsdb"
)

// The legacy, source-based API: POST /v1/metrics submits gauges and
// counters with sources, GET /v1/metrics/:name with time parameters reads
// them back. Legacy measurements live in the same store as tagged ones:
// a source S is the tag {"source": S} (case-insensitive, stored
// lower-cased), no source is no tags, measure_time is the time, a gauge
// summary keeps its fields and sum_squares. So tagged reads see legacy
// data through the source tag, and legacy reads see tagged data: a stream
// with a source tag is that source, every other stream reads as
// "unassigned", streams of one source merged. Recorded lists legacy
// submissions too, with the source as a tag.
//
// Counters store the raw values clients send (librato-node and statsd
// send running totals) and every plain read (legacy, tagged, composite
// series()) answers those values, so a client reads back what it sent;
// their summaries (summarize_time and the legacy "all" series) describe
// their deltas, as the legacy reference says (tsdb's counterDelta).
// Tagged summary_function=derivative and composite derive() give the
// deltas of any read. GET /v1/metrics reports their type as counter; a
// tagged POST to a counter's name is a type conflict (tagged
// measurements are gauges), refused as the legacy route refuses a gauge
// sent to a counter.

// --- POST /v1/metrics ----------------------------------------------------------

// legacyItem is one measurement of a gauges or counters collection, with
// the key it had in a hashed collection.
type legacyItem struct {
	o   obj
	key string
}

// legacyItems reads the gauges or counters collection: a list (JSON
// array, or a form's gauges[0][...] keys) or an object keyed by metric
// name or by anything ("0", "1", with a name inside). Hashed entries come
// in key order, numeric keys by number.
func legacyItems(o obj, kind string) []legacyItem {
	v, ok := o.raw(kind)
	if !ok {
		return nil
	}
	var items []legacyItem
	switch t := v.(type) {
	case []any:
		for i, x := range t {
			if mo, ok := o.item(kind, i, x); ok {
				items = append(items, legacyItem{o: mo})
			}
		}
	case map[string]any:
		keys := slices.Sorted(maps.Keys(t))
		slices.SortStableFunc(keys, func(a, b string) int {
			x, errA := strconv.Atoi(a)
			y, errB := strconv.Atoi(b)
			if errA == nil && errB == nil {
				return cmp.Compare(x, y)
			}
			return strings.Compare(a, b)
		})
		for _, k := range keys {
			path := o.key(kind) + "[" + k + "]"
			m, ok := t[k].(map[string]any)
			if !ok {
				o.errs.add(path, "is invalid: expected an object")
				continue
			}
			items = append(items, legacyItem{o: o.child(m, path), key: k})
		}
	default:
		o.invalid(kind, "is invalid: expected a list or an object of measurements")
	}
	return items
}

// legacySourceField reads a source; blank is none.
func legacySourceField(o obj, k string) (string, bool) {
	s, ok := o.str(k)
	if !ok || strings.TrimSpace(s) == "" {
		return "", false
	}
	switch {
	case !tsdb.ValidName(s):
		o.invalid(k, tsdb.MsgName)
	case strings.EqualFold(s, "all"):
		o.invalid(k, "is reserved: all names the summary of every source")
	}
	return s, true
}

// legacyMetricsCreate answers POST /v1/metrics: 200 without a body, or
// 400 with errors.params keyed like "gauges[0].name" (or
// "gauges[login-delay].value" in a hashed collection); one invalid
// measurement stores nothing. gauges and counters are a JSON array, an
// object hashed by metric name, an object with any keys and a name inside
// (the name wins over the key), or forms
// (gauges[0][name]=cpu&gauges[0][value]=75, gauges[login-delay][value]=3.5);
// hashed entries are taken in key order, numeric keys by number.
// Top-level source, measure_time and period are the defaults of each
// measurement; metric properties apply when the request creates the
// metric. Sources use the name characters and may not be "all".
//
// Rules the documentation leaves open: a summary (count) needs sum and
// excludes value; min, max and sum_squares need count; count >= 1,
// min <= max, min <= sum/count <= max and sum_squares >= sum²/count are
// enforced (to a relative 1e-9); counters take a value only. A gauge sent
// to a counter's name, a counter to a gauge's (tagged metrics are
// gauges), or either to a composite is a type conflict, a 400 naming
// every metric in conflict under errors.params.type (typeConflicts) that
// stores nothing, gauges included. A type field, if sent, must match the
// collection. No age limit on measure_time.
func (c *call) legacyMetricsCreate() *Reply {
	errs := perrs{}
	o := c.fields(errs)
	topSource, _ := legacySourceField(o, "source")
	topTime, hasTopTime := o.epoch("measure_time")
	topPeriod, hasTopPeriod := o.int("period")
	if hasTopPeriod && topPeriod <= 0 {
		o.invalid("period", "must be a positive number of seconds")
	}
	var in []tsdb.Input
	n := 0
	for _, kind := range [...]string{"gauges", "counters"} {
		typ := strings.TrimSuffix(kind, "s")
		for _, it := range legacyItems(o, kind) {
			n++
			m := c.legacyMeasurement(it, kind, typ)
			m.Tags, m.HasTags = nil, false
			src := topSource
			if s, ok := legacySourceField(it.o, "source"); ok {
				src = s
			}
			if src != "" {
				m.Tags, m.HasTags = []tsdb.TagPair{{K: []byte("source"), V: []byte(src)}}, true
			}
			if m.S.T == 0 {
				m.S.T = c.now.Unix()
				if hasTopTime {
					m.S.T = topTime
				}
			}
			if m.Period == 0 && hasTopPeriod {
				m.Period = topPeriod
			}
			in = append(in, m)
		}
	}
	if n == 0 && !errs.has("gauges") && !errs.has("counters") {
		o.invalid("gauges", "is required: send at least one gauge or counter measurement")
	}
	if len(errs) == 0 {
		typeConflicts(errs, c.a.db.TypeConflicts(in))
	}
	if rep := errs.reply(); rep != nil {
		return rep
	}
	ua := c.r.UserAgent()
	for i := range in {
		c.a.db.Put(&in[i], ua)
	}
	return &Reply{Status: http.StatusOK}
}

// legacyMeasurement validates one gauge or counter; the caller adds the
// source and the batch's defaults.
func (c *call) legacyMeasurement(it legacyItem, kind, typ string) tsdb.Input {
	mo := it.o
	m := tsdb.Input{Type: typ}
	name, ok := mo.str("name")
	if !ok && !mo.has("name") && it.key != "" {
		name, ok = it.key, true
	}
	switch {
	case !ok && mo.has("name"):
	case strings.TrimSpace(name) == "":
		mo.invalid("name", "is required")
	case !tsdb.ValidName(name):
		mo.invalid("name", tsdb.MsgName)
	default:
		m.Name = []byte(name)
	}
	if t, ok := mo.epoch("measure_time"); ok {
		m.S.T = t
	}
	if v, ok := mo.str("type"); ok && v != typ {
		mo.invalid("type", "must be "+typ+" under "+kind)
	}
	// Metric properties, as PUT /v1/metrics/:name takes them; type and
	// composite are not properties of a submission.
	props := make(map[string]any, len(mo.m))
	for k, v := range mo.m {
		if k != "type" && k != "composite" {
			props[k] = v
		}
	}
	m.Props = readMetricProps(mo.child(props, mo.path), false)
	if m.Props.Period != nil {
		m.Period = *m.Props.Period
		m.Props.Period = nil
	}
	floats := map[string]float64{}
	for _, k := range []string{"value", "sum", "min", "max", "sum_squares"} {
		if f, ok := mo.float(k); ok {
			if f, ok := checkMagnitude(mo, k, f); ok {
				floats[k] = f
			}
		}
	}
	count, hasCount := mo.int("count")
	if typ == "counter" {
		for _, k := range []string{"count", "sum", "min", "max", "sum_squares"} {
			if mo.has(k) {
				mo.invalid(k, "is only valid for gauges: a counter takes a value")
			}
		}
		hasCount = false
	}
	if !hasCount {
		if typ == "gauge" {
			for _, k := range []string{"sum", "min", "max", "sum_squares"} {
				if mo.has(k) {
					mo.invalid(k, "is only valid together with count")
				}
			}
		}
		if v, ok := floats["value"]; ok {
			m.S.Count, m.S.Sum = 1, v
		} else if !mo.has("value") {
			mo.invalid("value", "is required (or count and sum for a gauge summary)")
		}
		m.S.Finish()
		return m
	}
	if count <= 0 {
		mo.invalid("count", "must be a positive integer")
	}
	if mo.has("value") {
		mo.invalid("value", "cannot be combined with count")
	}
	sum, hasSum := floats["sum"]
	if !mo.has("sum") {
		mo.invalid("sum", "is required when count is given")
	}
	m.S.Count, m.S.Sum, m.S.Flags = count, sum, tsdb.SentSummary
	if v, ok := floats["min"]; ok {
		m.S.Min, m.S.Flags = v, m.S.Flags|tsdb.SentMin
	}
	if v, ok := floats["max"]; ok {
		m.S.Max, m.S.Flags = v, m.S.Flags|tsdb.SentMax
	}
	if v, ok := floats["sum_squares"]; ok {
		m.S.SumSq, m.S.Flags = v, m.S.Flags|tsdb.SentSumSq
	}
	if hasSum && count > 0 {
		checkSummary(mo, &m.S)
	}
	m.S.Finish()
	return m
}

// checkSummary enforces the consistency a set of samples implies, to a
// relative 1e-9 so rounding in the client's arithmetic passes.
func checkSummary(mo obj, s *tsdb.Sample) {
	mean := s.Sum / float64(s.Count)
	tol := func(vs ...float64) float64 {
		m := 1.0
		for _, v := range vs {
			m = max(m, math.Abs(v))
		}
		return 1e-9 * m
	}
	hasMin, hasMax := s.Flags&tsdb.SentMin != 0, s.Flags&tsdb.SentMax != 0
	if hasMin && hasMax && s.Min > s.Max {
		mo.invalid("min", "is greater than max")
	}
	if hasMin && s.Min > mean+tol(mean, s.Min) {
		mo.invalid("min", "is greater than the mean, sum/count")
	}
	if hasMax && s.Max < mean-tol(mean, s.Max) {
		mo.invalid("max", "is less than the mean, sum/count")
	}
	if s.Flags&tsdb.SentSumSq != 0 {
		floor := s.Sum * s.Sum / float64(s.Count)
		if s.SumSq < floor-tol(floor, s.SumSq) {
			mo.invalid("sum_squares", "is less than sum²/count: no set of samples has these values")
		}
	}
}

// --- GET /v1/metrics/:name with time parameters -------------------------------

// hasLegacyWindow reports whether a metric read asks for measurements.
func hasLegacyWindow(q url.Values) bool {
	for _, k := range [...]string{"start_time", "end_time", "count", "resolution"} {
		if q.Has(k) {
			return true
		}
	}
	return false
}

type legacyMetricJSON struct {
	tsdb.MetricJSON
	Resolution   int64                          `json:"resolution"`
	Measurements map[string][]tsdb.LegacyRecord `json:"measurements"`
	Query        *legacyQueryJSON               `json:"query,omitempty"`
}

type legacyQueryJSON struct {
	NextTime int64 `json:"next_time"`
}

var legacyGroupBy = []string{"min", "max", "mean", "sum", "count"}

// legacyMeasurements answers GET /v1/metrics/:name with time parameters
// (start_time, end_time, count or resolution; without them the read is
// metadata only): the metric with resolution and measurements keyed by
// source ("unassigned", and "all" for summaries; tsdb.LegacyRecord says
// what a record holds). start_time is required unless count is given;
// count with both start_time and end_time is 400; source is a '*'
// pattern and sources[] an exact list (both ignore case); group_by on a
// counter is 400.
//
// Choices: the window is [start_time, end_time] (end_time defaults to
// now); count N alone or with end_time is the last N records up to it,
// with start_time the first N from it, counted per source after
// bucketing. Points are bucketed by floor(t/resolution)*resolution and
// merged by the rules of package tsdb (value is the mean); without
// resolution the answer says resolution 1 and each second is a bucket, so
// points of one source at the same second are merged. summarize_time merges a source's
// records into one at its first record's time, with rollups. The "all"
// series (summarize_sources, group_by, or breakout_sources=false) merges
// the sources' records of each time, or everything with summarize_time,
// and carries summarized (sources merged) and count (all their samples);
// with group_by each statistic is instead the function over the sources'
// statistic (count: the number of sources). group_by applies to gauges
// and hides the per-source series unless breakout_sources=true. Records
// are cut at Env.LegacyPage without count:
// the page ends before the first time that does not fit entirely, and
// query.next_time is that time.
func (c *call) legacyMeasurements(m *tsdb.Metric) *Reply {
	errs := perrs{}
	q := c.q
	get := func(k string) (int64, bool) { return c.wholeParam(errs, k, "is invalid: expected a whole number") }
	start, hasStart := c.timeParam(errs, "start_time", msgTimeParam)
	end, hasEnd := c.timeParam(errs, "end_time", msgTimeParam)
	count, hasCount := get("count")
	res, hasRes := get("resolution")
	switch {
	case hasCount && count == 0:
		errs.add("count", "must be a positive number of measurements")
	case hasCount && hasStart && hasEnd:
		errs.add("count", "cannot be combined with both start_time and end_time")
	}
	if !hasStart && !hasCount && !errs.has("start_time") && !errs.has("count") {
		errs.add("start_time", "is required unless count is given")
	}
	if hasRes && (res <= 0 || res > tsdb.MaxRes) {
		errs.add("resolution", "must be from 1 to "+strconv.Itoa(tsdb.MaxRes)+" seconds")
	}
	if hasStart && hasEnd && end < start {
		errs.add("end_time", "is before start_time")
	}
	flag := func(k string, def bool) (bool, bool) {
		v := q.Get(k)
		if v == "" {
			return def, false
		}
		b, ok := boolean(v)
		if !ok {
			errs.add(k, "is invalid: expected true or false")
		}
		return b, true
	}
	summarizeTime, _ := flag("summarize_time", false)
	summarizeSources, _ := flag("summarize_sources", false)
	groupBy := q.Get("group_by")
	breakout, breakoutSet := flag("breakout_sources", true)
	if groupBy != "" {
		switch {
		case !slices.Contains(legacyGroupBy, groupBy):
			errs.add("group_by", "must be one of "+strings.Join(legacyGroupBy, ", "))
		case m.Type == "counter":
			errs.add("group_by", "applies to gauges only")
		}
		if !breakoutSet {
			breakout = false
		}
	}
	if m.Type == "composite" {
		errs.add("name", "is a composite metric: read it with GET /v1/metrics?compose=...")
	}
	if rep := errs.reply(); rep != nil {
		return rep
	}
	wantAll := summarizeSources || groupBy != "" || !breakout
	if !hasEnd {
		end = c.now.Unix()
	}
	lo, hi := start, end
	switch {
	case hasCount && hasStart:
		hi = math.MaxInt64
	case hasCount:
		lo = math.MinInt64
	}
	bucket := int64(1)
	if hasRes {
		bucket = res
	}
	// sources[] is an exact list, ignoring case: a set, so its length costs
	// nothing per source.
	var exact map[string]bool
	for _, p := range slices.Concat(q["sources[]"], q["sources"]) {
		if exact == nil {
			exact = map[string]bool{}
		}
		exact[strings.ToLower(p)] = true
	}
	selected := func(src string) bool {
		if p := q.Get("source"); p != "" && !c.filters().Glob(p, src) {
			return false
		}
		return exact == nil || exact[strings.ToLower(src)]
	}

	out := tsdb.LegacyRead(m, tsdb.LegacyQuery{
		Lo: lo, Hi: hi, Bucket: bucket, Count: count, HasCount: hasCount, FromStart: hasStart,
		SummarizeTime: summarizeTime, WantAll: wantAll, Breakout: breakout, GroupBy: groupBy, Selected: selected,
	})
	body := legacyMetricJSON{MetricJSON: m.JSON(), Resolution: bucket, Measurements: out}
	if !hasCount {
		if next, cut := tsdb.PageByTime(out, c.a.env.LegacyPage); cut {
			body.Query = &legacyQueryJSON{NextTime: next}
		}
	}
	return OK(body)
}
