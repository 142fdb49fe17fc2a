package tsdb

import (
	"cmp"
	"maps"
	"math"
	"slices"
	"sort"
	"strings"
)

// MaxRes is the coarsest resolution a read may ask for, a week.
const MaxRes = 604800

// Window is a validated time window and resolution of a query.
type Window struct{ Start, End, Res int64 }

// source is one stream feeding a query.
type source struct {
	tags map[string]string
	st   *stream
}

func sourcesOf(m *Metric) []source {
	out := make([]source, 0, len(m.streams))
	for _, st := range m.sortedStreams() {
		out = append(out, source{tags: st.tags, st: st})
	}
	return out
}

// point is one output point; the extra fields appear only for
// summary_function=all.
type point struct {
	Time   int64    `json:"time"`
	Value  float64  `json:"value"`
	Count  *int64   `json:"count,omitempty"`
	Sum    *float64 `json:"sum,omitempty"`
	Min    *float64 `json:"min,omitempty"`
	Max    *float64 `json:"max,omitempty"`
	Last   *float64 `json:"last,omitempty"`
	StdDev *float64 `json:"stddev,omitempty"`
}

// downsample buckets a source's samples in the window by
// floor(time/res)*res and summarises each bucket with fn; scratch is
// reused between calls.
func downsample(src source, w Window, fn string, scratch *[]agg) []point {
	bs := bucketize(src.st, false, w.Start, w.End, w.Res, needOf(fn), (*scratch)[:0])
	*scratch = bs
	out := make([]point, 0, len(bs))
	for i := range bs {
		b := &bs[i]
		p := point{Time: b.t, Value: b.value(fn)}
		switch fn {
		case "derivative":
			p.Value = b.mean()
		case "all":
			p.Value = b.mean()
			p.Count, p.Sum, p.Min, p.Max = ptr(b.count), ptr(b.sum), ptr(b.min), ptr(b.max)
			p.Last, p.StdDev = ptr(b.last), ptr(b.stddev())
		}
		out = append(out, p)
	}
	if fn == "derivative" {
		// The change from the previous point; the first point has none.
		d := make([]point, 0, len(out))
		for i := 1; i < len(out); i++ {
			d = append(d, point{Time: out[i].Time, Value: out[i].Value - out[i-1].Value})
		}
		out = d
	}
	return out
}

// summaryOf maps a metric's summarize_function to the query vocabulary.
func summaryOf(m *Metric) string {
	if m == nil {
		return "mean"
	}
	switch s, _ := m.Attrs["summarize_function"].(string); s {
	case "sum", "count", "min", "max":
		return s
	}
	return "mean"
}

// TagFilter is the tags[...] parameters of a query.
type TagFilter struct {
	Patterns map[string][]string // tag name -> value patterns, any may match
	Absent   []string            // tags[!name]: the stream must not have it
	Budget   *Budget             // the request's; nil: no bound
}

func (f *TagFilter) match(tags map[string]string) bool {
	for _, n := range f.Absent {
		if _, ok := tags[n]; ok {
			return false
		}
	}
	for name, pats := range f.Patterns {
		v, has := tags[name]
		if !has {
			return false
		}
		hit := false
		for _, p := range pats {
			if f.Budget.matchValue(p, v) {
				hit = true
				break
			}
		}
		if !hit {
			return false
		}
	}
	return true
}

// matchValue matches a value pattern, where '*' is a wildcard and a
// leading '!' negates.
func matchValue(pattern, v string) bool { return (*Budget)(nil).matchValue(pattern, v) }

// SeriesJSON is one series of a GET /v1/measurements/:name answer.
type SeriesJSON struct {
	Tags         map[string]string `json:"tags,omitempty"`
	Measurements []point           `json:"measurements"`
}

// SeriesOf answers a measurements read of m (not a composite): its
// streams that filter (nil for all) and search (nil for all) keep,
// downsampled over w with fn ("" for the metric's summarize_function)
// and, with groupTags, merged per group with gfn.
func SeriesOf(m *Metric, filter *TagFilter, search SearchExpr, w Window, fn string, groupTags []string, gfn string) []SeriesJSON {
	if fn == "" {
		fn = summaryOf(m)
	}
	var kept []source
	for _, s := range sourcesOf(m) {
		if filter != nil && !filter.match(s.tags) {
			continue
		}
		if search != nil && !search.eval(s.tags) {
			continue
		}
		kept = append(kept, s)
	}
	return buildSeries(kept, w, fn, groupTags, gfn)
}

// buildSeries downsamples each source and, with group_by, merges the
// sources that share the group tags with gfn at each time; series come
// ordered by tag pairs.
func buildSeries(sources []source, w Window, fn string, groupTags []string, gfn string) []SeriesJSON {
	var scratch []agg
	if len(groupTags) == 0 {
		out := make([]SeriesJSON, 0, len(sources))
		for _, s := range sources {
			pts := downsample(s, w, fn, &scratch)
			if len(pts) == 0 {
				continue
			}
			out = append(out, SeriesJSON{Tags: maps.Clone(s.tags), Measurements: pts})
		}
		sortSeries(out)
		return out
	}
	all := len(groupTags) == 1 && groupTags[0] == "*"
	type acc struct {
		t             int64
		sum, min, max float64
		n             int
	}
	type group struct {
		tags  map[string]string
		index map[int64]int
		accs  []acc
	}
	groups := map[string]*group{}
	for _, s := range sources {
		gt, ok := groupOf(s.tags, groupTags, all)
		if !ok {
			continue
		}
		pts := downsample(s, w, fn, &scratch)
		if len(pts) == 0 {
			continue
		}
		k := tagKey(gt)
		g := groups[k]
		if g == nil {
			g = &group{tags: gt, index: map[int64]int{}}
			groups[k] = g
		}
		for _, p := range pts {
			i, ok := g.index[p.Time]
			if !ok {
				i = len(g.accs)
				g.index[p.Time] = i
				g.accs = append(g.accs, acc{t: p.Time, min: p.Value, max: p.Value})
			}
			a := &g.accs[i]
			a.sum += p.Value
			a.min = math.Min(a.min, p.Value)
			a.max = math.Max(a.max, p.Value)
			a.n++
		}
	}
	out := make([]SeriesJSON, 0, len(groups))
	for _, g := range groups {
		slices.SortFunc(g.accs, func(x, y acc) int { return cmp.Compare(x.t, y.t) })
		pts := make([]point, len(g.accs))
		for i, a := range g.accs {
			v := a.sum
			switch gfn {
			case "mean":
				v = a.sum / float64(a.n)
			case "min":
				v = a.min
			case "max":
				v = a.max
			}
			pts[i] = point{Time: a.t, Value: v}
		}
		sj := SeriesJSON{Measurements: pts}
		if !all {
			sj.Tags = g.tags
		}
		out = append(out, sj)
	}
	sortSeries(out)
	return out
}

// groupOf is the group a stream of tags belongs to under group_by: its
// values of groupTags, or the one group of everything when all ("*");
// false when it lacks one of the tags.
func groupOf(tags map[string]string, groupTags []string, all bool) (map[string]string, bool) {
	g := map[string]string{}
	if all {
		return g, true
	}
	for _, t := range groupTags {
		v, ok := tags[t]
		if !ok {
			return nil, false
		}
		g[t] = v
	}
	return g, true
}

func sortSeries(s []SeriesJSON) {
	sort.SliceStable(s, func(i, j int) bool { return tagKey(s[i].Tags) < tagKey(s[j].Tags) })
}

// Glob matches s against pattern, where '*' is any run of characters,
// ignoring case. It takes time linear in the two lengths: the literal
// runs between stars are found in turn, each at its leftmost place, which
// is where a match puts it if there is one.
func Glob(pattern, s string) bool {
	p, t := strings.ToLower(pattern), strings.ToLower(s)
	first, rest, star := strings.Cut(p, "*")
	if !star {
		return t == p
	}
	if !strings.HasPrefix(t, first) {
		return false
	}
	t = t[len(first):]
	for {
		seg, more, ok := strings.Cut(rest, "*")
		if !ok { // the last run ends the subject
			return len(t) >= len(seg) && strings.HasSuffix(t, seg)
		}
		if i := strings.Index(t, seg); i >= 0 {
			t, rest = t[i+len(seg):], more
		} else {
			return false
		}
	}
}

// The bounds of a read's name and tag filters: a pattern longer than
// MaxPattern (a name or a tag value has at most 255 characters) or a
// tags_search longer than MaxSearch is refused before any matching, and
// one request's matching may compare at most maxFilterWork bytes (a
// Budget), as the composite engine bounds its work. Without them a
// 400 KB filter took seconds against thousands of metrics or streams.
const (
	MaxPattern    = 1024
	MaxSearch     = 4096
	maxFilterWork = 50_000_000
)

// Budget is the matching one request may still do; a nil Budget has no
// bound. Exhausted reports that a match was refused for it, so the answer
// is a 400, not a partial list.
type Budget struct{ left int64 }

// NewBudget is a request's budget of maxFilterWork bytes compared.
func NewBudget() *Budget { return &Budget{left: maxFilterWork} }

func (b *Budget) spend(n int) bool {
	if b == nil {
		return true
	}
	b.left -= int64(n)
	return b.left >= 0
}

// Exhausted reports whether a match went over the budget.
func (b *Budget) Exhausted() bool { return b != nil && b.left < 0 }

// Glob is Glob within the budget; false once it is spent.
func (b *Budget) Glob(pattern, s string) bool {
	return b.spend(len(pattern)+len(s)) && Glob(pattern, s)
}

// Contains reports whether s contains sub, ignoring case, within the
// budget: the substring search of the list endpoints' name filter.
func (b *Budget) Contains(s, sub string) bool {
	return b.spend(len(s)+len(sub)) && strings.Contains(strings.ToLower(s), strings.ToLower(sub))
}

// matchValue matches a value pattern within the budget, where '*' is a
// wildcard and a leading '!' negates.
func (b *Budget) matchValue(pattern, v string) bool {
	if p, neg := strings.CutPrefix(pattern, "!"); neg {
		return b.spend(len(p)+len(v)) && !Glob(p, v)
	}
	return b.Glob(pattern, v)
}
