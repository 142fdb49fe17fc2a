package tsdb

import (
	"cmp"
	"math"
	"slices"
)

// LegacyQuery is what a legacy read (GET /v1/metrics/:name with time
// parameters) asks of one metric.
type LegacyQuery struct {
	Lo, Hi        int64 // the window, both ends included
	Bucket        int64 // seconds; 1 without a resolution
	Count         int64 // records per source, when hasCount
	HasCount      bool
	FromStart     bool // count N from lo (else the last N up to hi)
	SummarizeTime bool
	WantAll       bool // the "all" series
	Breakout      bool // the per-source series
	GroupBy       string
	Selected      func(source string) bool
}

// LegacyRead reads m's records by source ("unassigned" for streams
// without one) and, with wantAll, the "all" series; see api's handler for
// the rules.
func LegacyRead(m *Metric, q LegacyQuery) map[string][]LegacyRecord {
	// Per source: buckets of its streams, merged by time, and the times
	// of the buckets that hold a gauge summary.
	bySource := map[string][]agg{}
	summaries := map[string]map[int64]bool{}
	// A counter reads as the raw values it was sent; its summaries
	// (summarize_time, the "all" series) describe its deltas.
	deltas := m.Type == "counter" && (q.SummarizeTime || q.WantAll)
	for _, st := range m.sortedStreams() {
		if !q.Selected(st.source) {
			continue
		}
		base := len(bySource[st.source])
		bySource[st.source] = bucketize(st, deltas, q.Lo, q.Hi, q.Bucket, needAll, bySource[st.source])
		if m.Type != "counter" {
			if summaries[st.source] == nil {
				summaries[st.source] = map[int64]bool{}
			}
			summaryTimes(summaries[st.source], st, bySource[st.source][base:], q.Lo)
		}
	}
	complexAt := func(src string, t int64) bool { return summaries[src][t] }
	perSource := map[string][]agg{}
	for src, bs := range bySource {
		slices.SortStableFunc(bs, func(a, b agg) int { return cmp.Compare(a.t, b.t) })
		merged := bs[:0]
		for i := range bs {
			if n := len(merged); n > 0 && merged[n-1].t == bs[i].t {
				merged[n-1].merge(&bs[i])
				continue
			}
			merged = append(merged, bs[i])
		}
		if q.HasCount && int64(len(merged)) > q.Count {
			if q.FromStart {
				merged = merged[:q.Count]
			} else {
				merged = merged[int64(len(merged))-q.Count:]
			}
		}
		if len(merged) > 0 {
			perSource[src] = merged
		}
	}

	out := map[string][]LegacyRecord{}
	rollups := map[string]int{}
	for src, bs := range perSource {
		if q.SummarizeTime {
			g := bs[0]
			for i := 1; i < len(bs); i++ {
				g.merge(&bs[i])
			}
			rollups[src] = len(bs)
			perSource[src] = []agg{g} // keeps bs[0]'s time: a lone sample stays marked
		}
	}
	if q.Breakout {
		for src, bs := range perSource {
			recs := make([]LegacyRecord, len(bs))
			for i := range bs {
				recs[i] = recordOf(&bs[i], complexAt(src, bs[i].t))
				if q.SummarizeTime {
					recs[i].Rollups = ptr(rollups[src])
				}
			}
			out[src] = recs
		}
	}
	if q.WantAll && len(perSource) > 0 {
		out["all"] = summarizeAll(perSource, q.SummarizeTime, q.GroupBy, complexAt)
	}
	return out
}

// LegacyRecord is one point of a legacy read. Counters' records describe
// their deltas, gauge-shaped. A record of one plain sample is
// {measure_time, value, count}, as every point of the reference's examples
// is; sum, min, max and sum_squares (when known) are added to a record that
// summarises more than one sample or holds a complex gauge's summary
// (legacy fact sheet §5.3: "probably present for complex gauges").
type LegacyRecord struct {
	MeasureTime int64    `json:"measure_time"`
	Value       float64  `json:"value"`
	Count       int64    `json:"count"`
	Sum         *float64 `json:"sum,omitempty"`
	Min         *float64 `json:"min,omitempty"`
	Max         *float64 `json:"max,omitempty"`
	SumSquares  *float64 `json:"sum_squares,omitempty"`
	Summarized  *int     `json:"summarized,omitempty"`
	Rollups     *int     `json:"rollups,omitempty"`
}

// recordOf is the record of g; complex says g holds a sample sent as a
// summary.
func recordOf(g *agg, complex bool) LegacyRecord {
	r := LegacyRecord{MeasureTime: g.t, Value: g.mean(), Count: g.count}
	if g.count > 1 || complex {
		r.Sum, r.Min, r.Max = ptr(g.sum), ptr(g.min), ptr(g.max)
		if g.sqMiss == 0 {
			r.SumSquares = ptr(g.sumsq)
		}
	}
	return r
}

// summaryTimes adds to set the bucket starts of bs, the buckets bucketize
// just made of st's samples, that hold exactly one sample sent as a gauge
// summary; a bucket of several samples shows its summary anyway. The one
// sample of such a bucket is the first at or after max(bucket start, lo).
func summaryTimes(set map[int64]bool, st *stream, bs []agg, lo int64) {
	c := st.sorted()
	for i := range bs {
		if bs[i].count != 1 {
			continue
		}
		k, _ := slices.BinarySearch(c.t, max(bs[i].t, lo))
		if k < len(c.t) && c.rest[k].flags&SentSummary != 0 {
			set[bs[i].t] = true
		}
	}
}

// summarizeAll builds the "all" series from each source's records;
// complexAt says which of them hold a gauge summary.
func summarizeAll(perSource map[string][]agg, overTime bool, groupBy string, complexAt func(src string, t int64) bool) []LegacyRecord {
	type slot struct {
		t       int64
		aggs    []*agg
		complex bool
	}
	var slots []*slot
	byTime := map[int64]*slot{}
	for _, src := range sortedKeys(perSource) {
		bs := perSource[src]
		for i := range bs {
			t := bs[i].t
			if overTime {
				t = math.MinInt64 // one slot for everything
			}
			s := byTime[t]
			if s == nil {
				s = &slot{t: bs[i].t}
				byTime[t] = s
				slots = append(slots, s)
			}
			s.t = min(s.t, bs[i].t)
			s.aggs = append(s.aggs, &bs[i])
			s.complex = s.complex || complexAt(src, bs[i].t)
		}
	}
	slices.SortFunc(slots, func(a, b *slot) int { return cmp.Compare(a.t, b.t) })
	out := make([]LegacyRecord, 0, len(slots))
	for _, s := range slots {
		var r LegacyRecord
		if groupBy == "" {
			g := agg{t: s.t}
			for _, a := range s.aggs {
				g.merge(a)
			}
			r = recordOf(&g, s.complex)
		} else {
			r = groupRecord(s.aggs, groupBy, s.complex)
			r.MeasureTime = s.t
		}
		r.Summarized = ptr(len(s.aggs))
		out = append(out, r)
	}
	return out
}

// groupRecord applies a legacy group_by function to each statistic across
// sources; count is always the total number of samples. Like recordOf it
// leaves sum, min, max and sum_squares out of a record of one plain sample.
func groupRecord(aggs []*agg, fn string, complex bool) LegacyRecord {
	stat := func(f func(a *agg) float64) float64 {
		if fn == "count" {
			return float64(len(aggs))
		}
		r := f(aggs[0])
		for _, a := range aggs[1:] {
			v := f(a)
			switch fn {
			case "min":
				r = math.Min(r, v)
			case "max":
				r = math.Max(r, v)
			default:
				r += v
			}
		}
		if fn == "mean" {
			r /= float64(len(aggs))
		}
		return r
	}
	r := LegacyRecord{Value: stat((*agg).mean)}
	all := true
	for _, a := range aggs {
		r.Count += a.count
		all = all && a.sqMiss == 0
	}
	if r.Count <= 1 && !complex {
		return r
	}
	r.Sum = ptr(stat(func(a *agg) float64 { return a.sum }))
	r.Min = ptr(stat(func(a *agg) float64 { return a.min }))
	r.Max = ptr(stat(func(a *agg) float64 { return a.max }))
	if all {
		r.SumSquares = ptr(stat(func(a *agg) float64 { return a.sumsq }))
	}
	return r
}

// PageByTime cuts the records to at most size, at a time boundary: the
// page ends before the first time whose records do not all fit (but
// always holds the first time), and next is that time.
func PageByTime(out map[string][]LegacyRecord, size int) (next int64, cut bool) {
	perTime := map[int64]int{}
	total := 0
	for _, recs := range out {
		for _, r := range recs {
			perTime[r.MeasureTime]++
			total++
		}
	}
	if total <= size {
		return 0, false
	}
	times := make([]int64, 0, len(perTime))
	for t := range perTime {
		times = append(times, t)
	}
	slices.Sort(times)
	n, i := 0, 0
	for ; i < len(times); i++ {
		if n+perTime[times[i]] > size && i > 0 {
			break
		}
		n += perTime[times[i]]
	}
	if i == len(times) {
		return 0, false
	}
	next = times[i]
	for src, recs := range out {
		k := 0
		for k < len(recs) && recs[k].MeasureTime < next {
			k++
		}
		out[src] = recs[:k]
		if k == 0 {
			delete(out, src)
		}
	}
	return next, true
}
