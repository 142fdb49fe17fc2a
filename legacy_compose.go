package librato

import (
	"context"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// The legacy composite read shares GET /v1/metrics, and so its matrix row,
// with Metrics.List; the compose parameter switches the route.
var epMetricsComposeLegacy = newEndpoint("GET", "/v1/metrics")

// LegacyCompositeQuery runs a composite expression through the legacy
// (source-based) route, GET /v1/metrics?compose=.... Compose, StartTime
// and Resolution are required; EndTime defaults to now. The answer is not
// paginated, and the API ignores a count.
type LegacyCompositeQuery struct {
	// Compose is the expression; a legacy series names a source pattern
	// in place of a tag set: `sum(s("cpu", "web*"))`.
	Compose    string
	StartTime  time.Time
	EndTime    time.Time
	Resolution time.Duration // whole seconds, at most one week
}

func (q *LegacyCompositeQuery) validate() error {
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

func (q *LegacyCompositeQuery) encode(v url.Values) {
	v.Set("compose", q.Compose)
	v.Set("start_time", strconv.FormatInt(q.StartTime.Unix(), 10))
	if !q.EndTime.IsZero() {
		v.Set("end_time", strconv.FormatInt(q.EndTime.Unix(), 10))
	}
	v.Set("resolution", strconv.FormatInt(int64(q.Resolution/time.Second), 10))
}

// LegacyComposite is the answer of a legacy composite query: the
// expression as run, the resolution used, and one entry per result series.
type LegacyComposite struct {
	Compose      string                  `json:"compose"`
	Resolution   int                     `json:"resolution"`
	Measurements []LegacyCompositeSeries `json:"measurements"`
}

// LegacyCompositeSeries is one result series of a legacy composite query:
// the metric and source it belongs to, the series() patterns that selected
// it, its period in seconds, and its points.
type LegacyCompositeSeries struct {
	Metric *Metric                    `json:"metric,omitempty"`
	Period int                        `json:"period,omitempty"`
	Query  LegacyCompositeSeriesQuery `json:"query"`
	Series []LegacyCompositePoint     `json:"series"`
	Source Source                     `json:"source"`
}

// LegacyCompositeSeriesQuery echoes the metric and source patterns of the
// series() call that selected a series.
type LegacyCompositeSeriesQuery struct {
	Metric string `json:"metric"`
	Source string `json:"source"`
}

// LegacyCompositePoint is one point of a legacy composite series, at
// MeasureTime in epoch seconds.
type LegacyCompositePoint struct {
	MeasureTime int64   `json:"measure_time"`
	Value       float64 `json:"value"`
}

// ComposeLegacy runs a composite query through the legacy route and
// returns every result series at once. A query without Compose, StartTime
// or Resolution is a *ValidationError; an expression the server cannot
// evaluate is an *APIError matching ErrBadRequest whose Params name
// "compose".
func (s *MetricsService) ComposeLegacy(ctx context.Context, q *LegacyCompositeQuery) (*LegacyComposite, error) {
	return callInto[LegacyComposite](ctx, s.client, &request{ep: epMetricsComposeLegacy, opts: q})
}
