package librato

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"iter"
)

// ServicesService manages alert notification services.
type ServicesService service

var (
	epServicesList   = newEndpoint("GET", "/v1/services")
	epServicesCreate = newEndpoint("POST", "/v1/services")
	epServicesGet    = newEndpoint("GET", "/v1/services/:id")
	epServicesUpdate = newEndpoint("PUT", "/v1/services/:id")
	epServicesDelete = newEndpoint("DELETE", "/v1/services/:id")
)

// Service is a notification target alerts can notify: a backend Type in
// lower case ("mail", "slack", "campfire", "pagerduty"...), a display
// Title, and Settings whose keys depend on the type (mail: "addresses";
// slack: "url"; campfire: "token", "room", "subdomain").
//
// Settings values are usually strings, but a type may take numbers or
// booleans, so they decode as any JSON value (numbers as float64).
type Service struct {
	ID       int64          `json:"id,omitempty"`
	Type     string         `json:"type,omitempty"`
	Title    string         `json:"title,omitempty"`
	Settings map[string]any `json:"settings,omitempty"`
	// Name is how the legacy reference's alert answers name the backend
	// ("slack"), where current answers send Type and Settings; it is read,
	// never sent.
	Name string `json:"name,omitempty"`
}

// UnmarshalJSON accepts a service object whose id is a number or, as
// /v1/services sends it, a string of digits; and, as alert requests carry
// services, a bare id.
func (s *Service) UnmarshalJSON(data []byte) error {
	data = bytes.TrimSpace(data)
	if string(data) == "null" {
		return nil
	}
	if len(data) == 0 || data[0] != '{' {
		var id lenientInt
		if err := id.UnmarshalJSON(data); err != nil {
			return fmt.Errorf("librato: service id: %w", err)
		}
		*s = Service{ID: int64(id)}
		return nil
	}
	type plain Service
	aux := struct {
		*plain
		ID lenientInt `json:"id"`
	}{plain: (*plain)(s), ID: lenientInt(s.ID)}
	if err := json.Unmarshal(data, &aux); err != nil {
		return err
	}
	s.ID = int64(aux.ID)
	return nil
}

// serviceBody is what create and update send: never the id.
type serviceBody struct {
	Type     string         `json:"type,omitempty"`
	Title    string         `json:"title,omitempty"`
	Settings map[string]any `json:"settings,omitempty"`
	create   bool
}

func newServiceBody(sv *Service, create bool) *serviceBody {
	b := &serviceBody{create: create}
	if sv != nil {
		b.Type, b.Title, b.Settings = sv.Type, sv.Title, sv.Settings
	}
	return b
}

func (b *serviceBody) validate() error {
	if b.create {
		if err := checkRequired("title", b.Title); err != nil {
			return err
		}
		return checkRequired("type", b.Type)
	}
	if b.Type == "" && b.Title == "" && b.Settings == nil {
		return invalid("service", -1, "sets no field; nothing to update")
	}
	return nil
}

// ServicePage is one page of GET /v1/services.
type ServicePage struct {
	Query    Query     `json:"query"`
	Services []Service `json:"services"`
}

func (l *ServicePage) page() ([]Service, Query) { return l.Services, l.Query }

// List returns one page of services. The API orders them by "title" by
// default and also allows "updated_at".
func (s *ServicesService) List(ctx context.Context, opts *ListOptions) (*ServicePage, error) {
	return callInto[ServicePage](ctx, s.client, &request{ep: epServicesList, opts: listOf{opts, []string{"title", "updated_at"}, false}})
}

// All yields every service from opts.Offset on, page after page; an error
// ends the sequence.
func (s *ServicesService) All(ctx context.Context, opts *ListOptions) iter.Seq2[Service, error] {
	return allPages[Service](ctx, opts, s.List)
}

// Get returns service id; a missing one is an *APIError matching
// ErrNotFound.
func (s *ServicesService) Get(ctx context.Context, id int64) (*Service, error) {
	return callInto[Service](ctx, s.client, &request{ep: epServicesGet, params: []string{idParam(id)}})
}

// Create makes a service from sv's Title and Type (both required) and
// Settings, and returns it with its id. It notifies nothing until attached
// to an alert.
func (s *ServicesService) Create(ctx context.Context, sv *Service) (*Service, error) {
	body := newServiceBody(sv, true)
	var out Service
	res, err := s.client.call(ctx, &request{ep: epServicesCreate, body: body, out: &out})
	if err != nil {
		return nil, err
	}
	if out.ID == 0 {
		out.ID = idFromLocation(res.location)
	}
	return &out, nil
}

// Update changes the fields sv sets (Type, Title, Settings) on service id;
// empty ones are not sent, and sv.ID is ignored. Settings, when set, is
// sent whole. A Service that sets nothing is a *ValidationError.
func (s *ServicesService) Update(ctx context.Context, id int64, sv *Service) error {
	_, err := s.client.call(ctx, &request{ep: epServicesUpdate, params: []string{idParam(id)}, body: newServiceBody(sv, false)})
	return err
}

// Delete deletes service id and detaches it from every alert that used it.
func (s *ServicesService) Delete(ctx context.Context, id int64) error {
	_, err := s.client.call(ctx, &request{ep: epServicesDelete, params: []string{idParam(id)}})
	return err
}
