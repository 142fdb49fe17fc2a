package api

import (
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	librato "github.com/librato-sdk/librato-go"
)

// SeedIn is a seed as the harness hands it over (mock.Seed): every
// object is the body of the API request that creates it.
type SeedIn struct {
	Tokens       []SeedToken
	Metrics      []map[string]any
	Measurements []map[string]any
	Services     []map[string]any
	Spaces       []map[string]any
	Alerts       []map[string]any
	Annotations  []map[string]any
}

// SeedToken is a token a seed creates (mock.SeedToken).
type SeedToken struct {
	Name  string
	Role  librato.Role
	Token string // "" generates one
}

// Apply adds the seed's objects; it fills in the secrets it generates for
// tokens without one, so that Reset recreates the same tokens.
func (a *Account) Apply(s *SeedIn) error {
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
		if t.Token != "" && (strings.ContainsAny(t.Token, " \t\r\n") || a.bySecret[t.Token] != nil || t.Token == a.env.ControlToken) {
			return fmt.Errorf("tokens[%d]: token must be unique, without spaces, and not the control token", i)
		}
		s.Tokens[i].Token = a.addToken(t.Name, t.Role, t.Token, now).Secret
	}
	run := func(what string, h handler, params []string, body map[string]any) (*Reply, error) {
		if rep := checkTreeUTF8(body); rep != nil {
			return rep, fmt.Errorf("%s: %s", what, Describe(rep))
		}
		for i, p := range params {
			if !utf8.ValidString(p) {
				return nil, fmt.Errorf("%s: name %q (parameter %d) is not valid UTF-8", what, p, i)
			}
		}
		c := a.seedCall(now, params, body)
		rep := h(c)
		if rep == nil || rep.Status >= 300 {
			return rep, fmt.Errorf("%s: %s", what, Describe(rep))
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
	return &call{a: a, r: r, p: params, q: url.Values{}, body: body, now: now}
}

// Describe renders an error reply for a seed error.
func Describe(r *Reply) string {
	if r == nil {
		return "no answer"
	}
	eb, ok := r.body.(errorBody)
	if !ok {
		return "status " + strconv.Itoa(r.Status)
	}
	var parts []string
	for _, k := range slices.Sorted(maps.Keys(eb.Errors.Params)) {
		parts = append(parts, k+" "+strings.Join(eb.Errors.Params[k], ", "))
	}
	parts = append(parts, eb.Errors.Request...)
	parts = append(parts, eb.Errors.System...)
	if len(parts) == 0 {
		return "status " + strconv.Itoa(r.Status)
	}
	return strings.Join(parts, "; ")
}
