package mock

import (
	"cmp"
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

// source is one stream feeding a query.
type source struct {
	tags map[string]string
	st   *stream
}

func sourcesOf(m *metric) []source {
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
func downsample(src source, w window, fn string, scratch *[]agg) []point {
	bs := bucketize(src.st, false, w.start, w.end, w.res, needOf(fn), (*scratch)[:0])
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
	m := c.a.db.Metric(name)
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
		sources = sourcesOf(m)
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
	size := c.a.env.seriesPage
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
// sources that share the group tags with gfn at each time; series come
// ordered by tag pairs.
func buildSeries(sources []source, w window, fn string, groupTags []string, gfn string) []seriesJSON {
	var scratch []agg
	if len(groupTags) == 0 {
		out := make([]seriesJSON, 0, len(sources))
		for _, s := range sources {
			pts := downsample(s, w, fn, &scratch)
			if len(pts) == 0 {
				continue
			}
			out = append(out, seriesJSON{Tags: maps.Clone(s.tags), Measurements: pts})
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
	out := make([]seriesJSON, 0, len(groups))
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
		sj := seriesJSON{Measurements: pts}
		if !all {
			sj.Tags = g.tags
		}
		out = append(out, sj)
	}
	sortSeries(out)
	return out
}

func sortSeries(s []seriesJSON) {
	sort.SliceStable(s, func(i, j int) bool { return tagKey(s[i].Tags) < tagKey(s[j].Tags) })
}

// --- composite queries --------------------------------------------------------

// measurementsCompose answers GET /v1/measurements?compose=... with a bare
// array of the expression's series (composite.go, composite_eval.go); an
// invalid expression, or one that fails while evaluated, is 400 on compose.
func (c *call) measurementsCompose() *reply {
	_, _, out, rep := c.composeQuery()
	if rep != nil {
		return rep
	}
	return okReply(composeJSON(out))
}

// composeQuery reads and runs the compose, start_time, end_time and
// resolution parameters of a composite query (tagged or legacy): a
// missing or invalid parameter, or an expression that fails while
// evaluated, is the 400 it returns.
func (c *call) composeQuery() (cnode, window, []cseries, *reply) {
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
		return nil, w, nil, rep
	}
	out, err := c.a.db.evalCompose(ex, w, "")
	if err != nil {
		return nil, w, nil, paramError("compose", err.Error())
	}
	return ex, w, out, nil
}
