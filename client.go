package librato

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hashicorp/go-retryablehttp"
	"github.com/librato-sdk/librato-go/internal/endpoints"
)

// DefaultBaseURL is the Librato Metrics API the client talks to unless
// WithBaseURL says otherwise.
const DefaultBaseURL = "https://metrics-api.librato.com"

// Defaults for the transport and the retry policy.
const (
	DefaultTimeout     = 30 * time.Second // per attempt, when the client builds its own http.Client
	DefaultMaxAttempts = 4                // first try included
	DefaultMinBackoff  = 500 * time.Millisecond
	DefaultMaxBackoff  = 30 * time.Second
	// DefaultMaxRetryWait is the longest Retry-After the client waits for
	// before a retry; see WithMaxRetryWait.
	DefaultMaxRetryWait = time.Minute

	maxErrorBody = 1 << 20 // error bodies are read up to 1 MiB
	// DefaultMaxResponseBytes caps a success body; see WithMaxResponseBytes.
	DefaultMaxResponseBytes = 64 << 20
)

// Client is a Librato API client. It is safe for concurrent use; build one
// per token with NewClient and share it.
type Client struct {
	// Measurements submits and queries measurements.
	Measurements *MeasurementsService
	// Metrics manages metric metadata, one metric or many at a time.
	Metrics *MetricsService
	// Alerts manages alerts, their status and their notification services.
	Alerts *AlertsService
	// Annotations manages annotation streams, their events and links.
	Annotations *AnnotationsService
	// APITokens manages the account's API tokens.
	APITokens *APITokensService
	// Spaces manages spaces (dashboards).
	Spaces *SpacesService
	// Charts manages the charts of a space.
	Charts *ChartsService
	// Services manages alert notification services.
	Services *ServicesService
	// Jobs reads and waits for asynchronous jobs.
	Jobs *JobsService
	// Snapshots renders charts to images.
	Snapshots *SnapshotsService
	// Sources names the sources of the legacy (source-based) API.
	Sources *SourcesService

	common service

	auth         *secret // behind a pointer so that printing a Client shows no token
	base         *url.URL
	role         Role
	strict       bool
	userAgent    []string
	logger       *slog.Logger
	retrying     *retryablehttp.Client
	once         *retryablehttp.Client
	maxBody      int64
	maxRetryWait time.Duration

	// onEndpoint, when set by tests, sees the endpoint of every typed call
	// before the guard runs.
	onEndpoint func(*endpoint)
}

// service is what every resource service is: a view of the shared client.
type service struct{ client *Client }

// NewClient builds a client that authenticates as email with token. It
// fails, saying what to fix, on an empty email or token, an option error, a
// base URL that does not parse, carries credentials, or is plain http on a
// host that is not loopback.
//
// The credentials go only to the base URL's origin. A redirect is
// followed with the Authorization header only while every hop stays on the
// origin (scheme, host and port) of the first request; scheme and host
// compare without regard to case, and a missing port is the scheme's
// default, so https://API.example.com:443 is the origin of
// https://api.example.com. Once a hop leaves the origin, no later hop
// carries the header, even one that comes back. A redirect from https to
// plain http, or to a Location with userinfo (user:password@, which
// net/http would send as its own Basic auth), is refused with a
// *RedirectError before anything is sent to it.
func NewClient(email, token string, opts ...Option) (*Client, error) {
	if strings.TrimSpace(email) == "" {
		return nil, errors.New("librato: empty email: pass the account's email address, the Basic-auth user")
	}
	if strings.Contains(email, ":") || strings.ContainsAny(email, "\r\n") {
		return nil, errors.New("librato: the email may not contain ':' or line breaks: pass the account's email address")
	}
	if strings.TrimSpace(token) == "" {
		return nil, errors.New("librato: empty API token: pass a token from the account's API Tokens page")
	}
	cfg := config{
		baseURL:     DefaultBaseURL,
		maxAttempts: DefaultMaxAttempts,
		minBackoff:  DefaultMinBackoff,
		maxBackoff:  DefaultMaxBackoff,
		maxWait:     DefaultMaxRetryWait,
		maxBody:     DefaultMaxResponseBytes,
	}
	for _, o := range opts {
		if o == nil {
			continue
		}
		if err := o(&cfg); err != nil {
			return nil, err
		}
	}
	base, err := parseBaseURL(cfg.baseURL)
	if err != nil {
		return nil, err
	}
	c := &Client{
		auth:         newSecret(strings.TrimSpace(email), token),
		base:         base,
		role:         cfg.role,
		strict:       cfg.strict,
		logger:       cfg.logger,
		maxBody:      cfg.maxBody,
		maxRetryWait: cfg.maxWait,
	}
	ua := "librato-go/" + Version + " (" + runtime.Version() + ")"
	if cfg.userAgent != "" {
		ua = cfg.userAgent + " " + ua
	}
	c.userAgent = []string{ua}

	hc := safeHTTPClient(cfg.httpClient)
	c.retrying = &retryablehttp.Client{
		HTTPClient:     hc,
		RetryWaitMin:   cfg.minBackoff,
		RetryWaitMax:   cfg.maxBackoff,
		RetryMax:       cfg.maxAttempts - 1,
		CheckRetry:     c.checkRetry,
		Backoff:        recordedBackoff,
		ErrorHandler:   keepLastResponse,
		RequestLogHook: c.onAttempt,
	}
	c.once = &retryablehttp.Client{
		HTTPClient:     hc,
		CheckRetry:     neverRetry,
		Backoff:        backoff,
		ErrorHandler:   keepLastResponse,
		RequestLogHook: c.onAttempt,
	}

	c.common.client = c
	c.Measurements = (*MeasurementsService)(&c.common)
	c.Metrics = (*MetricsService)(&c.common)
	c.Alerts = (*AlertsService)(&c.common)
	c.Annotations = (*AnnotationsService)(&c.common)
	c.APITokens = (*APITokensService)(&c.common)
	c.Spaces = (*SpacesService)(&c.common)
	c.Charts = (*ChartsService)(&c.common)
	c.Services = (*ServicesService)(&c.common)
	c.Jobs = (*JobsService)(&c.common)
	c.Snapshots = (*SnapshotsService)(&c.common)
	c.Sources = (*SourcesService)(&c.common)
	return c, nil
}

func parseBaseURL(raw string) (*url.URL, error) {
	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil {
		return nil, fmt.Errorf("librato: base URL %q does not parse (%v): pass an absolute URL such as %s", raw, errors.Unwrap(err), DefaultBaseURL)
	}
	if u.Scheme == "" || u.Host == "" {
		return nil, fmt.Errorf("librato: base URL %q is not absolute: pass scheme and host, such as %s", raw, DefaultBaseURL)
	}
	if u.User != nil {
		return nil, errors.New("librato: the base URL may not carry credentials: pass them to NewClient, which sends them only in the Authorization header")
	}
	if u.RawQuery != "" || u.Fragment != "" {
		return nil, fmt.Errorf("librato: base URL %q has a query or fragment: pass only scheme, host and an optional path prefix", raw)
	}
	switch strings.ToLower(u.Scheme) {
	case "https":
	case "http":
		if !isLoopback(u.Hostname()) {
			return nil, fmt.Errorf("librato: plain http is allowed only to a loopback host, not %q: use https", u.Hostname())
		}
	default:
		return nil, fmt.Errorf("librato: base URL scheme %q is not supported: use https", u.Scheme)
	}
	u.Scheme = strings.ToLower(u.Scheme)
	u.Path = strings.TrimRight(u.Path, "/")
	u.RawPath = strings.TrimRight(u.RawPath, "/")
	return u, nil
}

func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// safeHTTPClient copies h (or builds a default with timeouts) and installs
// the redirect policy NewClient documents; h's own CheckRedirect, if any,
// runs after it.
func safeHTTPClient(h *http.Client) *http.Client {
	var c http.Client
	if h != nil {
		c = *h
	} else {
		c = http.Client{Timeout: DefaultTimeout, Transport: defaultTransport()}
	}
	next := c.CheckRedirect
	c.CheckRedirect = func(req *http.Request, via []*http.Request) error {
		if err := checkRedirect(req, via); err != nil {
			return err
		}
		if next != nil {
			return next(req, via)
		}
		if len(via) >= 10 {
			return errors.New("stopped after 10 redirects")
		}
		return nil
	}
	return &c
}

// checkRedirect refuses a redirect to userinfo or from https to http, and
// sends the Authorization header of the first request on only while every
// hop is on its origin. net/http alone would keep the header on a scheme
// or port change of the same host, and on a subdomain.
func checkRedirect(req *http.Request, via []*http.Request) error {
	if len(via) == 0 {
		return nil
	}
	prev := via[len(via)-1]
	switch {
	case req.URL.User != nil:
		return redirectRefused(req, prev, "the Location carries userinfo, which net/http would send as Basic auth in place of the client's credentials")
	case strings.EqualFold(prev.URL.Scheme, "https") && strings.EqualFold(req.URL.Scheme, "http"):
		return redirectRefused(req, prev, "it goes from https to plain http, which would expose the credentials")
	}
	first := via[0]
	keep := sameOrigin(first.URL, req.URL)
	for _, hop := range via[1:] {
		keep = keep && sameOrigin(first.URL, hop.URL)
	}
	if auth := first.Header["Authorization"]; keep && auth != nil {
		req.Header["Authorization"] = auth
	} else {
		req.Header.Del("Authorization")
	}
	return nil
}

func redirectRefused(req, prev *http.Request, why string) *RedirectError {
	e := &RedirectError{From: originAndPath(prev.URL), To: originAndPath(req.URL), Reason: why}
	if req.Response != nil {
		e.StatusCode = req.Response.StatusCode
	}
	return e
}

// originAndPath is u without userinfo, query and fragment.
func originAndPath(u *url.URL) string {
	return u.Scheme + "://" + u.Host + u.EscapedPath()
}

// sameOrigin compares scheme, host and port; scheme and host without
// regard to case, and a missing port as the scheme's default.
func sameOrigin(a, b *url.URL) bool {
	return strings.EqualFold(a.Scheme, b.Scheme) && strings.EqualFold(a.Hostname(), b.Hostname()) && portOf(a) == portOf(b)
}

func portOf(u *url.URL) string {
	if p := u.Port(); p != "" {
		return p
	}
	switch strings.ToLower(u.Scheme) {
	case "https":
		return "443"
	case "http":
		return "80"
	}
	return ""
}

// defaultTransport is a fresh transport with the standard library's dial,
// TLS handshake and idle timeouts, a response header timeout, and TLS
// verification on; it keeps more idle connections per host than the
// default, since one client usually talks to one host.
func defaultTransport() *http.Transport {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxIdleConnsPerHost = 16
	t.ResponseHeaderTimeout = DefaultTimeout
	return t
}

// Role returns the role declared with WithRole, or the zero Role.
func (c *Client) Role() Role { return c.role }

// BaseURL returns the API root the client sends to.
func (c *Client) BaseURL() string { return c.base.String() }

// String describes the client without its token.
func (c *Client) String() string {
	return fmt.Sprintf("librato.Client{email: %s, role: %s, base: %s, token: [REDACTED]}", c.auth.email, c.role.Label(), c.base)
}

// GoString describes the client without its token.
func (c *Client) GoString() string { return c.String() }

// Format prints String for every verb, so no verb can reach the token.
func (c *Client) Format(f fmt.State, verb rune) { io.WriteString(f, c.String()) }

// CloseIdleConnections closes the idle keep-alive connections of the
// transport the client sends through (the one of WithHTTPClient's client,
// if given). It is safe to call at any time, from any goroutine, and the
// client stays usable: later calls open new connections. A program that
// makes many short-lived clients should call it when it is done with each,
// so their connections do not linger until the server drops them.
func (c *Client) CloseIdleConnections() { c.retrying.HTTPClient.CloseIdleConnections() }

// endpoint is one API route a typed method calls: the method and path
// template that the guard classifies, and whether a retry is safe.
type endpoint struct {
	method   string
	template string
	row      *endpoints.Row // nil when the template is not in the matrix
	retry    bool
	nparams  int
}

// newEndpoint declares a route; its matrix row is found once, here.
func newEndpoint(method, template string) *endpoint {
	ep := &endpoint{method: method, template: template, row: endpoints.All.Lookup(method, template)}
	ep.retry = retrySafe(method, template)
	ep.nparams = strings.Count(template, ":")
	return ep
}

// request is everything one call of the pipeline needs.
type request struct {
	ep      *endpoint
	params  []string     // path parameters in template order, unescaped
	opts    queryOptions // validated, then encoded as the query; may be nil
	body    any          // validated if it can be, then JSON-encoded; nil for none
	out     any          // decoded from a 2xx body; nil to discard
	rawURL  string       // a server-given absolute URL to follow instead of the template
	rawPath string       // for Do: an already escaped path, with optional query
	noGuard bool         // only DetectRole's two probes
}

// response is what callers learn of a 2xx answer besides the body.
type response struct {
	status   int
	location string
	attempts int
}

// validator is implemented by request bodies the API documents rules for;
// the pipeline runs it after the guard and before anything is built.
type validator interface{ validate() error }

// queryOptions is implemented by the option types of GET endpoints.
type queryOptions interface {
	validator
	encode(url.Values)
}

// jsonAppender is implemented by bodies with a hand-written encoder.
type jsonAppender interface{ appendJSON([]byte) ([]byte, error) }

// callState travels in the request context so the retry hooks can record
// what happened to this call.
type callState struct {
	attempts   int
	lastStatus int
	lastErr    error
	lastWait   time.Duration // the planned wait before this attempt, when a response told it
	pending    *APIError     // the answer a retry wait follows; the error if the context ends during it
	started    time.Time
	method     string
	template   string
}

type callKey struct{}

// call runs the pipeline: guard, validate, build, send, decode. Every
// error it returns is free of the token.
func (c *Client) call(ctx context.Context, r *request) (_ *response, err error) {
	if ctx == nil {
		return nil, errors.New("librato: nil context: pass context.Background() or a context with a deadline")
	}
	defer func() {
		if err != nil {
			err = c.scrub(err)
		}
	}()
	ep := r.ep
	if c.onEndpoint != nil {
		c.onEndpoint(ep)
	}
	if p, ok := ctx.Value(pageProbeKey{}).(*pageProbe); ok {
		p.method, p.template = ep.method, ep.template
	}
	// 1. guard; a server-given link by the path it names
	link := ""
	if r.rawURL != "" {
		if link, err = c.followLink(ep, r.rawURL); err != nil {
			return nil, err
		}
	}
	if !r.noGuard {
		if err := c.guard(ep.method, ep.template, ep.row); err != nil {
			return nil, err
		}
	}
	if r.opts != nil {
		if err := r.opts.validate(); err != nil {
			return nil, c.redactValidation(err)
		}
	}
	if v, ok := r.body.(validator); ok {
		if err := v.validate(); err != nil {
			return nil, c.redactValidation(err)
		}
	}
	if err := ctx.Err(); err != nil {
		return nil, &TransportError{Method: ep.method, Endpoint: ep.template, Err: err}
	}
	// 2. build
	u := link
	if u == "" {
		if u, err = c.buildURL(r); err != nil {
			return nil, err
		}
	}
	var body *pooledBody
	if r.body != nil {
		body, err = encodeBody(r.body)
		if err != nil {
			return nil, fmt.Errorf("librato: %s %s: encoding the request body: %w", ep.method, ep.template, err)
		}
		defer body.release()
	}
	st := &callState{started: time.Now(), method: ep.method, template: ep.template}
	hreq, err := http.NewRequestWithContext(context.WithValue(ctx, callKey{}, st), ep.method, u, nil)
	if err != nil {
		return nil, fmt.Errorf("librato: %s %s: building the request: %w", ep.method, ep.template, err)
	}
	h := hreq.Header
	h["Authorization"] = c.auth.header
	h["User-Agent"] = c.userAgent
	h["Accept"] = hdrJSON
	rreq, err := retryablehttp.FromRequest(hreq)
	if err != nil {
		return nil, err
	}
	if body != nil {
		h["Content-Type"] = hdrJSON
		if err := rreq.SetBody(retryablehttp.ReaderFunc(body.open)); err != nil {
			return nil, err
		}
	}
	// 3. send
	sender := c.once
	if ep.retry {
		sender = c.retrying
	}
	resp, err := sender.Do(rreq)
	if err != nil {
		err = c.transportError(ctx, st, err)
		c.log(ctx, st, hreq.URL, 0, err)
		return nil, err
	}
	defer resp.Body.Close()
	// 4. decode
	res := &response{status: resp.StatusCode, location: resp.Header.Get("Location"), attempts: st.attempts}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		apiErr := c.decodeError(resp, st)
		c.log(ctx, st, hreq.URL, resp.StatusCode, apiErr)
		return nil, apiErr
	}
	if err := c.decodeBody(resp, r.out, st); err != nil {
		c.log(ctx, st, hreq.URL, resp.StatusCode, err)
		return nil, err
	}
	c.log(ctx, st, hreq.URL, resp.StatusCode, nil)
	return res, nil
}

var hdrJSON = []string{"application/json"}

// callForJob runs a call that answers 204 when done at once, or 202 with a
// job (in the body, or only as the Location header) when queued.
func (c *Client) callForJob(ctx context.Context, r *request) (*Job, error) {
	var job Job
	r.out = &job
	res, err := c.call(ctx, r)
	if err != nil {
		return nil, err
	}
	if res.status != 202 {
		return nil, nil
	}
	if job.ID == 0 {
		job.ID = idFromLocation(res.location)
	}
	if job.State == "" {
		job.State = JobQueued
	}
	return &job, nil
}

// callInto runs r and decodes its 2xx body into a new T: what every typed
// method with a response body does.
func callInto[T any](ctx context.Context, c *Client, r *request) (*T, error) {
	out := new(T)
	r.out = out
	if _, err := c.call(ctx, r); err != nil {
		return nil, err
	}
	return out, nil
}

// redactValidation scrubs the token from a validation error, which may
// quote the caller's input.
func (c *Client) redactValidation(err error) error {
	var ve *ValidationError
	if errors.As(err, &ve) {
		ve.Reason = c.auth.redact(ve.Reason)
		ve.Field = c.auth.redact(ve.Field)
	}
	return err
}

// guard applies the client's policy to one call: no declared role and Full
// Access pass; published rows are enforced; unlisted rows and unknown paths
// are enforced only by a strict guard.
func (c *Client) guard(method, template string, row *endpoints.Row) error {
	if c.role == "" || c.role == RoleFullAccess {
		return nil
	}
	if row == nil {
		if !c.strict {
			return nil
		}
		return &ErrForbiddenForRole{Role: c.role, Method: method, Endpoint: template, Allowed: []Role{RoleFullAccess}}
	}
	if (!row.Enforced() && !c.strict) || row.Allows(string(c.role)) {
		return nil
	}
	return &ErrForbiddenForRole{Role: c.role, Method: row.Method, Endpoint: row.Template, Allowed: permissionOf(row).Roles}
}

// buildURL joins the base URL and the escaped path; every path parameter
// must be non-empty and is escaped as one segment.
func (c *Client) buildURL(r *request) (string, error) {
	var b strings.Builder
	base := c.base.String()
	b.Grow(len(base) + len(r.ep.template) + 32)
	b.WriteString(base)
	if r.rawPath != "" {
		b.WriteString(r.rawPath)
	} else {
		if len(r.params) != r.ep.nparams {
			return "", fmt.Errorf("librato: %s %s takes %d path parameters, got %d", r.ep.method, r.ep.template, r.ep.nparams, len(r.params))
		}
		t := r.ep.template
		p := 0
		for t != "" {
			i := strings.IndexByte(t, ':')
			if i < 0 {
				b.WriteString(t)
				break
			}
			b.WriteString(t[:i])
			j := strings.IndexByte(t[i:], '/')
			name := t[i+1:]
			if j >= 0 {
				name = t[i+1 : i+j]
				t = t[i+j:]
			} else {
				t = ""
			}
			v := r.params[p]
			p++
			if v == "" {
				return "", &ValidationError{Field: name, Index: -1, Reason: "is empty; a " + r.ep.method + " of " + r.ep.template + " needs it"}
			}
			b.WriteString(escapeSegment(v))
		}
	}
	if r.opts != nil {
		q := url.Values{}
		r.opts.encode(q)
		if len(q) > 0 {
			if strings.Contains(r.rawPath, "?") {
				b.WriteByte('&')
			} else {
				b.WriteByte('?')
			}
			b.WriteString(q.Encode())
		}
	}
	return b.String(), nil
}

// escapeSegment escapes v as one path segment. Dots alone are escaped too,
// so "." and ".." can never be read as path navigation.
func escapeSegment(v string) string {
	if v == "." {
		return "%2E"
	}
	if v == ".." {
		return "%2E%2E"
	}
	return url.PathEscape(v)
}

// followLink accepts a server-given URL (a "next" link) only if it is on
// the client's origin, under its base path, names its path plainly (see
// cleanPath), passes the guard for the path it names, and names the
// endpoint ep being paged. It returns the URL to request: the base URL's
// scheme and host, the cleaned path and the link's query exactly as given.
func (c *Client) followLink(ep *endpoint, raw string) (string, error) {
	refuse := func(why string) error {
		return fmt.Errorf("librato: %s %s: the server's next link %s; not followed", ep.method, ep.template, why)
	}
	u, err := url.Parse(raw)
	if err != nil {
		return "", refuse("does not parse")
	}
	if !u.IsAbs() {
		u = c.base.ResolveReference(u)
	}
	if !sameOrigin(u, c.base) {
		return "", refuse(fmt.Sprintf("points at %s://%s, not this client's %s://%s", u.Scheme, u.Host, c.base.Scheme, c.base.Host))
	}
	prefix := c.base.EscapedPath()
	p := u.EscapedPath()
	if !strings.HasPrefix(p, prefix+"/") {
		return "", refuse("points outside the base URL's path " + prefix + "/")
	}
	clean, err := cleanPath(p[len(prefix):])
	if err != nil {
		return "", refuse(err.Error())
	}
	row := endpoints.All.Match(ep.method, clean)
	template := c.auth.redact(clean) // the server's text, in a strict guard's refusal
	if row != nil {
		template = row.Template
	}
	if err := c.guard(ep.method, template, row); err != nil {
		return "", err
	}
	if row != ep.row {
		return "", refuse(fmt.Sprintf("leads to %s %s, another endpoint", ep.method, template))
	}
	link := c.base.Scheme + "://" + c.base.Host + prefix + clean
	if u.RawQuery != "" || u.ForceQuery {
		link += "?" + u.RawQuery
	}
	return link, nil
}

// cleanPath reads an escaped path as the server will: it decodes the
// percent escapes of unreserved characters (A-Z a-z 0-9 - . _ ~), writes
// the others in upper case, and refuses what could make the server see
// another path than the matrix classifies: an encoded '/' or '\', an
// empty, "." or ".." segment however it is spelled, a bad escape. The path
// must start with "/v1/".
func cleanPath(p string) (string, error) {
	var b []byte
	for i := 0; i < len(p); i++ {
		c := p[i]
		if c != '%' {
			if b != nil {
				b = append(b, c)
			}
			continue
		}
		if i+2 >= len(p) || !isHex(p[i+1]) || !isHex(p[i+2]) {
			return "", errors.New("has a '%' that is not an escape such as %20")
		}
		if b == nil {
			b = append(make([]byte, 0, len(p)), p[:i]...)
		}
		d := unhex(p[i+1])<<4 | unhex(p[i+2])
		switch {
		case d == '/' || d == '\\':
			return "", errors.New("has an encoded '/' or '\\' (%2F, %5C), which a server may read as a separator")
		case isUnreserved(d):
			b = append(b, d)
		default:
			b = append(b, '%', upperHex[d>>4], upperHex[d&15])
		}
		i += 2
	}
	if b != nil {
		p = string(b)
	}
	if p == "/v1" {
		return p, nil
	}
	if !strings.HasPrefix(p, "/v1/") {
		return "", errors.New("must start with /v1/")
	}
	for _, seg := range strings.Split(p[1:], "/") {
		if seg == "" || seg == "." || seg == ".." {
			return "", errors.New("may not contain empty, '.' or '..' segments, escaped or not")
		}
	}
	return p, nil
}

const upperHex = "0123456789ABCDEF"

func isUnreserved(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '.' || c == '_' || c == '~'
}

// pooledBody is a request body in a pooled buffer. The buffer returns to the
// pool only once the call is done and every reader the transport opened has
// been closed, so a transport still writing an old attempt never sees it
// reused.
type pooledBody struct {
	buf  *[]byte
	refs atomic.Int32
}

var bodyPool = sync.Pool{New: func() any { b := make([]byte, 0, 4096); return &b }}

func encodeBody(v any) (*pooledBody, error) {
	p := &pooledBody{buf: bodyPool.Get().(*[]byte)}
	p.refs.Store(1)
	b := (*p.buf)[:0]
	var err error
	if a, ok := v.(jsonAppender); ok {
		b, err = a.appendJSON(b)
	} else {
		var raw []byte
		raw, err = json.Marshal(v)
		b = append(b, raw...)
	}
	*p.buf = b
	if err != nil {
		p.release()
		return nil, err
	}
	return p, nil
}

func (p *pooledBody) open() (io.Reader, error) {
	p.refs.Add(1)
	return &bodyReader{Reader: bytes.NewReader(*p.buf), p: p}, nil
}

func (p *pooledBody) release() {
	if p.refs.Add(-1) == 0 {
		if cap(*p.buf) <= 4<<20 {
			bodyPool.Put(p.buf)
		}
	}
}

type bodyReader struct {
	*bytes.Reader
	p      *pooledBody
	closed atomic.Bool
}

func (r *bodyReader) Close() error {
	if r.closed.CompareAndSwap(false, true) {
		r.p.release()
	}
	return nil
}

// errorBody is the API's error document.
type errorBody struct {
	Errors struct {
		Params  map[string]json.RawMessage `json:"params"`
		Request json.RawMessage            `json:"request"`
		System  json.RawMessage            `json:"system"`
	} `json:"errors"`
}

func (c *Client) decodeError(resp *http.Response, st *callState) *APIError {
	e := &APIError{
		StatusCode: resp.StatusCode,
		Method:     st.method,
		Endpoint:   st.template,
		RateLimit:  RateLimits{Agg: parseRateLimit(resp.Header.Get("X-Librato-RateLimit-Agg")), Std: parseRateLimit(resp.Header.Get("X-Librato-RateLimit-Std"))},
		Attempts:   max(st.attempts, 1),
	}
	if d, ok := parseRetryAfter(resp.Header.Get("Retry-After"), time.Now()); ok {
		e.RetryAfter = d
	}
	hint := resp.ContentLength
	if hint > maxErrorBody {
		hint = -1
	}
	rb, _ := readCapped(resp.Body, hint, maxErrorBody, true)
	defer rb.release()
	data := bytes.TrimSpace(rb.data)
	if len(data) == 0 {
		return e
	}
	var eb errorBody
	if err := json.Unmarshal(data, &eb); err == nil && (eb.Errors.Params != nil || eb.Errors.Request != nil || eb.Errors.System != nil) {
		for k, v := range eb.Errors.Params {
			if e.Params == nil {
				e.Params = make(map[string][]string, len(eb.Errors.Params))
			}
			k = c.auth.redact(k)
			e.Params[k] = append(e.Params[k], c.messages(v)...)
		}
		e.Request = c.messages(eb.Errors.Request)
		e.System = c.messages(eb.Errors.System)
		return e
	}
	e.Message = c.scrubCut(string(data), maxMessage)
	return e
}

// maxMessage is how much of a body that is not the API's JSON an error
// quotes.
const maxMessage = 200

// scrubCut makes text valid UTF-8, redacts it, and only then cuts it to n
// bytes, so a cut can never leave part of a token behind.
func (c *Client) scrubCut(text string, n int) string {
	text = c.auth.redact(strings.ToValidUTF8(text, ""))
	if len(text) > n {
		text = strings.ToValidUTF8(text[:n], "") + "..."
	}
	return text
}

// messages reads a list of messages, or a single one, or anything else as
// its raw text, redacted.
func (c *Client) messages(raw json.RawMessage) []string {
	if len(raw) == 0 || string(raw) == "null" {
		return nil
	}
	var list []string
	if json.Unmarshal(raw, &list) == nil {
		for i := range list {
			list[i] = c.auth.redact(list[i])
		}
		return list
	}
	var one string
	if json.Unmarshal(raw, &one) == nil {
		return []string{c.auth.redact(one)}
	}
	return []string{c.scrubCut(string(raw), maxMessage)}
}

func (c *Client) decodeBody(resp *http.Response, out any, st *callState) error {
	if out == nil || resp.StatusCode == http.StatusNoContent {
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, maxErrorBody))
		return nil
	}
	if resp.ContentLength > c.maxBody {
		return &DecodeError{Method: st.method, Endpoint: st.template, StatusCode: resp.StatusCode, Err: fmt.Errorf("the body's Content-Length of %d bytes is over the %d-byte cap, so it was not read; raise the cap with WithMaxResponseBytes", resp.ContentLength, c.maxBody)}
	}
	rb, err := readCapped(resp.Body, resp.ContentLength, c.maxBody, false)
	defer rb.release()
	if err != nil {
		return &DecodeError{Method: st.method, Endpoint: st.template, StatusCode: resp.StatusCode, Err: redactedError{err, c.auth}}
	}
	if rb.over {
		return &DecodeError{Method: st.method, Endpoint: st.template, StatusCode: resp.StatusCode, Err: fmt.Errorf("body exceeds %d bytes; raise the cap with WithMaxResponseBytes", c.maxBody)}
	}
	data := bytes.TrimSpace(rb.data)
	if len(data) == 0 {
		return nil
	}
	if err := decodeJSON(data, out); err != nil {
		return &DecodeError{Method: st.method, Endpoint: st.template, StatusCode: resp.StatusCode, Err: redactedError{err, c.auth}}
	}
	return nil
}

// readBlockMax is the largest block readCapped adds at a time, and the
// largest first block readPool keeps.
const readBlockMax = 4 << 20

// readPool holds first blocks for readCapped, up to readBlockMax each.
var readPool = sync.Pool{New: func() any { b := make([]byte, 0, 32<<10); return &b }}

// readBody is what readCapped read; release returns its buffer to the pool
// once the bytes are decoded (the decoders copy what they keep).
type readBody struct {
	data   []byte
	over   bool // the body holds more than the limit
	pooled *[]byte
}

func (r readBody) release() {
	if r.pooled != nil && cap(*r.pooled) <= readBlockMax {
		*r.pooled = (*r.pooled)[:0]
		readPool.Put(r.pooled)
	}
}

// readCapped reads r to its end, or until it holds limit+1 bytes, which
// tells it the body is over limit: then it reports over, with the first
// limit bytes as data if truncate is set and no data otherwise. hint is the
// Content-Length, or -1 (0 is read as unknown, since a custom transport may
// leave it unset).
//
// Memory stays near what is read, never much past the cap. With a hint
// the body is read into one buffer of that size (plus a byte to see the
// end). Without, it is read in blocks, each sized so that together they
// never exceed limit+1 bytes, growing to readBlockMax at most; a body over
// the cap thus allocates about the cap and no more. Each new block is an
// eighth of what was read (64 KiB to readBlockMax), so a body under the
// cap read in several blocks, then joined into one buffer, costs at most
// about 2.125 times its size.
func readCapped(r io.Reader, hint, limit int64, truncate bool) (readBody, error) {
	budget := limit + 1
	want := int64(32 << 10)
	if hint > 0 {
		want = hint + 1
	}
	want = min(want, budget)
	p := readPool.Get().(*[]byte)
	if int64(cap(*p)) < want {
		*p = make([]byte, 0, want)
	}
	first := (*p)[:0:min(int64(cap(*p)), budget)]
	rb := readBody{pooled: p}
	blocks := [][]byte{first}
	cur, total := first, int64(0)
	for total <= limit {
		if len(cur) == cap(cur) {
			// an eighth of what was read keeps the unused tail of the
			// last block small, and the blocks few
			size := min(max(total/8, 64<<10), readBlockMax, budget-total)
			blocks[len(blocks)-1] = cur
			cur = make([]byte, 0, size)
			blocks = append(blocks, cur)
		}
		n, err := r.Read(cur[len(cur):cap(cur)])
		cur = cur[:len(cur)+n]
		total += int64(n)
		if err == io.EOF {
			break
		}
		if err != nil {
			return rb, err
		}
	}
	blocks[len(blocks)-1] = cur
	if total > limit {
		rb.over = true
		if !truncate {
			return rb, nil
		}
		total = limit
	}
	if len(blocks) == 1 {
		rb.data = cur[:total]
		return rb, nil
	}
	rb.data = make([]byte, 0, total)
	for _, b := range blocks {
		rb.data = append(rb.data, b[:min(int64(len(b)), total-int64(len(rb.data)))]...)
	}
	return rb, nil
}

// log writes one debug record per call; never headers or bodies.
func (c *Client) log(ctx context.Context, st *callState, u *url.URL, status int, err error) {
	if c.logger == nil || !c.logger.Enabled(ctx, slog.LevelDebug) {
		return
	}
	attrs := []slog.Attr{
		slog.String("method", st.method),
		slog.String("endpoint", c.auth.redact(st.template)),
		slog.String("path", c.auth.redact(u.EscapedPath())),
		slog.Int("status", status),
		slog.Int("attempts", max(st.attempts, 1)),
		slog.Duration("elapsed", time.Since(st.started)),
	}
	if err != nil {
		attrs = append(attrs, slog.String("error", c.auth.redact(err.Error())))
	}
	c.logger.LogAttrs(ctx, slog.LevelDebug, "librato: request", attrs...)
}

// Do calls an endpoint the typed methods do not cover, through the same
// guard, retries and error decoding. path is the escaped path from /v1 on,
// with an optional query ("/v1/new_thing/42?x=1"); body is sent as JSON
// unless nil, and a 2xx body is decoded into out unless out is nil.
//
// The guard classifies the path the server will see: percent escapes of
// unreserved characters are decoded first ("/v1/%61pi_tokens" is
// /v1/api_tokens, and is sent so), and an encoded '/' or '\', a dot
// segment however it is spelled ("%2E%2e"), an empty segment, a fragment
// or a control character is refused with a *ValidationError. A path that
// matches no row of the matrix is sent unless the guard is strict.
func (c *Client) Do(ctx context.Context, method, path string, body, out any) error {
	method = strings.ToUpper(strings.TrimSpace(method))
	clean, err := checkDoPath(path)
	if err != nil {
		return err
	}
	if method == "" || strings.ContainsAny(method, " \t\r\n/") {
		return &ValidationError{Field: "method", Index: -1, Reason: "must be an HTTP method such as GET"}
	}
	template, query, hasQuery := strings.Cut(clean, "?")
	row := endpoints.All.Match(method, template)
	ep := &endpoint{method: method, template: c.auth.redact(template), row: row, retry: retrySafe(method, "")}
	if row != nil {
		ep.template = row.Template
		ep.retry = retrySafe(method, row.Template)
	}
	if hasQuery {
		template += "?" + query
	}
	_, err = c.call(ctx, &request{ep: ep, rawPath: template, body: body, out: out})
	return err
}

// checkDoPath refuses paths that could reach another endpoint or host than
// they name (absolute URLs, fragments, control characters, and what
// cleanPath refuses) and returns the path cleaned, its query unchanged.
func checkDoPath(path string) (string, error) {
	bad := func(why string) error {
		return &ValidationError{Field: "path", Index: -1, Reason: why}
	}
	if !strings.HasPrefix(path, "/") {
		return "", bad("must start with /v1/")
	}
	if strings.ContainsAny(path, "#\\") {
		return "", bad("may not contain '#' or '\\'")
	}
	for _, r := range path {
		if r < 0x20 || r == 0x7f || r == ' ' {
			return "", bad("may not contain spaces or control characters; escape them")
		}
	}
	if _, err := url.ParseRequestURI(path); err != nil {
		return "", bad("is not a valid escaped path")
	}
	p, query, hasQuery := strings.Cut(path, "?")
	clean, err := cleanPath(p)
	if err != nil {
		return "", bad(err.Error())
	}
	if hasQuery {
		clean += "?" + query
	}
	return clean, nil
}

// scrub makes sure an error of the pipeline holds no spelling of the
// token. The SDK's own error types are built scrubbed (their fields
// redacted, their causes wrapped in redactedError); a validation error,
// which may quote the caller's input, is redacted here; anything else is
// wrapped if its text needs it.
func (c *Client) scrub(err error) error {
	switch err.(type) {
	case *APIError, *DecodeError, *TransportError, *RedirectError, *ErrForbiddenForRole, *PaginationError, redactedError:
		return err
	case *ValidationError:
		return c.redactValidation(err)
	}
	if text := err.Error(); c.auth.redact(text) != text {
		return redactedError{err, c.auth}
	}
	return err
}
