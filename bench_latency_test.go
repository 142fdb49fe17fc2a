package librato_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"sync"
	"testing"
	"time"

	librato "github.com/librato-sdk/librato-go"
	"github.com/librato-sdk/librato-go/mock"
)

// latencyWorkload is the data both sides of BenchmarkBatcherLatency send:
// tagged measurements with 3 tags, 20 tag sets and 50 metric names, every
// point distinct so the mock's count proves nothing was lost or doubled.
type latencyWorkload struct {
	names []string
	tags  []map[string]string
	base  int64
}

func newLatencyWorkload() *latencyWorkload {
	w := &latencyWorkload{base: time.Now().Add(-24 * time.Hour).Unix()}
	for i := 0; i < 50; i++ {
		w.names = append(w.names, fmt.Sprintf("bench.latency.m%02d", i))
	}
	for i := 0; i < 20; i++ {
		w.tags = append(w.tags, map[string]string{"host": fmt.Sprintf("web-%02d", i), "region": "us-east-1", "az": string(rune('a' + i%4))})
	}
	return w
}

// at gives measurement i: 100 series (lcm of 50 names and 20 tag sets),
// each with one point per second.
func (w *latencyWorkload) at(i int) librato.Measurement {
	return librato.Measurement{Name: w.names[i%50], Tags: w.tags[i%20], Value: float64(i), Time: w.base + int64(i/100)}
}

const latencyProducers = 8

// split runs f(g, from, to) on latencyProducers goroutines over [0, n).
func split(n int, f func(g, from, to int)) {
	var wg sync.WaitGroup
	for g := 0; g < latencyProducers; g++ {
		from, to := n*g/latencyProducers, n*(g+1)/latencyProducers
		wg.Add(1)
		go func() { defer wg.Done(); f(g, from, to) }()
	}
	wg.Wait()
}

// BenchmarkBatcherLatency compares, against the bundled mock at a given
// latency, the Batcher with default options fed by 8 goroutines (sdk) with
// 8 goroutines posting 1,000-measurement batches built with encoding/json
// and sent with net/http (raw). One iteration is one measurement, from the
// first Add (or the first batch built) to the mock's acceptance of the
// last; every run gets a fresh mock and checks it recorded exactly b.N
// points.
func BenchmarkBatcherLatency(b *testing.B) {
	w := newLatencyWorkload()
	for _, lat := range []time.Duration{0, 20 * time.Millisecond, 100 * time.Millisecond} {
		b.Run(fmt.Sprintf("%dms", lat/time.Millisecond), func(b *testing.B) {
			b.Run("sdk", func(b *testing.B) { benchLatencySDK(b, w, lat) })
			b.Run("raw", func(b *testing.B) { benchLatencyRaw(b, w, lat) })
		})
	}
}

func benchLatencySDK(b *testing.B, w *latencyWorkload, lat time.Duration) {
	srv := mock.NewServer()
	defer srv.Close()
	srv.SetLatency(lat)
	c, err := srv.Client(librato.RoleRecordOnly)
	if err != nil {
		b.Fatal(err)
	}
	bt, err := c.Measurements.NewBatcher(librato.BatcherOptions{})
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	start, cpu := time.Now(), processCPU()
	split(b.N, func(_, from, to int) {
		for i := from; i < to; i++ {
			if err := bt.Add(context.Background(), w.at(i)); err != nil {
				b.Error(err)
				return
			}
		}
	})
	if err := bt.Close(context.Background()); err != nil {
		b.Fatal(err)
	}
	elapsed, used := time.Since(start), processCPU()-cpu
	b.StopTimer()
	reportLatencyRun(b, srv, elapsed, used)
	st := bt.Stats()
	b.ReportMetric(float64(st.PeakConcurrency), "peak-in-flight")
}

// plainLatencyM is what a hand-written client hands to encoding/json.
type plainLatencyM struct {
	Name  string            `json:"name"`
	Value float64           `json:"value"`
	Tags  map[string]string `json:"tags,omitempty"`
	Time  int64             `json:"time,omitempty"`
}

type plainLatencyBatch struct {
	Measurements []plainLatencyM `json:"measurements"`
}

func benchLatencyRaw(b *testing.B, w *latencyWorkload, lat time.Duration) {
	srv := mock.NewServer()
	defer srv.Close()
	srv.SetLatency(lat)
	email, token := srv.Credentials(librato.RoleRecordOnly)
	p := newRawPoster(srv.URL(), email, token)
	defer p.hc.CloseIdleConnections()
	b.ReportAllocs()
	b.ResetTimer()
	start, cpu := time.Now(), processCPU()
	p.run(b, w, 0, b.N, librato.MaxMeasurementsPerRequest)
	elapsed, used := time.Since(start), processCPU()-cpu
	b.StopTimer()
	reportLatencyRun(b, srv, elapsed, used)
}

// rawPoster is the hand-written client the raw benchmarks run: bodies
// built with encoding/json, POSTed with net/http and Basic auth, through
// its own transport with enough idle connections for the posters, so it
// is not slowed by reconnecting: the fairest plain client.
type rawPoster struct {
	hc        *http.Client
	url, auth string
}

func newRawPoster(base, email, token string) *rawPoster {
	return &rawPoster{
		hc:   &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: latencyProducers}},
		url:  base + "/v1/measurements",
		auth: "Basic " + base64.StdEncoding.EncodeToString([]byte(email+":"+token)),
	}
}

func (p *rawPoster) post(ms []plainLatencyM) error {
	body, err := json.Marshal(plainLatencyBatch{Measurements: ms})
	if err != nil {
		return err
	}
	req, err := http.NewRequest(http.MethodPost, p.url, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", p.auth)
	req.Header.Set("Content-Type", "application/json")
	resp, err := p.hc.Do(req)
	if err != nil {
		return err
	}
	// Read to the end, or net/http closes the connection instead of
	// pooling it.
	_, err = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if err != nil {
		return err
	}
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("status %d", resp.StatusCode)
	}
	return nil
}

// run posts measurements off to off+n of w from latencyProducers
// goroutines, each in batches of batch.
func (p *rawPoster) run(b *testing.B, w *latencyWorkload, off, n, batch int) {
	split(n, func(_, from, to int) {
		pending := make([]plainLatencyM, 0, batch)
		for i := from; i < to; i++ {
			m := w.at(off + i)
			pending = append(pending, plainLatencyM{m.Name, m.Value, m.Tags, m.Time})
			if len(pending) == cap(pending) || i == to-1 {
				if err := p.post(pending); err != nil {
					b.Error(err)
					return
				}
				pending = pending[:0]
			}
		}
	})
}

// reportLatencyRun checks the mock holds every point and reports the
// throughput, and the process's CPU time per measurement (both sides and
// the mock), which a busy machine disturbs less than the wall clock.
func reportLatencyRun(b *testing.B, srv *mock.Server, elapsed, cpu time.Duration) {
	if got := srv.RecordedCount(); got != b.N {
		b.Fatalf("mock recorded %d of %d", got, b.N)
	}
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "measurements/s")
	b.ReportMetric(float64(cpu.Nanoseconds())/float64(b.N), "cpu-ns/measurement")
}
