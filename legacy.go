package librato

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"iter"
	"maps"
	"math"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
)

// LegacyService is the legacy, source-based API: agents written before
// tags (statsd's Librato backend in legacy mode, librato-node, collectd's
// plugin) submit gauges and counters with a source to POST /v1/metrics
// (Create, NewBatcher) and read them back from GET /v1/metrics/:name with
// measurement parameters (List, All) or GET /v1/metrics?compose= (Compose).
// Metric metadata stays with Client.Metrics.
type LegacyService service

var epLegacyCreate = newEndpoint("POST", "/v1/metrics")

// MetricTypeCounter is the type of a legacy counter metric.
const MetricTypeCounter = "counter"

// SummarySource is the source under which a legacy read returns the series
// merged across sources (SummarizeSources, GroupBy). Measurements sent
// without a source come back under UnassignedSource.
const SummarySource = "all"

// MaxSourceNameLength is the longest legacy source name.
const MaxSourceNameLength = 255

// ValidSourceName reports whether name is a source the legacy API takes:
// 1 to 255 characters from A-Z a-z 0-9 . : - _, and not "all" (in any
// case), which is reserved.
func ValidSourceName(name string) bool {
	return len(name) <= MaxSourceNameLength && ValidMetricName(name) && !strings.EqualFold(name, SummarySource)
}

func checkSource(field, s string) error {
	switch {
	case len(s) > MaxSourceNameLength:
		return invalid(field, -1, "has %d characters; the limit is %d", len(s), MaxSourceNameLength)
	case strings.EqualFold(s, SummarySource):
		return invalid(field, -1, `"all" is reserved for the summary series; pick another source name`)
	case !ValidMetricName(s):
		return invalid(field, -1, "%s has characters outside A-Z a-z 0-9 . : - _", quoteShort(s))
	}
	return nil
}

// LegacyMeasurement is one gauge or counter measurement of a LegacyBatch
// or a LegacyBatcher. A plain sample carries Value. A gauge may instead
// carry a summary of several samples: Count (at least 1) and Sum,
// optionally Min, Max and SumSquares; Value is then not sent. Counters
// carry Value only: the counter's current, ever-growing total.
type LegacyMeasurement struct {
	Name  string  `json:"name"`
	Value float64 `json:"value"`
	// Counter true makes it a counter for LegacyBatcher.Add. Never sent: in
	// a LegacyBatch the slice it stands in decides, and a Counter in
	// Gauges is a *ValidationError.
	Counter bool `json:"-"`
	// Source and MeasureTime override the batch's.
	Source      string `json:"source,omitempty"`
	MeasureTime int64  `json:"measure_time,omitempty"` // epoch seconds

	Count      int64    `json:"count,omitempty"`
	Sum        *float64 `json:"sum,omitempty"`
	Min        *float64 `json:"min,omitempty"`
	Max        *float64 `json:"max,omitempty"`
	SumSquares *float64 `json:"sum_squares,omitempty"` // makes a standard deviation computable

	// Metric properties, used only when this measurement creates the
	// metric and ignored when it exists (change those with Update).
	Period      int64             `json:"period,omitempty"` // seconds
	DisplayName string            `json:"display_name,omitempty"`
	Description string            `json:"description,omitempty"`
	Attributes  *MetricAttributes `json:"attributes,omitempty"`
}

// MarshalJSON encodes the measurement as Legacy.Create sends it: Value is
// left out of a summary, and Counter is not sent.
func (m LegacyMeasurement) MarshalJSON() ([]byte, error) {
	return appendLegacyMeasurement(nil, &m), nil
}

// LegacyBatch is the body of one legacy submission (POST /v1/metrics):
// gauges and counters, in any mix, with defaults for the source, time and
// period the measurements leave out. A measurement in Counters is a
// counter whatever its Counter field says; one in Gauges with Counter set
// is refused with a *ValidationError, as it says it is not a gauge.
type LegacyBatch struct {
	Source      string `json:"source,omitempty"`       // default source; none: the server files them under "unassigned"
	MeasureTime int64  `json:"measure_time,omitempty"` // default epoch seconds; 0: the server's time of receipt
	// Period is the default period, in seconds, of the metrics this batch
	// creates. The reference lists it per measurement only; it is sent at
	// the top level as librato-node sends it.
	Period   int64               `json:"period,omitempty"`
	Gauges   []LegacyMeasurement `json:"gauges,omitempty"`
	Counters []LegacyMeasurement `json:"counters,omitempty"`
}

// MarshalJSON encodes the batch in the JSON array form Legacy.Create sends.
func (b *LegacyBatch) MarshalJSON() ([]byte, error) { return b.appendJSON(nil) }

// UnmarshalJSON loads a legacy payload in any JSON form the reference
// documents, so one written for another client can be replayed through
// Legacy.Create: gauges and counters as an array, or as an object hashed by
// metric name ({"gauges":{"login-delay":{"value":3.5}}}) where a name
// inside an entry wins over its key, which lets the keys be "0", "1", ...
// as a form's indexes are. Hashed entries are read in key order, numeric
// keys by their number, so the result never depends on map order. Numbers
// written as strings, as a form-encoded body carries them, are read as
// numbers. Nothing is checked here beyond the JSON: Legacy.Create runs
// Validate before sending. Counter is never read: the slice decides.
func (b *LegacyBatch) UnmarshalJSON(data []byte) error {
	var head struct {
		Source      string          `json:"source"`
		MeasureTime int64           `json:"measure_time"`
		Period      int64           `json:"period"`
		Gauges      json.RawMessage `json:"gauges"`
		Counters    json.RawMessage `json:"counters"`
	}
	if err := decodeJSON(data, &head); err != nil {
		return fmt.Errorf("librato: reading a legacy batch: %w", err)
	}
	gauges, err := decodeLegacyGroup("gauges", head.Gauges)
	if err != nil {
		return err
	}
	counters, err := decodeLegacyGroup("counters", head.Counters)
	if err != nil {
		return err
	}
	*b = LegacyBatch{Source: head.Source, MeasureTime: head.MeasureTime, Period: head.Period, Gauges: gauges, Counters: counters}
	return nil
}

// decodeLegacyGroup reads the gauges or counters of a legacy payload: a
// list, an object of measurements, or nothing (absent or null).
func decodeLegacyGroup(group string, raw json.RawMessage) ([]LegacyMeasurement, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		return nil, nil
	}
	one := func(field string, item json.RawMessage, key string) (LegacyMeasurement, error) {
		var m LegacyMeasurement
		if err := decodeJSON(item, &m); err != nil {
			return m, fmt.Errorf("librato: reading a legacy batch: %s: %w", field, err)
		}
		if key != "" {
			var named struct {
				Name *string `json:"name"`
			}
			if json.Unmarshal(item, &named) == nil && named.Name == nil {
				m.Name = key
			}
		}
		return m, nil
	}
	switch raw[0] {
	case '[':
		var items []json.RawMessage
		if err := json.Unmarshal(raw, &items); err != nil {
			return nil, fmt.Errorf("librato: reading a legacy batch: %s: %w", group, err)
		}
		out := make([]LegacyMeasurement, 0, len(items))
		for i, item := range items {
			m, err := one(group+"["+strconv.Itoa(i)+"]", item, "")
			if err != nil {
				return nil, err
			}
			out = append(out, m)
		}
		return out, nil
	case '{':
		var byKey map[string]json.RawMessage
		if err := json.Unmarshal(raw, &byKey); err != nil {
			return nil, fmt.Errorf("librato: reading a legacy batch: %s: %w", group, err)
		}
		keys := slices.Collect(maps.Keys(byKey))
		slices.SortFunc(keys, compareLegacyKeys)
		out := make([]LegacyMeasurement, 0, len(keys))
		for _, k := range keys {
			m, err := one(group+"["+quoteShort(k)+"]", byKey[k], k)
			if err != nil {
				return nil, err
			}
			out = append(out, m)
		}
		return out, nil
	}
	return nil, fmt.Errorf("librato: reading a legacy batch: %s must be a list or an object of measurements", group)
}

// compareLegacyKeys orders the keys of a hashed collection: numeric keys
// ("0", "2", "10") by their number and before the others, which sort as
// strings. Numbers compare by their digits, so any length is exact.
func compareLegacyKeys(a, b string) int {
	na, nb := decimalKey(a), decimalKey(b)
	switch {
	case na && nb:
		ta, tb := strings.TrimLeft(a, "0"), strings.TrimLeft(b, "0")
		if c := cmp.Compare(len(ta), len(tb)); c != 0 {
			return c
		}
		if c := strings.Compare(ta, tb); c != 0 {
			return c
		}
	case na:
		return -1
	case nb:
		return 1
	}
	return strings.Compare(a, b)
}

func decimalKey(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// Validate reports the first reason the API would reject b, as a
// *ValidationError whose Field names the measurement ("gauges[2].sum");
// nil when b is fine. Legacy.Create runs it before sending.
func (b *LegacyBatch) Validate() error {
	if b == nil || len(b.Gauges)+len(b.Counters) == 0 {
		return invalid("gauges", -1, "and counters are both empty; send at least one measurement")
	}
	if b.Source != "" {
		if err := checkSource("source", b.Source); err != nil {
			return err
		}
	}
	if b.MeasureTime < 0 {
		return invalid("measure_time", -1, "may not be negative")
	}
	if b.Period < 0 {
		return invalid("period", -1, "may not be negative")
	}
	for i := range b.Gauges {
		if b.Gauges[i].Counter {
			return invalid("gauges["+strconv.Itoa(i)+"].counter", -1, "is true in gauges; put a counter in Counters")
		}
		if err := b.Gauges[i].check("gauges", i, true); err != nil {
			return err
		}
	}
	for i := range b.Counters {
		if err := b.Counters[i].check("counters", i, false); err != nil {
			return err
		}
	}
	return nil
}

func (b *LegacyBatch) validate() error { return b.Validate() }

// check applies the legacy rules to measurement i of list. The summary
// consistency rules (count >= 1, min <= mean <= max, sum_squares >=
// sum²/count, gauges only) are not stated by the reference but follow from
// what the fields mean; the comparisons allow a relative 1e-9 for the
// rounding of float sums.
func (m *LegacyMeasurement) check(list string, i int, gauge bool) error {
	field := func(name string) string {
		if i < 0 { // one measurement on its own, as a legacy batcher checks it
			return name
		}
		return list + "[" + strconv.Itoa(i) + "]." + name
	}
	if err := checkMetricName(field("name"), -1, m.Name); err != nil {
		return err
	}
	if m.Source != "" {
		if err := checkSource(field("source"), m.Source); err != nil {
			return err
		}
	}
	switch {
	case m.MeasureTime < 0:
		return invalid(field("measure_time"), -1, "may not be negative")
	case m.Period < 0:
		return invalid(field("period"), -1, "may not be negative")
	case m.Count < 0:
		return invalid(field("count"), -1, "may not be negative")
	}
	summary := m.Sum != nil || m.Min != nil || m.Max != nil || m.SumSquares != nil
	if !gauge && (summary || m.Count != 0) {
		return invalid(field("count"), -1, "count, sum, min, max and sum_squares describe a gauge summary; a counter takes a value only")
	}
	if m.Count == 0 {
		if summary {
			return invalid(field("count"), -1, "is missing: sum, min, max and sum_squares describe a summary and need count >= 1")
		}
		if err := checkFloat(field("value"), -1, m.Value); err != nil {
			return err
		}
	} else if err := m.checkSummary(field); err != nil {
		return err
	}
	if m.Attributes != nil {
		if err := m.Attributes.check(-1); err != nil {
			var ve *ValidationError
			if errors.As(err, &ve) {
				ve.Field = field(ve.Field)
			}
			return err
		}
	}
	return nil
}

func (m *LegacyMeasurement) checkSummary(field func(string) string) error {
	if m.Sum == nil {
		return invalid(field("sum"), -1, "is missing: a summary with count needs its sum")
	}
	for _, f := range [...]struct {
		name string
		v    *float64
	}{{"sum", m.Sum}, {"min", m.Min}, {"max", m.Max}, {"sum_squares", m.SumSquares}} {
		if f.v != nil {
			if err := checkFloat(field(f.name), -1, *f.v); err != nil {
				return err
			}
		}
	}
	n, sum := float64(m.Count), *m.Sum
	mean := sum / n
	if m.Min != nil && !atMost(*m.Min, mean) {
		return invalid(field("min"), -1, "%g is above the mean sum/count = %g", *m.Min, mean)
	}
	if m.Max != nil && !atMost(mean, *m.Max) {
		return invalid(field("max"), -1, "%g is below the mean sum/count = %g", *m.Max, mean)
	}
	if ss := m.SumSquares; ss != nil && !atMost(sum*sum/n, *ss) {
		return invalid(field("sum_squares"), -1, "%g is below sum²/count = %g, which no set of samples allows", *ss, sum*sum/n)
	}
	return nil
}

// atMost reports a <= b, allowing a relative 1e-9 for float rounding.
func atMost(a, b float64) bool {
	return a <= b || a-b <= 1e-9*math.Max(math.Abs(a), math.Abs(b))
}

// The legacy payload has its own encoder, as the tagged one does: agents
// send many measurements, and this keeps floats and strings on the same
// strconv path, with no reflection but for the rare attributes.
func (b *LegacyBatch) appendJSON(dst []byte) ([]byte, error) {
	dst = append(dst, '{')
	sep := false
	member := func(key string) {
		if sep {
			dst = append(dst, ',')
		}
		sep = true
		dst = append(dst, key...)
	}
	if b.Source != "" {
		member(`"source":`)
		dst = appendString(dst, b.Source)
	}
	if b.MeasureTime != 0 {
		member(`"measure_time":`)
		dst = strconv.AppendInt(dst, b.MeasureTime, 10)
	}
	if b.Period != 0 {
		member(`"period":`)
		dst = strconv.AppendInt(dst, b.Period, 10)
	}
	for _, list := range [...]struct {
		key string
		ms  []LegacyMeasurement
	}{{`"gauges":[`, b.Gauges}, {`"counters":[`, b.Counters}} {
		if len(list.ms) == 0 {
			continue
		}
		member(list.key)
		for i := range list.ms {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = appendLegacyMeasurement(dst, &list.ms[i])
		}
		dst = append(dst, ']')
	}
	return append(dst, '}'), nil
}

func appendLegacyMeasurement(dst []byte, m *LegacyMeasurement) []byte {
	dst = append(dst, `{"name":`...)
	dst = appendString(dst, m.Name)
	if m.Count == 0 {
		dst = append(dst, `,"value":`...)
		dst = appendFloat(dst, m.Value)
	} else {
		dst = append(dst, `,"count":`...)
		dst = strconv.AppendInt(dst, m.Count, 10)
		dst = appendOptFloat(dst, `,"sum":`, m.Sum)
		dst = appendOptFloat(dst, `,"min":`, m.Min)
		dst = appendOptFloat(dst, `,"max":`, m.Max)
		dst = appendOptFloat(dst, `,"sum_squares":`, m.SumSquares)
	}
	if m.Source != "" {
		dst = append(dst, `,"source":`...)
		dst = appendString(dst, m.Source)
	}
	if m.MeasureTime != 0 {
		dst = append(dst, `,"measure_time":`...)
		dst = strconv.AppendInt(dst, m.MeasureTime, 10)
	}
	dst = appendMetricProps(dst, m.Period, m.DisplayName, m.Description, m.Attributes)
	return append(dst, '}')
}

// Create submits gauges and counters to the legacy, source-based route
// (POST /v1/metrics), creating the metrics that do not exist. The server
// answers 200 with no documented body; any 2xx is success, so Create
// returns only an error. An invalid batch fails with a *ValidationError
// before anything is sent.
//
// Like Measurements.Create it is retried on network errors, 429 and 5xx:
// a measurement is a point of its (metric, source, measure_time) stream,
// so sending it again with the same measure_time writes the same point,
// and a counter's value is its running total, not an increment, so a
// repeat adds nothing. Give measurements a MeasureTime (or the batch one)
// so that a retry cannot record a second point at a later time.
func (s *LegacyService) Create(ctx context.Context, batch *LegacyBatch) error {
	if batch == nil {
		batch = &LegacyBatch{}
	}
	_, err := s.client.call(ctx, &request{ep: epLegacyCreate, body: batch})
	return err
}

// Values of LegacyQuery.GroupBy.
const (
	LegacyGroupByMin   = "min"
	LegacyGroupByMax   = "max"
	LegacyGroupByMean  = "mean"
	LegacyGroupBySum   = "sum"
	LegacyGroupByCount = "count"
)

// LegacyQuery selects the measurements Legacy.List and Legacy.All return
// with a metric.
// Give StartTime (with an optional EndTime, which defaults to now), or
// Count: with StartTime the first Count points after it, otherwise the
// last Count before EndTime or now; Count with both times is refused.
// Count is per source.
type LegacyQuery struct {
	StartTime  time.Time
	EndTime    time.Time
	Count      int
	Resolution time.Duration // whole seconds; finer data comes back averaged to it

	// Source keeps one source, or those matching a '*' pattern
	// ("server*"); Sources keeps exactly the sources listed. Give one or
	// the other.
	Source  string
	Sources []string

	// SummarizeTime merges each source's points into one record for the
	// whole interval.
	SummarizeTime bool
	// SummarizeSources adds the source "all" (SummarySource): one record
	// per time, merged across the selected sources.
	SummarizeSources bool
	// BreakoutSources false drops the per-source series and keeps only
	// "all"; nil leaves the server's default (true, or false with GroupBy).
	BreakoutSources *bool
	// GroupBy builds "all" by applying min, max, mean, sum or count to each
	// statistic across Sources; gauges only, and it needs Sources. It
	// implies SummarizeSources, which is then sent.
	GroupBy string
}

func (q *LegacyQuery) validate() error {
	if q == nil {
		return invalid("start_time", -1, "or count is required: pass a LegacyQuery (for the metadata alone use Metrics.Get)")
	}
	switch {
	case q.StartTime.IsZero() && q.Count == 0:
		return invalid("start_time", -1, "is required unless count is set")
	case q.Count < 0:
		return invalid("count", -1, "may not be negative")
	case q.Count > 0 && !q.StartTime.IsZero() && !q.EndTime.IsZero():
		return invalid("count", -1, "cannot be sent with both start_time and end_time")
	case !q.StartTime.IsZero() && !q.EndTime.IsZero() && q.EndTime.Before(q.StartTime):
		return invalid("end_time", -1, "is before start_time")
	case q.Resolution < 0 || q.Resolution%time.Second != 0:
		return invalid("resolution", -1, "must be a positive whole number of seconds (0 for the server's choice)")
	case q.Source != "" && len(q.Sources) > 0:
		return invalid("source", -1, "cannot be combined with sources; give one pattern or a list")
	case q.GroupBy != "" && !oneOf(q.GroupBy, LegacyGroupByMin, LegacyGroupByMax, LegacyGroupByMean, LegacyGroupBySum, LegacyGroupByCount):
		return invalid("group_by", -1, "%s is not one of min, max, mean, sum, count", quoteShort(q.GroupBy))
	case q.GroupBy != "" && len(q.Sources) == 0:
		return invalid("group_by", -1, "needs sources: it groups the listed sources of a gauge")
	case q.BreakoutSources != nil && !*q.BreakoutSources && !q.SummarizeSources && q.GroupBy == "":
		return invalid("breakout_sources", -1, `false keeps only the "all" series, which needs summarize_sources or group_by`)
	}
	if q.Source != "" {
		if p := strings.ReplaceAll(q.Source, "*", "x"); len(q.Source) > MaxSourceNameLength || !ValidMetricName(p) {
			return invalid("source", -1, "%s must be up to %d characters from A-Z a-z 0-9 . : - _ and '*'", quoteShort(q.Source), MaxSourceNameLength)
		}
	}
	for i, s := range q.Sources {
		if len(s) > MaxSourceNameLength || !ValidMetricName(s) {
			return invalid(fmt.Sprintf("sources[%d]", i), -1, "%s must be 1 to %d characters from A-Z a-z 0-9 . : - _", quoteShort(s), MaxSourceNameLength)
		}
	}
	return nil
}

func (q *LegacyQuery) encode(v url.Values) {
	if !q.StartTime.IsZero() {
		v.Set("start_time", strconv.FormatInt(q.StartTime.Unix(), 10))
	}
	if !q.EndTime.IsZero() {
		v.Set("end_time", strconv.FormatInt(q.EndTime.Unix(), 10))
	}
	if q.Count > 0 {
		v.Set("count", strconv.Itoa(q.Count))
	}
	if q.Resolution > 0 {
		v.Set("resolution", strconv.FormatInt(int64(q.Resolution/time.Second), 10))
	}
	if q.Source != "" {
		v.Set("source", q.Source)
	}
	for _, s := range q.Sources {
		v.Add("sources[]", s)
	}
	if q.SummarizeTime {
		v.Set("summarize_time", "true")
	}
	if q.SummarizeSources || q.GroupBy != "" {
		v.Set("summarize_sources", "true")
	}
	if q.BreakoutSources != nil {
		v.Set("breakout_sources", strconv.FormatBool(*q.BreakoutSources))
	}
	if q.GroupBy != "" {
		v.Set("group_by", q.GroupBy)
	}
}

// LegacyPoint is one measurement of a legacy read. Count is how many
// samples it stands for; Min, Max, Sum and SumSquares are sent for
// summarised gauges; Summarized (how many sources were merged) appears in
// the "all" series, Rollups (how many records were merged) with
// SummarizeTime. For a counter every point describes the deltas.
type LegacyPoint struct {
	MeasureTime int64    `json:"measure_time"` // epoch seconds
	Value       float64  `json:"value"`
	Count       int64    `json:"count,omitempty"`
	Min         *float64 `json:"min,omitempty"`
	Max         *float64 `json:"max,omitempty"`
	Sum         *float64 `json:"sum,omitempty"`
	SumSquares  *float64 `json:"sum_squares,omitempty"`
	Summarized  int      `json:"summarized,omitempty"`
	Rollups     int      `json:"rollups,omitempty"`
}

// LegacyQueryInfo is the "query" block of a legacy read the server cut
// short: ask again from NextTime for the rest.
type LegacyQueryInfo struct {
	NextTime int64 `json:"next_time,omitempty"`
}

// LegacyPage is one answer of a legacy read (Legacy.List): the metric
// with its measurements, as GET /v1/metrics/:name answers a query with
// measurement parameters: the metric's metadata, the resolution applied,
// the points keyed by source (UnassignedSource for measurements without
// one, SummarySource for the merged series), and the query block whose
// next_time says where the rest starts when the answer was cut short.
type LegacyPage struct {
	Metric
	Resolution   int                      `json:"resolution,omitempty"`
	Measurements map[string][]LegacyPoint `json:"measurements,omitempty"`
	Query        *LegacyQueryInfo         `json:"query,omitempty"`
}

// NextTime returns where the rest of a cut-short answer starts, or 0 when
// the answer is complete. Legacy.All follows it for you.
func (p *LegacyPage) NextTime() int64 {
	if p.Query == nil {
		return 0
	}
	return p.Query.NextTime
}

// List returns metric name with the measurements q selects (GET
// /v1/metrics/:name with measurement parameters), the first page of them:
// see NextTime, or use All. A query the reference rules out (no
// start_time nor count, count with both times, group_by without sources,
// ...) is a *ValidationError and nothing is sent; a missing metric is an
// *APIError matching ErrNotFound.
//
// The route, and so its matrix row, is Metrics.Get's: the measurement
// parameters switch it to a read of points.
func (s *LegacyService) List(ctx context.Context, name string, q *LegacyQuery) (*LegacyPage, error) {
	return callInto[LegacyPage](ctx, s.client, &request{ep: epMetricsGet, params: []string{name}, opts: q})
}

// LegacySeries is the points of one source in one answer of a legacy
// read, as Legacy.All yields them.
type LegacySeries struct {
	Source string
	Points []LegacyPoint
}

// All yields the points of every source that q selects, page after
// page: each answer's sources in name order, then the next answer, asked
// again from its next_time, until an answer has none. A source's points
// may so come in several pieces. A query with Count is never paged, as the
// server does not page it. If the server's next_time does not move past
// the start of the page it ends, or after MaxPaginationRequests requests,
// the sequence ends with a *PaginationError (ErrPaginationStalled) rather
// than asking for the same page forever; any error is yielded once and
// ends the sequence.
func (s *LegacyService) All(ctx context.Context, name string, q *LegacyQuery) iter.Seq2[LegacySeries, error] {
	var base LegacyQuery
	if q != nil {
		base = *q
	}
	return func(yield func(LegacySeries, error) bool) {
		cur := base
		var pq *LegacyQuery // nil stays nil, for List's own message
		if q != nil {
			pq = &cur
		}
		for requests := 1; ; requests++ {
			page, err := s.List(ctx, name, pq)
			if err != nil {
				yield(LegacySeries{}, err)
				return
			}
			sources := make([]string, 0, len(page.Measurements))
			for src := range page.Measurements {
				sources = append(sources, src)
			}
			slices.Sort(sources)
			for _, src := range sources {
				if !yield(LegacySeries{Source: src, Points: page.Measurements[src]}, nil) {
					return
				}
			}
			next := page.NextTime()
			if next == 0 || cur.Count > 0 || (!cur.EndTime.IsZero() && next >= cur.EndTime.Unix()) {
				return
			}
			if start := cur.StartTime.Unix(); next <= start {
				yield(LegacySeries{}, &PaginationError{Method: "GET", Endpoint: epMetricsGet.template, Requests: requests,
					Reason: fmt.Sprintf("next_time %d does not move past start_time %d", next, start)})
				return
			}
			if requests >= MaxPaginationRequests {
				yield(LegacySeries{}, &PaginationError{Method: "GET", Endpoint: epMetricsGet.template, Requests: requests,
					Reason: fmt.Sprintf("still paging after %d requests", requests)})
				return
			}
			cur.StartTime = time.Unix(next, 0)
		}
	}
}
