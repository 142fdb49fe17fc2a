package librato

import (
	"context"
	"encoding/json"
	"fmt"
	"iter"
	"net/url"
	"strconv"
	"strings"
)

// AlertsService manages alerts, their status and their notification services.
type AlertsService service

var (
	epAlertsList          = newEndpoint("GET", "/v1/alerts")
	epAlertsCreate        = newEndpoint("POST", "/v1/alerts")
	epAlertsGet           = newEndpoint("GET", "/v1/alerts/:id")
	epAlertsUpdate        = newEndpoint("PUT", "/v1/alerts/:id")
	epAlertsDelete        = newEndpoint("DELETE", "/v1/alerts/:id")
	epAlertsStatus        = newEndpoint("GET", "/v1/alerts/:id/status")
	epAlertsStatusAll     = newEndpoint("GET", "/v1/alerts/status")
	epAlertsClear         = newEndpoint("POST", "/v1/alerts/:id/clear")
	epAlertsAddService    = newEndpoint("POST", "/v1/alerts/:id/services")
	epAlertsRemoveService = newEndpoint("DELETE", "/v1/alerts/:id/services/:service_id")
)

// Alert condition types.
const (
	AlertConditionAbove  = "above"  // fires on values over Threshold
	AlertConditionBelow  = "below"  // fires on values under Threshold
	AlertConditionAbsent = "absent" // fires when no data arrived for Duration seconds
)

// Values of AlertStatus.Status.
const (
	AlertTriggered = "triggered"
	AlertOK        = "ok"
)

// Limits the API documents for alerts; Alert.Validate checks them.
const (
	MaxAlertNameLength  = 255
	MinAlertDuration    = 60   // seconds, for a condition's Duration
	MaxAlertDuration    = 3600 // seconds, for a condition's Duration
	DefaultRearmSeconds = 600  // what the server uses when RearmSeconds is unset
)

// Alert is an alert (data model v2 unless Version says 1), as the API
// returns it and as Create sends it; pointer fields are left out of a
// request when nil, so the server's default applies. AlertUpdate changes
// one.
type Alert struct {
	ID   int64  `json:"id,omitempty"` // set by the server; never sent
	Name string `json:"name"`         // unique; 1 to 255 of A-Z a-z 0-9 . : - _
	// Version is 2 (current) or 1 (legacy); 0 sends none, so the server
	// uses 2. It is sent as a number, as responses carry it.
	Version int `json:"version,omitempty"`
	// Conditions must all hold for the alert to fire; at least one.
	Conditions []AlertCondition `json:"conditions,omitempty"`
	// Services to notify. Requests send only their IDs (see
	// AlertServiceIDs); responses carry the full service objects.
	Services []Service `json:"services,omitempty"`
	// Attributes is free metadata; the key "runbook_url" is shown in the
	// UI (see RunbookURL).
	Attributes   map[string]any `json:"attributes,omitempty"`
	Description  *string        `json:"description,omitempty"`
	Active       *bool          `json:"active,omitempty"`        // nil: true on create
	RearmSeconds *int           `json:"rearm_seconds,omitempty"` // nil: DefaultRearmSeconds; a multiple of 60
	// RearmPerSignal and MD are undocumented flags the API's examples
	// carry; they are sent back only when set.
	RearmPerSignal *bool `json:"rearm_per_signal,omitempty"`
	MD             *bool `json:"md,omitempty"`
	CreatedAt      int64 `json:"created_at,omitempty"` // epoch seconds, set by the server
	UpdatedAt      int64 `json:"updated_at,omitempty"` // epoch seconds, set by the server
}

// AlertCondition is one condition of an alert. Threshold is required for
// above and below; Duration is required for absent.
type AlertCondition struct {
	ID         int64               `json:"id,omitempty"` // set by the server; send it back on update
	Type       string              `json:"type"`         // one of the AlertCondition constants
	MetricName string              `json:"metric_name"`
	Tags       []AlertConditionTag `json:"tags,omitempty"`
	// DetectReset matters only with SummaryFunction "derivative": true
	// treats a drop as a counter reset (a derivative of 0), false takes the
	// plain difference. nil leaves it out, for the server's default, true;
	// Ptr(false) sends false.
	DetectReset *bool `json:"detect_reset,omitempty"`
	// Threshold is a pointer because 0 is a valid threshold.
	Threshold *float64 `json:"threshold,omitempty"`
	// SummaryFunction is min, max, average, sum, count or derivative
	// (absolute_value for legacy counters); empty means the server's
	// default, average for gauges.
	SummaryFunction string `json:"summary_function,omitempty"`
	// Duration in seconds, 60 to 3600: how long every point must break the
	// threshold (0 means a single point is enough), or how long data must
	// be missing for absent.
	Duration int `json:"duration,omitempty"`
	// Source is a legacy field; the server returns it as null for
	// tag-based alerts.
	Source *string `json:"source,omitempty"`
}

// AlertConditionTag restricts a condition to the streams whose tag Name
// matches one of Values ('*' is a wildcard). Grouped judges all matching
// streams as one; otherwise each stream is judged on its own.
type AlertConditionTag struct {
	Name    string   `json:"name"`
	Grouped bool     `json:"grouped"`
	Values  []string `json:"values"`
}

// AlertServiceIDs builds the Services of an alert to create or update from
// service IDs.
func AlertServiceIDs(ids ...int64) []Service {
	out := make([]Service, len(ids))
	for i, id := range ids {
		out[i].ID = id
	}
	return out
}

// ServiceIDs returns the IDs of the alert's services.
func (a *Alert) ServiceIDs() []int64 {
	ids := make([]int64, len(a.Services))
	for i, s := range a.Services {
		ids[i] = s.ID
	}
	return ids
}

// RunbookURL returns the "runbook_url" attribute, or "" if it is unset or
// not a string.
func (a *Alert) RunbookURL() string {
	u, _ := a.Attributes["runbook_url"].(string)
	return u
}

// SetRunbookURL sets the "runbook_url" attribute; "" removes it, so an
// AlertUpdate that sends these Attributes unsets it on the server.
func (a *Alert) SetRunbookURL(u string) {
	if u == "" {
		delete(a.Attributes, "runbook_url")
		return
	}
	if a.Attributes == nil {
		a.Attributes = make(map[string]any, 1)
	}
	a.Attributes["runbook_url"] = u
}

// Validate reports, as a *ValidationError, the first rule of the API the
// alert breaks: name, version, conditions (at least one), services and
// rearm_seconds. Create runs it before sending.
func (a *Alert) Validate() error {
	if a == nil {
		return invalid("alert", -1, "is nil; pass the alert to send")
	}
	return a.asUpdate().validate()
}

// asUpdate is the alert's create fields in the shape the API takes, which
// is the shape of an update that sets every field: the name always,
// services as ids, server-set fields never.
func (a *Alert) asUpdate() *AlertUpdate {
	u := &AlertUpdate{
		Name:           &a.Name,
		Conditions:     a.Conditions,
		Attributes:     a.Attributes,
		Description:    a.Description,
		Active:         a.Active,
		RearmSeconds:   a.RearmSeconds,
		RearmPerSignal: a.RearmPerSignal,
		MD:             a.MD,
	}
	if a.Version != 0 {
		u.Version = &a.Version
	}
	if a.Services != nil {
		u.Services = a.ServiceIDs()
	}
	return u
}

// AlertUpdate changes an alert (PUT /v1/alerts/:id). A nil pointer, slice
// or map is not sent and the server keeps what it has, except Conditions,
// which is required: the API deletes every condition an update leaves out.
type AlertUpdate struct {
	Name    *string `json:"name,omitempty"`
	Version *int    `json:"version,omitempty"` // 1 or 2
	// Conditions replaces every condition of the alert, so it must hold
	// all of them (send a kept condition back with its ID); nil or empty
	// is a *ValidationError rather than an alert left without conditions.
	Conditions []AlertCondition `json:"conditions"`
	// Services replaces the services the alert notifies; an empty,
	// non-nil slice detaches them all.
	Services []int64 `json:"services,omitzero"`
	// Attributes replaces the alert's attributes: a key left out is
	// removed; an empty, non-nil map removes them all.
	Attributes     map[string]any `json:"attributes,omitzero"`
	Description    *string        `json:"description,omitempty"`
	Active         *bool          `json:"active,omitempty"`
	RearmSeconds   *int           `json:"rearm_seconds,omitempty"` // a multiple of 60
	RearmPerSignal *bool          `json:"rearm_per_signal,omitempty"`
	MD             *bool          `json:"md,omitempty"`
}

func (u *AlertUpdate) validate() error {
	if u == nil {
		return invalid("alert", -1, "is nil: an update needs at least the alert's conditions, which it replaces")
	}
	if u.Name != nil {
		if err := checkAlertName(*u.Name); err != nil {
			return err
		}
	}
	if v := u.Version; v != nil && *v != 1 && *v != 2 {
		return invalid("version", -1, "%d is not 1 or 2", *v)
	}
	if len(u.Conditions) == 0 {
		return invalid("conditions", -1, "is empty: an alert needs at least one condition, and an update without "+
			"conditions would delete them all; send the full list (start from the alert Get returns)")
	}
	for i := range u.Conditions {
		if err := u.Conditions[i].check(i); err != nil {
			return err
		}
	}
	for i, id := range u.Services {
		if id <= 0 {
			return invalid(fmt.Sprintf("services[%d]", i), -1, "has no service id; use the id of an existing service")
		}
	}
	if r := u.RearmSeconds; r != nil && (*r < 0 || *r%60 != 0) {
		return invalid("rearm_seconds", -1, "%d is not a non-negative multiple of 60", *r)
	}
	return nil
}

// checkAlertName applies the metric-name rule: the reference's alert
// charset omits '_', but its own example name uses it, so '_' is accepted.
func checkAlertName(name string) error {
	switch {
	case strings.TrimSpace(name) == "":
		return invalid("name", -1, "is required")
	case len(name) > MaxAlertNameLength:
		return invalid("name", -1, "has %d characters; the limit is %d", len(name), MaxAlertNameLength)
	case !ValidMetricName(name):
		return invalid("name", -1, "%s has characters outside A-Z a-z 0-9 . : - _", quoteShort(name))
	}
	return nil
}

func (c *AlertCondition) check(i int) error {
	field := func(name string) string { return fmt.Sprintf("conditions[%d].%s", i, name) }
	if !oneOf(c.Type, AlertConditionAbove, AlertConditionBelow, AlertConditionAbsent) {
		return invalid(field("type"), -1, "%q is not above, below or absent", c.Type)
	}
	if err := checkMetricName(field("metric_name"), -1, c.MetricName); err != nil {
		return err
	}
	if c.Threshold == nil {
		if c.Type != AlertConditionAbsent {
			return invalid(field("threshold"), -1, "is required for a %s condition", c.Type)
		}
	} else if err := checkFloat(field("threshold"), -1, *c.Threshold); err != nil {
		return err
	}
	switch {
	case c.Duration == 0 && c.Type == AlertConditionAbsent:
		return invalid(field("duration"), -1, "is required for an absent condition: %d to %d seconds", MinAlertDuration, MaxAlertDuration)
	case c.Duration != 0 && (c.Duration < MinAlertDuration || c.Duration > MaxAlertDuration):
		return invalid(field("duration"), -1, "%d is not between %d and %d seconds", c.Duration, MinAlertDuration, MaxAlertDuration)
	}
	if c.SummaryFunction != "" && !oneOf(c.SummaryFunction, "min", "max", "average", "sum", "count", "derivative", "absolute_value") {
		return invalid(field("summary_function"), -1, "%q is not one of min, max, average, sum, count, derivative", c.SummaryFunction)
	}
	for j, t := range c.Tags {
		if !ValidTagName(t.Name) {
			return invalid(fmt.Sprintf("conditions[%d].tags[%d].name", i, j), -1,
				"%s must be 1 to %d characters from A-Z a-z 0-9 . : - _", quoteShort(t.Name), MaxTagNameLength)
		}
		for _, v := range t.Values {
			if v == "" {
				return invalid(fmt.Sprintf("conditions[%d].tags[%d].values", i, j), -1, "holds an empty value; use '*' to match any")
			}
		}
	}
	return nil
}

// alertRequest is the body of Create: the alert in the shape the API
// takes, with services as IDs and server-set fields left out.
type alertRequest struct{ a *Alert }

func (r alertRequest) validate() error { return r.a.Validate() }

func (r alertRequest) MarshalJSON() ([]byte, error) { return json.Marshal(r.a.asUpdate()) }

// AlertListOptions filters and pages GET /v1/alerts.
type AlertListOptions struct {
	ListOptions
	Version int // 1 or 2; 0 leaves the server's default, 2
}

func (o *AlertListOptions) validate() error {
	if o == nil {
		return nil
	}
	if o.Version != 0 && o.Version != 1 && o.Version != 2 {
		return invalid("version", -1, "%d is not 1 or 2", o.Version)
	}
	return listOf{&o.ListOptions, []string{"updated_at"}, true}.validate()
}

func (o *AlertListOptions) encode(q url.Values) {
	if o == nil {
		return
	}
	o.ListOptions.encode(q)
	if o.Version != 0 {
		q.Set("version", strconv.Itoa(o.Version))
	}
}

// AlertPage is one page of GET /v1/alerts.
type AlertPage struct {
	Query  Query   `json:"query"`
	Alerts []Alert `json:"alerts"`
}

func (l *AlertPage) page() ([]Alert, Query) { return l.Alerts, l.Query }

// List returns one page of alerts. An unknown version or order is a
// *ValidationError; nothing is sent then.
func (s *AlertsService) List(ctx context.Context, opts *AlertListOptions) (*AlertPage, error) {
	return callInto[AlertPage](ctx, s.client, &request{ep: epAlertsList, opts: opts})
}

// All yields every alert matching opts, page after page; an error is
// yielded once and ends the sequence.
func (s *AlertsService) All(ctx context.Context, opts *AlertListOptions) iter.Seq2[Alert, error] {
	return allPages[Alert](ctx, opts, s.List)
}

// Get returns alert id. There is no lookup by name: use List with Name. A
// missing alert is an *APIError matching ErrNotFound.
func (s *AlertsService) Get(ctx context.Context, id int64) (*Alert, error) {
	return callInto[Alert](ctx, s.client, &request{ep: epAlertsGet, params: []string{idParam(id)}})
}

// Create creates alert a and returns it as the server stored it, services
// as full objects. An alert that breaks a documented rule (see Validate)
// is a *ValidationError and nothing is sent; a duplicate name is an
// *APIError matching ErrAlreadyExists. Create is not retried.
func (s *AlertsService) Create(ctx context.Context, a *Alert) (*Alert, error) {
	var out Alert
	res, err := s.client.call(ctx, &request{ep: epAlertsCreate, body: alertRequest{a}, out: &out})
	if err != nil {
		return nil, err
	}
	if out.ID == 0 {
		out.ID = idFromLocation(res.location)
	}
	return &out, nil
}

// Update changes what u sets on alert id. u.Conditions replaces every
// condition, so an update without them is refused with a *ValidationError
// rather than wiping them, as is any other field that breaks a rule of
// Validate; nothing is sent then. A duplicate name is an *APIError
// matching ErrAlreadyExists.
func (s *AlertsService) Update(ctx context.Context, id int64, u *AlertUpdate) error {
	_, err := s.client.call(ctx, &request{ep: epAlertsUpdate, params: []string{idParam(id)}, body: u})
	return err
}

// Delete deletes alert id.
func (s *AlertsService) Delete(ctx context.Context, id int64) error {
	_, err := s.client.call(ctx, &request{ep: epAlertsDelete, params: []string{idParam(id)}})
	return err
}

// AlertRef names an alert by id.
type AlertRef struct {
	ID int64 `json:"id"`
}

// AlertStatus is the state of one alert: Status is AlertTriggered or
// AlertOK.
type AlertStatus struct {
	Alert  AlertRef `json:"alert"`
	Status string   `json:"status"`
}

// Triggered reports whether the alert is firing.
func (s *AlertStatus) Triggered() bool { return s.Status == AlertTriggered }

// Status returns whether alert id is triggered or ok.
func (s *AlertsService) Status(ctx context.Context, id int64) (*AlertStatus, error) {
	return callInto[AlertStatus](ctx, s.client, &request{ep: epAlertsStatus, params: []string{idParam(id)}})
}

// AlertsStatus lists the alerts firing now and those cleared recently.
type AlertsStatus struct {
	Firing  []FiringAlert  `json:"firing"`
	Cleared []ClearedAlert `json:"cleared"`
}

// FiringAlert is an alert that is triggered, since TriggeredAt (epoch
// seconds).
type FiringAlert struct {
	ID          int64 `json:"id"`
	TriggeredAt int64 `json:"triggered_at"`
}

// ClearedAlert is an alert that cleared recently, at ClearedAt (epoch
// seconds).
type ClearedAlert struct {
	ID        int64 `json:"id"`
	ClearedAt int64 `json:"cleared_at"`
}

// StatusAll returns which alerts are firing and which cleared recently
// (GET /v1/alerts/status).
func (s *AlertsService) StatusAll(ctx context.Context) (*AlertsStatus, error) {
	return callInto[AlertsStatus](ctx, s.client, &request{ep: epAlertsStatusAll})
}

// Clear resolves triggered alert id. It is a POST and is not retried.
func (s *AlertsService) Clear(ctx context.Context, id int64) error {
	_, err := s.client.call(ctx, &request{ep: epAlertsClear, params: []string{idParam(id)}})
	return err
}

// alertServiceBody is the body of AddService.
type alertServiceBody struct {
	Service int64 `json:"service"`
}

func (b alertServiceBody) validate() error {
	if b.Service <= 0 {
		return invalid("service", -1, "is required: the id of an existing service")
	}
	return nil
}

// AddService makes alert alertID notify service serviceID too. Zero or
// negative ids are a *ValidationError; nothing is sent then.
func (s *AlertsService) AddService(ctx context.Context, alertID, serviceID int64) error {
	_, err := s.client.call(ctx, &request{ep: epAlertsAddService, params: []string{idParam(alertID)}, body: alertServiceBody{serviceID}})
	return err
}

// RemoveService stops alert alertID notifying service serviceID; the
// service itself is kept.
func (s *AlertsService) RemoveService(ctx context.Context, alertID, serviceID int64) error {
	_, err := s.client.call(ctx, &request{ep: epAlertsRemoveService, params: []string{idParam(alertID), idParam(serviceID)}})
	return err
}
