package mock_test

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	librato "github.com/librato-sdk/librato-go"
	"github.com/librato-sdk/librato-go/mock"
)

// What third-party Librato clients really send (testdata/clients, captured
// from librato-node and from statsd's Librato backend in legacy mode) is
// replayed against the mock with a Record Only token: every value must be
// readable back through the tagged read (GET /v1/measurements/:name, by
// the source tag) and the legacy read (GET /v1/metrics/:name, keyed by
// source), and a View Only token gets 403. With Node and the clients'
// node_modules installed, the clients themselves are driven too.

const clientsDir = "../testdata/clients"

// capturedRequest is one request a client sent, as testdata/clients holds
// it. Auth is the Basic credentials' form, "{email}:{token}" when empty;
// a body whose content-encoding header is gzip is held as its JSON text
// and gzipped again when sent.
type capturedRequest struct {
	Method  string            `json:"method"`
	URL     string            `json:"url"`
	Headers map[string]string `json:"headers"`
	Body    string            `json:"body"`
	Auth    string            `json:"auth"`
}

func loadCaptured(t *testing.T, file string) []capturedRequest {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(clientsDir, file))
	require.NoError(t, err)
	var out []capturedRequest
	sc := bufio.NewScanner(bytes.NewReader(raw))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		if strings.TrimSpace(sc.Text()) == "" {
			continue
		}
		var r capturedRequest
		require.NoError(t, json.Unmarshal(sc.Bytes(), &r), file)
		out = append(out, r)
	}
	require.NotEmpty(t, out, file)
	return out
}

// sample is one value a client sent for a stream: a plain value (count 1)
// or a summary.
type sample struct {
	count         int64
	sum, min, max float64
}

// streamKey names the stream a sample went to and the second it is for (0
// when the client gave no time and the server's clock decides).
type streamKey struct {
	metric, source string // source "" is the legacy read's "unassigned"
	time           int64
}

// sent is what the replayed requests submitted per stream and time: the
// API keeps one sample per series and second, the later replacing the
// earlier (statsd's backend sends each value to both routes with the same
// time and source, one series), which is what a read at one-second
// resolution must give back. Samples without a time (key time 0) are
// stamped on receipt, each its own second only by chance, so they merge
// the documented way (counts and sums add up, min of mins, max of maxes);
// the captures hold one per stream.
type sent map[streamKey]sample

func (s sent) add(k streamKey, v sample) {
	old, ok := s[k]
	if !ok || k.time != 0 {
		s[k] = v
		return
	}
	s[k] = sample{count: old.count + v.count, sum: old.sum + v.sum, min: math.Min(old.min, v.min), max: math.Max(old.max, v.max)}
}

func jsonNumber(v any) (float64, bool) {
	switch x := v.(type) {
	case float64:
		return x, true
	case string:
		f, err := strconv.ParseFloat(x, 64)
		return f, err == nil
	}
	return 0, false
}

func sampleOf(m map[string]any) sample {
	if c, ok := jsonNumber(m["count"]); ok {
		sum, _ := jsonNumber(m["sum"])
		s := sample{count: int64(c), sum: sum, min: sum / c, max: sum / c}
		if v, ok := jsonNumber(m["min"]); ok {
			s.min = v
		}
		if v, ok := jsonNumber(m["max"]); ok {
			s.max = v
		}
		return s
	}
	v, _ := jsonNumber(m["value"])
	return sample{count: 1, sum: v, min: v, max: v}
}

// collect adds what one request body submits to s: legacy gauges and
// counters (arrays, or objects hashed by name) with their sources, or
// tagged measurements, whose "source" tag is the legacy source.
func (s sent) collect(t *testing.T, r capturedRequest) {
	t.Helper()
	var body map[string]any
	require.NoError(t, json.Unmarshal([]byte(r.Body), &body), r.Body)
	top := func(k string) any { return body[k] }
	timeOf := func(m map[string]any, key string) int64 {
		for _, v := range []any{m[key], top(key)} {
			if f, ok := jsonNumber(v); ok {
				return int64(f)
			}
		}
		return 0
	}
	switch {
	case strings.HasPrefix(r.URL, "/v1/metrics"):
		for _, kind := range []string{"gauges", "counters"} {
			var items []map[string]any
			switch list := body[kind].(type) {
			case []any:
				for _, it := range list {
					items = append(items, it.(map[string]any))
				}
			case map[string]any:
				for name, it := range list {
					m := it.(map[string]any)
					if _, ok := m["name"]; !ok {
						m["name"] = name
					}
					items = append(items, m)
				}
			}
			for _, m := range items {
				src, _ := m["source"].(string)
				if src == "" {
					src, _ = top("source").(string)
				}
				s.add(streamKey{metric: m["name"].(string), source: strings.ToLower(src), time: timeOf(m, "measure_time")}, sampleOf(m))
			}
		}
	case strings.HasPrefix(r.URL, "/v1/measurements"):
		for _, it := range body["measurements"].([]any) {
			m := it.(map[string]any)
			tags, _ := m["tags"].(map[string]any)
			if len(tags) == 0 {
				tags, _ = top("tags").(map[string]any)
			}
			src, _ := tags["source"].(string)
			s.add(streamKey{metric: m["name"].(string), source: strings.ToLower(src), time: timeOf(m, "time")}, sampleOf(m))
		}
	default:
		t.Fatalf("unexpected request %s %s", r.Method, r.URL)
	}
}

// send sends one captured request as the client sent it (method, path,
// body and its encoding, content type, accept, user agent, the form of
// its Basic credentials), with email and token, and returns the answer.
func send(t *testing.T, base, email, token string, r capturedRequest) (int, []byte) {
	t.Helper()
	body := []byte(r.Body)
	if strings.EqualFold(r.Headers["content-encoding"], "gzip") {
		var zb bytes.Buffer
		zw := gzip.NewWriter(&zb)
		_, err := zw.Write(body)
		require.NoError(t, err)
		require.NoError(t, zw.Close())
		body = zb.Bytes()
	}
	var rd io.Reader
	if r.Body != "" {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequest(r.Method, base+r.URL, rd)
	require.NoError(t, err)
	auth := r.Auth
	if auth == "" {
		auth = "{email}:{token}"
	}
	user, pass, ok := strings.Cut(strings.NewReplacer("{email}", email, "{token}", token).Replace(auth), ":")
	require.True(t, ok, "auth %q", r.Auth)
	req.SetBasicAuth(user, pass)
	for _, h := range []string{"content-type", "content-encoding", "accept", "user-agent"} {
		if v := r.Headers[h]; v != "" {
			req.Header.Set(h, v)
		}
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp.StatusCode, raw
}

// replay sends the captured requests (see send) and fails the test for
// an answer of 300 or more other than 403.
func replay(t *testing.T, base, email, token string, reqs []capturedRequest) []int {
	t.Helper()
	var codes []int
	for _, r := range reqs {
		code, raw := send(t, base, email, token, r)
		codes = append(codes, code)
		if code >= 300 && code != http.StatusForbidden {
			t.Errorf("%s %s answered %d: %s", r.Method, r.URL, code, raw)
		}
	}
	return codes
}

// getJSON reads path with a View Only token and decodes the answer.
func getJSON(t *testing.T, srv *mock.Server, path string, out any) {
	t.Helper()
	email, token := srv.Credentials(librato.RoleViewOnly)
	req, err := http.NewRequest("GET", srv.URL()+path, nil)
	require.NoError(t, err)
	req.SetBasicAuth(email, token)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	require.Equal(t, http.StatusOK, resp.StatusCode, "GET %s: %s", path, raw)
	require.NoError(t, json.Unmarshal(raw, out), string(raw))
}

// requireReadableBack checks every stream and time in want through both
// reads at one-second resolution; points without a time must lie in
// [from, to].
func requireReadableBack(t *testing.T, srv *mock.Server, want sent, from, to int64) {
	t.Helper()
	keys := make([]streamKey, 0, len(want))
	for k := range want {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool { return fmt.Sprint(keys[i]) < fmt.Sprint(keys[j]) })
	for _, k := range keys {
		v := want[k]
		start, end := k.time, k.time
		if k.time == 0 {
			start, end = from, to
		}
		label := fmt.Sprintf("%s source %q at %d", k.metric, k.source, k.time)

		// The tagged read: the source is the stream's "source" tag.
		q := url.Values{"start_time": {strconv.FormatInt(start, 10)}, "end_time": {strconv.FormatInt(end, 10)},
			"resolution": {"1"}, "summary_function": {"all"}}
		var tagged struct {
			Series []struct {
				Tags         map[string]string `json:"tags"`
				Measurements []struct {
					Time  int64   `json:"time"`
					Value float64 `json:"value"`
					Count int64   `json:"count"`
					Sum   float64 `json:"sum"`
					Min   float64 `json:"min"`
					Max   float64 `json:"max"`
				} `json:"measurements"`
			} `json:"series"`
		}
		getJSON(t, srv, "/v1/measurements/"+url.PathEscape(k.metric)+"?"+q.Encode(), &tagged)
		found := false
		for _, s := range tagged.Series {
			if s.Tags["source"] != k.source || (k.source == "" && len(s.Tags) > 0) {
				continue
			}
			for _, p := range s.Measurements {
				found = true
				assert.Equal(t, v.count, p.Count, "%s: tagged count", label)
				assert.InDelta(t, v.sum, p.Sum, 1e-9, "%s: tagged sum", label)
				assert.InDelta(t, v.min, p.Min, 1e-9, "%s: tagged min", label)
				assert.InDelta(t, v.max, p.Max, 1e-9, "%s: tagged max", label)
				assert.InDelta(t, v.sum/float64(v.count), p.Value, 1e-9, "%s: tagged value (the mean)", label)
			}
		}
		assert.True(t, found, "%s: not in the tagged read %+v", label, tagged)

		// The legacy read: measurements keyed by source.
		q = url.Values{"start_time": {strconv.FormatInt(start, 10)}, "end_time": {strconv.FormatInt(end, 10)}, "resolution": {"1"}}
		var legacy struct {
			Measurements map[string][]struct {
				MeasureTime int64    `json:"measure_time"`
				Value       float64  `json:"value"`
				Count       int64    `json:"count"`
				Sum         *float64 `json:"sum"`
				Min         *float64 `json:"min"`
				Max         *float64 `json:"max"`
			} `json:"measurements"`
		}
		getJSON(t, srv, "/v1/metrics/"+url.PathEscape(k.metric)+"?"+q.Encode(), &legacy)
		src := k.source
		if src == "" {
			src = "unassigned"
		}
		recs := legacy.Measurements[src]
		if assert.Len(t, recs, 1, "%s: legacy read %+v", label, legacy.Measurements) {
			r := recs[0]
			assert.Equal(t, v.count, r.Count, "%s: legacy count", label)
			assert.InDelta(t, v.sum/float64(v.count), r.Value, 1e-9, "%s: legacy value (the mean)", label)
			if v.count > 1 {
				if assert.NotNil(t, r.Sum, label) && assert.NotNil(t, r.Min, label) && assert.NotNil(t, r.Max, label) {
					assert.InDelta(t, v.sum, *r.Sum, 1e-9, "%s: legacy sum", label)
					assert.InDelta(t, v.min, *r.Min, 1e-9, "%s: legacy min", label)
					assert.InDelta(t, v.max, *r.Max, 1e-9, "%s: legacy max", label)
				}
			}
			if k.time != 0 {
				assert.Equal(t, k.time, r.MeasureTime, label)
			}
		}
	}
}

var realClients = []struct {
	name, file string
	wantLegacy int // POST /v1/metrics requests in the capture
}{
	{"librato-node", "librato-node-5.0.6.jsonl", 1},
	{"statsd-librato-backend legacy mode", "statsd-0.9.0-librato-backend-2.0.16-legacy.jsonl", 1},
}

func TestRealClientRequestsAreRecordedAndReadableBack(t *testing.T) {
	for _, rc := range realClients {
		t.Run(rc.name, func(t *testing.T) {
			reqs := loadCaptured(t, rc.file)
			legacy := 0
			want := sent{}
			for _, r := range reqs {
				if r.URL == "/v1/metrics" {
					legacy++
				}
				want.collect(t, r)
			}
			require.Equal(t, rc.wantLegacy, legacy, "the capture's legacy submissions")

			srv := mock.NewServer()
			defer srv.Close()
			email, token := srv.Credentials(librato.RoleRecordOnly)
			from := time.Now().Unix()
			for _, code := range replay(t, srv.URL(), email, token, reqs) {
				require.Less(t, code, 300)
			}
			requireReadableBack(t, srv, want, from, time.Now().Unix())
		})
	}
}

func TestRealClientRequestsWithAViewOnlyTokenAreForbidden(t *testing.T) {
	for _, rc := range realClients {
		t.Run(rc.name, func(t *testing.T) {
			reqs := loadCaptured(t, rc.file)
			srv := mock.NewServer()
			defer srv.Close()
			email, token := srv.Credentials(librato.RoleViewOnly)
			for i, r := range reqs {
				req, err := http.NewRequest(r.Method, srv.URL()+r.URL, strings.NewReader(r.Body))
				require.NoError(t, err)
				req.SetBasicAuth(email, token)
				req.Header.Set("Content-Type", r.Headers["content-type"])
				resp, err := http.DefaultClient.Do(req)
				require.NoError(t, err)
				var body struct {
					Errors struct {
						Request []string `json:"request"`
					} `json:"errors"`
				}
				require.NoError(t, json.NewDecoder(resp.Body).Decode(&body))
				resp.Body.Close()
				require.Equal(t, http.StatusForbidden, resp.StatusCode, "request %d: %s %s", i, r.Method, r.URL)
				require.NotEmpty(t, body.Errors.Request, "the Librato error body names why")
			}
			require.Zero(t, srv.RecordedCount())
		})
	}
}

// recordingProxy serves srv behind a loopback listener and keeps what
// clients send, so the live clients' own requests are the expectations.
type recordingProxy struct {
	mu   sync.Mutex
	reqs []capturedRequest
}

func (p *recordingProxy) ServeHTTP(srv http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		raw, _ := io.ReadAll(r.Body)
		p.mu.Lock()
		p.reqs = append(p.reqs, capturedRequest{Method: r.Method, URL: r.URL.RequestURI(), Body: string(raw),
			Headers: map[string]string{"content-type": r.Header.Get("Content-Type")}})
		p.mu.Unlock()
		r.Body = io.NopCloser(bytes.NewReader(raw))
		srv.ServeHTTP(w, r)
	})
}

// TestRealClientsLive drives librato-node and statsd's Librato backend
// themselves against the mock, when this machine has Node and their
// packages (testdata/clients/node: npm ci --ignore-scripts). The replay
// tests above cover the same requests everywhere else.
func TestRealClientsLive(t *testing.T) {
	node, err := exec.LookPath("node")
	modules := filepath.Join(clientsDir, "node", "node_modules")
	if _, statErr := os.Stat(filepath.Join(modules, "librato-node")); err != nil || statErr != nil {
		t.Skip("Node or testdata/clients/node/node_modules is missing (cd testdata/clients/node && npm ci --ignore-scripts); TestRealClientRequestsAreRecordedAndReadableBack replays their captured requests instead")
	}
	for _, driver := range []string{"drive-librato-node.js", "drive-statsd.js"} {
		t.Run(driver, func(t *testing.T) {
			srv := mock.NewServer()
			defer srv.Close()
			proxy := &recordingProxy{}
			front := httptest.NewServer(proxy.ServeHTTP(srv))
			defer front.Close()

			for _, role := range []librato.Role{librato.RoleViewOnly, librato.RoleRecordOnly} {
				email, token := srv.Credentials(role)
				from := time.Now().Unix()
				cmd := exec.Command(node, driver)
				cmd.Dir = filepath.Join(clientsDir, "node")
				cmd.Env = append(os.Environ(), "LIBRATO_URL="+front.URL, "LIBRATO_EMAIL="+email, "LIBRATO_TOKEN="+token)
				out, runErr := cmd.CombinedOutput()
				if role == librato.RoleViewOnly {
					// librato-node reports the 403 through its error event
					// (exit status 3 or 4); statsd's backend logs it.
					require.Zero(t, srv.RecordedCount(), "a View Only token recorded something:\n%s", out)
					for _, e := range srv.Journal() {
						if strings.HasPrefix(e.Path, "/v1/") {
							require.Equal(t, http.StatusForbidden, e.Status, "%s %s", e.Method, e.Path)
						}
					}
					proxy.mu.Lock()
					require.NotEmpty(t, proxy.reqs, "the client sent nothing:\n%s", out)
					proxy.reqs = nil
					proxy.mu.Unlock()
					continue
				}
				require.NoError(t, runErr, "%s", out)
				proxy.mu.Lock()
				reqs := proxy.reqs
				proxy.mu.Unlock()
				require.NotEmpty(t, reqs, "the client sent nothing:\n%s", out)
				want := sent{}
				for _, r := range reqs {
					want.collect(t, r)
				}
				requireReadableBack(t, srv, want, from, time.Now().Unix())
			}
		})
	}
}

// TestStatsdStoplistLive runs statsd's Librato backend with counters sent
// as Librato counters, two flushes apart, against the mock: the first
// legacy payload is a type conflict (app.hits went to the tagged route as
// a gauge), which the backend reads as the API's and stoplists app.hits,
// so the second flush leaves it out of both routes and is accepted.
func TestStatsdStoplistLive(t *testing.T) {
	node, err := exec.LookPath("node")
	if _, statErr := os.Stat(filepath.Join(clientsDir, "node", "node_modules", "statsd-librato-backend")); err != nil || statErr != nil {
		t.Skip("Node or testdata/clients/node/node_modules is missing (cd testdata/clients/node && npm ci --ignore-scripts); TestTypeConflictsAreAnsweredAsStatsdParsesThem replays the captured requests instead")
	}
	srv := mock.NewServer()
	defer srv.Close()
	proxy := &recordingProxy{}
	front := httptest.NewServer(proxy.ServeHTTP(srv))
	defer front.Close()
	email, token := srv.Credentials(librato.RoleRecordOnly)
	cmd := exec.Command(node, "drive-statsd.js")
	cmd.Dir = filepath.Join(clientsDir, "node")
	cmd.Env = append(os.Environ(), "LIBRATO_URL="+front.URL, "LIBRATO_EMAIL="+email, "LIBRATO_TOKEN="+token,
		"STATSD_COUNTERS_AS_GAUGES=false", "STATSD_ROUNDS=2")
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "%s", out)

	// Each flush posts both routes at once, so either may arrive first and
	// create app.hits; the other is the conflict.
	j := srv.Journal()
	require.Len(t, j, 4, "two flushes of two requests:\n%s", out)
	var refused []string
	for _, e := range j[:2] {
		if e.Status == http.StatusBadRequest {
			refused = append(refused, stoplisted(t, []byte(e.Error))...)
		} else {
			assert.Less(t, e.Status, 300, "%+v", e)
		}
	}
	assert.Equal(t, []string{"app.hits"}, refused, "one route of the first flush is a type conflict: %+v", j[:2])
	for _, e := range j[2:] {
		assert.Less(t, e.Status, 300, "the second flush is accepted: %+v", e)
	}

	proxy.mu.Lock()
	reqs := proxy.reqs
	proxy.mu.Unlock()
	require.Len(t, reqs, 4)
	for i, r := range reqs {
		assert.Equal(t, i < 2, strings.Contains(r.Body, `"app.hits"`), "request %d, %s: %s", i, r.URL, r.Body)
	}
}
