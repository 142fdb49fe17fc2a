package tsdb

import (
	"cmp"
	"encoding/json"
	"iter"
	"maps"
	"math"
	"slices"
	"strings"

	librato "github.com/librato-sdk/librato-go"
)

// The measurement store. Every accepted measurement, tagged or legacy,
// becomes one sample appended to its stream's columns; names and tag sets
// are interned once per account, so ingesting a measurement of a known
// stream allocates nothing beyond the amortised growth of the columns and
// the log. Recorded is derived from the log, a compact list of (stream,
// sample index, name as sent, tags as sent) entries. Streams keep
// acceptance order and find a time range by binary search.
//
// A stream holds one live sample per second: a sample whose time an
// earlier one of the stream has replaces it (last write wins), so a
// repeated submission of timed measurements, such as a retry after a lost
// answer, records nothing new. The replaced sample stays in the columns,
// marked dead, for Recorded, which lists every measurement accepted. A
// metric with the attribute aggregate (service-side aggregation) keeps
// every sample instead, and reads merge them. A stream written out of time
// order, or with dead samples, gets a sorted copy of its live samples for
// reads, rebuilt when it changes.

// Sample is one stored measurement; a plain value is a summary of one
// sample. The fields a measurement did not send hold their derived
// values (see finish); flags say which were sent.
type Sample struct {
	T      int64
	Count  int64
	Sum    float64
	Min    float64
	Max    float64
	last   float64
	stddev float64
	SumSq  float64
	Flags  sampleFlags
}

type sampleFlags uint16

const (
	SentSummary sampleFlags = 1 << iota // sent as a summary (count and sum)
	SentMin                             // min sent (summaries only)
	SentMax                             // max sent (summaries only)
	sLastSent                           // last sent
	sStdDevSent                         // stddev sent
	SentSumSq                           // legacy sum_squares sent
	sStdDev                             // stddev known: sent, derived from sum_squares, or one sample
	sSumSq                              // sumsq known: sent, one sample, or derived from a sent stddev
	sDead                               // replaced by a later sample of the same time
)

func (s *Sample) mean() float64 { return s.Sum / float64(max(s.Count, 1)) }

// Finish derives what the measurement did not send: min, max and last
// default to the mean; a summary with sum_squares has the population
// standard deviation sqrt(sum_squares/count - mean²); a single sample has
// stddev 0; a summary sent with neither stddev nor sum_squares has no
// known stddev and does not take part in stddev averages. The sum of
// squares is known from sum_squares, a single sample (v²) or a stddev
// (count·(stddev² + mean²)).
func (s *Sample) Finish() {
	m := s.mean()
	if s.Flags&SentMin == 0 {
		s.Min = m
	}
	if s.Flags&SentMax == 0 {
		s.Max = m
	}
	if s.Flags&sLastSent == 0 {
		s.last = m
	}
	switch {
	case s.Flags&sStdDevSent != 0:
		s.Flags |= sStdDev
	case s.Flags&SentSumSq != 0:
		s.stddev = math.Sqrt(max(s.SumSq/float64(max(s.Count, 1))-m*m, 0))
		s.Flags |= sStdDev
	case s.Count == 1:
		s.stddev = 0
		s.Flags |= sStdDev
	}
	switch {
	case s.Flags&SentSumSq != 0:
		s.Flags |= sSumSq
	case s.Flags&sStdDev != 0:
		s.SumSq = float64(s.Count) * (s.stddev*s.stddev + m*m)
		s.Flags |= sSumSq
	}
}

// stream is the samples of one (metric, stored tag set).
type stream struct {
	id       uint32            // index in measureStore.streams
	tags     map[string]string // lower-cased names and values; shared, read-only
	key      string            // tagKey(tags)
	source   string            // the legacy source this stream reads as
	cols     sampleCols        // every sample, in acceptance order; log entries index it
	disorder bool              // some sample is older than one before it
	dead     int               // samples marked sDead
	at       map[int64]uint32  // time -> its live sample, once disorder (built on demand)
	live     sampleCols        // the live samples sorted by time, while disorder or dead > 0
	liveOK   bool              // live is up to date
}

// sampleCols stores samples column by column, so a query reads only the
// columns its summary needs: time and sum for a sum, not 72 bytes a
// sample.
type sampleCols struct {
	t       []int64
	sum     []float64
	count   []int64
	rest    []sampleRest
	summary bool // some sample has a count other than 1
}

// sampleRest is the columns of a sample that few queries read.
type sampleRest struct {
	min, max, last, stddev, sumsq float64
	flags                         sampleFlags
}

func (c *sampleCols) len() int { return len(c.t) }

func (c *sampleCols) add(s *Sample) {
	c.t = append(c.t, s.T)
	c.sum = append(c.sum, s.Sum)
	c.count = append(c.count, s.Count)
	c.summary = c.summary || s.Count != 1
	c.rest = append(c.rest, sampleRest{min: s.Min, max: s.Max, last: s.last, stddev: s.stddev, sumsq: s.SumSq, flags: s.Flags})
}

func (c *sampleCols) at(i int) Sample {
	r := &c.rest[i]
	return Sample{T: c.t[i], Count: c.count[i], Sum: c.sum[i], Min: r.min, Max: r.max, last: r.last, stddev: r.stddev, SumSq: r.sumsq, Flags: r.flags}
}

// add appends s and returns its index; with replace, the live sample of
// the same time, if any, is marked dead.
func (st *stream) add(s *Sample, replace bool) uint32 {
	n := st.cols.len()
	// In time order, only a time up to the last can be taken.
	if n > 0 && (st.disorder || s.T <= st.cols.t[n-1]) {
		if replace {
			if i, ok := st.liveAt(s.T); ok {
				st.cols.rest[i].flags |= sDead
				st.dead++
			}
		}
		if s.T < st.cols.t[n-1] {
			st.disorder = true
		}
	}
	st.cols.add(s)
	if st.at != nil {
		st.at[s.T] = uint32(n)
	}
	st.liveOK = false
	return uint32(n)
}

// liveAt finds the live sample of time t: the last one of that time, as a
// sample replaces the live one before it.
func (st *stream) liveAt(t int64) (int, bool) {
	ts := st.cols.t
	if n := len(ts); n > 0 && ts[n-1] == t {
		return n - 1, true // the newest sample of a time is its live one: a repeat of the last second is the common case
	}
	if !st.disorder {
		// Times do not decrease: those equal to t are adjacent.
		j, _ := slices.BinarySearch(ts, t+1)
		if j > 0 && ts[j-1] == t {
			return j - 1, true
		}
		return 0, false
	}
	if st.at == nil {
		st.at = make(map[int64]uint32, len(ts))
		for i, v := range ts {
			st.at[v] = uint32(i)
		}
	}
	i, ok := st.at[t]
	return int(i), ok
}

// sorted returns the live samples ascending by time (acceptance order
// among equal times, which only a metric with aggregate keeps). Streams
// written in time order without a replaced sample need no copy.
func (st *stream) sorted() *sampleCols {
	if !st.disorder && st.dead == 0 {
		return &st.cols
	}
	if !st.liveOK {
		order := make([]int, 0, st.cols.len()-st.dead)
		for i := range st.cols.t {
			if st.cols.rest[i].flags&sDead == 0 {
				order = append(order, i)
			}
		}
		if st.disorder {
			slices.SortStableFunc(order, func(a, b int) int { return cmp.Compare(st.cols.t[a], st.cols.t[b]) })
		}
		var c sampleCols
		for _, i := range order {
			s := st.cols.at(i)
			c.add(&s)
		}
		st.live, st.liveOK = c, true
	}
	return &st.live
}

// legacySource is the source a stream reads as in the legacy API: its
// "source" tag, or unassigned.
func legacySource(tags map[string]string) string {
	if s, ok := tags["source"]; ok {
		return s
	}
	return "unassigned"
}

func newMetric(name, typ string) *Metric {
	return &Metric{Name: name, Type: typ, byTags: map[uint32]*stream{}}
}

// sortedStreams returns the metric's streams ordered by their tag pairs.
func (m *Metric) sortedStreams() []*stream {
	if m.unsorted {
		slices.SortFunc(m.streams, func(a, b *stream) int { return strings.Compare(a.key, b.key) })
		m.unsorted = false
	}
	return m.streams
}

// --- interning and the acceptance log ---------------------------------------

// measureStore is an account's interned names and tag sets and its log
// of accepted measurements.
type measureStore struct {
	nameIDs   map[string]uint32 // metric name as sent -> index in names
	names     []string
	sentIDs   map[string]uint32 // tag set as sent ("name\x00value\x00" in name order) -> index in sent; 0 is "no tags"
	sent      []sentTags
	storedIDs map[string]uint32 // stored tag set (tagKey) -> index in stored
	stored    []storedTags
	streams   []*stream // every stream ever created, by id; log entries refer to them
	log       []logEntry
	extra     []recExtra
	scratch   []byte
}

type sentTags struct {
	tags   map[string]string // as the client sent them; nil for "no tags"
	stored uint32
}

type storedTags struct {
	tags map[string]string
	key  string
}

// logEntry is one accepted measurement: its sample, the name and tags it
// was sent with, its effective period and its metric properties. It holds
// no pointers, so a long log costs the garbage collector nothing.
type logEntry struct {
	st     uint32 // index in measureStore.streams
	idx    uint32
	name   uint32
	tags   uint32
	extra  int32 // index in extra, or -1
	period int64 // 0: none
}

// recExtra is what Recorded reports of a measurement's metric properties.
type recExtra struct {
	displayName, description string
	attrs                    *librato.MetricAttributes
}

func newMeasureStore() measureStore {
	return measureStore{
		nameIDs:   map[string]uint32{},
		sentIDs:   map[string]uint32{},
		sent:      []sentTags{{}},
		storedIDs: map[string]uint32{},
	}
}

// TagPair is one tag as sent; the pairs of a measurement are sorted by name
// and have distinct names.
type TagPair struct{ K, V []byte }

// Input is one validated measurement on its way into the store.
type Input struct {
	Name    []byte
	Tags    []TagPair // effective tags as sent, sorted by name
	HasTags bool      // the effective tag set is an object, possibly empty
	S       Sample    // finished
	Period  int64     // effective period, 0 for none
	Props   MetricProps
	Type    string // type of a metric this creates: "gauge" or "counter"
}

// sentTagID interns the tag set as sent and returns its id.
func (ms *measureStore) sentTagID(m *Input) uint32 {
	if !m.HasTags {
		return 0
	}
	b := ms.scratch[:0]
	for _, p := range m.Tags {
		b = append(b, p.K...)
		b = append(b, 0)
		b = append(b, p.V...)
		b = append(b, 0)
	}
	ms.scratch = b
	if id, ok := ms.sentIDs[string(b)]; ok {
		return id
	}
	sent := make(map[string]string, len(m.Tags))
	lower := make(map[string]string, len(m.Tags))
	for _, p := range m.Tags {
		sent[string(p.K)] = string(p.V)
		// Names that differ only in case collide once lower-cased; the
		// last in name order wins, deterministically.
		lower[strings.ToLower(string(p.K))] = strings.ToLower(string(p.V))
	}
	key := tagKey(lower)
	sid, ok := ms.storedIDs[key]
	if !ok {
		sid = uint32(len(ms.stored))
		ms.stored = append(ms.stored, storedTags{tags: lower, key: key})
		ms.storedIDs[key] = sid
	}
	id := uint32(len(ms.sent))
	ms.sent = append(ms.sent, sentTags{tags: sent, stored: sid})
	ms.sentIDs[string(b)] = id
	return id
}

// storedTagID is the stored tag set of a sent one; "no tags" is the empty set.
func (ms *measureStore) storedTagID(sent uint32) uint32 {
	if sent != 0 {
		return ms.sent[sent].stored
	}
	if sid, ok := ms.storedIDs[""]; ok {
		return sid
	}
	sid := uint32(len(ms.stored))
	ms.stored = append(ms.stored, storedTags{tags: map[string]string{}})
	ms.storedIDs[""] = sid
	return sid
}

func (ms *measureStore) nameID(name []byte) uint32 {
	if id, ok := ms.nameIDs[string(name)]; ok {
		return id
	}
	id := uint32(len(ms.names))
	s := string(name)
	ms.names = append(ms.names, s)
	ms.nameIDs[s] = id
	return id
}

// lowerKey returns name lower-cased, in scratch space when it has capitals.
func (ms *measureStore) lowerKey(name []byte) []byte {
	for i, c := range name {
		if 'A' <= c && c <= 'Z' {
			b := append(ms.scratch[:0], name...)
			for j := i; j < len(b); j++ {
				if 'A' <= b[j] && b[j] <= 'Z' {
					b[j] += 'a' - 'A'
				}
			}
			ms.scratch = b
			return b
		}
	}
	return name
}

// Store is an account's metrics and their measurements: the metrics by
// lower-cased name, the interned names and tag sets, and the log of the
// measurements accepted. It is not safe for concurrent use: the
// account's lock guards it.
type Store struct {
	metrics map[string]*Metric
	ms      measureStore
	dec     ingestDecoder // reused from request to request
}

// NewStore returns an empty store.
func NewStore() *Store {
	return &Store{metrics: map[string]*Metric{}, ms: newMeasureStore()}
}

// Metric finds a metric by name, ignoring case; nil if there is none.
func (s *Store) Metric(name string) *Metric { return s.metrics[strings.ToLower(name)] }

// Metrics are the store's metrics, in no order.
func (s *Store) Metrics() iter.Seq[*Metric] { return maps.Values(s.metrics) }

// Len is how many metrics the store has.
func (s *Store) Len() int { return len(s.metrics) }

// Create adds a metric of type typ ("" until a property sets it) named
// name; the caller checked that the name is valid and free.
func (s *Store) Create(name, typ string) *Metric {
	m := newMetric(name, typ)
	s.metrics[strings.ToLower(name)] = m
	return m
}

// Delete removes the metric of name (ignoring case) with its
// measurements from the reads; Recorded keeps them. It reports whether
// there was one.
func (s *Store) Delete(name string) bool {
	key := strings.ToLower(name)
	_, ok := s.metrics[key]
	delete(s.metrics, key)
	return ok
}

// IsComposite reports whether name (no wildcards) is a composite metric.
func (s *Store) IsComposite(name string) bool {
	m := s.Metric(name)
	return m != nil && m.Type == "composite"
}

// Recorded rebuilds the measurements accepted, in acceptance order; see
// mock.Account.Recorded.
func (s *Store) Recorded() []librato.Measurement {
	out := make([]librato.Measurement, len(s.ms.log))
	for i := range s.ms.log {
		out[i] = s.ms.measurement(&s.ms.log[i])
	}
	return out
}

// RecordedCount is how many measurements were accepted.
func (s *Store) RecordedCount() int { return len(s.ms.log) }

// lookupMetric finds a metric by name, ignoring case.
func (s *Store) lookupMetric(name []byte) *Metric {
	return s.metrics[string(s.ms.lowerKey(name))]
}

// TypeConflicts returns one message for each metric that measurements of
// in would reach with another type than it has: tagged measurements
// (Input.Type "") and legacy gauges are gauges, legacy counters counters,
// and a composite takes none; a metric that does not exist yet has the
// type of the first measurement of in that names it. The messages are the
// API's, as statsd's Librato backend parses them to stop sending a metric
// ("'NAME' is a counter, but was submitted as different type"), in the
// order of in, NAME as the measurement sent it; nil when there is none.
func (s *Store) TypeConflicts(in []Input) []string {
	var out []string
	var created map[string]string // lower-cased name -> type, for metrics in creates
	for i := range in {
		m := &in[i]
		want := m.Type
		if want == "" {
			want = "gauge"
		}
		have := ""
		if mt := s.lookupMetric(m.Name); mt != nil {
			have = mt.Type
			if have == "" {
				have = "gauge"
			}
		} else {
			key := s.ms.lowerKey(m.Name)
			if t, ok := created[string(key)]; ok {
				have = t
			} else {
				if created == nil {
					created = map[string]string{}
				}
				created[string(key)] = want
				continue
			}
		}
		if have != want {
			msg := "'" + string(m.Name) + "' is a " + have + ", but was submitted as different type"
			if !slices.Contains(out, msg) {
				out = append(out, msg)
			}
		}
	}
	return out
}

// Put stores one validated measurement, creating its metric on first use
// with the measurement's properties and the caller's User-Agent.
func (s *Store) Put(m *Input, ua string) {
	ms := &s.ms
	mt := s.lookupMetric(m.Name)
	if mt == nil {
		typ := m.Type
		if typ == "" {
			typ = "gauge"
		}
		mt = newMetric(string(m.Name), typ)
		p := m.Props
		if m.Period > 0 {
			period := m.Period
			p.Period = &period
		}
		mt.Apply(p)
		if ua != "" {
			if mt.Attrs == nil {
				mt.Attrs = map[string]any{}
			}
			if _, ok := mt.Attrs["created_by_ua"]; !ok {
				mt.Attrs["created_by_ua"] = ua
			}
		}
		s.metrics[strings.ToLower(mt.Name)] = mt
	}
	tid := ms.sentTagID(m)
	sid := ms.storedTagID(tid)
	st := mt.byTags[sid]
	if st == nil {
		tags := ms.stored[sid].tags
		st = &stream{id: uint32(len(ms.streams)), tags: tags, key: ms.stored[sid].key, source: legacySource(tags)}
		ms.streams = append(ms.streams, st)
		mt.byTags[sid] = st
		mt.streams = append(mt.streams, st)
		mt.unsorted = true
	}
	e := logEntry{st: st.id, idx: st.add(&m.S, !mt.aggregate), name: ms.nameID(m.Name), tags: tid, extra: -1, period: m.Period}
	if x, ok := m.Props.recorded(); ok {
		e.extra = int32(len(ms.extra))
		ms.extra = append(ms.extra, x)
	}
	ms.log = append(ms.log, e)
}

// recorded is what Recorded reports of the properties, if any.
func (p MetricProps) recorded() (recExtra, bool) {
	if p.DisplayName == nil && p.Description == nil && len(p.Attrs) == 0 {
		return recExtra{}, false
	}
	var x recExtra
	if p.DisplayName != nil {
		x.displayName = *p.DisplayName
	}
	if p.Description != nil {
		x.description = *p.Description
	}
	if len(p.Attrs) > 0 {
		if raw, err := json.Marshal(p.Attrs); err == nil {
			var attrs librato.MetricAttributes
			if json.Unmarshal(raw, &attrs) == nil {
				x.attrs = &attrs
			}
		}
	}
	return x, true
}

// measurement rebuilds what the client sent for entry e: name and tags as
// sent, effective time and period, and the summary fields it sent.
func (ms *measureStore) measurement(e *logEntry) librato.Measurement {
	sv := ms.streams[e.st].cols.at(int(e.idx))
	s := &sv
	m := librato.Measurement{Name: ms.names[e.name], Time: s.T, Period: e.period}
	if e.tags != 0 {
		m.Tags = maps.Clone(ms.sent[e.tags].tags)
	}
	m.Value = s.Sum
	if s.Flags&SentSummary != 0 {
		m.Value = s.mean()
		m.Count = s.Count
		m.Sum = ptr(s.Sum)
		if s.Flags&SentMin != 0 {
			m.Min = ptr(s.Min)
		}
		if s.Flags&SentMax != 0 {
			m.Max = ptr(s.Max)
		}
	}
	if s.Flags&sLastSent != 0 {
		m.Last = ptr(s.last)
	}
	if s.Flags&sStdDevSent != 0 {
		m.StdDev = ptr(s.stddev)
	}
	if e.extra >= 0 {
		x := ms.extra[e.extra]
		m.DisplayName, m.Description = x.displayName, x.description
		if x.attrs != nil {
			attrs := *x.attrs
			m.Attributes = &attrs
		}
	}
	return m
}

func ptr[T any](v T) *T { return &v }

// --- aggregation -----------------------------------------------------------

// agg is samples merged over time or across streams, by the documented
// rules: count and sum add up, min of the mins, max of the maxes, last of
// the latest sample, mean = Σsum/Σcount, and stddev the arithmetic mean,
// unweighted, of the merged samples' stddevs (samples without a known
// stddev are left out; none known gives 0). Sums of squares add up while
// every merged sample has one.
type agg struct {
	t      int64 // bucket start
	n      int   // samples merged
	count  int64
	sum    float64
	min    float64
	max    float64
	last   float64
	lastT  int64
	sdSum  float64
	sdN    int
	sumsq  float64
	sqMiss int // samples without a known sum of squares
}

func (g *agg) add(s *Sample) {
	if g.n == 0 || s.Min < g.min {
		g.min = s.Min
	}
	if g.n == 0 || s.Max > g.max {
		g.max = s.Max
	}
	if g.n == 0 || s.T >= g.lastT {
		g.last, g.lastT = s.last, s.T
	}
	g.n++
	g.count += s.Count
	g.sum += s.Sum
	if s.Flags&sStdDev != 0 {
		g.sdSum += s.stddev
		g.sdN++
	}
	if s.Flags&sSumSq != 0 {
		g.sumsq += s.SumSq
	} else {
		g.sqMiss++
	}
}

// merge adds o's samples to g; g keeps its bucket time.
func (g *agg) merge(o *agg) {
	if o.n == 0 {
		return
	}
	if g.n == 0 || o.min < g.min {
		g.min = o.min
	}
	if g.n == 0 || o.max > g.max {
		g.max = o.max
	}
	if g.n == 0 || o.lastT >= g.lastT {
		g.last, g.lastT = o.last, o.lastT
	}
	g.n += o.n
	g.count += o.count
	g.sum += o.sum
	g.sdSum += o.sdSum
	g.sdN += o.sdN
	g.sumsq += o.sumsq
	g.sqMiss += o.sqMiss
}

func (g *agg) mean() float64 {
	if g.count == 0 {
		return 0
	}
	return g.sum / float64(g.count)
}

func (g *agg) stddev() float64 {
	if g.sdN == 0 {
		return 0
	}
	return g.sdSum / float64(g.sdN)
}

// value is the bucket's value under a summary function: mean (also
// "average" and ""), sum, min, max, count, last or stddev.
func (g *agg) value(fn string) float64 {
	switch fn {
	case "sum":
		return g.sum
	case "count":
		return float64(g.count)
	case "min":
		return g.min
	case "max":
		return g.max
	case "last":
		return g.last
	case "stddev":
		return g.stddev()
	}
	return g.mean()
}

func floorTo(t, bucket int64) int64 {
	if bucket <= 1 {
		return t
	}
	r := t % bucket
	if r < 0 {
		r += bucket
	}
	return t - r
}

// counterDelta is the sample a counter's raw value s contributes: the
// increase since the previous raw value, or s itself when it dropped
// (a reset starts a new run from 0). The first value has none.
func counterDelta(prev, s *Sample) (Sample, bool) {
	if prev == nil {
		return Sample{}, false
	}
	v, pv := s.mean(), prev.mean()
	d := v - pv
	if v < pv {
		d = v
	}
	out := Sample{T: s.T, Count: 1, Sum: d}
	out.Finish()
	return out, true
}

// Which columns a summary function reads.
const (
	needSum uint8 = 1 << iota
	needCount
	needRest
	needAll = needSum | needCount | needRest
)

func needOf(fn string) uint8 {
	switch fn {
	case "sum":
		return needSum
	case "count":
		return needCount
	case "mean", "average", "derivative", "":
		return needSum | needCount
	}
	return needAll
}

// bucketize appends to dst the buckets of st's samples with
// start <= t <= end, by floor(t/bucket)*bucket, ascending, only buckets
// that hold data. need says which columns to merge (needOf); the others
// stay zero in the buckets. With deltas (a legacy counter's summaries)
// the samples are the counter's deltas; the delta of the first sample in
// the window uses the raw value just before it.
func bucketize(st *stream, deltas bool, start, end, bucket int64, need uint8, dst []agg) []agg {
	c := st.sorted()
	lo, _ := slices.BinarySearch(c.t, start)
	base := len(dst)
	if deltas {
		var prev *Sample
		if lo > 0 {
			p := c.at(lo - 1)
			prev = &p
		}
		for i := lo; i < len(c.t) && c.t[i] <= end; i++ {
			s := c.at(i)
			d, ok := counterDelta(prev, &s)
			prev = &s
			if !ok {
				continue
			}
			bt := floorTo(d.T, bucket)
			if n := len(dst); n == base || dst[n-1].t != bt {
				dst = append(dst, agg{t: bt})
			}
			dst[len(dst)-1].add(&d)
		}
		return dst
	}
	ts, sums, counts, rest := c.t, c.sum, c.count, c.rest
	bucket = max(bucket, 1)
	guess := 0 // the last run's length: regular data has runs of one length
	for i := lo; i < len(ts) && ts[i] <= end; {
		// One run of samples per bucket: times ascend.
		bt := floorTo(ts[i], bucket)
		stop := min(bt+bucket-1, end)
		j := i + guess
		if guess == 0 || j > len(ts) || ts[j-1] > stop || (j < len(ts) && ts[j] <= stop) {
			j = i + runLength(ts[i:], stop)
		}
		guess = j - i
		g := agg{t: bt, n: j - i}
		// Locals, not g's fields, so the loops run in registers; the
		// order of the additions is the samples' order either way.
		if need&needSum != 0 && need&needRest == 0 {
			sum := 0.0
			for _, v := range sums[i:j] {
				sum += v
			}
			g.sum = sum
		}
		if need&needCount != 0 && need&needRest == 0 {
			count := int64(j - i)
			if c.summary {
				count = 0
				for _, v := range counts[i:j] {
					count += v
				}
			}
			g.count = count
		}
		if need&needRest != 0 {
			g.n = 0
			for k := i; k < j; k++ {
				r := &rest[k]
				s := Sample{T: ts[k], Count: counts[k], Sum: sums[k], Min: r.min, Max: r.max,
					last: r.last, stddev: r.stddev, SumSq: r.sumsq, Flags: r.flags}
				g.add(&s)
			}
		}
		dst = append(dst, g)
		i = j
	}
	return dst
}

// runLength is how many leading times of ts (ascending, ts[0] <= stop)
// are at most stop.
func runLength(ts []int64, stop int64) int {
	if stop == math.MaxInt64 {
		return len(ts)
	}
	n, _ := slices.BinarySearch(ts, stop+1)
	return n
}

// --- ReadStreams -----------------------------------------------------------

// streamSeries is one stored stream read for a query: its metric, its
// stored (lower-cased) tags, and its points in the window bucketed and
// summarised, ascending by time, only buckets that hold data.
type streamSeries struct {
	Metric *Metric
	Tags   map[string]string
	Pts    []valuePoint
}

type valuePoint struct {
	T int64
	V float64
}

// ReadStreams returns, for every metric whose name matches pattern ('*'
// wildcards, ignoring case) and every stream of it whose tags satisfy keep
// (nil keeps all), the points with w.start <= t <= w.end bucketed by
// floor(t/bucket)*bucket and summarised with fn ("mean", "sum", "min",
// "max", "count"; "" means the metric's summarize_function). Series are
// ordered by metric name, then tag pairs. Composite metrics are skipped.
//
// Details: metric names are compared lower-cased for the order; a stream
// without points in the window is included with no points; fn also
// accepts "average" (mean), "last" and "stddev" (the aggregation rules of
// agg), and anything else reads as mean; a bucket below 1 is 1 (each
// second its own bucket). A counter's points are its raw values, as sent
// (derive() turns them into deltas). tags is the store's own map: callers
// must not modify it.
func (s *Store) ReadStreams(pattern string, keep func(tags map[string]string) bool, w Window, bucket int64, fn string) []streamSeries {
	var metrics []*Metric
	for _, m := range s.metrics {
		if m.Type != "composite" && Glob(pattern, m.Name) {
			metrics = append(metrics, m)
		}
	}
	slices.SortFunc(metrics, func(x, y *Metric) int {
		return strings.Compare(strings.ToLower(x.Name), strings.ToLower(y.Name))
	})
	var out []streamSeries
	var scratch []agg
	for _, m := range metrics {
		f := fn
		if f == "" {
			f = summaryOf(m)
		}
		for _, st := range m.sortedStreams() {
			if keep != nil && !keep(st.tags) {
				continue
			}
			scratch = bucketize(st, false, w.Start, w.End, bucket, needOf(f), scratch[:0])
			var pts []valuePoint
			if len(scratch) > 0 {
				pts = make([]valuePoint, len(scratch))
				for i := range scratch {
					pts[i] = valuePoint{T: scratch[i].t, V: scratch[i].value(f)}
				}
			}
			out = append(out, streamSeries{Metric: m, Tags: st.tags, Pts: pts})
		}
	}
	return out
}
