// Package tsdb is the mock's time-series engine: the store of an
// account's metrics and measurements, the one-pass reader of measurement
// submissions, the reads (tagged series, legacy records) and the
// composite metrics language. Package api calls it with validated input
// and renders what it answers; nothing here knows about HTTP.
//
// # Store
//
// Every accepted measurement, tagged or legacy, is one sample appended
// to its stream (its series): a metric and a stored tag set. Tag names
// and values are stored lower-cased; metric names ignore case and keep
// the case they were created with. Recorded reports names and tags as the
// client sent them. Tag names that differ only in case collide once
// lower-cased: the last in name order wins. A legacy source S is the tag
// {"source": S}, so both routes share a series. A stream keeps one live
// sample per second: a later sample of the same second replaces the
// earlier (last write wins, values and summaries alike), so a repeated
// submission records nothing new; a metric with the attribute aggregate
// keeps every sample. Replaced samples stay for Recorded, which lists
// every measurement accepted. TypeConflicts finds measurements for a
// metric of another type (tagged measurements are gauges), which the
// API refuses whole.
//
// # Reads
//
// Points with start <= time <= end are bucketed by
// floor(time/resolution)*resolution. Summary statistics merge by the
// reference's rules: count and sum add up, min of the mins, max of the
// maxes, last of the latest measurement, mean = Σsum/Σcount, and stddev
// is the arithmetic mean of the measurements' stddevs, unweighted
// (composite.md example 14 gives 0.75, not the count-weighted 1.125). A
// plain value is a summary of one sample whose stddev is 0. A legacy
// summary with sum_squares has the population stddev
// sqrt(sum_squares/count - mean²); a summary sent with neither stddev nor
// sum_squares takes no part in the average (no known stddev in a bucket
// reads 0). min, max and last of a summary that did not send them are its
// mean. A counter's samples are its raw values; its summaries are of its
// deltas: the increase over the previous value, or the value itself when
// it dropped (a reset starts a new run from 0), the first delta of a
// window using the value just before it.
//
// # Composite metrics
//
// ParseCompose reads the documented language (the grammar is in
// composite.go, the evaluation model in composite_eval.go): calls with no
// space before "(", set literals [a, [b, c]] flattened in place, option
// maps with bare or quoted keys and values, double-quoted strings without
// escapes. The functions: series/s (tag map, "*", "%" read as every
// stream, or a legacy source pattern, read as the tag source; options
// function, period, group), derive (detect_reset, default "false"), rate
// (duration "1"), integrate, scale (factor, decimal or n/d), window (size
// "1" up to 64; mean, sum, min, max, median), moving_average (size "1"),
// fill (value, a number or "last"), zero_fill, last_fill, filter (gt,
// gte, lt, lte ANDed; function mean), top (count "10"; function mean),
// sum, mean, min, max, multiply, divide, subtract, abs (also
// absolute_value), timeshift ("0,1d"; units s m h d w; shifted points are
// moved forward onto the query window), map ({metric} or {source}; "&" is
// each match with data in the window) and group_by (groups from the
// streams of its grouped series(); every output of a group carries the
// group's tags). Points align by timestamp: sum, mean, min and max use
// the inputs that have a point, divide, subtract and multiply need all; a
// point that is not finite (divide by zero) is dropped. A combined series
// keeps the tags its inputs share and its first input's metric and
// period. series() without a function uses the metric's
// summarize_function (mean by default). Every error (syntax, unknown
// function such as count, percentile or bottom, wrong set size, bad or
// missing option, fill without a period, a composite inside a composite)
// names the line and column. Expressions are capped at 16384 bytes, 32
// levels of nesting and a fixed amount of work.
package tsdb
