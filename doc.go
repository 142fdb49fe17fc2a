// Package librato is a typed client for every endpoint of the Librato
// Metrics API v1 that knows the role of the token it holds.
//
// Build one Client per token and share it; it is safe for concurrent use:
//
//	c, err := librato.NewClient(email, token, librato.WithRole(librato.RoleRecordOnly))
//
// The Client has one service per resource family (Measurements, Metrics,
// Alerts, Annotations, APITokens, Spaces, Charts, Services, Jobs,
// Snapshots). Methods take a context first, then path parameters, then the
// body or options. List returns one page; All returns an iter.Seq2 that
// pages until everything found was yielded.
//
// # Roles and the guard
//
// Librato tokens carry one of three roles: Full Access ("admin"), Record
// Only ("recorder") and View Only ("viewer"). Declare the token's role with
// WithRole and the client checks every call against an embedded permission
// matrix (see Permissions and Permitted) before anything is built or sent:
// a call the role may not make returns *ErrForbiddenForRole and makes no
// network call. Without WithRole nothing is guarded and the server decides.
// Full Access is never refused. Rows Librato publishes are always enforced;
// rows whose roles are inferred, and paths the matrix does not know, go to
// the server unless the client was built WithStrictGuard. DetectRole tells
// which role a token really has.
//
// # Errors and retries
//
// A non-2xx answer is an *APIError carrying the API's errors.params,
// errors.request and errors.system, the rate-limit headers, and the number
// of attempts; test it with errors.Is against ErrNotFound, ErrUnauthorized,
// ErrForbidden, ErrRateLimited and the other sentinels. Input the API is
// documented to reject is a *ValidationError before sending. Network
// errors, 429 and 5xx are retried with capped exponential backoff and
// jitter, honouring Retry-After, for calls that are safe to repeat: GET,
// PUT, DELETE, and POST /v1/measurements.
//
// # Agents
//
// MeasurementsService.NewBatcher batches measurements from many goroutines
// and keeps them until the server accepted or rejected them for good;
// NewAggregator rolls raw samples up into summary measurements per period.
//
// # Security
//
// The token never appears in an error, a log record, or any fmt rendering
// of a Client or an APIToken. Plain http is refused except to loopback
// hosts (the mock server), TLS verification is on, the default HTTP client
// has timeouts, and redirects to another host drop the Authorization
// header. Path parameters are escaped as single segments, so no input can
// reach another endpoint.
//
// # Testing
//
// Package mock is a stateful, in-memory Librato API for tests: it enforces
// the same matrix on the server side, validates like the API, and offers
// fault injection and an in-process transport.
package librato

//go:generate go run ./internal/readmegen
