// Package otelexport exports OpenTelemetry metrics to Librato: an
// sdk/metric Exporter that turns each data point into a Librato measurement
// and queues it on a librato.Batcher, so the client's role guard,
// validation, retries and its deliver-or-report guarantee apply unchanged.
// It is the module's only importer of OpenTelemetry.
//
//	client, err := librato.NewClient(email, token, librato.WithRole(librato.RoleRecordOnly))
//	exp, err := otelexport.New(client) // a View Only client is refused here
//	reader := sdkmetric.NewPeriodicReader(exp) // interval 60s = otelexport.DefaultPeriod
//	provider := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader), sdkmetric.WithResource(res))
//	defer provider.Shutdown(ctx) // final collection, then everything queued is delivered
//
// # Mapping
//
// Every data point becomes at most one measurement, named after its metric
// and tagged with its attributes (see Tags). Its time is the data point's
// end time floored to the period, and it declares the period.
//
//	| OpenTelemetry data          | Librato measurement                                     |
//	|-----------------------------|---------------------------------------------------------|
//	| Gauge (int or float)        | value = the data point's value                          |
//	| Sum, monotonic, delta       | value = the data point's value: the period's increase   |
//	| Sum, monotonic, cumulative  | value = the increase since the stream's previous point; |
//	|                             | the whole value after a restart                         |
//	| Sum, non-monotonic (either) | value = the data point's value, as is                   |
//	| Histogram, delta            | summary: count, sum, min, max; stddev where exact       |
//	| Histogram, cumulative       | summary of the increase: count and sum deltas; min, max |
//	|                             | only when the point covers its whole interval           |
//	| ExponentialHistogram        | as Histogram (buckets, scale, zero count unused)        |
//	| Summary (from bridges)      | cumulative count and sum as deltas; no min or max       |
//	| exemplars                   | ignored                                                 |
//
// Temporality (DefaultTemporality) asks the reader for delta Counter sums
// and Histograms, so the exporter keeps no running totals for them, and
// cumulative data for the rest: an UpDownCounter's value is then its
// current level, and an ObservableCounter's total is turned into a delta
// by the exporter, which reads a total that drops as a restart (the SDK's
// own delta conversion would send a negative increase). A non-monotonic
// sum read with delta temporality is sent as the change over its period,
// not accumulated.
//
// Cumulative to delta: the exporter keeps each stream's last value and
// start time and sends the difference. A stream restarts when its start
// time changes or its value (or count) drops; the measurement then carries
// the new value whole (it counts from the new start), and Stats.Resets
// counts it. The first point of a stream is sent whole if it started after
// the exporter was created; otherwise it may include counts from before
// (a ManualReader wired before New, a bridged counter), so it only sets
// the baseline and Stats.Skipped counts it. A histogram period without
// samples sends nothing (a summary needs a count) and counts as Skipped.
//
// A Summary's quantiles cover a window of their own, so they give no min
// or max for the period.
//
// Standard deviation: OpenTelemetry keeps no sum of squares, and
// buckets only bound the samples, so stddev is sent only where count, min
// and max fix it exactly: one sample (0), all samples equal (min = max: 0)
// or two samples (they are min and max: (max - min) / 2). It is never
// estimated from buckets. Last is never sent.
//
// Period: WithPeriod (default 60 s, DefaultPeriod) tells the exporter the
// reader's interval; the exporter cannot learn it from the reader. Times
// are floored to it so hosts align, and each measurement carries it as its
// period (stored by Librato when the measurement creates the metric). Keep
// the reader's interval equal to it: collections closer together (a
// ForceFlush, the final collection of Shutdown) give a stream two
// measurements with the same time. Each still carries only its own
// interval's delta; how the API combines two samples of one stream at one
// time is not documented (the mock keeps both).
//
// # Tags
//
// A measurement's tags are, in priority order: the WithTags tags, the
// chosen resource attributes (DefaultResourceAttributes: service.name,
// service.namespace, host.name, deployment.environment.name, in that
// order; WithResourceAttributes changes them), then the data point's
// attributes by key. A non-string value is written as
// attribute.Value.Emit writes it (42, true, ["a","b"] before rewriting).
//
// Rewriting rules, applied to every name and value (the API's rules are
// tag names ^[-.:_\w]{1,64}$, values ^[-.:_?\\/\w ]{1,255}$, at most 50
// tags; metric names ^[A-Za-z0-9.:_-]{1,255}$):
//   - every character outside the allowed set becomes one "_" (a
//     multi-byte UTF-8 character, or a byte that is not UTF-8, counts as
//     one character): "http/route" → "http_route", "région" → "r_gion";
//   - tag names are lower-cased, as the API stores them, so two keys that
//     differ only in case collide visibly instead of on the server; values
//     and metric names keep their case;
//   - an empty name or value becomes "_";
//   - names and values longer than the limit are cut to it (64 bytes for a
//     tag name, 255 for a value or a metric name), after replacing.
//
// Nothing is dropped silently. When two attributes rewrite to the same tag
// name, the one of higher priority keeps it and Stats.TagCollisions counts
// the other. When a stream would have more than 50 tags, the lowest
// priority ones go (data point attributes latest by key first, then
// resource attributes latest in the list) and Stats.TagsOverLimit counts
// them. Both counters count per data point exported; the OpenTelemetry
// error handler hears once of every new attribute set that lost
// attributes.
// Stats.TagsRewritten counts tags changed by the rules.
//
// Metric names are the instrument's name rewritten by the same character
// and length rules (case kept), optionally after WithPrefix and with the
// unit as a suffix (WithUnitSuffix: "ms" → ".ms", "By/s" → ".By_per_s";
// annotations such as "{request}" and the unit "1" add nothing).
// Stats.NamesRewritten counts names the rules changed. Two instruments
// whose names rewrite alike share a Librato metric.
//
// # Behaviour
//
// Export converts and queues; it never waits for delivery, and it returns
// when everything is queued or its context ends. At the batcher's bound
// it waits for space while the context allows (the batcher's default full
// policy). A monotonic sum or a histogram that could not be queued before
// the context ended is carried: added to the stream's next measurement, or
// queued on its own at the next Export or at Shutdown if the stream does
// not come back; a gauge or non-monotonic value not queued is lost (the
// next one supersedes it). Export's error counts what was not queued; the
// PeriodicReader passes it to otel.Handle. Measurements the batcher later
// fails to deliver (rejected for good, or still undelivered when Shutdown
// gave up) are reported to otel.Handle as they happen. Stats has the
// exporter's counters and the batcher's.
//
// ForceFlush waits until everything queued is delivered or lost. Shutdown
// queues what is still carried, closes the batcher (which delivers
// everything queued within the context) and returns an error counting
// what was never delivered, wrapping the batcher's error. All methods are
// safe for concurrent use; conversions are serialized.
//
// The exporter remembers each stream (its tags, and its last value for
// cumulative data) until the stream is absent from 10 exports in a row.
// Streams with the same resource and attributes, in any metric, share one
// tags map across all their measurements; the map is never changed after
// it is built. A few words per metric and per resource are kept for the
// exporter's life.
//
// Choices where the API is silent: a measurement with no tags at all (no
// WithTags, no resource attribute, no data point attribute) is sent
// without tags; the API documents tags as expected but not whether it
// refuses a measurement without them (the mock accepts it).
package otelexport
