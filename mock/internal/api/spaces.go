package api

import (
	"cmp"
	"maps"
	"slices"
	"strconv"
	"strings"

	"github.com/librato-sdk/librato-go/mock/internal/tsdb"
)

type space struct {
	id     int64
	name   string
	charts []int64 // in creation order
}

type spaceJSON struct {
	ID   int64  `json:"id"`
	Name string `json:"name"`
}

// spaceDetailJSON is GET /v1/spaces/:id, whose charts list is always present.
type spaceDetailJSON struct {
	ID     int64        `json:"id"`
	Name   string       `json:"name"`
	Charts []chartRefJS `json:"charts"`
}

type chartRefJS struct {
	ID int64 `json:"id"`
}

func spaceLocation(id int64) string { return "/v1/spaces/" + strconv.FormatInt(id, 10) }

func (a *Account) spaceNamed(name string, except int64) bool {
	for _, s := range a.spaces {
		if s.id != except && s.name == name {
			return true
		}
	}
	return false
}

func (c *call) space() (*space, *Reply) { return byID(c, c.a.spaces, 0, "space") }

func (c *call) spacesList() *Reply {
	errs := perrs{}
	lp := c.listParams(errs, "name")
	if rep := errs.reply(); rep != nil {
		return rep
	}
	matches := withName(c.filters(), maps.Values(c.a.spaces), func(x *space) string { return x.name }, c.q.Get("name"))
	page, q := paginate(matches, len(c.a.spaces), lp, func(x, y *space) int {
		if r := strings.Compare(strings.ToLower(x.name), strings.ToLower(y.name)); r != 0 {
			return r
		}
		return cmp.Compare(x.id, y.id)
	})
	out := make([]spaceJSON, len(page))
	for i, s := range page {
		out[i] = spaceJSON{ID: s.id, Name: s.name}
	}
	return OK(map[string]any{"query": q, "spaces": out})
}

// spacesCreate answers 201 with the space. Space names are unique,
// compared exactly; a duplicate is 422 here and on rename. Spaces list by
// name, the only orderby.
func (c *call) spacesCreate() *Reply {
	errs := perrs{}
	name, _ := c.fields(errs).requiredStr("name")
	if rep := errs.reply(); rep != nil {
		return rep
	}
	if c.a.spaceNamed(name, 0) {
		return alreadyExists("name", "has already been taken")
	}
	s := &space{id: c.a.env.nextID(), name: name}
	c.a.spaces[s.id] = s
	return createdReply(spaceLocation(s.id), spaceJSON{ID: s.id, Name: s.name})
}

func (c *call) spacesGet() *Reply {
	s, rep := c.space()
	if rep != nil {
		return rep
	}
	charts := make([]chartRefJS, 0, len(s.charts))
	for _, id := range s.charts {
		charts = append(charts, chartRefJS{ID: id})
	}
	return OK(spaceDetailJSON{ID: s.id, Name: s.name, Charts: charts})
}

func (c *call) spacesUpdate() *Reply {
	s, rep := c.space()
	if rep != nil {
		return rep
	}
	errs := perrs{}
	name, _ := c.fields(errs).requiredStr("name")
	if rep := errs.reply(); rep != nil {
		return rep
	}
	if c.a.spaceNamed(name, s.id) {
		return alreadyExists("name", "has already been taken")
	}
	s.name = name
	return NoContent()
}

func (c *call) spacesDelete() *Reply {
	s, rep := c.space()
	if rep != nil {
		return rep
	}
	for _, id := range s.charts {
		delete(c.a.charts, id)
	}
	delete(c.a.spaces, s.id)
	return NoContent()
}

// --- charts ----------------------------------------------------------------

type chart struct {
	id           int64
	spaceID      int64
	name         string
	typ          string
	streams      []chartStream
	min, max     *float64
	label        *string
	relatedSpace *int64
	thresholds   []threshold
}

// chartStream is a stream as stored and answered. Like the API's examples,
// answers carry the optional properties a stream was given and leave the
// others (and their defaults) out.
type chartStream struct {
	ID                 int64       `json:"id"`
	Metric             string      `json:"metric,omitempty"`
	Composite          string      `json:"composite,omitempty"`
	Source             string      `json:"source,omitempty"` // legacy source filter: a name, a '*' pattern, or "%"
	Type               string      `json:"type"`
	Tags               []streamTag `json:"tags,omitempty"`
	GroupFunction      string      `json:"group_function,omitempty"`
	SummaryFunction    string      `json:"summary_function,omitempty"`
	DownsampleFunction string      `json:"downsample_function,omitempty"`
	Color              string      `json:"color,omitempty"`
	Name               string      `json:"name,omitempty"`
	UnitsShort         string      `json:"units_short,omitempty"`
	UnitsLong          string      `json:"units_long,omitempty"`
	Min                *float64    `json:"min,omitempty"`
	Max                *float64    `json:"max,omitempty"`
	TransformFunction  string      `json:"transform_function,omitempty"`
	Period             *int64      `json:"period,omitempty"`
}

// streamTag is a stream's tag filter; grouped and dynamic are answered only
// when true, as the API's examples show filters as {name, values}.
type streamTag struct {
	Name    string   `json:"name"`
	Values  []string `json:"values"`
	Grouped bool     `json:"grouped,omitempty"`
	Dynamic bool     `json:"dynamic,omitempty"`
}

type threshold struct {
	Operator string  `json:"operator"`
	Value    float64 `json:"value"`
	Type     string  `json:"type"`
}

type chartJSON struct {
	ID           int64         `json:"id"`
	Name         string        `json:"name"`
	Type         string        `json:"type"`
	Streams      []chartStream `json:"streams"`
	Min          *float64      `json:"min,omitempty"`
	Max          *float64      `json:"max,omitempty"`
	Label        *string       `json:"label,omitempty"`
	RelatedSpace *int64        `json:"related_space,omitempty"`
	Thresholds   []threshold   `json:"thresholds"`
}

func (ch *chart) json() chartJSON {
	streams := slices.Clone(ch.streams)
	if streams == nil {
		streams = []chartStream{}
	}
	return chartJSON{
		ID: ch.id, Name: ch.name, Type: ch.typ, Streams: streams,
		Min: ch.min, Max: ch.max, Label: ch.label, RelatedSpace: ch.relatedSpace,
		Thresholds: slices.Clone(ch.thresholds),
	}
}

var (
	chartTypes    = []string{"line", "stacked", "bignumber"}
	groupFuncs    = []string{"average", "sum", "min", "max", "breakout"}
	summaryFuncs  = []string{"max", "min", "average", "sum", "count"}
	thresholdOps  = []string{">", "<", "="}
	thresholdKind = []string{"red", "yellow"}
)

// readChart reads chart fields from the body into ch (a copy of the chart
// being updated, or a new one), validating as it goes.
func (c *call) readChart(o obj, ch *chart, create bool) {
	if create {
		if name, ok := o.requiredStr("name"); ok {
			ch.name = name
		}
	} else if o.has("name") {
		if name, ok := o.requiredStr("name"); ok {
			ch.name = name
		}
	}
	if v, ok := oneOf(o, "type", chartTypes...); ok {
		ch.typ = v
	}
	if f, ok := o.float("min"); ok {
		ch.min = &f
	}
	if f, ok := o.float("max"); ok {
		ch.max = &f
	}
	if s, ok := o.str("label"); ok {
		ch.label = &s
	}
	if id, ok := o.int("related_space"); ok {
		if c.a.spaces[id] == nil {
			o.invalid("related_space", "is invalid: no such space")
		}
		ch.relatedSpace = &id
	}
	if list, ok := o.list("thresholds"); ok {
		ch.thresholds = []threshold{}
		for i, v := range list {
			to, ok := o.item("thresholds", i, v)
			if !ok {
				continue
			}
			var t threshold
			if !to.has("operator") {
				to.invalid("operator", "is required")
			}
			t.Operator, _ = oneOf(to, "operator", thresholdOps...)
			if !to.has("type") {
				to.invalid("type", "is required")
			}
			t.Type, _ = oneOf(to, "type", thresholdKind...)
			if f, ok := to.float("value"); ok {
				t.Value = f
			} else if !to.has("value") {
				to.invalid("value", "is required")
			}
			ch.thresholds = append(ch.thresholds, t)
		}
	}
	if list, ok := o.list("streams"); ok {
		ch.streams = []chartStream{}
		for i, v := range list {
			so, ok := o.item("streams", i, v)
			if !ok {
				continue
			}
			ch.streams = append(ch.streams, c.readStream(so))
		}
	}
	if ch.typ == "bignumber" && len(ch.thresholds) == 0 {
		o.invalid("thresholds", "are required for a bignumber chart")
	}
}

func (c *call) readStream(o obj) chartStream {
	s := chartStream{ID: c.a.env.nextID()}
	metric, hasMetric := o.str("metric")
	composite, hasComposite := o.str("composite")
	switch {
	case hasMetric && hasComposite:
		o.invalid("composite", "cannot be combined with metric")
	case !hasMetric && !hasComposite:
		o.invalid("metric", "is required unless composite is given")
	case hasMetric && !tsdb.ValidName(metric):
		o.invalid("metric", "is invalid")
	}
	s.Metric, s.Composite = metric, composite
	s.Type = "gauge"
	if hasComposite {
		s.Type = "composite"
		if o.has("tags") {
			o.invalid("tags", "cannot be combined with composite")
		}
		if o.has("group_function") {
			o.invalid("group_function", "cannot be combined with composite")
		}
		if o.has("source") {
			o.invalid("source", "cannot be combined with composite")
		}
	}
	if v, ok := o.str("source"); ok && !hasComposite {
		s.Source = v
	}
	if v, ok := oneOf(o, "group_function", groupFuncs...); ok && !hasComposite {
		s.GroupFunction = v
	}
	if v, ok := oneOf(o, "summary_function", summaryFuncs...); ok {
		s.SummaryFunction = v
	}
	if v, ok := oneOf(o, "downsample_function", summaryFuncs...); ok {
		s.DownsampleFunction = v
	}
	if list, ok := o.list("tags"); ok && !hasComposite {
		s.Tags = []streamTag{}
		for i, v := range list {
			to, ok := o.item("tags", i, v)
			if !ok {
				continue
			}
			var t streamTag
			t.Name, _ = to.requiredStr("name")
			if vals, ok := to.strList("values"); ok {
				t.Values = vals
			} else {
				t.Values = []string{}
			}
			t.Grouped, _ = to.boolean("grouped")
			t.Dynamic, _ = to.boolean("dynamic")
			s.Tags = append(s.Tags, t)
		}
	}
	if v, ok := o.str("color"); ok {
		if !reColor.MatchString(v) {
			o.invalid("color", "is invalid: expected #RRGGBB")
		}
		s.Color = v
	}
	s.Name, _ = o.str("name")
	s.UnitsShort, _ = o.str("units_short")
	s.UnitsLong, _ = o.str("units_long")
	if f, ok := o.float("min"); ok {
		s.Min = &f
	}
	if f, ok := o.float("max"); ok {
		s.Max = &f
	}
	if v, ok := o.str("transform_function"); ok {
		if !reTransform.MatchString(v) {
			o.invalid("transform_function", "is invalid: a linear formula of x, p, digits and + - * / ( )")
		}
		s.TransformFunction = v
	}
	if p, ok := o.int("period"); ok {
		if p <= 0 {
			o.invalid("period", "must be a positive number of seconds")
		}
		s.Period = &p
	}
	return s
}

// chart finds the space of the path and its chart.
func (c *call) chart() (*space, *chart, *Reply) {
	s, rep := c.space()
	if rep != nil {
		return nil, nil, rep
	}
	ch, rep := byID(c, c.a.charts, 1, "chart")
	if rep != nil || ch.spaceID != s.id {
		return nil, nil, NotFound("chart " + c.p[1])
	}
	return s, ch, nil
}

func (c *call) chartsList() *Reply {
	s, rep := c.space()
	if rep != nil {
		return rep
	}
	out := make([]chartJSON, 0, len(s.charts))
	for _, id := range s.charts {
		out = append(out, c.a.charts[id].json())
	}
	return OK(out)
}

// chartsCreate answers 201 with the chart; its Location is the space, as
// the API's example shows. transform_function accepts digits, x, p,
// parentheses, + , - . / * and space. A stream is answered with the
// properties it was given, as the examples show: group_function,
// summary_function and downsample_function (average when left out) are
// answered only when sent, and a tag filter's grouped and dynamic only
// when true. A stream may carry a legacy source (a name, a '*' pattern,
// or "%" for a dynamic source), not with composite.
func (c *call) chartsCreate() *Reply {
	s, rep := c.space()
	if rep != nil {
		return rep
	}
	errs := perrs{}
	ch := &chart{spaceID: s.id, typ: "line"}
	c.readChart(c.fields(errs), ch, true)
	if rep := errs.reply(); rep != nil {
		return rep
	}
	ch.id = c.a.env.nextID()
	c.a.charts[ch.id] = ch
	s.charts = append(s.charts, ch.id)
	return createdReply(spaceLocation(s.id), ch.json())
}

func (c *call) chartsGet() *Reply {
	_, ch, rep := c.chart()
	if rep != nil {
		return rep
	}
	return OK(ch.json())
}

// chartsUpdate answers 200 with the chart; streams sent replace all
// streams.
func (c *call) chartsUpdate() *Reply {
	_, ch, rep := c.chart()
	if rep != nil {
		return rep
	}
	errs := perrs{}
	next := *ch
	c.readChart(c.fields(errs), &next, false)
	if rep := errs.reply(); rep != nil {
		return rep
	}
	*ch = next
	return OK(ch.json())
}

func (c *call) chartsDelete() *Reply {
	s, ch, rep := c.chart()
	if rep != nil {
		return rep
	}
	delete(c.a.charts, ch.id)
	s.charts = slices.DeleteFunc(s.charts, func(id int64) bool { return id == ch.id })
	return NoContent()
}
