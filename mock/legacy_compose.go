package mock

import "strings"

// The legacy composite read, GET /v1/metrics?compose=..., runs the same
// parser and evaluator as GET /v1/measurements?compose= (composite.go,
// composite_eval.go) and renders the legacy answer:
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

// mergingFunctions are the composite functions whose output series stands
// for several input series.
var mergingFunctions = map[string]bool{"sum": true, "mean": true, "min": true, "max": true, "multiply": true, "divide": true, "subtract": true}

// metricsComposeLegacy answers GET /v1/metrics?compose=...; a missing or
// invalid parameter, or an expression that fails while evaluated, is 400
// under errors.params.
func (c *call) metricsComposeLegacy() *reply {
	ex, w, out, rep := c.composeQuery()
	if rep != nil {
		return rep
	}
	var calls []*seriesNode
	merges := false
	walkCompose(ex, func(n cnode) {
		switch t := n.(type) {
		case *seriesNode:
			calls = append(calls, t)
		case *funcNode:
			merges = merges || mergingFunctions[t.name]
		}
	})
	ans := legacyComposeJSON{Compose: c.q.Get("compose"), Resolution: w.res, Measurements: make([]legacyComposeSeriesJSON, 0, len(out))}
	for _, s := range out {
		ans.Measurements = append(ans.Measurements, c.legacySeries(s, calls, merges))
	}
	return okReply(ans)
}

func (c *call) legacySeries(s cseries, calls []*seriesNode, merges bool) legacyComposeSeriesJSON {
	ls := legacyComposeSeriesJSON{Period: s.period, Series: make([]legacyComposePointJSON, len(s.pts))}
	for i, p := range s.pts {
		ls.Series[i] = legacyComposePointJSON{MeasureTime: p.t, Value: p.v}
	}
	ls.Metric.Attributes = map[string]any{}
	if s.metric != nil {
		mj := s.metric.json()
		ls.Metric = legacyComposeMetricJSON{Name: mj.Name, Type: mj.Type, Period: mj.Period, Description: mj.Description,
			DisplayName: mj.DisplayName, Attributes: mj.Attributes}
	}
	src, hasSource := s.tags["source"]
	switch {
	case hasSource:
		ls.Source = sourceJSON{Name: src}
		if e := c.a.sources.byKey[strings.ToLower(src)]; e != nil {
			ls.Source = sourceJSON{Name: e.name, DisplayName: e.displayName}
		}
	case merges:
		ls.Source.Name = "all"
	default:
		ls.Source.Name = "unassigned"
	}
	if n := matchingCall(calls, ls.Metric.Name, src, hasSource); n != nil {
		ls.Query.Metric, ls.Query.Source = n.metric, legacySourcePattern(n)
	}
	return ls
}

// matchingCall is the first series() call that could have loaded a series
// of metric (and source, when it has one), else the first call.
func matchingCall(calls []*seriesNode, metric, source string, hasSource bool) *seriesNode {
	for _, n := range calls {
		if !glob(strings.ReplaceAll(n.metric, "&", "*"), metric) {
			continue
		}
		if hasSource && !tagPattern(strings.ReplaceAll(legacySourcePattern(n), "&", "*"), source) {
			continue
		}
		return n
	}
	if len(calls) > 0 {
		return calls[0]
	}
	return nil
}

// legacySourcePattern is the source pattern of a series() call: its
// legacy source argument, the "source" entry of its tag set, or "*".
func legacySourcePattern(n *seriesNode) string {
	if n.hasSource {
		return n.source
	}
	if p, ok := n.tags["source"]; ok {
		return p
	}
	return "*"
}

// walkCompose calls visit on n and every node below it, in the order the
// expression writes them.
func walkCompose(n cnode, visit func(cnode)) {
	if n == nil {
		return
	}
	visit(n)
	switch t := n.(type) {
	case *setNode:
		for _, e := range t.elems {
			walkCompose(e, visit)
		}
	case *funcNode:
		walkCompose(t.in, visit)
	case *timeshiftNode:
		walkCompose(t.in, visit)
	case *mapNode:
		walkCompose(t.in, visit)
	case *groupByNode:
		walkCompose(t.in, visit)
	}
}
