package mock

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/librato-sdk/librato-go/mock/internal/api"
)

// Fault is a failure the next matching requests get instead of their
// answer (InjectFault, POST /mock/faults). A request matches when Method
// (if set) is its method and Endpoint (if set) is its route template
// ("/v1/metrics/:name") or its exact escaped path ("/v1/metrics/cpu").
// Faults apply before authentication, so any request can match, even one
// with bad credentials or for no endpoint; control-plane requests never
// do. With After the request is handled first and its answer replaced.
type Fault struct {
	// Count is how many matching requests fail; at least 1.
	Count int `json:"count"`
	// Status is the HTTP status to answer, 100 to 599, with the API's
	// error body (errors.system for 5xx, errors.request for 4xx, none
	// below 400). Required unless Drop is set.
	Status int `json:"status,omitempty"`
	// RetryAfter is the Retry-After header in seconds; 0 leaves the
	// default: WithRetryAfter's value on 429 and 503, none otherwise.
	RetryAfter int `json:"retry_after,omitempty"`
	// Method and Endpoint restrict the requests that match; see Fault.
	Method   string `json:"method,omitempty"`
	Endpoint string `json:"endpoint,omitempty"`
	// Drop closes the connection without an answer, as a network failure
	// would; through Transport the request fails with ErrDropped.
	Drop bool `json:"drop,omitempty"`
	// After handles the request first, so a write lands (measurements are
	// stored, objects created), and then answers Status, or drops the
	// connection, instead of the handler's answer: a gateway that times
	// out after the API stored the write. A client that retries sends
	// the write again.
	After bool `json:"after,omitempty"`
}

// ErrDropped is the error Transport returns for a request a Drop fault
// dropped; over a socket the client sees the connection close instead.
var ErrDropped = errors.New("mock: connection dropped by an injected fault")

type pendingFault struct {
	f    Fault
	left int
}

// validate checks a fault; templates must be routes of the table.
func (s *Server) validateFault(f *Fault) error {
	if f.Count < 1 {
		return fmt.Errorf("count must be at least 1, got %d", f.Count)
	}
	switch {
	case f.Drop && f.Status != 0:
		return errors.New("give status or drop, not both")
	case !f.Drop && (f.Status < 100 || f.Status > 599):
		return fmt.Errorf("status must be an HTTP status from 100 to 599 (or set drop), got %d", f.Status)
	}
	if f.RetryAfter < 0 {
		return fmt.Errorf("retry_after must be 0 or more seconds, got %d", f.RetryAfter)
	}
	f.Method = strings.ToUpper(strings.TrimSpace(f.Method))
	if f.Method != "" && strings.IndexFunc(f.Method, func(r rune) bool { return r < 'A' || r > 'Z' }) >= 0 {
		return fmt.Errorf("method %q is not an HTTP method", f.Method)
	}
	f.Endpoint = strings.TrimSpace(f.Endpoint)
	if f.Endpoint != "" {
		if !strings.HasPrefix(f.Endpoint, "/") || strings.ContainsAny(f.Endpoint, "?# ") {
			return fmt.Errorf("endpoint %q must be a path such as /v1/measurements or a template such as /v1/metrics/:name, without a query", f.Endpoint)
		}
		if strings.Contains(f.Endpoint, "/:") && !s.isTemplate(f.Method, f.Endpoint) {
			return fmt.Errorf("endpoint %q is no route template of the API (for method %q); see the permission matrix for the templates", f.Endpoint, f.Method)
		}
	}
	return nil
}

func (s *Server) isTemplate(method, template string) bool {
	for _, row := range s.router.Table.Rows() {
		if row.Template == template && (method == "" || row.Method == method) {
			return true
		}
	}
	return false
}

// InjectFault queues f after the faults already pending: each request
// takes the first pending fault it matches. It returns an error, and
// queues nothing, for an invalid fault.
func (s *Server) InjectFault(f Fault) error {
	if err := s.validateFault(&f); err != nil {
		return fmt.Errorf("mock: InjectFault: %w", err)
	}
	s.faultMu.Lock()
	defer s.faultMu.Unlock()
	s.faults = append(s.faults, &pendingFault{f: f, left: f.Count})
	return nil
}

// Faults lists the pending faults (GET /mock/faults), Count being what
// is left of each.
func (s *Server) Faults() []Fault {
	s.faultMu.Lock()
	defer s.faultMu.Unlock()
	out := make([]Fault, len(s.faults))
	for i, p := range s.faults {
		out[i] = p.f
		out[i].Count = p.left
	}
	return out
}

// ClearFaults cancels every pending fault (DELETE /mock/faults).
func (s *Server) ClearFaults() {
	s.faultMu.Lock()
	defer s.faultMu.Unlock()
	s.faults = nil
}

// FailNext replaces the pending faults with one that fails the next n
// requests, whatever they are, with status and the API's error body
// (errors.system for 5xx, errors.request otherwise); 429 and 503 carry
// Retry-After (see WithRetryAfter). n <= 0, or a status outside 100 to
// 599, cancels pending faults. InjectFault offers more.
func (s *Server) FailNext(n int, status int) {
	s.ClearFaults()
	if n > 0 && status >= 100 && status <= 599 {
		_ = s.InjectFault(Fault{Count: n, Status: status})
	}
}

// takeFault consumes one use of the first pending fault the request
// matches.
func (s *Server) takeFault(method, template, path string) (Fault, bool) {
	s.faultMu.Lock()
	defer s.faultMu.Unlock()
	for i, p := range s.faults {
		f := p.f
		if f.Method != "" && f.Method != method {
			continue
		}
		if f.Endpoint != "" && f.Endpoint != template && f.Endpoint != path {
			continue
		}
		p.left--
		if p.left <= 0 {
			s.faults = append(s.faults[:i:i], s.faults[i+1:]...)
		}
		return f, true
	}
	return Fault{}, false
}

// injected is the answer a fault with a status gives.
func (s *Server) injected(f Fault) *api.Reply {
	status := f.Status
	text := http.StatusText(status)
	if text == "" {
		text = "status " + strconv.Itoa(status)
	}
	note := injectedNote
	if f.After {
		note = injectedAfterNote
	}
	var rep *api.Reply
	switch {
	case status >= 500:
		rep = api.SystemError(status, text+note)
	case status < 400:
		rep = &api.Reply{Status: status}
	default:
		rep = api.RequestError(status, text+note)
	}
	switch {
	case f.RetryAfter > 0:
		rep.RetryAfter = strconv.Itoa(f.RetryAfter)
	case status == http.StatusTooManyRequests || status == http.StatusServiceUnavailable:
		rep.RetryAfter = strconv.Itoa(s.cfg.retryAfter)
	}
	return rep
}

// injectedNote ends the message of an injected failure, so a client's
// logs tell it from a real one.
const (
	injectedNote      = " (injected by the mock's FailNext, InjectFault or /mock/faults)"
	injectedAfterNote = " (injected by the mock's InjectFault or /mock/faults after the request was handled: its change landed)"
)

// lostAnswer is the ResponseWriter of a request an After fault handles:
// it keeps the headers the handler sets and drops its answer.
type lostAnswer struct{ h http.Header }

func (l *lostAnswer) Header() http.Header         { return l.h }
func (l *lostAnswer) Write(b []byte) (int, error) { return len(b), nil }
func (l *lostAnswer) WriteHeader(int)             {}
