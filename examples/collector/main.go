// Command collector is a Record Only agent: it samples the Go runtime (heap,
// goroutines, garbage collections and their pauses) every interval, rolls the
// samples up with an Aggregator that feeds a Batcher, adds one plain gauge
// straight to the Batcher, and on SIGINT, SIGTERM or the end of -duration
// shuts down cleanly: it closes the aggregator (emitting the unfinished
// period), then the batcher with a timeout (delivering what is buffered),
// and prints the batcher's Stats.
//
// By default it runs against the bundled mock API in-process and checks that
// the mock recorded exactly what the batcher reports as sent:
//
//	go run ./examples/collector -duration 3s -interval 1s
//
// With LIBRATO_EMAIL, LIBRATO_TOKEN and LIBRATO_ROLE (recorder or admin) set,
// it reports to that real account instead (default duration one minute);
// LIBRATO_URL optionally names another API root, such as a librato-mock:
//
//	LIBRATO_EMAIL=you@example.com LIBRATO_TOKEN=... LIBRATO_ROLE=recorder go run ./examples/collector
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"time"

	librato "github.com/librato-sdk/librato-go"
	"github.com/librato-sdk/librato-go/examples/internal/realaccount"
	"github.com/librato-sdk/librato-go/mock"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Stdout, os.Args[1:]); err != nil && !errors.Is(err, flag.ErrHelp) {
		fmt.Fprintln(os.Stderr, "collector:", err)
		os.Exit(1)
	}
}

// run collects until ctx ends or the duration is over, printing one line
// per step to stdout.
//
// An agent: its token is Record Only, which librato-vet checks every call against.
//
//librato:role recorder
func run(ctx context.Context, stdout io.Writer, args []string) error {
	fs := flag.NewFlagSet("collector", flag.ContinueOnError)
	fs.SetOutput(stdout)
	duration := fs.Duration("duration", 0, "how long to collect (default 3s against the mock, 1m against a real account)")
	interval := fs.Duration("interval", time.Second, "how often to sample the runtime; also the aggregation period (whole seconds)")
	closeTimeout := fs.Duration("close-timeout", 10*time.Second, "how long shutdown may take to deliver what is buffered")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *interval < time.Second || *interval%time.Second != 0 {
		return fmt.Errorf("-interval %v: must be a whole number of seconds, at least 1s", *interval)
	}
	say := func(format string, a ...any) { fmt.Fprintf(stdout, format+"\n", a...) }

	// The client: a Record Only token of the mock, or the real account's.
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
		if client, err = srv.Client(librato.RoleRecordOnly, librato.WithUserAgent("librato-collector")); err != nil {
			return err
		}
		if *duration == 0 {
			*duration = 3 * time.Second
		}
		say("mock: Librato API serving at %s; collecting with a Record Only token", srv.URL())
	} else {
		if client, err = env.Client("librato-collector"); err != nil {
			return err
		}
		if *duration == 0 {
			*duration = time.Minute
		}
		say("real account %s with a %s token", env.Email, env.Role.Label())
	}

	// The pipeline: Aggregator -> Batcher -> POST /v1/measurements. A View
	// Only client is refused here, before anything is sent.
	var (
		lostMu sync.Mutex
		lost   []string
	)
	batcher, err := client.Measurements.NewBatcher(librato.BatcherOptions{
		CommonTags:    map[string]string{"host": hostTag(), "app": "collector"}, // merged into each measurement's own tags
		FlushInterval: *interval,
		OnError: func(err error, ms []librato.Measurement) {
			lostMu.Lock() // called from the batcher's goroutines
			defer lostMu.Unlock()
			lost = append(lost, fmt.Sprintf("%d measurement(s): %v", len(ms), err))
		},
	})
	if err != nil {
		return fmt.Errorf("starting the batcher: %w", err)
	}
	agg, err := librato.NewAggregator(batcher, *interval)
	if err != nil {
		_ = batcher.Close(context.Background())
		return fmt.Errorf("starting the aggregator: %w", err)
	}
	say("collecting every %v for %v (Ctrl-C stops early)", *interval, *duration)

	// A simulated workload observed many times per period, so the
	// aggregator has something to roll up: each summary carries count,
	// sum, min, max, last and stddev of the period's samples.
	workCtx, stopWork := context.WithCancel(ctx)
	workDone := make(chan error, 1)
	go func() { workDone <- simulateWork(workCtx, agg) }()

	start := time.Now()
	var last runtime.MemStats
	runtime.ReadMemStats(&last)
	samples := 0
	sample := func(now time.Time) error {
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		gcs := ms.NumGC - last.NumGC
		pause := float64(ms.PauseTotalNs-last.PauseTotalNs) / 1e6
		last = ms
		if err := errors.Join(
			agg.Observe("collector.heap_alloc_bytes", nil, float64(ms.HeapAlloc)),
			agg.Observe("collector.goroutines", nil, float64(runtime.NumGoroutine())),
			agg.Increment("collector.gc_runs", nil, float64(gcs)),
			agg.Increment("collector.gc_pause_ms", nil, pause),
		); err != nil {
			return fmt.Errorf("recording samples: %w", err)
		}
		// A plain gauge goes straight to the batcher, with an explicit
		// time so a retried request cannot count it twice. A signal
		// (ctx) ends the wait should the batcher be full.
		if err := batcher.Add(ctx, librato.Measurement{
			Name:  "collector.uptime_seconds",
			Value: now.Sub(start).Seconds(),
			Time:  now.Unix(),
		}); err != nil {
			if ctx.Err() != nil {
				return nil // the loop sees the signal and stops
			}
			return fmt.Errorf("adding the uptime gauge: %w", err)
		}
		samples++
		say("sample %d: heap_alloc=%dB goroutines=%d gc_runs=+%d gc_pause=+%.3fms", samples, ms.HeapAlloc, runtime.NumGoroutine(), gcs, pause)
		return nil
	}

	deadline := time.NewTimer(*duration)
	defer deadline.Stop()
	tick := time.NewTicker(*interval)
	defer tick.Stop()
	reason := "duration ended"
	loopErr := sample(start)
	for loopErr == nil {
		select {
		case <-ctx.Done():
			reason = "signal received"
		case <-deadline.C:
		case now := <-tick.C:
			loopErr = sample(now)
			continue
		}
		break
	}
	stopWork()
	loopErr = errors.Join(loopErr, <-workDone)
	if loopErr != nil {
		reason = "error"
	}
	say("stopping: %s after %d sample(s)", reason, samples)

	// Shutdown order matters: the aggregator emits into the batcher, so it
	// closes first. The timeout bounds how long delivery may take even
	// after a signal cancelled ctx.
	closeCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), *closeTimeout)
	defer cancel()
	if err := agg.Close(closeCtx); err != nil {
		_ = batcher.Close(closeCtx)
		return fmt.Errorf("closing the aggregator: %w", err)
	}
	say("aggregator closed: the unfinished period was emitted")
	closeErr := batcher.Close(closeCtx)
	st := batcher.Stats()
	say("stats: added=%d sent=%d failed=%d dropped=%d invalid=%d retried=%d batches=%d",
		st.Added, st.Sent, st.Failed, st.Dropped, st.Invalid, st.Retried, st.Batches)
	lostMu.Lock()
	for _, l := range lost {
		say("lost: %s", l)
	}
	lostMu.Unlock()
	if closeErr != nil {
		return fmt.Errorf("closing the batcher: %w", closeErr)
	}
	if loopErr != nil {
		return loopErr
	}
	say("batcher closed: everything added was delivered")
	if srv != nil {
		recorded := srv.RecordedCount()
		say("mock recorded %d measurements; batcher sent %d", recorded, st.Sent)
		if int64(recorded) != st.Sent {
			return fmt.Errorf("the mock recorded %d measurements but the batcher reports %d sent", recorded, st.Sent)
		}
	}
	return nil
}

// simulateWork stands in for the application the agent watches: every
// 50ms it does a little allocation-heavy work and observes how long it took.
func simulateWork(ctx context.Context, agg *librato.Aggregator) error {
	t := time.NewTicker(50 * time.Millisecond)
	defer t.Stop()
	var sink [][]byte
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
			began := time.Now()
			sink = sink[:0]
			for i := 0; i < 64; i++ {
				sink = append(sink, make([]byte, 4096))
			}
			if err := agg.Observe("collector.work_ms", nil, float64(time.Since(began).Microseconds())/1000); err != nil {
				return err
			}
		}
	}
}

// hostTag is the host name, reduced to the characters a tag value may hold.
func hostTag() string {
	h, err := os.Hostname()
	if err != nil || h == "" {
		return "unknown"
	}
	h = strings.Map(func(r rune) rune {
		if strings.ContainsRune("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.:-_", r) {
			return r
		}
		return '_'
	}, h)
	if len(h) > librato.MaxTagValueLength {
		h = h[:librato.MaxTagValueLength]
	}
	return h
}
