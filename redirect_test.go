package librato

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// redirectLab is a TLS and a plain loopback server behind a transport that
// dials every https port to the first and every http port to the second,
// so a test can use names and ports (example.com:443, api.example.com,
// example.com:8443, http://example.com) that the test certificate covers
// without reaching beyond this machine.
type redirectLab struct {
	tls, plain *httptest.Server
	targets    map[string]string // start-<name> redirects to targets[name]

	mu   sync.Mutex
	seen []seenRequest
}

type seenRequest struct {
	scheme, host, path string
	auth               bool
}

func newRedirectLab(t *testing.T) *redirectLab {
	lab := &redirectLab{targets: map[string]string{}}
	handler := func(scheme string) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			lab.mu.Lock()
			lab.seen = append(lab.seen, seenRequest{scheme, r.Host, r.URL.Path, r.Header.Get("Authorization") != ""})
			lab.mu.Unlock()
			name := strings.TrimPrefix(r.URL.Path, "/v1/metrics/")
			switch {
			case strings.HasPrefix(name, "start-"):
				w.Header().Set("Location", lab.targets[strings.TrimPrefix(name, "start-")])
				w.WriteHeader(http.StatusFound)
			case strings.HasPrefix(name, "bounce-"):
				// back to the origin after a detour
				http.Redirect(w, r, "https://example.com/v1/metrics/landed-"+strings.TrimPrefix(name, "bounce-"), http.StatusFound)
			default:
				fmt.Fprintf(w, `{"name":%q}`, name)
			}
		}
	}
	lab.tls = httptest.NewTLSServer(handler("https"))
	lab.plain = httptest.NewServer(handler("http"))
	t.Cleanup(lab.tls.Close)
	t.Cleanup(lab.plain.Close)
	return lab
}

// client returns an SDK client on base whose transport trusts the test
// certificate and dials as redirectLab says; mine, if set, is the
// caller's own redirect policy.
func (lab *redirectLab) client(t *testing.T, base string, mine func(*http.Request, []*http.Request) error) *Client {
	tr := lab.tls.Client().Transport.(*http.Transport).Clone()
	var d net.Dialer
	tr.DialContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
		_, port, _ := net.SplitHostPort(addr)
		target := lab.plain.Listener.Addr().String()
		if port == "443" || port == "8443" {
			target = lab.tls.Listener.Addr().String()
		}
		return d.DialContext(ctx, network, target)
	}
	c, err := NewClient(testEmail, testToken, WithBaseURL(base), WithHTTPClient(&http.Client{Transport: tr, CheckRedirect: mine}))
	require.NoError(t, err)
	t.Cleanup(c.CloseIdleConnections)
	return c
}

// requests returns what the servers saw for paths ending in suffix.
func (lab *redirectLab) requests(suffix string) []seenRequest {
	lab.mu.Lock()
	defer lab.mu.Unlock()
	var out []seenRequest
	for _, s := range lab.seen {
		if strings.HasSuffix(s.path, suffix) {
			out = append(out, s)
		}
	}
	return out
}

// TestRedirectPolicy follows redirects of every kind from an https origin
// and from a loopback http one: the credentials reach only the origin
// (host case and an explicit default port do not change it), a downgrade
// to http and a Location with userinfo are refused before anything is
// sent to them, and a hop that left the origin leaves the credentials
// behind for good.
func TestRedirectPolicy(t *testing.T) {
	lab := newRedirectLab(t)
	cases := []struct {
		name, base, target string
		keep               bool   // the landing request carries Authorization
		refused            string // else: the *RedirectError's reason contains this
	}{
		{name: "relative", base: "https://example.com", target: "/v1/metrics/landed-relative", keep: true},
		{name: "host-case", base: "https://example.com", target: "https://EXAMPLE.Com/v1/metrics/landed-host-case", keep: true},
		{name: "default-port", base: "https://example.com", target: "https://example.com:443/v1/metrics/landed-default-port", keep: true},
		{name: "case-and-port", base: "https://Example.com:443", target: "https://example.COM/v1/metrics/landed-case-and-port", keep: true},
		{name: "port", base: "https://example.com", target: "https://example.com:8443/v1/metrics/landed-port"},
		{name: "subdomain", base: "https://example.com", target: "https://api.example.com/v1/metrics/landed-subdomain"},
		{name: "ip", base: "https://example.com", target: "https://127.0.0.1/v1/metrics/landed-ip"},
		{name: "detour", base: "https://example.com", target: "https://api.example.com/v1/metrics/bounce-detour"},
		{name: "upgrade", base: "http://127.0.0.1", target: "https://127.0.0.1/v1/metrics/landed-upgrade"},
		{name: "plain-relative", base: "http://127.0.0.1", target: "/v1/metrics/landed-plain-relative", keep: true},
		{name: "plain-port", base: "http://127.0.0.1", target: "http://127.0.0.1:8080/v1/metrics/landed-plain-port"},
		{name: "plain-elsewhere", base: "http://127.0.0.1", target: "http://example.com/v1/metrics/landed-plain-elsewhere"},
		{name: "downgrade", base: "https://example.com", target: "http://example.com/v1/metrics/landed-downgrade", refused: "from https to plain http"},
		{name: "downgrade-port", base: "https://example.com", target: "http://example.com:8080/v1/metrics/landed-downgrade-port", refused: "from https to plain http"},
		{name: "downgrade-loopback", base: "https://127.0.0.1", target: "http://127.0.0.1/v1/metrics/landed-downgrade-loopback", refused: "from https to plain http"},
		{name: "userinfo", base: "https://example.com", target: "https://user:hunter2@example.com/v1/metrics/landed-userinfo", refused: "userinfo"},
		{name: "userinfo-token", base: "https://example.com", target: "https://" + url.QueryEscape(testEmail) + ":" + testToken + "@example.com/v1/metrics/landed-userinfo-token", refused: "userinfo"},
		{name: "userinfo-plain", base: "http://127.0.0.1", target: "http://user:hunter2@127.0.0.1/v1/metrics/landed-userinfo-plain", refused: "userinfo"},
	}
	for _, mine := range []func(*http.Request, []*http.Request) error{nil, func(*http.Request, []*http.Request) error { return nil }} {
		lab.mu.Lock()
		lab.seen = nil
		lab.mu.Unlock()
		for _, tc := range cases {
			lab.targets[tc.name] = tc.target
			c := lab.client(t, tc.base, mine)
			m, err := c.Metrics.Get(context.Background(), "start-"+tc.name)
			start := lab.requests("/start-" + tc.name)
			require.Len(t, start, 1, "%s: the first request is sent once, never retried", tc.name)
			assert.True(t, start[0].auth, "%s: the origin gets the credentials", tc.name)
			landed := lab.requests("/landed-" + tc.name)
			if tc.refused != "" {
				var re *RedirectError
				require.ErrorAs(t, err, &re, tc.name)
				assert.Contains(t, re.Reason, tc.refused, tc.name)
				assert.Equal(t, http.StatusFound, re.StatusCode, tc.name)
				assert.Equal(t, "/v1/metrics/:name", re.Endpoint, tc.name)
				assert.Contains(t, err.Error(), "/v1/metrics/start-"+tc.name, "%s: the error names where the redirect came from", tc.name)
				assert.Contains(t, err.Error(), "/v1/metrics/landed-"+tc.name, "%s: and where it pointed", tc.name)
				for _, verb := range []string{"%v", "%+v", "%#v"} {
					text := fmt.Sprintf(verb, err)
					assert.NotContains(t, text, testToken, tc.name)
					assert.NotContains(t, text, "hunter2", "%s: the Location's password is not repeated", tc.name)
				}
				assert.Empty(t, landed, "%s: nothing is sent to a refused redirect", tc.name)
				continue
			}
			require.NoError(t, err, tc.name)
			assert.Equal(t, "landed-"+tc.name, m.Name, tc.name)
			require.Len(t, landed, 1, tc.name)
			assert.Equal(t, tc.keep, landed[0].auth, "%s: Authorization on the landing request", tc.name)
			for _, b := range lab.requests("/bounce-" + tc.name) {
				assert.False(t, b.auth, "%s: the detour host gets no credentials", tc.name)
			}
		}
	}
}

// TestRedirectLoopStops checks that the SDK's policy keeps net/http's
// limit of 10 redirects, and that the error is not a decoded 3xx.
func TestRedirectLoopStops(t *testing.T) {
	n := 0
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n++
		http.Redirect(w, r, fmt.Sprintf("/v1/metrics/loop%d", n), http.StatusFound)
	}))
	defer srv.Close()
	c, err := NewClient(testEmail, testToken, WithBaseURL(srv.URL))
	require.NoError(t, err)
	_, err = c.Metrics.Get(context.Background(), "loop")
	var te *TransportError
	require.ErrorAs(t, err, &te)
	assert.Contains(t, err.Error(), "stopped after 10 redirects")
	assert.Equal(t, 10, n, "ten requests, not retried")
	var ae *APIError
	assert.False(t, errors.As(err, &ae))
}
