package librato

import (
	"context"
	"net/url"
)

// The legacy composite read shares GET /v1/metrics, and so its matrix row,
// with Metrics.List; the compose parameter switches the route.
var epLegacyCompose = newEndpoint("GET", "/v1/metrics")

// LegacyCompositeQuery runs a composite expression through the legacy
// (source-based) route, GET /v1/metrics?compose=...: the same parameters
// as a CompositeQuery (Compose, StartTime and Resolution required, EndTime
// defaulting to now), where a legacy series names a source pattern in
// place of a tag set: `sum(s("cpu", "web*"))`. The answer is not
// paginated, and the API ignores a count.
type LegacyCompositeQuery CompositeQuery

func (q *LegacyCompositeQuery) validate() error { return (*CompositeQuery)(q).validate() }

func (q *LegacyCompositeQuery) encode(v url.Values) { (*CompositeQuery)(q).encode(v) }

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
	Period int                        `json:"period,omitempty"` // seconds
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

// Compose runs a composite query through the legacy route and returns
// every result series at once. A query without Compose, StartTime
// or Resolution is a *ValidationError; an expression the server cannot
// evaluate is an *APIError matching ErrBadRequest whose Params name
// "compose".
func (s *LegacyService) Compose(ctx context.Context, q *LegacyCompositeQuery) (*LegacyComposite, error) {
	return callInto[LegacyComposite](ctx, s.client, &request{ep: epLegacyCompose, opts: q})
}
