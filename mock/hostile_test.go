package mock_test

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	librato "github.com/librato-sdk/librato-go"
)

// Requests a hostile or careless client sends, and what each may cost.
// Like fidelity_test.go, these use only what the mock had before they
// were written.

// gzipOf compresses b.
func gzipOf(t *testing.T, b []byte) []byte {
	t.Helper()
	var out bytes.Buffer
	zw := gzip.NewWriter(&out)
	_, err := zw.Write(b)
	require.NoError(t, err)
	require.NoError(t, zw.Close())
	return out.Bytes()
}

// sendEncoded posts body with the Content-Encoding header values given.
func sendEncoded(t *testing.T, w *wire, path string, body []byte, encodings ...string) resp {
	t.Helper()
	req, err := http.NewRequest("POST", w.base+path, bytes.NewReader(body))
	require.NoError(t, err)
	req.SetBasicAuth(w.email, w.token)
	req.Header.Set("Content-Type", "application/json")
	for _, e := range encodings {
		req.Header.Add("Content-Encoding", e)
	}
	res, err := w.hc.Do(req)
	require.NoError(t, err)
	defer res.Body.Close()
	var data bytes.Buffer
	_, err = data.ReadFrom(res.Body)
	require.NoError(t, err)
	return resp{Status: res.StatusCode, Header: res.Header, Body: data.Bytes()}
}

// A body is decoded once at most: a second coding, however declared, is
// 415 before anything is decompressed.
func TestStackedEncodingsAreRefused(t *testing.T) {
	srv := newServer(t)
	w := newWire(t, srv, librato.RoleRecordOnly)
	body := []byte(`{"measurements":[{"name":"stacked","value":1}]}`)
	twice := gzipOf(t, gzipOf(t, body))
	sendEncoded(t, w, "/v1/measurements", twice, "gzip, gzip").requireStatus(t, http.StatusUnsupportedMediaType)
	sendEncoded(t, w, "/v1/measurements", twice, "gzip", "x-gzip").requireStatus(t, http.StatusUnsupportedMediaType)
	many := strings.TrimSuffix(strings.Repeat("gzip,", 1500), ",")
	r := sendEncoded(t, w, "/v1/measurements", twice, many).requireStatus(t, http.StatusUnsupportedMediaType)
	_, request, _ := r.errs(t)
	assert.Contains(t, request[0], "Content-Encoding")
	assert.Zero(t, srv.RecordedCount())

	// One coding, identity aside, is the ordinary case.
	sendEncoded(t, w, "/v1/measurements", gzipOf(t, body), "gzip", "identity").requireStatus(t, http.StatusAccepted)
	sendEncoded(t, w, "/v1/measurements", body, "identity, identity").requireStatus(t, http.StatusAccepted)
	assert.Equal(t, 2, srv.RecordedCount())
}

// Every stored time keeps one range, 1970-01-01T00:00:01Z to
// 2099-12-31T23:59:59Z, on both readers of the tagged route and on the
// legacy route.
func TestTimesAfter2099AreRefused(t *testing.T) {
	srv := newServer(t)
	w := newWire(t, srv, librato.RoleRecordOnly)
	const last, after = 4102444799, 4102444800
	for _, c := range []struct{ body, field string }{
		{fmt.Sprintf(`{"measurements":[{"name":"t","value":1,"time":%d}]}`, after), "measurements[0].time"},
		{fmt.Sprintf(`{"time":%d,"measurements":[{"name":"t","value":1}]}`, after), "time"},
		// An escape in the name sends the body to the generic reader.
		{fmt.Sprintf(`{"measurements":[{"name":"\u0074","value":1,"time":%d}]}`, after), "measurements[0].time"},
		{fmt.Sprintf(`{"time":%d,"measurements":[{"name":"\u0074","value":1}]}`, after), "time"},
		{`{"measurements":[{"name":"t","value":1,"time":1700000000000}]}`, "measurements[0].time"},
	} {
		w.raw("POST", "/v1/measurements", "application/json", []byte(c.body)).requireParam(t, c.field)
	}
	w.raw("POST", "/v1/metrics", "application/json", []byte(fmt.Sprintf(`{"gauges":[{"name":"t","value":1,"measure_time":%d}]}`, after))).requireParam(t, "gauges[0].measure_time")
	w.raw("POST", "/v1/metrics", "application/json", []byte(fmt.Sprintf(`{"measure_time":%d,"gauges":[{"name":"t","value":1}]}`, after))).requireParam(t, "measure_time")
	w.form("POST", "/v1/metrics", fmt.Sprintf("gauges[0][name]=t&gauges[0][value]=1&gauges[0][measure_time]=%d", after)).requireParam(t, "gauges[0].measure_time")
	assert.Zero(t, srv.RecordedCount())

	w.raw("POST", "/v1/measurements", "application/json", []byte(fmt.Sprintf(`{"measurements":[{"name":"t","value":1,"time":%d}]}`, last))).requireStatus(t, 202)
	w.raw("POST", "/v1/metrics", "application/json", []byte(fmt.Sprintf(`{"gauges":[{"name":"t","value":1,"measure_time":%d}]}`, last))).requireStatus(t, 200)
	assert.Equal(t, 2, srv.RecordedCount())
}

// A filter too long to match any name or value is refused before any
// matching, and many filters over many streams stop at a bound of work.
func TestCostlyFiltersAreBounded(t *testing.T) {
	srv := newServer(t)
	w := newWire(t, srv, librato.RoleFullAccess)
	var b strings.Builder
	b.WriteString(`{"time":1700000000,"measurements":[`)
	for i := 0; i < 2000; i++ {
		fmt.Fprintf(&b, `{"name":"m","value":%d,"tags":{"host":"host-%04d"}},`, i, i)
	}
	for i := 0; i < 20; i++ {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `{"name":"m.%d","value":%d}`, i, i)
	}
	b.WriteString(`]}`)
	w.raw("POST", "/v1/measurements", "application/json", []byte(b.String())).requireStatus(t, 202)

	long := strings.Repeat("a*", 200_000)
	window := "start_time=1699999000&end_time=1700001000&resolution=60"
	w.do("GET", "/v1/metrics?name="+url.QueryEscape(long), nil).requireParam(t, "name")
	w.do("GET", "/v1/measurements/m?"+window+"&tags[host]="+url.QueryEscape(long), nil).requireParam(t, "tags[host]")
	w.do("GET", "/v1/measurements/m?"+window+"&tags_search="+url.QueryEscape("host="+long), nil).requireParam(t, "tags_search")
	w.do("GET", "/v1/metrics/m.1?"+window+"&source="+url.QueryEscape(long), nil).requireParam(t, "source")
	w.do("GET", "/v1/spaces?name="+url.QueryEscape(long), nil).requireParam(t, "name")

	// 60 patterns of a kilobyte, none matching, against 2,000 streams:
	// 120 million bytes to compare.
	q := url.Values{}
	for i := 0; i < 60; i++ {
		q.Add("tags[host][]", fmt.Sprintf("%02d", i)+strings.Repeat("x*", 511))
	}
	r := w.do("GET", "/v1/measurements/m?"+window+"&"+q.Encode(), nil).requireStatus(t, http.StatusBadRequest)
	_, request, _ := r.errs(t)
	assert.Contains(t, request[0], "filters")

	// Ordinary filters answer as before.
	page := w.do("GET", "/v1/measurements/m?"+window+"&tags[host]=host-00*1", nil).requireStatus(t, 200).obj(t)
	assert.Len(t, page["series"], 10, "host-0001, host-0011, ... host-0091")
	assert.Len(t, w.do("GET", "/v1/metrics?name=M.1", nil).requireStatus(t, 200).obj(t)["metrics"], 11, "m.1 and m.10 to m.19")
}

// Requests with 900 KB paths cost the journal a bounded entry each, and
// GET /mock/journal stays small.
func TestJournalKeepsBoundedEntries(t *testing.T) {
	srv := newServer(t)
	path := "/v1/" + strings.Repeat("p", 900<<10)
	hc := &http.Client{}
	for i := 0; i < 20; i++ {
		res, err := hc.Get(srv.URL() + path)
		require.NoError(t, err)
		res.Body.Close()
		require.Equal(t, http.StatusUnauthorized, res.StatusCode)
	}
	j := srv.Journal()
	require.Len(t, j, 20)
	for _, e := range j {
		assert.Less(t, len(e.Path), 4096, "an entry keeps a bounded part of the path")
		assert.True(t, strings.HasPrefix(e.Path, "/v1/ppp"), "and says where it came from")
	}
	body := newCtl(t, srv).do("GET", "/mock/journal", nil).requireStatus(t, 200).Body
	assert.Less(t, len(body), 200<<10, "the journal's answer")
}
