package librato

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"iter"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
)

// AnnotationsService manages annotation streams, their events and the events' links.
type AnnotationsService service

var (
	epAnnotationsList         = newEndpoint("GET", "/v1/annotations")
	epAnnotationsGetStream    = newEndpoint("GET", "/v1/annotations/:name")
	epAnnotationsCreateEvent  = newEndpoint("POST", "/v1/annotations/:name")
	epAnnotationsUpdateStream = newEndpoint("PUT", "/v1/annotations/:name")
	epAnnotationsDeleteStream = newEndpoint("DELETE", "/v1/annotations/:name")
	epAnnotationsGetEvent     = newEndpoint("GET", "/v1/annotations/:name/:id")
	epAnnotationsUpdateEvent  = newEndpoint("PUT", "/v1/annotations/:name/:id")
	epAnnotationsDeleteEvent  = newEndpoint("DELETE", "/v1/annotations/:name/:id")
	epAnnotationsAddLink      = newEndpoint("POST", "/v1/annotations/:name/:id/links")
	epAnnotationsDeleteLink   = newEndpoint("DELETE", "/v1/annotations/:name/:id/links/:rel")
)

// UnassignedSource is the key under which Get groups the events that
// have no source.
const UnassignedSource = "unassigned"

// AnnotationStream is a named timeline of events.
type AnnotationStream struct {
	Name        string `json:"name"`
	DisplayName string `json:"display_name,omitempty"`
}

// AnnotationStreamPage is one page of GET /v1/annotations; the API calls
// the streams "annotations".
type AnnotationStreamPage struct {
	Query   Query              `json:"query"`
	Streams []AnnotationStream `json:"annotations"`
}

func (l *AnnotationStreamPage) page() ([]AnnotationStream, Query) { return l.Streams, l.Query }

// List returns one page of annotation streams (names only, no
// events).
func (s *AnnotationsService) List(ctx context.Context, opts *ListOptions) (*AnnotationStreamPage, error) {
	return callInto[AnnotationStreamPage](ctx, s.client, &request{ep: epAnnotationsList, opts: listOf{opts, []string{"name"}, true}})
}

// All yields every annotation stream matching opts, page after
// page; an error is yielded once and ends the sequence.
func (s *AnnotationsService) All(ctx context.Context, opts *ListOptions) iter.Seq2[AnnotationStream, error] {
	return allPages[AnnotationStream](ctx, opts, s.List)
}

// AnnotationSearch selects the events Get returns: the last Count
// events, or those starting between StartTime and EndTime (EndTime may be
// zero). One of Count and StartTime is required.
type AnnotationSearch struct {
	Count     int
	StartTime time.Time
	EndTime   time.Time
	// Sources keeps only events from these sources; '*' is a wildcard
	// ("db-*").
	Sources []string
}

func (q *AnnotationSearch) validate() error {
	switch {
	case q == nil || (q.Count == 0 && q.StartTime.IsZero() && q.EndTime.IsZero()):
		return invalid("count", -1, "or a time range (start_time) is required to read a stream's events")
	case q.Count < 0:
		return invalid("count", -1, "%d may not be negative", q.Count)
	case q.StartTime.IsZero() && !q.EndTime.IsZero():
		return invalid("start_time", -1, "is required with end_time")
	case !q.StartTime.IsZero() && !q.EndTime.IsZero() && q.EndTime.Before(q.StartTime):
		return invalid("end_time", -1, "is before start_time")
	}
	for i, src := range q.Sources {
		if strings.TrimSpace(src) == "" {
			return invalid(fmt.Sprintf("sources[%d]", i), -1, "is empty; name a source or use '*'")
		}
	}
	return nil
}

func (q *AnnotationSearch) encode(v url.Values) {
	if q == nil {
		return
	}
	if q.Count > 0 {
		v.Set("count", strconv.Itoa(q.Count))
	}
	if !q.StartTime.IsZero() {
		v.Set("start_time", strconv.FormatInt(q.StartTime.Unix(), 10))
	}
	if !q.EndTime.IsZero() {
		v.Set("end_time", strconv.FormatInt(q.EndTime.Unix(), 10))
	}
	for _, src := range q.Sources {
		v.Add("sources[]", src)
	}
}

// AnnotationStreamEvents is a stream with the events a search found,
// grouped by source: Events[source] is in start-time order, and events
// without a source are under UnassignedSource.
type AnnotationStreamEvents struct {
	Name        string
	DisplayName string
	Events      map[string][]AnnotationEvent
}

// SortedEvents returns the events of every source in one list, by start
// time (then id).
func (s *AnnotationStreamEvents) SortedEvents() []AnnotationEvent {
	n := 0
	for _, evs := range s.Events {
		n += len(evs)
	}
	out := make([]AnnotationEvent, 0, n)
	sources := make([]string, 0, len(s.Events))
	for src := range s.Events {
		sources = append(sources, src)
	}
	slices.Sort(sources)
	for _, src := range sources {
		out = append(out, s.Events[src]...)
	}
	slices.SortStableFunc(out, func(a, b AnnotationEvent) int {
		return cmp.Or(cmp.Compare(a.StartTime, b.StartTime), cmp.Compare(a.ID, b.ID))
	})
	return out
}

// UnmarshalJSON reads the API's odd shape, an "events" array holding one
// object of source -> events. It also takes a bare source object, or a
// flat array of events, which it groups by source.
func (s *AnnotationStreamEvents) UnmarshalJSON(data []byte) error {
	var raw struct {
		Name        string          `json:"name"`
		DisplayName string          `json:"display_name"`
		Events      json.RawMessage `json:"events"`
	}
	if err := json.Unmarshal(data, &raw); err != nil {
		return err
	}
	s.Name, s.DisplayName = raw.Name, raw.DisplayName
	s.Events = make(map[string][]AnnotationEvent)
	ev := bytes.TrimSpace(raw.Events)
	switch {
	case len(ev) == 0 || string(ev) == "null":
		return nil
	case ev[0] == '{':
		return s.addGroups(ev)
	}
	var items []json.RawMessage
	if err := json.Unmarshal(ev, &items); err != nil {
		return fmt.Errorf("librato: annotation stream events: %w", err)
	}
	for _, it := range items {
		if isEventGroups(it) {
			if err := s.addGroups(it); err != nil {
				return err
			}
			continue
		}
		var e AnnotationEvent
		if err := decodeJSON(it, &e); err != nil {
			return fmt.Errorf("librato: annotation stream events: %w", err)
		}
		src := e.Source
		if src == "" {
			src = UnassignedSource
		}
		s.Events[src] = append(s.Events[src], e)
	}
	return nil
}

// addGroups merges one {source: [events]} object into s.Events.
func (s *AnnotationStreamEvents) addGroups(obj []byte) error {
	var groups map[string][]AnnotationEvent
	if err := decodeJSON(obj, &groups); err != nil {
		return fmt.Errorf("librato: annotation stream events: %w", err)
	}
	for src, evs := range groups {
		s.Events[src] = append(s.Events[src], evs...)
	}
	return nil
}

// isEventGroups tells a {source: [events]} object from an event object:
// every member of the former is an array, and an event has scalar members.
func isEventGroups(raw json.RawMessage) bool {
	var members map[string]json.RawMessage
	if json.Unmarshal(raw, &members) != nil {
		return false
	}
	for _, v := range members {
		v = bytes.TrimSpace(v)
		if len(v) == 0 || v[0] != '[' {
			return false
		}
	}
	return true
}

// MarshalJSON writes the API's shape: an events array holding one object
// keyed by source.
func (s AnnotationStreamEvents) MarshalJSON() ([]byte, error) {
	events := s.Events
	if events == nil {
		events = map[string][]AnnotationEvent{}
	}
	return json.Marshal(struct {
		Name        string                         `json:"name"`
		DisplayName string                         `json:"display_name,omitempty"`
		Events      []map[string][]AnnotationEvent `json:"events"`
	}{s.Name, s.DisplayName, []map[string][]AnnotationEvent{events}})
}

// Get returns stream name with the events search selects. A search
// with neither Count nor StartTime is a *ValidationError, since the API
// requires one; nothing is sent then.
func (s *AnnotationsService) Get(ctx context.Context, name string, search *AnnotationSearch) (*AnnotationStreamEvents, error) {
	return callInto[AnnotationStreamEvents](ctx, s.client, &request{ep: epAnnotationsGetStream, params: []string{name}, opts: search})
}

// AnnotationStreamUpdate changes a stream (PUT /v1/annotations/:name).
type AnnotationStreamUpdate struct {
	// DisplayName is the name shown for the stream; nil is a
	// *ValidationError, since there is nothing else to change.
	DisplayName *string `json:"display_name,omitempty"`
}

func (u *AnnotationStreamUpdate) validate() error {
	if u == nil || u.DisplayName == nil {
		return invalid("display_name", -1, "is not set; nothing to update")
	}
	return nil
}

// Update sets what u sets on stream name: its display name, sent as given
// (the server may refuse a blank one). An update without a display name is
// a *ValidationError and nothing is sent.
func (s *AnnotationsService) Update(ctx context.Context, name string, u *AnnotationStreamUpdate) error {
	_, err := s.client.call(ctx, &request{ep: epAnnotationsUpdateStream, params: []string{name}, body: u})
	return err
}

// Delete deletes stream name and every one of its events, beyond
// recovery.
func (s *AnnotationsService) Delete(ctx context.Context, name string) error {
	_, err := s.client.call(ctx, &request{ep: epAnnotationsDeleteStream, params: []string{name}})
	return err
}

// AnnotationEvent is one event of a stream: a point in time, or a span when
// EndTime is set. Times are epoch seconds, as the API writes them; a null
// source, description or end_time reads as "" or 0.
type AnnotationEvent struct {
	ID          int64  `json:"id,omitempty"`     // set by the server; never sent
	Title       string `json:"title"`            // required; a short summary such as "v45 Deployment"
	Source      string `json:"source,omitempty"` // where it came from (host, user...); "" for none
	Description string `json:"description,omitempty"`
	Links       []Link `json:"links,omitzero"`       // nil is not sent; empty is sent as []
	StartTime   int64  `json:"start_time,omitempty"` // 0 on create: the server uses the current time
	EndTime     int64  `json:"end_time,omitempty"`   // 0: the event has no end
}

// eventCreate is an event on its way to CreateEvent: the depth-0 ID, never
// set, hides the event's own, which is the server's.
type eventCreate struct {
	*AnnotationEvent
	ID *int64 `json:"id,omitempty"`
}

func (e eventCreate) validate() error {
	if e.AnnotationEvent == nil || strings.TrimSpace(e.Title) == "" {
		return invalid("title", -1, "is required: a short summary of the event")
	}
	return checkLinks(e.Links)
}

// checkLinks requires rel and href on every link and rels unique, as the
// API does.
func checkLinks(links []Link) error {
	seen := make(map[string]bool, len(links))
	for i, l := range links {
		if err := checkLink(fmt.Sprintf("links[%d].", i), l); err != nil {
			return err
		}
		if seen[l.Rel] {
			return invalid(fmt.Sprintf("links[%d].rel", i), -1, "%s is used twice; a rel is unique within an event", quoteShort(l.Rel))
		}
		seen[l.Rel] = true
	}
	return nil
}

func checkLink(prefix string, l Link) error {
	if strings.TrimSpace(l.Rel) == "" {
		return invalid(prefix+"rel", -1, "is required: the link's relationship, such as \"github\"")
	}
	if strings.TrimSpace(l.Href) == "" {
		return invalid(prefix+"href", -1, "is required: the link's URL")
	}
	return nil
}

// CreateEvent adds event e to stream (creating the stream if it is new)
// and returns the event as stored. A missing title or an incomplete link is
// a *ValidationError and nothing is sent. It is a POST and is not retried,
// so a network failure may leave the event created.
func (s *AnnotationsService) CreateEvent(ctx context.Context, stream string, e *AnnotationEvent) (*AnnotationEvent, error) {
	var out AnnotationEvent
	res, err := s.client.call(ctx, &request{ep: epAnnotationsCreateEvent, params: []string{stream}, body: eventCreate{AnnotationEvent: e}, out: &out})
	if err != nil {
		return nil, err
	}
	if out.ID == 0 {
		out.ID = idFromLocation(res.location)
	}
	return &out, nil
}

// GetEvent returns event id of stream; a missing one is an *APIError
// matching ErrNotFound.
func (s *AnnotationsService) GetEvent(ctx context.Context, stream string, id int64) (*AnnotationEvent, error) {
	return callInto[AnnotationEvent](ctx, s.client, &request{ep: epAnnotationsGetEvent, params: []string{stream, idParam(id)}})
}

// AnnotationEventUpdate changes an event (PUT
// /v1/annotations/:name/:id): a nil field is not sent and the server keeps
// it.
type AnnotationEventUpdate struct {
	Title       *string // may not be blank
	Description *string
	// EndTime sets the end of the event in epoch seconds; Ptr(int64(0))
	// sends null, making the event a point again.
	EndTime *int64
	// Links, when non-nil (even empty), is sent; the reference does not
	// say whether the server replaces the event's links or adds to them.
	Links []Link
}

func (u *AnnotationEventUpdate) validate() error {
	if u == nil || (u.Title == nil && u.Description == nil && u.EndTime == nil && u.Links == nil) {
		return invalid("event", -1, "nothing to update: set Title, Description, EndTime or Links")
	}
	if u.Title != nil && strings.TrimSpace(*u.Title) == "" {
		return invalid("title", -1, "may not be blank")
	}
	return checkLinks(u.Links)
}

// MarshalJSON writes only the fields set, and a zero EndTime as null.
func (u AnnotationEventUpdate) MarshalJSON() ([]byte, error) {
	w := struct {
		Title       *string         `json:"title,omitempty"`
		Description *string         `json:"description,omitempty"`
		EndTime     json.RawMessage `json:"end_time,omitempty"`
		Links       []Link          `json:"links,omitzero"`
	}{Title: u.Title, Description: u.Description, Links: u.Links}
	if u.EndTime != nil {
		w.EndTime = json.RawMessage("null")
		if *u.EndTime != 0 {
			w.EndTime = strconv.AppendInt(nil, *u.EndTime, 10)
		}
	}
	return json.Marshal(w)
}

// UpdateEvent changes the fields u sets on event id of stream. An empty
// update, a blank title or an incomplete link is a *ValidationError and
// nothing is sent.
func (s *AnnotationsService) UpdateEvent(ctx context.Context, stream string, id int64, u *AnnotationEventUpdate) error {
	_, err := s.client.call(ctx, &request{ep: epAnnotationsUpdateEvent, params: []string{stream, idParam(id)}, body: u})
	return err
}

// DeleteEvent deletes event id of stream.
func (s *AnnotationsService) DeleteEvent(ctx context.Context, stream string, id int64) error {
	_, err := s.client.call(ctx, &request{ep: epAnnotationsDeleteEvent, params: []string{stream, idParam(id)}})
	return err
}

// linkBody is the body of AddLink: a Link with the API's rules.
type linkBody struct{ *Link }

func (l linkBody) validate() error {
	if l.Link == nil {
		return invalid("link", -1, "is nil; pass the link to add")
	}
	return checkLink("", *l.Link)
}

// AddLink adds link to event id of stream and returns it as stored. Rel
// and Href are required (a nil link, or one without them, is a
// *ValidationError and nothing is sent); a rel the event already has is
// refused by the server.
func (s *AnnotationsService) AddLink(ctx context.Context, stream string, id int64, link *Link) (*Link, error) {
	var out Link
	if _, err := s.client.call(ctx, &request{ep: epAnnotationsAddLink, params: []string{stream, idParam(id)}, body: linkBody{link}, out: &out}); err != nil {
		return nil, err
	}
	if out.Rel == "" && out.Href == "" {
		out = *link // the server sent no body
	}
	return &out, nil
}

// DeleteLink removes the link with relationship rel from event id of
// stream.
func (s *AnnotationsService) DeleteLink(ctx context.Context, stream string, id int64, rel string) error {
	_, err := s.client.call(ctx, &request{ep: epAnnotationsDeleteLink, params: []string{stream, idParam(id), rel}})
	return err
}
