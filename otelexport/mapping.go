package otelexport

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"math"
	"slices"
	"time"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/sdk/instrumentation"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"

	librato "github.com/librato-sdk/librato-go"
)

// metricKey identifies one OpenTelemetry metric of one resource and scope.
type metricKey struct {
	resource               string // the resource's attributes, encoded
	scope, version, schema string
	scopeAttrs             attribute.Distinct
	name, unit             string
	kind                   kind
}

type kind uint8

const (
	kindValue   kind = iota + 1 // gauges and non-monotonic sums: the value itself
	kindDelta                   // monotonic sums: a per-period delta
	kindSummary                 // histograms and summaries: count, sum, min, max
)

// metricState is what the exporter keeps about one metric.
type metricState struct {
	name string
	// forgotten is the latest time of a cumulative stream the exporter
	// forgot: a cumulative point that started before it may have been
	// counted already, so it only sets a baseline.
	forgotten time.Time
}

// stream is what the exporter keeps about one data point stream: its tags,
// and for cumulative data the last value seen.
type stream struct {
	attrs attribute.Set
	next  *stream // another stream whose attributes hash the same
	tags  *tagSet

	seen uint64 // export generation that last saw it
	last time.Time

	// cumulative to delta
	based bool
	start time.Time
	count uint64
	sum   float64

	carry carry
}

// streamKey finds a stream: its metric and its attributes' hash.
type streamKey struct {
	ms    *metricState
	attrs attribute.Distinct
}

// tagSet is the tags of one attribute set under one resource, shared by
// every stream (of any metric) with those attributes, and what the rules
// did to them.
type tagSet struct {
	attrs attribute.Set
	next  *tagSet // another set whose attributes hash the same
	tags  map[string]string
	seen  uint64 // export generation that last used it

	rewritten, overLimit, collided int32
}

// carry is a delta the batcher did not take, added to the stream's next
// measurement.
type carry struct {
	n              int
	t              int64
	count          uint64
	sum, min, max  float64
	hasMin, hasMax bool
}

// carried names a stream with a carry, so Export can retry it even when
// the stream does not come back.
type carried struct {
	ms *metricState
	s  *stream
	k  kind
}

// slab hands out streams, tag sets and floats in chunks, so a data point
// costs no allocation of its own for them.
type slab struct {
	streams []stream
	sets    []tagSet
	floats  []float64
}

func (sl *slab) tagSet() *tagSet {
	if len(sl.sets) == 0 {
		sl.sets = make([]tagSet, 64)
	}
	ts := &sl.sets[0]
	sl.sets = sl.sets[1:]
	return ts
}

func (sl *slab) stream() *stream {
	if len(sl.streams) == 0 {
		sl.streams = make([]stream, 64)
	}
	s := &sl.streams[0]
	sl.streams = sl.streams[1:]
	return s
}

// float returns a pointer to a fresh float holding v. The batcher keeps
// the pointer until the measurement is delivered, so floats are never
// reused.
func (sl *slab) float(v float64) *float64 {
	if len(sl.floats) == 0 {
		sl.floats = make([]float64, 1024)
	}
	p := &sl.floats[0]
	sl.floats = sl.floats[1:]
	*p = v
	return p
}

// exportRun is one Export (or Shutdown's last pass) over the state.
type exportRun struct {
	e     *Exporter
	ctx   context.Context
	final bool // Shutdown: carries that cannot be queued now are lost

	points, queued, notQueued, carried, lost, skipped, resets int64
	namesRewritten, tagsRewritten, tagsOverLimit, collisions  int64
	stranded                                                  int64
	newTrimmed                                                int // new attribute sets that lost tags
	ctxErr, invalidErr, otherErr                              error
	invalidN, ctxN, otherN                                    int64
}

func (x *exportRun) run(rm *metricdata.ResourceMetrics) {
	e := x.e
	e.gen++
	e.st.exports.Add(1)
	resKey := rm.Resource.Set().Encoded(attribute.DefaultEncoder())
	base := e.baseTagsFor(rm.Resource, resKey)
	for i := range rm.ScopeMetrics {
		sm := &rm.ScopeMetrics[i]
		for j := range sm.Metrics {
			m := &sm.Metrics[j]
			x.metric(resKey, &sm.Scope, m, base)
		}
	}
}

func (x *exportRun) state(resKey string, sc *instrumentation.Scope, m *metricdata.Metrics, k kind) *metricState {
	key := metricKey{
		resource: resKey, scope: sc.Name, version: sc.Version, schema: sc.SchemaURL,
		scopeAttrs: sc.Attributes.Equivalent(), name: m.Name, unit: m.Unit, kind: k,
	}
	ms := x.e.metrics[key]
	if ms == nil {
		name, changed := metricName(x.e.cfg.prefix, m.Name, m.Unit, x.e.cfg.unitSuffix)
		if changed {
			x.namesRewritten++
		}
		ms = &metricState{name: name}
		x.e.metrics[key] = ms
	}
	return ms
}

func (x *exportRun) metric(resKey string, sc *instrumentation.Scope, m *metricdata.Metrics, base *baseTags) {
	switch d := m.Data.(type) {
	case metricdata.Gauge[int64]:
		values(x, x.state(resKey, sc, m, kindValue), base, d.DataPoints)
	case metricdata.Gauge[float64]:
		values(x, x.state(resKey, sc, m, kindValue), base, d.DataPoints)
	case metricdata.Sum[int64]:
		sums(x, resKey, sc, m, base, d)
	case metricdata.Sum[float64]:
		sums(x, resKey, sc, m, base, d)
	case metricdata.Histogram[int64]:
		histograms(x, x.state(resKey, sc, m, kindSummary), base, d)
	case metricdata.Histogram[float64]:
		histograms(x, x.state(resKey, sc, m, kindSummary), base, d)
	case metricdata.ExponentialHistogram[int64]:
		expHistograms(x, x.state(resKey, sc, m, kindSummary), base, d)
	case metricdata.ExponentialHistogram[float64]:
		expHistograms(x, x.state(resKey, sc, m, kindSummary), base, d)
	case metricdata.Summary:
		summaries(x, x.state(resKey, sc, m, kindSummary), base, d)
	default:
		otel.Handle(fmt.Errorf("otelexport: metric %q: aggregation %T is not supported; it was not exported", m.Name, m.Data))
	}
}

func sums[N int64 | float64](x *exportRun, resKey string, sc *instrumentation.Scope, m *metricdata.Metrics, base *baseTags, d metricdata.Sum[N]) {
	if !d.IsMonotonic {
		values(x, x.state(resKey, sc, m, kindValue), base, d.DataPoints)
		return
	}
	ms := x.state(resKey, sc, m, kindDelta)
	cumulative := d.Temporality == metricdata.CumulativeTemporality
	for i := range d.DataPoints {
		dp := &d.DataPoints[i]
		s := x.stream(ms, base, dp.Attributes, dp.Time)
		v := float64(dp.Value)
		if cumulative {
			d, ok := x.cumulative(ms, s, dp.StartTime, 0, v)
			if !ok {
				continue
			}
			v = d.sum
		}
		x.addDelta(ms, s, x.timeOf(dp.Time), v)
	}
}

func values[N int64 | float64](x *exportRun, ms *metricState, base *baseTags, pts []metricdata.DataPoint[N]) {
	for i := range pts {
		dp := &pts[i]
		s := x.stream(ms, base, dp.Attributes, dp.Time)
		x.addValue(ms, s, x.timeOf(dp.Time), float64(dp.Value))
	}
}

// summary is one period's count, sum and extrema of a distribution.
type summary struct {
	count          uint64
	sum, min, max  float64
	hasMin, hasMax bool
}

func histograms[N int64 | float64](x *exportRun, ms *metricState, base *baseTags, d metricdata.Histogram[N]) {
	cumulative := d.Temporality == metricdata.CumulativeTemporality
	for i := range d.DataPoints {
		dp := &d.DataPoints[i]
		sm := summary{count: dp.Count, sum: float64(dp.Sum)}
		mn, okMin := dp.Min.Value()
		mx, okMax := dp.Max.Value()
		sm.min, sm.hasMin, sm.max, sm.hasMax = float64(mn), okMin, float64(mx), okMax
		x.distribution(ms, base, dp.Attributes, dp.StartTime, dp.Time, sm, cumulative)
	}
}

func expHistograms[N int64 | float64](x *exportRun, ms *metricState, base *baseTags, d metricdata.ExponentialHistogram[N]) {
	cumulative := d.Temporality == metricdata.CumulativeTemporality
	for i := range d.DataPoints {
		dp := &d.DataPoints[i]
		sm := summary{count: dp.Count, sum: float64(dp.Sum)}
		mn, okMin := dp.Min.Value()
		mx, okMax := dp.Max.Value()
		sm.min, sm.hasMin, sm.max, sm.hasMax = float64(mn), okMin, float64(mx), okMax
		x.distribution(ms, base, dp.Attributes, dp.StartTime, dp.Time, sm, cumulative)
	}
}

// summaries are cumulative by the data model; their quantiles cover a
// window of their own, so min and max are not taken from them.
func summaries(x *exportRun, ms *metricState, base *baseTags, d metricdata.Summary) {
	for i := range d.DataPoints {
		dp := &d.DataPoints[i]
		x.distribution(ms, base, dp.Attributes, dp.StartTime, dp.Time, summary{count: dp.Count, sum: dp.Sum}, true)
	}
}

func (x *exportRun) distribution(ms *metricState, base *baseTags, attrs attribute.Set, start, t time.Time, sm summary, cumulative bool) {
	s := x.stream(ms, base, attrs, t)
	if cumulative {
		d, ok := x.cumulative(ms, s, start, sm.count, sm.sum)
		if !ok {
			return
		}
		if !d.whole {
			// The extrema cover the whole cumulative interval, not this
			// period: leave them out rather than send wrong ones.
			sm.hasMin, sm.hasMax = false, false
		}
		sm.count, sm.sum = d.count, d.sum
	}
	x.addSummary(ms, s, x.timeOf(t), sm)
}

// delta is the change of a cumulative stream since its previous point.
type delta struct {
	count uint64
	sum   float64
	whole bool // the delta is the whole cumulative interval (a new or restarted stream)
}

// cumulative turns a cumulative value (and count, for distributions) into
// the delta since the stream's previous point. ok is false for the first
// point of a stream that may predate the exporter, or that the exporter
// forgot and may have counted already: it only sets the baseline.
func (x *exportRun) cumulative(ms *metricState, s *stream, start time.Time, count uint64, v float64) (delta, bool) {
	if !s.based {
		s.based, s.start, s.count, s.sum = true, start, count, v
		if start.Before(x.e.created) || !ms.forgotten.IsZero() && !start.After(ms.forgotten) {
			x.skipped++
			return delta{}, false
		}
		return delta{count: count, sum: v, whole: true}, true
	}
	if !start.Equal(s.start) || v < s.sum || count < s.count {
		x.resets++
		s.start, s.count, s.sum = start, count, v
		return delta{count: count, sum: v, whole: true}, true
	}
	d := delta{count: count - s.count, sum: v - s.sum}
	s.count, s.sum = count, v
	return d, true
}

// stream finds or makes the stream of attrs, and counts the data point.
func (x *exportRun) stream(ms *metricState, base *baseTags, attrs attribute.Set, t time.Time) *stream {
	x.points++
	key := attrs.Equivalent()
	head := x.e.streams[streamKey{ms, key}]
	s := head
	for s != nil && !s.attrs.Equals(&attrs) {
		s = s.next
	}
	if s == nil {
		s = x.e.slab.stream()
		s.attrs, s.next = attrs, head
		s.tags = x.tagSet(base, attrs)
		x.e.streams[streamKey{ms, key}] = s
	}
	s.seen, s.last, s.tags.seen = x.e.gen, t, x.e.gen
	x.tagsRewritten += int64(s.tags.rewritten)
	x.tagsOverLimit += int64(s.tags.overLimit)
	x.collisions += int64(s.tags.collided)
	return s
}

// tagSet finds or builds the tags of attrs under base.
func (x *exportRun) tagSet(base *baseTags, attrs attribute.Set) *tagSet {
	key := attrs.Equivalent()
	head := base.sets[key]
	ts := head
	for ts != nil && !ts.attrs.Equals(&attrs) {
		ts = ts.next
	}
	if ts == nil {
		ts = x.e.slab.tagSet()
		ts.attrs, ts.next = attrs, head
		x.buildTags(ts, base)
		base.sets[key] = ts
	}
	ts.seen = x.e.gen
	return ts
}

// buildTags gives ts its tags: the base tags, then the data point
// attributes in key order, rewritten; a name already taken and anything
// beyond the limit are left out and counted.
func (x *exportRun) buildTags(ts *tagSet, base *baseTags) {
	ts.rewritten, ts.overLimit, ts.collided = int32(base.rewritten), int32(base.overLimit), int32(base.collided)
	n := min(len(base.names)+ts.attrs.Len(), librato.MaxTagsPerStream)
	if n == 0 {
		return
	}
	tags := make(map[string]string, n)
	for i, name := range base.names {
		tags[name] = base.values[i]
	}
	for it := ts.attrs.Iter(); it.Next(); {
		kv := it.Attribute()
		name, rn := tagName(string(kv.Key))
		if _, taken := tags[name]; taken {
			ts.collided++
			continue
		}
		if len(tags) >= librato.MaxTagsPerStream {
			ts.overLimit++
			continue
		}
		value, rv := tagValue(kv.Value.Emit())
		if rn || rv {
			ts.rewritten++
		}
		tags[name] = value
	}
	if ts.overLimit > int32(base.overLimit) || ts.collided > int32(base.collided) {
		x.newTrimmed++
	}
	ts.tags = tags
}

func (x *exportRun) measurement(ms *metricState, s *stream, t int64) librato.Measurement {
	return librato.Measurement{Name: ms.name, Tags: s.tags.tags, Time: t, Period: x.e.periodS}
}

// timeOf floors t to the period; a missing time reads as now.
func (x *exportRun) timeOf(t time.Time) int64 {
	if t.IsZero() {
		t = time.Now()
	}
	u := t.Unix()
	if u <= 0 {
		return u
	}
	return u - u%x.e.periodS
}

// add queues m. It reports whether the batcher took it, and whether a
// value it did not take may be tried again later (the context ended, as
// opposed to an invalid value or a closed batcher).
func (x *exportRun) add(m *librato.Measurement) (queued, retry bool) {
	err := x.e.batcher.Add(x.ctx, *m)
	if err == nil {
		x.queued++
		return true, false
	}
	x.notQueued++
	var ve *librato.ValidationError
	switch {
	case errors.As(err, &ve):
		x.invalidN++
		if x.invalidErr == nil {
			x.invalidErr = err
		}
		return false, false
	case x.ctx.Err() != nil:
		x.ctxN++
		if x.ctxErr == nil {
			x.ctxErr = fmt.Errorf("%w (%w)", err, context.Cause(x.ctx))
		}
		return false, !x.final
	default:
		x.otherN++
		if x.otherErr == nil {
			x.otherErr = err
		}
		return false, false
	}
}

// addValue queues a gauge or non-monotonic sum; a value not taken is lost,
// since the stream's next value supersedes it.
func (x *exportRun) addValue(ms *metricState, s *stream, t int64, v float64) {
	m := x.measurement(ms, s, t)
	m.Value = v
	if ok, _ := x.add(&m); !ok {
		x.lost++
	}
}

// addDelta queues a monotonic sum's delta plus whatever the stream carries.
func (x *exportRun) addDelta(ms *metricState, s *stream, t int64, v float64) {
	v += s.carry.sum
	m := x.measurement(ms, s, t)
	m.Value = v
	ok, retry := x.add(&m)
	x.settle(ms, s, kindDelta, ok, retry, carry{t: t, sum: v})
}

// addSummary queues a distribution's summary merged with whatever the
// stream carries. A period without samples sends nothing.
func (x *exportRun) addSummary(ms *metricState, s *stream, t int64, sm summary) {
	if s.carry.n > 0 {
		sm = merge(sm, summary{count: s.carry.count, sum: s.carry.sum, min: s.carry.min, max: s.carry.max, hasMin: s.carry.hasMin, hasMax: s.carry.hasMax})
	}
	if sm.count == 0 {
		x.skipped++
		return
	}
	m := x.measurement(ms, s, t)
	m.Count = int64(min(sm.count, math.MaxInt64))
	m.Sum = x.e.slab.float(sm.sum)
	if sm.hasMin {
		m.Min = x.e.slab.float(sm.min)
	}
	if sm.hasMax {
		m.Max = x.e.slab.float(sm.max)
	}
	if sd, ok := stddev(sm); ok {
		m.StdDev = x.e.slab.float(sd)
	}
	ok, retry := x.add(&m)
	x.settle(ms, s, kindSummary, ok, retry, carry{t: t, count: sm.count, sum: sm.sum, min: sm.min, max: sm.max, hasMin: sm.hasMin, hasMax: sm.hasMax})
}

// settle clears the stream's carry once its value was queued, or carries
// the value not taken into the stream's next measurement.
func (x *exportRun) settle(ms *metricState, s *stream, k kind, ok, retry bool, c carry) {
	had := s.carry.n
	switch {
	case ok:
		s.carry = carry{}
	case retry:
		c.n = had + 1
		s.carry = c
		x.carried++
		if had == 0 {
			x.e.carrying = append(x.e.carrying, carried{ms: ms, s: s, k: k})
		}
	default:
		if x.final && had > 0 {
			x.stranded++
		}
		s.carry = carry{}
		x.lost++
	}
}

// retryCarried queues again the carried values of streams this export did
// not see (all of them at Shutdown), at the time they were meant for.
func (x *exportRun) retryCarried() {
	e := x.e
	list := e.carrying
	e.carrying = nil
	for _, c := range list {
		if c.s.carry.n == 0 {
			continue
		}
		if c.s.seen == e.gen && !x.final {
			e.carrying = append(e.carrying, c) // already merged into this export
			continue
		}
		n := len(e.carrying)
		switch c.k {
		case kindDelta:
			x.addDelta(c.ms, c.s, c.s.carry.t, 0)
		case kindSummary:
			x.addSummary(c.ms, c.s, c.s.carry.t, summary{})
		}
		if c.s.carry.n > 0 && len(e.carrying) == n {
			e.carrying = append(e.carrying, c)
		}
	}
}

// merge combines two summaries of one stream. An extremum is known only
// if every part with samples knows it.
func merge(a, b summary) summary {
	switch {
	case a.count == 0:
		return b
	case b.count == 0:
		return a
	}
	out := summary{count: a.count + b.count, sum: a.sum + b.sum}
	if a.hasMin && b.hasMin {
		out.min, out.hasMin = math.Min(a.min, b.min), true
	}
	if a.hasMax && b.hasMax {
		out.max, out.hasMax = math.Max(a.max, b.max), true
	}
	return out
}

// stddev is the population standard deviation where count, min and max
// determine it exactly: one sample (0), all samples equal (min == max: 0),
// or two samples (they are min and max: (max-min)/2). Otherwise it is
// unknown: OpenTelemetry keeps no sum of squares, and buckets only bound it.
func stddev(sm summary) (float64, bool) {
	switch {
	case sm.count == 1:
		return 0, true
	case !sm.hasMin || !sm.hasMax:
		return 0, false
	case sm.min == sm.max:
		return 0, true
	case sm.count == 2:
		return (sm.max - sm.min) / 2, true
	}
	return 0, false
}

// publish adds the run's counts to the exporter's and tells the error
// handler about new streams that lost tags.
func (x *exportRun) publish() {
	st := &x.e.st
	st.dataPoints.Add(x.points)
	st.queued.Add(x.queued)
	st.notQueued.Add(x.notQueued)
	st.carried.Add(x.carried)
	st.lost.Add(x.lost)
	st.skipped.Add(x.skipped)
	st.resets.Add(x.resets)
	st.namesRewritten.Add(x.namesRewritten)
	st.tagsRewritten.Add(x.tagsRewritten)
	st.tagsOverLimit.Add(x.tagsOverLimit)
	st.tagCollisions.Add(x.collisions)
	if x.newTrimmed > 0 {
		otel.Handle(fmt.Errorf("otelexport: %d new attribute set(s) lost attributes: a stream holds at most %d tags (kept: WithTags, resource attributes in order, then data point attributes by name) and a rewritten name may be taken; see Stats.TagsOverLimit and Stats.TagCollisions", x.newTrimmed, librato.MaxTagsPerStream))
	}
}

// err is what Export returns: what was not queued, and why.
func (x *exportRun) err() error {
	var errs []error
	if x.ctxN > 0 {
		errs = append(errs, fmt.Errorf("otelexport: %d measurement(s) not queued before the context ended; sums and histograms are carried into the next export: %w", x.ctxN, x.ctxErr))
	}
	if x.invalidN > 0 {
		errs = append(errs, fmt.Errorf("otelexport: %d measurement(s) refused as invalid: %w", x.invalidN, x.invalidErr))
	}
	if x.otherN > 0 {
		errs = append(errs, fmt.Errorf("otelexport: %d measurement(s) not queued: %w", x.otherN, x.otherErr))
	}
	return errors.Join(errs...)
}

func sortedKeys(m map[string]string) []string {
	return slices.Sorted(maps.Keys(m))
}
