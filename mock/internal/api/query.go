package api

import (
	"maps"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/librato-sdk/librato-go/mock/internal/tsdb"
)

// readWindow reads start_time, end_time, duration and resolution. With
// durationOK false (composite queries) start_time is required.
func (c *call) readWindow(errs perrs, durationOK bool) tsdb.Window {
	get := func(k string) (int64, bool) {
		return c.wholeParam(errs, k, "is invalid: expected a whole number of seconds")
	}
	start, hasStart := c.timeParam(errs, "start_time", msgTimeParam)
	end, hasEnd := c.timeParam(errs, "end_time", msgTimeParam)
	dur, hasDur := get("duration")
	res, hasRes := get("resolution")
	var w tsdb.Window
	switch {
	case !hasRes && !errs.has("resolution"):
		errs.add("resolution", "is required")
	case hasRes && (res <= 0 || res > tsdb.MaxRes):
		errs.add("resolution", "must be from 1 to "+strconv.Itoa(tsdb.MaxRes)+" seconds")
	default:
		w.Res = res
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
		w.Start, w.End = start, end
	case hasStart && hasDur:
		w.Start, w.End = start, start+dur
	case hasStart:
		w.Start, w.End = start, now
	case hasDur && hasEnd:
		w.Start, w.End = end-dur, end
	case hasDur:
		w.Start, w.End = now-dur, now
	}
	if hasStart && hasEnd && end < start {
		errs.add("end_time", "is before start_time")
	}
	return w
}

// --- tag filters ------------------------------------------------------------

// readTagFilter reads tags[name]=pattern (repeated = OR, '!' before the
// pattern negates it), tags[!name]=... (the stream lacks the tag; the
// pattern is not used) and tags=* (everything).
func readTagFilter(q url.Values, errs perrs, b *tsdb.Budget) (*tsdb.TagFilter, bool) {
	f := &tsdb.TagFilter{Patterns: map[string][]string{}, Budget: b}
	used := false
	for _, k := range slices.Sorted(maps.Keys(q)) {
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
			f.Absent = append(f.Absent, n)
			continue
		}
		for _, v := range q[k] {
			if v == "" {
				errs.add("tags", "filter "+strconv.Quote(k)+" needs a pattern")
				continue
			}
			f.Patterns[name] = append(f.Patterns[name], v)
		}
	}
	return f, used
}

// --- tags_search ------------------------------------------------------------

// --- GET /v1/measurements/:name --------------------------------------------

type linkJSON struct {
	Rel   string `json:"rel"`
	Href  string `json:"href"`
	Label string `json:"label,omitempty"`
}

var summaryFunctions = []string{"mean", "sum", "min", "max", "count", "derivative", "stddev", "all"}

// measurementsGet answers GET /v1/measurements/:name; a missing metric is
// 404. start_time with duration and no end_time means
// [start, start+duration]. summary_function defaults to the metric's
// summarize_function (average reads as mean); derivative is the change
// of the mean from the previous bucket (the first bucket has none); all
// gives each point value (the mean), count, sum, min, max, last and
// stddev. group_by merges the per-stream values of summary_function with
// group_by_function, as documented. Series without points in the window
// are left out; series are ordered by their tag pairs (tsdb.SeriesOf).
//
// Tag filters are tags[name]=pattern (a repeated key is OR; a leading '!'
// on the pattern: the stream has the tag and the value does not match)
// and tags[!name]=anything (the stream lacks the tag; the pattern is not
// used); tags_search is the language of tsdb.ParseSearch.
//
// A page holds Env.SeriesPage series; when more follow, links holds
// {"rel":"next","href":...}, an absolute URL on the host the client used,
// with the query and an offset parameter. links is always present, empty
// on the last page.
//
// A persisted composite answers the same way (tags_search and group_by
// apply to its output; tags is refused, as documented), with errors
// under "composite".
func (c *call) measurementsGet() *Reply {
	name := c.p[0]
	m := c.a.db.Metric(name)
	if m == nil {
		return NotFound("metric " + strconv.Quote(name))
	}
	errs := perrs{}
	w := c.readWindow(errs, true)
	filter, hasTags := readTagFilter(c.q, errs, c.filters())
	var search tsdb.SearchExpr
	if ts := c.q.Get("tags_search"); ts != "" {
		if hasTags {
			errs.add("tags_search", "cannot be combined with tags")
		} else if e, err := tsdb.ParseSearch(ts, c.filters()); err != nil {
			errs.add("tags_search", "is invalid: "+err.Error())
		} else {
			search = e
		}
	}
	if m.Type == "composite" && hasTags {
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
	var series []tsdb.SeriesJSON
	if m.Type == "composite" {
		series = c.persistedComposite(m, w, fn, search, groupTags, gfn, errs)
	}
	if rep := errs.reply(); rep != nil {
		return rep
	}
	if m.Type != "composite" {
		if !hasTags {
			filter = nil
		}
		series = tsdb.SeriesOf(m, filter, search, w, fn, groupTags, gfn)
	}
	size := c.a.env.SeriesPage
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
	return OK(map[string]any{
		"name":       m.Name,
		"resolution": w.Res,
		"series":     series[offset:end],
		"links":      links,
	})
}

// --- composite queries --------------------------------------------------------

// measurementsCompose answers GET /v1/measurements?compose=... with the
// documented bare array of {tags, measurements, metric, period}, the
// expression's series (the language is package tsdb's); an invalid
// expression, or one that fails while evaluated, is 400 on compose naming
// the line and column.
func (c *call) measurementsCompose() *Reply {
	_, _, out, rep := c.composeQuery()
	if rep != nil {
		return rep
	}
	return OK(tsdb.ComposeJSON(out))
}

// composeQuery reads and runs the compose, start_time, end_time and
// resolution parameters of a composite query (tagged or legacy): a
// missing or invalid parameter, or an expression that fails while
// evaluated, is the 400 it returns.
func (c *call) composeQuery() (tsdb.Expr, tsdb.Window, []tsdb.Series, *Reply) {
	errs := perrs{}
	compose := c.q.Get("compose")
	if strings.TrimSpace(compose) == "" {
		errs.add("compose", "is required: a composite expression")
	}
	w := c.readWindow(errs, false)
	var ex tsdb.Expr
	if strings.TrimSpace(compose) != "" {
		var err error
		if ex, err = tsdb.ParseCompose(compose); err != nil {
			errs.add("compose", err.Error())
		}
	}
	if rep := errs.reply(); rep != nil {
		return nil, w, nil, rep
	}
	out, err := c.a.db.EvalCompose(ex, w, "")
	if err != nil {
		return nil, w, nil, paramError("compose", err.Error())
	}
	return ex, w, out, nil
}

// persistedComposite evaluates the definition of composite metric m for
// GET /v1/measurements/:name, reporting problems in errs under
// "composite" (or "summary_function"). The result keeps the evaluation's
// order (top ranks, timeshift shifts), filtered by search and, with
// groupTags, merged per group with gfn like a plain query.
func (c *call) persistedComposite(m *tsdb.Metric, w tsdb.Window, fn string, search tsdb.SearchExpr, groupTags []string, gfn string, errs perrs) []tsdb.SeriesJSON {
	switch fn {
	case "", "mean", "sum", "min", "max", "count":
	default:
		errs.add("summary_function", fn+" cannot be used with a composite metric: use mean, sum, min, max or count, or put the function in the definition")
	}
	if len(errs) > 0 {
		return nil
	}
	ex, err := tsdb.ParseCompose(m.Composite)
	if err == nil {
		var ss []tsdb.Series
		if ss, err = c.a.db.EvalCompose(ex, w, fn); err == nil {
			return tsdb.ComposedSeries(ss, search, groupTags, gfn)
		}
	}
	errs.add("composite", "the definition of "+strconv.Quote(m.Name)+" cannot be evaluated: "+err.Error())
	return nil
}
