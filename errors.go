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
	"unicode"
	"unicode/utf8"
)

// transportError wraps a failure that produced no response after attempts
// tries. A redirect the client refused is returned as the *RedirectError,
// and one the guard refused as the *ErrForbiddenForRole: nothing was sent
// to their targets.
func (c *Client) transportError(ctx context.Context, ep *endpoint, attempts int, err error) error {
	var re *RedirectError
	if errors.As(err, &re) {
		out := *re
		out.Method, out.Endpoint = ep.method, ep.template
		out.From, out.To = c.auth.redact(out.From), c.auth.redact(out.To)
		return &out
	}
	var fe *ErrForbiddenForRole
	if errors.As(err, &fe) {
		return fe
	}
	if ctxErr := ctx.Err(); ctxErr != nil && !errors.Is(err, ctxErr) {
		err = fmt.Errorf("%w (%v)", ctxErr, err)
	}
	return &TransportError{Method: ep.method, Endpoint: ep.template, Attempts: max(attempts, 1), Err: c.redactedError(err)}
}

// redactedError scrubs the token from a wrapped error's text while keeping
// errors.Is working through it. If the cause's own text holds the token,
// only its redacted text is kept (and whether it was the end of a
// context), so no printer can reach the token through the cause's fields.
type redactedError struct {
	err      error  // the cause, if its text is free of the token
	text     string // the cause's text, redacted
	canceled bool
	deadline bool
}

func (c *Client) redactedError(err error) redactedError {
	text := err.Error()
	r := redactedError{text: c.auth.redact(text)}
	if r.text == text {
		r.err = err
	}
	r.canceled = errors.Is(err, context.Canceled)
	r.deadline = errors.Is(err, context.DeadlineExceeded)
	return r
}

func (e redactedError) Error() string { return e.text }

// Unwrap hands out the cause only if its own text is free of the token.
func (e redactedError) Unwrap() error { return e.err }

// Is matches the context's errors even when the cause was not kept.
func (e redactedError) Is(target error) bool {
	return target == context.Canceled && e.canceled || target == context.DeadlineExceeded && e.deadline
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
	return escapeText(fmt.Sprintf("librato: %s %s: no response after %d attempt(s): %v", e.Method, e.Endpoint, e.Attempts, e.Err))
}

// Unwrap gives the cause, so errors.Is(err, context.DeadlineExceeded) works.
func (e *TransportError) Unwrap() error { return e.Err }

// Temporary reports whether trying again later may succeed, by the retry
// table of the package doc: a network failure may, a refused certificate or
// a malformed request will not.
func (e *TransportError) Temporary() bool { return retryableError(e.Err) }

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
	RetryAfter time.Duration // the wait the server asked for: Retry-After, or until an exhausted rate limit resets; 0 if none
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
	return escapeText(b.String())
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
	if e.RateLimit.exhausted() {
		return true
	}
	for _, m := range e.Request {
		if strings.Contains(strings.ToLower(m), "rate limit") {
			return true
		}
	}
	return false
}

// Temporary reports whether trying again later may succeed, by the retry
// table of the package doc: 408, 425, 429, 500, 502, 503, 504, and a 403
// whose rate-limit headers show nothing remaining. The batchers keep what
// such an answer refused and send it again; a typed call has already
// retried it as many times as WithMaxAttempts allows.
func (e *APIError) Temporary() bool {
	return retryableStatus(e.StatusCode, e.RateLimit.exhausted())
}

// rateLimitsOf reads the X-Librato-RateLimit-Agg and -Std headers.
func rateLimitsOf(h http.Header) RateLimits {
	return RateLimits{Agg: parseRateLimit(h.Get("X-Librato-RateLimit-Agg")), Std: parseRateLimit(h.Get("X-Librato-RateLimit-Std"))}
}

// exhausted reports whether either limit shows nothing remaining.
func (r RateLimits) exhausted() bool { return r.Agg.Exhausted() || r.Std.Exhausted() }

// untilReset is how long until the exhausted limits reset, 0 if unknown.
func (r RateLimits) untilReset(now time.Time) time.Duration {
	var d time.Duration
	for _, l := range []RateLimit{r.Agg, r.Std} {
		if l.Exhausted() && !l.Reset.IsZero() {
			d = max(d, l.Reset.Sub(now))
		}
	}
	return d
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
	return escapeText(fmt.Sprintf("librato: %s %s: %d answer could not be decoded: %v", e.Method, e.Endpoint, e.StatusCode, e.Err))
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
	return escapeText(fmt.Sprintf("librato: %s %s: refused the %d redirect from %s to %s: %s; fix the server's redirect or point WithBaseURL at the final URL",
		e.Method, e.Endpoint, e.StatusCode, e.From, e.To, e.Reason))
}

// escapeText writes the control characters, the Unicode format characters
// (bidirectional overrides, zero-width ones) and the invalid bytes of s as
// Go escapes (\x1b, \u202e), so that text a server or a caller chose
// cannot forge lines or colours in a log or a terminal when an error is
// printed. The error types keep their fields as they came; only their
// Error text goes through here.
func escapeText(s string) string {
	i := strings.IndexFunc(s, needsEscape)
	if i < 0 {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + 16)
	b.WriteString(s[:i])
	for _, r := range s[i:] {
		switch {
		case r == utf8.RuneError:
			b.WriteString(`\ufffd`)
		case needsEscape(r) && r < 0x100:
			fmt.Fprintf(&b, `\x%02x`, r)
		case needsEscape(r):
			fmt.Fprintf(&b, `\u%04x`, r)
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

func needsEscape(r rune) bool {
	return r == utf8.RuneError || unicode.IsControl(r) || unicode.Is(unicode.Cf, r)
}
