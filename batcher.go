package librato

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"sync/atomic"
	"time"
)

// Batcher defaults and limits.
const (
	DefaultBatchSize     = 500
	DefaultFlushInterval = 10 * time.Second
	DefaultConcurrency   = 2
	DefaultMaxBuffered   = 20000
)

// FullPolicy says what Add does when the batcher holds MaxBuffered
// measurements.
type FullPolicy int

const (
	// Block makes Add wait for space (AddContext: or for its context).
	Block FullPolicy = iota
	// Drop makes Add discard the measurement, count it in Stats().Dropped,
	// and return ErrBufferFull.
	Drop
)

// Errors from Add and Close.
var (
	ErrBatcherClosed = errors.New("librato: the batcher is closed")
	ErrBufferFull    = errors.New("librato: the batcher's buffer is full; the measurement was dropped")
)

// BatcherOptions configures NewBatcher. Zero fields take the defaults.
type BatcherOptions struct {
	// Tags are the request's top-level tags, used by every measurement
	// that has no tags of its own (the two are never merged).
	Tags map[string]string
	// BatchSize is the most measurements per request: default 500, capped
	// at the API's advised 1,000.
	BatchSize int
	// FlushInterval sends a partial batch after this long (default 10s).
	FlushInterval time.Duration
	// Concurrency is how many requests may be in flight (default 2). With
	// 1, batches reach the server in the order they were filled.
	Concurrency int
	// MaxBuffered bounds the measurements held, in flight included
	// (default 20,000, at least BatchSize).
	MaxBuffered int
	// WhenFull picks Block (default) or Drop at the bound.
	WhenFull FullPolicy
	// OnError, if set, hears of every measurement that will not be
	// delivered: invalid ones at Add, dropped ones, and those the server
	// rejected for good or that were still undelivered when Close gave up.
	// It is called from the batcher's goroutines and must not block long.
	OnError func(err error, lost []Measurement)
}

// BatcherStats counts what a batcher did. Once it is idle,
// Added == Sent + Failed + Buffered.
type BatcherStats struct {
	Added    int64 // accepted by Add into the buffer
	Sent     int64 // accepted by the server
	Failed   int64 // added but lost: rejected for good, or undelivered at Close
	Invalid  int64 // refused by Add's validation (never added)
	Dropped  int64 // refused by Add under the Drop policy (never added)
	Retried  int64 // requests repeated after a transient failure
	Batches  int64 // requests the server accepted
	Buffered int64 // held now, in flight included
}

// Batcher submits measurements in batches from any number of goroutines.
// It keeps every measurement until the server accepted it or rejected it
// for good, retrying transient failures (network, 429, 5xx) with backoff.
// Close it to deliver what is left.
type Batcher struct {
	client *Client
	opts   BatcherOptions

	mu      sync.Mutex
	cur     []Measurement
	held    int           // measurements held, in flight included
	space   chan struct{} // closed and replaced when space frees
	queued  []*batch      // cut, waiting for a worker
	ready   *sync.Cond    // signalled when queued grows or the batcher closes
	pending map[*batch]struct{}
	closed  bool

	stopTick chan struct{}
	ctx      context.Context // cancelled when Close gives up
	cancel   context.CancelFunc
	workers  sync.WaitGroup

	added, sent, failed, invalid, dropped, retried, batches atomic.Int64

	bufPool sync.Pool
}

type batch struct {
	ms   []Measurement
	done chan struct{}
	lost int // measurements of this batch not delivered
}

// NewBatcher starts a batcher that submits through this client, so calls
// pass its guard, validation and retries. It fails if the client's
// declared role may not submit measurements, or the top-level tags are
// invalid.
func (s *MeasurementsService) NewBatcher(opts BatcherOptions) (*Batcher, error) {
	c := s.client
	if err := c.guard(epMeasurementsCreate.method, epMeasurementsCreate.template, epMeasurementsCreate.row); err != nil {
		return nil, err
	}
	if err := checkTags("tags", -1, opts.Tags); err != nil {
		return nil, err
	}
	if opts.BatchSize <= 0 {
		opts.BatchSize = DefaultBatchSize
	}
	opts.BatchSize = min(opts.BatchSize, MaxMeasurementsPerRequest)
	if opts.FlushInterval <= 0 {
		opts.FlushInterval = DefaultFlushInterval
	}
	if opts.Concurrency <= 0 {
		opts.Concurrency = DefaultConcurrency
	}
	if opts.MaxBuffered <= 0 {
		opts.MaxBuffered = DefaultMaxBuffered
	}
	opts.MaxBuffered = max(opts.MaxBuffered, opts.BatchSize)
	if opts.WhenFull != Block && opts.WhenFull != Drop {
		return nil, fmt.Errorf("librato: BatcherOptions.WhenFull %d is neither Block nor Drop", opts.WhenFull)
	}
	ctx, cancel := context.WithCancel(context.Background())
	b := &Batcher{
		client:   c,
		opts:     opts,
		space:    make(chan struct{}),
		pending:  make(map[*batch]struct{}),
		stopTick: make(chan struct{}),
		ctx:      ctx,
		cancel:   cancel,
	}
	b.ready = sync.NewCond(&b.mu)
	b.bufPool.New = func() any { return make([]Measurement, 0, opts.BatchSize) }
	b.cur = b.newBuf()
	b.workers.Add(opts.Concurrency + 1)
	for i := 0; i < opts.Concurrency; i++ {
		go b.work()
	}
	go b.tick()
	return b, nil
}

func (b *Batcher) newBuf() []Measurement { return b.bufPool.Get().([]Measurement)[:0] }

// Add queues m for submission without touching the network. A measurement
// without a Time gets the time it was added, so a retried request records
// it only once. An invalid measurement is refused with a
// *ValidationError, counted and reported to OnError. At the bound, Add
// blocks or drops as WhenFull says; after Close it returns
// ErrBatcherClosed.
func (b *Batcher) Add(m Measurement) error { return b.AddContext(context.Background(), m) }

// AddContext is Add that stops blocking, with ctx's error, when ctx ends.
func (b *Batcher) AddContext(ctx context.Context, m Measurement) error {
	if err := m.check(-1, b.opts.Tags == nil); err != nil {
		err = b.client.redactValidation(err)
		b.invalid.Add(1)
		b.report(err, []Measurement{m})
		return err
	}
	if m.Time == 0 {
		m.Time = time.Now().Unix()
	}
	for {
		b.mu.Lock()
		if b.closed {
			b.mu.Unlock()
			return ErrBatcherClosed
		}
		if b.held < b.opts.MaxBuffered {
			b.held++
			b.cur = append(b.cur, m)
			if len(b.cur) >= b.opts.BatchSize {
				b.cutLocked()
			}
			b.mu.Unlock()
			b.added.Add(1)
			return nil
		}
		if b.opts.WhenFull == Drop {
			b.mu.Unlock()
			b.dropped.Add(1)
			b.report(ErrBufferFull, []Measurement{m})
			return ErrBufferFull
		}
		space := b.space
		b.mu.Unlock()
		select {
		case <-space:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// cutLocked queues the current buffer, if it holds anything, as a batch
// for the workers.
func (b *Batcher) cutLocked() {
	if len(b.cur) == 0 {
		return
	}
	bt := &batch{ms: b.cur, done: make(chan struct{})}
	b.pending[bt] = struct{}{}
	b.queued = append(b.queued, bt)
	b.cur = b.newBuf()
	b.ready.Signal()
}

// Flush sends what is buffered now and waits until every batch pending at
// the call has been delivered or lost. It returns an error if any of them
// lost measurements, or ctx's error if ctx ends first (the batches stay
// pending).
func (b *Batcher) Flush(ctx context.Context) error {
	b.mu.Lock()
	b.cutLocked()
	waits := make([]*batch, 0, len(b.pending))
	for bt := range b.pending {
		waits = append(waits, bt)
	}
	b.mu.Unlock()
	lost := 0
	for _, bt := range waits {
		select {
		case <-bt.done:
			lost += bt.lost
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	if lost > 0 {
		return fmt.Errorf("librato: flush: %d measurement(s) could not be delivered; see Stats and OnError", lost)
	}
	return nil
}

// Close stops Add, delivers everything still buffered and waits for the
// requests in flight. If ctx ends first, the remaining requests are
// cancelled and their measurements counted as failed. It returns an error
// if anything added or offered during the batcher's life was not
// delivered. Calling it again returns the same accounting.
func (b *Batcher) Close(ctx context.Context) error {
	b.mu.Lock()
	already := b.closed
	b.closed = true
	b.cutLocked()
	close(b.space) // wake blocked Adds: they see closed
	b.space = make(chan struct{})
	b.ready.Broadcast() // idle workers drain the queue and stop
	b.mu.Unlock()
	if !already {
		close(b.stopTick)
	}
	idle := make(chan struct{})
	go func() { b.workers.Wait(); close(idle) }()
	var ctxErr error
	select {
	case <-idle:
	case <-ctx.Done():
		ctxErr = ctx.Err()
		b.cancel()
		<-idle
	}
	b.cancel()
	st := b.Stats()
	if st.Failed+st.Dropped+st.Invalid == 0 && ctxErr == nil {
		return nil
	}
	err := fmt.Errorf("librato: batcher closed with %d measurement(s) failed, %d invalid, %d dropped of %d added; %d sent",
		st.Failed, st.Invalid, st.Dropped, st.Added, st.Sent)
	if ctxErr != nil {
		return fmt.Errorf("%w: %w", err, ctxErr)
	}
	return err
}

// Stats returns the batcher's counters so far.
func (b *Batcher) Stats() BatcherStats {
	b.mu.Lock()
	held := b.held
	b.mu.Unlock()
	return BatcherStats{
		Added: b.added.Load(), Sent: b.sent.Load(), Failed: b.failed.Load(),
		Invalid: b.invalid.Load(), Dropped: b.dropped.Load(), Retried: b.retried.Load(),
		Batches: b.batches.Load(), Buffered: int64(held),
	}
}

func (b *Batcher) tick() {
	defer b.workers.Done()
	t := time.NewTicker(b.opts.FlushInterval)
	defer t.Stop()
	for {
		select {
		case <-b.stopTick:
			return
		case <-t.C:
			b.mu.Lock()
			if !b.closed {
				b.cutLocked()
			}
			b.mu.Unlock()
		}
	}
}

// work delivers queued batches until the batcher is closed and drained.
func (b *Batcher) work() {
	defer b.workers.Done()
	for {
		b.mu.Lock()
		for len(b.queued) == 0 && !b.closed {
			b.ready.Wait()
		}
		if len(b.queued) == 0 {
			b.mu.Unlock()
			return
		}
		bt := b.queued[0]
		b.queued[0] = nil
		b.queued = b.queued[1:]
		b.mu.Unlock()
		b.finish(bt, b.deliver(bt.ms))
	}
}

// finish releases a batch's space and buffer and marks it done.
func (b *Batcher) finish(bt *batch, lost int) {
	bt.lost = lost
	n := len(bt.ms)
	clear(bt.ms)
	b.bufPool.Put(bt.ms[:0])
	bt.ms = nil
	b.mu.Lock()
	b.held -= n
	delete(b.pending, bt)
	close(b.space)
	b.space = make(chan struct{})
	b.mu.Unlock()
	close(bt.done)
}

// deliver submits ms until the server accepts it, retrying transient
// failures with backoff. A batch rejected for its content (400, 413) is
// split in halves so one bad measurement does not sink the others; other
// rejections lose the whole batch. It returns how many were lost.
func (b *Batcher) deliver(ms []Measurement) int {
	for attempt := 0; ; attempt++ {
		res, err := b.client.call(b.ctx, &request{ep: epMeasurementsCreate, body: &MeasurementBatch{Tags: b.opts.Tags, Measurements: ms}})
		if err == nil {
			b.retried.Add(int64(max(res.attempts, 1) - 1))
			b.sent.Add(int64(len(ms)))
			b.batches.Add(1)
			return 0
		}
		b.retried.Add(int64(attemptsOf(err) - 1))
		var ae *APIError
		isAPI := errors.As(err, &ae)
		switch {
		case isAPI && !ae.Temporary():
			if (ae.StatusCode == http.StatusBadRequest || ae.StatusCode == http.StatusRequestEntityTooLarge) && len(ms) > 1 {
				half := len(ms) / 2
				return b.deliver(ms[:half]) + b.deliver(ms[half:])
			}
			return b.lose(ms, err)
		case b.ctx.Err() != nil:
			return b.lose(ms, fmt.Errorf("librato: batcher closed before delivery: %w", err))
		case !isAPI && isPermanent(err):
			return b.lose(ms, err)
		}
		b.retried.Add(1)
		wait := backoff(b.client.retrying.RetryWaitMin, b.client.retrying.RetryWaitMax, attempt, nil)
		if ae != nil && ae.RetryAfter > 0 {
			wait = ae.RetryAfter
		}
		t := time.NewTimer(wait)
		select {
		case <-t.C:
		case <-b.ctx.Done():
			t.Stop()
		}
	}
}

// isPermanent reports errors no retry can fix: anything but a failure to
// get a response (the guard, validation, a body that cannot be encoded).
func isPermanent(err error) bool {
	var fe *ErrForbiddenForRole
	var ve *ValidationError
	var te *TransportError
	return errors.As(err, &fe) || errors.As(err, &ve) || !errors.As(err, &te)
}

func attemptsOf(err error) int {
	var ae *APIError
	var te *TransportError
	switch {
	case errors.As(err, &ae):
		return max(ae.Attempts, 1)
	case errors.As(err, &te):
		return max(te.Attempts, 1)
	}
	return 1
}

func (b *Batcher) lose(ms []Measurement, err error) int {
	b.failed.Add(int64(len(ms)))
	if b.opts.OnError != nil {
		b.report(err, append([]Measurement(nil), ms...))
	}
	return len(ms)
}

func (b *Batcher) report(err error, lost []Measurement) {
	if b.opts.OnError != nil {
		b.opts.OnError(err, lost)
	}
}
