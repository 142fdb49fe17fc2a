package librato

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"iter"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hashicorp/go-retryablehttp"
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

	common service

	auth      *secret // behind a pointer so that printing a Client shows no token
	base      *url.URL
	role      Role
	strict    bool
	userAgent []string
	logger    *slog.Logger
	retrying  *retryablehttp.Client
	once      *retryablehttp.Client
	maxBody   int64

	// onEndpoint, when set by tests, sees the endpoint of every typed call
	// before the guard runs.
	onEndpoint func(*endpoint)
}

// service is what every resource service is: a view of the shared client.
type service struct{ client *Client }

// secret holds the credentials. Its methods never reveal the token, and
// the Client keeps it behind a pointer, so no fmt verb prints it.
type secret struct {
	email  string
	token  string
	header []string // the Authorization header value, shared read-only
	forms  []string // every spelling of the token redact removes
}

func newSecret(email, token string) *secret {
	basic := base64.StdEncoding.EncodeToString([]byte(email + ":" + token))
	forms := []string{token, basic, base64.URLEncoding.EncodeToString([]byte(email + ":" + token))}
	if q := url.QueryEscape(token); q != token {
		forms = append(forms, q)
	}
	return &secret{email: email, token: token, header: []string{"Basic " + basic}, forms: forms}
}

// String hides the token.
func (s *secret) String() string { return "credentials(" + s.email + ", token redacted)" }

// GoString hides the token.
func (s *secret) GoString() string { return s.String() }

// redact removes every spelling of the token from text that came from the
// network, such as an error body that echoes the request.
func (s *secret) redact(text string) string {
	for _, f := range s.forms {
		if f != "" && strings.Contains(text, f) {
			text = strings.ReplaceAll(text, f, "[REDACTED]")
		}
	}
	return text
}

// Option configures a Client in NewClient.
type Option func(*config) error

type config struct {
	role        Role
	baseURL     string
	httpClient  *http.Client
	userAgent   string
	strict      bool
	logger      *slog.Logger
	maxAttempts int
	minBackoff  time.Duration
	maxBackoff  time.Duration
	maxBody     int64
}

// WithRole declares the role the token was issued with. Calls the role may
// not make are then refused with *ErrForbiddenForRole before anything is
// sent. An unknown role makes NewClient fail.
func WithRole(r Role) Option {
	return func(c *config) error {
		if !r.Valid() {
			_, err := ParseRole(string(r))
			return err
		}
		c.role = r
		return nil
	}
}

// WithBaseURL points the client at another API root (default
// DefaultBaseURL), such as the mock server's URL. It must be https, or plain
// http on a loopback host.
func WithBaseURL(u string) Option {
	return func(c *config) error { c.baseURL = u; return nil }
}

// WithHTTPClient sets the HTTP client whose transport carries requests;
// retries wrap it. The client is copied, not changed: the copy drops the
// Authorization header on redirects to another host.
func WithHTTPClient(h *http.Client) Option {
	return func(c *config) error {
		if h == nil {
			return errors.New("librato: WithHTTPClient(nil): pass an *http.Client or leave the option out")
		}
		c.httpClient = h
		return nil
	}
}

// WithUserAgent puts the caller's product name in front of the SDK's own in
// the User-Agent header, e.g. "my-agent/1.2 librato-go/0.1.0".
func WithUserAgent(ua string) Option {
	return func(c *config) error {
		if strings.ContainsAny(ua, "\r\n") {
			return errors.New("librato: WithUserAgent: the user agent may not contain line breaks")
		}
		c.userAgent = strings.TrimSpace(ua)
		return nil
	}
}

// WithStrictGuard makes a Record Only or View Only client also refuse calls
// whose matrix row is unlisted (roles inferred) and paths that match no row.
// By default those go to the server, which decides.
func WithStrictGuard() Option {
	return func(c *config) error { c.strict = true; return nil }
}

// WithLogger sends the client's debug records (one per request, one per
// retry) to l. They carry method, endpoint, path, status and timing, never
// credentials or bodies. By default the client logs nothing.
func WithLogger(l *slog.Logger) Option {
	return func(c *config) error { c.logger = l; return nil }
}

// WithMaxAttempts sets how many times a retryable call is tried in all,
// the first try included (default DefaultMaxAttempts). 1 turns retries off.
func WithMaxAttempts(n int) Option {
	return func(c *config) error {
		if n < 1 {
			return fmt.Errorf("librato: WithMaxAttempts(%d): need at least 1 attempt", n)
		}
		c.maxAttempts = n
		return nil
	}
}

// WithBackoff sets the shortest and longest wait between attempts (defaults
// DefaultMinBackoff and DefaultMaxBackoff). Waits grow exponentially with
// jitter up to max; a Retry-After header overrides them.
func WithBackoff(min, max time.Duration) Option {
	return func(c *config) error {
		if min <= 0 || max < min {
			return fmt.Errorf("librato: WithBackoff(%v, %v): need 0 < min <= max", min, max)
		}
		c.minBackoff, c.maxBackoff = min, max
		return nil
	}
}

// WithMaxResponseBytes caps how much of a success body the client reads
// (default DefaultMaxResponseBytes); a larger body fails the call with a
// *DecodeError instead of exhausting memory.
func WithMaxResponseBytes(n int64) Option {
	return func(c *config) error {
		if n <= 0 {
			return fmt.Errorf("librato: WithMaxResponseBytes(%d): need a positive size", n)
		}
		c.maxBody = n
		return nil
	}
}

// WithoutRetries makes every call a single attempt.
func WithoutRetries() Option { return WithMaxAttempts(1) }

// NewClient builds a client that authenticates as email with token. It
// fails, saying what to fix, on an empty email or token, an option error, a
// base URL that does not parse, carries credentials, or is plain http on a
// host that is not loopback.
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
		auth:    newSecret(strings.TrimSpace(email), token),
		base:    base,
		role:    cfg.role,
		strict:  cfg.strict,
		logger:  cfg.logger,
		maxBody: cfg.maxBody,
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

// safeHTTPClient copies h (or builds a default with timeouts) and makes
// redirects to another host drop the Authorization header.
func safeHTTPClient(h *http.Client) *http.Client {
	var c http.Client
	if h != nil {
		c = *h
	} else {
		c = http.Client{Timeout: DefaultTimeout, Transport: defaultTransport()}
	}
	next := c.CheckRedirect
	c.CheckRedirect = func(req *http.Request, via []*http.Request) error {
		if len(via) > 0 && !strings.EqualFold(req.URL.Host, via[0].URL.Host) {
			req.Header.Del("Authorization")
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

// endpoint is one API route a typed method calls: the method and path
// template that the guard classifies, and whether a retry is safe.
type endpoint struct {
	method   string
	template string
	row      *permRow // nil when the template is not in the matrix
	retry    bool
	nparams  int
}

// newEndpoint declares a route; its matrix row is found once, here.
func newEndpoint(method, template string) *endpoint {
	ep := &endpoint{method: method, template: template, row: defaultMatrix.lookup(method, template)}
	ep.retry = retrySafe(method, template)
	ep.nparams = strings.Count(template, ":")
	return ep
}

// retrySafe says whether a call may be repeated: GET, PUT, DELETE, and the
// measurements POST (a measurement with an explicit time is idempotent).
func retrySafe(method, template string) bool {
	switch method {
	case http.MethodGet, http.MethodPut, http.MethodDelete, http.MethodHead:
		return true
	case http.MethodPost:
		return template == "/v1/measurements"
	}
	return false
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
	started    time.Time
	method     string
	template   string
}

type callKey struct{}

// call runs the pipeline: guard, validate, build, send, decode.
func (c *Client) call(ctx context.Context, r *request) (*response, error) {
	if ctx == nil {
		return nil, errors.New("librato: nil context: pass context.Background() or a context with a deadline")
	}
	ep := r.ep
	if c.onEndpoint != nil {
		c.onEndpoint(ep)
	}
	// 1. guard
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
	u, err := c.buildURL(r)
	if err != nil {
		return nil, err
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
func (c *Client) guard(method, template string, row *permRow) error {
	if c.role == "" || c.role == RoleFullAccess {
		return nil
	}
	if row == nil {
		if !c.strict {
			return nil
		}
		return &ErrForbiddenForRole{Role: c.role, Method: method, Endpoint: template, Allowed: []Role{RoleFullAccess}}
	}
	if (!row.enforced() && !c.strict) || row.roles&c.role.bit() != 0 {
		return nil
	}
	return &ErrForbiddenForRole{Role: c.role, Method: row.method, Endpoint: row.template, Allowed: row.roles.roles()}
}

// buildURL joins the base URL and the escaped path; every path parameter
// must be non-empty and is escaped as one segment.
func (c *Client) buildURL(r *request) (string, error) {
	if r.rawURL != "" {
		return c.checkFollowURL(r)
	}
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

// checkFollowURL accepts a server-given URL (a "next" link) only on the
// client's own scheme and host, so credentials never go elsewhere.
func (c *Client) checkFollowURL(r *request) (string, error) {
	u, err := url.Parse(r.rawURL)
	if err != nil {
		return "", fmt.Errorf("librato: the server's link %q does not parse: %w", r.rawURL, err)
	}
	if !u.IsAbs() {
		u = c.base.ResolveReference(u)
	}
	if !strings.EqualFold(u.Scheme, c.base.Scheme) || !strings.EqualFold(u.Host, c.base.Host) {
		return "", fmt.Errorf("librato: the server's link points at %s://%s, not this client's %s; not followed", u.Scheme, u.Host, c.base.Host)
	}
	u.User = nil
	return u.String(), nil
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

// checkRetry retries network errors, 429 and 5xx (not 501), never a call
// whose context is done; it records the outcome for logs and errors.
func (c *Client) checkRetry(ctx context.Context, resp *http.Response, err error) (bool, error) {
	if st, ok := ctx.Value(callKey{}).(*callState); ok {
		st.lastErr, st.lastStatus, st.lastWait = err, 0, 0
		if resp != nil {
			st.lastStatus = resp.StatusCode
		}
	}
	return retryablehttp.DefaultRetryPolicy(ctx, resp, err)
}

func neverRetry(ctx context.Context, _ *http.Response, _ error) (bool, error) {
	return false, ctx.Err()
}

// keepLastResponse hands the last response back when retries run out, so it
// is decoded into an *APIError; with no response the error stands.
func keepLastResponse(resp *http.Response, err error, _ int) (*http.Response, error) {
	if resp != nil {
		return resp, nil
	}
	return nil, err
}

// onAttempt counts attempts and logs each retry.
func (c *Client) onAttempt(_ retryablehttp.Logger, req *http.Request, i int) {
	st, ok := req.Context().Value(callKey{}).(*callState)
	if !ok {
		return
	}
	st.attempts = i + 1
	if i == 0 || c.logger == nil {
		return
	}
	attrs := []slog.Attr{
		slog.String("method", st.method),
		slog.String("endpoint", st.template),
		slog.Int("attempt", i+1),
	}
	if st.lastStatus != 0 {
		attrs = append(attrs, slog.Int("after_status", st.lastStatus))
	}
	if st.lastErr != nil {
		attrs = append(attrs, slog.String("after_error", c.auth.redact(st.lastErr.Error())))
	}
	if st.lastWait > 0 {
		attrs = append(attrs, slog.Duration("waited", st.lastWait))
	}
	c.logger.LogAttrs(req.Context(), slog.LevelDebug, "librato: retrying", attrs...)
}

// recordedBackoff is backoff that notes the wait in the call's state, for
// the retry log.
func recordedBackoff(min, max time.Duration, attempt int, resp *http.Response) time.Duration {
	d := backoff(min, max, attempt, resp)
	if resp != nil && resp.Request != nil {
		if st, ok := resp.Request.Context().Value(callKey{}).(*callState); ok {
			st.lastWait = d
		}
	}
	return d
}

// backoff waits what Retry-After says, or min*2^attempt with full jitter in
// its upper half, capped at max.
func backoff(min, max time.Duration, attempt int, resp *http.Response) time.Duration {
	if resp != nil {
		if d, ok := parseRetryAfter(resp.Header.Get("Retry-After"), time.Now()); ok {
			return d
		}
	}
	d := max
	if attempt < 32 {
		if e := min << uint(attempt); e > 0 && e < max {
			d = e
		}
	}
	half := d / 2
	return half + rand.N(half+1)
}

// parseRetryAfter reads a Retry-After value in seconds or as an HTTP date.
func parseRetryAfter(v string, now time.Time) (time.Duration, bool) {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0, false
	}
	if s, err := strconv.ParseInt(v, 10, 64); err == nil {
		if s < 0 {
			return 0, false
		}
		if s > int64(24*time.Hour/time.Second) {
			s = int64(24 * time.Hour / time.Second)
		}
		return time.Duration(s) * time.Second, true
	}
	t, err := http.ParseTime(v)
	if err != nil {
		return 0, false
	}
	if d := t.Sub(now); d > 0 {
		return d, true
	}
	return 0, true
}

// transportError wraps a failure that produced no response.
func (c *Client) transportError(ctx context.Context, st *callState, err error) error {
	if ctxErr := ctx.Err(); ctxErr != nil && !errors.Is(err, ctxErr) {
		err = fmt.Errorf("%w (%v)", ctxErr, err)
	}
	return &TransportError{Method: st.method, Endpoint: st.template, Attempts: max(st.attempts, 1), Err: redactedError{err, c.auth}}
}

// redactedError scrubs the token from a wrapped error's text while keeping
// errors.Is and errors.As working through it.
type redactedError struct {
	err  error
	auth *secret
}

func (e redactedError) Error() string { return e.auth.redact(e.err.Error()) }

// Unwrap hands out the cause only if its own text is free of the token;
// otherwise errors.Is still sees through it, but nothing can print it.
func (e redactedError) Unwrap() error {
	if e.auth.redact(e.err.Error()) != e.err.Error() {
		return nil
	}
	return e.err
}

func (e redactedError) Is(target error) bool { return errors.Is(e.err, target) }

// TransportError is a call that got no HTTP response: a network failure, a
// refused TLS certificate, or the context ending, after Attempts tries.
type TransportError struct {
	Method   string
	Endpoint string
	Attempts int
	Err      error
}

// Error names the call, the attempts and the cause.
func (e *TransportError) Error() string {
	return fmt.Sprintf("librato: %s %s: no response after %d attempt(s): %v", e.Method, e.Endpoint, e.Attempts, e.Err)
}

// Unwrap gives the cause, so errors.Is(err, context.DeadlineExceeded) works.
func (e *TransportError) Unwrap() error { return e.Err }

// Sentinels for errors.Is on *APIError (and, for ErrForbidden, on
// *ErrForbiddenForRole).
var (
	ErrBadRequest    = errors.New("librato: bad request")         // 400
	ErrUnauthorized  = errors.New("librato: unauthorized")        // 401
	ErrForbidden     = errors.New("librato: forbidden")           // 403, or refused by the guard
	ErrNotFound      = errors.New("librato: not found")           // 404
	ErrAlreadyExists = errors.New("librato: already exists")      // 422
	ErrRateLimited   = errors.New("librato: rate limited")        // 429, or a 403 that says so
	ErrUnavailable   = errors.New("librato: service unavailable") // 5xx
	ErrTooLarge      = errors.New("librato: request too large")   // 413
)

// APIError is a non-2xx answer from the server, with the API's error body
// decoded. Use errors.Is with the Err sentinels to branch on the status.
type APIError struct {
	StatusCode int
	Method     string
	Endpoint   string              // the template, e.g. "/v1/metrics/:name"
	Params     map[string][]string // errors.params: messages per field
	Request    []string            // errors.request
	System     []string            // errors.system
	Message    string              // the start of a body that was not the API's JSON, such as a proxy's HTML page
	RateLimit  RateLimits
	RetryAfter time.Duration // from a Retry-After header, 0 if none
	Attempts   int
}

// RateLimits holds the X-Librato-RateLimit-Agg and -Std headers.
type RateLimits struct {
	Agg RateLimit
	Std RateLimit
}

// RateLimit is one rate-limit header: the limit, what remains of it, and
// when it resets. A zero Limit means the header was absent.
type RateLimit struct {
	Limit     int
	Remaining int
	Reset     time.Time
}

// Exhausted reports whether the header says nothing remains.
func (r RateLimit) Exhausted() bool { return r.Limit > 0 && r.Remaining <= 0 }

// Error gives the status and the API's messages.
func (e *APIError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "librato: %s %s: %d %s", e.Method, e.Endpoint, e.StatusCode, http.StatusText(e.StatusCode))
	sep := ": "
	if len(e.Params) > 0 {
		keys := make([]string, 0, len(e.Params))
		for k := range e.Params {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		for _, k := range keys {
			b.WriteString(sep)
			b.WriteString(k + " " + strings.Join(e.Params[k], ", "))
			sep = "; "
		}
	}
	for _, m := range append(append([]string(nil), e.Request...), e.System...) {
		b.WriteString(sep)
		b.WriteString(m)
		sep = "; "
	}
	if e.Message != "" && sep == ": " {
		b.WriteString(": ")
		b.WriteString(e.Message)
	}
	if e.Attempts > 1 {
		fmt.Fprintf(&b, " (after %d attempts)", e.Attempts)
	}
	return b.String()
}

// Is matches the sentinel for the status code.
func (e *APIError) Is(target error) bool {
	switch target {
	case ErrBadRequest:
		return e.StatusCode == http.StatusBadRequest
	case ErrUnauthorized:
		return e.StatusCode == http.StatusUnauthorized
	case ErrForbidden:
		return e.StatusCode == http.StatusForbidden
	case ErrNotFound:
		return e.StatusCode == http.StatusNotFound
	case ErrAlreadyExists:
		return e.StatusCode == http.StatusUnprocessableEntity
	case ErrRateLimited:
		return e.StatusCode == http.StatusTooManyRequests || (e.StatusCode == http.StatusForbidden && e.rateLimitedForbidden())
	case ErrUnavailable:
		return e.StatusCode >= 500
	case ErrTooLarge:
		return e.StatusCode == http.StatusRequestEntityTooLarge
	}
	return false
}

func (e *APIError) rateLimitedForbidden() bool {
	if e.RateLimit.Agg.Exhausted() || e.RateLimit.Std.Exhausted() {
		return true
	}
	for _, m := range e.Request {
		if strings.Contains(strings.ToLower(m), "rate limit") {
			return true
		}
	}
	return false
}

// Temporary reports whether trying again later may succeed: 429, 5xx and a
// rate-limited 403.
func (e *APIError) Temporary() bool {
	return e.Is(ErrRateLimited) || e.StatusCode >= 500
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
	buf := getReadBuf()
	defer putReadBuf(buf)
	_, _ = buf.ReadFrom(io.LimitReader(resp.Body, maxErrorBody))
	data := bytes.TrimSpace(buf.Bytes())
	if len(data) == 0 {
		return e
	}
	var eb errorBody
	if err := json.Unmarshal(data, &eb); err == nil && (eb.Errors.Params != nil || eb.Errors.Request != nil || eb.Errors.System != nil) {
		for k, v := range eb.Errors.Params {
			if e.Params == nil {
				e.Params = make(map[string][]string, len(eb.Errors.Params))
			}
			e.Params[c.auth.redact(k)] = c.messages(v)
		}
		e.Request = c.messages(eb.Errors.Request)
		e.System = c.messages(eb.Errors.System)
		return e
	}
	msg := string(data)
	if len(msg) > 200 {
		msg = msg[:200] + "..."
	}
	e.Message = c.auth.redact(strings.ToValidUTF8(msg, ""))
	return e
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
	s := string(raw)
	if len(s) > 200 {
		s = s[:200] + "..."
	}
	return []string{c.auth.redact(s)}
}

// parseRateLimit reads "limit=300,remaining=299,reset=1380000000".
func parseRateLimit(v string) RateLimit {
	var r RateLimit
	for v != "" {
		var part string
		part, v, _ = strings.Cut(v, ",")
		k, val, ok := strings.Cut(strings.TrimSpace(part), "=")
		if !ok {
			continue
		}
		n, err := strconv.ParseInt(strings.TrimSpace(val), 10, 64)
		if err != nil {
			continue
		}
		switch strings.ToLower(strings.TrimSpace(k)) {
		case "limit":
			r.Limit = int(n)
		case "remaining":
			r.Remaining = int(n)
		case "reset":
			r.Reset = time.Unix(n, 0)
		}
	}
	return r
}

// DecodeError is a 2xx answer whose body could not be read or decoded into
// the expected type; StatusCode tells what the server said.
type DecodeError struct {
	Method     string
	Endpoint   string
	StatusCode int
	Err        error
}

// Error names the call and why its body could not be used.
func (e *DecodeError) Error() string {
	return fmt.Sprintf("librato: %s %s: %d answer could not be decoded: %v", e.Method, e.Endpoint, e.StatusCode, e.Err)
}

// Unwrap gives the decoder's error.
func (e *DecodeError) Unwrap() error { return e.Err }

func (c *Client) decodeBody(resp *http.Response, out any, st *callState) error {
	if out == nil || resp.StatusCode == http.StatusNoContent {
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, maxErrorBody))
		return nil
	}
	buf := getReadBuf()
	defer putReadBuf(buf)
	n, err := buf.ReadFrom(io.LimitReader(resp.Body, c.maxBody+1))
	if err != nil {
		return &DecodeError{Method: st.method, Endpoint: st.template, StatusCode: resp.StatusCode, Err: redactedError{err, c.auth}}
	}
	if n > c.maxBody {
		return &DecodeError{Method: st.method, Endpoint: st.template, StatusCode: resp.StatusCode, Err: fmt.Errorf("body exceeds %d bytes; raise the cap with WithMaxResponseBytes", c.maxBody)}
	}
	data := bytes.TrimSpace(buf.Bytes())
	if len(data) == 0 {
		return nil
	}
	if err := json.Unmarshal(data, out); err != nil {
		return &DecodeError{Method: st.method, Endpoint: st.template, StatusCode: resp.StatusCode, Err: err}
	}
	return nil
}

var readPool = sync.Pool{New: func() any { return new(bytes.Buffer) }}

func getReadBuf() *bytes.Buffer { return readPool.Get().(*bytes.Buffer) }

func putReadBuf(b *bytes.Buffer) {
	if b.Cap() > 4<<20 {
		return
	}
	b.Reset()
	readPool.Put(b)
}

// log writes one debug record per call; never headers or bodies.
func (c *Client) log(ctx context.Context, st *callState, u *url.URL, status int, err error) {
	if c.logger == nil || !c.logger.Enabled(ctx, slog.LevelDebug) {
		return
	}
	attrs := []slog.Attr{
		slog.String("method", st.method),
		slog.String("endpoint", st.template),
		slog.String("path", u.EscapedPath()),
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
// unless nil, and a 2xx body is decoded into out unless out is nil. The
// guard classifies the path by the matrix; a path that matches no row is
// sent unless the guard is strict.
func (c *Client) Do(ctx context.Context, method, path string, body, out any) error {
	method = strings.ToUpper(strings.TrimSpace(method))
	if err := checkDoPath(path); err != nil {
		return err
	}
	if method == "" || strings.ContainsAny(method, " \t\r\n/") {
		return &ValidationError{Field: "method", Index: -1, Reason: "must be an HTTP method such as GET"}
	}
	row := defaultMatrix.lookup(method, path)
	template, _, _ := strings.Cut(path, "?")
	ep := &endpoint{method: method, template: template, row: row, retry: retrySafe(method, "")}
	if row != nil {
		ep.template = row.template
		ep.retry = retrySafe(method, row.template)
	}
	_, err := c.call(ctx, &request{ep: ep, rawPath: path, body: body, out: out})
	return err
}

// checkDoPath refuses paths that could reach another endpoint or host than
// they name: absolute URLs, empty or dot segments, fragments, control
// characters.
func checkDoPath(path string) error {
	bad := func(why string) error {
		return &ValidationError{Field: "path", Index: -1, Reason: why}
	}
	if !strings.HasPrefix(path, "/v1/") && path != "/v1" {
		return bad("must start with /v1/")
	}
	p, _, _ := strings.Cut(path, "?")
	if strings.ContainsAny(path, "#\\") {
		return bad("may not contain '#' or '\\'")
	}
	for _, r := range path {
		if r < 0x20 || r == 0x7f || r == ' ' {
			return bad("may not contain spaces or control characters; escape them")
		}
	}
	for _, seg := range strings.Split(p[1:], "/") {
		if seg == "" || seg == "." || seg == ".." {
			return bad("may not contain empty, '.' or '..' segments")
		}
	}
	if _, err := url.ParseRequestURI(path); err != nil {
		return bad("is not a valid escaped path")
	}
	return nil
}

// ListOptions pages through a list endpoint. Zero fields are left to the
// server: offset 0, length 100 (the maximum), the resource's own order.
type ListOptions struct {
	Offset  int    // results to skip
	Length  int    // page size, at most 100
	OrderBy string // a field the resource allows, such as "name"
	Sort    string // "asc" or "desc"
}

// MaxPageLength is the largest page the API returns.
const MaxPageLength = 100

func (o *ListOptions) encode(q url.Values) {
	if o == nil {
		return
	}
	if o.Offset > 0 {
		q.Set("offset", strconv.Itoa(o.Offset))
	}
	if o.Length > 0 {
		q.Set("length", strconv.Itoa(o.Length))
	}
	if o.OrderBy != "" {
		q.Set("orderby", o.OrderBy)
	}
	if o.Sort != "" {
		q.Set("sort", o.Sort)
	}
}

func (o *ListOptions) validate() error {
	if o == nil {
		return nil
	}
	switch {
	case o.Offset < 0:
		return &ValidationError{Field: "offset", Index: -1, Reason: "may not be negative"}
	case o.Length < 0 || o.Length > MaxPageLength:
		return &ValidationError{Field: "length", Index: -1, Reason: fmt.Sprintf("must be between 1 and %d (0 for the default)", MaxPageLength)}
	case o.Sort != "" && o.Sort != "asc" && o.Sort != "desc":
		return &ValidationError{Field: "sort", Index: -1, Reason: `must be "asc" or "desc"`}
	}
	return nil
}

// Query is the "query" block of a paginated answer.
type Query struct {
	Found  int `json:"found"`  // resources that match the filters
	Length int `json:"length"` // page size used
	Offset int `json:"offset"` // where this page starts
	Total  int `json:"total"`  // resources of this kind in the account
}

// pagedOptions is implemented by *ListOptions and, through embedding, by
// every list's option type.
type pagedOptions interface{ listOptions() *ListOptions }

func (o *ListOptions) listOptions() *ListOptions { return o }

// listPage is implemented by the one-page answer of a list endpoint.
type listPage[T any] interface{ page() ([]T, Query) }

// allPages yields every item of a list from opts' offset on, calling list
// page after page, until everything found was yielded, the server returns
// an empty page, or the caller stops. An error is yielded once and ends
// the sequence. opts is copied; the caller's value is never changed.
func allPages[T any, O any, PO interface {
	*O
	pagedOptions
}, L listPage[T]](ctx context.Context, opts PO, list func(context.Context, PO) (L, error)) iter.Seq2[T, error] {
	var base O
	if opts != nil {
		base = *opts
	}
	return func(yield func(T, error) bool) {
		o := base
		lo := PO(&o).listOptions()
		for {
			page, err := list(ctx, &o)
			if err != nil {
				var zero T
				yield(zero, err)
				return
			}
			items, q := page.page()
			for _, it := range items {
				if !yield(it, nil) {
					return
				}
			}
			next := lo.Offset + len(items)
			if len(items) == 0 || next >= q.Found {
				return
			}
			lo.Offset = next
		}
	}
}
