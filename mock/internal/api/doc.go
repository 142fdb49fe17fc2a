// Package api is the Librato API the mock serves: one handler for each
// row of the endpoint table (internal/endpoints), and the state of an
// account (tokens, spaces, charts, alerts, services, annotations, jobs,
// snapshots, sources, and a tsdb.Store for metrics and measurements).
// The harness, package mock, authenticates a request, applies the rate
// limits, routes it with a Router and checks the role against the row;
// Account.Serve does the rest, with the account locked.
//
// # A routed request
//
// Path parameters, query parameters and every string of a body (keys
// included) must be valid UTF-8, and a JSON escape of an unpaired UTF-16
// surrogate ("\udcff") is refused too: 400 with errors.params naming the
// field. Decoders would otherwise read each as U+FFFD, so "%FF" and "%FE"
// would name the same object. Seeds are checked the same way.
//
// Paths are split into segments while still escaped, and each segment is
// unescaped on its own: /v1/metrics/a%2Fb names the metric "a/b" and
// /v1/metrics/%2E%2E the metric "..". There is no path cleaning and no
// redirect; an empty segment (a trailing or double slash) is a 404.
//
// Bodies may be sent with Content-Encoding: gzip (or x-gzip; identity is
// no encoding), as appoptics-api-go sends every body, GETs included (an
// empty body stays empty). They are decompressed where the body is read,
// once for every endpoint, and the size limit (Env.MaxBody) applies to the
// decompressed bytes, so a small gzip bomb gets 413; a body that does not
// decompress is 400, any other encoding, or a second coding, 415.
//
// Writes accept application/json, or application/x-www-form-urlencoded
// with Rails' bracket nesting: attributes[display_min]=0, names[]=a,
// links[0][rel]=x, settings[room]=Ops, conditions[0][tags][0][values][]=v.
// Form values are strings; numeric and boolean fields accept them. A write
// with a body and no Content-Type is read as a form, the API's default.
// POST /v1/measurements takes application/json only; the legacy POST
// /v1/metrics takes both. Then the handler runs: invalid input gets 400
// with errors.params keyed by field, "name" at the top level,
// "measurements[2].name" or "conditions[0].duration" inside lists,
// "attributes.color" inside objects.
//
// Time fields keep tsdb's one rule (tsdb.ValidTime): epoch seconds
// between 1970-01-01T00:00:01Z and 2099-12-31T23:59:59Z (400 otherwise,
// which also catches milliseconds sent as seconds), as a JSON number or,
// as forms carry them, a numeric string, a fraction truncated to the
// second (the reference gives no integer rule, and clients send
// Date.now()/1000). A snapshot's end_time (and the control plane's
// start_time and end_time) also take an ISO-8601 time: RFC 3339 with an
// offset or a fraction, the same without a zone (UTC), or a date
// (midnight UTC). POST /v1/measurements reads a top-level time of 0 as
// absent, as appoptics-api-go's BatchPersister sends it. A read's
// start_time and end_time are epoch seconds from 0, fractions truncated.
//
// A read's filters are bounded before they cost anything: a name, source
// or tag pattern longer than tsdb.MaxPattern, or a tags_search longer
// than tsdb.MaxSearch, is 400 on its parameter, and one request's
// matching spends a tsdb.Budget, past which it is 400 with errors.request
// instead of a partial list.
//
// # Choices where the API documentation is silent
//
// Each handler's comment says how it answers where the documentation is
// silent or ambiguous. Across them: a duplicate is 422 with errors.params
// naming the field; a missing object, a non-numeric id and an object of
// another account are 404 with errors.request.
//
// Not implemented: service-side aggregation beyond keeping every sample
// of a metric with attributes.aggregate (no merging into its period),
// rollups and the "resolution not available" error,
// the undocumented parts of the composite language (string escapes,
// functions beyond the documented list, dynamic "%" tags filled in by a
// chart or dashboard), tag cardinality limits, the legacy API's
// source_tag, the batch update's exclude, the too-far-in-the-past
// measure_time error and per-measurement error reporting (none is
// documented), legacy reads of composite metrics (400), legacy v1 alerts
// beyond the version filter, and alert evaluation.
package api
