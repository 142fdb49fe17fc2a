package librato

import (
	"context"
	"errors"
	"math"
	"slices"
	"sync"
	"time"
)

// Aggregator rolls raw samples up on the client: per metric name and tag
// set, over each period, it keeps count, sum, min, max, last and the
// standard deviation, and at the period's end hands one summary
// measurement, timed at the period's start, to a Batcher. Gauges (Observe)
// and counters (Increment) can be mixed. It is safe for concurrent use.
//
// Observe and Increment only record in memory, so they never wait and take
// no context. Handing summaries to the batcher is the aggregator's own
// goroutine's work (and Close's): while a BlockWhenFull batcher is full,
// finished periods' summaries wait in memory, one per series and period,
// and the aggregator never drops what it collected.
type Aggregator struct {
	batcher *Batcher
	period  time.Duration
	now     func() time.Time

	mu      sync.Mutex
	series  map[string]*aggSeries
	pending []Measurement // finished summaries not yet handed to the batcher, oldest first
	keyBuf  []byte
	keys    []string
	closed  bool
	stop    chan struct{}
	stopped chan struct{}
}

// aggSeries accumulates one (name, tags) stream within one period.
type aggSeries struct {
	name    string
	tags    map[string]string
	counter bool
	bucket  int64 // period start, epoch seconds
	n       int64
	sum     float64
	min     float64
	max     float64
	last    float64
	shift   float64 // the period's first sample: deviations are taken from it, so large values keep their precision
	mean    float64 // Welford's running mean of v-shift, and sum of squared deviations
	m2      float64
}

// ErrAggregatorClosed is returned by Observe and Increment after Close.
var ErrAggregatorClosed = errors.New("librato: the aggregator is closed")

// NewAggregator starts an aggregator that emits through b every period
// (whole seconds, at least one). Close it before closing b.
func NewAggregator(b *Batcher, period time.Duration) (*Aggregator, error) {
	if b == nil {
		return nil, errors.New("librato: NewAggregator needs a Batcher to emit through")
	}
	if period < time.Second || period%time.Second != 0 {
		return nil, invalid("period", -1, "%v is not a whole number of seconds of at least 1s", period)
	}
	return newAggregator(b, period, time.Now, true), nil
}

// newAggregator builds an aggregator on the clock now; without ticking,
// only flush and Close emit (for tests that drive time themselves).
func newAggregator(b *Batcher, period time.Duration, now func() time.Time, ticking bool) *Aggregator {
	a := &Aggregator{
		batcher: b,
		period:  period,
		now:     now,
		series:  make(map[string]*aggSeries),
		stop:    make(chan struct{}),
		stopped: make(chan struct{}),
	}
	if ticking {
		go a.run()
	} else {
		close(a.stopped)
	}
	return a
}

// Observe records one gauge sample of name with tags (nil: the batcher's
// DefaultTags; its CommonTags are merged in either way), in memory only: it
// never waits for the batcher. The name, tags (CommonTags included) and
// value are checked as the API would; an invalid sample is refused with a
// *ValidationError, and after Close it returns ErrAggregatorClosed.
func (a *Aggregator) Observe(name string, tags map[string]string, v float64) error {
	return a.record(name, tags, v, false)
}

// Increment adds delta to counter name with tags for the current period,
// in memory only, as Observe records; the period's summary has the total
// as its sum and the number of increments as its count, and the metric, if
// this creates it, sums when rolled up. It fails as Observe does.
func (a *Aggregator) Increment(name string, tags map[string]string, delta float64) error {
	return a.record(name, tags, delta, true)
}

func (a *Aggregator) record(name string, tags map[string]string, v float64, counter bool) error {
	if err := a.check(name, tags, v); err != nil {
		return a.batcher.client.scrub(err)
	}
	bucket := a.bucketOf(a.now())
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.closed {
		return ErrAggregatorClosed
	}
	a.keyBuf = a.appendKey(a.keyBuf[:0], name, tags, counter)
	s, ok := a.series[string(a.keyBuf)]
	if ok && s.bucket != bucket && s.n > 0 {
		// A new period began before the ticker emitted the old one: its
		// summary waits for the next emission.
		a.finishLocked(func(x *aggSeries) bool { return x == s })
	}
	if !ok {
		s = &aggSeries{name: name, tags: cloneTags(tags), counter: counter}
		a.series[string(a.keyBuf)] = s
	}
	s.add(bucket, v)
	return nil
}

func (a *Aggregator) check(name string, tags map[string]string, v float64) error {
	if err := checkMetricName("name", -1, name); err != nil {
		return err
	}
	if tags != nil || a.batcher.opts.DefaultTags == nil {
		if err := checkTags("tags", -1, tags); err != nil {
			return err
		}
	}
	if err := a.batcher.checkMerged(tags); err != nil {
		return err
	}
	return checkFloat("value", -1, v)
}

func (s *aggSeries) add(bucket int64, v float64) {
	if s.n == 0 {
		s.bucket, s.min, s.max, s.shift = bucket, v, v, v
	}
	s.n++
	s.sum += v
	s.min = math.Min(s.min, v)
	s.max = math.Max(s.max, v)
	s.last = v
	x := v - s.shift
	d := x - s.mean
	s.mean += d / float64(s.n)
	s.m2 += d * (x - s.mean)
}

// appendKey writes a canonical key: kind, name, then tags sorted by name.
func (a *Aggregator) appendKey(dst []byte, name string, tags map[string]string, counter bool) []byte {
	if counter {
		dst = append(dst, 'c')
	} else {
		dst = append(dst, 'g')
	}
	dst = append(dst, name...)
	if tags == nil {
		return append(dst, 0xff) // distinct from an empty map: nil uses the batcher's DefaultTags
	}
	keys := a.keys[:0]
	for k := range tags {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		dst = append(dst, 0)
		dst = append(dst, k...)
		dst = append(dst, 0)
		dst = append(dst, tags[k]...)
	}
	clear(keys)
	a.keys = keys[:0]
	return dst
}

func cloneTags(t map[string]string) map[string]string {
	if t == nil {
		return nil
	}
	c := make(map[string]string, len(t))
	for k, v := range t {
		c[k] = v
	}
	return c
}

func (a *Aggregator) bucketOf(t time.Time) int64 {
	p := int64(a.period / time.Second)
	u := t.Unix()
	return u - ((u%p)+p)%p
}

func (a *Aggregator) run() {
	defer close(a.stopped)
	for {
		next := time.Unix(a.bucketOf(a.now())+int64(a.period/time.Second), 0)
		t := time.NewTimer(time.Until(next))
		select {
		case <-a.stop:
			t.Stop()
			return
		case <-t.C:
			a.flush(false)
		}
	}
}

// flush hands the batcher every finished period's summaries; with all, the
// current, unfinished period's too (only Close may, as a second summary of
// the same period would overwrite the first on the server).
func (a *Aggregator) flush(all bool) {
	current := a.bucketOf(a.now())
	_ = a.emit(context.Background(), func(s *aggSeries) bool { return all || s.bucket < current })
}

// emit finishes the picked series, then hands every pending summary to the
// batcher, outside the lock so that recording never waits for it. If ctx
// ends while the batcher is full, the summaries not handed over stay
// pending and ctx's error is returned.
func (a *Aggregator) emit(ctx context.Context, pick func(*aggSeries) bool) error {
	a.mu.Lock()
	a.finishLocked(pick)
	out := a.pending
	a.pending = nil
	a.mu.Unlock()
	for i := range out {
		// The batcher reports what it refuses through OnError; only the end
		// of ctx keeps a summary here.
		if err := a.batcher.Add(ctx, out[i]); err != nil && ctx.Err() != nil && errors.Is(err, ctx.Err()) {
			a.mu.Lock()
			a.pending = append(out[i:], a.pending...)
			a.mu.Unlock()
			return err
		}
	}
	return nil
}

// finishLocked turns the picked non-empty series into pending summaries
// and resets them. The optional numbers of all summaries share one
// allocation.
func (a *Aggregator) finishLocked(pick func(*aggSeries) bool) {
	var out []*aggSeries
	for _, s := range a.series {
		if s.n > 0 && pick(s) {
			out = append(out, s)
		}
	}
	if len(out) == 0 {
		return
	}
	vals := make([]float64, 5*len(out))
	period := int64(a.period / time.Second)
	for i, s := range out {
		v := vals[5*i : 5*i+5 : 5*i+5]
		v[0], v[1], v[2], v[3] = s.sum, s.min, s.max, s.last
		v[4] = math.Sqrt(s.m2 / float64(s.n)) // population standard deviation
		m := Measurement{
			Name: s.name, Tags: s.tags, Time: s.bucket, Period: period,
			Count: s.n, Sum: &v[0], Min: &v[1], Max: &v[2], Last: &v[3], StdDev: &v[4],
		}
		if s.counter {
			m.Attributes = &MetricAttributes{SummarizeFunction: "sum"}
		}
		a.pending = append(a.pending, m)
		*s = aggSeries{name: s.name, tags: s.tags, counter: s.counter}
	}
}

// Close emits everything still collected, the unfinished period included,
// and stops the aggregator; Observe and Increment then fail. The batcher
// is left open. If ctx ends while the periodic emission is still handing
// summaries to a full batcher, or while Close itself waits for room in
// it, Close returns ctx's error and keeps what it has not handed over:
// call Close again to emit it. A nil ctx is refused with an error.
func (a *Aggregator) Close(ctx context.Context) error {
	if ctx == nil {
		return errNilContext
	}
	a.mu.Lock()
	if !a.closed {
		a.closed = true
		close(a.stop)
	}
	a.mu.Unlock()
	if err := waitDone(ctx, a.stopped); err != nil {
		return err
	}
	return a.emit(ctx, func(*aggSeries) bool { return true })
}
