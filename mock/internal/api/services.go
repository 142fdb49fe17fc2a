package api

import (
	"cmp"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"
)

type service struct {
	id       int64
	typ      string
	title    string
	settings map[string]any
	updated  time.Time
}

// serviceJSON is a service as /v1/services answers it: the id is a JSON
// string, as the API's examples show.
type serviceJSON struct {
	ID       string         `json:"id"`
	Type     string         `json:"type"`
	Settings map[string]any `json:"settings"`
	Title    string         `json:"title"`
}

// alertServiceJSON is a service inside an alert: the id is a number there.
type alertServiceJSON struct {
	ID       int64          `json:"id"`
	Type     string         `json:"type"`
	Settings map[string]any `json:"settings"`
	Title    string         `json:"title"`
}

func (s *service) json() serviceJSON {
	return serviceJSON{ID: strconv.FormatInt(s.id, 10), Type: s.typ, Settings: maps.Clone(s.settings), Title: s.title}
}

func (s *service) alertJSON() alertServiceJSON {
	return alertServiceJSON{ID: s.id, Type: s.typ, Settings: maps.Clone(s.settings), Title: s.title}
}

func (c *call) service() (*service, *Reply) { return byID(c, c.a.services, 0, "service") }

// readService reads title, type and settings into s; on create all three
// are required.
func readService(o obj, s *service, create bool) {
	if create || o.has("title") {
		if v, ok := o.requiredStr("title"); ok {
			s.title = v
		}
	}
	if create || o.has("type") {
		if v, ok := o.requiredStr("type"); ok {
			s.typ = strings.ToLower(strings.TrimSpace(v))
		}
	}
	if set, ok := o.object("settings"); ok {
		s.settings = plain(set.m).(map[string]any)
	} else if create && !o.has("settings") {
		o.invalid("settings", "is required: the settings of the service type")
	}
}

func (c *call) servicesList() *Reply {
	errs := perrs{}
	lp := c.listParams(errs, "title", "updated_at")
	if rep := errs.reply(); rep != nil {
		return rep
	}
	matches := make([]*service, 0, len(c.a.services))
	for _, s := range c.a.services {
		matches = append(matches, s)
	}
	page, q := paginate(matches, len(c.a.services), lp, func(x, y *service) int {
		if lp.orderby == "updated_at" {
			if r := x.updated.Compare(y.updated); r != 0 {
				return r
			}
		} else if r := strings.Compare(strings.ToLower(x.title), strings.ToLower(y.title)); r != 0 {
			return r
		}
		return cmp.Compare(x.id, y.id)
	})
	out := make([]serviceJSON, len(page))
	for i, s := range page {
		out[i] = s.json()
	}
	return OK(map[string]any{"query": q, "services": out})
}

// servicesCreate needs title, type and settings. Services carry string
// ids in /v1/services answers ("145") and numeric ids inside alerts, as
// the API's examples show; requests may send either. They list by title
// (the default) or updated_at.
func (c *call) servicesCreate() *Reply {
	errs := perrs{}
	s := &service{}
	readService(c.fields(errs), s, true)
	if rep := errs.reply(); rep != nil {
		return rep
	}
	s.id = c.a.env.nextID()
	s.updated = c.now
	c.a.services[s.id] = s
	return createdReply("/v1/services/"+strconv.FormatInt(s.id, 10), s.json())
}

func (c *call) servicesGet() *Reply {
	s, rep := c.service()
	if rep != nil {
		return rep
	}
	return OK(s.json())
}

func (c *call) servicesUpdate() *Reply {
	s, rep := c.service()
	if rep != nil {
		return rep
	}
	errs := perrs{}
	next := *s
	readService(c.fields(errs), &next, false)
	if rep := errs.reply(); rep != nil {
		return rep
	}
	next.updated = c.now
	*s = next
	return NoContent()
}

// servicesDelete also detaches the service from every alert.
func (c *call) servicesDelete() *Reply {
	s, rep := c.service()
	if rep != nil {
		return rep
	}
	for _, al := range c.a.alerts {
		al.services = slices.DeleteFunc(slices.Clone(al.services), func(id int64) bool { return id == s.id })
	}
	delete(c.a.services, s.id)
	return NoContent()
}
