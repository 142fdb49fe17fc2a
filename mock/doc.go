// Package mock is a stateful, in-memory Librato Metrics API v1 server for
// testing integrations offline. It serves every endpoint of the API with
// the documented status codes, error bodies, authentication, token-role
// enforcement (from the SDK's own permission matrix), validation and
// pagination, and adds hooks to inject failures and latency and to inspect
// what was recorded.
//
// # Usage
//
//	srv := mock.NewServer()
//	defer srv.Close()
//	c, err := srv.Client(librato.RoleRecordOnly) // fresh token, role declared, base URL set
//	...
//	got := srv.Recorded() // the measurements accepted, in order
//
// Credentials returns the account's email and a fresh token of a role for
// clients that are not the SDK (Basic auth, email as user, token as
// password). Transport serves the same state in-process, without a
// socket; Server is also an http.Handler. Account creates further isolated
// accounts: a token of one account gets 401 with another's email, and no
// account sees another's objects.
//
// Hooks: FailNext(n, status) fails the next n requests, whatever they are
// (Retry-After on 429 and 503, see WithRetryAfter); InjectFault queues
// faults restricted to a method and endpoint, with a Retry-After, or
// dropping the connection (Drop; ErrDropped through Transport);
// SetLatency and WithLatency delay every request, ending early when the
// request's context ends or the server closes; SetRateLimits changes the
// limits; FireAlert triggers an alert; Recorded, RecordedCount and
// RecordedMatching show accepted measurements, Annotations and
// FiredAlerts what an integration created and triggered; Journal lists
// the requests answered; Usage, MinimalRole, MinimalRoleOf (for a client
// made by Client) and UsageReport report, per token, the matrix rows it
// called (refused calls included), how often, and the least privileged
// role that covers them; Reset puts everything back as it started.
// WithLogger logs every request, WithTimeouts bounds slow connections.
//
// # Control plane
//
// The same hooks are served over HTTP under /mock/, for tests in any
// language and for the librato-mock command; each request calls the Go
// method named beside it, so the two cannot differ. Requests carry
// Authorization: Bearer <ControlToken()> (the command prints it as
// LIBRATO_MOCK_CONTROL_TOKEN); an API token gets 401 there, as the control
// token gets 401 on /v1. Bodies are JSON whatever their Content-Type, and
// may be gzipped; answers are JSON. Errors are {"errors":{"request":[...]}}
// with 400 (bad input, an unknown field or query parameter), 401, 404 (no
// such request, account or alert) and 405 (with Allow). Control requests
// are not in the permission matrix and are never delayed, faulted, rate
// limited, counted by Requests, journaled or logged. Requests that read an
// account take ?account=EMAIL (the default account without it).
//
//	POST   /mock/reset            204  Reset
//	POST   /mock/seed             204  Account.Apply of a seed in the JSON format below (400 names the bad object)
//	POST   /mock/faults           204  InjectFault {"count":N,"status":S,"retry_after":secs,"method":"POST","endpoint":"/v1/measurements","drop":false}
//	GET    /mock/faults           200  Faults: {"faults":[...]} with what is left of each count
//	DELETE /mock/faults           204  ClearFaults
//	PUT    /mock/latency          204  SetLatency {"ms":N}
//	GET    /mock/latency          200  Latency: {"ms":N}
//	PUT    /mock/ratelimits       204  SetRateLimits {"agg":N,"std":M} (either may be left out)
//	GET    /mock/ratelimits       200  RateLimits: {"agg":N,"std":M}
//	GET    /mock/recorded         200  RecordedMatching: {"measurements":[{"name","tags","time","value",...}]}
//	                                   filtered by ?metric=NAME&tags[k]=v&start_time=T&end_time=T
//	GET    /mock/annotations      200  Annotations: {"annotations":[{"stream","display_name","id","title",...}]}, ?stream=NAME
//	GET    /mock/alerts/fired     200  FiredAlerts: {"alerts":[{"id","name","firing","triggered_at","cleared_at"}]}
//	POST   /mock/alerts/:id/fire  204  FireAlert (404 for no such alert)
//	GET    /mock/journal          200  Journal: {"requests":[{"time","method","path","endpoint","status",
//	                                   "token_name","role","duration_ms","error","injected"}]}, oldest first
//	DELETE /mock/journal          204  ClearJournal
//	GET    /mock/usage            200  UsageReport: {"tokens":[{"account","token_name","role","minimal_role",
//	                                   "endpoints":[{"method","endpoint","calls"}]}]}, in order of first use
//
// Snapshot images under /mock/snapshots/ are API traffic and need no
// token. Nothing the control plane answers, the journal or the log holds
// a token: requests are named by their token's name, and a request whose
// credentials match no active token has none.
//
// # What grows, and what is bounded
//
// By design the state grows with what tests send: the account objects
// (metrics, series, recorded measurements, spaces, alerts, services,
// annotations, snapshots, API tokens), the tokens Credentials and Client
// hand out (Reset restores them) and the clients Client made (for
// MinimalRoleOf). Reset (POST /mock/reset) takes the accounts back to the
// seed, restoring the handed-out tokens, and empties the journal and the
// usage records. Bounded: the journal keeps the last WithJournalSize
// requests (DefaultJournalSize, 1,000); an account keeps at most 1,000
// jobs, forgetting the oldest finished ones down to 750 past that
// (unfinished jobs are kept, since the read that finishes one performs its
// change); usage records of deleted tokens are swept every 1,000 new
// records, keeping the 1,000 most recently used; and the socket server
// closes connections that take longer than WithTimeouts allows
// (DefaultReadHeaderTimeout 10 s for headers, DefaultReadTimeout 60 s for
// the whole request, DefaultIdleTimeout 120 s idle).
//
// # Behaviour
//
// Every request gets the X-Librato-RateLimit-Agg and -Std headers
// ("limit=N,remaining=M,reset=EPOCH"). Agg counts measurement submissions
// (tagged and legacy), Std every other authenticated request, per account
// per clock hour;
// WithRateLimits sets the limits, beyond which requests get 429.
//
// A request is handled in this order: latency, faults (FailNext,
// InjectFault), authentication (401), rate limit (429), routing (404 for
// unknown paths and methods), role (403 naming the role; the role check
// uses librato.LookupPermission on the routed path, all rows, inferred
// roles of unlisted rows included, and a route without a row, such as
// /v1/sources, is Full Access only), path and query parameters (400 for
// text that is not UTF-8), content encoding (415), body size (413 above
// WithMaxBodyBytes, 3 MiB by default, counted after decompression),
// content type (415), body text and syntax (400), then the endpoint, whose
// invalid input gets 400 with errors.params keyed by field: "name" at the
// top level, "measurements[2].name" or "conditions[0].duration" inside
// lists, "attributes.color" inside objects.
//
// Authentication is HTTP Basic with the account's email as user name and
// an active API token as password, as the Librato reference documents
// (librato/api-docs, source/includes/_authentication.md). The user name
// "token" with the token as password is accepted too, because
// appoptics-api-go, the AppOptics client of the same v1 API, sends
// exactly that (client.go: SetBasicAuth("token", token)); the token then
// picks the account, and a secret two accounts share picks none. Any
// other form (the token as user name, an empty password) is 401 with a
// message naming the expected form.
//
// Request bodies may be sent with Content-Encoding: gzip (or x-gzip;
// identity is no encoding), as appoptics-api-go sends every body, GETs
// included (an empty body stays empty). They are decompressed where the
// body is read, once for every endpoint, and the size limit applies to the
// decompressed bytes, so a small gzip bomb gets 413; a body that does not
// decompress is 400, any other encoding 415.
//
// Text must be valid UTF-8: a name, tag or any string of a JSON or form
// body (keys included), a query parameter or a path parameter that is not
// gets 400 with errors.params naming it, as does a JSON escape of an
// unpaired UTF-16 surrogate ("\udcff"). Decoders would otherwise read
// each as U+FFFD, so "%FF" and "%FE" would name the same object. Seeds
// are checked the same way.
//
// Time fields (a snapshot's end_time; the control plane's start_time and
// end_time) accept epoch seconds, as a JSON number or, as forms and
// queries carry them, a numeric string, or an ISO-8601 time: RFC 3339
// with an offset or a fraction, the same without a zone (UTC), or a date
// (midnight UTC). Whatever the encoding, the time must fall between
// 1970-01-01T00:00:01Z and 2099-12-31T23:59:59Z (400 otherwise), which
// also catches milliseconds sent as seconds.
//
// Paths are split into segments while still escaped, and each segment is
// unescaped on its own: /v1/metrics/a%2Fb names the metric "a/b" and
// /v1/metrics/%2E%2E the metric "..". There is no path cleaning and no
// redirect; an empty segment (a trailing or double slash) is a 404.
//
// Writes accept application/json, or application/x-www-form-urlencoded
// with Rails' bracket nesting: attributes[display_min]=0, names[]=a,
// links[0][rel]=x, settings[room]=Ops, conditions[0][tags][0][values][]=v.
// Form values are strings; numeric and boolean fields accept them. A write
// with a body and no Content-Type is read as a form, the API's default.
// POST /v1/measurements takes application/json only; the legacy POST
// /v1/metrics takes both.
//
// # Choices where the API documentation is silent or ambiguous
//
//   - POST /v1/measurements answers 202 with
//     {"measurements":{"summary":{"total":N,"accepted":N,"failed":0,"filtered":0}}}.
//     One invalid measurement fails the whole request with 400 and stores
//     nothing. A measurement without a time gets the batch's time, else the
//     server's clock. A measurement uses its own tags only when they are a
//     non-empty object, otherwise the batch's; the two are never merged. A
//     measurement with no tags at all is accepted. Metric properties
//     (period, display_name, description, attributes) are read per
//     measurement and apply only when the measurement creates the metric;
//     the batch's period counts as each measurement's default.
//   - Tag names and values are stored lower-cased; metric names ignore
//     case and keep the case they were created with. Recorded reports
//     names and tags as the client sent them. Tag names that differ only
//     in case collide once lower-cased: the last in name order wins.
//   - GET /v1/measurements/:name: a missing metric is 404. start_time with
//     duration and no end_time means [start, start+duration]. Points with
//     start <= time <= end are bucketed by floor(time/resolution)*resolution.
//     summary_function defaults to the metric's summarize_function
//     (average reads as mean); derivative is the change of the mean from
//     the previous bucket (the first bucket has none); all gives each point
//     value (the mean), count, sum, min, max, last and stddev. group_by
//     merges the per-stream values of summary_function with
//     group_by_function, as documented. Series without points in the window
//     are left out; series are ordered by their tag pairs.
//   - Summary statistics merge over time (resolution buckets) by the
//     reference's rules: count and sum add up, min of the mins, max of the
//     maxes, last of the latest measurement, mean = Σsum/Σcount, and stddev
//     is the arithmetic mean of the measurements' stddevs, unweighted
//     (composite.md example 14 gives 0.75, not the count-weighted 1.125). A
//     plain value is a summary of one sample whose stddev is 0, so a bucket
//     of plain values has stddev 0. A legacy summary with sum_squares has
//     the population stddev sqrt(sum_squares/count - mean²); a summary sent
//     with neither stddev nor sum_squares takes no part in the average (no
//     known stddev in a bucket reads 0). min, max and last of a summary
//     that did not send them are its mean. The legacy "all" series merges
//     sources the same way.
//   - Tag filters are sent as tags[name]=pattern (repeated key: OR; a
//     leading '!' on the pattern: the stream has the tag and the value does
//     not match) and tags[!name]=anything (the stream lacks the tag; the
//     pattern is not used). tags_search supports name=pattern,
//     name!=pattern, and, or, not and parentheses, with '*' wildcards and
//     quoted values.
//   - Series pages hold DefaultSeriesPageSize series (WithSeriesPageSize);
//     when more follow, links holds {"rel":"next","href":...}, an absolute
//     URL on the host the client used, with the query and an offset
//     parameter. links is always present, empty on the last page.
//   - Composite metrics: GET /v1/measurements?compose=... evaluates the
//     documented language and answers the documented bare array of
//     {tags, measurements, metric, period}; a persisted composite answers
//     GET /v1/measurements/:name the same way (tags_search and group_by
//     apply to its output; tags is refused, as documented), with errors
//     under "composite". Grammar: calls (no space before "("), set
//     literals [a, [b, c]] flattened in place, option maps with bare or
//     quoted keys and values, double-quoted strings without escapes. The
//     functions: series/s (tag map, "*", "%" read as every stream, or a
//     legacy source pattern, read as the tag source; options function,
//     period, group), derive (detect_reset, default "false"), rate
//     (duration "1"), integrate, scale (factor, decimal or n/d), window
//     (size "1" up to 64; mean, sum, min, max, median), moving_average
//     (size "1"), fill (value, a number or "last"), zero_fill, last_fill,
//     filter (gt, gte, lt, lte ANDed; function mean), top (count "10";
//     function mean), sum, mean, min, max, multiply, divide, subtract,
//     abs (also absolute_value), timeshift ("0,1d"; units s m h d w;
//     shifted points are moved forward onto the query window), map
//     ({metric} or {source}; "&" is each match with data in the window)
//     and group_by (groups from the streams of its grouped series();
//     every output of a group carries the group's tags). Points align by
//     timestamp: sum, mean, min and max use the inputs that have a point,
//     divide, subtract and multiply need all; a point that is not finite
//     (divide by zero) is dropped. A combined series keeps the tags its
//     inputs share and its first input's metric and period. series()
//     without a function uses the metric's summarize_function (mean by
//     default). Every error (syntax, unknown function such as count,
//     percentile or bottom, wrong set size, bad or missing option, fill
//     without a period, a composite inside a composite) is 400 on compose
//     naming the line and column. Expressions are capped at 16384 bytes,
//     32 levels of nesting and a fixed amount of work.
//   - Legacy sources (GET /v1/sources, GET and PUT /v1/sources/:name): a
//     source exists when a stored stream carries the tag "source" with its
//     name (a legacy measurement's source is stored that way) or when PUT
//     created it; names ignore case and keep their first spelling. PUT
//     answers 201 with Location /v1/sources/:name and the source when it
//     creates it, 204 when the source exists (measured or PUT before); a
//     display_name left out is kept, null or "" removes it, more than 255
//     characters is 400, and so are an invalid name and the reserved "all".
//     The list filters name on the name or the display name (a substring,
//     ignoring case), orders by name only, and its total counts every
//     source. "unassigned" (no source) is not listed. A source whose
//     metrics are deleted disappears unless PUT created it or gave it a
//     display name.
//   - Roles for sources: the permission matrix has no /v1/sources rows, so
//     the mock answers them as librato.Permitted says of paths without a
//     row: Full Access only, 403 for Record Only and View Only (not the
//     roles the legacy fact sheet suggests; a strict SDK guard refuses the
//     same calls before sending).
//   - The legacy composite read, GET /v1/metrics?compose=..., evaluates
//     the same language as GET /v1/measurements?compose= and answers
//     {"compose", "resolution", "measurements": [{"metric", "period",
//     "query": {"metric", "source"}, "series": [{"measure_time", "value"}],
//     "source": {"name", "display_name"}}]}. start_time and resolution are
//     required, end_time defaults to now, count, duration and pagination
//     parameters are ignored. query holds the patterns of the first
//     series() call whose metric and source patterns match the series ("*"
//     for a tag set without "source"); source is the series' source tag
//     with the display name PUT gave it, "all" for a series without one
//     when the expression merges series (sum, mean, min, max, multiply,
//     divide, subtract), else "unassigned".
//   - PUT /v1/metrics/:name needs type to create a metric (400 otherwise);
//     on update, attributes sent are merged into the stored ones. An
//     attribute sent as null is stored and answered as null, as the
//     reference's answers show "display_max": null. A composite metric
//     gets no created_by_ua and answers no attributes member until it is
//     given some. Metrics list and spaces order by
//     name (the only orderby); API tokens order by created_at (default) or
//     name; services by title (default) or updated_at; alerts by
//     updated_at.
//   - Legacy POST /v1/metrics accepts gauges and counters as a JSON array,
//     an object hashed by metric name, an object with any keys and a name
//     inside (the name wins over the key), and forms
//     (gauges[0][name]=cpu&gauges[0][value]=75, gauges[login-delay][value]=3.5);
//     hashed entries are taken in key order, numeric keys by number.
//     Top-level source, measure_time and period are the defaults of each
//     measurement; metric properties apply when the request creates the
//     metric. Success is 200 with no body; errors are 400 with
//     errors.params keyed "gauges[0].name" or "gauges[login-delay].value",
//     and one invalid measurement stores nothing. Enforced beyond the
//     documented rules: sources use the name characters and may not be
//     "all"; a summary (count >= 1) needs sum and excludes value; min, max
//     and sum_squares need count; min <= max, min <= sum/count <= max and
//     sum_squares >= sum²/count hold to a relative 1e-9; counters take a
//     value only; a type field must match its collection. A gauge sent to a
//     counter's name, a counter to a gauge's (metrics created by tagged
//     submissions or PUT are gauges), or either to a composite is 400 on
//     name. measure_time has no age limit.
//   - Legacy and tagged measurements share one store: source S is the tag
//     {"source": S} (case-insensitive, stored lower-cased), no source is
//     no tags, measure_time is time, a gauge summary keeps its fields and
//     sum_squares. Tagged reads see legacy data through the source tag; the
//     legacy read sees a stream with a source tag as that source and every
//     other stream as "unassigned", merging streams of one source.
//     Recorded lists legacy submissions too, with the source as a tag.
//   - Counters (legacy) store the raw values clients send (librato-node
//     and statsd send running totals) and every plain read (legacy,
//     tagged, composite series()) answers those values, so a client reads
//     back what it sent; their summaries (summarize_time and the legacy
//     "all" series) describe their deltas, as the legacy reference says:
//     the increase over the previous value, or the value itself when it
//     dropped (a reset starts a new run from 0), the first delta of a
//     window using the value just before it. Tagged
//     summary_function=derivative and composite derive() give the deltas
//     of any read. GET /v1/metrics reports their type as counter. A tagged
//     POST to a counter's name adds raw values.
//   - GET /v1/metrics/:name with start_time, end_time, count or resolution
//     answers the metric with resolution and measurements keyed by source
//     ("unassigned", and "all" for summaries). A record of one plain
//     sample is {measure_time, value, count}, as in the reference's
//     examples; one that merges several samples or holds a complex gauge's
//     summary adds sum, min, max and sum_squares (when every merged sample
//     has one). Without them it is metadata only. start_time is required
//     unless count is given; end_time defaults to now; count N (per
//     source, after bucketing) is the first N from start_time, else the
//     last N up to end_time; count with both is 400. resolution buckets as
//     in tagged reads and averages; without it the answer's resolution is
//     1 and each second is a bucket. source is a '*' pattern, sources[] an
//     exact list (both ignore case). summarize_time merges each source into
//     one record at its first record's time, with rollups. The "all"
//     series (summarize_sources, group_by, or breakout_sources=false) has
//     one record per time across the sources (one in all with
//     summarize_time) with summarized, the number of sources merged;
//     group_by applies its function to each statistic across the sources
//     (count gives the number of sources), count staying the total, and
//     hides the per-source series unless breakout_sources=true; group_by on
//     a counter is 400. Without count, more than DefaultLegacyPageSize
//     records (WithLegacyPageSize) are cut before the first time that does
//     not fit whole, and query.next_time is that time.
//   - Batch PUT and DELETE /v1/metrics always answer 202 with a Location
//     /v1/jobs/:id and the job as body. names is a list, or one string
//     pattern ('*' wildcards; a string without one names one metric).
//     Attribute fields are accepted at the top level of a batch update (as
//     the API's examples send them) and under attributes. A missing or
//     empty names is 400; a list with an invalid metric name gives a job
//     that ends failed with errors {"name":["is invalid"]} and changes
//     nothing. Names that match no metric are skipped.
//   - Jobs start queued; each GET /v1/jobs/:id is one step: reads before
//     the WithJobSteps-th answer working (with progress), that read performs
//     the change and answers complete (progress 100) or failed (no progress,
//     as the API's example shows). With 0 steps jobs complete when created.
//   - POST /v1/snapshots answers 202, Location /v1/snapshots/:id, with the
//     snapshot (href and job_href absolute, image_href null, times ISO-8601,
//     subject echoed). Reading the snapshot also advances its job; once the
//     job completes, image_href points at a 1x1 PNG served without
//     authentication under /mock/snapshots/. The chart must exist (400 on
//     subject.chart.id otherwise). A legacy subject.chart.source pattern is
//     answered as sources [pattern], as the legacy example shows.
//   - Chart create answers 201 with the chart and Location /v1/spaces/:id,
//     the space, as the API's example shows. Chart PUT answers 200 with the
//     chart; streams sent replace all streams. transform_function accepts
//     digits, x, p, parentheses, + , - . / * and space. A stream is answered
//     with the properties it was given, as the examples show:
//     group_function, summary_function and downsample_function (average
//     when left out) are answered only when sent, and a tag filter's grouped
//     and dynamic only when true. A stream may carry a legacy source (a
//     name, a '*' pattern, or "%" for a dynamic source), not with composite.
//   - Services carry string ids in /v1/services answers ("145") and
//     numeric ids inside alerts, as the API's examples show; requests may
//     send either. Creating a service needs title, type and settings.
//   - Alerts: name allows '_' (the API's own example has one); a new alert
//     needs at least one condition. PUT replaces the conditions, and a PUT
//     without conditions removes them all, as documented; other fields left
//     out are kept, attributes sent replace the old ones. At least one
//     service is not enforced. POST /v1/alerts/:id/services answers 201 with
//     the service; attaching it twice is 422. Alerts fire only through
//     FireAlert (or "firing": true in a seed); clearing a firing alert moves
//     it to the status endpoint's cleared list. A condition answers every
//     field of the current reference's condition: summary_function
//     (average for above and below when not sent), tags ([] when none),
//     detect_reset (true when not sent, as the reference documents, though
//     its answer examples predate the field) and source, the legacy source
//     pattern as sent or null.
//   - API tokens: name and role are required on create; a token value sent
//     by the client is ignored; tokens are 64 hex characters; active may be
//     set on create; the name filter uses '*' wildcards and matches the
//     whole name, ignoring case. Tokens from Credentials are listed too.
//   - Annotations: stream names follow the metric-name rule; a new
//     stream's display_name is its name. GET of a stream needs count or
//     start_time (end_time defaults to now), filters on sources[] with '*'
//     wildcards, and answers events as [{"source": [...], "unassigned":
//     [...]}], one object (possibly empty) in a list. A link with a rel the
//     event already has is 422 on POST .../links and 400 inside links.
//   - Space names are unique, compared exactly; a duplicate is 422 on
//     create and rename.
//   - Duplicates: 422 with errors.params naming the field. Missing objects,
//     including non-numeric ids and objects of another account: 404 with
//     errors.request.
//   - Usage and MinimalRole count authenticated calls that reached an
//     endpoint, whatever their outcome; failed authentication, unknown
//     paths and injected faults are not counted.
//   - The journal and WithLogger see every request but control-plane
//     ones: path without the query (which may hold anything), the route
//     template, status (0 when none was sent: a dropped connection, a
//     client gone during the latency wait), the token's name and role,
//     duration and, from 400 on, the error body the client got.
//
// Not implemented: service-side aggregation (attributes.aggregate is
// stored, not applied), rollups and the "resolution not available" error,
// the undocumented parts of the composite language (string escapes,
// functions beyond the documented list, dynamic "%" tags filled in by a
// chart or dashboard), tag cardinality limits, of the legacy API
// source_tag, the batch update's exclude, the too-far-in-the-past
// measure_time error and per-measurement error reporting (none is
// documented), and legacy reads of composite metrics (400),
// the HTTPS requirement (the mock speaks plain HTTP on loopback),
// credentials in the URL (clients move them to the Authorization header
// anyway), legacy v1 alerts beyond the version filter, and alert
// evaluation.
//
// # Seed format
//
// WithSeed (and the librato-mock command's -seed flag, through
// LoadSeedFile) fills the default account at start. The JSON object has
// optional sections; every object is the body of the API request that
// creates it and is validated the same way:
//
//	{
//	  "tokens":       [{"name": "ci", "role": "viewer", "token": "fixed-secret"}],
//	  "metrics":      [{"name": "cpu", "type": "gauge", "period": 60,
//	                    "attributes": {"display_units_short": "%"}}],
//	  "measurements": [{"name": "cpu", "value": 42, "time": -60, "tags": {"host": "web1"}}],
//	  "services":     [{"title": "Ops mail", "type": "mail",
//	                    "settings": {"addresses": "ops@example.com"}}],
//	  "spaces":       [{"name": "Ops", "charts": [{"name": "CPU", "type": "line",
//	                    "streams": [{"metric": "cpu"}]}]}],
//	  "alerts":       [{"name": "cpu.high", "services": ["Ops mail"], "firing": false,
//	                    "conditions": [{"type": "above", "metric_name": "cpu", "threshold": 90}]}],
//	  "annotations":  [{"name": "deploys", "display_name": "Deploys",
//	                    "events": [{"title": "v1.2", "start_time": -3600}]}]
//	}
//
// tokens get the given secret (generated when left out); metrics are PUT
// /v1/metrics/:name bodies with the name added; measurements are
// measurements of one POST /v1/measurements; a time (or an event's
// start_time) of 0 or less is relative to the server's start (-60 is a
// minute earlier), so seeded data stays recent and queryable with a
// duration. Alerts name seeded services by title
// (or id). Unknown top-level sections are an error. POST /mock/seed takes
// the same JSON while the server runs.
//
// Go tests may write the seed with the SDK's own types instead:
// WithTypedSeed(&TypedSeed{Metrics: []librato.Metric{...}, Spaces:
// []SeedSpace{{Space: librato.Space{Name: "Ops"}, Charts: ...}}, ...})
// encodes each value as the SDK sends it and goes through the same
// validation. Only WithSeed's (or WithTypedSeed's) seed is part of the
// state Reset returns to.
package mock
