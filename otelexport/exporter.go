package otelexport

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"time"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	"go.opentelemetry.io/otel/sdk/resource"

	librato "github.com/librato-sdk/librato-go"
)

// staleExports is how many exports in a row a stream may be absent before
// the exporter forgets it (its tags and, for cumulative data, its last
// value). A cumulative stream that comes back afterwards is treated by the
// first-point rule of the package documentation.
const staleExports = 10

// Exporter is an sdk/metric Exporter that turns OpenTelemetry data points
// into Librato measurements and hands them to a librato.Batcher, which
// validates, batches, retries and delivers them. It is safe for
// concurrent use.
type Exporter struct {
	cfg     config
	periodS int64
	batcher *librato.Batcher
	created time.Time

	// sem is a one-slot semaphore guarding the conversion state below; a
	// channel rather than a mutex so waiting for it honours a context.
	sem      chan struct{}
	metrics  map[metricKey]*metricState
	streams  map[streamKey]*stream
	bases    map[string]*baseTags // by encoded resource
	carrying []carried            // streams holding values not yet queued
	gen      uint64
	slab     slab

	closing  atomic.Bool
	shutdown chan struct{} // closed when Shutdown has finished

	st counters
}

var _ sdkmetric.Exporter = (*Exporter)(nil)

// New starts an exporter that submits through c's batcher, so every
// measurement passes c's guard, validation and retries. It fails with
// *librato.ErrForbiddenForRole if c's declared role may not submit
// measurements (View Only), and with an error naming the option if an
// option is invalid. Shut it down (the MeterProvider's Shutdown does) to
// deliver what is queued.
func New(c *librato.Client, opts ...Option) (*Exporter, error) {
	if c == nil {
		return nil, errors.New("otelexport: New: the client is nil")
	}
	cfg := defaultConfig()
	for _, o := range opts {
		if o == nil {
			continue
		}
		if err := o(&cfg); err != nil {
			return nil, err
		}
	}
	e := &Exporter{
		cfg:      cfg,
		periodS:  int64(cfg.period / time.Second),
		created:  time.Now(),
		sem:      make(chan struct{}, 1),
		metrics:  make(map[metricKey]*metricState),
		streams:  make(map[streamKey]*stream),
		bases:    make(map[string]*baseTags),
		shutdown: make(chan struct{}),
	}
	b, err := c.Measurements.NewBatcher(librato.BatcherOptions{
		BatchSize:     cfg.batchSize,
		FlushInterval: cfg.flushInterval,
		MaxBuffered:   cfg.maxBuffered,
		OnError:       e.onBatcherError,
	})
	if err != nil {
		return nil, err
	}
	e.batcher = b
	return e, nil
}

// onBatcherError hears of measurements the batcher will not deliver and
// passes them to the OpenTelemetry error handler. Validation errors are
// left out: Add returned them to Export, which returns them to its caller
// (the reader hands them to the same handler).
func (e *Exporter) onBatcherError(err error, lost []librato.Measurement) {
	var ve *librato.ValidationError
	if errors.As(err, &ve) {
		return
	}
	otel.Handle(fmt.Errorf("otelexport: %d measurement(s) will not be delivered: %w", len(lost), err))
}

// Temporality is the temporality the reader should use for kind: the
// WithTemporalitySelector choice, DefaultTemporality unless given.
func (e *Exporter) Temporality(k sdkmetric.InstrumentKind) metricdata.Temporality {
	return e.cfg.temporality(k)
}

// Aggregation is the aggregation the reader should use for kind: the
// WithAggregationSelector choice, DefaultAggregation unless given.
func (e *Exporter) Aggregation(k sdkmetric.InstrumentKind) sdkmetric.Aggregation {
	return e.cfg.aggregation(k)
}

// Export converts rm into measurements and queues them on the batcher; it
// does not wait for delivery (ForceFlush does). It returns once everything
// is queued or ctx ends, whichever is first. Sums and histograms that could
// not be queued are carried into the stream's next measurement; other
// values are lost. The error counts what was not queued and why (context
// ended, invalid value such as NaN); delivery failures arrive later at the
// OpenTelemetry error handler. After Shutdown it returns
// sdkmetric.ErrExporterShutdown.
func (e *Exporter) Export(ctx context.Context, rm *metricdata.ResourceMetrics) error {
	if e.closing.Load() {
		return sdkmetric.ErrExporterShutdown
	}
	if rm == nil {
		return nil
	}
	if !e.acquire(ctx) {
		n := countPoints(rm)
		e.st.dataPoints.Add(n)
		e.st.lost.Add(n)
		return fmt.Errorf("otelexport: %d data point(s) not exported: another export held the exporter until the context ended: %w", n, context.Cause(ctx))
	}
	defer func() { <-e.sem }()
	if e.closing.Load() {
		return sdkmetric.ErrExporterShutdown
	}
	x := exportRun{e: e, ctx: ctx}
	x.run(rm)
	x.retryCarried()
	e.forgetStale()
	x.publish()
	return x.err()
}

// acquire takes the conversion state, waiting for another Export to end
// until ctx does. A free state is taken even when ctx has already ended:
// the periodic reader cancels the context of the export it is in when
// Shutdown starts, and what can be queued without waiting must not be lost.
func (e *Exporter) acquire(ctx context.Context) bool {
	select {
	case e.sem <- struct{}{}:
		return true
	default:
	}
	select {
	case e.sem <- struct{}{}:
		return true
	case <-ctx.Done():
		return false
	}
}

// ForceFlush sends everything queued and waits until it is delivered or
// lost, or ctx ends. It returns an error if measurements were lost on the
// way (see Stats) or ctx ended first.
func (e *Exporter) ForceFlush(ctx context.Context) error {
	if err := e.batcher.Flush(ctx); err != nil {
		return fmt.Errorf("otelexport: flush: %w", err)
	}
	return nil
}

// Shutdown queues the values still carried, then closes the batcher,
// which delivers everything queued; ctx bounds the wait. It returns nil
// only if every measurement the exporter made was delivered, and otherwise
// an error counting what was not (unwrapping to the batcher's error).
// Later calls return sdkmetric.ErrExporterShutdown; Export after Shutdown
// does too.
func (e *Exporter) Shutdown(ctx context.Context) error {
	if !e.closing.CompareAndSwap(false, true) {
		select {
		case <-e.shutdown:
		case <-ctx.Done():
		}
		return sdkmetric.ErrExporterShutdown
	}
	defer close(e.shutdown)
	var stranded int64
	if e.acquire(ctx) {
		x := exportRun{e: e, ctx: ctx, final: true}
		x.retryCarried()
		x.publish()
		stranded = x.stranded
		<-e.sem
	} // else an Export still holds the state; what it carries is lost.
	closeErr := e.batcher.Close(ctx)
	lost := e.st.lost.Load()
	var err error
	switch {
	case lost > 0 && closeErr != nil:
		err = fmt.Errorf("otelexport: shutdown: %d value(s) were never queued (%d still carried at shutdown); the batcher lost more: %w", lost, stranded, closeErr)
	case lost > 0:
		err = fmt.Errorf("otelexport: shutdown: %d value(s) were never queued (%d still carried at shutdown); see Stats", lost, stranded)
	case closeErr != nil:
		err = fmt.Errorf("otelexport: shutdown: %w", closeErr)
	}
	return err
}

// Stats is what an exporter did so far.
type Stats struct {
	Exports        int64 // Export calls that converted data
	DataPoints     int64 // data points read
	Queued         int64 // measurements handed to the batcher
	NotQueued      int64 // measurements the batcher did not take: context ended, closed, invalid value
	Carried        int64 // of NotQueued, sums and summaries whose value was carried into the stream's next measurement
	Lost           int64 // values given up for good before reaching the batcher
	Skipped        int64 // data points with nothing to send (see the package doc)
	Resets         int64 // cumulative streams that restarted (start time changed or value dropped)
	NamesRewritten int64 // metric names the rules changed, once per metric met
	TagsRewritten  int64 // tag names or values the rules changed, per data point
	TagsOverLimit  int64 // tags left out because a stream had more than 50, per data point
	TagCollisions  int64 // attributes left out because their rewritten name was taken, per data point
	Batcher        librato.BatcherStats
}

// Stats returns the exporter's counters and its batcher's.
func (e *Exporter) Stats() Stats {
	return Stats{
		Exports:        e.st.exports.Load(),
		DataPoints:     e.st.dataPoints.Load(),
		Queued:         e.st.queued.Load(),
		NotQueued:      e.st.notQueued.Load(),
		Carried:        e.st.carried.Load(),
		Lost:           e.st.lost.Load(),
		Skipped:        e.st.skipped.Load(),
		Resets:         e.st.resets.Load(),
		NamesRewritten: e.st.namesRewritten.Load(),
		TagsRewritten:  e.st.tagsRewritten.Load(),
		TagsOverLimit:  e.st.tagsOverLimit.Load(),
		TagCollisions:  e.st.tagCollisions.Load(),
		Batcher:        e.batcher.Stats(),
	}
}

type counters struct {
	exports, dataPoints, queued, notQueued, carried, lost, skipped, resets atomic.Int64
	namesRewritten, tagsRewritten, tagsOverLimit, tagCollisions            atomic.Int64
}

func countPoints(rm *metricdata.ResourceMetrics) int64 {
	var n int64
	for _, sm := range rm.ScopeMetrics {
		for _, m := range sm.Metrics {
			n += int64(pointsOf(m.Data))
		}
	}
	return n
}

func pointsOf(a metricdata.Aggregation) int {
	switch d := a.(type) {
	case metricdata.Gauge[int64]:
		return len(d.DataPoints)
	case metricdata.Gauge[float64]:
		return len(d.DataPoints)
	case metricdata.Sum[int64]:
		return len(d.DataPoints)
	case metricdata.Sum[float64]:
		return len(d.DataPoints)
	case metricdata.Histogram[int64]:
		return len(d.DataPoints)
	case metricdata.Histogram[float64]:
		return len(d.DataPoints)
	case metricdata.ExponentialHistogram[int64]:
		return len(d.DataPoints)
	case metricdata.ExponentialHistogram[float64]:
		return len(d.DataPoints)
	case metricdata.Summary:
		return len(d.DataPoints)
	}
	return 0
}

// forgetStale drops, every staleExports exports, the streams absent from
// the last staleExports exports, keeping those that still carry a value.
func (e *Exporter) forgetStale() {
	if e.gen%staleExports != 0 {
		return
	}
	for k, head := range e.streams {
		var keep *stream
		for s := head; s != nil; {
			next := s.next
			if e.gen-s.seen < staleExports || s.carry.n > 0 {
				s.next, keep = keep, s
			} else if s.based && s.last.After(k.ms.forgotten) {
				k.ms.forgotten = s.last
			}
			s = next
		}
		if keep == nil {
			delete(e.streams, k)
		} else {
			e.streams[k] = keep
		}
	}
	// A set no stream used lately leaves the cache.
	for _, b := range e.bases {
		for k, head := range b.sets {
			var keep *tagSet
			for ts := head; ts != nil; {
				next := ts.next
				if e.gen-ts.seen < staleExports {
					ts.next, keep = keep, ts
				}
				ts = next
			}
			if keep == nil {
				delete(b.sets, k)
			} else {
				b.sets[k] = keep
			}
		}
	}
}

// baseTags are the tags every stream of one resource starts with: the
// WithTags ones, then the chosen resource attributes, rewritten,
// de-duplicated and cut to the limit.
type baseTags struct {
	names, values                  []string
	rewritten, overLimit, collided int
	dropped                        []string // names left out, for the error handler
	sets                           map[attribute.Distinct]*tagSet
}

func (e *Exporter) baseTagsFor(res *resource.Resource, key string) *baseTags {
	if b := e.bases[key]; b != nil {
		return b
	}
	b := &baseTags{sets: make(map[attribute.Distinct]*tagSet)}
	add := func(name, value string, rewritten bool) {
		for _, n := range b.names {
			if n == name {
				b.collided++
				b.dropped = append(b.dropped, name)
				return
			}
		}
		if len(b.names) >= librato.MaxTagsPerStream {
			b.overLimit++
			b.dropped = append(b.dropped, name)
			return
		}
		if rewritten {
			b.rewritten++
		}
		b.names = append(b.names, name)
		b.values = append(b.values, value)
	}
	for _, k := range sortedKeys(e.cfg.tags) {
		add(strings.ToLower(k), e.cfg.tags[k], false)
	}
	for _, k := range e.cfg.resourceAttrs {
		v, ok := res.Set().Value(k)
		if !ok {
			continue
		}
		name, rn := tagName(string(k))
		value, rv := tagValue(v.Emit())
		add(name, value, rn || rv)
	}
	if len(b.dropped) > 0 {
		otel.Handle(fmt.Errorf("otelexport: resource tags %s left out: a name was taken or a stream holds at most %d tags", strings.Join(b.dropped, ", "), librato.MaxTagsPerStream))
	}
	e.bases[key] = b
	return b
}
