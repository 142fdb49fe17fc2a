package api

import (
	"cmp"
	"maps"
	"slices"
	"strconv"

	"github.com/librato-sdk/librato-go/mock/internal/tsdb"
)

type alert struct {
	id             int64
	name           string
	version        int64
	conditions     []condition
	services       []int64
	attributes     map[string]any
	description    *string
	active         bool
	rearm          int64
	rearmPerSignal bool
	md             bool
	created        int64
	updated        int64
	triggeredAt    int64 // firing since, 0 when not firing
	clearedAt      int64 // last cleared, 0 if never
}

type condition struct {
	ID              int64     `json:"id"`
	Type            string    `json:"type"`
	MetricName      string    `json:"metric_name"`
	Source          *string   `json:"source"`
	Threshold       *float64  `json:"threshold,omitempty"`
	SummaryFunction string    `json:"summary_function,omitempty"`
	Duration        *int64    `json:"duration,omitempty"`
	DetectReset     bool      `json:"detect_reset"`
	Tags            []condTag `json:"tags"`
}

type condTag struct {
	Name    string   `json:"name"`
	Grouped bool     `json:"grouped"`
	Values  []string `json:"values"`
}

type alertJSON struct {
	ID             int64              `json:"id"`
	Name           string             `json:"name"`
	Description    *string            `json:"description"`
	Conditions     []condition        `json:"conditions"`
	Services       []alertServiceJSON `json:"services"`
	Attributes     map[string]any     `json:"attributes"`
	Active         bool               `json:"active"`
	CreatedAt      int64              `json:"created_at"`
	UpdatedAt      int64              `json:"updated_at"`
	Version        int64              `json:"version"`
	RearmSeconds   int64              `json:"rearm_seconds"`
	RearmPerSignal bool               `json:"rearm_per_signal"`
	MD             bool               `json:"md"`
}

func (a *Account) alertJSON(al *alert) alertJSON {
	out := alertJSON{
		ID: al.id, Name: al.name, Description: al.description,
		Conditions: slices.Clone(al.conditions), Services: []alertServiceJSON{},
		Attributes: maps.Clone(al.attributes), Active: al.active,
		CreatedAt: al.created, UpdatedAt: al.updated, Version: al.version,
		RearmSeconds: al.rearm, RearmPerSignal: al.rearmPerSignal, MD: al.md,
	}
	if out.Conditions == nil {
		out.Conditions = []condition{}
	}
	if out.Attributes == nil {
		out.Attributes = map[string]any{}
	}
	for _, id := range al.services {
		if s := a.services[id]; s != nil {
			out.Services = append(out.Services, s.alertJSON())
		}
	}
	return out
}

var (
	conditionTypes   = []string{"above", "below", "absent"}
	alertSummaryFunc = []string{"min", "max", "average", "sum", "count", "derivative"}
)

// readAlert reads the body into al (a new alert or a copy of the one being
// updated). On update, conditions left out are removed, as the API
// documents; other fields left out stay.
func (c *call) readAlert(o obj, al *alert, create bool) {
	if create || o.has("name") {
		if name, ok := o.requiredStr("name"); ok {
			if !reAlertName.MatchString(name) {
				o.invalid("name", "is invalid: up to 255 characters from A-Z a-z 0-9 . : - _")
			}
			al.name = name
		}
	}
	if v, ok := o.int("version"); ok {
		if v != 1 && v != 2 {
			o.invalid("version", "must be 1 or 2")
		}
		al.version = v
	}
	if d, ok := o.str("description"); ok {
		al.description = &d
	}
	if b, ok := o.boolean("active"); ok {
		al.active = b
	}
	if b, ok := o.boolean("rearm_per_signal"); ok {
		al.rearmPerSignal = b
	}
	if b, ok := o.boolean("md"); ok {
		al.md = b
	}
	if r, ok := o.int("rearm_seconds"); ok {
		if r < 0 || r%60 != 0 {
			o.invalid("rearm_seconds", "must be a multiple of 60")
		}
		al.rearm = r
	} else if o.present("rearm_seconds") && !o.has("rearm_seconds") {
		al.rearm = 600
	}
	if at, ok := o.object("attributes"); ok {
		al.attributes = plain(at.m).(map[string]any)
	}
	if list, ok := o.list("services"); ok {
		al.services = []int64{}
		for i, v := range list {
			id, ok := integer(v)
			if !ok || c.a.services[id] == nil {
				o.errs.add(o.key("services")+"["+strconv.Itoa(i)+"]", "is invalid: no such service")
				continue
			}
			if !slices.Contains(al.services, id) {
				al.services = append(al.services, id)
			}
		}
	}
	old := map[int64]bool{}
	for _, cd := range al.conditions {
		old[cd.ID] = true
	}
	list, ok := o.list("conditions")
	if create && (!ok || len(list) == 0) && !o.errs.has(o.key("conditions")) {
		o.invalid("conditions", "is required: at least one condition")
	}
	al.conditions = []condition{}
	for i, v := range list {
		co, ok := o.item("conditions", i, v)
		if !ok {
			continue
		}
		al.conditions = append(al.conditions, c.readCondition(co, old))
	}
}

// readCondition reads one condition. A condition answers every field of
// the current reference's condition: summary_function (average for above
// and below when not sent), tags ([] when none), detect_reset (true when
// not sent, as the reference documents, though its answer examples
// predate the field) and source, the legacy source pattern as sent or
// null.
func (c *call) readCondition(o obj, old map[int64]bool) condition {
	var cd condition
	if id, ok := o.int("id"); ok && old[id] {
		cd.ID = id
	} else {
		cd.ID = c.a.env.nextID()
	}
	if !o.has("type") {
		o.invalid("type", "is required: above, below or absent")
	}
	cd.Type, _ = oneOf(o, "type", conditionTypes...)
	if name, ok := o.requiredStr("metric_name"); ok {
		if !tsdb.ValidName(name) {
			o.invalid("metric_name", "is invalid")
		}
		cd.MetricName = name
	}
	if f, ok := o.float("threshold"); ok {
		cd.Threshold = &f
	} else if (cd.Type == "above" || cd.Type == "below") && !o.has("threshold") {
		o.invalid("threshold", "is required for "+cd.Type)
	}
	if cd.Type != "absent" {
		cd.SummaryFunction = "average"
	}
	if v, ok := oneOf(o, "summary_function", alertSummaryFunc...); ok {
		cd.SummaryFunction = v
	}
	// source is the legacy API's source pattern ("*prod*" in the list
	// example); it is kept and answered as sent, null when not sent.
	if src, ok := o.str("source"); ok {
		cd.Source = &src
	}
	if d, ok := o.int("duration"); ok {
		if d < 60 || d > 3600 {
			o.invalid("duration", "must be from 60 to 3600 seconds")
		}
		cd.Duration = &d
	} else if cd.Type == "absent" && !o.has("duration") {
		o.invalid("duration", "is required for absent")
	}
	// The reference's default for detect_reset is true (api-docs PR #169).
	cd.DetectReset = true
	if b, ok := o.boolean("detect_reset"); ok {
		cd.DetectReset = b
	}
	cd.Tags = []condTag{}
	if list, ok := o.list("tags"); ok {
		for i, v := range list {
			to, ok := o.item("tags", i, v)
			if !ok {
				continue
			}
			var t condTag
			t.Name, _ = to.requiredStr("name")
			t.Grouped, _ = to.boolean("grouped")
			t.Values, _ = to.strList("values")
			if t.Values == nil {
				t.Values = []string{}
			}
			cd.Tags = append(cd.Tags, t)
		}
	}
	return cd
}

func (a *Account) alertNamed(name string, except int64) bool {
	for _, al := range a.alerts {
		if al.id != except && al.name == name {
			return true
		}
	}
	return false
}

func (c *call) alert() (*alert, *Reply) { return byID(c, c.a.alerts, 0, "alert") }

func (c *call) alertsList() *Reply {
	errs := perrs{}
	lp := c.listParams(errs, "updated_at")
	version := int64(2)
	if v := c.q.Get("version"); v != "" {
		switch v {
		case "1":
			version = 1
		case "2":
		default:
			errs.add("version", "must be 1 or 2")
		}
	}
	if rep := errs.reply(); rep != nil {
		return rep
	}
	name := c.q.Get("name")
	var matches []*alert
	for _, al := range c.a.alerts {
		if al.version == version && (name == "" || c.filters().Contains(al.name, name)) {
			matches = append(matches, al)
		}
	}
	page, q := paginate(matches, len(c.a.alerts), lp, func(x, y *alert) int {
		if x.updated != y.updated {
			return cmp.Compare(x.updated, y.updated)
		}
		return cmp.Compare(x.id, y.id)
	})
	out := make([]alertJSON, len(page))
	for i, al := range page {
		out[i] = c.a.alertJSON(al)
	}
	return OK(map[string]any{"query": q, "alerts": out})
}

// alertsCreate answers 201 with the alert. A name allows '_' (the API's
// own example has one); a new alert needs at least one condition; at
// least one service is not enforced. Alerts fire only through the
// harness (FireAlert, or "firing": true in a seed); clearing a firing
// alert moves it to the status endpoint's cleared list. Alerts list by
// updated_at.
func (c *call) alertsCreate() *Reply {
	errs := perrs{}
	al := &alert{version: 2, active: true, rearm: 600, attributes: map[string]any{}, services: []int64{}}
	c.readAlert(c.fields(errs), al, true)
	if rep := errs.reply(); rep != nil {
		return rep
	}
	if c.a.alertNamed(al.name, 0) {
		return alreadyExists("name", "has already been taken")
	}
	al.id = c.a.env.nextID()
	al.created, al.updated = c.now.Unix(), c.now.Unix()
	c.a.alerts[al.id] = al
	return createdReply("/v1/alerts/"+strconv.FormatInt(al.id, 10), c.a.alertJSON(al))
}

func (c *call) alertsGet() *Reply {
	al, rep := c.alert()
	if rep != nil {
		return rep
	}
	return OK(c.a.alertJSON(al))
}

// alertsUpdate replaces the conditions, and a PUT without conditions
// removes them all, as documented; other fields left out are kept, and
// attributes sent replace the old ones.
func (c *call) alertsUpdate() *Reply {
	al, rep := c.alert()
	if rep != nil {
		return rep
	}
	errs := perrs{}
	next := *al
	c.readAlert(c.fields(errs), &next, false)
	if rep := errs.reply(); rep != nil {
		return rep
	}
	if c.a.alertNamed(next.name, al.id) {
		return alreadyExists("name", "has already been taken")
	}
	next.updated = c.now.Unix()
	*al = next
	return NoContent()
}

func (c *call) alertsDelete() *Reply {
	al, rep := c.alert()
	if rep != nil {
		return rep
	}
	delete(c.a.alerts, al.id)
	return NoContent()
}

func (c *call) alertsStatusAll() *Reply {
	firing := []map[string]int64{}
	cleared := []map[string]int64{}
	ids := make([]int64, 0, len(c.a.alerts))
	for id := range c.a.alerts {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	for _, id := range ids {
		al := c.a.alerts[id]
		if al.triggeredAt > 0 {
			firing = append(firing, map[string]int64{"id": id, "triggered_at": al.triggeredAt})
		} else if al.clearedAt > 0 {
			cleared = append(cleared, map[string]int64{"id": id, "cleared_at": al.clearedAt})
		}
	}
	return OK(map[string]any{"firing": firing, "cleared": cleared})
}

func (c *call) alertsStatus() *Reply {
	al, rep := c.alert()
	if rep != nil {
		return rep
	}
	status := "ok"
	if al.triggeredAt > 0 {
		status = "triggered"
	}
	return OK(map[string]any{"alert": map[string]int64{"id": al.id}, "status": status})
}

func (c *call) alertsClear() *Reply {
	al, rep := c.alert()
	if rep != nil {
		return rep
	}
	if al.triggeredAt > 0 {
		al.triggeredAt = 0
		al.clearedAt = c.now.Unix()
	}
	return NoContent()
}

// alertsAddService attaches a service: 201 with the service as the body;
// attaching it twice is 422.
func (c *call) alertsAddService() *Reply {
	al, rep := c.alert()
	if rep != nil {
		return rep
	}
	errs := perrs{}
	o := c.fields(errs)
	id, ok := o.int("service")
	if !ok && !o.has("service") {
		o.invalid("service", "is required: the id of the service to attach")
	} else if ok && c.a.services[id] == nil {
		o.invalid("service", "is invalid: no such service")
	}
	if rep := errs.reply(); rep != nil {
		return rep
	}
	if slices.Contains(al.services, id) {
		return alreadyExists("service", "is already attached to this alert")
	}
	al.services = append(slices.Clone(al.services), id)
	al.updated = c.now.Unix()
	return createdReply("/v1/alerts/"+strconv.FormatInt(al.id, 10)+"/services/"+strconv.FormatInt(id, 10), c.a.services[id].alertJSON())
}

func (c *call) alertsRemoveService() *Reply {
	al, rep := c.alert()
	if rep != nil {
		return rep
	}
	id, ok := PathID(c.p[1])
	if !ok || !slices.Contains(al.services, id) {
		return NotFound("service " + c.p[1] + " of alert " + c.p[0])
	}
	al.services = slices.DeleteFunc(slices.Clone(al.services), func(x int64) bool { return x == id })
	al.updated = c.now.Unix()
	return NoContent()
}
