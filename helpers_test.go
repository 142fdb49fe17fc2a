package librato

import (
	"compress/gzip"
	"fmt"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/jarcoal/httpmock"
	"github.com/stretchr/testify/require"
)

// Test credentials; testToken is recognisable so leak tests can search for it.
const (
	testEmail = "ops@example.com"
	testToken = "tok3n-SECRET-5f2a9c0d1e"
	// testBase mounts the fake API under a path prefix, so a method that
	// builds an absolute URL of its own misses the responders and fails.
	testBase = "https://api.test/prefix"
)

// newMockClient returns a client whose transport is an httpmock transport
// with no responders registered; the test adds them.
func newMockClient(t testing.TB, opts ...Option) (*Client, *httpmock.MockTransport) {
	t.Helper()
	mt := httpmock.NewMockTransport()
	all := append([]Option{
		WithBaseURL(testBase),
		WithHTTPClient(&http.Client{Transport: mt}),
		WithBackoff(time.Millisecond, 4*time.Millisecond),
	}, opts...)
	c, err := NewClient(testEmail, testToken, all...)
	require.NoError(t, err)
	// Unmatched requests fail the call and, unlike httpmock's default,
	// count in GetTotalCallCount, so "nothing was sent" checks mean it.
	mt.RegisterNoResponder(func(req *http.Request) (*http.Response, error) {
		return nil, fmt.Errorf("test: no responder for %s %s", req.Method, req.URL)
	})
	return c, mt
}

// readRequestBody reads a request's body as the server sees it: gunzipped
// when it says Content-Encoding: gzip, as submissions do by default.
func readRequestBody(req *http.Request) ([]byte, error) {
	var r io.Reader = req.Body
	if req.Header.Get("Content-Encoding") == "gzip" {
		zr, err := gzip.NewReader(req.Body)
		if err != nil {
			return nil, err
		}
		r = zr
	}
	return io.ReadAll(r)
}
