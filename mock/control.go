package mock

import (
	"bytes"
	"crypto/subtle"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/librato-sdk/librato-go/mock/internal/api"
)

// The control plane: the mock's own HTTP API under /mock/, so tests in any
// language can drive the hooks the Go methods offer. Each handler calls
// the exported Go method of the same name; there is no second
// implementation.
//
// Requests carry Authorization: Bearer <ControlToken()>. Bodies are JSON
// whatever their Content-Type (curl -d sends a form type) and may be
// gzipped; answers are JSON. Errors have the API's shape,
// {"errors":{"request":["..."]}}, with 400 (bad input), 401 (no or wrong
// control token), 404 (no such control request, account or alert) and 405
// (a known path with another method; Allow lists the methods). The control
// plane is not in the permission matrix and is not counted by Requests,
// the journal, usage, rate limits or faults; latency does not delay it.

const controlPrefix = "/mock/"

// controlBodyLimit bounds control-plane bodies, seeds included.
const controlBodyLimit = 64 << 20

// isControlPath reports whether a path belongs to the control plane;
// snapshot images under /mock/snapshots/ are API traffic.
func isControlPath(p string) bool {
	return (p == "/mock" || strings.HasPrefix(p, controlPrefix)) && !strings.HasPrefix(p, api.SnapshotImagePrefix)
}

type controlHandler func(s *Server, r *http.Request, params []string) *api.Reply

type controlRoute struct {
	method string
	path   string // below /mock/; ":id" is a parameter
	query  []string
	h      controlHandler
}

var controlRoutes = []controlRoute{
	{"POST", "reset", nil, ctlReset},
	{"POST", "seed", []string{"account"}, ctlSeed},
	{"GET", "faults", nil, ctlFaultsList},
	{"POST", "faults", nil, ctlFaultsAdd},
	{"DELETE", "faults", nil, ctlFaultsClear},
	{"GET", "latency", nil, ctlLatencyGet},
	{"PUT", "latency", nil, ctlLatencyPut},
	{"GET", "ratelimits", nil, ctlRateGet},
	{"PUT", "ratelimits", nil, ctlRatePut},
	{"GET", "jobs", nil, ctlJobsGet},
	{"PUT", "jobs", nil, ctlJobsPut},
	{"GET", "encodings", nil, ctlEncodingsGet},
	{"PUT", "encodings", nil, ctlEncodingsPut},
	{"GET", "recorded", []string{"account", "metric", "tags[]", "start_time", "end_time"}, ctlRecorded},
	{"GET", "annotations", []string{"account", "stream"}, ctlAnnotations},
	{"GET", "alerts/fired", []string{"account"}, ctlAlertsFired},
	{"POST", "alerts/:id/fire", []string{"account"}, ctlAlertFire},
	{"GET", "journal", nil, ctlJournal},
	{"DELETE", "journal", nil, ctlJournalClear},
	{"GET", "usage", nil, ctlUsage},
}

// serveControl answers a control-plane request.
func (s *Server) serveControl(w http.ResponseWriter, r *http.Request) {
	if r.Body != nil {
		defer r.Body.Close()
	}
	rep := s.control1(w, r)
	api.Write(w, rep, rep.Encode())
}

func (s *Server) control1(w http.ResponseWriter, r *http.Request) *api.Reply {
	if msg := s.controlAuth(r); msg != "" {
		w.Header().Set("WWW-Authenticate", `Bearer realm="librato-mock control plane"`)
		return api.RequestError(http.StatusUnauthorized, msg)
	}
	segs := strings.Split(strings.Trim(strings.TrimPrefix(r.URL.Path, "/mock"), "/"), "/")
	var allowed []string
	for _, rt := range controlRoutes {
		params, ok := matchControl(rt.path, segs)
		if !ok {
			continue
		}
		if rt.method != r.Method {
			allowed = append(allowed, rt.method)
			continue
		}
		if rep := checkControlQuery(r.URL.Query(), rt.query); rep != nil {
			return rep
		}
		return rt.h(s, r, params)
	}
	if len(allowed) > 0 {
		rep := api.RequestError(http.StatusMethodNotAllowed, "Method Not Allowed: "+r.Method+" "+r.URL.Path+" takes "+strings.Join(allowed, ", "))
		rep.Allow = strings.Join(allowed, ", ")
		return rep
	}
	return api.RequestError(http.StatusNotFound, "no such control request: "+r.Method+" "+r.URL.Path+
		"; the control plane serves /mock/reset, /mock/seed, /mock/faults, /mock/latency, /mock/ratelimits, /mock/jobs, /mock/encodings,"+
		" /mock/recorded, /mock/annotations, /mock/alerts/fired, /mock/alerts/:id/fire, /mock/journal and /mock/usage")
}

// controlAuth checks the bearer token; it returns what is wrong, or "".
func (s *Server) controlAuth(r *http.Request) string {
	const how = "the control plane takes Authorization: Bearer <control token> (LIBRATO_MOCK_CONTROL_TOKEN, or Server.ControlToken in Go)"
	auth := strings.TrimSpace(r.Header.Get("Authorization"))
	scheme, tok, _ := strings.Cut(auth, " ")
	switch {
	case auth == "":
		return "Authorization Required: " + how
	case !strings.EqualFold(scheme, "Bearer"):
		return "Authorization Required: " + how + "; API credentials (HTTP Basic) are for /v1 only"
	case subtle.ConstantTimeCompare([]byte(strings.TrimSpace(tok)), []byte(s.cfg.controlToken)) != 1:
		return "Authorization Required: the bearer token is not this server's control token; " + how
	}
	return ""
}

func matchControl(path string, segs []string) ([]string, bool) {
	want := strings.Split(path, "/")
	if len(want) != len(segs) {
		return nil, false
	}
	var params []string
	for i, w := range want {
		switch {
		case strings.HasPrefix(w, ":"):
			params = append(params, segs[i])
		case w != segs[i]:
			return nil, false
		}
	}
	return params, true
}

// checkControlQuery refuses query parameters a request does not take, so
// a misspelt filter does not silently select everything. "tags[]" allows
// every tags[name].
func checkControlQuery(q url.Values, allowed []string) *api.Reply {
	for k := range q {
		ok := slices.Contains(allowed, k) ||
			(slices.Contains(allowed, "tags[]") && strings.HasPrefix(k, "tags[") && strings.HasSuffix(k, "]") && len(k) > len("tags[]"))
		if !ok {
			msg := "unknown query parameter " + strconv.Quote(k)
			if len(allowed) == 0 {
				msg += ": this request takes none"
			} else {
				msg += "; this request takes " + strings.Join(allowed, ", ")
			}
			return api.RequestError(http.StatusBadRequest, msg)
		}
	}
	return nil
}

// controlJSON decodes a JSON body into v, refusing unknown fields.
func controlJSON(r *http.Request, v any) *api.Reply {
	data, rep := controlBody(r)
	if rep != nil {
		return rep
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return api.RequestError(http.StatusBadRequest, "malformed JSON body: "+err.Error())
	}
	if _, err := dec.Token(); err != io.EOF {
		return api.RequestError(http.StatusBadRequest, "malformed JSON body: unexpected data after the JSON value")
	}
	return nil
}

func controlBody(r *http.Request) ([]byte, *api.Reply) {
	if r.Body == nil {
		return nil, api.RequestError(http.StatusBadRequest, "send a JSON body")
	}
	data, rep := api.BodyBytes(r, controlBodyLimit)
	if rep != nil {
		return nil, rep
	}
	if len(bytes.TrimSpace(data)) == 0 {
		return nil, api.RequestError(http.StatusBadRequest, "send a JSON body")
	}
	if rep := api.CheckJSONText(data); rep != nil {
		return nil, rep
	}
	return data, nil
}

// controlAccount is the account a request names with ?account=email, the
// default account without one; create makes it if it does not exist.
func (s *Server) controlAccount(r *http.Request, create bool) (*Account, *api.Reply) {
	email := strings.TrimSpace(r.URL.Query().Get("account"))
	if email == "" {
		return s.DefaultAccount(), nil
	}
	if create {
		if strings.Contains(email, ":") {
			return nil, api.RequestError(http.StatusBadRequest, "account "+strconv.Quote(email)+": an email may not contain ':'")
		}
		return s.Account(email), nil
	}
	if a := s.findAccount(email); a != nil {
		return a, nil
	}
	return nil, api.RequestError(http.StatusNotFound, "no account with the email "+strconv.Quote(email))
}

func ctlReset(s *Server, r *http.Request, _ []string) *api.Reply {
	if err := s.Reset(); err != nil {
		return api.SystemError(http.StatusInternalServerError, err.Error())
	}
	return api.NoContent()
}

func ctlSeed(s *Server, r *http.Request, _ []string) *api.Reply {
	data, rep := controlBody(r)
	if rep != nil {
		return rep
	}
	seed, err := LoadSeed(bytes.NewReader(data))
	if err != nil {
		return api.RequestError(http.StatusBadRequest, err.Error())
	}
	a, rep := s.controlAccount(r, true)
	if rep != nil {
		return rep
	}
	if err := a.Apply(seed); err != nil {
		return api.RequestError(http.StatusBadRequest, err.Error()+" (the objects before it were added; POST /mock/reset starts over)")
	}
	return api.NoContent()
}

func ctlFaultsList(s *Server, r *http.Request, _ []string) *api.Reply {
	return api.OK(map[string]any{"faults": s.Faults()})
}

func ctlFaultsAdd(s *Server, r *http.Request, _ []string) *api.Reply {
	var f Fault
	if rep := controlJSON(r, &f); rep != nil {
		return rep
	}
	if err := s.InjectFault(f); err != nil {
		return api.RequestError(http.StatusBadRequest, strings.TrimPrefix(err.Error(), "mock: InjectFault: "))
	}
	return api.NoContent()
}

func ctlFaultsClear(s *Server, r *http.Request, _ []string) *api.Reply {
	s.ClearFaults()
	return api.NoContent()
}

type latencyJSON struct {
	MS *float64 `json:"ms"`
}

func ctlLatencyGet(s *Server, r *http.Request, _ []string) *api.Reply {
	ms := float64(s.Latency()) / float64(time.Millisecond)
	return api.OK(latencyJSON{MS: &ms})
}

func ctlLatencyPut(s *Server, r *http.Request, _ []string) *api.Reply {
	var l latencyJSON
	if rep := controlJSON(r, &l); rep != nil {
		return rep
	}
	if l.MS == nil || *l.MS < 0 || *l.MS > float64(24*time.Hour/time.Millisecond) {
		return api.RequestError(http.StatusBadRequest, `send {"ms": N}: the latency in milliseconds, 0 to 86400000`)
	}
	s.SetLatency(time.Duration(*l.MS * float64(time.Millisecond)))
	return api.NoContent()
}

type jobsJSON struct {
	DelayMS *float64 `json:"delay_ms"`
	Steps   *int     `json:"steps,omitempty"`
}

func ctlJobsGet(s *Server, r *http.Request, _ []string) *api.Reply {
	ms := float64(s.JobDelay()) / float64(time.Millisecond)
	steps := s.JobSteps()
	return api.OK(jobsJSON{DelayMS: &ms, Steps: &steps})
}

func ctlJobsPut(s *Server, r *http.Request, _ []string) *api.Reply {
	var j jobsJSON
	if rep := controlJSON(r, &j); rep != nil {
		return rep
	}
	if j.DelayMS == nil || j.Steps != nil || *j.DelayMS < 0 || *j.DelayMS > float64(24*time.Hour/time.Millisecond) {
		return api.RequestError(http.StatusBadRequest, `send {"delay_ms": N}: how long after it was queued a job completes by itself, 0 to 86400000 (0: only its reads complete it); the steps are fixed at start`)
	}
	s.SetJobDelay(time.Duration(*j.DelayMS * float64(time.Millisecond)))
	return api.NoContent()
}

type encodingsJSON struct {
	Gzip *bool `json:"gzip"`
}

func ctlEncodingsGet(s *Server, r *http.Request, _ []string) *api.Reply {
	g := s.Gzip()
	return api.OK(encodingsJSON{Gzip: &g})
}

func ctlEncodingsPut(s *Server, r *http.Request, _ []string) *api.Reply {
	var e encodingsJSON
	if rep := controlJSON(r, &e); rep != nil {
		return rep
	}
	if e.Gzip == nil {
		return api.RequestError(http.StatusBadRequest, `send {"gzip": false} to answer gzipped bodies with 415, {"gzip": true} to take them`)
	}
	s.SetGzip(*e.Gzip)
	return api.NoContent()
}

type rateLimitsJSON struct {
	Agg *int `json:"agg,omitempty"`
	Std *int `json:"std,omitempty"`
}

func ctlRateGet(s *Server, r *http.Request, _ []string) *api.Reply {
	agg, std := s.RateLimits()
	return api.OK(rateLimitsJSON{Agg: &agg, Std: &std})
}

func ctlRatePut(s *Server, r *http.Request, _ []string) *api.Reply {
	var l rateLimitsJSON
	if rep := controlJSON(r, &l); rep != nil {
		return rep
	}
	if l.Agg == nil && l.Std == nil {
		return api.RequestError(http.StatusBadRequest, `send {"agg": N, "std": M}: the hourly limits (either may be left out to keep it)`)
	}
	agg, std := s.RateLimits()
	if l.Agg != nil {
		agg = *l.Agg
	}
	if l.Std != nil {
		std = *l.Std
	}
	if err := s.SetRateLimits(agg, std); err != nil {
		return api.RequestError(http.StatusBadRequest, "agg and std must be positive")
	}
	return api.NoContent()
}

func ctlRecorded(s *Server, r *http.Request, _ []string) *api.Reply {
	a, rep := s.controlAccount(r, false)
	if rep != nil {
		return rep
	}
	q := r.URL.Query()
	f := RecordedFilter{Metric: q.Get("metric")}
	for k, vs := range q {
		if name, ok := strings.CutPrefix(k, "tags["); ok {
			if f.Tags == nil {
				f.Tags = map[string]string{}
			}
			f.Tags[strings.TrimSuffix(name, "]")] = vs[0]
		}
	}
	for _, b := range []struct {
		k string
		v *int64
	}{{"start_time", &f.Start}, {"end_time", &f.End}} {
		if raw := q.Get(b.k); raw != "" {
			t, msg, ok := api.ParseEpoch(raw)
			if !ok {
				return api.RequestError(http.StatusBadRequest, b.k+" "+msg)
			}
			*b.v = t
		}
	}
	return api.OK(map[string]any{"measurements": a.RecordedMatching(f)})
}

func ctlAnnotations(s *Server, r *http.Request, _ []string) *api.Reply {
	a, rep := s.controlAccount(r, false)
	if rep != nil {
		return rep
	}
	return api.OK(map[string]any{"annotations": a.Annotations(r.URL.Query().Get("stream"))})
}

func ctlAlertsFired(s *Server, r *http.Request, _ []string) *api.Reply {
	a, rep := s.controlAccount(r, false)
	if rep != nil {
		return rep
	}
	return api.OK(map[string]any{"alerts": a.FiredAlerts()})
}

func ctlAlertFire(s *Server, r *http.Request, p []string) *api.Reply {
	a, rep := s.controlAccount(r, false)
	if rep != nil {
		return rep
	}
	id, ok := api.PathID(p[0])
	if !ok || !a.FireAlert(id) {
		return api.RequestError(http.StatusNotFound, "alert "+p[0]+" not found in account "+a.Email())
	}
	return api.NoContent()
}

func ctlJournal(s *Server, r *http.Request, _ []string) *api.Reply {
	return api.OK(map[string]any{"requests": s.Journal()})
}

func ctlJournalClear(s *Server, r *http.Request, _ []string) *api.Reply {
	s.ClearJournal()
	return api.NoContent()
}

func ctlUsage(s *Server, r *http.Request, _ []string) *api.Reply {
	return api.OK(map[string]any{"tokens": s.UsageReport()})
}
