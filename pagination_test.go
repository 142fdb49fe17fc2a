package librato

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jarcoal/httpmock"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// drain runs a sequence to its end and returns how many items it yielded
// and the errors it yielded.
func drain[T any](seq func(func(T, error) bool)) (int, []error) {
	n := 0
	var errs []error
	seq(func(_ T, err error) bool {
		if err != nil {
			errs = append(errs, err)
		} else {
			n++
		}
		return true
	})
	return n, errs
}

// requireStalled checks errs is one *PaginationError for endpoint.
func requireStalled(t *testing.T, errs []error, endpoint string, requests int, reason string) {
	t.Helper()
	require.Len(t, errs, 1)
	require.ErrorIs(t, errs[0], ErrPaginationStalled)
	var pe *PaginationError
	require.ErrorAs(t, errs[0], &pe)
	assert.Equal(t, "GET", pe.Method)
	assert.Equal(t, endpoint, pe.Endpoint)
	assert.Equal(t, requests, pe.Requests)
	assert.Contains(t, pe.Reason, reason)
	assert.Contains(t, errs[0].Error(), endpoint)
}

// listIterators are every offset-paginated iterator, with the path and
// items key of its list endpoint.
var listIterators = []struct {
	path, key string
	all       func(ctx context.Context, c *Client) func(func(struct{}, error) bool)
}{
	{"/v1/metrics", "metrics", func(ctx context.Context, c *Client) func(func(struct{}, error) bool) {
		return erase(c.Metrics.All(ctx, nil))
	}},
	{"/v1/alerts", "alerts", func(ctx context.Context, c *Client) func(func(struct{}, error) bool) {
		return erase(c.Alerts.All(ctx, nil))
	}},
	{"/v1/annotations", "annotations", func(ctx context.Context, c *Client) func(func(struct{}, error) bool) {
		return erase(c.Annotations.All(ctx, nil))
	}},
	{"/v1/api_tokens", "api_tokens", func(ctx context.Context, c *Client) func(func(struct{}, error) bool) {
		return erase(c.APITokens.All(ctx, nil))
	}},
	{"/v1/spaces", "spaces", func(ctx context.Context, c *Client) func(func(struct{}, error) bool) {
		return erase(c.Spaces.All(ctx, nil))
	}},
	{"/v1/services", "services", func(ctx context.Context, c *Client) func(func(struct{}, error) bool) {
		return erase(c.Services.All(ctx, nil))
	}},
}

func erase[T any](seq func(func(T, error) bool)) func(func(struct{}, error) bool) {
	return func(yield func(struct{}, error) bool) {
		seq(func(_ T, err error) bool { return yield(struct{}{}, err) })
	}
}

// TestEveryIteratorEndsOnAServerThatIgnoresOffset answers every page of
// every list with the same first page and a huge found: each iterator must
// stop at the second request with ErrPaginationStalled.
func TestEveryIteratorEndsOnAServerThatIgnoresOffset(t *testing.T) {
	for _, it := range listIterators {
		c, mt := newMockClient(t)
		mt.RegisterResponder("GET", testBase+it.path, httpmock.NewStringResponder(200,
			`{"query":{"found":1000000000,"length":2,"offset":0,"total":1000000000},"`+it.key+`":[{},{}]}`))
		n, errs := drain(it.all(context.Background(), c))
		requireStalled(t, errs, it.path, 2, "offset 0")
		assert.Equal(t, 2, n, "%s: the first page is yielded, not the repeat", it.path)
		assert.Equal(t, 2, mt.GetTotalCallCount(), it.path)
	}
}

// TestPaginationStallsOnAnOffsetThatDoesNotAdvance has the server go back
// to an earlier position on the third page.
func TestPaginationStallsOnAnOffsetThatDoesNotAdvance(t *testing.T) {
	c, mt := newMockClient(t)
	mt.RegisterResponder("GET", testBase+"/v1/metrics", func(req *http.Request) (*http.Response, error) {
		off, _ := strconv.Atoi(req.URL.Query().Get("offset"))
		if off >= 4 {
			off = 1 // a server that loses its place
		}
		return httpmock.NewStringResponse(200, fmt.Sprintf(`{"query":{"found":100,"length":2,"offset":%d},"metrics":[{"name":"a%d"},{"name":"b%d"}]}`, off, off, off)), nil
	})
	n, errs := drain(c.Metrics.All(context.Background(), &ListOptions{Length: 2}))
	requireStalled(t, errs, "/v1/metrics", 3, "offset 1 for the page after offset 2")
	assert.Equal(t, 4, n)
	assert.Equal(t, 3, mt.GetTotalCallCount())
}

// TestPaginationIsBounded has a server that echoes every offset and
// claims a billion items, but repeats its items: the iterator gives up
// after MaxPaginationRequests requests.
func TestPaginationIsBounded(t *testing.T) {
	c, mt := newMockClient(t)
	mt.RegisterResponder("GET", testBase+"/v1/spaces", func(req *http.Request) (*http.Response, error) {
		off := req.URL.Query().Get("offset")
		if off == "" {
			off = "0"
		}
		return httpmock.NewStringResponse(200, `{"query":{"found":1000000000,"length":1,"offset":`+off+`},"spaces":[{"id":1,"name":"same"}]}`), nil
	})
	n, errs := drain(c.Spaces.All(context.Background(), &ListOptions{Length: 1}))
	requireStalled(t, errs, "/v1/spaces", MaxPaginationRequests, "1000000000")
	assert.Equal(t, MaxPaginationRequests, n)
	assert.Equal(t, MaxPaginationRequests, mt.GetTotalCallCount())
}

// TestPaginationEndsAsTheReferenceSays covers the ordinary ends: found
// reached, a page shorter than its length, an empty page.
func TestPaginationEndsAsTheReferenceSays(t *testing.T) {
	cases := []struct {
		name  string
		pages map[string]string // by offset
		items int
		calls int
	}{
		{"found", map[string]string{
			"":  `{"query":{"found":3,"length":2,"offset":0},"metrics":[{"name":"a"},{"name":"b"}]}`,
			"2": `{"query":{"found":3,"length":2,"offset":2},"metrics":[{"name":"c"}]}`,
		}, 3, 2},
		{"short page", map[string]string{
			"": `{"query":{"found":500,"length":100,"offset":0},"metrics":[{"name":"a"},{"name":"b"}]}`,
		}, 2, 1},
		{"empty page", map[string]string{
			"":  `{"query":{"found":50,"length":2,"offset":0},"metrics":[{"name":"a"},{"name":"b"}]}`,
			"2": `{"query":{"found":50,"length":2,"offset":2},"metrics":[]}`,
		}, 2, 2},
		{"no query block", map[string]string{
			"": `{"metrics":[{"name":"a"},{"name":"b"}]}`,
		}, 2, 1},
	}
	for _, tc := range cases {
		c, mt := newMockClient(t)
		mt.RegisterResponder("GET", testBase+"/v1/metrics", func(req *http.Request) (*http.Response, error) {
			body, ok := tc.pages[req.URL.Query().Get("offset")]
			if !ok {
				return httpmock.NewStringResponse(500, ``), nil
			}
			return httpmock.NewStringResponse(200, body), nil
		})
		n, errs := drain(c.Metrics.All(context.Background(), &ListOptions{Length: 2}))
		assert.Empty(t, errs, tc.name)
		assert.Equal(t, tc.items, n, tc.name)
		assert.Equal(t, tc.calls, mt.GetTotalCallCount(), tc.name)
	}
}

const measurementsPage = `{"name":"cpu","resolution":60,"series":[{"tags":{"host":"a"},"measurements":[]}],"links":[{"rel":"next","href":"%s"}]}`

// TestMeasurementsAllEndsOnRepeatedLinks answers with a next link to the
// same page, and with a cycle of two, and with fresh links forever.
func TestMeasurementsAllEndsOnRepeatedLinks(t *testing.T) {
	q := &MeasurementsQuery{Duration: time.Hour, Resolution: time.Minute}
	link := func(page string) string { return testBase + "/v1/measurements/cpu?page=" + page }
	t.Run("itself", func(t *testing.T) {
		c, mt := newMockClient(t)
		mt.RegisterResponder("GET", testBase+"/v1/measurements/cpu", httpmock.NewStringResponder(200, fmt.Sprintf(measurementsPage, link("same"))))
		n, errs := drain(c.Measurements.All(context.Background(), "cpu", q))
		requireStalled(t, errs, "/v1/measurements/:name", 2, "repeats")
		assert.Equal(t, 2, n)
		assert.Equal(t, 2, mt.GetTotalCallCount())
	})
	t.Run("cycle", func(t *testing.T) {
		c, mt := newMockClient(t)
		mt.RegisterResponder("GET", testBase+"/v1/measurements/cpu", func(req *http.Request) (*http.Response, error) {
			next := link("a")
			if req.URL.Query().Get("page") == "a" {
				next = link("b")
			}
			return httpmock.NewStringResponse(200, fmt.Sprintf(measurementsPage, next)), nil
		})
		n, errs := drain(c.Measurements.All(context.Background(), "cpu", q))
		requireStalled(t, errs, "/v1/measurements/:name", 3, "repeats")
		assert.Equal(t, 3, n)
		assert.Equal(t, 3, mt.GetTotalCallCount())
	})
	t.Run("forever", func(t *testing.T) {
		c, mt := newMockClient(t)
		mt.RegisterResponder("GET", testBase+"/v1/measurements/cpu", func(req *http.Request) (*http.Response, error) {
			p, _ := strconv.Atoi(req.URL.Query().Get("page"))
			return httpmock.NewStringResponse(200, fmt.Sprintf(measurementsPage, link(strconv.Itoa(p+1)))), nil
		})
		n, errs := drain(c.Measurements.All(context.Background(), "cpu", q))
		requireStalled(t, errs, "/v1/measurements/:name", MaxPaginationRequests, "most requests")
		assert.Equal(t, MaxPaginationRequests, n)
		assert.Equal(t, MaxPaginationRequests, mt.GetTotalCallCount())
	})
	t.Run("the caller stops", func(t *testing.T) {
		c, mt := newMockClient(t)
		mt.RegisterResponder("GET", testBase+"/v1/measurements/cpu", httpmock.NewStringResponder(200, fmt.Sprintf(measurementsPage, link("same"))))
		for _, err := range c.Measurements.All(context.Background(), "cpu", q) {
			require.NoError(t, err)
			break
		}
		assert.Equal(t, 1, mt.GetTotalCallCount())
	})
}

// TestFollowedLinksPassTheGuard has a measurements query's next link lead
// to other endpoints and spellings of them: a Record Only client refuses
// the token list with *ErrForbiddenForRole, every client refuses another
// endpoint, an encoded separator or a dot segment, and only the first page
// is ever sent.
func TestFollowedLinksPassTheGuard(t *testing.T) {
	q := &MeasurementsQuery{Duration: time.Hour, Resolution: time.Minute}
	run := func(role Role, next string) (int, error) {
		var opts []Option
		if role != "" {
			opts = append(opts, WithRole(role))
		}
		c, mt := newMockClient(t, opts...)
		mt.RegisterResponder("GET", testBase+"/v1/measurements/cpu", httpmock.NewStringResponder(200, fmt.Sprintf(measurementsPage, next)))
		_, errs := drain(c.Measurements.All(context.Background(), "cpu", q))
		require.Len(t, errs, 1, next)
		return mt.GetTotalCallCount(), errs[0]
	}
	for _, next := range []string{
		testBase + "/v1/api_tokens",
		testBase + "/v1/%61pi_tokens",
		testBase + "/v1/%61%70%69%5f%74%6F%6B%65%6E%73?offset=0",
		"/prefix/v1/api_tokens",
	} {
		calls, err := run(RoleRecordOnly, next)
		var fe *ErrForbiddenForRole
		require.ErrorAs(t, err, &fe, next)
		assert.Equal(t, "/v1/api_tokens", fe.Endpoint, next)
		assert.Equal(t, 1, calls, "%s: only the first page was sent", next)
		calls, err = run(RoleFullAccess, next)
		assert.ErrorContains(t, err, "another endpoint", next)
		assert.Equal(t, 1, calls, next)
	}
	for _, next := range []string{
		testBase + "/v1/measurements/cpu%2F..%2F..%2Fapi_tokens",
		testBase + "/v1/measurements/cpu/%2E%2e/%2e%2E/api_tokens",
		testBase + "/v1/measurements/cpu/../../api_tokens",
		testBase + "/v1/measurements//cpu",
		"https://api.test/v1/measurements/cpu",
		"https://api.test:8443/prefix/v1/measurements/cpu",
		"http://api.test/prefix/v1/measurements/cpu",
		testBase + "/v1/measurements/cpu%zz",
	} {
		for _, role := range []Role{"", RoleFullAccess, RoleViewOnly} {
			calls, err := run(role, next)
			assert.ErrorContains(t, err, "not followed", "%s as %q", next, role)
			assert.Equal(t, 1, calls, "%s as %q", next, role)
		}
	}
	// the same origin spelled otherwise is followed, to the same endpoint
	c, mt := newMockClient(t, WithRole(RoleRecordOnly))
	var got []string
	mt.RegisterResponder("GET", testBase+"/v1/measurements/cpu", func(req *http.Request) (*http.Response, error) {
		got = append(got, req.URL.String())
		if len(got) == 1 {
			return httpmock.NewStringResponse(200, fmt.Sprintf(measurementsPage, "HTTPS://API.test:443/prefix/v1/%6Deasurements/cpu?page=2&x=%2f")), nil
		}
		return httpmock.NewStringResponse(200, `{"series":[]}`), nil
	})
	_, errs := drain(c.Measurements.All(context.Background(), "cpu", q))
	require.Empty(t, errs)
	require.Len(t, got, 2)
	assert.Equal(t, testBase+"/v1/measurements/cpu?page=2&x=%2f", got[1], "the query is sent exactly as given")
	assert.False(t, strings.Contains(got[1], "%6D"))
}
