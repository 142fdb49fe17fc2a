package otelexport

import (
	"fmt"
	"maps"
	"time"

	"go.opentelemetry.io/otel/attribute"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"

	librato "github.com/librato-sdk/librato-go"
)

// DefaultPeriod is the period data point times are floored to when
// WithPeriod is not given: the PeriodicReader's default interval.
const DefaultPeriod = 60 * time.Second

// DefaultResourceAttributes are the resource attributes that become tags
// when WithResourceAttributes is not given, in priority order.
var defaultResourceAttributes = []attribute.Key{
	"service.name", "service.namespace", "host.name", "deployment.environment.name",
}

// DefaultResourceAttributes returns the resource attributes that become
// tags unless WithResourceAttributes says otherwise: service.name,
// service.namespace, host.name and deployment.environment.name.
func DefaultResourceAttributes() []attribute.Key {
	return append([]attribute.Key(nil), defaultResourceAttributes...)
}

// Option configures an Exporter in New.
type Option func(*config) error

type config struct {
	period        time.Duration
	prefix        string
	unitSuffix    bool
	resourceAttrs []attribute.Key
	tags          map[string]string
	temporality   sdkmetric.TemporalitySelector
	aggregation   sdkmetric.AggregationSelector
	batchSize     int
	flushInterval time.Duration
	maxBuffered   int
}

func defaultConfig() config {
	return config{
		period:        DefaultPeriod,
		resourceAttrs: defaultResourceAttributes,
		temporality:   DefaultTemporality,
		aggregation:   DefaultAggregation,
	}
}

// WithPeriod sets the period data point times are floored to, and the
// period each measurement declares; give it the interval of the
// PeriodicReader (sdkmetric.WithInterval), default 60 s. It must be a
// whole number of seconds, at least one.
func WithPeriod(d time.Duration) Option {
	return func(c *config) error {
		if d < time.Second || d%time.Second != 0 {
			return fmt.Errorf("otelexport: WithPeriod(%v): the period must be a whole number of seconds, at least 1s", d)
		}
		c.period = d
		return nil
	}
}

// WithPrefix puts prefix before every metric name ("myapp." turns
// "http.server.duration" into "myapp.http.server.duration"). The prefix
// must itself be made of characters a metric name may hold.
func WithPrefix(prefix string) Option {
	return func(c *config) error {
		if prefix != "" && !fits(prefix, metricChar, false, librato.MaxMetricNameLength-1) {
			return fmt.Errorf("otelexport: WithPrefix(%q): a prefix holds 1 to %d characters from A-Z a-z 0-9 . : - _", prefix, librato.MaxMetricNameLength-1)
		}
		c.prefix = prefix
		return nil
	}
}

// WithUnitSuffix appends the instrument's unit to its metric name
// ("http.server.duration" with unit "ms" becomes
// "http.server.duration.ms"); see the package documentation for how units
// are spelled.
func WithUnitSuffix() Option {
	return func(c *config) error { c.unitSuffix = true; return nil }
}

// WithResourceAttributes replaces the resource attributes that become tags
// (default DefaultResourceAttributes), in priority order: when a stream has
// too many tags the later ones go first. No keys means no resource tags.
func WithResourceAttributes(keys ...attribute.Key) Option {
	return func(c *config) error {
		c.resourceAttrs = append([]attribute.Key(nil), keys...)
		return nil
	}
}

// WithTags adds fixed tags to every measurement, before (and winning over)
// resource and data point attributes of the same name. They must already
// follow the API's tag rules; an invalid one makes New fail. Their names
// are lower-cased, as the API stores them.
func WithTags(tags map[string]string) Option {
	return func(c *config) error {
		if len(tags) > librato.MaxTagsPerStream {
			return fmt.Errorf("otelexport: WithTags: %d tags; a stream holds at most %d", len(tags), librato.MaxTagsPerStream)
		}
		for k, v := range tags {
			if !librato.ValidTagName(k) {
				return fmt.Errorf("otelexport: WithTags: tag name %q must be 1 to %d characters from A-Z a-z 0-9 . : - _", k, librato.MaxTagNameLength)
			}
			if !librato.ValidTagValue(v) {
				return fmt.Errorf("otelexport: WithTags: value %q of tag %q must be 1 to %d characters from A-Z a-z 0-9 . : - _ ? \\ / and space", v, k, librato.MaxTagValueLength)
			}
		}
		c.tags = maps.Clone(tags)
		return nil
	}
}

// WithTemporalitySelector replaces DefaultTemporality. Cumulative sums and
// histograms are converted to per-period deltas, so any choice works;
// delta costs the exporter no state.
func WithTemporalitySelector(s sdkmetric.TemporalitySelector) Option {
	return func(c *config) error {
		if s == nil {
			return fmt.Errorf("otelexport: WithTemporalitySelector(nil)")
		}
		c.temporality = s
		return nil
	}
}

// WithAggregationSelector replaces DefaultAggregation, for instance to
// choose base-2 exponential histograms. Views still override it per
// instrument.
func WithAggregationSelector(s sdkmetric.AggregationSelector) Option {
	return func(c *config) error {
		if s == nil {
			return fmt.Errorf("otelexport: WithAggregationSelector(nil)")
		}
		c.aggregation = s
		return nil
	}
}

// WithBatchSize sets the most measurements per request of the exporter's
// batcher (librato.DefaultBatchSize unless given).
func WithBatchSize(n int) Option {
	return func(c *config) error {
		if n <= 0 {
			return fmt.Errorf("otelexport: WithBatchSize(%d): must be positive", n)
		}
		c.batchSize = n
		return nil
	}
}

// WithFlushInterval sets how long the exporter's batcher holds a partial
// batch before sending it (librato.DefaultFlushInterval unless given).
func WithFlushInterval(d time.Duration) Option {
	return func(c *config) error {
		if d <= 0 {
			return fmt.Errorf("otelexport: WithFlushInterval(%v): must be positive", d)
		}
		c.flushInterval = d
		return nil
	}
}

// WithMaxBuffered bounds the measurements the exporter's batcher holds
// (librato.DefaultMaxBuffered unless given). At the bound Export waits for
// space, for as long as its context allows.
func WithMaxBuffered(n int) Option {
	return func(c *config) error {
		if n <= 0 {
			return fmt.Errorf("otelexport: WithMaxBuffered(%d): must be positive", n)
		}
		c.maxBuffered = n
		return nil
	}
}

// DefaultTemporality asks for delta temporality for Counter and Histogram,
// whose per-period values the SDK then computes without keeping totals,
// and cumulative for everything else: UpDownCounters, whose value is then
// the current level, and ObservableCounters, whose callbacks report
// totals; the exporter turns those into deltas itself and, unlike the
// SDK's delta conversion, reads a total that drops as a restart instead of
// a negative increase. It is sdkmetric.LowMemoryTemporalitySelector.
func DefaultTemporality(k sdkmetric.InstrumentKind) metricdata.Temporality {
	return sdkmetric.LowMemoryTemporalitySelector(k)
}

// DefaultAggregation is sdkmetric.DefaultAggregationSelector except for
// histograms: an explicit-bucket histogram without boundaries, since the
// exporter reads only count, sum, min and max and buckets would cost
// memory for nothing.
func DefaultAggregation(k sdkmetric.InstrumentKind) sdkmetric.Aggregation {
	if k == sdkmetric.InstrumentKindHistogram {
		return sdkmetric.AggregationExplicitBucketHistogram{Boundaries: []float64{}}
	}
	return sdkmetric.DefaultAggregationSelector(k)
}
