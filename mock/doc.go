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
// Retry-After or a dropped connection; SetLatency delays every request;
// SetRateLimits changes the hourly limits; FireAlert triggers an alert.
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
// Nothing the control plane answers, the journal or the log holds a token.
//
// # What a request meets
//
// Latency, faults, authentication (401), the rate limits (429; every
// answer carries X-Librato-RateLimit-Agg and -Std), routing by the
// endpoint table (404), the role of the row (403 naming the role), then
// the endpoint: 400 with errors.params keyed by field for invalid input,
// 413 above WithMaxBodyBytes, 415 for a content type or encoding it does
// not take. Writes take JSON or Rails-style forms, gzipped or not. How
// each endpoint answers where the API's documentation is silent is
// written beside its handler in mock/internal/api; the measurement store,
// the reads and the composite language are mock/internal/tsdb's. The mock
// speaks plain HTTP on loopback and takes credentials only in the
// Authorization header.
//
// State grows with what tests send, and Reset takes it back to the seed.
// Bounded: the journal (WithJournalSize), an account's jobs (1,000, the
// oldest finished ones forgotten first), the usage records of deleted
// tokens, and slow connections (WithTimeouts).
package mock
