package api

import (
	"cmp"
	"maps"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/librato-sdk/librato-go/mock/internal/tsdb"
)

type annStream struct {
	name        string
	displayName string
	events      []*annEvent // in creation order
}

type annEvent struct {
	id          int64
	title       string
	source      *string
	description *string
	links       []linkJSON
	start       int64
	end         *int64
}

type eventJSON struct {
	ID          int64      `json:"id"`
	Title       string     `json:"title"`
	Description *string    `json:"description"`
	Source      *string    `json:"source"`
	Links       []linkJSON `json:"links"`
	StartTime   int64      `json:"start_time"`
	EndTime     *int64     `json:"end_time"`
}

func (e *annEvent) json() eventJSON {
	links := slices.Clone(e.links)
	if links == nil {
		links = []linkJSON{}
	}
	return eventJSON{ID: e.id, Title: e.title, Description: e.description, Source: e.source, Links: links, StartTime: e.start, EndTime: e.end}
}

type annStreamJSON struct {
	Name        string `json:"name"`
	DisplayName string `json:"display_name"`
}

func eventLocation(stream string, id int64) string {
	return "/v1/annotations/" + url.PathEscape(stream) + "/" + strconv.FormatInt(id, 10)
}

// readLinks reads a list of links from field k; each needs rel and href,
// and rels are unique.
func readLinks(o obj, k string) ([]linkJSON, bool) {
	list, ok := o.list(k)
	if !ok {
		return nil, false
	}
	out := []linkJSON{}
	seen := map[string]bool{}
	for i, v := range list {
		lo, ok := o.item(k, i, v)
		if !ok {
			continue
		}
		l, ok := readLink(lo)
		if !ok {
			continue
		}
		if seen[l.Rel] {
			lo.invalid("rel", "must be unique within the event")
			continue
		}
		seen[l.Rel] = true
		out = append(out, l)
	}
	return out, true
}

func readLink(o obj) (linkJSON, bool) {
	rel, ok1 := o.requiredStr("rel")
	href, ok2 := o.requiredStr("href")
	label, _ := o.str("label")
	return linkJSON{Rel: rel, Href: href, Label: label}, ok1 && ok2
}

func (c *call) annStream() (*annStream, *Reply) {
	s := c.a.annotations[c.p[0]]
	if s == nil {
		return nil, NotFound("annotation stream " + strconv.Quote(c.p[0]))
	}
	return s, nil
}

// annEvent finds the stream of the path and its event.
func (c *call) annEvent() (*annStream, *annEvent, *Reply) {
	s, rep := c.annStream()
	if rep != nil {
		return nil, nil, rep
	}
	id, ok := PathID(c.p[1])
	if ok {
		for _, e := range s.events {
			if e.id == id {
				return s, e, nil
			}
		}
	}
	return nil, nil, NotFound("annotation event " + c.p[1])
}

func (c *call) annotationsList() *Reply {
	errs := perrs{}
	lp := c.listParams(errs, "name")
	if rep := errs.reply(); rep != nil {
		return rep
	}
	matches := withName(c.filters(), maps.Values(c.a.annotations), func(x *annStream) string { return x.name }, c.q.Get("name"))
	page, q := paginate(matches, len(c.a.annotations), lp, func(x, y *annStream) int {
		return strings.Compare(x.name, y.name)
	})
	out := make([]annStreamJSON, len(page))
	for i, s := range page {
		out[i] = annStreamJSON{Name: s.name, DisplayName: s.displayName}
	}
	return OK(map[string]any{"query": q, "annotations": out})
}

// annotationsCreateEvent creates an event, and its stream when missing
// (the stream's display_name starts as its name); stream names follow the
// metric-name rule. A link with a rel the event already has is 400.
func (c *call) annotationsCreateEvent() *Reply {
	name := c.p[0]
	errs := perrs{}
	if !tsdb.ValidName(name) {
		errs.add("name", tsdb.MsgName)
		return errs.reply()
	}
	o := c.fields(errs)
	e := &annEvent{start: c.now.Unix()}
	e.title, _ = o.requiredStr("title")
	c.readEvent(o, e)
	if rep := errs.reply(); rep != nil {
		return rep
	}
	e.id = c.a.env.nextID()
	s := c.a.annotations[name]
	if s == nil {
		s = &annStream{name: name, displayName: name}
		c.a.annotations[name] = s
	}
	s.events = append(s.events, e)
	return createdReply(eventLocation(name, e.id), e.json())
}

// readEvent reads the optional event fields into e.
func (c *call) readEvent(o obj, e *annEvent) {
	if v, ok := o.str("source"); ok {
		e.source = &v
	}
	if v, ok := o.str("description"); ok {
		e.description = &v
	}
	if o.has("links") {
		if l, ok := readLinks(o, "links"); ok {
			e.links = l
		}
	}
	if t, ok := o.epoch("start_time"); ok {
		e.start = t
	}
	if t, ok := o.epoch("end_time"); ok {
		if t < e.start {
			o.invalid("end_time", "is before start_time")
		}
		e.end = &t
	} else if o.present("end_time") && !o.has("end_time") {
		e.end = nil
	}
}

// annotationsGetStream needs count or start_time (end_time defaults to
// now), filters on sources[] with '*' wildcards, and answers events as
// [{"source": [...], "unassigned": [...]}], one object (possibly empty)
// in a list.
func (c *call) annotationsGetStream() *Reply {
	s, rep := c.annStream()
	if rep != nil {
		return rep
	}
	errs := perrs{}
	readInt := func(k string) (int64, bool) { return c.wholeParam(errs, k, "is invalid") }
	count, hasCount := readInt("count")
	start, hasStart := c.timeParam(errs, "start_time", msgTimeParam)
	end, hasEnd := c.timeParam(errs, "end_time", msgTimeParam)
	if !hasCount && !hasStart && !errs.has("count") && !errs.has("start_time") {
		errs.add("start_time", "is required unless count is given")
	}
	if hasCount && count <= 0 {
		errs.add("count", "must be positive")
	}
	if rep := errs.reply(); rep != nil {
		return rep
	}
	if !hasEnd {
		end = c.now.Unix()
	}
	var sources []string
	for k, vals := range c.q {
		if k == "sources" || k == "sources[]" {
			sources = append(sources, vals...)
		}
	}
	var events []*annEvent
	for _, e := range s.events {
		if hasStart && (e.start < start || e.start > end) {
			continue
		}
		if len(sources) > 0 {
			src := ""
			if e.source != nil {
				src = *e.source
			}
			if !slices.ContainsFunc(sources, func(p string) bool { return c.filters().Glob(p, src) }) {
				continue
			}
		}
		events = append(events, e)
	}
	slices.SortStableFunc(events, func(x, y *annEvent) int {
		if x.start != y.start {
			return cmp.Compare(x.start, y.start)
		}
		return cmp.Compare(x.id, y.id)
	})
	if hasCount && int64(len(events)) > count {
		events = events[int64(len(events))-count:]
	}
	bySource := map[string][]eventJSON{}
	for _, e := range events {
		key := "unassigned"
		if e.source != nil && *e.source != "" {
			key = *e.source
		}
		bySource[key] = append(bySource[key], e.json())
	}
	return OK(map[string]any{
		"name":         s.name,
		"display_name": s.displayName,
		"events":       []any{bySource},
	})
}

func (c *call) annotationsUpdateStream() *Reply {
	s, rep := c.annStream()
	if rep != nil {
		return rep
	}
	errs := perrs{}
	name, _ := c.fields(errs).requiredStr("display_name")
	if rep := errs.reply(); rep != nil {
		return rep
	}
	s.displayName = name
	return NoContent()
}

func (c *call) annotationsDeleteStream() *Reply {
	s, rep := c.annStream()
	if rep != nil {
		return rep
	}
	delete(c.a.annotations, s.name)
	return NoContent()
}

func (c *call) annotationsGetEvent() *Reply {
	_, e, rep := c.annEvent()
	if rep != nil {
		return rep
	}
	return OK(e.json())
}

// annotationsUpdateEvent changes the fields sent; links, when sent,
// replace the event's links.
func (c *call) annotationsUpdateEvent() *Reply {
	_, e, rep := c.annEvent()
	if rep != nil {
		return rep
	}
	errs := perrs{}
	o := c.fields(errs)
	next := *e
	if o.has("title") {
		next.title, _ = o.requiredStr("title")
	}
	c.readEvent(o, &next)
	if rep := errs.reply(); rep != nil {
		return rep
	}
	*e = next
	return NoContent()
}

func (c *call) annotationsDeleteEvent() *Reply {
	s, e, rep := c.annEvent()
	if rep != nil {
		return rep
	}
	s.events = slices.DeleteFunc(s.events, func(x *annEvent) bool { return x == e })
	return NoContent()
}

// annotationsAddLink adds a link; a rel the event already has is 422.
func (c *call) annotationsAddLink() *Reply {
	s, e, rep := c.annEvent()
	if rep != nil {
		return rep
	}
	errs := perrs{}
	l, _ := readLink(c.fields(errs))
	if rep := errs.reply(); rep != nil {
		return rep
	}
	for _, x := range e.links {
		if x.Rel == l.Rel {
			return alreadyExists("rel", "has already been taken for this event")
		}
	}
	e.links = append(slices.Clone(e.links), l)
	return createdReply(eventLocation(s.name, e.id)+"/links/"+url.PathEscape(l.Rel), l)
}

func (c *call) annotationsDeleteLink() *Reply {
	_, e, rep := c.annEvent()
	if rep != nil {
		return rep
	}
	rel := c.p[2]
	i := slices.IndexFunc(e.links, func(l linkJSON) bool { return l.Rel == rel })
	if i < 0 {
		return NotFound("link " + strconv.Quote(rel))
	}
	e.links = slices.Delete(slices.Clone(e.links), i, i+1)
	return NoContent()
}
