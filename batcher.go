package librato

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"reflect"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Batcher defaults and limits.
const (
	// DefaultBatchSize is the most measurements per request unless
	// BatcherOptions.BatchSize says otherwise: well under the API's
	// advised 1,000 (a body of about 65 KB with three tags each), large
	// enough that the rate limits, which count requests, are not the first
	// bound an agent meets.
	DefaultBatchSize     = 500
	DefaultFlushInterval = 10 * time.Second
	// DefaultMaxConcurrency bounds the adaptive number of requests in
	// flight: 32 requests of 500 measurements carry about 100,000
	// measurements a second at 150 ms round trips, and fit in
	// DefaultMaxBuffered.
	DefaultMaxConcurrency = 32
	DefaultMaxBuffered    = 20000

	// initialConcurrency is where the adaptive controller starts; it
	// doubles every round trip while a backlog waits.
	initialConcurrency = 4
)

// FullPolicy says what Add does when the batcher holds MaxBuffered
// measurements.
type FullPolicy int

const (
	// BlockWhenFull makes Add wait for space, or for the end of its
	// context. It is the default.
	BlockWhenFull FullPolicy = iota
	// DropWhenFull makes Add discard the measurement, count it in
	// Stats().Dropped, and return ErrBufferFull.
	DropWhenFull
)

// Errors from Add and Close.
var (
	ErrBatcherClosed = errors.New("librato: the batcher is closed")
	ErrBufferFull    = errors.New("librato: the batcher's buffer is full; the measurement was dropped")
)

// BatcherOptions configures NewBatcher. Zero fields take the defaults.
//
// Two kinds of batch-wide tags exist. CommonTags is what an agent usually
// wants (statsd and dogstatsd behave this way): host, region... added to
// every measurement, a measurement's own tag of the same name winning.
// DefaultTags is the API's own top-level "tags": used only by measurements
// that carry no tags of their own, never merged with theirs.
type BatcherOptions struct {
	// CommonTags are merged into every measurement's tags; the
	// measurement's own tags (or, for one without, DefaultTags) win per
	// key. The merged set must keep to the API's 50 tags, which Add checks.
	CommonTags map[string]string
	// DefaultTags are the request's top-level tags: a measurement with no
	// tags of its own gets them, one with tags keeps only its own (plus
	// CommonTags). They are never merged with a measurement's tags.
	DefaultTags map[string]string
	// BatchSize is the most measurements per request: default 500, capped
	// at the API's advised 1,000.
	BatchSize int
	// FlushInterval sends a partial batch after this long (default 10s).
	FlushInterval time.Duration
	// Concurrency, when positive, pins how many requests may be in flight;
	// with 1, batches reach the server in the order they were filled. Zero
	// lets the batcher adapt it between 1 and MaxConcurrency (see Batcher).
	Concurrency int
	// MaxConcurrency bounds the adaptive number of requests in flight
	// (default 32). Ignored when Concurrency pins it.
	MaxConcurrency int
	// MaxBuffered bounds the measurements held, in flight included
	// (default 20,000, at least BatchSize). It also bounds throughput to
	// about MaxBuffered per round trip, and the requests in flight to
	// MaxBuffered/BatchSize.
	MaxBuffered int
	// WhenFull picks BlockWhenFull (default) or DropWhenFull at the bound.
	WhenFull FullPolicy
	// OnError, if set, hears of every measurement that will not be
	// delivered: invalid ones at Add, dropped ones, and those the server
	// rejected for good or that were still undelivered when Close gave up.
	// It is called from the batcher's goroutines and must not block long.
	OnError func(err error, lost []Measurement)
	// OnRetry, if set, hears of every failure the batcher will retry (a
	// network error, a 429, a 5xx...): nothing is lost yet, the
	// measurements stay buffered and count in Stats().Buffered. failures
	// is how many attempts in a row have failed since the last accepted
	// request. It is called from the batcher's goroutines and must not
	// block long. Without it, the client's logger (WithLogger) gets a Warn
	// record when failures reach 3 and every 10 after.
	OnRetry func(err error, failures int)
}

// BatcherStats counts what a batcher did. Once it is idle,
// Added == Sent + Failed + Buffered.
type BatcherStats struct {
	Added    int64 // accepted by Add into the buffer
	Sent     int64 // accepted by the server
	Failed   int64 // added but lost: rejected for good, or undelivered at Close
	Invalid  int64 // refused by Add's validation (never added)
	Dropped  int64 // refused by Add under DropWhenFull (never added)
	Retried  int64 // requests repeated after a transient failure
	Batches  int64 // requests the server accepted
	Buffered int64 // held now, in flight included

	Concurrency     int           // requests allowed in flight now
	PeakConcurrency int           // the most requests allowed in flight so far
	RTT             time.Duration // smoothed round trip of accepted requests; 0 before the first
	BytesSent       int64         // request bodies as sent (gzipped, retries included), without headers

	LastSuccess time.Time // when the server last accepted a request; zero before the first
	LastError   error     // the last failure, retried or not; nil before the first
	Failures    int       // attempts failed in a row since the last accepted request
}

// Batcher submits measurements in batches from any number of goroutines.
// It keeps every measurement until the server accepted it or rejected it
// for good, retrying what the retry table calls transient (network errors,
// 408, 425, 429, 5xx but 501, a rate-limited 403) itself, with backoff,
// until Close gives up. A wait the server asks for (Retry-After, an
// exhausted rate limit) is honoured up to the client's WithMaxRetryWait,
// then the batch is tried again, so a broken or hostile gateway can slow
// delivery but never park it. Retried failures are reported as they happen
// (BatcherOptions.OnRetry, or a Warn log) and in Stats (LastError,
// LastSuccess, Failures). Close it to deliver what is left.
//
// Delivery is at least once: a request whose answer was lost (a timeout, a
// 502 from a proxy after the API stored it) is sent again, and the API
// then receives those measurements twice. Each measurement carries its
// time (Add stamps one), and the API keeps one sample per series and
// time, so the repeat overwrites the first and records nothing new; see
// "Delivery guarantee" in the package doc.
//
// Unless BatcherOptions.Concurrency pins it, the number of requests in
// flight adapts like a TCP congestion window (AIMD with slow start). The
// first round fits the backlog: before the first answer, every batch
// already waiting is sent at once, up to MaxConcurrency, so a burst at
// start costs one round trip (plus the handshakes) rather than a slow
// start; Flush and Close do the same for what they drain, unless the
// server showed congestion. From 4 otherwise, every accepted request while
// batches wait for a slot adds one, doubling it each round trip, until the
// first sign of congestion; from then on it grows by one per round trip. A
// 429, a 5xx, a rate-limited 403 or a request that got no answer halves
// it, once per round trip however many requests of that round fail; it
// stays between 1 and MaxConcurrency. Without a backlog it does not grow,
// so an agent that sends little keeps few connections. A Retry-After holds
// every request, new and retried, until it has passed (capped as above).
// Answers clock the window, so it needs no round-trip estimate and works
// the same at any latency. Stats reports the window, its peak and the
// smoothed round trip.
//
// The client's default transport opens DefaultMaxConnsPerHost connections,
// as many as the default window's largest, and keeps them idle, so a
// steady load opens no new connections. With WithHTTPClient, or a larger
// MaxConcurrency, give the transport's MaxConnsPerHost and
// MaxIdleConnsPerHost at least MaxConcurrency.
//
// The client's own per-call retries are not used: the batcher sees every
// answer, so a 429 slows the whole batcher rather than one request.
type Batcher struct {
	client *Client
	opts   BatcherOptions
	eng    *engine[Measurement]
}

// NewBatcher starts a batcher that submits through this client, so calls
// pass its guard. It fails if the client's declared role may not submit
// measurements, or CommonTags or DefaultTags are invalid or together have
// more than the API's 50 tags.
func (s *MeasurementsService) NewBatcher(opts BatcherOptions) (*Batcher, error) {
	c := s.client
	if err := c.guard(epMeasurementsCreate.method, epMeasurementsCreate.template, epMeasurementsCreate.row); err != nil {
		return nil, err
	}
	if err := checkTags("CommonTags", -1, opts.CommonTags); err != nil {
		return nil, c.scrub(err)
	}
	if err := checkTags("DefaultTags", -1, opts.DefaultTags); err != nil {
		return nil, c.scrub(err)
	}
	if err := checkPolicy("BatcherOptions", opts.WhenFull, opts.Concurrency, opts.MaxConcurrency); err != nil {
		return nil, err
	}
	// Copies, so the caller changing a map later cannot race the encoder.
	opts.CommonTags = cloneTags(opts.CommonTags)
	opts.DefaultTags = cloneTags(opts.DefaultTags)
	b := &Batcher{client: c, opts: opts}
	if n := mergedLen(opts.CommonTags, opts.DefaultTags); len(opts.CommonTags) > 0 && n > MaxTagsPerStream {
		return nil, c.scrub(invalid("CommonTags", -1, "has, merged with DefaultTags, %d tags; the limit is %d", n, MaxTagsPerStream))
	}
	b.eng = startEngine(c, engineConfig[Measurement]{
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

// checkPolicy refuses a full policy or concurrency a batcher's options
// (named by what) cannot mean.
func checkPolicy(what string, whenFull FullPolicy, concurrency, maxConcurrency int) error {
	if whenFull != BlockWhenFull && whenFull != DropWhenFull {
		return fmt.Errorf("librato: %s.WhenFull %d is neither BlockWhenFull nor DropWhenFull", what, whenFull)
	}
	if concurrency < 0 || maxConcurrency < 0 {
		return fmt.Errorf("librato: %s.Concurrency and MaxConcurrency may not be negative; leave them 0 for the defaults", what)
	}
	return nil
}

// startEngine starts a batcher's engine on c: cfg's sizes and policy, the
// API's cap per request, and the client's backoff and logger.
func startEngine[T any](c *Client, cfg engineConfig[T]) *engine[T] {
	cfg.maxBatch = MaxMeasurementsPerRequest
	cfg.retry = c.retry
	cfg.logger = c.logger
	return newEngine(cfg)
}

// submit posts one batch: the request the engine repeats until it is
// accepted or rejected for good.
func (b *Batcher) submit(ctx context.Context, ms []Measurement, sent func(int)) error {
	_, err := b.client.call(ctx, &request{ep: epMeasurementsCreate, once: true, sent: sent, body: &measurementBody{common: b.opts.CommonTags, tags: b.opts.DefaultTags, ms: ms}})
	return err
}

// errNilContext refuses a nil context where a call might wait on it.
var errNilContext = errors.New("librato: nil context: pass context.Background() or a context with a deadline")

// Add queues m for submission without touching the network. A measurement
// without a Time gets the time it was added, so a retried request records
// it only once. An invalid measurement (CommonTags merged in counting
// towards the tag limit) is refused with a *ValidationError, counted and
// reported to OnError. At the bound, Add blocks or drops as WhenFull says;
// ctx bounds the wait, and its error is returned if it ends first. After
// Close it returns ErrBatcherClosed. A nil ctx is refused with an error,
// m not queued.
func (b *Batcher) Add(ctx context.Context, m Measurement) error {
	if ctx == nil {
		return errNilContext
	}
	if err := b.check(&m); err != nil {
		err = b.client.scrub(err)
		b.eng.refuse(err, m)
		return err
	}
	if m.Time == 0 {
		m.Time = time.Now().Unix()
	}
	return b.eng.add(ctx, m)
}

// check validates m as the API will see it: with CommonTags merged in.
func (b *Batcher) check(m *Measurement) error {
	if err := m.check(-1, b.opts.DefaultTags == nil); err != nil {
		return err
	}
	return b.checkMerged(m.Tags)
}

// checkMerged checks the tag limit of own tags merged with CommonTags.
func (b *Batcher) checkMerged(own map[string]string) error {
	if len(b.opts.CommonTags) == 0 || len(own) == 0 || len(own)+len(b.opts.CommonTags) <= MaxTagsPerStream {
		return nil
	}
	if n := mergedLen(b.opts.CommonTags, own); n > MaxTagsPerStream {
		return invalid("tags", -1, "has, with CommonTags merged in, %d tags; the limit is %d", n, MaxTagsPerStream)
	}
	return nil
}

// mergedLen is the number of distinct keys of a and b.
func mergedLen(a, b map[string]string) int {
	n := len(a)
	for k := range b {
		if _, ok := a[k]; !ok {
			n++
		}
	}
	return n
}

// Flush sends what is buffered now and waits until every batch pending at
// the call has been delivered or lost. If measurements were lost since the
// previous Flush returned (in those batches or in any finished before), it
// returns a *DeliveryError counting the batches finished since then, which
// unwraps to the causes (errors.Is(err, ErrBadRequest)...); each loss is
// reported by one Flush. If ctx ends first it returns ctx's error, the
// batches stay pending, and their losses are left for the next Flush.
func (b *Batcher) Flush(ctx context.Context) error { return b.eng.flush(ctx) }

// Close stops Add, delivers everything still buffered and waits for the
// requests in flight. If ctx ends first, the remaining requests are
// cancelled and their measurements counted as failed. If anything added
// or offered during the batcher's life was not delivered, it returns a
// *DeliveryError with the counts, which unwraps to each distinct cause:
// errors.Is(err, ErrBadRequest), errors.Is(err, ErrBufferFull),
// errors.Is(err, context.DeadlineExceeded), errors.As(err, &apiErr)...
// Calling it again returns the same accounting.
func (b *Batcher) Close(ctx context.Context) error { return b.eng.close(ctx) }

// Stats returns the batcher's counters so far.
func (b *Batcher) Stats() BatcherStats { return b.eng.stats() }

// DeliveryError is what Close and Flush return when measurements were not
// delivered. It counts them and unwraps to one error per distinct cause
// (the *APIError of a 400, that of a 401, a *ValidationError,
// ErrBufferFull, the context's error...), so errors.Is and errors.As see
// why.
type DeliveryError struct {
	Op string // "close" or "flush"
	// For Close, the counts over the batcher's life; for Flush, of the
	// batches finished since the previous Flush (Invalid and Dropped, which
	// Add reported at once, are then 0).
	Added, Sent, Failed, Invalid, Dropped int64
	Causes                                []error // first error of each kind, in the order seen
}

// Error gives the counts and the causes.
func (e *DeliveryError) Error() string {
	var sb strings.Builder
	if e.Op == "flush" {
		fmt.Fprintf(&sb, "librato: flush: %d of %d measurement(s) could not be delivered", e.Failed, e.Added)
	} else {
		fmt.Fprintf(&sb, "librato: batcher closed with %d measurement(s) failed, %d invalid, %d dropped of %d added; %d sent",
			e.Failed, e.Invalid, e.Dropped, e.Added, e.Sent)
	}
	for i, c := range e.Causes {
		if i == 0 {
			sb.WriteString(": ")
		} else {
			sb.WriteString("; ")
		}
		sb.WriteString(c.Error())
	}
	return sb.String()
}

// Unwrap gives the distinct causes, for errors.Is and errors.As.
func (e *DeliveryError) Unwrap() []error { return e.Causes }

// causeKind groups errors that say the same thing, so a DeliveryError
// lists a 400 once however many batches met it.
func causeKind(err error) string {
	var ae *APIError
	var ve *ValidationError
	var fe *ErrForbiddenForRole
	var te *TransportError
	switch {
	case errors.Is(err, ErrBufferFull):
		return "full"
	case errors.Is(err, errGaveUp):
		return "gave-up"
	case errors.Is(err, context.Canceled):
		return "canceled"
	case errors.Is(err, context.DeadlineExceeded):
		return "deadline"
	case errors.As(err, &ae):
		return fmt.Sprintf("api %d", ae.StatusCode)
	case errors.As(err, &ve):
		return "validation"
	case errors.As(err, &fe):
		return "guard"
	case errors.As(err, &te):
		return "transport"
	}
	return reflect.TypeOf(err).String()
}

// causes collects the first error of each kind.
type causes struct {
	kinds []string
	errs  []error
}

func (c *causes) add(err error) {
	k := causeKind(err)
	if !slices.Contains(c.kinds, k) {
		c.kinds = append(c.kinds, k)
		c.errs = append(c.errs, err)
	}
}

func (c *causes) merge(o *causes) {
	for _, e := range o.errs {
		c.add(e)
	}
}

// errGaveUp marks measurements still undelivered when Close's context
// ended; it wraps that context's error.
var errGaveUp = errors.New("librato: the batcher was closed before these measurements were delivered")

// engineConfig is what a payload type gives the delivery engine: sizes,
// policy, and the one request that submits a batch of its items.
type engineConfig[T any] struct {
	batchSize     int
	maxBatch      int // the payload's own cap per request
	flushInterval time.Duration
	concurrency   int // > 0 pins the requests in flight
	maxConc       int // adaptive bound
	maxBuffered   int
	whenFull      FullPolicy
	retry         retryPolicy
	logger        *slog.Logger
	// submit sends one batch in one request and reports the body bytes of
	// each attempt to sent; the engine decides what an error means (the
	// retry table, through temporary).
	submit  func(ctx context.Context, items []T, sent func(int)) error
	onLost  func(err error, lost []T)
	onRetry func(err error, failures int)
}

// engine is the delivery core of a batcher, generic over the item it
// carries: a bounded buffer cut into batches, a queue of batches in
// order, the concurrency controller, retries, and the accounting that
// guarantees each item is delivered once or reported lost. The payload
// (encoding, endpoint) is engineConfig.submit.
type engine[T any] struct {
	engineConfig[T]

	mu        sync.Mutex
	cur       []T
	held      int           // items held, in flight included
	space     chan struct{} // closed and replaced when space frees
	queued    []*batch[T]   // cut, waiting for a slot; oldest first
	pending   map[*batch[T]]struct{}
	inflight  int // batches being delivered
	ctl       controller
	srtt      time.Duration
	wake      *time.Timer // dispatches when a Retry-After hold ends
	closed    bool
	lifeErrs  causes  // every loss's cause, for Close
	unflushed flushed // batches finished since the last flush, for Flush
	gaveUp    error   // set when Close's context ended

	stopTick chan struct{}
	ctx      context.Context // cancelled when Close gives up
	cancel   context.CancelFunc
	running  sync.WaitGroup // the ticker and every delivering goroutine

	added, sent, failed, invalid, dropped, retried, batches, bytes atomic.Int64
	sawFull                                                        atomic.Bool

	lastSuccess time.Time // guarded by mu
	lastErr     error     // guarded by mu
	failures    int       // guarded by mu: attempts failed in a row

	bufPool sync.Pool // of *[]T, each of batchSize capacity
	curBuf  *[]T      // the pooled slice cur came from
}

// flushed sums the batches finished since the last flush.
type flushed struct {
	n, lost int64
	why     causes
}

type batch[T any] struct {
	items []T
	buf   *[]T // the pooled slice items lives in
	n     int  // len(items) when cut; items is recycled once delivered
	done  chan struct{}
	lost  int    // items of this batch not delivered
	why   causes // why they were lost
}

func newEngine[T any](cfg engineConfig[T]) *engine[T] {
	if cfg.batchSize <= 0 {
		cfg.batchSize = DefaultBatchSize
	}
	if cfg.maxBatch > 0 {
		cfg.batchSize = min(cfg.batchSize, cfg.maxBatch)
	}
	if cfg.flushInterval <= 0 {
		cfg.flushInterval = DefaultFlushInterval
	}
	if cfg.maxConc <= 0 {
		cfg.maxConc = DefaultMaxConcurrency
	}
	if cfg.maxBuffered <= 0 {
		cfg.maxBuffered = DefaultMaxBuffered
	}
	cfg.maxBuffered = max(cfg.maxBuffered, cfg.batchSize)
	ctx, cancel := context.WithCancel(context.Background())
	e := &engine[T]{
		engineConfig: cfg,
		space:        make(chan struct{}),
		pending:      make(map[*batch[T]]struct{}),
		stopTick:     make(chan struct{}),
		ctx:          ctx,
		cancel:       cancel,
	}
	if cfg.concurrency > 0 {
		e.ctl = newController(cfg.concurrency, cfg.concurrency, cfg.concurrency)
	} else {
		e.ctl = newController(1, cfg.maxConc, min(initialConcurrency, cfg.maxConc))
	}
	size := cfg.batchSize
	e.bufPool.New = func() any { b := make([]T, 0, size); return &b }
	e.newBuf()
	e.running.Add(1)
	go e.tick()
	return e
}

// newBuf starts cur on a pooled buffer.
func (e *engine[T]) newBuf() {
	e.curBuf = e.bufPool.Get().(*[]T)
	e.cur = (*e.curBuf)[:0]
}

// refuse counts an item Add's validation turned away.
func (e *engine[T]) refuse(err error, item T) {
	e.invalid.Add(1)
	e.noteLoss(err)
	if e.onLost != nil {
		e.report(err, []T{item})
	}
}

// noteLoss remembers err's kind for Close's error.
func (e *engine[T]) noteLoss(err error) {
	e.mu.Lock()
	e.lifeErrs.add(err)
	e.mu.Unlock()
}

// add buffers item, blocking or dropping at the bound.
func (e *engine[T]) add(ctx context.Context, item T) error {
	for {
		e.mu.Lock()
		if e.closed {
			e.mu.Unlock()
			return ErrBatcherClosed
		}
		if e.held < e.maxBuffered {
			e.held++
			e.cur = append(e.cur, item)
			if len(e.cur) >= e.batchSize {
				e.cutLocked()
			}
			e.mu.Unlock()
			e.added.Add(1)
			return nil
		}
		if e.whenFull == DropWhenFull {
			e.mu.Unlock()
			e.dropped.Add(1)
			if !e.sawFull.Swap(true) {
				e.noteLoss(ErrBufferFull)
			}
			if e.onLost != nil {
				e.report(ErrBufferFull, []T{item})
			}
			return ErrBufferFull
		}
		space := e.space
		e.mu.Unlock()
		select {
		case <-space:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// cutLocked queues the current buffer, if it holds anything, as a batch.
func (e *engine[T]) cutLocked() {
	if len(e.cur) == 0 {
		return
	}
	bt := &batch[T]{items: e.cur, buf: e.curBuf, n: len(e.cur), done: make(chan struct{})}
	e.pending[bt] = struct{}{}
	e.queued = append(e.queued, bt)
	e.newBuf()
	e.dispatchLocked()
}

// dispatchLocked starts a delivery for each queued batch the controller
// lets through now, oldest first. While a Retry-After hold lasts it arms a
// timer to try again when the hold ends.
func (e *engine[T]) dispatchLocked() {
	if len(e.queued) == 0 {
		return
	}
	if e.gaveUp == nil {
		if wait := time.Until(e.ctl.holdUntil); wait > 0 {
			if e.wake == nil {
				e.wake = time.AfterFunc(wait, func() {
					e.mu.Lock()
					e.wake = nil
					e.dispatchLocked()
					e.mu.Unlock()
				})
			}
			return
		}
	}
	e.ctl.fit(e.inflight + len(e.queued))
	for len(e.queued) > 0 && (e.inflight < e.ctl.allowed() || e.gaveUp != nil) {
		bt := e.queued[0]
		e.queued[0] = nil
		e.queued = e.queued[1:]
		e.inflight++
		e.running.Add(1)
		go e.run(bt)
	}
}

// run delivers one batch, then frees its slot for the next.
func (e *engine[T]) run(bt *batch[T]) {
	defer e.running.Done()
	bt.lost = e.deliver(bt.items, &bt.why)
	n := bt.n
	clear(bt.items)
	*bt.buf = bt.items[:0]
	e.bufPool.Put(bt.buf)
	bt.items, bt.buf = nil, nil
	e.mu.Lock()
	e.held -= n
	e.inflight--
	delete(e.pending, bt)
	e.lifeErrs.merge(&bt.why)
	e.unflushed.n += int64(n)
	e.unflushed.lost += int64(bt.lost)
	e.unflushed.why.merge(&bt.why)
	close(e.space)
	e.space = make(chan struct{})
	e.dispatchLocked()
	e.mu.Unlock()
	close(bt.done)
}

// deliver submits items until the server accepts them, retrying transient
// failures. A batch rejected for its content (400, 413) is split in
// halves so one bad item does not sink the others; other rejections lose
// the whole batch. It returns how many were lost and notes why in why.
func (e *engine[T]) deliver(items []T, why *causes) int {
	for attempt := 0; ; attempt++ {
		if err := e.gaveUpErr(); err != nil {
			return e.lose(items, err, why)
		}
		sent := time.Now()
		err := e.submit(e.ctx, items, e.countBytes)
		now := time.Now()
		if err == nil {
			e.sent.Add(int64(len(items)))
			e.batches.Add(1)
			e.mu.Lock()
			e.lastSuccess, e.failures = now, 0
			e.ctl.onSuccess(now, len(e.queued) > 0)
			e.srtt = smooth(e.srtt, now.Sub(sent))
			e.dispatchLocked() // the window may have grown
			e.mu.Unlock()
			return 0
		}
		var ae *APIError
		isAPI := errors.As(err, &ae)
		e.mu.Lock()
		e.lastErr = err
		e.failures++
		failures := e.failures
		e.mu.Unlock()
		switch {
		case e.ctx.Err() != nil:
			return e.lose(items, e.closedErr(err), why)
		case !temporary(err):
			if isAPI && (ae.StatusCode == http.StatusBadRequest || ae.StatusCode == http.StatusRequestEntityTooLarge) && len(items) > 1 {
				half := len(items) / 2
				return e.deliver(items[:half], why) + e.deliver(items[half:], why)
			}
			return e.lose(items, err, why)
		}
		// Transient: slow down, and wait before trying again; a server's
		// wait is honoured up to the client's maximum, then the batch is
		// tried again, so no answer can park the batcher.
		var retryAfter time.Duration
		if isAPI {
			retryAfter = min(ae.RetryAfter, e.retry.maxWait)
		}
		wait := retryAfter
		if wait <= 0 {
			wait = backoff(e.retry.minBackoff, e.retry.maxBackoff, attempt, nil)
		}
		e.mu.Lock()
		e.ctl.onCongestion(now, sent, retryAfter)
		wait = max(wait, time.Until(e.ctl.holdUntil))
		e.mu.Unlock()
		e.heardRetry(err, failures, attempt, wait)
		t := time.NewTimer(wait)
		select {
		case <-t.C:
			e.retried.Add(1)
		case <-e.ctx.Done():
			t.Stop()
		}
	}
}

// countBytes adds the body bytes of one attempt to Stats().BytesSent.
func (e *engine[T]) countBytes(n int) { e.bytes.Add(int64(n)) }

// heardRetry makes a retried failure visible: to OnRetry if set, else as a
// Warn record at the 3rd failure in a row and every 10th after, and always
// as a Debug record.
func (e *engine[T]) heardRetry(err error, failures, attempt int, wait time.Duration) {
	if e.onRetry != nil {
		e.onRetry(err, failures)
	}
	if e.logger == nil {
		return
	}
	level := slog.LevelDebug
	if e.onRetry == nil && (failures == 3 || failures > 3 && (failures-3)%10 == 0) {
		level = slog.LevelWarn
	}
	e.logger.LogAttrs(e.ctx, level, "librato: batcher retrying",
		slog.Int("failures", failures), slog.Int("attempt", attempt+2), slog.Duration("wait", wait), slog.String("after", err.Error()))
}

// smooth is the usual round-trip estimator: 7/8 of the old, 1/8 of the new.
func smooth(srtt, sample time.Duration) time.Duration {
	if srtt == 0 {
		return sample
	}
	return srtt + (sample-srtt)/8
}

func (e *engine[T]) gaveUpErr() error {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.gaveUp
}

// gaveUpLocked is the cause of what Close could not deliver: the
// context's end, and the last failure, if any, so that the error says why
// nothing got through ("connection refused", a 503...).
func (e *engine[T]) gaveUpLocked(ctxErr error) error {
	if e.lastErr != nil && e.failures > 0 {
		return fmt.Errorf("%w: %w; the last attempt failed with: %w", errGaveUp, ctxErr, e.lastErr)
	}
	return fmt.Errorf("%w: %w", errGaveUp, ctxErr)
}

// closedErr is the cause of a batch cut off because Close gave up.
func (e *engine[T]) closedErr(last error) error {
	if err := e.gaveUpErr(); err != nil {
		return err
	}
	return fmt.Errorf("%w: %w", errGaveUp, last)
}

// temporary is the retry table's answer for a call's error: an answer or
// a failure to get one that may succeed later. The guard, validation and
// anything else the pipeline refused before sending are not.
func temporary(err error) bool {
	var ae *APIError
	var te *TransportError
	switch {
	case errors.As(err, &ae):
		return ae.Temporary()
	case errors.As(err, &te):
		return te.Temporary()
	}
	return false
}

func (e *engine[T]) lose(items []T, err error, why *causes) int {
	e.failed.Add(int64(len(items)))
	why.add(err)
	if e.onLost != nil {
		e.report(err, slices.Clone(items))
	}
	return len(items)
}

func (e *engine[T]) report(err error, lost []T) {
	if e.onLost != nil {
		e.onLost(err, lost)
	}
}

func (e *engine[T]) tick() {
	defer e.running.Done()
	t := time.NewTicker(e.flushInterval)
	defer t.Stop()
	for {
		select {
		case <-e.stopTick:
			return
		case <-t.C:
			e.mu.Lock()
			if !e.closed {
				e.cutLocked()
			}
			e.mu.Unlock()
		}
	}
}

// flush cuts the buffer, waits for every batch pending now, and reports
// the batches finished since the previous flush that lost items.
func (e *engine[T]) flush(ctx context.Context) error {
	e.mu.Lock()
	e.ctl.draining = true
	e.cutLocked()
	e.ctl.draining = e.closed
	waits := make([]*batch[T], 0, len(e.pending))
	for bt := range e.pending {
		waits = append(waits, bt)
	}
	e.mu.Unlock()
	for _, bt := range waits {
		if err := waitDone(ctx, bt.done); err != nil {
			return err // what was lost stays for the next flush
		}
	}
	e.mu.Lock()
	acc := e.unflushed
	e.unflushed = flushed{}
	e.mu.Unlock()
	if acc.lost == 0 {
		return nil
	}
	return &DeliveryError{Op: "flush", Added: acc.n, Sent: acc.n - acc.lost, Failed: acc.lost, Causes: acc.why.errs}
}

// waitDone waits for done to close or ctx to end. A done that is already
// closed wins over an ended ctx, so a call made with an expired context
// still sees what has finished (select alone would pick at random).
func waitDone(ctx context.Context, done <-chan struct{}) error {
	select {
	case <-done:
		return nil
	default:
	}
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// close stops adds, delivers what is left and reports what was lost.
func (e *engine[T]) close(ctx context.Context) error {
	e.mu.Lock()
	already := e.closed
	e.closed = true
	e.ctl.draining = true
	e.cutLocked()
	close(e.space) // wake blocked adds: they see closed
	e.space = make(chan struct{})
	waits := make([]*batch[T], 0, len(e.pending))
	for bt := range e.pending {
		waits = append(waits, bt)
	}
	e.mu.Unlock()
	if !already {
		close(e.stopTick)
	}
	var ctxErr error
wait:
	for _, bt := range waits {
		if ctxErr = waitDone(ctx, bt.done); ctxErr != nil {
			break wait
		}
	}
	if ctxErr != nil {
		e.mu.Lock()
		if e.gaveUp == nil {
			e.gaveUp = e.gaveUpLocked(ctxErr)
		}
		e.dispatchLocked() // the rest of the queue fails at once
		e.mu.Unlock()
		e.cancel()
	}
	e.running.Wait()
	e.cancel()
	e.mu.Lock()
	if e.wake != nil {
		e.wake.Stop()
		e.wake = nil
	}
	if e.gaveUp != nil {
		e.lifeErrs.add(e.gaveUp) // once, even if nothing was pending
	}
	why := slices.Clone(e.lifeErrs.errs)
	gaveUp := e.gaveUp != nil
	e.mu.Unlock()
	st := e.stats()
	if st.Failed+st.Dropped+st.Invalid == 0 && !gaveUp {
		return nil
	}
	return &DeliveryError{Op: "close", Added: st.Added, Sent: st.Sent, Failed: st.Failed, Invalid: st.Invalid, Dropped: st.Dropped, Causes: why}
}

func (e *engine[T]) stats() BatcherStats {
	e.mu.Lock()
	held := e.held
	conc, peak := e.ctl.allowed(), e.ctl.peak
	srtt := e.srtt
	last, lastErr, failures := e.lastSuccess, e.lastErr, e.failures
	e.mu.Unlock()
	return BatcherStats{
		Added: e.added.Load(), Sent: e.sent.Load(), Failed: e.failed.Load(),
		Invalid: e.invalid.Load(), Dropped: e.dropped.Load(), Retried: e.retried.Load(),
		Batches: e.batches.Load(), Buffered: int64(held),
		Concurrency: conc, PeakConcurrency: peak, RTT: srtt, BytesSent: e.bytes.Load(),
		LastSuccess: last, LastError: lastErr, Failures: failures,
	}
}

// controller decides how many requests may be in flight: additive
// increase, multiplicative decrease, with slow start, clocked by the
// answers themselves (see Batcher). It holds no lock and reads no clock;
// the engine calls it under its mutex with the times of events.
type controller struct {
	min, max  int
	limit     int // the window
	ssthresh  int // below it the window doubles per round trip
	acked     int // answers counted towards the next additive step
	peak      int
	clocked   bool      // an answer has come: the window follows answers now
	draining  bool      // Flush or Close is sending what is left
	cutAt     time.Time // the last decrease: failures of requests sent before it are the same episode
	holdUntil time.Time // no request before this (Retry-After)
}

func newController(lo, hi, start int) controller {
	lo, hi = max(lo, 1), max(hi, 1)
	start = min(max(start, lo), hi)
	return controller{min: lo, max: hi, limit: start, ssthresh: hi, peak: start}
}

// fit widens the window to the backlog (batches in flight and waiting),
// up to max, while no answer has clocked it yet, or while Flush or Close
// drain it and the server has shown no congestion: those batches are there
// now, and sending them in one round costs one round trip where a slow
// start costs several.
func (c *controller) fit(backlog int) {
	if c.min == c.max || (c.clocked && (!c.draining || c.ssthresh < c.max)) {
		return
	}
	if backlog > c.limit {
		c.limit = min(backlog, c.max)
		c.peak = max(c.peak, c.limit)
	}
}

// allowed is the number of requests that may be in flight now.
func (c *controller) allowed() int { return c.limit }

// onSuccess hears of an accepted request; backlog says batches were
// waiting for a slot, so a larger window would have been used. During a
// Retry-After hold the window does not grow.
func (c *controller) onSuccess(now time.Time, backlog bool) {
	c.clocked = true
	if !backlog || now.Before(c.holdUntil) || c.limit >= c.max {
		return
	}
	if c.limit < c.ssthresh {
		c.limit++ // slow start: one more per answer doubles it each round trip
	} else if c.acked++; c.acked >= c.limit {
		c.limit++ // one more per window of answers: per round trip
		c.acked = 0
	}
	c.peak = max(c.peak, c.limit)
}

// onCongestion hears of a request sent at sent that met a 429, a 5xx or no
// answer at now; retryAfter is the server's Retry-After, if any. The
// window halves once per episode: requests sent before the last decrease
// were sent under the larger window and do not halve it again.
func (c *controller) onCongestion(now, sent time.Time, retryAfter time.Duration) {
	c.clocked = true
	if retryAfter > 0 {
		if until := now.Add(retryAfter); until.After(c.holdUntil) {
			c.holdUntil = until
		}
	}
	if !c.cutAt.IsZero() && sent.Before(c.cutAt) {
		return
	}
	c.ssthresh = max(c.limit/2, c.min)
	c.limit = c.ssthresh
	c.acked = 0
	c.cutAt = now
}
