package api

import (
	"errors"
	"fmt"
	"maps"
	"mime"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/librato-sdk/librato-go/internal/endpoints"
	"github.com/librato-sdk/librato-go/mock/internal/tsdb"
)

// bodyKind says what request body a route reads.
type bodyKind int

const (
	noBody   bodyKind = iota // GET: any body is ignored
	anyBody                  // JSON or form, or none
	jsonBody                 // application/json only
	rawJSON                  // application/json only, left undecoded in call.raw (POST /v1/measurements)
)

// handler answers one routed call; it runs with the account locked.
type handler func(c *call) *Reply

// endpoint is how the mock serves one row of the matrix: the body it
// reads, whether it counts against the Agg rate limit (measurement
// submissions, tagged and legacy) and its handler.
type endpoint struct {
	body bodyKind
	agg  bool
	h    handler
}

// endpointsByRow are the handlers, keyed "METHOD template" by the matrix
// row each serves. NewRouter pairs them with the rows of the endpoint
// table, so a row without a handler, or a handler without a row, stops
// the server from starting.
func endpointsByRow() map[string]endpoint {
	return map[string]endpoint{
		"POST /v1/measurements":      {rawJSON, true, (*call).measurementsIngest},
		"GET /v1/measurements":       {noBody, false, (*call).measurementsCompose},
		"GET /v1/measurements/:name": {noBody, false, (*call).measurementsGet},

		"POST /v1/metrics":         {anyBody, true, (*call).legacyMetricsCreate},
		"GET /v1/metrics":          {noBody, false, (*call).metricsList},
		"PUT /v1/metrics":          {anyBody, false, (*call).metricsUpdateBatch},
		"DELETE /v1/metrics":       {anyBody, false, (*call).metricsDeleteBatch},
		"GET /v1/metrics/:name":    {noBody, false, (*call).metricsGet},
		"PUT /v1/metrics/:name":    {anyBody, false, (*call).metricsPut},
		"DELETE /v1/metrics/:name": {anyBody, false, (*call).metricsDelete},

		"GET /v1/spaces":                         {noBody, false, (*call).spacesList},
		"POST /v1/spaces":                        {anyBody, false, (*call).spacesCreate},
		"GET /v1/spaces/:id":                     {noBody, false, (*call).spacesGet},
		"PUT /v1/spaces/:id":                     {anyBody, false, (*call).spacesUpdate},
		"DELETE /v1/spaces/:id":                  {anyBody, false, (*call).spacesDelete},
		"GET /v1/spaces/:id/charts":              {noBody, false, (*call).chartsList},
		"POST /v1/spaces/:id/charts":             {anyBody, false, (*call).chartsCreate},
		"GET /v1/spaces/:id/charts/:chart_id":    {noBody, false, (*call).chartsGet},
		"PUT /v1/spaces/:id/charts/:chart_id":    {anyBody, false, (*call).chartsUpdate},
		"DELETE /v1/spaces/:id/charts/:chart_id": {anyBody, false, (*call).chartsDelete},

		"GET /v1/annotations":                         {noBody, false, (*call).annotationsList},
		"POST /v1/annotations/:name":                  {anyBody, false, (*call).annotationsCreateEvent},
		"GET /v1/annotations/:name":                   {noBody, false, (*call).annotationsGetStream},
		"PUT /v1/annotations/:name":                   {anyBody, false, (*call).annotationsUpdateStream},
		"DELETE /v1/annotations/:name":                {anyBody, false, (*call).annotationsDeleteStream},
		"GET /v1/annotations/:name/:id":               {noBody, false, (*call).annotationsGetEvent},
		"PUT /v1/annotations/:name/:id":               {anyBody, false, (*call).annotationsUpdateEvent},
		"DELETE /v1/annotations/:name/:id":            {anyBody, false, (*call).annotationsDeleteEvent},
		"POST /v1/annotations/:name/:id/links":        {anyBody, false, (*call).annotationsAddLink},
		"DELETE /v1/annotations/:name/:id/links/:rel": {anyBody, false, (*call).annotationsDeleteLink},

		"GET /v1/alerts":                             {noBody, false, (*call).alertsList},
		"POST /v1/alerts":                            {anyBody, false, (*call).alertsCreate},
		"GET /v1/alerts/status":                      {noBody, false, (*call).alertsStatusAll},
		"GET /v1/alerts/:id":                         {noBody, false, (*call).alertsGet},
		"PUT /v1/alerts/:id":                         {anyBody, false, (*call).alertsUpdate},
		"DELETE /v1/alerts/:id":                      {anyBody, false, (*call).alertsDelete},
		"GET /v1/alerts/:id/status":                  {noBody, false, (*call).alertsStatus},
		"POST /v1/alerts/:id/clear":                  {anyBody, false, (*call).alertsClear},
		"POST /v1/alerts/:id/services":               {anyBody, false, (*call).alertsAddService},
		"DELETE /v1/alerts/:id/services/:service_id": {anyBody, false, (*call).alertsRemoveService},

		"GET /v1/api_tokens":        {noBody, false, (*call).tokensList},
		"POST /v1/api_tokens":       {anyBody, false, (*call).tokensCreate},
		"GET /v1/api_tokens/:id":    {noBody, false, (*call).tokensGet},
		"PUT /v1/api_tokens/:id":    {anyBody, false, (*call).tokensUpdate},
		"DELETE /v1/api_tokens/:id": {anyBody, false, (*call).tokensDelete},

		"GET /v1/jobs/:id":        {noBody, false, (*call).jobsGet},
		"POST /v1/snapshots":      {anyBody, false, (*call).snapshotsCreate},
		"GET /v1/snapshots/:id":   {noBody, false, (*call).snapshotsGet},
		"GET /v1/services":        {noBody, false, (*call).servicesList},
		"POST /v1/services":       {anyBody, false, (*call).servicesCreate},
		"GET /v1/services/:id":    {noBody, false, (*call).servicesGet},
		"PUT /v1/services/:id":    {anyBody, false, (*call).servicesUpdate},
		"DELETE /v1/services/:id": {anyBody, false, (*call).servicesDelete},

		"GET /v1/sources":       {noBody, false, (*call).sourcesList},
		"GET /v1/sources/:name": {noBody, false, (*call).sourcesGet},
		"PUT /v1/sources/:name": {anyBody, false, (*call).sourcesPut},
	}
}

// Router serves the rows of an endpoint table, one endpoint each.
type Router struct {
	Table *endpoints.Table
	byRow []endpoint // by Row.Index
}

// NewRouter pairs every row of table with its endpoint from
// endpointsByRow. A row without an endpoint, or an endpoint for no row,
// is an error naming it: the mock must serve exactly the matrix.
func NewRouter(table *endpoints.Table) (*Router, error) {
	eps := endpointsByRow()
	rows := table.Rows()
	rt := &Router{Table: table, byRow: make([]endpoint, len(rows))}
	var missing []string
	for i := range rows {
		key := rows[i].String()
		ep, ok := eps[key]
		if !ok {
			missing = append(missing, key)
			continue
		}
		rt.byRow[rows[i].Index] = ep
		delete(eps, key)
	}
	var errs []string
	if len(missing) > 0 {
		errs = append(errs, "no handler for the matrix rows "+strings.Join(missing, ", "))
	}
	if len(eps) > 0 {
		extra := slices.Sorted(maps.Keys(eps))
		errs = append(errs, "handlers for no matrix row: "+strings.Join(extra, ", "))
	}
	if len(errs) > 0 {
		return nil, errors.New("mock: the handlers do not match the endpoint table: " + strings.Join(errs, "; "))
	}
	return rt, nil
}

// Routed is where a request's path leads.
type Routed struct {
	Row    *endpoints.Row // nil: no endpoint
	ep     *endpoint
	params []string // unescaped, in template order
}

// Route classifies a request by the endpoint table. The path is split
// into segments while still escaped and each segment is unescaped on its
// own, then escaped again for the matcher, so the row is chosen by
// exactly the segments the handler sees (/v1/alerts/%73tatus is the
// status row).
func (rt *Router) Route(method, escapedPath string) Routed {
	var rq Routed
	segs, ok := splitPath(escapedPath)
	if !ok {
		return rq
	}
	rq.Row = rt.Table.Match(method, canonicalPath(segs))
	if rq.Row == nil {
		return rq
	}
	rq.ep = &rt.byRow[rq.Row.Index]
	for i, s := range rq.Row.Segments {
		if s[0] == ':' {
			rq.params = append(rq.params, segs[i])
		}
	}
	return rq
}

// Agg reports whether the call counts against the Agg rate limit (a
// measurement submission, tagged or legacy) rather than Std.
func (rq Routed) Agg() bool { return rq.ep != nil && rq.ep.agg }

// Template is the row's template, "" for no row.
func (rq Routed) Template() string {
	if rq.Row == nil {
		return ""
	}
	return rq.Row.Template
}

// splitPath splits an escaped path into unescaped segments; an empty
// segment (double or trailing slash) or a bad escape is an error.
func splitPath(escaped string) ([]string, bool) {
	if !strings.HasPrefix(escaped, "/") {
		return nil, false
	}
	raw := strings.Split(escaped[1:], "/")
	out := make([]string, len(raw))
	for i, s := range raw {
		if s == "" {
			return nil, false
		}
		u, err := url.PathUnescape(s)
		if err != nil || u == "" {
			return nil, false
		}
		out[i] = u
	}
	return out, true
}

// canonicalPath escapes each segment again, so the matrix classifies
// exactly the segments the router saw.
func canonicalPath(segs []string) string {
	var b strings.Builder
	for _, s := range segs {
		b.WriteByte('/')
		b.WriteString(url.PathEscape(s))
	}
	return b.String()
}

// call is one request being handled.
type call struct {
	a     *Account
	r     *http.Request
	p     []string // path parameters, unescaped, in template order
	q     url.Values
	body  map[string]any // the decoded body; empty when there is none
	raw   []byte         // the body's bytes: decompressed, size-, type- and UTF-8-checked
	now   time.Time
	work  *tsdb.Budget // the matching its filters may do; see filters
	notes notes        // what was accepted by choice, for the journal
}

// notes are what a request had accepted where the mock chose to accept,
// the reference being silent or the real API known to take it: the
// journal shows them, so a test sees that its client relies on them.
type notes []string

// Messages of the notes.
const (
	noteFraction = "a time in epoch seconds had a fraction: truncated to the second (the reference gives no integer rule)"
	noteZeroTime = "the batch's \"time\": 0 was read as no time, as appoptics-api-go's BatchPersister sends it"
)

// add notes msg once; a nil n notes nothing.
func (n *notes) add(msg string) {
	if n != nil && !slices.Contains(*n, msg) {
		*n = append(*n, msg)
	}
}

// filters is the budget of the request's name and tag filters, made on
// first use; run answers 400 if a filter spent it.
func (c *call) filters() *tsdb.Budget {
	if c.work == nil {
		c.work = tsdb.NewBudget()
	}
	return c.work
}

// fields reads the body, collecting errors in errs.
func (c *call) fields(errs perrs) obj { return obj{m: c.body, errs: errs, notes: &c.notes} }

// origin is the scheme and host the client used, for absolute hrefs.
func (c *call) origin() string {
	scheme := "http"
	if c.r.URL.Scheme != "" {
		scheme = c.r.URL.Scheme
	} else if c.r.TLS != nil {
		scheme = "https"
	}
	host := c.r.Host
	if host == "" {
		host = c.r.URL.Host
	}
	return scheme + "://" + host
}

// run calls the endpoint with the account locked and renders its answer
// before unlocking. A panic in an endpoint is a bug of the mock; it is
// answered with 500 rather than taking down an in-process caller.
func (a *Account) run(row *endpoints.Row, h handler, c *call) (e *Encoded) {
	c.a.mu.Lock()
	defer c.a.mu.Unlock()
	a.finishDueJobs(c.now)
	defer func() {
		if v := recover(); v != nil {
			e = Plain(SystemError(http.StatusInternalServerError, fmt.Sprintf("mock: internal error in %s: %v", row, v)))
		}
	}()
	rep := h(c)
	if rep == nil {
		rep = SystemError(http.StatusInternalServerError, "mock: the endpoint gave no answer")
	}
	if c.work.Exhausted() {
		rep = RequestError(http.StatusBadRequest, "the name and tag filters ask for more matching than the mock does in one request; narrow them")
	}
	slices.Sort(c.notes)
	return &Encoded{Rep: rep, Body: rep.Encode(), Notes: c.notes}
}

// Serve answers a routed call on the account: its path and query
// parameters, its body, then its handler, with the account locked.
func (a *Account) Serve(r *http.Request, rq Routed, now time.Time) *Encoded {
	c := &call{a: a, r: r, p: rq.params, q: r.URL.Query(), now: now}
	if rep := checkParamsUTF8(rq.Row, rq.params, c.q); rep != nil {
		return Plain(rep)
	}
	if rep := checkFilterParams(c.q); rep != nil {
		return Plain(rep)
	}
	if rep := c.readBody(rq.ep.body); rep != nil {
		return Plain(rep)
	}
	return a.run(rq.Row, rq.ep.h, c)
}

// Encoded is a reply with its body already rendered, and the notes of
// the request (sorted).
type Encoded struct {
	Rep   *Reply
	Body  []byte
	Notes []string
}

// Plain encodes a reply that refers to no account state.
func Plain(r *Reply) *Encoded { return &Encoded{Rep: r, Body: r.Encode()} }

// readBody enforces the size limit and the content type, checks that
// the text is valid UTF-8, and decodes the body into c.body. c.raw keeps
// the body's bytes, decompressed and checked.
func (c *call) readBody(kind bodyKind) *Reply {
	c.body = map[string]any{}
	r := c.r
	if kind == noBody || r.Body == nil {
		return nil
	}
	data, rep := BodyBytes(r, c.a.env.MaxBody)
	if rep != nil {
		return rep
	}
	ct := strings.TrimSpace(r.Header.Get("Content-Type"))
	mt := ""
	var err error
	if ct != "" {
		if mt, _, err = mime.ParseMediaType(ct); err != nil {
			return RequestError(http.StatusUnsupportedMediaType, "Content-Type "+strconv.Quote(ct)+" does not parse")
		}
		mt = strings.ToLower(mt)
	}
	isJSON := mt == "application/json"
	isForm := mt == "application/x-www-form-urlencoded" || (mt == "" && kind == anyBody)
	switch {
	case (kind == jsonBody || kind == rawJSON) && !isJSON:
		return RequestError(http.StatusUnsupportedMediaType, "Unsupported Media Type: "+r.Method+" "+r.URL.EscapedPath()+" takes application/json only")
	case !isJSON && !isForm:
		return RequestError(http.StatusUnsupportedMediaType, "Unsupported Media Type: send application/json or application/x-www-form-urlencoded")
	}
	if kind == rawJSON {
		if rep := CheckJSONText(data); rep != nil {
			return rep
		}
		c.raw = data
		return nil
	}
	if len(strings.TrimSpace(string(data))) == 0 {
		return nil
	}
	var m map[string]any
	if isJSON {
		if rep := CheckJSONText(data); rep != nil {
			return rep
		}
		m, err = decodeJSON(data)
		if err != nil {
			return RequestError(http.StatusBadRequest, "Malformed JSON body: "+err.Error())
		}
	} else {
		m, err = decodeForm(data)
		if err != nil {
			return RequestError(http.StatusBadRequest, "Malformed form body: "+err.Error())
		}
		if rep := checkTreeUTF8(m); rep != nil {
			return rep
		}
	}
	c.raw = data
	c.body = m
	return nil
}

// byID finds the object path parameter i names in m by its numeric id; a
// parameter that is no id, or no such object, is 404 naming what.
func byID[T any](c *call, m map[int64]*T, i int, what string) (*T, *Reply) {
	id, ok := PathID(c.p[i])
	if v := m[id]; ok && v != nil {
		return v, nil
	}
	return nil, NotFound(what + " " + c.p[i])
}

// PathID reads a numeric id path parameter; anything else is no object.
func PathID(s string) (int64, bool) {
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n <= 0 {
		return 0, false
	}
	return n, true
}
