package librato

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"
)

// Option configures a Client in NewClient.
type Option func(*config) error

type config struct {
	role       Role
	baseURL    string
	httpClient *http.Client
	userAgent  string
	strict     bool
	logger     *slog.Logger
	retry      retryPolicy
	maxBody    int64
	compress   bool
}

// WithRole declares the role the token was issued with, by its API name or
// its UI label (as ParseRole reads them). Calls the role may not make are
// then refused with *ErrForbiddenForRole before anything is sent. An
// unknown role makes NewClient fail.
func WithRole(r Role) Option {
	return func(c *config) error {
		parsed, err := ParseRole(string(r))
		if err != nil {
			return err
		}
		c.role = parsed
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
// retries wrap it. The client is copied, not changed: the copy applies the
// SDK's redirect policy (see NewClient) before the client's own
// CheckRedirect, if it has one. Its transport's idle pool should hold as
// many connections per host as requests run at once (a Batcher's
// MaxConcurrency), or busy periods re-dial and re-handshake; see
// DefaultMaxConnsPerHost for what the default transport does.
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
		c.retry.maxAttempts = n
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
		c.retry.minBackoff, c.retry.maxBackoff = min, max
		return nil
	}
}

// WithMaxRetryWait caps how long the client waits before a retry when the
// server asks for a wait with Retry-After or an exhausted rate limit
// (default DefaultMaxRetryWait). When an answer asks for longer, a typed
// call returns it at once as an *APIError with RetryAfter set, so the
// caller decides whether to wait; a Batcher or LegacyBatcher, which keeps
// its data, waits the cap and tries again, so a hostile or broken gateway
// can slow delivery but not park it. 0 never waits for a Retry-After. The
// cap applies to each wait, not to a call's total; the backoff of
// WithBackoff is not affected.
func WithMaxRetryWait(d time.Duration) Option {
	return func(c *config) error {
		if d < 0 {
			return fmt.Errorf("librato: WithMaxRetryWait(%v): need 0 or more", d)
		}
		c.retry.maxWait = d
		return nil
	}
}

// WithMaxResponseBytes caps how much of a success body the client reads
// (default DefaultMaxResponseBytes); a larger body fails the call with a
// *DecodeError instead of exhausting memory. A body whose Content-Length
// is over the cap is refused unread; one without (chunked, or gzip that
// net/http decompresses) is read in blocks that stop at the cap, so a call
// never holds much more than the cap, however large the body.
func WithMaxResponseBytes(n int64) Option {
	return func(c *config) error {
		if n <= 0 {
			return fmt.Errorf("librato: WithMaxResponseBytes(%d): need a positive size", n)
		}
		c.maxBody = n
		return nil
	}
}

// WithoutRetries makes every call a single attempt. The one resend it
// keeps is a body refused with 415 for its gzip, sent again uncompressed:
// that is the same request in another encoding, not a retry.
func WithoutRetries() Option { return WithMaxAttempts(1) }

// WithoutCompression sends request bodies as plain JSON. By default
// measurement submissions, and other bodies of a kilobyte or more, go out
// gzipped (Content-Encoding: gzip), which cuts the bytes of a typical batch
// tenfold; a server that answers 415 to a gzipped body gets that request
// again in plain JSON, and the client compresses nothing after that.
func WithoutCompression() Option {
	return func(c *config) error { c.compress = false; return nil }
}
