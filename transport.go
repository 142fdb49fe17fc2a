package librato

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"

	"github.com/librato-sdk/librato-go/internal/endpoints"
)

// DefaultMaxConnsPerHost is how many connections the client's own transport
// opens to the API, and keeps idle: as many as the largest window of a
// Batcher (DefaultMaxConcurrency). A full window thus reuses its
// connections instead of paying a TCP and a TLS handshake for each request
// over the pool's size, and a burst cannot make the process dial more;
// a call made while every connection is busy waits for one, at most about
// a round trip. With WithHTTPClient, or a MaxConcurrency above the
// default, size the transport's MaxConnsPerHost and MaxIdleConnsPerHost
// to the window.
const DefaultMaxConnsPerHost = DefaultMaxConcurrency

// parseBaseURL checks and normalises the API root: absolute, no userinfo,
// query or fragment, https (or http to a loopback host), no trailing '/'.
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

// defaultTransport is a fresh transport with the standard library's dial,
// TLS handshake and idle timeouts, a response header timeout, TLS
// verification on, and DefaultMaxConnsPerHost connections, all kept idle,
// since one client talks to one host.
func defaultTransport() *http.Transport {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxIdleConns = max(t.MaxIdleConns, DefaultMaxConnsPerHost)
	t.MaxIdleConnsPerHost = DefaultMaxConnsPerHost
	t.MaxConnsPerHost = DefaultMaxConnsPerHost
	t.ResponseHeaderTimeout = DefaultTimeout
	return t
}

// safeHTTPClient copies h (or builds a default with timeouts) and installs
// the redirect policy NewClient documents; h's own CheckRedirect, if any,
// runs after it.
func (c *Client) safeHTTPClient(h *http.Client) *http.Client {
	var hc http.Client
	if h != nil {
		hc = *h
	} else {
		hc = http.Client{Timeout: DefaultTimeout, Transport: defaultTransport()}
	}
	next := hc.CheckRedirect
	hc.CheckRedirect = func(req *http.Request, via []*http.Request) error {
		if err := c.checkRedirect(req, via); err != nil {
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
	return &hc
}

// checkRedirect refuses a redirect to userinfo or from https to http, and
// sends the credentials on only while every hop is on the base URL's
// origin and under its path; such a hop is classified by the guard, which
// may refuse it. net/http alone would keep the header on a scheme or port
// change of the same host, and on a subdomain.
func (c *Client) checkRedirect(req *http.Request, via []*http.Request) error {
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
	keep := first.Header["Authorization"] != nil
	for _, hop := range append(via[1:], req) {
		keep = keep && c.withinBase(hop.URL)
	}
	if !keep {
		req.Header.Del("Authorization")
		return nil
	}
	clean, err := cleanPath(req.URL.EscapedPath()[len(c.base.EscapedPath()):])
	if err != nil {
		return redirectRefused(req, prev, "its path "+err.Error())
	}
	row := endpoints.All.Match(req.Method, clean)
	template := c.auth.redact(clean)
	if row != nil {
		template = row.Template
	}
	if err := c.guard(req.Method, template, row); err != nil {
		return err
	}
	req.Header["Authorization"] = first.Header["Authorization"]
	return nil
}

// withinBase reports whether u is on the base URL's origin and under its
// path, where the credentials may go.
func (c *Client) withinBase(u *url.URL) bool {
	return sameOrigin(c.base, u) && strings.HasPrefix(u.EscapedPath(), c.base.EscapedPath()+"/")
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
