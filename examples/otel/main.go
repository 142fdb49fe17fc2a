// Command otel is a small HTTP service instrumented only with the
// OpenTelemetry metrics API (a counter, an up-down counter, a histogram of
// request durations and a gauge), whose metrics the OpenTelemetry SDK
// exports to Librato through otelexport: a PeriodicReader collects every
// interval and the exporter queues the data points on the SDK's batcher.
// A load generator calls the service until -duration ends or SIGINT or
// SIGTERM arrives; then the MeterProvider shuts down, which makes a final
// collection and delivers everything queued, and the program prints the
// exporter's counters.
//
// By default it reports to the bundled mock API in-process, prints every
// series the mock received and checks that the request counts delivered
// equal the requests the load generator made:
//
//	go run ./examples/otel -duration 3s -interval 1s
//
// With LIBRATO_EMAIL, LIBRATO_TOKEN and LIBRATO_ROLE (recorder or admin)
// set, it reports to that real account instead (default duration one
// minute, at the default 60 s interval); LIBRATO_URL optionally names
// another API root, such as a librato-mock:
//
//	LIBRATO_EMAIL=you@example.com LIBRATO_TOKEN=... LIBRATO_ROLE=recorder go run ./examples/otel
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"sort"
	"strings"
	"syscall"
	"time"

	"go.opentelemetry.io/otel/attribute"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/resource"

	librato "github.com/librato-sdk/librato-go"
	"github.com/librato-sdk/librato-go/examples/internal/realaccount"
	"github.com/librato-sdk/librato-go/mock"
	"github.com/librato-sdk/librato-go/otelexport"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Stdout, os.Args[1:]); err != nil && !errors.Is(err, flag.ErrHelp) {
		fmt.Fprintln(os.Stderr, "otel:", err)
		os.Exit(1)
	}
}

// run serves and loads the shop until ctx ends or the duration is over,
// then shuts the metrics pipeline down and reports what was delivered.
//
// Its token is Record Only, which librato-vet checks every call against.
//
//librato:role recorder
func run(ctx context.Context, stdout io.Writer, args []string) error {
	fs := flag.NewFlagSet("otel", flag.ContinueOnError)
	fs.SetOutput(stdout)
	duration := fs.Duration("duration", 0, "how long to run (default 3s against the mock, 1m against a real account)")
	interval := fs.Duration("interval", 0, "collection interval and Librato period, whole seconds (default 1s against the mock, 60s against a real account)")
	closeTimeout := fs.Duration("close-timeout", 10*time.Second, "how long shutdown may take to deliver what is queued")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *interval != 0 && (*interval < time.Second || *interval%time.Second != 0) {
		return fmt.Errorf("-interval %v: must be a whole number of seconds, at least 1s", *interval)
	}
	say := func(format string, a ...any) { fmt.Fprintf(stdout, format+"\n", a...) }

	var (
		srv    *mock.Server
		client *librato.Client
	)
	env, err := realaccount.FromEnv()
	if err != nil {
		return err
	}
	if env == nil {
		if srv, err = mock.New(); err != nil {
			return fmt.Errorf("starting the mock API: %w", err)
		}
		defer srv.Close()
		if client, err = srv.Client(librato.RoleRecordOnly, librato.WithUserAgent("librato-otel-example")); err != nil {
			return err
		}
		*duration = or(*duration, 3*time.Second)
		*interval = or(*interval, time.Second)
		say("mock: Librato API serving at %s; exporting with a Record Only token", srv.URL())
	} else {
		if client, err = env.Client("librato-otel-example"); err != nil {
			return err
		}
		*duration = or(*duration, time.Minute)
		*interval = or(*interval, otelexport.DefaultPeriod)
		say("real account %s with a %s token", env.Email, env.Role.Label())
	}

	// The metrics pipeline: SDK -> PeriodicReader -> otelexport -> Batcher.
	// The exporter's period is the reader's interval, and its batcher
	// sends what an export queued within one interval. A View Only client
	// is refused here, before anything is sent.
	exp, err := otelexport.New(client, otelexport.WithPeriod(*interval), otelexport.WithFlushInterval(*interval))
	if err != nil {
		return fmt.Errorf("starting the exporter: %w", err)
	}
	res := resource.NewSchemaless(
		attribute.String("service.name", "shop"),
		attribute.String("host.name", hostName()),
		attribute.String("deployment.environment.name", "example"),
	)
	provider := sdkmetric.NewMeterProvider(
		sdkmetric.WithReader(sdkmetric.NewPeriodicReader(exp, sdkmetric.WithInterval(*interval))),
		sdkmetric.WithResource(res),
	)
	closeCtx := func() (context.Context, context.CancelFunc) {
		return context.WithTimeout(context.WithoutCancel(ctx), *closeTimeout)
	}
	shutdown := func() error {
		c, cancel := closeCtx()
		defer cancel()
		return provider.Shutdown(c)
	}

	s, err := newShop(provider.Meter("github.com/librato-sdk/librato-go/examples/otel"))
	if err != nil {
		_ = shutdown()
		return err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		_ = shutdown()
		return fmt.Errorf("listening: %w", err)
	}
	server := &http.Server{Handler: s.routes(), ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = server.Serve(ln) }()
	say("shop serving at http://%s; collecting every %v for %v (Ctrl-C stops early)", ln.Addr(), *interval, *duration)

	loadCtx, stopLoad := context.WithTimeout(ctx, *duration)
	made, loadErr := load(loadCtx, "http://"+ln.Addr().String())
	stopLoad()
	reason := "duration ended"
	if ctx.Err() != nil {
		reason = "signal received"
	}
	say("stopping: %s after %d request(s)", reason, made.total())
	sc, cancel := closeCtx()
	_ = server.Shutdown(sc)
	cancel()

	// Shutdown makes the last collection, exports it and shuts the
	// exporter down: everything queued is delivered or reported.
	shutErr := shutdown()
	st := exp.Stats()
	say("exporter: exports=%d data_points=%d queued=%d not_queued=%d lost=%d skipped=%d tags_rewritten=%d",
		st.Exports, st.DataPoints, st.Queued, st.NotQueued, st.Lost, st.Skipped, st.TagsRewritten)
	say("batcher: sent=%d failed=%d invalid=%d retried=%d batches=%d",
		st.Batcher.Sent, st.Batcher.Failed, st.Batcher.Invalid, st.Batcher.Retried, st.Batcher.Batches)
	if shutErr != nil {
		return fmt.Errorf("shutting the metrics down: %w", shutErr)
	}
	if loadErr != nil {
		return loadErr
	}
	say("shutdown: everything exported was delivered")
	if srv != nil {
		return report(say, srv.Recorded(), made, st.Batcher.Sent)
	}
	return nil
}

func or(d, def time.Duration) time.Duration {
	if d == 0 {
		return def
	}
	return d
}

// counts are requests by "route status".
type counts map[string]int

func (c counts) total() int {
	n := 0
	for _, v := range c {
		n += v
	}
	return n
}

// load calls the shop in a loop (look at the cart, order twice, pack
// once) until ctx ends, and counts the answers by route and status.
func load(ctx context.Context, base string) (counts, error) {
	made := counts{}
	hc := &http.Client{Timeout: 5 * time.Second}
	steps := []struct{ method, path string }{{"GET", "/cart"}, {"POST", "/order"}, {"POST", "/order"}, {"POST", "/pack"}, {"POST", "/pack"}, {"POST", "/pack"}}
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for i := 0; ; i++ {
		select {
		case <-ctx.Done():
			return made, nil
		case <-tick.C:
		}
		st := steps[i%len(steps)]
		req, err := http.NewRequest(st.method, base+st.path, nil)
		if err != nil {
			return made, err
		}
		resp, err := hc.Do(req)
		if err != nil {
			return made, fmt.Errorf("calling the shop: %w", err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		_ = resp.Body.Close()
		made[fmt.Sprintf("%s %d", st.path, resp.StatusCode)]++
	}
}

// report prints every series the mock received and checks the request
// counts against what the load generator made.
func report(say func(string, ...any), recorded []librato.Measurement, made counts, sent int64) error {
	type series struct {
		n           int
		total, last float64
		count       int64
		sum         float64
	}
	all := map[string]*series{}
	for _, m := range recorded {
		key := m.Name + " " + tagString(m.Tags)
		s := all[key]
		if s == nil {
			s = &series{}
			all[key] = s
		}
		s.n++
		s.total += m.Value
		s.last = m.Value
		if m.Count > 0 {
			s.count += m.Count
			s.sum += *m.Sum
		}
	}
	keys := make([]string, 0, len(all))
	for k := range all {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	delivered := counts{}
	for _, k := range keys {
		s := all[k]
		switch name := strings.Fields(k)[0]; name {
		case "shop.requests":
			say("delivered %s: %d measurement(s), total %.0f", k, s.n, s.total)
			delivered[routeStatus(k)] += int(s.total)
		case "shop.request.duration":
			say("delivered %s: %d summary(ies), %d request(s), %.1f ms in all", k, s.n, s.count, s.sum)
		default:
			say("delivered %s: %d measurement(s), last %.0f", k, s.n, s.last)
		}
	}
	say("mock recorded %d measurement(s); batcher sent %d", len(recorded), sent)
	if int64(len(recorded)) != sent {
		return fmt.Errorf("the mock recorded %d measurements but the batcher reports %d sent", len(recorded), sent)
	}
	for k, n := range made {
		if delivered[k] != n {
			return fmt.Errorf("requests %s: the load generator made %d, Librato received %d", k, n, delivered[k])
		}
	}
	if len(delivered) != len(made) {
		return fmt.Errorf("librato received request counts %v, the load generator made %v", delivered, made)
	}
	say("check: shop.requests delivered equals the %d request(s) made, per route and status", made.total())
	return nil
}

// routeStatus turns "shop.requests ... http.response.status_code=201 http.route=/order ..."
// into "/order 201".
func routeStatus(key string) string {
	var route, status string
	for _, f := range strings.Fields(key) {
		if v, ok := strings.CutPrefix(f, "http.route="); ok {
			route = v
		}
		if v, ok := strings.CutPrefix(f, "http.response.status_code="); ok {
			status = v
		}
	}
	return route + " " + status
}

func tagString(tags map[string]string) string {
	keys := make([]string, 0, len(tags))
	for k := range tags {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = k + "=" + tags[k]
	}
	return strings.Join(parts, " ")
}

// hostName is the machine's name, or "unknown"; the exporter rewrites
// characters a tag value may not hold.
func hostName() string {
	if h, err := os.Hostname(); err == nil && h != "" {
		return h
	}
	return "unknown"
}
