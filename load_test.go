package librato_test

// Hardening: the mock server under load from many clients of every role,
// under abuse from plain HTTP, and without leaking goroutines.

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	librato "github.com/librato-sdk/librato-go"
	"github.com/librato-sdk/librato-go/mock"
)

// loadGoroutineBaseline records the goroutines running now; the returned
// function fails the test if more are still running a few seconds later,
// with a dump of every goroutine.
func loadGoroutineBaseline(t *testing.T) func() {
	t.Helper()
	base := runtime.NumGoroutine()
	return func() {
		t.Helper()
		deadline := time.Now().Add(5 * time.Second)
		n := runtime.NumGoroutine()
		for n > base && time.Now().Before(deadline) {
			time.Sleep(10 * time.Millisecond)
			n = runtime.NumGoroutine()
		}
		if n > base {
			buf := make([]byte, 1<<20)
			t.Errorf("%d goroutines outlived Close (baseline %d, now %d):\n%s", n-base, base, n, buf[:runtime.Stack(buf, true)])
		}
	}
}

// loadStatusCounter is a RoundTripper that counts every answer by class,
// retries included, and tells injected 5xx from real ones by their body.
type loadStatusCounter struct {
	next     http.RoundTripper
	ok       atomic.Int64
	injected atomic.Int64
	real5xx  atomic.Int64
	real5xxs sync.Map // body -> true, for the failure message
}

func (s *loadStatusCounter) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := s.next.RoundTrip(req)
	if err != nil {
		return resp, err
	}
	switch {
	case resp.StatusCode >= 200 && resp.StatusCode < 300:
		s.ok.Add(1)
	case resp.StatusCode >= 500:
		body, rerr := io.ReadAll(resp.Body)
		resp.Body.Close()
		if rerr != nil {
			return nil, rerr
		}
		resp.Body = io.NopCloser(bytes.NewReader(body))
		if strings.Contains(string(body), "injected by the mock's FailNext") {
			s.injected.Add(1)
		} else {
			s.real5xx.Add(1)
			s.real5xxs.Store(fmt.Sprintf("%d %s %s: %s", resp.StatusCode, req.Method, req.URL.Path, body), true)
		}
	}
	return resp, nil
}

// loadOp is one kind of call a load client makes, with the matrix row it
// belongs to.
type loadOp struct {
	name, method, template string
}

var (
	loadMeasureOp    = loadOp{"Measurements.Create", "POST", "/v1/measurements"}
	loadMeasureGetOp = loadOp{"Measurements.List", "GET", "/v1/measurements/:name"}
	loadSpaceNewOp   = loadOp{"Spaces.Create", "POST", "/v1/spaces"}
	loadSpaceDelOp   = loadOp{"Spaces.Delete", "DELETE", "/v1/spaces/:id"}
	loadSpaceListOp  = loadOp{"Spaces.List", "GET", "/v1/spaces"}
	loadEventNewOp   = loadOp{"Annotations.CreateEvent", "POST", "/v1/annotations/:name"}
	loadStreamListOp = loadOp{"Annotations.List", "GET", "/v1/annotations"}
	loadMetricListOp = loadOp{"Metrics.List", "GET", "/v1/metrics"}
	loadAlertListOp  = loadOp{"Alerts.List", "GET", "/v1/alerts"}
	loadTokenListOp  = loadOp{"APITokens.List", "GET", "/v1/api_tokens"}
)

// loadLedger is what the clients saw the server accept.
type loadLedger struct {
	mu       sync.Mutex
	points   map[e2eMeasKey]float64
	spaces   map[int64]string // created and not deleted
	deleted  map[int64]bool
	events   map[int64]string
	outcomes map[string]int // "role op outcome" -> count
	problems []string
}

func (l *loadLedger) note(format string, args ...any) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.problems = append(l.problems, fmt.Sprintf(format, args...))
}

// classify checks one call's outcome against the matrix and counts it;
// it reports whether the server accepted the call.
func (l *loadLedger) classify(role librato.Role, guarded bool, op loadOp, err error) bool {
	allowed := librato.Permitted(role, op.method, op.template)
	outcome := "ok"
	var fe *librato.ErrForbiddenForRole
	var ae *librato.APIError
	switch {
	case err == nil:
		if !allowed {
			l.note("%s %s: the server accepted a call the matrix refuses", role, op.name)
		}
	case errors.As(err, &fe):
		outcome = "guard-refused"
		if allowed || !guarded {
			l.note("%s %s (guarded=%v): refused by the guard: %v", role, op.name, guarded, err)
		}
		if fe.Endpoint != op.template || fe.Method != op.method {
			l.note("%s %s: guard named %s %s", role, op.name, fe.Method, fe.Endpoint)
		}
	case errors.As(err, &ae) && ae.StatusCode == http.StatusForbidden:
		outcome = "server-refused"
		if allowed || guarded {
			l.note("%s %s (guarded=%v): 403 from the server: %v", role, op.name, guarded, err)
		}
		if len(ae.Request) == 0 {
			l.note("%s %s: 403 without errors.request", role, op.name)
		}
	case errors.As(err, &ae) && ae.StatusCode >= 500 && strings.Contains(strings.Join(ae.System, " "), "injected"):
		outcome = "injected-5xx"
	default:
		outcome = "error"
		l.note("%s %s: unexpected error: %v", role, op.name, err)
	}
	l.mu.Lock()
	l.outcomes[fmt.Sprintf("%s %s %s", role, op.name, outcome)]++
	l.mu.Unlock()
	return err == nil
}

// TestLoadMixedRolesSocket runs 64 clients of the three roles against one
// mock server over the socket for a bounded time, with injected server
// errors, then checks that every write the server accepted is there,
// exactly, and that refusals happened only where the matrix says.
func TestLoadMixedRolesSocket(t *testing.T) {
	checkLeaks := loadGoroutineBaseline(t)
	// Small series pages, so reading the state back follows next links.
	srv := mock.NewServer(mock.WithSeriesPageSize(7))
	adminHC := &http.Client{Transport: &http.Transport{}, Timeout: 10 * time.Second}
	admin, err := srv.Client(librato.RoleFullAccess, librato.WithHTTPClient(adminHC))
	require.NoError(t, err)

	const (
		clients = 64
		maxOps  = 120
		// minOps is two rounds of every kind of call, made even on a slow
		// machine, so every (role, call) pair is tried by guarded and
		// unguarded clients alike.
		minOps   = 12
		duration = 1500 * time.Millisecond
		stream   = "load.events"
		metric   = "load.shared"
		batch    = 5
	)
	base := time.Now().Unix() - 3000
	ledger := &loadLedger{
		points: map[e2eMeasKey]float64{}, spaces: map[int64]string{}, deleted: map[int64]bool{},
		events: map[int64]string{}, outcomes: map[string]int{},
	}
	counter := &loadStatusCounter{next: &http.Transport{MaxIdleConnsPerHost: clients}}
	hc := &http.Client{Transport: counter, Timeout: 10 * time.Second}

	// 16 requests fail with 503 before the load starts, and 16 with 500
	// once those were all seen, so exactly 32 injected 5xx are expected.
	const injectEach = 16
	srv.FailNext(injectEach, http.StatusServiceUnavailable)
	secondDone := make(chan struct{})
	stopInjector := make(chan struct{})
	go func() {
		defer close(secondDone)
		for counter.injected.Load() < injectEach {
			select {
			case <-stopInjector:
				return
			case <-time.After(time.Millisecond):
			}
		}
		srv.FailNext(injectEach, http.StatusInternalServerError)
	}()

	ctx, cancel := context.WithTimeout(context.Background(), duration)
	defer cancel()
	var wg sync.WaitGroup
	var totalOps atomic.Int64
	for i := 0; i < clients; i++ {
		role := librato.Roles()[i%3]
		guarded := i%2 == 0
		email, token := srv.Credentials(role)
		opts := []librato.Option{
			librato.WithBaseURL(srv.URL()), librato.WithHTTPClient(hc),
			librato.WithBackoff(time.Millisecond, 4*time.Millisecond), librato.WithMaxAttempts(6),
		}
		if guarded {
			opts = append(opts, librato.WithRole(role))
		}
		c, err := librato.NewClient(email, token, opts...)
		require.NoError(t, err)
		wg.Add(1)
		go func(i int, role librato.Role, guarded bool, c *librato.Client) {
			defer wg.Done()
			tags := map[string]string{"client": fmt.Sprintf("c%02d", i)}
			var mine []int64 // spaces this client created and may delete
			for k := 0; k < minOps || (k < maxOps && ctx.Err() == nil); k++ {
				totalOps.Add(1)
				// Calls run on a context of their own: the load's deadline
				// decides when to stop starting calls, never cuts one off,
				// so every outcome is known.
				cctx := context.Background()
				switch k % 6 {
				case 0, 3: // writes measurements (a viewer tries to)
					ms := make([]librato.Measurement, batch)
					for j := range ms {
						ms[j] = librato.Measurement{Name: metric, Value: float64(i*10000 + k*10 + j), Time: base + int64(k*batch+j), Tags: tags}
					}
					_, err := c.Measurements.Create(cctx, &librato.MeasurementBatch{Measurements: ms})
					if ledger.classify(role, guarded, loadMeasureOp, err) {
						ledger.mu.Lock()
						for _, m := range ms {
							ledger.points[e2eKeyOf(m)] = m.Value
						}
						ledger.mu.Unlock()
					}
				case 1: // creates a space (only Full Access may)
					name := fmt.Sprintf("load space c%02d k%03d", i, k)
					sp, err := c.Spaces.Create(cctx, &librato.Space{Name: name})
					if ledger.classify(role, guarded, loadSpaceNewOp, err) {
						ledger.mu.Lock()
						ledger.spaces[sp.ID] = name
						ledger.mu.Unlock()
						mine = append(mine, sp.ID)
					}
				case 2: // records an event (Full Access, Record Only)
					title := fmt.Sprintf("c%02d k%03d", i, k)
					ev, err := c.Annotations.CreateEvent(cctx, stream, &librato.AnnotationEvent{Title: title, StartTime: base + int64(k)})
					if ledger.classify(role, guarded, loadEventNewOp, err) {
						ledger.mu.Lock()
						ledger.events[ev.ID] = title
						ledger.mu.Unlock()
					}
				case 4: // reads
					_, err := c.Spaces.List(cctx, &librato.ListOptions{Length: 5})
					ledger.classify(role, guarded, loadSpaceListOp, err)
					_, err = c.Metrics.List(cctx, nil)
					ledger.classify(role, guarded, loadMetricListOp, err)
					_, err = c.Annotations.List(cctx, nil)
					ledger.classify(role, guarded, loadStreamListOp, err)
					_, err = c.Measurements.List(cctx, metric, &librato.MeasurementsQuery{StartTime: time.Unix(base, 0), Resolution: time.Minute, Tags: map[string][]string{"client": {tags["client"]}}})
					if errors.Is(err, librato.ErrNotFound) {
						err = nil // the metric is not there before the first write
					}
					ledger.classify(role, guarded, loadMeasureGetOp, err)
				case 5: // reads that split the roles; deletes a space
					_, err := c.Alerts.List(cctx, nil)
					ledger.classify(role, guarded, loadAlertListOp, err)
					_, err = c.APITokens.List(cctx, &librato.ListOptions{Length: 1})
					ledger.classify(role, guarded, loadTokenListOp, err)
					if len(mine) > 0 && k%12 == 5 {
						id := mine[0]
						mine = mine[1:]
						err := c.Spaces.Delete(cctx, id)
						if ledger.classify(role, guarded, loadSpaceDelOp, err) {
							ledger.mu.Lock()
							delete(ledger.spaces, id)
							ledger.deleted[id] = true
							ledger.mu.Unlock()
						}
					}
				}
			}
		}(i, role, guarded, c)
	}
	wg.Wait()
	close(stopInjector)
	<-secondDone
	srv.FailNext(0, 0) // cancel whatever the load did not consume
	t.Logf("%d operations by %d clients; %d requests reached the server", totalOps.Load(), clients, srv.Requests())

	for _, p := range ledger.problems {
		t.Error(p)
	}
	assert.Zero(t, counter.real5xx.Load(), "5xx the test did not inject")
	counter.real5xxs.Range(func(k, _ any) bool { t.Error(k); return true })
	assert.Equal(t, int64(2*injectEach), counter.injected.Load(), "every injected 5xx was seen once")

	// Refusals only where the matrix says, and both guards and the server
	// did refuse: every role/op pair was tried.
	for _, role := range librato.Roles() {
		for _, op := range []loadOp{loadMeasureOp, loadMeasureGetOp, loadSpaceNewOp, loadEventNewOp, loadSpaceListOp, loadMetricListOp, loadStreamListOp, loadAlertListOp, loadTokenListOp} {
			allowed := librato.Permitted(role, op.method, op.template)
			ok := ledger.outcomes[fmt.Sprintf("%s %s ok", role, op.name)]
			guardRefused := ledger.outcomes[fmt.Sprintf("%s %s guard-refused", role, op.name)]
			serverRefused := ledger.outcomes[fmt.Sprintf("%s %s server-refused", role, op.name)]
			if allowed {
				assert.Positive(t, ok, "%s %s never succeeded", role, op.name)
				assert.Zero(t, guardRefused+serverRefused, "%s %s was refused", role, op.name)
			} else {
				assert.Zero(t, ok, "%s %s succeeded", role, op.name)
				assert.Positive(t, guardRefused, "%s %s: the guard never refused", role, op.name)
				assert.Positive(t, serverRefused, "%s %s: the server never refused", role, op.name)
			}
		}
	}

	// Every accepted measurement is recorded once, and nothing else is.
	rec := srv.Recorded()
	assert.Equal(t, len(ledger.points), len(rec), "recorded == accepted")
	seen := map[e2eMeasKey]bool{}
	for _, m := range rec {
		k := e2eKeyOf(m)
		assert.False(t, seen[k], "recorded twice: %+v", m)
		seen[k] = true
		v, ok := ledger.points[k]
		if assert.True(t, ok, "recorded but never accepted: %+v", m) {
			assert.Equal(t, v, m.Value)
		}
	}
	// ... and readable by (name, tags, time) through the API.
	got := map[e2eMeasKey]float64{}
	for s, err := range admin.Measurements.All(context.Background(), metric, &librato.MeasurementsQuery{StartTime: time.Unix(base-1, 0), Resolution: time.Second}) {
		require.NoError(t, err)
		for _, p := range s.Measurements {
			got[e2eMeasKey{name: metric, tags: fmt.Sprint(s.Tags), time: p.Time}] = p.Value
		}
	}
	assert.Equal(t, ledger.points, got)

	// Spaces: the accepted creations, less the accepted deletions, by id.
	listed := map[int64]string{}
	for s, err := range admin.Spaces.All(context.Background(), &librato.ListOptions{Length: 7}) {
		require.NoError(t, err)
		listed[s.ID] = s.Name
	}
	assert.Equal(t, ledger.spaces, listed, "spaces listed == created - deleted")
	for id, name := range ledger.spaces {
		sp, err := admin.Spaces.Get(context.Background(), id)
		if assert.NoError(t, err) {
			assert.Equal(t, name, sp.Name)
		}
	}
	for id := range ledger.deleted {
		_, err := admin.Spaces.Get(context.Background(), id)
		assert.ErrorIs(t, err, librato.ErrNotFound)
	}
	assert.NotEmpty(t, ledger.deleted)

	// Events, by id.
	s, err := admin.Annotations.Get(context.Background(), stream, &librato.AnnotationSearch{StartTime: time.Unix(base-1, 0)})
	require.NoError(t, err)
	events := map[int64]string{}
	for _, e := range s.SortedEvents() {
		events[e.ID] = e.Title
	}
	assert.Equal(t, ledger.events, events)
	for id, title := range ledger.events {
		ev, err := admin.Annotations.GetEvent(context.Background(), stream, id)
		if assert.NoError(t, err) {
			assert.Equal(t, title, ev.Title)
		}
	}

	srv.Close()
	hc.CloseIdleConnections()
	adminHC.CloseIdleConnections()
	checkLeaks()
}

// loadRawCall is one plain HTTP request to the mock.
type loadRawCall struct {
	method, path string
	body         io.Reader
	contentType  string
	email, token string // no auth when both are empty
}

type loadRawAnswer struct {
	status int
	header http.Header
	body   []byte
}

func loadDoRaw(t *testing.T, hc *http.Client, base string, rc loadRawCall) loadRawAnswer {
	t.Helper()
	req, err := http.NewRequest(rc.method, base+rc.path, rc.body)
	require.NoError(t, err)
	if rc.contentType != "" {
		req.Header.Set("Content-Type", rc.contentType)
	}
	if rc.email != "" || rc.token != "" {
		req.SetBasicAuth(rc.email, rc.token)
	}
	resp, err := hc.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return loadRawAnswer{status: resp.StatusCode, header: resp.Header, body: body}
}

// loadRequireErrorShape checks the API's error document: a JSON object whose
// only key is "errors", holding params, request or system, with at least
// one message; it returns the decoded set.
func loadRequireErrorShape(t *testing.T, a loadRawAnswer) map[string]string {
	t.Helper()
	assert.Equal(t, "application/json", a.header.Get("Content-Type"))
	var doc map[string]map[string]json.RawMessage
	require.NoError(t, json.Unmarshal(a.body, &doc), "body %q", a.body)
	require.Len(t, doc, 1, "only errors: %s", a.body)
	set, ok := doc["errors"]
	require.True(t, ok, "%s", a.body)
	require.NotEmpty(t, set, "%s", a.body)
	out := map[string]string{}
	for k, v := range set {
		out[k] = string(v)
		assert.Contains(t, []string{"params", "request", "system"}, k)
		switch k {
		case "params":
			var p map[string][]string
			require.NoError(t, json.Unmarshal(v, &p))
			assert.NotEmpty(t, p)
		default:
			var msgs []string
			require.NoError(t, json.Unmarshal(v, &msgs))
			assert.NotEmpty(t, msgs)
			for _, m := range msgs {
				assert.NotEmpty(t, m)
			}
		}
	}
	return out
}

// loadUnsized hides a reader's length, so the request goes out chunked and
// the server cannot refuse it by its Content-Length.
type loadUnsized struct{ r io.Reader }

func (u loadUnsized) Read(p []byte) (int, error) { return u.r.Read(p) }

// TestLoadAbuse sends the mock what a careless or hostile client would,
// over the socket and in-process, and checks each answer's status and
// error body; afterwards the server still serves normal calls correctly.
func TestLoadAbuse(t *testing.T) {
	checkLeaks := loadGoroutineBaseline(t)
	const maxBody = 1024
	srv := mock.NewServer(mock.WithMaxBodyBytes(maxBody))
	email, admin := srv.Credentials(librato.RoleFullAccess)
	_, viewer := srv.Credentials(librato.RoleViewOnly)
	other := srv.Account("other@example.com")
	otherEmail, otherToken := other.Credentials(librato.RoleFullAccess)
	sock := &http.Client{Transport: &http.Transport{}, Timeout: 10 * time.Second}
	inproc := &http.Client{Transport: srv.Transport()}

	// A space to aim writes at.
	c, err := srv.Client(librato.RoleFullAccess)
	require.NoError(t, err)
	sp, err := c.Spaces.Create(context.Background(), &librato.Space{Name: "target"})
	require.NoError(t, err)
	spacePath := fmt.Sprintf("/v1/spaces/%d", sp.ID)
	big := `{"name":"` + strings.Repeat("x", 2*maxBody) + `"}`
	bigMeasurements := `{"measurements":[` + strings.TrimSuffix(strings.Repeat(`{"name":"abuse.m","value":1},`, 60), ",") + `]}`
	require.Greater(t, len(bigMeasurements), maxBody)

	cases := []struct {
		name   string
		call   func() loadRawCall
		status int
		field  string // the errors key expected
		says   string // text the message holds
	}{
		{"malformed JSON", func() loadRawCall {
			return loadRawCall{"POST", "/v1/spaces", strings.NewReader(`{"name": "x"`), "application/json", email, admin}
		}, 400, "request", "Malformed JSON"},
		{"JSON that is not an object", func() loadRawCall {
			return loadRawCall{"POST", "/v1/spaces", strings.NewReader(`["x"]`), "application/json", email, admin}
		}, 400, "request", "JSON object"},
		{"trailing garbage after JSON", func() loadRawCall {
			return loadRawCall{"PUT", spacePath, strings.NewReader(`{"name":"y"} {"name":"z"}`), "application/json", email, admin}
		}, 400, "request", "Malformed JSON"},
		{"malformed measurements", func() loadRawCall {
			return loadRawCall{"POST", "/v1/measurements", strings.NewReader(`{"measurements":[{"name":"a","value":}]}`), "application/json", email, admin}
		}, 400, "request", "Malformed JSON"},
		{"malformed form", func() loadRawCall {
			return loadRawCall{"PUT", spacePath, strings.NewReader(`name=%zz`), "application/x-www-form-urlencoded", email, admin}
		}, 400, "request", "Malformed form"},
		{"body over the cap", func() loadRawCall {
			return loadRawCall{"POST", "/v1/spaces", strings.NewReader(big), "application/json", email, admin}
		}, 413, "request", "too large"},
		{"measurements over the cap", func() loadRawCall {
			return loadRawCall{"POST", "/v1/measurements", strings.NewReader(bigMeasurements), "application/json", email, admin}
		}, 413, "request", "too large"},
		{"chunked body over the cap", func() loadRawCall {
			return loadRawCall{"POST", "/v1/spaces", loadUnsized{strings.NewReader(big)}, "application/json", email, admin}
		}, 413, "request", "too large"},
		{"measurements as text/plain", func() loadRawCall {
			return loadRawCall{"POST", "/v1/measurements", strings.NewReader(`{"measurements":[{"name":"a","value":1}]}`), "text/plain", email, admin}
		}, 415, "request", "application/json only"},
		{"measurements as a form", func() loadRawCall {
			return loadRawCall{"POST", "/v1/measurements", strings.NewReader(`measurements[0][name]=a&measurements[0][value]=1`), "application/x-www-form-urlencoded", email, admin}
		}, 415, "request", "application/json only"},
		{"write as XML", func() loadRawCall {
			return loadRawCall{"PUT", spacePath, strings.NewReader(`<space name="y"/>`), "application/xml", email, admin}
		}, 415, "request", "Unsupported Media Type"},
		{"content type that does not parse", func() loadRawCall {
			return loadRawCall{"POST", "/v1/spaces", strings.NewReader(`{"name":"y"}`), "application/json; =bad", email, admin}
		}, 415, "request", "does not parse"},
		{"missing auth", func() loadRawCall {
			return loadRawCall{"GET", "/v1/spaces", nil, "", "", ""}
		}, 401, "request", "Authorization Required"},
		{"missing auth on an unknown path", func() loadRawCall {
			return loadRawCall{"GET", "/v1/nothing", nil, "", "", ""}
		}, 401, "request", "Authorization Required"},
		{"wrong token", func() loadRawCall {
			return loadRawCall{"GET", "/v1/spaces", nil, "", email, strings.Repeat("0", 64)}
		}, 401, "request", "Authorization Required"},
		{"unknown email", func() loadRawCall {
			return loadRawCall{"GET", "/v1/spaces", nil, "", "nobody@example.com", admin}
		}, 401, "request", "Authorization Required"},
		{"token of another account", func() loadRawCall {
			return loadRawCall{"GET", "/v1/spaces", nil, "", email, otherToken}
		}, 401, "request", "Authorization Required"},
		{"another account's email with this token", func() loadRawCall {
			return loadRawCall{"GET", "/v1/spaces", nil, "", otherEmail, admin}
		}, 401, "request", "Authorization Required"},
		{"unknown path", func() loadRawCall {
			return loadRawCall{"GET", "/v1/nothing", nil, "", email, admin}
		}, 404, "request", "no such endpoint"},
		{"unknown version", func() loadRawCall {
			return loadRawCall{"GET", "/v2/spaces", nil, "", email, admin}
		}, 404, "request", "no such endpoint"},
		{"trailing slash", func() loadRawCall {
			return loadRawCall{"GET", "/v1/spaces/", nil, "", email, admin}
		}, 404, "request", "no such endpoint"},
		{"unknown method", func() loadRawCall {
			return loadRawCall{"PATCH", "/v1/spaces", strings.NewReader(`{}`), "application/json", email, admin}
		}, 404, "request", "no such endpoint"},
		{"dot segments are a name, not a way out", func() loadRawCall {
			return loadRawCall{"GET", "/v1/metrics/%2E%2E%2Fapi_tokens", nil, "", email, viewer}
		}, 404, "request", "not found"},
		{"another account's object", func() loadRawCall {
			return loadRawCall{"GET", spacePath, nil, "", otherEmail, otherToken}
		}, 404, "request", "not found"},
		{"page longer than the API allows", func() loadRawCall {
			return loadRawCall{"GET", "/v1/spaces?length=1000", nil, "", email, admin}
		}, 400, "params", "length"},
		{"unknown sort", func() loadRawCall {
			return loadRawCall{"GET", "/v1/spaces?sort=sideways&offset=-1", nil, "", email, admin}
		}, 400, "params", "sort"},
		{"viewer writing", func() loadRawCall {
			return loadRawCall{"POST", "/v1/measurements", strings.NewReader(`{"measurements":[{"name":"a","value":1}]}`), "application/json", email, viewer}
		}, 403, "request", "Forbidden"},
		{"invalid field", func() loadRawCall {
			return loadRawCall{"POST", "/v1/measurements", strings.NewReader(`{"measurements":[{"name":"bad name!","value":1}]}`), "application/json", email, admin}
		}, 400, "params", "measurements[0].name"},
	}
	for _, tr := range []struct {
		name string
		hc   *http.Client
		base string
	}{{"socket", sock, srv.URL()}, {"in-process", inproc, "http://mock.invalid"}} {
		for _, tc := range cases {
			t.Run(tr.name+"/"+tc.name, func(t *testing.T) {
				before := srv.Requests()
				a := loadDoRaw(t, tr.hc, tr.base, tc.call())
				assert.Equal(t, before+1, srv.Requests())
				require.Equal(t, tc.status, a.status, "%s", a.body)
				set := loadRequireErrorShape(t, a)
				require.Contains(t, set, tc.field, "%s", a.body)
				assert.Contains(t, set[tc.field], tc.says)
				if tc.status == 401 {
					assert.Contains(t, a.header.Get("WWW-Authenticate"), "Basic")
				}
				assert.NotEmpty(t, a.header.Get("X-Librato-RateLimit-Std"))
			})
		}
	}

	// Authorization headers that are not Basic auth at all.
	for _, h := range []string{"Basic !!!not-base64", "Bearer " + admin, "Basic " + admin, email + ":" + admin} {
		req, err := http.NewRequest("GET", srv.URL()+"/v1/spaces", nil)
		require.NoError(t, err)
		req.Header.Set("Authorization", h)
		resp, err := sock.Do(req)
		require.NoError(t, err)
		body, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		require.NoError(t, err)
		assert.Equal(t, http.StatusUnauthorized, resp.StatusCode, "Authorization %q", h)
		loadRequireErrorShape(t, loadRawAnswer{status: resp.StatusCode, header: resp.Header, body: body})
	}

	// Nothing the abuse sent was stored.
	assert.Zero(t, srv.RecordedCount())
	spaces, err := c.Spaces.List(context.Background(), nil)
	require.NoError(t, err)
	require.Len(t, spaces.Spaces, 1)
	assert.Equal(t, "target", spaces.Spaces[0].Name)

	// The server still serves normal calls, over both transports.
	for _, hc := range []*http.Client{sock, inproc} {
		c, err := librato.NewClient(email, admin, librato.WithBaseURL(srv.URL()), librato.WithHTTPClient(hc), librato.WithRole(librato.RoleFullAccess))
		require.NoError(t, err)
		ctx := context.Background()
		now := time.Now().Unix()
		sum, err := c.Measurements.Create(ctx, &librato.MeasurementBatch{Measurements: []librato.Measurement{{Name: "after.abuse", Value: 7, Time: now - 5}}})
		require.NoError(t, err)
		assert.Equal(t, 1, sum.Accepted)
		page, err := c.Measurements.List(ctx, "after.abuse", &librato.MeasurementsQuery{Duration: time.Hour, Resolution: time.Second})
		require.NoError(t, err)
		require.NotEmpty(t, page.Series)
		assert.Contains(t, page.Series[0].Measurements, librato.Point{Time: now - 5, Value: 7})
		require.NoError(t, c.Spaces.Update(ctx, sp.ID, &librato.SpaceUpdate{Name: librato.Ptr("target " + fmt.Sprint(now))}))
		got, err := c.Spaces.Get(ctx, sp.ID)
		require.NoError(t, err)
		assert.Equal(t, "target "+fmt.Sprint(now), got.Name)
		// A body just under the cap is fine.
		name := strings.Repeat("n", maxBody-len(`{"name":""}`)-10)
		_, err = c.Spaces.Create(ctx, &librato.Space{Name: name})
		require.NoError(t, err)
		require.NoError(t, c.Spaces.Delete(ctx, loadFindSpace(t, c, name)))
	}
	// The other account is whole and sees only its own objects.
	oc, err := librato.NewClient(otherEmail, otherToken, librato.WithBaseURL(srv.URL()), librato.WithHTTPClient(sock))
	require.NoError(t, err)
	ol, err := oc.Spaces.List(context.Background(), nil)
	require.NoError(t, err)
	assert.Empty(t, ol.Spaces)

	srv.Close()
	sock.CloseIdleConnections()
	checkLeaks()
}

// TestLoadDeepNestingIsRefusedAsMalformed: the JSON decoder refuses a body
// nested deeper than 10,000 levels as malformed (400, errors.request), but
// the form decoder (mock/body.go, insertForm and listify) recurses once per
// bracket with no bound. A form body of 3 MiB (the default cap) nested
// 1,048,573 deep costs about 512 MiB of goroutine stack and seconds of CPU
// for one request; with WithMaxBodyBytes(16<<20), "name[x][x]...=1" nested
// 5,000,000 deep dies with "fatal error: stack overflow", which no recover
// catches: it takes down the whole process, in-process callers included.
// This test sends both shapes 10,001 deep (30 KB) and fails until the form
// decoder refuses such nesting as the JSON one does.
func TestLoadDeepNestingIsRefusedAsMalformed(t *testing.T) {
	srv := mock.NewServer()
	defer srv.Close()
	email, token := srv.Credentials(librato.RoleFullAccess)
	hc := &http.Client{Transport: srv.Transport()}
	const depth = 10001

	deepJSON := `{"name":` + strings.Repeat(`{"x":`, depth) + `1` + strings.Repeat(`}`, depth) + `}`
	a := loadDoRaw(t, hc, srv.URL(), loadRawCall{"POST", "/v1/spaces", strings.NewReader(deepJSON), "application/json", email, token})
	require.Equal(t, http.StatusBadRequest, a.status, "%s", a.body)
	set := loadRequireErrorShape(t, a)
	require.Contains(t, set, "request", "JSON nested %d deep is malformed: %s", depth, a.body)

	deepForm := "name" + strings.Repeat("[x]", depth) + "=1"
	a = loadDoRaw(t, hc, srv.URL(), loadRawCall{"POST", "/v1/spaces", strings.NewReader(deepForm), "application/x-www-form-urlencoded", email, token})
	require.Equal(t, http.StatusBadRequest, a.status, "%s", a.body)
	set = loadRequireErrorShape(t, a)
	assert.Contains(t, set, "request", "a form nested %d deep should be refused while decoding, as JSON is; got %s", depth, a.body)

	// Either way the server is still fine.
	c, err := srv.Client(librato.RoleFullAccess, librato.WithHTTPClient(hc))
	require.NoError(t, err)
	_, err = c.Spaces.Create(context.Background(), &librato.Space{Name: "after nesting"})
	require.NoError(t, err)
}

// TestLoadCloseUnderLoad closes a server while clients hammer it over the
// socket and in-process: Close returns, every call ends with an answer or
// a transport error (never a hang or a 500), and nothing is left running.
func TestLoadCloseUnderLoad(t *testing.T) {
	checkLeaks := loadGoroutineBaseline(t)
	srv := mock.NewServer()
	sock := &http.Client{Transport: &http.Transport{}, Timeout: 10 * time.Second}
	var wg sync.WaitGroup
	var answered, refusedClosed, transportErrs, finished atomic.Int64
	problems := make(chan string, 64)
	started := make(chan struct{}, 16)
	for g := 0; g < 16; g++ {
		hc := sock
		if g%2 == 1 {
			hc = &http.Client{Transport: srv.Transport()}
		}
		c, err := srv.Client(librato.Roles()[g%3], librato.WithHTTPClient(hc), librato.WithoutRetries())
		require.NoError(t, err)
		wg.Add(1)
		go func(g int, c *librato.Client) {
			defer wg.Done()
			for i := 0; i < 2000; i++ {
				var err error
				if c.Role() == librato.RoleViewOnly {
					_, err = c.Metrics.List(context.Background(), nil)
				} else {
					_, err = c.Measurements.Create(context.Background(), &librato.MeasurementBatch{Measurements: []librato.Measurement{{Name: "close.m", Value: float64(i), Time: time.Now().Unix() - int64(g*2000+i)}}})
				}
				if i == 0 {
					started <- struct{}{}
				}
				var ae *librato.APIError
				var te *librato.TransportError
				switch {
				case err == nil:
					answered.Add(1)
				case errors.As(err, &ae) && ae.StatusCode == http.StatusServiceUnavailable && strings.Contains(strings.Join(ae.System, " "), "closed"):
					refusedClosed.Add(1)
					return
				case errors.As(err, &te):
					transportErrs.Add(1)
					return
				default:
					problems <- fmt.Sprintf("goroutine %d: %v", g, err)
					return
				}
			}
			finished.Add(1)
		}(g, c)
	}
	for g := 0; g < 16; g++ {
		<-started
	}
	closed := make(chan struct{})
	go func() { srv.Close(); close(closed) }()
	select {
	case <-closed:
	case <-time.After(5 * time.Second):
		t.Fatal("Close did not return under load")
	}
	wg.Wait()
	close(problems)
	for p := range problems {
		t.Error(p)
	}
	t.Logf("%d answered, %d refused as closed, %d transport errors", answered.Load(), refusedClosed.Load(), transportErrs.Load())
	assert.Equal(t, int64(16), refusedClosed.Load()+transportErrs.Load()+finished.Load(), "every goroutine ended cleanly")
	assert.Positive(t, refusedClosed.Load()+transportErrs.Load(), "the close cut the load short")
	sock.CloseIdleConnections()
	checkLeaks()
}

// TestLoadAggRateLimitCountsEscapedPaths: the Agg limit counts measurement
// submissions, and a submission is one whatever spelling of its path the
// router accepts. The mock classifies Agg by comparing the raw escaped path
// with "/v1/measurements" (mock/router.go, handle), but routes by unescaped
// segments, so POST /v1/%6Deasurements is routed to and accepted by the
// measurements endpoint while counted as Std: a client over its Agg limit
// keeps recording. This test fails until the mock classifies Agg by the
// routed endpoint.
func TestLoadAggRateLimitCountsEscapedPaths(t *testing.T) {
	srv := mock.NewServer(mock.WithRateLimits(2, 1000))
	defer srv.Close()
	email, token := srv.Credentials(librato.RoleFullAccess)
	hc := &http.Client{Transport: srv.Transport()}
	post := func(path string) loadRawAnswer {
		return loadDoRaw(t, hc, srv.URL(), loadRawCall{"POST", path, strings.NewReader(`{"measurements":[{"name":"rl.m","value":1}]}`), "application/json", email, token})
	}
	require.Equal(t, http.StatusAccepted, post("/v1/measurements").status)
	require.Equal(t, http.StatusAccepted, post("/v1/measurements").status)
	over := post("/v1/measurements")
	require.Equal(t, http.StatusTooManyRequests, over.status, "%s", over.body)
	loadRequireErrorShape(t, over)
	require.Equal(t, 2, srv.RecordedCount())

	// The same endpoint, one letter percent-encoded.
	escaped := post("/v1/%6Deasurements")
	assert.Equal(t, http.StatusTooManyRequests, escaped.status,
		"POST /v1/%%6Deasurements is a measurement submission but escaped the Agg limit: %d %s (Agg %q, Std %q)",
		escaped.status, escaped.body, escaped.header.Get("X-Librato-RateLimit-Agg"), escaped.header.Get("X-Librato-RateLimit-Std"))
	assert.Equal(t, 2, srv.RecordedCount(), "a submission over the Agg limit was recorded")
}

func loadFindSpace(t *testing.T, c *librato.Client, name string) int64 {
	t.Helper()
	for s, err := range c.Spaces.All(context.Background(), &librato.ListOptions{Name: name}) {
		require.NoError(t, err)
		if s.Name == name {
			return s.ID
		}
	}
	t.Fatalf("space %q not found", name)
	return 0
}

// TestLoadNoGoroutineLeaks starts mock servers, batchers and clients over
// the socket and in-process, uses them (a slow request cut off by Close
// included), closes everything and checks no goroutine is left behind.
func TestLoadNoGoroutineLeaks(t *testing.T) {
	checkLeaks := loadGoroutineBaseline(t)

	srv := mock.NewServer()
	sock := &http.Client{Transport: &http.Transport{}, Timeout: 10 * time.Second}
	ctx := context.Background()
	const perBatcher = 600
	for _, hc := range []*http.Client{sock, {Transport: srv.Transport()}} {
		c, err := srv.Client(librato.RoleRecordOnly, librato.WithHTTPClient(hc), librato.WithBackoff(time.Millisecond, 5*time.Millisecond))
		require.NoError(t, err)
		before := srv.RecordedCount()
		b, err := c.Measurements.NewBatcher(librato.BatcherOptions{BatchSize: 50, FlushInterval: 5 * time.Millisecond, Concurrency: 4, DefaultTags: map[string]string{"via": "batcher"}})
		require.NoError(t, err)
		agg, err := librato.NewAggregator(b, time.Second)
		require.NoError(t, err)
		var wg sync.WaitGroup
		for g := 0; g < 6; g++ {
			wg.Add(1)
			go func(g int) {
				defer wg.Done()
				for i := 0; i < perBatcher/6; i++ {
					assert.NoError(t, b.Add(context.Background(), librato.Measurement{Name: "leak.m", Value: float64(i), Time: time.Now().Unix() - int64(g*1000+i)}))
					assert.NoError(t, agg.Observe("leak.agg", nil, float64(i)))
				}
			}(g)
		}
		wg.Wait()
		require.NoError(t, agg.Close(ctx))
		require.NoError(t, b.Close(ctx))
		st := b.Stats()
		// The aggregator's summaries went through the batcher too.
		assert.Greater(t, st.Added, int64(perBatcher))
		assert.Equal(t, st.Added, st.Sent, "every measurement delivered")
		assert.Zero(t, st.Failed)
		assert.Zero(t, st.Buffered)
		assert.Equal(t, int(st.Sent), srv.RecordedCount()-before)
		assert.ErrorIs(t, b.Add(context.Background(), librato.Measurement{Name: "leak.m", Value: 1}), librato.ErrBatcherClosed)
	}

	// A request waiting out the server's latency ends when the server closes.
	slow := mock.NewServer(mock.WithLatency(time.Hour))
	c, err := slow.Client(librato.RoleViewOnly, librato.WithHTTPClient(sock), librato.WithoutRetries())
	require.NoError(t, err)
	done := make(chan error, 1)
	go func() {
		_, err := c.Spaces.List(ctx, nil)
		done <- err
	}()
	for slow.Requests() == 0 {
		time.Sleep(time.Millisecond)
	}
	slow.Close()
	select {
	case err := <-done:
		require.Error(t, err)
		var ae *librato.APIError
		if errors.As(err, &ae) {
			assert.Equal(t, http.StatusServiceUnavailable, ae.StatusCode)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Close did not end a request waiting out the latency")
	}

	// A batcher whose server went away gives up at Close's deadline.
	gone := mock.NewServer()
	gc, err := gone.Client(librato.RoleRecordOnly, librato.WithHTTPClient(sock), librato.WithBackoff(time.Millisecond, 2*time.Millisecond), librato.WithMaxAttempts(2))
	require.NoError(t, err)
	gb, err := gc.Measurements.NewBatcher(librato.BatcherOptions{BatchSize: 10, FlushInterval: time.Hour})
	require.NoError(t, err)
	gone.Close()
	for i := 0; i < 25; i++ {
		require.NoError(t, gb.Add(context.Background(), librato.Measurement{Name: "lost.m", Value: float64(i)}))
	}
	cctx, cancel := context.WithTimeout(ctx, 300*time.Millisecond)
	err = gb.Close(cctx)
	cancel()
	assert.Error(t, err, "undelivered measurements are reported")
	assert.EqualValues(t, 25, gb.Stats().Failed)
	// Requests through Transport fail after Close, without hanging.
	_, err = (&http.Client{Transport: gone.Transport()}).Get("http://mock.invalid/v1/spaces")
	assert.Error(t, err)

	srv.Close()
	srv.Close() // twice is fine
	sock.CloseIdleConnections()
	checkLeaks()
}
