// Package librato is a typed client for every endpoint of the Librato
// Metrics API v1 that knows the role of the token it holds.
//
// Build one Client per token and share it; it is safe for concurrent use:
//
//	c, err := librato.NewClient(email, token, librato.WithRole(librato.RoleRecordOnly))
//
// # One shape per operation
//
// The Client has one service per resource family: Measurements, Metrics,
// Alerts, Annotations, APITokens, Spaces, Charts, Services, Jobs,
// Snapshots, Sources, and Legacy for the source-based calls. Every method
// takes a context first, then the path parameters in path order, then the
// body or the options, and every operation has one shape in every family:
//
//   - List(ctx, [parents,] opts) (*XPage, error) returns one page, All(ctx,
//     [parents,] opts) iter.Seq2[X, error] every item, page after page.
//     Offset-paged lists take *ListOptions (AlertListOptions embeds it);
//     the time-paged reads of measurements take their query type.
//   - Get(ctx, ids...) (*X, error).
//   - Create(ctx, [parents,] *X) (*X, error) takes the resource itself and
//     returns what the API returns, with the id filled in.
//   - Update(ctx, ids..., *XUpdate) error: nil fields of XUpdate are left
//     as they are; call Get for the stored object.
//   - Delete(ctx, ids...) error.
//   - No method returns a nil result with a nil error.
//
// The families, and which of the six operations each has (– where the API
// has no such endpoint), with its own methods:
//
//	family        List  All  Get  Create  Update  Delete  its own
//	Measurements  yes   yes  –    yes     –       –       Compose, NewBatcher
//	Metrics       yes   yes  yes  –       yes     yes     UpdateBatch, DeleteBatch
//	Alerts        yes   yes  yes  yes     yes     yes     Status, StatusAll, Clear, AddService, RemoveService
//	Annotations   yes   yes  yes  –       yes     yes     CreateEvent, GetEvent, UpdateEvent, DeleteEvent, AddLink, DeleteLink
//	APITokens     yes   yes  yes  yes     yes     yes     –
//	Spaces        yes   yes  yes  yes     yes     yes     –
//	Charts        yes   –    yes  yes     yes     yes     Series
//	Services      yes   yes  yes  yes     yes     yes     –
//	Sources       yes   yes  yes  –       yes     –       –
//	Jobs          –     –    yes  –       –       –       Wait
//	Snapshots     –     –    yes  yes     –       –       –
//	Legacy        yes   yes  –    yes     –       –       Compose, NewBatcher
//
// Measurements and Legacy list the series of one metric (List(ctx, name,
// query)), paged in time by the API's next links. Annotations list,
// get, update and delete streams; an event has its own methods. Charts
// take the space id first.
//
// Where the table has no Create, the API creates otherwise: a metric by
// Metrics.Update (PUT creates a metric that does not exist) or by its first
// measurement, an annotation stream by its first event. Charts.List returns
// []Chart and there is no Charts.All: the API answers every chart of a
// space as one array, without paging. Measurements.Create returns the
// API's summary of what it accepted; Legacy.Create returns only an error,
// since the API's answer has no body.
//
// Identifiers are fields (ID, JobID). Times follow the JSON: a time the API
// writes as epoch seconds is an int64 of epoch seconds (Measurement.Time,
// AnnotationEvent.StartTime), one it writes as text is a time.Time
// (APIToken.CreatedAt, Snapshot.EndTime); query and option types, which
// have no JSON, take time.Time and time.Duration. Optional fields are
// pointers: librato.Ptr(v) makes one. A number the API sends as a string
// decodes into a numeric field.
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
// which role a token really has, and the command librato-vet checks a
// program's calls against its declared role before it runs.
//
// # Errors and retries
//
// A non-2xx answer is an *APIError carrying the API's errors.params,
// errors.request and errors.system, the rate-limit headers, and the number
// of attempts; test it with errors.Is against ErrNotFound, ErrUnauthorized,
// ErrForbidden, ErrRateLimited and the other sentinels. Input the API is
// documented to reject is a *ValidationError before sending, and so is a
// path parameter that is empty, "." or "..", or holds '/', '\' or a control
// character (so a metric literally named ".." cannot be reached by name).
// No response at all is a *TransportError.
//
// Calls that are safe to repeat (GET, PUT, DELETE and the two measurement
// submissions, POST /v1/measurements and POST /v1/metrics) are retried, up
// to WithMaxAttempts in all, by one table, which the Batcher and the
// LegacyBatcher follow too (APIError.Temporary and TransportError.Temporary
// give its answer for an error):
//
//	what came back                                      retried
//	no response: refused, reset, timed out              yes
//	no response: certificate refused, redirect refused  no
//	408, 425, 429                                       yes
//	500, 502, 503, 504                                  yes
//	501 Not Implemented                                 no
//	403 whose X-Librato-RateLimit-Std or -Agg shows
//	    nothing remaining                               yes
//	any other 4xx                                       no
//	415 to a gzipped body                               sent again at once, plain,
//	                                                    even WithoutRetries; the client
//	                                                    then stops compressing
//
// Waits grow exponentially with jitter between the bounds of WithBackoff.
// A wait the server asks for (Retry-After, or the reset of an exhausted rate
// limit) replaces it, up to WithMaxRetryWait: a typed call asked to wait
// longer returns that answer at once, with RetryAfter set, so the caller
// decides; a batcher waits the maximum and tries again, so no answer can
// park it. A context that ends during a wait ends the call with the
// answer it was waiting on, unwrapping to the context's error.
//
// # Delivery guarantee
//
// Delivery of measurements is at least once. A request whose answer is
// lost (a timeout, a 502 from a gateway after the API stored the batch) is
// sent again, so the API may receive a measurement twice. It records it
// once when the measurement carries its time: the API keeps one sample per
// series (metric and tag set, or metric and source) and second, the later
// replacing the earlier, so the repeat rewrites the same sample. Give
// measurements a Time (the batchers stamp the time of Add), and a retry is
// safe. Two cases can still count twice: a measurement without a time,
// which the server stamps on receipt, and a metric with service-side
// aggregation (attribute aggregate), whose samples within a period are
// summed rather than replaced. No other POST is retried.
//
// # Agents
//
// Measurements.NewBatcher batches measurements from many goroutines and
// keeps them until the server accepted or rejected them for good;
// Legacy.NewBatcher does the same for source-based gauges and counters;
// NewAggregator rolls raw samples up into summary measurements per period.
// Request bodies go out gzipped (WithoutCompression turns it off), and the
// default transport keeps as many connections as a batcher's largest
// window, so a steady load opens no new ones.
//
// # Security
//
// The token never appears in an error, a log record, or any rendering of a
// Client, a batcher or an APIToken: the client holds it sealed, so even
// printers that walk values by reflection (a testify diff, %v of a
// struct) show noise. Plain http is refused except to loopback hosts (the
// mock server), TLS verification is on, and the default HTTP client has
// timeouts. Credentials go only to the base URL's origin and path, and a
// redirect that keeps them is classified by the guard again. Error texts
// escape the control characters a server sends, so they cannot forge log
// lines.
//
// # Testing
//
// Package mock is a stateful, in-memory Librato API for tests: it enforces
// the same matrix on the server side, validates like the API, and offers
// fault injection and an in-process transport.
package librato
