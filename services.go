package librato

import (
	"bytes"
	"context"
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

// UnmarshalJSON reads a service object or, as alert requests carry
// services, a bare id. Both go through the lenient decode every answer
// gets, so this works for a caller's own json.Unmarshal too, with ids
// written as strings as /v1/services writes them.
func (s *Service) UnmarshalJSON(data []byte) error {
	data = bytes.TrimSpace(data)
	if string(data) == "null" {
		return nil
	}
	if len(data) == 0 || data[0] != '{' {
		var id int64
		if err := decodeJSON(data, &id); err != nil {
			return fmt.Errorf("librato: service id: %w", err)
		}
		*s = Service{ID: id}
		return nil
	}
	type plain Service
	return decodeJSON(data, (*plain)(s))
}

// serviceCreate is what Create sends: never the id.
type serviceCreate struct {
	Type     string         `json:"type"`
	Title    string         `json:"title"`
	Settings map[string]any `json:"settings,omitempty"`
}

func (b *serviceCreate) validate() error {
	if err := checkRequired("title", b.Title); err != nil {
		return err
	}
	return checkRequired("type", b.Type)
}

// ServiceUpdate changes a service (PUT /v1/services/:id): a nil field is
// not sent and the server keeps it.
type ServiceUpdate struct {
	Type  *string `json:"type,omitempty"`  // the backend, such as "mail"; not blank
	Title *string `json:"title,omitempty"` // not blank
	// Settings replaces the service's settings as a whole: a key left out
	// is removed.
	Settings map[string]any `json:"settings,omitzero"`
}

func (u *ServiceUpdate) validate() error {
	if u == nil || (u.Type == nil && u.Title == nil && u.Settings == nil) {
		return invalid("service", -1, "sets no field; nothing to update")
	}
	if u.Title != nil {
		if err := checkRequired("title", *u.Title); err != nil {
			return err
		}
	}
	if u.Type != nil {
		return checkRequired("type", *u.Type)
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

// Create makes a service from sv's Title and Type (both required, a
// *ValidationError otherwise) and Settings, and returns it with its id. It
// notifies nothing until attached to an alert.
func (s *ServicesService) Create(ctx context.Context, sv *Service) (*Service, error) {
	body := &serviceCreate{}
	if sv != nil {
		body.Type, body.Title, body.Settings = sv.Type, sv.Title, sv.Settings
	}
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

// Update changes the fields u sets on service id. An update that sets
// nothing, or sets a blank title or type, is a *ValidationError and
// nothing is sent; a missing service is an *APIError matching ErrNotFound.
func (s *ServicesService) Update(ctx context.Context, id int64, u *ServiceUpdate) error {
	_, err := s.client.call(ctx, &request{ep: epServicesUpdate, params: []string{idParam(id)}, body: u})
	return err
}

// Delete deletes service id and detaches it from every alert that used it.
func (s *ServicesService) Delete(ctx context.Context, id int64) error {
	_, err := s.client.call(ctx, &request{ep: epServicesDelete, params: []string{idParam(id)}})
	return err
}
