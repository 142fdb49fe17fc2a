package librato

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
)

// transportError wraps a failure that produced no final response. Two
// cases are not transport failures: a redirect the client refused, returned
// as the *RedirectError, and the context ending while the client waited to
// retry after a 429 or 5xx, returned as that answer's *APIError with Err set
// to the context's error.
func (c *Client) transportError(ctx context.Context, st *callState, err error) error {
	var re *RedirectError
	if errors.As(err, &re) {
		out := *re
		out.Method, out.Endpoint = st.method, st.template
		out.From, out.To = c.auth.redact(out.From), c.auth.redact(out.To)
		return &out
	}
	ctxErr := ctx.Err()
	if ctxErr != nil && st.pending != nil {
		e := st.pending
		e.Attempts = max(st.attempts, 1)
		e.Err = ctxErr
		return e
	}
	if ctxErr != nil && !errors.Is(err, ctxErr) {
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

// GoString keeps %#v of an error that holds this one from printing the
// cause's fields, which may hold the token.
func (e redactedError) GoString() string {
	return "librato.redactedError{" + strconv.Quote(e.Error()) + "}"
}

// TransportError is a call that got no HTTP response: a network failure, a
// refused TLS certificate, or the context ending, after Attempts tries. A
// context that ends while the client waits to retry after a 429 or 5xx is
// not one: that answer's *APIError is returned, with Err set.
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
	// Err is set when the client was waiting to retry after this answer and
	// the context ended: it is the context's error, so errors.Is(err,
	// context.DeadlineExceeded) holds as well as errors.Is(err,
	// ErrRateLimited) or ErrUnavailable.
	Err error
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
	if e.Err != nil {
		b.WriteString("; stopped waiting to retry: ")
		b.WriteString(e.Err.Error())
	}
	return b.String()
}

// Unwrap gives the context's error when the wait for a retry was cut
// short, nil otherwise.
func (e *APIError) Unwrap() error { return e.Err }

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

// RedirectError is a redirect the client refused to follow, before
// sending anything to its target: one from https to plain http, which
// would expose the credentials, or one whose Location carries credentials
// of its own (user:password@), which net/http would send as Basic auth in
// place of the client's. From and To are the URLs without their userinfo
// and query. Fix the server's redirect, or point WithBaseURL at the final
// URL.
type RedirectError struct {
	Method     string
	Endpoint   string
	StatusCode int // the redirect's status, such as 301 or 307
	From       string
	To         string
	Reason     string
}

// Error names the call, the redirect and why it was refused.
func (e *RedirectError) Error() string {
	return fmt.Sprintf("librato: %s %s: refused the %d redirect from %s to %s: %s; fix the server's redirect or point WithBaseURL at the final URL",
		e.Method, e.Endpoint, e.StatusCode, e.From, e.To, e.Reason)
}
