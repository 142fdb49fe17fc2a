package librato

import (
	"context"
	"time"
)

// DefaultLegacyBatchSize is the most legacy measurements per request
// unless LegacyBatcherOptions.BatchSize says otherwise: the legacy
// reference's advice (about 300 per request).
const DefaultLegacyBatchSize = 300

// LegacyBatcherOptions configures Legacy.NewBatcher. Zero fields take the
// defaults; the sizes, concurrency and full policy mean what they mean in
// BatcherOptions.
type LegacyBatcherOptions struct {
	// Source is the batch-wide source of measurements that have none of
	// their own (the request's top-level "source"); empty files them under
	// "unassigned".
	Source string
	// BatchSize is the most measurements per request: default
	// DefaultLegacyBatchSize, capped at 1,000.
	BatchSize      int
	FlushInterval  time.Duration // default 10s
	Concurrency    int           // > 0 pins the requests in flight; 0 adapts, as the Batcher does
	MaxConcurrency int           // default 32
	MaxBuffered    int           // default 20,000
	WhenFull       FullPolicy
	// OnError, if set, hears of every measurement that will not be
	// delivered, as BatcherOptions.OnError does; gauges and counters alike,
	// told apart by their Counter field.
	OnError func(err error, lost []LegacyMeasurement)
	// OnRetry, if set, hears of every failure the batcher will retry, as
	// BatcherOptions.OnRetry does.
	OnRetry func(err error, failures int)
}

// LegacyBatcher is the Batcher for source-based agents: it submits legacy
// gauges and counters to POST /v1/metrics in batches, from any number of
// goroutines, with the Batcher's engine and so its guarantees: nothing is
// lost but what the server rejects for good (reported to OnError and
// counted), transient failures are retried until Close gives up, a batch
// refused for its content is split, the requests in flight adapt to the
// backlog and to 429/5xx and Retry-After, and Close delivers what is left
// and returns a *DeliveryError that unwraps to the causes.
type LegacyBatcher struct {
	client *Client
	opts   LegacyBatcherOptions
	eng    *engine[LegacyMeasurement]
}

// NewBatcher starts a legacy batcher that submits through this client, so
// calls pass its guard. It fails if the client's declared role may not
// submit legacy measurements (View Only; a strict guard decides for the
// unlisted row) or Source is not a valid source name.
func (s *LegacyService) NewBatcher(opts LegacyBatcherOptions) (*LegacyBatcher, error) {
	c := s.client
	if err := c.guard(epLegacyCreate.method, epLegacyCreate.template, epLegacyCreate.row); err != nil {
		return nil, err
	}
	if opts.Source != "" {
		if err := checkSource("Source", opts.Source); err != nil {
			return nil, c.scrub(err)
		}
	}
	if err := checkPolicy("LegacyBatcherOptions", opts.WhenFull, opts.Concurrency, opts.MaxConcurrency); err != nil {
		return nil, err
	}
	if opts.BatchSize <= 0 {
		opts.BatchSize = DefaultLegacyBatchSize
	}
	b := &LegacyBatcher{client: c, opts: opts}
	b.eng = startEngine(c, engineConfig[LegacyMeasurement]{
		batchSize:     opts.BatchSize,
		flushInterval: opts.FlushInterval,
		concurrency:   opts.Concurrency,
		maxConc:       opts.MaxConcurrency,
		maxBuffered:   opts.MaxBuffered,
		whenFull:      opts.WhenFull,
		submit:        b.submit,
		onLost:        opts.OnError,
		onRetry:       opts.OnRetry,
	})
	b.opts.BatchSize = b.eng.batchSize
	b.opts.MaxBuffered = b.eng.maxBuffered
	return b, nil
}

// submit posts one batch: its gauges and counters, in the order added,
// with the batcher's source.
func (b *LegacyBatcher) submit(ctx context.Context, ms []LegacyMeasurement, sent func(int)) error {
	body := &LegacyBatch{Source: b.opts.Source}
	for i := range ms {
		if ms[i].Counter {
			body.Counters = append(body.Counters, ms[i])
		} else {
			body.Gauges = append(body.Gauges, ms[i])
		}
	}
	_, err := b.client.call(ctx, &request{ep: epLegacyCreate, once: true, sent: sent, body: body})
	return err
}

// Add queues m without touching the network: as a counter's running total
// when m.Counter is set, otherwise as a gauge (a plain value, or a summary
// with Count and Sum). A measurement without a MeasureTime gets the time it
// was added, so a retried request writes the same point. An invalid one is
// refused with a *ValidationError, counted and reported to OnError. At the
// bound Add blocks or drops as WhenFull says, ctx bounding the wait (its
// error is returned when it ends first); after Close it returns
// ErrBatcherClosed. A nil ctx is refused with an error, m not queued.
func (b *LegacyBatcher) Add(ctx context.Context, m LegacyMeasurement) error {
	if ctx == nil {
		return errNilContext
	}
	list := "gauges"
	if m.Counter {
		list = "counters"
	}
	if err := m.check(list, -1, !m.Counter); err != nil {
		err = b.client.scrub(err)
		b.eng.refuse(err, m)
		return err
	}
	if m.MeasureTime == 0 {
		m.MeasureTime = time.Now().Unix()
	}
	return b.eng.add(ctx, m)
}

// Flush sends what is buffered now and waits for the batches pending at
// the call, as Batcher.Flush does: a *DeliveryError if measurements were
// lost since the previous Flush, ctx's error if it ends first.
func (b *LegacyBatcher) Flush(ctx context.Context) error { return b.eng.flush(ctx) }

// Close stops Add, delivers everything still buffered and waits for the
// requests in flight, as Batcher.Close does: a *DeliveryError if anything
// was not delivered, unwrapping to each distinct cause.
func (b *LegacyBatcher) Close(ctx context.Context) error { return b.eng.close(ctx) }

// Stats returns the batcher's counters so far.
func (b *LegacyBatcher) Stats() BatcherStats { return b.eng.stats() }
