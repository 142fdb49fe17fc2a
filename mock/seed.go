package mock

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	librato "github.com/librato-sdk/librato-go"
)

// Seed is the initial content of an account; see the package
// documentation for its JSON form. Every object is an API request body
// and goes through the same validation as a request would. Numbers may be
// json.Number, float64, int or int64.
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
	if rep := checkJSONText(data); rep != nil {
		return nil, fmt.Errorf("mock: reading the seed: %s", describe(rep))
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
	return a.apply(s.clone())
}

// clone copies the seed's lists, so that apply can fill in the secrets it
// generates without touching the caller's seed.
func (s *Seed) clone() *Seed {
	c := *s
	c.Tokens = slices.Clone(s.Tokens)
	return &c
}

// apply adds the seed's objects; it fills in the secrets it generates for
// tokens without one, so that Reset recreates the same tokens.
func (a *Account) apply(s *Seed) error {
	if s == nil {
		return nil
	}
	now := time.Now()
	a.mu.Lock()
	defer a.mu.Unlock()
	for i, t := range s.Tokens {
		if !t.Role.Valid() {
			return fmt.Errorf("tokens[%d]: role %q is not admin, recorder or viewer", i, t.Role)
		}
		if strings.TrimSpace(t.Name) == "" {
			return fmt.Errorf("tokens[%d]: name is required", i)
		}
		if !utf8.ValidString(t.Name) || !utf8.ValidString(t.Token) {
			return fmt.Errorf("tokens[%d]: name and token must be valid UTF-8", i)
		}
		if t.Token != "" && (strings.ContainsAny(t.Token, " \t\r\n") || a.bySecret[t.Token] != nil || t.Token == a.srv.cfg.controlToken) {
			return fmt.Errorf("tokens[%d]: token must be unique, without spaces, and not the control token", i)
		}
		s.Tokens[i].Token = a.addToken(t.Name, t.Role, t.Token, now).secret
	}
	run := func(what string, h handler, params []string, body map[string]any) (*reply, error) {
		if rep := checkTreeUTF8(body); rep != nil {
			return rep, fmt.Errorf("%s: %s", what, describe(rep))
		}
		for i, p := range params {
			if !utf8.ValidString(p) {
				return nil, fmt.Errorf("%s: name %q (parameter %d) is not valid UTF-8", what, p, i)
			}
		}
		c := a.seedCall(now, params, body)
		rep := h(c)
		if rep == nil || rep.status >= 300 {
			return rep, fmt.Errorf("%s: %s", what, describe(rep))
		}
		return rep, nil
	}
	for i, m := range s.Metrics {
		name, _ := m["name"].(string)
		if _, err := run(fmt.Sprintf("metrics[%d]", i), (*call).metricsPut, []string{name}, m); err != nil {
			return err
		}
	}
	if len(s.Measurements) > 0 {
		list := make([]any, len(s.Measurements))
		for i, m := range s.Measurements {
			list[i] = relative(m, "time", now)
		}
		if _, err := run("measurements", (*call).measurementsCreate, nil, map[string]any{"measurements": list}); err != nil {
			return err
		}
	}
	titles := map[string]int64{}
	for i, sv := range s.Services {
		rep, err := run(fmt.Sprintf("services[%d]", i), (*call).servicesCreate, nil, sv)
		if err != nil {
			return err
		}
		sj := rep.body.(serviceJSON)
		id, _ := strconv.ParseInt(sj.ID, 10, 64)
		titles[sj.Title] = id
	}
	for i, sp := range s.Spaces {
		body := map[string]any{}
		for k, v := range sp {
			if k != "charts" {
				body[k] = v
			}
		}
		rep, err := run(fmt.Sprintf("spaces[%d]", i), (*call).spacesCreate, nil, body)
		if err != nil {
			return err
		}
		id := strconv.FormatInt(rep.body.(spaceJSON).ID, 10)
		charts, _ := sp["charts"].([]any)
		for j, ch := range charts {
			cm, ok := ch.(map[string]any)
			if !ok {
				return fmt.Errorf("spaces[%d].charts[%d]: not an object", i, j)
			}
			if _, err := run(fmt.Sprintf("spaces[%d].charts[%d]", i, j), (*call).chartsCreate, []string{id}, cm); err != nil {
				return err
			}
		}
	}
	for i, al := range s.Alerts {
		body := map[string]any{}
		for k, v := range al {
			body[k] = v
		}
		if list, ok := al["services"].([]any); ok {
			ids := make([]any, len(list))
			for j, v := range list {
				ids[j] = v
				if t, isStr := v.(string); isStr {
					if id, ok := titles[t]; ok {
						ids[j] = id
					}
				}
			}
			body["services"] = ids
		}
		if _, err := run(fmt.Sprintf("alerts[%d]", i), (*call).alertsCreate, nil, body); err != nil {
			return err
		}
		if firing, _ := al["firing"].(bool); firing {
			for _, x := range a.alerts {
				if x.name == body["name"] {
					x.triggeredAt = now.Unix()
				}
			}
		}
	}
	for i, an := range s.Annotations {
		name, _ := an["name"].(string)
		events, _ := an["events"].([]any)
		if len(events) == 0 {
			return fmt.Errorf("annotations[%d]: a stream needs at least one event", i)
		}
		for j, ev := range events {
			em, ok := ev.(map[string]any)
			if !ok {
				return fmt.Errorf("annotations[%d].events[%d]: not an object", i, j)
			}
			em = relative(em, "start_time", now)
			if _, err := run(fmt.Sprintf("annotations[%d].events[%d]", i, j), (*call).annotationsCreateEvent, []string{name}, em); err != nil {
				return err
			}
		}
		if dn, ok := an["display_name"]; ok {
			if _, err := run(fmt.Sprintf("annotations[%d]", i), (*call).annotationsUpdateStream, []string{name}, map[string]any{"display_name": dn}); err != nil {
				return err
			}
		}
	}
	return nil
}

// relative returns m with field k made absolute when it is 0 or less.
func relative(m map[string]any, k string, now time.Time) map[string]any {
	v, ok := m[k]
	if !ok {
		return m
	}
	n, ok := integer(v)
	if !ok || n > 0 {
		return m
	}
	out := make(map[string]any, len(m))
	for key, val := range m {
		out[key] = val
	}
	out[k] = now.Unix() + n
	return out
}

// seedCall is a call made by the seed loader, as a Full Access token would.
func (a *Account) seedCall(now time.Time, params []string, body map[string]any) *call {
	r := &http.Request{
		Method: http.MethodPost,
		URL:    &url.URL{Path: "/"},
		Header: http.Header{"User-Agent": {"librato-mock seed"}},
		Host:   "seed.invalid",
	}
	return &call{s: a.srv, a: a, r: r, p: params, q: url.Values{}, body: body, now: now}
}

// describe renders an error reply for a seed error.
func describe(r *reply) string {
	if r == nil {
		return "no answer"
	}
	eb, ok := r.body.(errorBody)
	if !ok {
		return "status " + strconv.Itoa(r.status)
	}
	var parts []string
	for _, k := range sortedKeys(eb.Errors.Params) {
		parts = append(parts, k+" "+strings.Join(eb.Errors.Params[k], ", "))
	}
	parts = append(parts, eb.Errors.Request...)
	parts = append(parts, eb.Errors.System...)
	if len(parts) == 0 {
		return "status " + strconv.Itoa(r.status)
	}
	return strings.Join(parts, "; ")
}
