package mock

// TEMPORARY: a stand-in for the store's readStreams over today's storage,
// so the composite evaluator can be built and tested before the store
// rewrite lands. The lead deletes this file at merge, when the real
// streamSeries, valuePoint and readStreams arrive; nothing else lives here.

import (
	"math"
	"slices"
	"strings"
)

// streamSeries is one stored stream read for a query: its metric, its
// stored (lower-cased) tags, and its points in the window bucketed and
// summarised, ascending by time, only buckets that hold data.
type streamSeries struct {
	metric *metric
	tags   map[string]string
	pts    []valuePoint
}

type valuePoint struct {
	t int64
	v float64
}

// readStreams returns, for every metric whose name matches pattern ('*'
// wildcards, ignoring case) and every stream of it whose tags satisfy keep
// (nil keeps all), the points with w.start <= t <= w.end bucketed by
// floor(t/bucket)*bucket and summarised with fn ("mean", "sum", "min",
// "max", "count"; "" means the metric's summarize_function). Series are
// ordered by metric name, then tag pairs. Composite metrics are skipped.
func (a *Account) readStreams(pattern string, keep func(tags map[string]string) bool, w window, bucket int64, fn string) []streamSeries {
	var ms []*metric
	for _, m := range a.metrics {
		if m.typ != "composite" && glob(pattern, m.name) {
			ms = append(ms, m)
		}
	}
	slices.SortFunc(ms, func(x, y *metric) int { return strings.Compare(strings.ToLower(x.name), strings.ToLower(y.name)) })
	var out []streamSeries
	for _, m := range ms {
		f := fn
		if f == "" {
			f = summaryOf(m)
		}
		for _, k := range sortedKeys(m.streams) {
			st := m.streams[k]
			if keep != nil && !keep(st.tags) {
				continue
			}
			type acc struct {
				count    int64
				sum      float64
				min, max float64
			}
			buckets := map[int64]*acc{}
			for _, s := range st.samples {
				if s.t < w.start || s.t > w.end {
					continue
				}
				bt := s.t - s.t%bucket
				if s.t%bucket < 0 {
					bt -= bucket
				}
				b := buckets[bt]
				if b == nil {
					b = &acc{min: math.Inf(1), max: math.Inf(-1)}
					buckets[bt] = b
				}
				b.count += s.count
				b.sum += s.sum
				b.min = math.Min(b.min, s.min)
				b.max = math.Max(b.max, s.max)
			}
			times := make([]int64, 0, len(buckets))
			for t := range buckets {
				times = append(times, t)
			}
			slices.Sort(times)
			pts := make([]valuePoint, 0, len(times))
			for _, t := range times {
				b := buckets[t]
				v := 0.0
				switch f {
				case "sum":
					v = b.sum
				case "count":
					v = float64(b.count)
				case "min":
					v = b.min
				case "max":
					v = b.max
				default:
					if b.count > 0 {
						v = b.sum / float64(b.count)
					}
				}
				pts = append(pts, valuePoint{t: t, v: v})
			}
			out = append(out, streamSeries{metric: m, tags: st.tags, pts: pts})
		}
	}
	return out
}
