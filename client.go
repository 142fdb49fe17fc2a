//go:generate go run ./internal/readmegen
package librato

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"runtime"
	"strings"
	"sync/atomic"
	"time"

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
	// DefaultMaxRetryWait is the longest wait the client honours before a
	// retry; see WithMaxRetryWait.
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
	// Legacy submits and reads the gauges and counters of the legacy
	// (source-based) API.
	Legacy *LegacyService

	common service

	auth      *secret // the token sealed, so that no printer shows it
	base      *url.URL
	role      Role
	strict    bool
	userAgent []string
	logger    *slog.Logger
	hc        *http.Client
	retry     retryPolicy
	maxBody   int64
	gzip      *atomic.Bool // compress request bodies; cleared for good by a 415

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
// The credentials go only to the base URL's origin and path: a redirect
// keeps the Authorization header only while every hop stays on the origin
// (scheme, host and port, compared as URLs compare them) and under the base
// URL's path, and each such hop is classified again by the guard, so a
// redirect cannot lead a token to an endpoint its role may not call. A
// redirect from https to plain http, or to a Location with userinfo, is
// refused with a *RedirectError before anything is sent to it.
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
		baseURL: DefaultBaseURL,
		retry: retryPolicy{
			maxAttempts: DefaultMaxAttempts,
			minBackoff:  DefaultMinBackoff,
			maxBackoff:  DefaultMaxBackoff,
			maxWait:     DefaultMaxRetryWait,
		},
		maxBody:  DefaultMaxResponseBytes,
		compress: true,
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
	ua := "librato-go/" + Version + " (" + runtime.Version() + ")"
	if cfg.userAgent != "" {
		ua = cfg.userAgent + " " + ua
	}
	c := &Client{
		auth:      newSecret(strings.TrimSpace(email), token),
		base:      base,
		role:      cfg.role,
		strict:    cfg.strict,
		userAgent: []string{ua},
		logger:    cfg.logger,
		retry:     cfg.retry,
		maxBody:   cfg.maxBody,
		gzip:      new(atomic.Bool),
	}
	c.gzip.Store(cfg.compress)
	c.hc = c.safeHTTPClient(cfg.httpClient)

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
	c.Legacy = (*LegacyService)(&c.common)
	return c, nil
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
func (c *Client) CloseIdleConnections() { c.hc.CloseIdleConnections() }

// endpoint is one route of the endpoint table a call goes to: its matrix
// row, found when the program starts, and whether a retry is safe.
type endpoint struct {
	method   string
	template string
	row      *endpoints.Row // nil only for a Do path that matches no row
	retry    bool
	nparams  int
}

// newEndpoint declares the route of a typed method. A method and template
// that are not a row of the embedded matrix stop the program when it
// starts: the matrix is the one list of endpoints.
func newEndpoint(method, template string) *endpoint {
	row := endpoints.All.Lookup(method, template)
	if row == nil {
		panic("librato: " + method + " " + template + " is not a row of the embedded permission matrix")
	}
	return endpointOf(row)
}

func endpointOf(row *endpoints.Row) *endpoint {
	return &endpoint{method: row.Method, template: row.Template, row: row, retry: retrySafe(row.Method, row.Template), nparams: strings.Count(row.Template, ":")}
}

// request is everything one call of the pipeline needs.
type request struct {
	ep      *endpoint
	params  []string     // path parameters in template order, unescaped
	opts    queryOptions // validated, then encoded as the query; may be nil
	body    any          // validated if it can be, then JSON-encoded; nil for none
	out     any          // decoded from a 2xx body; nil to discard
	rawURL  string       // a server-given absolute URL to follow instead of the template
	rawPath string       // for Do: an already checked path, with optional query
	noGuard bool         // only DetectRole's probes
	once    bool         // one attempt: the batchers retry themselves
	sent    func(int)    // hears the body bytes of each attempt; may be nil
}

// response is what callers learn of a 2xx answer besides the body.
type response struct {
	status   int
	location string
}

// validator is implemented by request bodies the API documents rules for;
// the pipeline runs it after the guard and before anything is built.
type validator interface{ validate() error }

// queryOptions is implemented by the option types of GET endpoints.
type queryOptions interface {
	validator
	encode(url.Values)
}

// call runs the pipeline: check the path parameters, guard, validate,
// build, send (retrying as the retry table says), decode. Every error it
// returns is free of the token.
func (c *Client) call(ctx context.Context, r *request) (_ *response, err error) {
	if ctx == nil {
		return nil, errNilContext
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
	// 1. path parameters, then the guard; a server-given link by the path it names
	if r.rawURL == "" && r.rawPath == "" {
		if err := checkParams(ep, r.params); err != nil {
			return nil, err
		}
	}
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
			return nil, err
		}
	}
	if v, ok := r.body.(validator); ok {
		if err := v.validate(); err != nil {
			return nil, err
		}
	}
	if err := ctx.Err(); err != nil {
		return nil, &TransportError{Method: ep.method, Endpoint: ep.template, Err: err}
	}
	// 2. build
	u := link
	if u == "" {
		u = c.buildURL(r)
	}
	var body *requestBody
	if r.body != nil {
		if body, err = c.encodeBody(ep, r.body); err != nil {
			return nil, fmt.Errorf("librato: %s %s: encoding the request body: %w", ep.method, ep.template, err)
		}
		defer body.release()
	}
	// 3. send
	started := time.Now()
	resp, attempts, err := c.send(ctx, r, u, body)
	if err != nil {
		c.log(ctx, ep, u, started, 0, attempts, err)
		return nil, err
	}
	defer resp.Body.Close()
	// 4. decode
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		apiErr := c.decodeError(resp, ep, attempts)
		c.log(ctx, ep, u, started, resp.StatusCode, attempts, apiErr)
		return nil, apiErr
	}
	if err := c.decodeBody(resp, r.out, ep); err != nil {
		c.log(ctx, ep, u, started, resp.StatusCode, attempts, err)
		return nil, err
	}
	c.log(ctx, ep, u, started, resp.StatusCode, attempts, nil)
	return &response{status: resp.StatusCode, location: resp.Header.Get("Location")}, nil
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

// callForJob runs a call that answers 204 when done at once, or 202 with a
// job (in the body, or only as the Location header) when queued. Done at
// once, it returns a finished Job with ID 0, so a caller never meets a nil
// Job without an error.
func (c *Client) callForJob(ctx context.Context, r *request) (*Job, error) {
	var job Job
	r.out = &job
	res, err := c.call(ctx, r)
	if err != nil {
		return nil, err
	}
	if res.status != http.StatusAccepted {
		return &Job{State: JobComplete}, nil
	}
	if job.ID == 0 {
		job.ID = idFromLocation(res.location)
	}
	if job.State == "" {
		job.State = JobQueued
	}
	return &job, nil
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

// log writes one debug record per call; never headers or bodies.
func (c *Client) log(ctx context.Context, ep *endpoint, u string, started time.Time, status, attempts int, err error) {
	if c.logger == nil || !c.logger.Enabled(ctx, slog.LevelDebug) {
		return
	}
	path := u
	if pu, perr := url.Parse(u); perr == nil {
		path = pu.EscapedPath()
	}
	attrs := []slog.Attr{
		slog.String("method", ep.method),
		slog.String("endpoint", c.auth.redact(ep.template)),
		slog.String("path", c.auth.redact(path)),
		slog.Int("status", status),
		slog.Int("attempts", max(attempts, 1)),
		slog.Duration("elapsed", time.Since(started)),
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
	template, _, _ := strings.Cut(clean, "?")
	ep := &endpoint{method: method, template: c.auth.redact(template), retry: retrySafe(method, "")}
	if row := endpoints.All.Match(method, template); row != nil {
		ep = endpointOf(row)
	}
	_, err = c.call(ctx, &request{ep: ep, rawPath: clean, body: body, out: out})
	return err
}

// scrub makes sure an error of the pipeline holds no spelling of the
// token. The SDK's own error types are built scrubbed (their fields
// redacted, their causes wrapped in redactedError); a validation error,
// which may quote the caller's input, is redacted here; anything else is
// wrapped if its text needs it.
func (c *Client) scrub(err error) error {
	switch e := err.(type) {
	case *APIError, *DecodeError, *TransportError, *RedirectError, *ErrForbiddenForRole, *PaginationError, redactedError:
		return err
	case *ValidationError:
		e.Reason = c.auth.redact(e.Reason)
		e.Field = c.auth.redact(e.Field)
		return e
	}
	if text := err.Error(); c.auth.redact(text) != text {
		return c.redactedError(err)
	}
	return err
}
