package librato_test

import (
	"context"
	"crypto/tls"
	"flag"
	"fmt"
	"io"
	"log"
	"maps"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
	"time"

	librato "github.com/librato-sdk/librato-go"
	"github.com/librato-sdk/librato-go/internal/netem"
	"github.com/librato-sdk/librato-go/mock"
)

// networkCert is the certificate of BenchmarkBatcherNetwork's TLS mock,
// which the process trusts; set by TestMain when benchmarks run.
var networkCert *tls.Certificate

// TestMain exists for BenchmarkBatcherNetwork alone. The SDK must trust
// the TLS mock's certificate through its ordinary configuration, and
// crypto/x509 reads SSL_CERT_FILE once, at the first verification
// against the system roots, which a test may do before any benchmark
// (TestTLSVerificationIsOn does). So when benchmarks are asked for
// (-test.bench), it writes a fresh self-signed certificate for 127.0.0.1
// to a temporary file and points SSL_CERT_FILE at it before anything
// runs; otherwise it changes nothing.
func TestMain(m *testing.M) {
	flag.Parse()
	if flag.Lookup("test.bench").Value.String() == "" {
		os.Exit(m.Run())
	}
	dir, err := os.MkdirTemp("", "librato-bench-cert")
	if err == nil {
		err = trustNetworkCert(dir)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "BenchmarkBatcherNetwork's certificate:", err)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

func trustNetworkCert(dir string) error {
	cert, pemBytes, err := netem.SelfSigned()
	if err != nil {
		return err
	}
	path := filepath.Join(dir, "cert.pem")
	if err := os.WriteFile(path, pemBytes, 0o600); err != nil {
		return err
	}
	networkCert = &cert
	return os.Setenv("SSL_CERT_FILE", path)
}

const (
	networkMeasurements = 30000 // per op
	networkRawBatch     = 500
	networkBytesBudget  = 12 // client-to-server bytes per measurement
)

// networkRun is what one side of BenchmarkBatcherNetwork measured.
type networkRun struct {
	rate, bytesPer, conns float64
	peak                  int
}

// BenchmarkBatcherNetwork compares, over an emulated wide-area link to the
// mock behind TLS (HTTP/1.1), the SDK on its defaults (sdk: a Batcher with
// default options of a client built as a user builds it, no
// WithHTTPClient) with a hand-written net/http loop (raw: 8 goroutines,
// batches of 500, uncompressed JSON, its own pooled transport). Each op
// sends 30,000 measurements from 8 producers and ends when the mock has
// accepted them all; the mock must then hold each exactly once. It
// reports measurements per second, client-to-server bytes per measurement
// (handshakes and headers included), connections opened per op and, for
// sdk, the Batcher's peak window; one summary line per link compares them
// with the budgets: sdk/raw >= 2x at 100 ms unlimited and >= 4x at
// 10 Mbit/s, <= 12 bytes per measurement, connections <= peak window.
// Run it with -benchtime=1x: an op takes seconds.
func BenchmarkBatcherNetwork(b *testing.B) {
	if networkCert == nil {
		b.Fatal("no certificate: TestMain makes one when -test.bench is set")
	}
	w := newLatencyWorkload()
	for _, rtt := range []time.Duration{20 * time.Millisecond, 100 * time.Millisecond} {
		b.Run(fmt.Sprintf("%dms", rtt/time.Millisecond), func(b *testing.B) {
			for _, up := range []struct {
				name string
				bps  int64
			}{{"unlimited", 0}, {"10Mbit", 10_000_000 / 8}} {
				b.Run(up.name, func(b *testing.B) {
					cfg := netem.Config{RTT: rtt, Uplink: up.bps}
					var sdk, raw networkRun
					b.Run("sdk", func(b *testing.B) { sdk = benchNetwork(b, w, cfg, true) })
					b.Run("raw", func(b *testing.B) {
						raw = benchNetwork(b, w, cfg, false)
						// here, not in the parent, whose log only -v shows
						if sdk.rate > 0 {
							b.Logf("%v/%s: %s", rtt, up.name, networkSummary(sdk, raw, networkRatioBudget(cfg)))
						}
					})
				})
			}
		})
	}
}

// networkRatioBudget is the least sdk/raw the issue asks for on a link;
// 0 for none.
func networkRatioBudget(cfg netem.Config) float64 {
	switch {
	case cfg.Uplink > 0:
		return 4
	case cfg.RTT >= 100*time.Millisecond:
		return 2
	}
	return 0
}

// networkSummary compares sdk with raw and the budgets in one line.
func networkSummary(sdk, raw networkRun, budget float64) string {
	verdict := func(ok bool) string {
		if ok {
			return "met"
		}
		return "MISSED"
	}
	ratio := sdk.rate / raw.rate
	ratioBudget := "no budget"
	if budget > 0 {
		ratioBudget = fmt.Sprintf("budget >= %gx %s", budget, verdict(ratio >= budget))
	}
	return fmt.Sprintf("sdk/raw %.2fx (%s); sdk %.1f bytes/meas, raw %.1f (budget <= %d %s); sdk %.0f conns, peak window %d (budget conns <= peak %s)",
		ratio, ratioBudget, sdk.bytesPer, raw.bytesPer, networkBytesBudget, verdict(sdk.bytesPer <= networkBytesBudget),
		sdk.conns, sdk.peak, verdict(sdk.conns <= float64(sdk.peak)))
}

// benchNetwork runs one side of BenchmarkBatcherNetwork: a fresh mock
// behind TLS behind a link of cfg, b.N ops through it, then the checks.
func benchNetwork(b *testing.B, w *latencyWorkload, cfg netem.Config, sdk bool) networkRun {
	srv := mock.NewServer()
	defer srv.Close()
	ts := httptest.NewUnstartedServer(srv)
	ts.TLS = &tls.Config{Certificates: []tls.Certificate{*networkCert}}
	ts.Config.ErrorLog = log.New(io.Discard, "", 0) // connections the link cuts at the end
	ts.StartTLS()
	defer ts.Close()
	link, err := netem.Listen(ts.Listener.Addr().String(), cfg)
	if err != nil {
		b.Fatal(err)
	}
	defer link.Close()
	base := "https://" + link.Addr()
	email, token := srv.Credentials(librato.RoleRecordOnly)

	var op func(off int) (peak int)
	if sdk {
		c, err := librato.NewClient(email, token, librato.WithBaseURL(base), librato.WithRole(librato.RoleRecordOnly))
		if err != nil {
			b.Fatal(err)
		}
		defer c.CloseIdleConnections()
		op = func(off int) int {
			bt, err := c.Measurements.NewBatcher(librato.BatcherOptions{})
			if err != nil {
				b.Fatal(err)
			}
			split(networkMeasurements, func(_, from, to int) {
				for i := from; i < to; i++ {
					if err := bt.Add(context.Background(), w.at(off+i)); err != nil {
						b.Error(err)
						return
					}
				}
			})
			if err := bt.Close(context.Background()); err != nil {
				b.Fatal(err)
			}
			return bt.Stats().PeakConcurrency
		}
	} else {
		p := newRawPoster(base, email, token)
		defer p.hc.CloseIdleConnections()
		op = func(off int) int {
			p.run(b, w, off, networkMeasurements, networkRawBatch)
			return 0
		}
	}

	b.ResetTimer()
	start, cpu := time.Now(), processCPU()
	peak := 0
	for i := 0; i < b.N; i++ {
		peak = max(peak, op(i*networkMeasurements))
	}
	elapsed, used := time.Since(start), processCPU()-cpu
	b.StopTimer()
	st := link.Stats()
	n := b.N * networkMeasurements
	checkExactlyOnce(b, w, srv, n)
	r := networkRun{
		rate:     float64(n) / elapsed.Seconds(),
		bytesPer: float64(st.Up) / float64(n),
		conns:    float64(st.Conns) / float64(b.N),
		peak:     peak,
	}
	b.ReportMetric(r.rate, "meas/s")
	b.ReportMetric(r.bytesPer, "bytes/meas")
	b.ReportMetric(r.conns, "conns")
	if sdk {
		b.ReportMetric(float64(peak), "peak")
	}
	// the whole process: both sides, the mock, TLS and the link
	b.ReportMetric(float64(used.Nanoseconds())/float64(n), "cpu-ns/meas")
	return r
}

// checkExactlyOnce fails b unless the mock holds measurements 0 to n-1 of
// w, each once: a value names its index, and name, tags and time must be
// the ones sent.
func checkExactlyOnce(b *testing.B, w *latencyWorkload, srv *mock.Server, n int) {
	got := srv.Recorded()
	if len(got) != n {
		b.Fatalf("the mock recorded %d measurements, %d were sent", len(got), n)
	}
	seen := make([]bool, n)
	for _, m := range got {
		i := int(m.Value)
		if float64(i) != m.Value || i < 0 || i >= n || seen[i] {
			b.Fatalf("the mock recorded value %v, which was not sent or was recorded twice", m.Value)
		}
		seen[i] = true
		if want := w.at(i); m.Name != want.Name || m.Time != want.Time || !maps.Equal(m.Tags, want.Tags) {
			b.Fatalf("measurement %d: the mock recorded %s %v at %d, %s %v at %d was sent", i, m.Name, m.Tags, m.Time, want.Name, want.Tags, want.Time)
		}
	}
}
