package mock

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"slices"

	librato "github.com/librato-sdk/librato-go"
	"github.com/librato-sdk/librato-go/mock/internal/api"
)

// Seed is the initial content of an account: WithSeed's at start (the
// state Reset returns to), Account.Apply's or POST /mock/seed's later,
// the librato-mock command's -seed file through LoadSeedFile. Every
// object is the body of the API request that creates it and goes through
// the same validation; in Go, numbers may be json.Number, float64, int or
// int64. As JSON, every section is optional and an unknown one is an
// error:
//
//	{
//	  "tokens":       [{"name": "ci", "role": "viewer", "token": "fixed-secret"}],
//	  "metrics":      [{"name": "cpu", "type": "gauge", "period": 60,
//	                    "attributes": {"display_units_short": "%"}}],
//	  "measurements": [{"name": "cpu", "value": 42, "time": -60, "tags": {"host": "web1"}}],
//	  "services":     [{"title": "Ops mail", "type": "mail",
//	                    "settings": {"addresses": "ops@example.com"}}],
//	  "spaces":       [{"name": "Ops", "charts": [{"name": "CPU", "type": "line",
//	                    "streams": [{"metric": "cpu"}]}]}],
//	  "alerts":       [{"name": "cpu.high", "services": ["Ops mail"], "firing": false,
//	                    "conditions": [{"type": "above", "metric_name": "cpu", "threshold": 90}]}],
//	  "annotations":  [{"name": "deploys", "display_name": "Deploys",
//	                    "events": [{"title": "v1.2", "start_time": -3600}]}]
//	}
type Seed struct {
	// Tokens are API tokens to create, with a fixed secret if Token is set.
	Tokens []SeedToken `json:"tokens,omitempty"`
	// Metrics are PUT /v1/metrics/:name bodies with the "name" added.
	Metrics []map[string]any `json:"metrics,omitempty"`
	// Measurements are measurements as in a POST /v1/measurements body; a
	// time of 0 or less is relative to the server's start (-60 is a minute
	// earlier), so a seed stays queryable with a duration.
	Measurements []map[string]any `json:"measurements,omitempty"`
	// Services are POST /v1/services bodies.
	Services []map[string]any `json:"services,omitempty"`
	// Spaces are POST /v1/spaces bodies with an optional "charts" list of
	// POST /v1/spaces/:id/charts bodies.
	Spaces []map[string]any `json:"spaces,omitempty"`
	// Alerts are POST /v1/alerts bodies; "services" may name seeded
	// services by title instead of id.
	Alerts []map[string]any `json:"alerts,omitempty"`
	// Annotations are streams: "name", an optional "display_name" and an
	// "events" list of POST /v1/annotations/:name bodies (start_time 0 or
	// less is relative, as for measurements).
	Annotations []map[string]any `json:"annotations,omitempty"`
}

// SeedToken is an API token a seed creates.
type SeedToken struct {
	Name  string       `json:"name"`            // required, like the API's
	Role  librato.Role `json:"role"`            // admin, recorder or viewer
	Token string       `json:"token,omitempty"` // the secret; generated when empty
}

// LoadSeed reads a seed from JSON; unknown top-level fields are an error,
// so a misspelt section is not silently ignored.
func LoadSeed(r io.Reader) (*Seed, error) {
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, fmt.Errorf("mock: reading the seed: %w", err)
	}
	if rep := api.CheckJSONText(data); rep != nil {
		return nil, fmt.Errorf("mock: reading the seed: %s", api.Describe(rep))
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	dec.DisallowUnknownFields()
	var s Seed
	if err := dec.Decode(&s); err != nil {
		return nil, fmt.Errorf("mock: reading the seed: %w", err)
	}
	return &s, nil
}

// LoadSeedFile reads a seed from a JSON file.
func LoadSeedFile(path string) (*Seed, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("mock: reading the seed: %w", err)
	}
	return LoadSeed(bytes.NewReader(data))
}

// Apply adds the seed's objects to the account (POST /mock/seed),
// stopping at the first invalid one; objects before it stay. Reset does
// not apply it again: only WithSeed's seed is part of the starting state.
func (a *Account) Apply(s *Seed) error {
	if s == nil {
		return nil
	}
	return s.clone().applyTo(a.st)
}

// clone copies the seed's lists, so that applyTo can fill in the secrets
// it generates without touching the caller's seed.
func (s *Seed) clone() *Seed {
	c := *s
	c.Tokens = slices.Clone(s.Tokens)
	return &c
}

// applyTo adds the seed's objects to a; it fills in the secrets it
// generates for tokens without one, so that Reset recreates the same
// tokens.
func (s *Seed) applyTo(a *api.Account) error {
	in := &api.SeedIn{Metrics: s.Metrics, Measurements: s.Measurements, Services: s.Services,
		Spaces: s.Spaces, Alerts: s.Alerts, Annotations: s.Annotations}
	for _, t := range s.Tokens {
		in.Tokens = append(in.Tokens, api.SeedToken(t))
	}
	err := a.Apply(in)
	for i := range in.Tokens {
		s.Tokens[i].Token = in.Tokens[i].Token
	}
	return err
}
