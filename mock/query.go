package mock

import (
	"errors"
	"maps"
	"math"
	"net/url"
	"slices"
	"sort"
	"strconv"
	"strings"
)

// window is a validated time window and resolution of a query.
type window struct{ start, end, res int64 }

// readWindow reads start_time, end_time, duration and resolution. With
// durationOK false (composite queries) start_time is required.
func (c *call) readWindow(errs perrs, durationOK bool) window {
	get := func(k string) (int64, bool) {
		v := c.q.Get(k)
		if v == "" {
			return 0, false
		}
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 0 {
			errs.add(k, "is invalid: expected a whole number of seconds")
			return 0, false
		}
		return n, true
	}
	start, hasStart := get("start_time")
	end, hasEnd := get("end_time")
	dur, hasDur := get("duration")
	res, hasRes := get("resolution")
	var w window
	switch {
	case !hasRes && !errs.has("resolution"):
		errs.add("resolution", "is required")
	case hasRes && (res <= 0 || res > maxRes):
		errs.add("resolution", "must be from 1 to "+strconv.Itoa(maxRes)+" seconds")
	default:
		w.res = res
	}
	if !durationOK && hasDur {
		hasDur = false
	}
	if hasDur && dur <= 0 {
		errs.add("duration", "must be a positive number of seconds")
	}
	switch {
	case hasStart && hasEnd && hasDur:
		errs.add("duration", "cannot be combined with both start_time and end_time")
	case !hasStart && !hasDur && !errs.has("start_time") && !errs.has("duration"):
		if durationOK {
			errs.add("start_time", "is required unless duration is given")
		} else {
			errs.add("start_time", "is required")
		}
	}
	now := c.now.Unix()
	switch {
	case hasStart && hasEnd:
		w.start, w.end = start, end
	case hasStart && hasDur:
		w.start, w.end = start, start+dur
	case hasStart:
		w.start, w.end = start, now
	case hasDur && hasEnd:
		w.start, w.end = end-dur, end
	case hasDur:
		w.start, w.end = now-dur, now
	}
	if hasStart && hasEnd && end < start {
		errs.add("end_time", "is before start_time")
	}
	return w
}

// source is one stream feeding a query: its tags and samples.
type source struct {
	tags    map[string]string
	samples []sample
}

// bucket summarises the samples of one resolution interval.
type bucket struct {
	count    int64
	sum      float64
	min, max float64
	values   []float64 // per sample, for stddev
}

func (b *bucket) value(fn string) float64 {
	switch fn {
	case "sum":
		return b.sum
	case "count":
		return float64(b.count)
	case "min":
		return b.min
	case "max":
		return b.max
	case "stddev":
		if len(b.values) == 0 {
			return 0
		}
		mean := 0.0
		for _, v := range b.values {
			mean += v
		}
		mean /= float64(len(b.values))
		ss := 0.0
		for _, v := range b.values {
			ss += (v - mean) * (v - mean)
		}
		return math.Sqrt(ss / float64(len(b.values)))
	}
	if b.count == 0 {
		return 0
	}
	return b.sum / float64(b.count)
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
	StdDev *float64 `json:"stddev,omitempty"`
}

// downsample buckets samples in the window by floor(time/res)*res and
// summarises each bucket with fn.
func downsample(samples []sample, w window, fn string) []point {
	buckets := map[int64]*bucket{}
	for _, s := range samples {
		if s.t < w.start || s.t > w.end {
			continue
		}
		bt := s.t - s.t%w.res
		b := buckets[bt]
		if b == nil {
			b = &bucket{min: math.Inf(1), max: math.Inf(-1)}
			buckets[bt] = b
		}
		b.count += s.count
		b.sum += s.sum
		b.min = math.Min(b.min, s.min)
		b.max = math.Max(b.max, s.max)
		b.values = append(b.values, s.sum/float64(max(s.count, 1)))
	}
	times := make([]int64, 0, len(buckets))
	for t := range buckets {
		times = append(times, t)
	}
	slices.Sort(times)
	out := make([]point, 0, len(times))
	for _, t := range times {
		b := buckets[t]
		p := point{Time: t, Value: b.value(fn)}
		if fn == "derivative" {
			p.Value = b.value("mean")
		}
		if fn == "all" {
			p.Value = b.value("mean")
			cnt, sum, mn, mx, sd := b.count, b.sum, b.min, b.max, b.value("stddev")
			p.Count, p.Sum, p.Min, p.Max, p.StdDev = &cnt, &sum, &mn, &mx, &sd
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
func summaryOf(m *metric) string {
	if m == nil {
		return "mean"
	}
	switch s, _ := m.attrs["summarize_function"].(string); s {
	case "sum", "count", "min", "max":
		return s
	}
	return "mean"
}

// --- tag filters ------------------------------------------------------------

// tagFilter is the tags[...] parameters of a query.
type tagFilter struct {
	patterns map[string][]string // tag name -> value patterns, any may match
	absent   []string            // tags[!name]: the stream must not have it
}

// readTagFilter reads tags[name]=pattern (repeated = OR, '!' before the
// pattern negates it), tags[!name]=... (the stream lacks the tag; the
// pattern is not used) and tags=* (everything).
func readTagFilter(q url.Values, errs perrs) (tagFilter, bool) {
	f := tagFilter{patterns: map[string][]string{}}
	used := false
	for _, k := range sortedKeys(q) {
		if k == "tags" {
			for _, v := range q[k] {
				if v != "*" && v != "" && v != "{}" {
					errs.add("tags", "is invalid: use tags[name]=pattern, or tags=* for every stream")
				}
			}
			used = true
			continue
		}
		if !strings.HasPrefix(k, "tags[") {
			continue
		}
		name, ok := strings.CutSuffix(strings.TrimSuffix(k[len("tags["):], "[]"), "]")
		if !ok || strings.TrimPrefix(name, "!") == "" {
			errs.add("tags", "filter "+strconv.Quote(k)+" is invalid: use tags[name]=pattern")
			continue
		}
		used = true
		name = strings.ToLower(name)
		if n, neg := strings.CutPrefix(name, "!"); neg {
			f.absent = append(f.absent, n)
			continue
		}
		for _, v := range q[k] {
			if v == "" {
				errs.add("tags", "filter "+strconv.Quote(k)+" needs a pattern")
				continue
			}
			f.patterns[name] = append(f.patterns[name], v)
		}
	}
	return f, used
}

func (f tagFilter) match(tags map[string]string) bool {
	for _, n := range f.absent {
		if _, ok := tags[n]; ok {
			return false
		}
	}
	for name, pats := range f.patterns {
		v, has := tags[name]
		if !has {
			return false
		}
		hit := false
		for _, p := range pats {
			if matchValue(p, v) {
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
func matchValue(pattern, v string) bool {
	if p, neg := strings.CutPrefix(pattern, "!"); neg {
		return !glob(p, v)
	}
	return glob(pattern, v)
}

// --- tags_search ------------------------------------------------------------

// searchExpr is a parsed tags_search expression.
type searchExpr interface {
	eval(tags map[string]string) bool
}

type searchAnd struct{ l, r searchExpr }
type searchOr struct{ l, r searchExpr }
type searchNot struct{ e searchExpr }
type searchCmp struct {
	name, pattern string
	neq           bool
}

func (e searchAnd) eval(t map[string]string) bool { return e.l.eval(t) && e.r.eval(t) }
func (e searchOr) eval(t map[string]string) bool  { return e.l.eval(t) || e.r.eval(t) }
func (e searchNot) eval(t map[string]string) bool { return !e.e.eval(t) }

// eval: name=pattern needs the tag with a matching value; name!=pattern
// needs the tag with a value that does not match.
func (e searchCmp) eval(t map[string]string) bool {
	v, ok := t[e.name]
	if !ok {
		return false
	}
	if e.neq {
		return !matchValue(e.pattern, v)
	}
	return matchValue(e.pattern, v)
}

// parseSearch parses the tags_search grammar the mock supports:
//
//	expr := and ("or" and)*
//	and  := unary ("and" unary)*
//	unary:= "not" unary | "(" expr ")" | name ("=" | "!=") value
//
// Keywords ignore case; values may be quoted and use '*' wildcards.
func parseSearch(s string) (searchExpr, error) {
	toks, err := lexSearch(s)
	if err != nil {
		return nil, err
	}
	p := &searchParser{toks: toks}
	e, err := p.or()
	if err != nil {
		return nil, err
	}
	if p.i != len(p.toks) {
		return nil, errors.New("unexpected " + strconv.Quote(p.toks[p.i].text))
	}
	return e, nil
}

type searchTok struct {
	kind byte // 'w' word, 's' quoted string, '(' ')' '=' '!'(for !=)
	text string
}

func lexSearch(s string) ([]searchTok, error) {
	var out []searchTok
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n':
			i++
		case c == '(' || c == ')' || c == '=':
			out = append(out, searchTok{kind: c, text: string(c)})
			i++
		case c == '!' && i+1 < len(s) && s[i+1] == '=':
			out = append(out, searchTok{kind: '!', text: "!="})
			i += 2
		case c == '"' || c == '\'':
			j := strings.IndexByte(s[i+1:], c)
			if j < 0 {
				return nil, errors.New("unterminated quoted value")
			}
			out = append(out, searchTok{kind: 's', text: s[i+1 : i+1+j]})
			i += j + 2
		default:
			j := i
			for j < len(s) && !strings.ContainsRune(" \t\n()=\"'", rune(s[j])) && !(s[j] == '!' && j+1 < len(s) && s[j+1] == '=') {
				j++
			}
			out = append(out, searchTok{kind: 'w', text: s[i:j]})
			i = j
		}
	}
	return out, nil
}

type searchParser struct {
	toks []searchTok
	i    int
}

func (p *searchParser) keyword(k string) bool {
	if p.i < len(p.toks) && p.toks[p.i].kind == 'w' && strings.EqualFold(p.toks[p.i].text, k) {
		p.i++
		return true
	}
	return false
}

func (p *searchParser) or() (searchExpr, error) {
	l, err := p.and()
	if err != nil {
		return nil, err
	}
	for p.keyword("or") {
		r, err := p.and()
		if err != nil {
			return nil, err
		}
		l = searchOr{l, r}
	}
	return l, nil
}

func (p *searchParser) and() (searchExpr, error) {
	l, err := p.unary()
	if err != nil {
		return nil, err
	}
	for p.keyword("and") {
		r, err := p.unary()
		if err != nil {
			return nil, err
		}
		l = searchAnd{l, r}
	}
	return l, nil
}

func (p *searchParser) unary() (searchExpr, error) {
	if p.keyword("not") {
		e, err := p.unary()
		if err != nil {
			return nil, err
		}
		return searchNot{e}, nil
	}
	if p.i >= len(p.toks) {
		return nil, errors.New("unexpected end of expression")
	}
	t := p.toks[p.i]
	if t.kind == '(' {
		p.i++
		e, err := p.or()
		if err != nil {
			return nil, err
		}
		if p.i >= len(p.toks) || p.toks[p.i].kind != ')' {
			return nil, errors.New("missing ')'")
		}
		p.i++
		return e, nil
	}
	if t.kind != 'w' && t.kind != 's' {
		return nil, errors.New("expected a tag name, got " + strconv.Quote(t.text))
	}
	p.i++
	if p.i >= len(p.toks) || (p.toks[p.i].kind != '=' && p.toks[p.i].kind != '!') {
		return nil, errors.New("expected = or != after " + strconv.Quote(t.text))
	}
	neq := p.toks[p.i].kind == '!'
	p.i++
	if p.i >= len(p.toks) || (p.toks[p.i].kind != 'w' && p.toks[p.i].kind != 's') {
		return nil, errors.New("expected a value after " + strconv.Quote(t.text))
	}
	v := p.toks[p.i].text
	p.i++
	return searchCmp{name: strings.ToLower(t.text), pattern: v, neq: neq}, nil
}

// --- GET /v1/measurements/:name --------------------------------------------

type seriesJSON struct {
	Tags         map[string]string `json:"tags,omitempty"`
	Measurements []point           `json:"measurements"`
}

type linkJSON struct {
	Rel   string `json:"rel"`
	Href  string `json:"href"`
	Label string `json:"label,omitempty"`
}

var summaryFunctions = []string{"mean", "sum", "min", "max", "count", "derivative", "stddev", "all"}

func (c *call) measurementsGet() *reply {
	name := c.p[0]
	m := c.a.metrics[strings.ToLower(name)]
	if m == nil {
		return notFound("metric " + strconv.Quote(name))
	}
	errs := perrs{}
	w := c.readWindow(errs, true)
	filter, hasTags := readTagFilter(c.q, errs)
	var search searchExpr
	if ts := c.q.Get("tags_search"); ts != "" {
		if hasTags {
			errs.add("tags_search", "cannot be combined with tags")
		} else if e, err := parseSearch(ts); err != nil {
			errs.add("tags_search", "is invalid: "+err.Error())
		} else {
			search = e
		}
	}
	if m.typ == "composite" && hasTags {
		errs.add("tags", "cannot filter a composite metric; use tags_search")
	}
	fn := c.q.Get("summary_function")
	if fn != "" && !slices.Contains(summaryFunctions, fn) {
		errs.add("summary_function", "must be one of "+strings.Join(summaryFunctions, ", "))
	}
	groupBy := c.q.Get("group_by")
	gfn := c.q.Get("group_by_function")
	var groupTags []string
	if groupBy != "" {
		for _, t := range strings.Split(groupBy, ",") {
			if t = strings.ToLower(strings.TrimSpace(t)); t != "" {
				groupTags = append(groupTags, t)
			}
		}
		if len(groupTags) == 0 {
			errs.add("group_by", "is invalid: tag names separated by commas, or *")
		}
		if gfn == "" {
			errs.add("group_by_function", "is required with group_by: sum, min, max or mean")
		}
		if fn == "all" {
			errs.add("summary_function", "all cannot be combined with group_by")
		}
	}
	if gfn != "" && !slices.Contains([]string{"sum", "min", "max", "mean"}, gfn) {
		errs.add("group_by_function", "must be one of sum, min, max, mean")
	}
	offset := 0
	if v := c.q.Get("offset"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			errs.add("offset", "is invalid")
		}
		offset = n
	}
	var sources []source
	var composed []seriesJSON
	if m.typ == "composite" {
		composed = c.persistedComposite(m, w, fn, search, groupTags, gfn, errs)
	} else {
		for _, st := range m.streams {
			sources = append(sources, source{tags: st.tags, samples: st.samples})
		}
	}
	if rep := errs.reply(); rep != nil {
		return rep
	}
	if fn == "" {
		fn = summaryOf(m)
	}
	var kept []source
	for _, s := range sources {
		if hasTags && !filter.match(s.tags) {
			continue
		}
		if search != nil && !search.eval(s.tags) {
			continue
		}
		kept = append(kept, s)
	}
	series := buildSeries(kept, w, fn, groupTags, gfn)
	if m.typ == "composite" {
		series = composed
	}
	size := c.s.cfg.seriesPage
	links := []linkJSON{}
	if offset > len(series) {
		offset = len(series)
	}
	end := min(offset+size, len(series))
	if end < len(series) {
		q := url.Values{}
		for k, v := range c.q {
			q[k] = v
		}
		q.Set("offset", strconv.Itoa(end))
		links = append(links, linkJSON{Rel: "next", Href: c.origin() + c.r.URL.EscapedPath() + "?" + q.Encode()})
	}
	return okReply(map[string]any{
		"name":       m.name,
		"resolution": w.res,
		"series":     series[offset:end],
		"links":      links,
	})
}

// buildSeries downsamples each source and, with group_by, merges the
// sources that share the group tags; series come ordered by tag pairs.
func buildSeries(sources []source, w window, fn string, groupTags []string, gfn string) []seriesJSON {
	if len(groupTags) == 0 {
		out := make([]seriesJSON, 0, len(sources))
		for _, s := range sources {
			pts := downsample(s.samples, w, fn)
			if len(pts) == 0 {
				continue
			}
			out = append(out, seriesJSON{Tags: maps.Clone(s.tags), Measurements: pts})
		}
		sortSeries(out)
		return out
	}
	all := len(groupTags) == 1 && groupTags[0] == "*"
	type group struct {
		tags   map[string]string
		points map[int64][]float64
	}
	groups := map[string]*group{}
	for _, s := range sources {
		gt := map[string]string{}
		if !all {
			ok := true
			for _, t := range groupTags {
				v, has := s.tags[t]
				if !has {
					ok = false
					break
				}
				gt[t] = v
			}
			if !ok {
				continue
			}
		}
		pts := downsample(s.samples, w, fn)
		if len(pts) == 0 {
			continue
		}
		k := tagKey(gt)
		g := groups[k]
		if g == nil {
			g = &group{tags: gt, points: map[int64][]float64{}}
			groups[k] = g
		}
		for _, p := range pts {
			g.points[p.Time] = append(g.points[p.Time], p.Value)
		}
	}
	out := make([]seriesJSON, 0, len(groups))
	for _, g := range groups {
		times := make([]int64, 0, len(g.points))
		for t := range g.points {
			times = append(times, t)
		}
		slices.Sort(times)
		pts := make([]point, len(times))
		for i, t := range times {
			pts[i] = point{Time: t, Value: combine(g.points[t], gfn)}
		}
		sj := seriesJSON{Measurements: pts}
		if !all {
			sj.Tags = g.tags
		}
		out = append(out, sj)
	}
	sortSeries(out)
	return out
}

func combine(vals []float64, fn string) float64 {
	r := vals[0]
	switch fn {
	case "sum", "mean":
		r = 0
		for _, v := range vals {
			r += v
		}
		if fn == "mean" {
			r /= float64(len(vals))
		}
	case "min":
		for _, v := range vals {
			r = math.Min(r, v)
		}
	case "max":
		for _, v := range vals {
			r = math.Max(r, v)
		}
	}
	return r
}

func sortSeries(s []seriesJSON) {
	sort.SliceStable(s, func(i, j int) bool { return tagKey(s[i].Tags) < tagKey(s[j].Tags) })
}

// --- composite queries --------------------------------------------------------

// measurementsCompose answers GET /v1/measurements?compose=... with a bare
// array of the expression's series (composite.go, composite_eval.go); an
// invalid expression, or one that fails while evaluated, is 400 on compose.
func (c *call) measurementsCompose() *reply {
	errs := perrs{}
	compose := c.q.Get("compose")
	if strings.TrimSpace(compose) == "" {
		errs.add("compose", "is required: a composite expression")
	}
	w := c.readWindow(errs, false)
	var ex cnode
	if strings.TrimSpace(compose) != "" {
		var err error
		if ex, err = parseCompose(compose); err != nil {
			errs.add("compose", err.Error())
		}
	}
	if rep := errs.reply(); rep != nil {
		return rep
	}
	out, err := c.a.evalCompose(ex, w, "")
	if err != nil {
		return paramError("compose", err.Error())
	}
	return okReply(composeJSON(out))
}
