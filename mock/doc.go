// Package mock is a stateful, in-memory Librato Metrics API v1 server for
// testing integrations offline. It serves every endpoint of the SDK's
// permission matrix with the API's status codes, error bodies,
// authentication, token roles, validation and pagination, and adds hooks
// to inject failures and latency and to inspect what was recorded.
//
//	srv := mock.NewServer()
//	defer srv.Close()
//	c, err := srv.Client(librato.RoleRecordOnly) // fresh token, role declared, base URL set
//	...
//	got := srv.Recorded() // the measurements accepted, in order
//
// Credentials gives the account's email and a fresh token of a role to
// clients that are not the SDK (HTTP Basic, the email as user name and the
// token as password). Transport serves the same state in-process, without
// a socket; Server is also an http.Handler. Account makes further
// isolated accounts: a token of one account gets 401 with another's email,
// and no account sees another's objects. WithSeed fills the default
// account at start (Seed shows the format).
//
// # Hooks
//
// FailNext and InjectFault make the next requests fail, with a status, a
// Retry-After or a dropped connection, before they are handled or (Fault's
// After) once their write landed; SetLatency delays every request;
// SetRateLimits changes the hourly limits; SetJobDelay how soon jobs
// complete by themselves; SetGzip(false) refuses gzipped bodies with 415;
// FireAlert triggers an alert.
// Recorded, RecordedCount and Account's RecordedMatching, Annotations and
// FiredAlerts show what an integration sent; Journal lists the requests
// answered; Usage, MinimalRole, MinimalRoleOf and UsageReport report, per
// token, the matrix rows it called and the least privileged role that
// covers them. Reset puts everything back as it started. WithLogger logs
// every request.
//
// # Control plane
//
// The hooks are served over HTTP under /mock/ too, for tests in any
// language and for the librato-mock command; each request calls the Go
// method named beside it. Requests carry Authorization: Bearer
// <ControlToken()> (an API token gets 401 there, as the control token does
// on /v1); bodies and answers are JSON, errors {"errors":{"request":[...]}}
// with 400, 401, 404 or 405. Requests that read an account take
// ?account=EMAIL (the default account without it). Control requests are
// never delayed, faulted, rate limited, counted, journaled or logged.
//
//	POST   /mock/reset            204  Reset
//	POST   /mock/seed             204  Account.Apply of a JSON seed (400 names the bad object)
//	POST   /mock/faults           204  InjectFault {"count":N,"status":S,"retry_after":secs,"method":"POST","endpoint":"/v1/measurements",
//	                                   "drop":false,"after":false}; with "after" the request is handled first (its write
//	                                   lands) and its answer replaced by the status or the dropped connection
//	GET    /mock/faults           200  Faults: {"faults":[...]} with what is left of each count
//	DELETE /mock/faults           204  ClearFaults
//	PUT    /mock/latency          204  SetLatency {"ms":N}
//	GET    /mock/latency          200  Latency: {"ms":N}
//	PUT    /mock/ratelimits       204  SetRateLimits {"agg":N,"std":M} (either may be left out)
//	GET    /mock/ratelimits       200  RateLimits: {"agg":N,"std":M}
//	PUT    /mock/jobs             204  SetJobDelay {"delay_ms":N}: jobs queued from now on complete by themselves N ms
//	                                   after, read or not; 0: only their reads complete them
//	GET    /mock/jobs             200  JobDelay, JobSteps: {"delay_ms":N,"steps":S}
//	PUT    /mock/encodings        204  SetGzip {"gzip":false}: 415 with errors.request to any request whose
//	                                   Content-Encoding is gzip; {"gzip":true} takes them again
//	GET    /mock/encodings        200  Gzip: {"gzip":true}
//	GET    /mock/recorded         200  RecordedMatching: {"measurements":[{"name","tags","time","value",...}]}
//	                                   filtered by ?metric=NAME&tags[k]=v&start_time=T&end_time=T
//	GET    /mock/annotations      200  Annotations: {"annotations":[{"stream","display_name","id","title",...}]}, ?stream=NAME
//	GET    /mock/alerts/fired     200  FiredAlerts: {"alerts":[{"id","name","firing","triggered_at","cleared_at"}]}
//	POST   /mock/alerts/:id/fire  204  FireAlert (404 for no such alert)
//	GET    /mock/journal          200  Journal: {"requests":[{"time","method","path","endpoint","status",
//	                                   "token_name","role","duration_ms","error","injected","content_encoding",
//	                                   "notes"}]}, oldest first; notes say what was accepted by choice
//	DELETE /mock/journal          204  ClearJournal
//	GET    /mock/usage            200  UsageReport: {"tokens":[{"account","token_name","role","minimal_role",
//	                                   "endpoints":[{"method","endpoint","calls"}]}]}, in order of first use
//
// Nothing the control plane answers, the journal or the log holds a token.
//
// # What a request meets
//
// Latency, faults, the gzip switch (SetGzip), authentication (401), the
// rate limits (429; every answer carries X-Librato-RateLimit-Agg and
// -Std), routing by the endpoint table (404), the role of the row (403
// naming the role), then the endpoint: 400 with errors.params keyed by
// field for invalid input, 413 above WithMaxBodyBytes, 415 for a content
// type or encoding it does not take. Writes take JSON or Rails-style
// forms, plain or gzipped once (a second coding is 415). How each
// endpoint answers where the API's documentation is silent is written
// beside its handler in mock/internal/api; the measurement store, the
// reads and the composite language are mock/internal/tsdb's. The mock
// speaks plain HTTP on loopback and takes credentials only in the
// Authorization header. Where the mock cannot tell what the API does, it
// accepts what real clients send: a client that works in production must
// not break in tests.
//
// # Authentication
//
// API requests take HTTP Basic credentials in one of three forms, each
// naming an active token of an account:
//
//	email:TOKEN    the account's email (any case) and the token, as the reference documents
//	token:TOKEN    the user name "token" and the token, as appoptics-api-go's Client sends it
//	TOKEN:         the token as user name and an empty password, as appoptics-api-go's
//	               legacy SimpleClient (and curl -u TOKEN:) sends it
//
// Everything else is 401 with errors.request saying what is expected: no
// Authorization header; a scheme other than Basic (a bearer token, the
// control token included, or an API token); a token that is unknown,
// deactivated or deleted; an account's email with another account's
// token; the user name "token" with an empty password, or "Token" in
// another case; an email with an empty password; the token as user name
// with any non-empty password ("TOKEN:x", "TOKEN:TOKEN"); and, in the two
// token-only forms, a token secret two accounts share (a fixed seed
// token), which names no account. The control plane takes
// only Authorization: Bearer <ControlToken()>.
//
// # Times
//
// Every time the API stores (a measurement's time and its batch's, the
// legacy measure_time, annotation start_time and end_time, a snapshot's
// end_time) keeps one rule: epoch seconds from 1970-01-01T00:00:01Z to
// 2099-12-31T23:59:59Z, 400 on the field otherwise (which also catches
// milliseconds sent as seconds), on both readers of POST
// /v1/measurements and on the legacy route. The reference says "Unix
// time" without a type, and Node clients send Date.now()/1000 as it is,
// so a fraction is accepted and truncated to the second; a JSON number or
// a numeric string (forms) alike. A snapshot's end_time and the control
// plane's start_time and end_time also take ISO-8601. The one exception
// is a top-level "time": 0 on POST /v1/measurements, which reads as
// absent (each measurement's own time, else the time of receipt), as
// appoptics-api-go's BatchPersister sends it on every batch. A read's
// start_time and end_time take epoch seconds from 0, fractions truncated.
// The journal entry of a request notes each of these choices (Notes), so
// a test sees what its client relies on.
//
// # Measurements
//
// A series is a metric and a tag set (tags lower-cased), a legacy source
// S being the tag {"source": S}, so both routes write the same series.
// The store keeps one sample per series and second: a sample for a
// second the series already has replaces the earlier one (the last write
// wins), plain values and summaries (count, sum, min, max...) alike, and
// a legacy counter's repeat rewrites the same running total. So a
// repeated submission of measurements that carry their times, such as a
// retry after a lost answer (Fault's After), records nothing new; one
// without a time is stamped on receipt and may land in another second. A
// metric with the attribute aggregate (service-side aggregation) keeps
// every sample instead, which reads merge by their buckets, so there a
// repeat counts twice. Recorded and GET /mock/recorded list every
// measurement accepted, a repeat too, in acceptance order: they show what
// was delivered, the reads what is stored.
//
// Tagged measurements are gauges. A measurement for a metric of another
// type (a tagged one, or a legacy gauge, for a legacy counter; a legacy
// counter for a gauge; anything for a composite) is a type conflict: the
// payload is refused whole (400, nothing stored), and errors.params.type
// names every metric in conflict as the API does and statsd's Librato
// backend parses it to stop sending that metric:
// "'NAME' is a counter, but was submitted as different type".
//
// # Jobs
//
// Batch updates and deletes of metrics and snapshots are jobs (202 with
// Location /v1/jobs/:id). A job completes on its DefaultJobSteps-th read
// (the first answers "working") or by itself WithJobDelay
// (DefaultJobDelay, a second) after it was queued, whichever comes first:
// its change is made on the account's first request after that moment,
// so a client that never polls still sees the metrics go. WithJobSteps
// pins the number of reads and turns the delay off, so jobs step only
// when read and a test that watches them is deterministic; SetJobDelay
// (PUT /mock/jobs) changes the delay of the jobs queued after it.
//
// State grows with what tests send, and Reset takes it back to the seed.
// Bounded: the journal (WithJournalSize entries, WithJournalBytes of text,
// JournalFieldBytes of each path and error), an account's jobs (1,000,
// the oldest finished ones forgotten first), the usage records of deleted
// tokens, slow connections (WithTimeouts), a body's codings (one), and a
// read's name and tag filters (patterns of 1,024 bytes, a tags_search of
// 4,096, and a fixed amount of matching per request, past which the read
// is 400).
package mock
