package librato

import (
	"context"
	"encoding/json"
	"fmt"
	"iter"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// MeasurementsService submits and queries tagged measurements: Create,
// List and All, Compose, and NewBatcher for agents. The source-based API
// is Client.Legacy.
type MeasurementsService service

// MetricsService manages metric metadata, never measurements: List, All,
// Get, Update (which also creates), Delete, and the batch UpdateBatch and
// DeleteBatch.
type MetricsService service

var (
	epMeasurementsCreate  = newEndpoint("POST", "/v1/measurements")
	epMeasurementsList    = newEndpoint("GET", "/v1/measurements/:name")
	epMeasurementsCompose = newEndpoint("GET", "/v1/measurements")
	epMetricsList         = newEndpoint("GET", "/v1/metrics")
	epMetricsGet          = newEndpoint("GET", "/v1/metrics/:name")
	epMetricsUpdate       = newEndpoint("PUT", "/v1/metrics/:name")
	epMetricsDelete       = newEndpoint("DELETE", "/v1/metrics/:name")
	epMetricsUpdateBatch  = newEndpoint("PUT", "/v1/metrics")
	epMetricsDeleteBatch  = newEndpoint("DELETE", "/v1/metrics")
)

// Measurement is one sample of a metric, or a summary of several. A plain
// sample carries Value. A summary sets Count (> 0) and Sum, optionally Min,
// Max, Last and StdDev, and then Value is not sent.
type Measurement struct {
	Name   string            `json:"name"`
	Value  float64           `json:"value"`
	Tags   map[string]string `json:"tags,omitempty"`   // replaces, never merges with, the batch's tags
	Time   int64             `json:"time,omitempty"`   // epoch seconds; 0 uses the batch's time, then the server's
	Period int64             `json:"period,omitempty"` // seconds; stored when this creates the metric

	Count  int64    `json:"count,omitempty"`
	Sum    *float64 `json:"sum,omitempty"`
	Min    *float64 `json:"min,omitempty"`
	Max    *float64 `json:"max,omitempty"`
	Last   *float64 `json:"last,omitempty"`
	StdDev *float64 `json:"stddev,omitempty"`

	// Metric properties used only if this measurement creates the metric.
	DisplayName string            `json:"display_name,omitempty"`
	Description string            `json:"description,omitempty"`
	Attributes  *MetricAttributes `json:"attributes,omitempty"`
}

// MarshalJSON encodes the measurement as the API wants it, with the same
// encoder Create uses: Value is left out of a summary.
func (m Measurement) MarshalJSON() ([]byte, error) {
	return appendMeasurement(nil, &m, nil), nil
}

// MeasurementBatch is the body of one submission: measurements with
// defaults for the tags, time and period they leave out.
type MeasurementBatch struct {
	Tags         map[string]string `json:"tags,omitempty"`
	Time         int64             `json:"time,omitempty"`
	Period       int64             `json:"period,omitempty"`
	Measurements []Measurement     `json:"measurements"`
}

// MarshalJSON encodes the batch with the SDK's measurement encoder.
func (b *MeasurementBatch) MarshalJSON() ([]byte, error) { return b.appendJSON(nil) }

func (b *MeasurementBatch) validate() error {
	if len(b.Measurements) == 0 {
		return invalid("measurements", -1, "is empty; send at least one measurement")
	}
	if err := checkTags("tags", -1, b.Tags); err != nil {
		return err
	}
	if b.Time < 0 || b.Period < 0 {
		return invalid("time", -1, "time and period may not be negative")
	}
	for i := range b.Measurements {
		if err := b.Measurements[i].check(i, b.Tags == nil); err != nil {
			return err
		}
	}
	return nil
}

// Validate reports the first reason the API would reject m, as a
// *ValidationError with Index -1; nil when m is fine.
func (m *Measurement) Validate() error { return m.check(-1, true) }

func (m *Measurement) check(i int, ownTags bool) error {
	if err := checkMetricName("name", i, m.Name); err != nil {
		return err
	}
	if m.Tags != nil || ownTags {
		if err := checkTags("tags", i, m.Tags); err != nil {
			return err
		}
	}
	if m.Time < 0 {
		return invalid("time", i, "may not be negative")
	}
	if m.Period < 0 {
		return invalid("period", i, "may not be negative")
	}
	if m.Count < 0 {
		return invalid("count", i, "may not be negative")
	}
	if m.Count == 0 {
		if m.Sum != nil || m.Min != nil || m.Max != nil {
			return invalid("count", i, "is missing: sum, min and max describe a summary and need count > 0")
		}
		if err := checkFloat("value", i, m.Value); err != nil {
			return err
		}
	} else if m.Sum == nil {
		return invalid("sum", i, "is missing: a summary with count needs its sum")
	}
	for _, f := range [...]struct {
		name string
		v    *float64
	}{{"sum", m.Sum}, {"min", m.Min}, {"max", m.Max}, {"last", m.Last}, {"stddev", m.StdDev}} {
		if f.v != nil {
			if err := checkFloat(f.name, i, *f.v); err != nil {
				return err
			}
		}
	}
	if m.Attributes != nil {
		if err := m.Attributes.check(i); err != nil {
			return err
		}
	}
	return nil
}

// MeasurementsSummary is what the server reports it did with a submission.
// All zero means the server sent no summary (any 2xx is an acceptance).
type MeasurementsSummary struct {
	Total    int `json:"total"`
	Accepted int `json:"accepted"`
	Failed   int `json:"failed"`
	Filtered int `json:"filtered"`
}

type measurementsResponse struct {
	Measurements struct {
		Summary MeasurementsSummary `json:"summary"`
	} `json:"measurements"`
}

// Create submits a batch of measurements (POST /v1/measurements). It is
// retried on network errors, 429 and 5xx, so give measurements a Time to
// keep a retry from recording a point twice. An invalid measurement fails
// the call with a *ValidationError before anything is sent.
func (s *MeasurementsService) Create(ctx context.Context, batch *MeasurementBatch) (*MeasurementsSummary, error) {
	if batch == nil {
		batch = &MeasurementBatch{}
	}
	var out measurementsResponse
	if _, err := s.client.call(ctx, &request{ep: epMeasurementsCreate, body: batch, out: &out}); err != nil {
		return nil, err
	}
	return &out.Measurements.Summary, nil
}

// MeasurementsQuery selects the series GET /v1/measurements/:name returns.
// Resolution is required; give StartTime, or Duration (counted back from
// EndTime or now), or StartTime and EndTime.
type MeasurementsQuery struct {
	StartTime  time.Time
	EndTime    time.Time
	Duration   time.Duration
	Resolution time.Duration // whole seconds, at most one week

	// Tags keeps streams whose tag matches one of the patterns ('*' is a
	// wildcard, a leading '!' negates); several names must all match. A
	// name with a leading '!' keeps streams without that tag. Sent as
	// tags[name]=pattern, repeated for several patterns.
	Tags map[string][]string
	// TagsSearch is the richer filter expression, e.g.
	// "region=us-east* and db=*prod*". Not with Tags.
	TagsSearch string

	GroupBy         []string // tag names, or "*" to merge every stream
	GroupByFunction string   // sum, min, max or mean; required with GroupBy
	SummaryFunction string   // sum, min, max, count, mean, derivative, stddev or all
}

func (q *MeasurementsQuery) validate() error {
	if q == nil {
		return invalid("resolution", -1, "is required; pass a MeasurementsQuery with a Resolution")
	}
	res := q.Resolution
	switch {
	case res <= 0:
		return invalid("resolution", -1, "is required, in whole seconds up to one week")
	case res%time.Second != 0:
		return invalid("resolution", -1, "%v is not a whole number of seconds", res)
	case res > MaxResolution*time.Second:
		return invalid("resolution", -1, "%v is more than one week, the maximum", res)
	case q.StartTime.IsZero() && q.Duration <= 0:
		return invalid("start_time", -1, "is required unless Duration is set")
	case !q.StartTime.IsZero() && !q.EndTime.IsZero() && q.Duration > 0:
		return invalid("duration", -1, "cannot be sent with both start_time and end_time")
	case q.Duration < 0 || q.Duration%time.Second != 0:
		return invalid("duration", -1, "must be a positive whole number of seconds")
	case !q.StartTime.IsZero() && !q.EndTime.IsZero() && q.EndTime.Before(q.StartTime):
		return invalid("end_time", -1, "is before start_time")
	case len(q.Tags) > 0 && q.TagsSearch != "":
		return invalid("tags_search", -1, "cannot be combined with tags; use one or the other")
	case len(q.GroupBy) > 0 && q.GroupByFunction == "":
		return invalid("group_by_function", -1, "is required with group_by: sum, min, max or mean")
	case len(q.GroupBy) > 0 && q.SummaryFunction == "all":
		return invalid("summary_function", -1, `"all" cannot be combined with group_by`)
	}
	if q.GroupByFunction != "" && !oneOf(q.GroupByFunction, "sum", "min", "max", "mean") {
		return invalid("group_by_function", -1, "%q is not one of sum, min, max, mean", q.GroupByFunction)
	}
	if q.SummaryFunction != "" && !oneOf(q.SummaryFunction, "sum", "min", "max", "count", "mean", "derivative", "stddev", "all") {
		return invalid("summary_function", -1, "%q is not one of sum, min, max, count, mean, derivative, stddev, all", q.SummaryFunction)
	}
	for name, patterns := range q.Tags {
		if strings.TrimPrefix(name, "!") == "" || len(patterns) == 0 {
			return invalid("tags", -1, "filter %q needs a tag name and at least one pattern", name)
		}
	}
	return nil
}

func (q *MeasurementsQuery) encode(v url.Values) {
	if !q.StartTime.IsZero() {
		v.Set("start_time", strconv.FormatInt(q.StartTime.Unix(), 10))
	}
	if !q.EndTime.IsZero() {
		v.Set("end_time", strconv.FormatInt(q.EndTime.Unix(), 10))
	}
	if q.Duration > 0 {
		v.Set("duration", strconv.FormatInt(int64(q.Duration/time.Second), 10))
	}
	v.Set("resolution", strconv.FormatInt(int64(q.Resolution/time.Second), 10))
	for name, patterns := range q.Tags {
		for _, p := range patterns {
			v.Add("tags["+name+"]", p)
		}
	}
	if q.TagsSearch != "" {
		v.Set("tags_search", q.TagsSearch)
	}
	if len(q.GroupBy) > 0 {
		v.Set("group_by", strings.Join(q.GroupBy, ","))
	}
	if q.GroupByFunction != "" {
		v.Set("group_by_function", q.GroupByFunction)
	}
	if q.SummaryFunction != "" {
		v.Set("summary_function", q.SummaryFunction)
	}
}

func oneOf(v string, allowed ...string) bool {
	for _, a := range allowed {
		if v == a {
			return true
		}
	}
	return false
}

// MeasurementPage is one answer of GET /v1/measurements/:name. When Links
// holds a "next" link, more series follow; All follows them for you.
type MeasurementPage struct {
	Name       string   `json:"name"`
	Resolution int      `json:"resolution"`
	Series     []Series `json:"series"`
	Links      []Link   `json:"links,omitempty"`
}

// Next returns the href of the "next" link, or "" on the last page.
func (p *MeasurementPage) Next() string {
	for _, l := range p.Links {
		if l.Rel == "next" {
			return l.Href
		}
	}
	return ""
}

// Series is one stream (or group of streams) and its points.
type Series struct {
	Tags         map[string]string `json:"tags,omitempty"`
	Measurements []Point           `json:"measurements"`
}

// Point is one downsampled value; Time is epoch seconds floored to the
// resolution. A plain query fills Time and Value only. With
// SummaryFunction "all" the server also sends the bucket's summary: the
// number of samples, their sum, min, max, last value and standard
// deviation, kept in the pointer fields (nil when not sent, so a plain
// point re-encodes as {"time","value"}).
type Point struct {
	Time  int64   `json:"time"`
	Value float64 `json:"value"`

	Count  *int64   `json:"count,omitempty"`
	Sum    *float64 `json:"sum,omitempty"`
	Min    *float64 `json:"min,omitempty"`
	Max    *float64 `json:"max,omitempty"`
	Last   *float64 `json:"last,omitempty"`
	StdDev *float64 `json:"stddev,omitempty"`
}

// Link is a related URL: a page link of a measurements query, or a link of
// an annotation event.
type Link struct {
	Rel   string `json:"rel"`
	Href  string `json:"href"`
	Label string `json:"label,omitempty"`
}

// List queries the series of metric name (GET /v1/measurements/:name); it
// returns the first page. A query without Resolution, or with conflicting
// time or tag parameters, is a *ValidationError.
func (s *MeasurementsService) List(ctx context.Context, name string, q *MeasurementsQuery) (*MeasurementPage, error) {
	return callInto[MeasurementPage](ctx, s.client, &request{ep: epMeasurementsList, params: []string{name}, opts: q})
}

// All yields every series of the query, following the server's "next"
// links until there are none. A link is followed only on the client's own
// origin and only to this endpoint, through the guard; a link repeated, or
// more than MaxPaginationRequests requests, ends the sequence with a
// *PaginationError (ErrPaginationStalled).
func (s *MeasurementsService) All(ctx context.Context, name string, q *MeasurementsQuery) iter.Seq2[Series, error] {
	first := func(ctx context.Context) (*MeasurementPage, error) { return s.List(ctx, name, q) }
	return followLinks(ctx, s.client, epMeasurementsList, first, func(p *MeasurementPage) ([]Series, string) { return p.Series, p.Next() })
}

// CompositeQuery runs a composite expression (GET
// /v1/measurements?compose=...). Compose, StartTime and Resolution are
// required.
type CompositeQuery struct {
	Compose    string // e.g. `derive(s("conn", {"host":"db1"}), {detect_reset: "true"})`
	StartTime  time.Time
	EndTime    time.Time
	Resolution time.Duration
}

func (q *CompositeQuery) validate() error {
	switch {
	case q == nil || strings.TrimSpace(q.Compose) == "":
		return invalid("compose", -1, "is required: a composite expression")
	case q.StartTime.IsZero():
		return invalid("start_time", -1, "is required for a composite query")
	case q.Resolution <= 0 || q.Resolution%time.Second != 0 || q.Resolution > MaxResolution*time.Second:
		return invalid("resolution", -1, "is required, in whole seconds up to one week")
	case !q.EndTime.IsZero() && q.EndTime.Before(q.StartTime):
		return invalid("end_time", -1, "is before start_time")
	}
	return nil
}

func (q *CompositeQuery) encode(v url.Values) {
	v.Set("compose", q.Compose)
	v.Set("start_time", strconv.FormatInt(q.StartTime.Unix(), 10))
	if !q.EndTime.IsZero() {
		v.Set("end_time", strconv.FormatInt(q.EndTime.Unix(), 10))
	}
	v.Set("resolution", strconv.FormatInt(int64(q.Resolution/time.Second), 10))
}

// CompositeSeries is one result series of a composite query.
type CompositeSeries struct {
	Tags         map[string]string `json:"tags,omitempty"`
	Measurements []Point           `json:"measurements"`
	Metric       *Metric           `json:"metric,omitempty"`
	Period       int               `json:"period,omitempty"` // seconds
}

// Compose runs a composite query (GET /v1/measurements?compose=...) and
// returns every result series at once; it is not paginated. A query
// without Compose, StartTime or Resolution is a *ValidationError; an
// expression the server cannot evaluate is an *APIError matching
// ErrBadRequest.
func (s *MeasurementsService) Compose(ctx context.Context, q *CompositeQuery) ([]CompositeSeries, error) {
	var out []CompositeSeries
	if _, err := s.client.call(ctx, &request{ep: epMeasurementsCompose, opts: q, out: &out}); err != nil {
		return nil, err
	}
	return out, nil
}

// Metric types.
const (
	MetricTypeGauge     = "gauge"
	MetricTypeComposite = "composite"
)

// Metric is a metric's metadata as the API reports it (Get, List, All).
// The pointer fields are nil when the API sent null or nothing. To change
// a metric, or create one, send a MetricUpdate with Update.
type Metric struct {
	Name        string            `json:"name,omitempty"`
	Type        string            `json:"type,omitempty"` // gauge or composite ("counter" on old accounts)
	DisplayName *string           `json:"display_name,omitempty"`
	Description *string           `json:"description,omitempty"`
	Period      *int              `json:"period,omitempty"` // seconds
	Attributes  *MetricAttributes `json:"attributes,omitempty"`
	Composite   string            `json:"composite,omitempty"` // the definition, for type composite
	SourceLag   *int              `json:"source_lag,omitempty"`
}

// MetricUpdate is the body of Metrics.Update (PUT /v1/metrics/:name). A
// nil field is left as it is and not sent; a set one is sent even when it
// is a zero value (Ptr("") clears a description).
//
// PUT creates a metric that does not exist: a create needs Type, and a
// composite also its Composite definition; the API refuses to create a
// metric without a Type. An update may leave Type nil.
type MetricUpdate struct {
	Type        *string           `json:"type,omitempty"` // MetricTypeGauge or MetricTypeComposite
	DisplayName *string           `json:"display_name,omitempty"`
	Description *string           `json:"description,omitempty"`
	Period      *int              `json:"period,omitempty"` // seconds, > 0
	Attributes  *MetricAttributes `json:"attributes,omitempty"`
	// Composite is the definition of a composite metric; it needs Type
	// MetricTypeComposite in the same update.
	Composite *string `json:"composite,omitempty"`
}

func (u *MetricUpdate) validate() error {
	typ := ""
	if u.Type != nil {
		typ = *u.Type
		if !oneOf(typ, MetricTypeGauge, MetricTypeComposite) {
			return invalid("type", -1, "%q is not gauge or composite", typ)
		}
	}
	if typ == MetricTypeComposite && (u.Composite == nil || strings.TrimSpace(*u.Composite) == "") {
		return invalid("composite", -1, "is required for a composite metric")
	}
	if u.Composite != nil && *u.Composite != "" && typ != MetricTypeComposite {
		return invalid("type", -1, "must be composite when a composite definition is given")
	}
	if u.Period != nil && *u.Period <= 0 {
		return invalid("period", -1, "must be a positive number of seconds")
	}
	if u.Attributes != nil {
		return u.Attributes.check(-1)
	}
	return nil
}

// MetricAttributes are a metric's display and behaviour attributes.
type MetricAttributes struct {
	Color             string   `json:"color,omitempty"` // #RRGGBB
	DisplayMax        *float64 `json:"display_max,omitempty"`
	DisplayMin        *float64 `json:"display_min,omitempty"`
	DisplayUnitsLong  string   `json:"display_units_long,omitempty"`
	DisplayUnitsShort string   `json:"display_units_short,omitempty"`
	DisplayStacked    *bool    `json:"display_stacked,omitempty"`
	SummarizeFunction string   `json:"summarize_function,omitempty"` // average, sum, count, min or max
	Aggregate         *bool    `json:"aggregate,omitempty"`          // service-side aggregation
	CreatedByUA       string   `json:"created_by_ua,omitempty"`      // set by the server
	GapDetection      *bool    `json:"gap_detection,omitempty"`
}

func (a *MetricAttributes) check(i int) error {
	if a.Color != "" && !validColor(a.Color) {
		return invalid("attributes.color", i, "%q is not #RRGGBB", a.Color)
	}
	if a.SummarizeFunction != "" && !oneOf(a.SummarizeFunction, "average", "sum", "count", "min", "max") {
		return invalid("attributes.summarize_function", i, "%q is not one of average, sum, count, min, max", a.SummarizeFunction)
	}
	for _, f := range [...]struct {
		name string
		v    *float64
	}{{"attributes.display_max", a.DisplayMax}, {"attributes.display_min", a.DisplayMin}} {
		if f.v != nil {
			if err := checkFloat(f.name, i, *f.v); err != nil {
				return err
			}
		}
	}
	return nil
}

func validColor(c string) bool {
	if len(c) != 7 || c[0] != '#' {
		return false
	}
	for i := 1; i < 7; i++ {
		if !strings.ContainsRune("0123456789abcdefABCDEF", rune(c[i])) {
			return false
		}
	}
	return true
}

// MetricPage is one page of GET /v1/metrics.
type MetricPage struct {
	Query   Query    `json:"query"`
	Metrics []Metric `json:"metrics"`
}

func (l *MetricPage) page() ([]Metric, Query) { return l.Metrics, l.Query }

// List returns one page of metric metadata, never measurements.
func (s *MetricsService) List(ctx context.Context, opts *ListOptions) (*MetricPage, error) {
	return callInto[MetricPage](ctx, s.client, &request{ep: epMetricsList, opts: listOf{opts, nil, true}})
}

// All yields every metric matching opts, page after page.
func (s *MetricsService) All(ctx context.Context, opts *ListOptions) iter.Seq2[Metric, error] {
	return allPages[Metric](ctx, opts, s.List)
}

// Get returns the metadata of metric name; a missing metric is an
// *APIError matching ErrNotFound.
func (s *MetricsService) Get(ctx context.Context, name string) (*Metric, error) {
	return callInto[Metric](ctx, s.client, &request{ep: epMetricsGet, params: []string{name}})
}

// Update sets on metric name the fields u sets (PUT /v1/metrics/:name),
// and creates the metric when it does not exist: a create needs u.Type
// (and u.Composite for a composite), or the API refuses it with an
// *APIError. An invalid u is a *ValidationError and nothing is sent. The
// API answers an update with no body; call Get for the stored metric.
func (s *MetricsService) Update(ctx context.Context, name string, u *MetricUpdate) error {
	if u == nil {
		u = &MetricUpdate{}
	}
	_, err := s.client.call(ctx, &request{ep: epMetricsUpdate, params: []string{name}, body: u})
	return err
}

// Delete deletes metric name and all its measurements, beyond recovery.
func (s *MetricsService) Delete(ctx context.Context, name string) error {
	_, err := s.client.call(ctx, &request{ep: epMetricsDelete, params: []string{name}})
	return err
}

// MetricNames selects metrics for a batch operation: a list of names, or
// one pattern with '*' wildcards. Set exactly one.
type MetricNames struct {
	Names   []string
	Pattern string
}

func (n *MetricNames) check() error {
	switch {
	case len(n.Names) == 0 && n.Pattern == "":
		return invalid("names", -1, "is required: a list of names or one pattern with '*'")
	case len(n.Names) > 0 && n.Pattern != "":
		return invalid("names", -1, "give a list of names or a pattern, not both")
	case n.Pattern != "" && !strings.Contains(n.Pattern, "*"):
		return invalid("names", -1, "pattern %q has no '*'; list plain names in Names", n.Pattern)
	}
	for i, name := range n.Names {
		if err := checkMetricName(fmt.Sprintf("names[%d]", i), -1, name); err != nil {
			return err
		}
	}
	return nil
}

// appendNames writes the "names" member: an array, or the pattern string.
func (n *MetricNames) appendNames(b []byte) []byte {
	b = append(b, `"names":`...)
	if n.Pattern != "" {
		return appendString(b, n.Pattern)
	}
	b = append(b, '[')
	for i, name := range n.Names {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendString(b, name)
	}
	return append(b, ']')
}

// MetricsBatchUpdate sets properties and attributes on many metrics at once
// (PUT /v1/metrics). Only the fields set are sent. The attributes go at the
// top level of the body, beside names and the properties
// ({"names":[...],"period":60,"display_min":0}), the form every example of
// the reference sends; the single-metric PUT nests them under
// "attributes" instead.
type MetricsBatchUpdate struct {
	MetricNames
	DisplayName *string
	Description *string
	Period      *int // seconds, > 0
	Attributes  *MetricAttributes
}

func (u *MetricsBatchUpdate) validate() error {
	if err := u.MetricNames.check(); err != nil {
		return err
	}
	m := MetricUpdate{Period: u.Period, Attributes: u.Attributes}
	return m.validate()
}

func (u *MetricsBatchUpdate) appendJSON(b []byte) ([]byte, error) {
	b = append(b, '{')
	b = u.appendNames(b)
	// Property and attribute names do not overlap, so the attributes'
	// members join the properties' at the top level.
	b, err := appendMembers(b, &MetricUpdate{DisplayName: u.DisplayName, Description: u.Description, Period: u.Period})
	if err == nil && u.Attributes != nil {
		b, err = appendMembers(b, u.Attributes)
	}
	if err != nil {
		return b, err
	}
	return append(b, '}'), nil
}

// appendMembers writes the members of v's JSON object, each after a comma.
func appendMembers(b []byte, v any) ([]byte, error) {
	raw, err := json.Marshal(v)
	if err != nil {
		return b, err
	}
	if len(raw) > 2 { // not "{}"
		b = append(b, ',')
		b = append(b, raw[1:len(raw)-1]...)
	}
	return b, nil
}

// UpdateBatch applies u to every selected metric. When the server applied
// it at once (204) it returns a finished Job (ID 0, State JobComplete);
// when it will apply it in the background (202), the queued *Job: wait for
// it with Jobs.Wait. A selection without names or pattern is a
// *ValidationError.
func (s *MetricsService) UpdateBatch(ctx context.Context, u *MetricsBatchUpdate) (*Job, error) {
	if u == nil {
		u = &MetricsBatchUpdate{}
	}
	return s.client.callForJob(ctx, &request{ep: epMetricsUpdateBatch, body: u})
}

// MetricsBatchDelete selects the metrics DeleteBatch removes.
type MetricsBatchDelete struct{ MetricNames }

func (d *MetricsBatchDelete) validate() error { return d.MetricNames.check() }

func (d *MetricsBatchDelete) appendJSON(b []byte) ([]byte, error) {
	b = append(b, '{')
	b = d.appendNames(b)
	return append(b, '}'), nil
}

// DeleteBatch deletes every selected metric and its measurements, beyond
// recovery. It returns a finished Job (ID 0, State JobComplete) when done
// at once (204), or the queued *Job (202) to wait for with Jobs.Wait.
func (s *MetricsService) DeleteBatch(ctx context.Context, d *MetricsBatchDelete) (*Job, error) {
	if d == nil {
		d = &MetricsBatchDelete{}
	}
	return s.client.callForJob(ctx, &request{ep: epMetricsDeleteBatch, body: d})
}
