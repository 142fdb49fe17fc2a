package api

import (
	"strings"

	"github.com/librato-sdk/librato-go/mock/internal/tsdb"
)

// The legacy composite read, GET /v1/metrics?compose=..., runs the same
// parser and evaluator as GET /v1/measurements?compose= (package tsdb)
// and renders the legacy answer:
//
//	{"compose": str, "resolution": int, "measurements": [{"metric": {...},
//	 "period": int, "query": {"metric": pattern, "source": pattern},
//	 "series": [{"measure_time": int, "value": num}],
//	 "source": {"name": str, "display_name": str|null}}]}
//
// start_time and resolution are required, end_time defaults to now,
// count and duration are ignored and nothing is paginated. Rules the
// reference leaves open (mock choices):
//
//   - query is the metric and source patterns of the first series() call
//     whose metric pattern matches the series' metric and whose source
//     pattern matches its source ("&" read as "*"), else of the first
//     series() call. A tag set or "*" reads as source "*"; a tag set's
//     "source" entry as that pattern.
//   - source is the series' source tag, with the display name PUT
//     /v1/sources gave it. A series without one is "all" when the
//     expression merges series (sum, mean, min, max, multiply, divide,
//     subtract), since it stands for several sources, and "unassigned"
//     (the legacy name for no source) otherwise.

type legacyComposeJSON struct {
	Compose      string                    `json:"compose"`
	Resolution   int64                     `json:"resolution"`
	Measurements []legacyComposeSeriesJSON `json:"measurements"`
}

type legacyComposeSeriesJSON struct {
	Metric legacyComposeMetricJSON  `json:"metric"`
	Period int64                    `json:"period"`
	Query  legacyComposeQueryJSON   `json:"query"`
	Series []legacyComposePointJSON `json:"series"`
	Source sourceJSON               `json:"source"`
}

type legacyComposeMetricJSON struct {
	Name        string         `json:"name"`
	Type        string         `json:"type"`
	Period      *int64         `json:"period"`
	Description *string        `json:"description"`
	DisplayName *string        `json:"display_name"`
	Attributes  map[string]any `json:"attributes"`
}

type legacyComposeQueryJSON struct {
	Metric string `json:"metric"`
	Source string `json:"source"`
}

type legacyComposePointJSON struct {
	MeasureTime int64   `json:"measure_time"`
	Value       float64 `json:"value"`
}

// metricsComposeLegacy answers GET /v1/metrics?compose=...; a missing or
// invalid parameter, or an expression that fails while evaluated, is 400
// under errors.params.
func (c *call) metricsComposeLegacy() *Reply {
	ex, w, out, rep := c.composeQuery()
	if rep != nil {
		return rep
	}
	shape := tsdb.LegacyShapeOf(ex)
	ans := legacyComposeJSON{Compose: c.q.Get("compose"), Resolution: w.Res, Measurements: make([]legacyComposeSeriesJSON, 0, len(out))}
	for _, s := range out {
		ans.Measurements = append(ans.Measurements, c.legacySeries(s, shape))
	}
	return OK(ans)
}

func (c *call) legacySeries(s tsdb.Series, shape tsdb.LegacyShape) legacyComposeSeriesJSON {
	ls := legacyComposeSeriesJSON{Period: s.Period, Series: make([]legacyComposePointJSON, len(s.Pts))}
	for i, p := range s.Pts {
		ls.Series[i] = legacyComposePointJSON{MeasureTime: p.T, Value: p.V}
	}
	ls.Metric.Attributes = map[string]any{}
	if s.Metric != nil {
		mj := s.Metric.JSON()
		ls.Metric = legacyComposeMetricJSON{Name: mj.Name, Type: mj.Type, Period: mj.Period, Description: mj.Description,
			DisplayName: mj.DisplayName, Attributes: mj.Attributes}
	}
	src, hasSource := s.Tags["source"]
	switch {
	case hasSource:
		ls.Source = sourceJSON{Name: src}
		if e := c.a.sources.byKey[strings.ToLower(src)]; e != nil {
			ls.Source = sourceJSON{Name: e.name, DisplayName: e.displayName}
		}
	case shape.Merges:
		ls.Source.Name = "all"
	default:
		ls.Source.Name = "unassigned"
	}
	ls.Query.Metric, ls.Query.Source = shape.Query(ls.Metric.Name, src, hasSource)
	return ls
}
