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
// (Retry-After on 429 and 503, see WithRetryAfter); SetLatency and
// WithLatency delay every request, ending early when the request's context
// ends or the server closes; FireAlert triggers an alert; Recorded and
// RecordedCount show accepted measurements; Usage and MinimalRole report,
// per token, the matrix rows it called (refused calls included) and the
// least privileged role that covers them.
//
// # Behaviour
//
// Every request gets the X-Librato-RateLimit-Agg and -Std headers
// ("limit=N,remaining=M,reset=EPOCH"). Agg counts measurement submissions,
// Std every other authenticated request, per account per clock hour;
// WithRateLimits sets the limits, beyond which requests get 429.
//
// A request is handled in this order: latency, FailNext, authentication (401),
// rate limit (429), routing (404 for unknown paths and methods), role
// (403 naming the role; the role check uses librato.LookupPermission on
// the routed path, all rows, inferred roles of unlisted rows included),
// body size (413 above WithMaxBodyBytes, 3 MiB by default), content type
// (415), body syntax (400 with errors.request), then the endpoint, whose
// invalid input gets 400 with errors.params keyed by field: "name" at the
// top level, "measurements[2].name" or "conditions[0].duration" inside
// lists, "attributes.color" inside objects.
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
// POST /v1/measurements takes application/json only.
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
//     names and tags as the client sent them.
//   - GET /v1/measurements/:name: a missing metric is 404. start_time with
//     duration and no end_time means [start, start+duration]. Points with
//     start <= time <= end are bucketed by floor(time/resolution)*resolution.
//     summary_function defaults to the metric's summarize_function
//     (average reads as mean); derivative is the change from the previous
//     bucket (the first bucket has none); stddev is the population standard
//     deviation of the bucket's samples; all adds count, sum, min, max and
//     stddev to each point, whose value is the mean. group_by merges
//     per-stream bucket values with group_by_function. Series without points
//     in the window are left out; series are ordered by their tag pairs.
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
//   - GET /v1/measurements?compose=... evaluates only
//     s("metric", {"tag":"pattern",...} or "*" [, "average"|"sum"|"min"|"max"|"count"]),
//     answering the documented bare array; anything else is 400 on compose.
//     A persisted composite metric with such a definition can be queried
//     through GET /v1/measurements/:name (without tags, as documented).
//   - PUT /v1/metrics/:name needs type to create a metric (400 otherwise);
//     on update, attributes sent are merged into the stored ones, and an
//     attribute sent as null is removed. Metrics list and spaces order by
//     name (the only orderby); API tokens order by created_at (default) or
//     name; services by title (default) or updated_at; alerts by
//     updated_at.
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
//     it to the status endpoint's cleared list.
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
//     endpoint, whatever their outcome; failed authentication and unknown
//     paths are not counted.
//
// Not implemented: service-side aggregation (attributes.aggregate is
// stored, not applied), rollups and the "resolution not available" error,
// composite functions other than a single s(), tag cardinality limits,
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
// (or id). Unknown top-level sections are an error.
package mock
