package api

import (
	"bytes"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/librato-sdk/librato-go/mock/internal/tsdb"
)

// attributeKeys are the documented metric attributes, which a batch update
// also accepts at the top level of its body.
var attributeKeys = []string{
	"color", "display_max", "display_min", "display_units_long", "display_units_short",
	"display_stacked", "summarize_function", "aggregate", "created_by_ua", "gap_detection",
}

// readMetricProps reads and validates metric properties from o; with
// topLevelAttrs, attribute keys directly in o count too (batch updates).
func readMetricProps(o obj, topLevelAttrs bool) tsdb.MetricProps {
	var p tsdb.MetricProps
	if v, ok := oneOf(o, "type", "gauge", "composite"); ok {
		p.Type = &v
	}
	if v, ok := o.str("display_name"); ok {
		p.DisplayName = &v
	}
	if v, ok := o.str("description"); ok {
		p.Description = &v
	}
	if v, ok := o.int("period"); ok {
		if v <= 0 {
			o.invalid("period", "must be a positive number of seconds")
		} else {
			p.Period = &v
		}
	}
	if v, ok := o.str("composite"); ok {
		p.Composite = &v
	}
	if a, ok := o.object("attributes"); ok {
		p.Attrs = readAttributes(a, a.m)
	}
	if topLevelAttrs {
		top := map[string]any{}
		for _, k := range attributeKeys {
			if v, ok := o.m[k]; ok {
				top[k] = v
			}
		}
		if len(top) > 0 {
			upd := readAttributes(o, top)
			if p.Attrs == nil {
				p.Attrs = upd
			} else {
				maps.Copy(p.Attrs, upd)
			}
		}
	}
	return p
}

// readAttributes validates the attribute fields of m (read through o for
// error keys) and returns them normalised: numbers as float64, flags as
// bool, null (or a blank display_max/display_min) as nil, which is stored
// and answered as null.
func readAttributes(o obj, m map[string]any) map[string]any {
	out := make(map[string]any, len(m))
	for k, v := range m {
		if v == nil {
			out[k] = nil
			continue
		}
		switch k {
		case "color":
			s, ok := o.str(k)
			if ok && !reColor.MatchString(s) {
				o.invalid(k, "is invalid: expected #RRGGBB")
				continue
			}
			if ok {
				out[k] = s
			}
		case "display_max", "display_min":
			if f, ok := o.float(k); ok {
				if f, ok := checkMagnitude(o, k, f); ok {
					out[k] = f
				}
			} else if s, isStr := v.(string); isStr && strings.TrimSpace(s) == "" {
				out[k] = nil
			}
		case "display_stacked", "aggregate", "gap_detection":
			if b, ok := o.boolean(k); ok {
				out[k] = b
			}
		case "summarize_function":
			if s, ok := oneOf(o, k, "average", "sum", "count", "min", "max"); ok {
				out[k] = s
			}
		case "display_units_long", "display_units_short", "created_by_ua":
			if s, ok := o.str(k); ok {
				out[k] = s
			}
		default:
			out[k] = plain(v)
		}
	}
	return out
}

// checkComposite validates the type and composite definition m would have
// after p, on error keys of o.
func checkComposite(o obj, typ, composite string) {
	switch {
	case typ == "composite" && strings.TrimSpace(composite) == "":
		o.invalid("composite", "is required for a composite metric")
	case typ != "composite" && composite != "":
		o.invalid("type", "must be composite when a composite definition is given")
	}
}

func metricLocation(name string) string { return "/v1/metrics/" + url.PathEscape(name) }

// --- POST /v1/measurements ---------------------------------------------

// measurementsIngest answers POST /v1/measurements from the raw body:
// through the store's one-pass reader (Store.Ingest) when it takes the
// body, else through the generic reader.
//
// It answers 202 with
// {"measurements":{"summary":{"total":N,"accepted":N,"failed":0,"filtered":0}}}.
// One invalid measurement fails the whole request with 400 and stores
// nothing; so does a measurement of a legacy counter or a composite (a
// tagged measurement is a gauge), answered as a type conflict
// (typeConflicts). A measurement without a time gets the batch's time,
// else the server's clock; a batch time of 0 is none. A measurement uses
// its own tags only when they are a non-empty object, otherwise the
// batch's; the two are never merged. A measurement with no tags at all is
// accepted. Metric properties (period, display_name, description,
// attributes) are read per measurement and apply only when the
// measurement creates the metric; the batch's period counts as each
// measurement's default. The fast path stays because
// load tests need it: BenchmarkMockIngest takes 5 ms and 45 allocations
// a measurement without it (0.13 with), and the SDK batcher's
// BenchmarkEndToEnd falls from about 700,000 measurements a second to
// 150,000.
func (c *call) measurementsIngest() *Reply {
	if in, ok := c.a.db.Ingest(c.raw, c.now.Unix(), c.r.UserAgent()); ok {
		if in.FracTime {
			c.notes.add(noteFraction)
		}
		if in.ZeroTime {
			c.notes.add(noteZeroTime)
		}
		if in.Conflicts != nil {
			return typeConflicts(perrs{}, in.Conflicts).reply()
		}
		return acceptedMeasurements(in.N)
	}
	return c.measurementsGeneric()
}

// typeConflicts adds the messages of tsdb.Store.TypeConflicts to errs
// under "type", the one shape clients parse: statsd's Librato backend
// stops sending a metric named in errors.params.type, and refuses nothing
// else, so any other key would make it resend the whole payload, and be
// refused, on every flush. The payload stays all-or-nothing.
func typeConflicts(errs perrs, msgs []string) perrs {
	for _, m := range msgs {
		errs.add("type", m)
	}
	return errs
}

// measurementsGeneric decodes the raw body as readBody does for other
// routes and runs the generic handler.
func (c *call) measurementsGeneric() *Reply {
	if len(bytes.TrimSpace(c.raw)) > 0 {
		m, err := decodeJSON(c.raw)
		if err != nil {
			return RequestError(http.StatusBadRequest, "Malformed JSON body: "+err.Error())
		}
		c.body = m
	}
	return c.measurementsCreate()
}

// measurementsCreate validates a decoded POST /v1/measurements body and
// stores it: the generic reader of the body, for what the fast path
// (measurementsIngest) does not read, and the path seeds use. It reads
// each field with its type, reporting a wrong one, and leaves the rules
// to tsdb.Batch.Check and tsdb.Fields.Build, which the fast path applies
// too.
func (c *call) measurementsCreate() *Reply {
	errs := perrs{}
	o := c.fields(errs)
	var b tsdb.Batch
	if o.has("tags") {
		tags, ok := checkTags(o, "tags")
		b.Tags, b.HasTags = tagPairs(tags), ok
	}
	b.Time, b.HasTime = o.secs("time")
	b.Period, b.HasPeriod = o.int("period")
	if b.HasTime && b.Time == 0 {
		c.notes.add(noteZeroTime)
	}
	b.Check(o.invalid)
	list, ok := o.list("measurements")
	if !ok && !o.has("measurements") {
		o.invalid("measurements", "is required: send at least one measurement")
	} else if ok && len(list) == 0 {
		o.invalid("measurements", "is empty: send at least one measurement")
	}
	in := make([]tsdb.Input, 0, len(list))
	for i, v := range list {
		mo, ok := o.item("measurements", i, v)
		if !ok {
			continue
		}
		in = append(in, readFields(mo).Build(&b, c.now.Unix(), mo.invalid))
	}
	if len(errs) == 0 {
		typeConflicts(errs, c.a.db.TypeConflicts(in))
	}
	if rep := errs.reply(); rep != nil {
		return rep
	}
	return c.storeBatch(in)
}

// readFields reads the fields of one measurement with their types; a
// field of the wrong type is reported and left out of Read.
func readFields(mo obj) *tsdb.Fields {
	f := &tsdb.Fields{}
	sent := func(k string, bit uint32) bool {
		if mo.has(k) {
			f.Sent |= bit
			return true
		}
		return false
	}
	if sent("name", tsdb.FName) {
		if s, ok := mo.str("name"); ok {
			f.Name, f.Read = []byte(s), f.Read|tsdb.FName
		}
	}
	if sent("tags", tsdb.FTags) {
		if tags, ok := checkTags(mo, "tags"); ok {
			f.Tags, f.Read = tagPairs(tags), f.Read|tsdb.FTags
		}
	}
	for _, x := range []struct {
		k   string
		bit uint32
		dst *int64
	}{{"time", tsdb.FTime, &f.Time}, {"period", tsdb.FPeriod, &f.Period}, {"count", tsdb.FCount, &f.Count}} {
		if sent(x.k, x.bit) {
			read := mo.int
			if x.bit == tsdb.FTime {
				read = mo.secs // the range is Build's rule
			}
			if v, ok := read(x.k); ok {
				*x.dst, f.Read = v, f.Read|x.bit
			}
		}
	}
	for i, ff := range tsdb.FloatFields {
		if sent(ff.Name, ff.Bit) {
			if v, ok := mo.float(ff.Name); ok {
				f.SetNum(i, v)
			}
		}
	}
	f.Props = readMetricProps(mo, false)
	return f
}

// tagPairs is a tag map as sorted pairs.
func tagPairs(tags map[string]string) []tsdb.TagPair {
	out := make([]tsdb.TagPair, 0, len(tags))
	for _, k := range slices.Sorted(maps.Keys(tags)) {
		out = append(out, tsdb.TagPair{K: []byte(k), V: []byte(tags[k])})
	}
	return out
}

// storeBatch stores validated measurements and answers as the API does.
func (c *call) storeBatch(in []tsdb.Input) *Reply {
	ua := c.r.UserAgent()
	for i := range in {
		c.a.db.Put(&in[i], ua)
	}
	return acceptedMeasurements(len(in))
}

// acceptedMeasurements is the answer to n measurements stored.
func acceptedMeasurements(n int) *Reply {
	return acceptedReply("", measurementsSummary{Measurements: summaryJSON{Summary: summaryCounts{Total: n, Accepted: n}}})
}

type measurementsSummary struct {
	Measurements summaryJSON `json:"measurements"`
}

type summaryJSON struct {
	Summary summaryCounts `json:"summary"`
}

// summaryCounts lists its fields in name order, as the map it replaced
// encoded them.
type summaryCounts struct {
	Accepted int `json:"accepted"`
	Failed   int `json:"failed"`
	Filtered int `json:"filtered"`
	Total    int `json:"total"`
}

// --- /v1/metrics --------------------------------------------------------

// metricsList pages the metrics by name (the only orderby); name filters
// on a substring, ignoring case. With compose it is the legacy composite
// read (metricsComposeLegacy).
func (c *call) metricsList() *Reply {
	if c.q.Has("compose") {
		return c.metricsComposeLegacy()
	}
	errs := perrs{}
	lp := c.listParams(errs, "name")
	if rep := errs.reply(); rep != nil {
		return rep
	}
	matches := withName(c.filters(), c.a.db.Metrics(), func(x *tsdb.Metric) string { return x.Name }, c.q.Get("name"))
	page, q := paginate(matches, c.a.db.Len(), lp, func(x, y *tsdb.Metric) int {
		return strings.Compare(strings.ToLower(x.Name), strings.ToLower(y.Name))
	})
	out := make([]tsdb.MetricJSON, len(page))
	for i, m := range page {
		out[i] = m.JSON()
	}
	return OK(map[string]any{"query": q, "metrics": out})
}

func (c *call) metricsGet() *Reply {
	m := c.a.db.Metric(c.p[0])
	if m == nil {
		return NotFound("metric " + strconv.Quote(c.p[0]))
	}
	if hasLegacyWindow(c.q) {
		return c.legacyMeasurements(m)
	}
	return OK(m.JSON())
}

// metricsPut answers PUT /v1/metrics/:name: 201 with the metric when it
// creates it, which needs type (400 otherwise), 204 when it updates it.
// Attributes sent are merged into the stored ones; one sent as null is
// stored and answered as null, as the reference's answers show
// "display_max": null. A composite metric gets no created_by_ua and
// answers no attributes member until it is given some.
func (c *call) metricsPut() *Reply {
	name := c.p[0]
	errs := perrs{}
	if !tsdb.ValidName(name) {
		errs.add("name", tsdb.MsgName)
		return errs.reply()
	}
	o := c.fields(errs)
	p := readMetricProps(o, false)
	m := c.a.db.Metric(name)
	typ, composite := "", ""
	if m != nil {
		typ, composite = m.Type, m.Composite
	}
	if p.Type != nil {
		typ = *p.Type
	}
	if p.Composite != nil {
		composite = *p.Composite
	}
	if m == nil && p.Type == nil && !errs.has("type") {
		o.invalid("type", "is required to create a metric: gauge or composite")
	}
	if typ != "" {
		checkComposite(o, typ, composite)
	}
	if rep := errs.reply(); rep != nil {
		return rep
	}
	if m != nil {
		m.Apply(p)
		return NoContent()
	}
	m = c.a.db.Create(name, "")
	m.Apply(p)
	// created_by_ua is not stamped on a composite: it takes no
	// measurements, and the reference answers its creation without
	// attributes.
	if ua := c.r.UserAgent(); ua != "" && m.Type != "composite" {
		if m.Attrs == nil {
			m.Attrs = map[string]any{}
		}
		if _, ok := m.Attrs["created_by_ua"]; !ok {
			m.Attrs["created_by_ua"] = ua
		}
	}
	return createdReply(metricLocation(name), m.JSON())
}

func (p perrs) has(field string) bool { _, ok := p[field]; return ok }

func (c *call) metricsDelete() *Reply {
	if !c.a.db.Delete(c.p[0]) {
		return NotFound("metric " + strconv.Quote(c.p[0]))
	}
	return NoContent()
}

// readNames reads the "names" of a batch: a list of names, or one string
// pattern. A missing or empty selection is a 400; invalid names are
// returned as job errors, so the job fails without changing anything.
func readNames(o obj) (names []string, pattern string, jobErrs map[string][]string, ok bool) {
	v, present := o.raw("names")
	if !present {
		o.invalid("names", "is required: a list of metric names or one pattern with '*'")
		return nil, "", nil, false
	}
	invalid := map[string][]string{"name": {"is invalid"}}
	switch t := v.(type) {
	case string:
		if strings.TrimSpace(t) == "" {
			o.invalid("names", "is required: a list of metric names or one pattern with '*'")
			return nil, "", nil, false
		}
		if !tsdb.ValidName(strings.ReplaceAll(t, "*", "x")) {
			return nil, t, invalid, true
		}
		return nil, t, nil, true
	case []any:
		list, ok := o.strList("names")
		if !ok {
			return nil, "", nil, false
		}
		if len(list) == 0 {
			o.invalid("names", "is empty: list at least one metric name")
			return nil, "", nil, false
		}
		for _, n := range list {
			if !tsdb.ValidName(n) {
				return list, "", invalid, true
			}
		}
		return list, "", nil, true
	}
	o.invalid("names", "is invalid: expected a list of names or one pattern")
	return nil, "", nil, false
}

// selectMetrics returns the keys of the metrics a batch selects, now.
func (a *Account) selectMetrics(names []string, pattern string) []string {
	var keys []string
	if pattern != "" {
		for m := range a.db.Metrics() {
			if tsdb.Glob(pattern, m.Name) {
				keys = append(keys, strings.ToLower(m.Name))
			}
		}
	} else {
		for _, n := range names {
			if a.db.Metric(n) != nil {
				keys = append(keys, strings.ToLower(n))
			}
		}
	}
	sort.Strings(keys)
	return keys
}

func (c *call) metricsUpdateBatch() *Reply {
	return c.metricsBatch(func(o obj) func(a *Account, key string) {
		p := readMetricProps(o, true)
		p.Type, p.Composite = nil, nil
		return func(a *Account, key string) { a.db.Metric(key).Apply(p) }
	})
}

func (c *call) metricsDeleteBatch() *Reply {
	return c.metricsBatch(func(obj) func(a *Account, key string) {
		return func(a *Account, key string) { a.db.Delete(key) }
	})
}

// metricsBatch answers a batch update or delete: it reads the names (a
// list or one pattern) and what to do to each metric, then queues a job
// that does it to every selected metric, or fails with the names' errors.
//
// It always answers 202 with Location /v1/jobs/:id and the job as body.
// names is a list, or one string pattern ('*' wildcards; a string
// without one names one metric). Attribute fields are accepted at the top
// level of a batch update (as the API's examples send them) and under
// attributes. A missing or empty names is 400; a list with an invalid
// metric name gives a job that ends failed with errors
// {"name":["is invalid"]} and changes nothing. Names that match no metric
// are skipped.
func (c *call) metricsBatch(read func(obj) func(a *Account, key string)) *Reply {
	errs := perrs{}
	o := c.fields(errs)
	names, pattern, jobErrs, ok := readNames(o)
	do := read(o)
	if rep := errs.reply(); rep != nil || !ok {
		return rep
	}
	a := c.a
	j := a.newJob(c.now, func() (map[string][]string, any) {
		if jobErrs != nil {
			return jobErrs, nil
		}
		for _, k := range a.selectMetrics(names, pattern) {
			do(a, k)
		}
		return nil, nil
	})
	return acceptedReply(jobLocation(j.id), j.json())
}
