package mock

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	librato "github.com/librato-sdk/librato-go"
	"github.com/librato-sdk/librato-go/internal/endpoints"
	"github.com/librato-sdk/librato-go/mock/internal/api"
)

// Defaults of the options.
const (
	// DefaultEmail is the email of the account NewServer creates.
	DefaultEmail = "mock@example.com"
	// DefaultMaxBodyBytes is the largest request body accepted (3 MiB, as
	// Librato's support describes); a larger one gets 413.
	DefaultMaxBodyBytes = 3 << 20
	// DefaultJobSteps is how many reads a job takes to complete: the first
	// read answers "working", the second "complete".
	DefaultJobSteps = 2
	// DefaultJobDelay is how long after it was queued a job completes by
	// itself, read or not, unless its reads completed it first; see
	// WithJobDelay.
	DefaultJobDelay = time.Second
	// DefaultSeriesPageSize is how many series one measurements query
	// returns before it adds a "next" link.
	DefaultSeriesPageSize = 100
	// DefaultRateLimit is the hourly limit of each rate-limit header.
	DefaultRateLimit = 1_000_000
	// DefaultJournalSize is how many requests the journal keeps (the most
	// recent ones); see WithJournalSize.
	DefaultJournalSize = 1000
	// DefaultJournalBytes bounds the text the journal keeps, 4 MiB; see
	// WithJournalBytes.
	DefaultJournalBytes = 4 << 20
	// DefaultReadHeaderTimeout, DefaultReadTimeout and DefaultIdleTimeout
	// bound how long a connection may take to send its headers, its whole
	// request, and how long an idle keep-alive connection stays open; see
	// WithTimeouts. They are far above what a test needs.
	DefaultReadHeaderTimeout = 10 * time.Second
	DefaultReadTimeout       = 60 * time.Second
	DefaultIdleTimeout       = 120 * time.Second
)

// Option configures a Server in New or NewServer.
type Option func(*config) error

type config struct {
	addr       string
	latency    time.Duration
	email      string
	maxBody    int64
	seed       *Seed
	retryAfter int
	jobSteps   int
	jobDelay   time.Duration
	stepsSet   bool // WithJobSteps pinned the steps
	delaySet   bool
	seriesPage int
	legacyPage int
	aggLimit   int
	stdLimit   int

	journalSize  int
	journalBytes int64
	noGzip       bool
	logger       *slog.Logger
	controlToken string
	readHeader   time.Duration
	read         time.Duration
	idle         time.Duration
}

// WithAddr makes the server listen on addr ("127.0.0.1:8080") instead of a
// random loopback port.
func WithAddr(addr string) Option {
	return func(c *config) error { c.addr = addr; return nil }
}

// WithLatency delays every request by d before it is handled, as a slow
// network would; the wait ends early when the request's context ends or
// the server closes. SetLatency changes it later.
func WithLatency(d time.Duration) Option {
	return func(c *config) error {
		if d < 0 {
			return fmt.Errorf("mock: WithLatency(%v): latency may not be negative", d)
		}
		c.latency = d
		return nil
	}
}

// WithEmail sets the email of the server's default account (DefaultEmail
// otherwise); Basic auth needs it as the user name.
func WithEmail(email string) Option {
	return func(c *config) error {
		email = strings.TrimSpace(email)
		if email == "" || strings.Contains(email, ":") {
			return fmt.Errorf("mock: WithEmail(%q): need a non-empty email without ':'", email)
		}
		c.email = email
		return nil
	}
}

// WithMaxBodyBytes sets the largest request body accepted (default
// DefaultMaxBodyBytes); larger bodies get 413 with the API's error body.
func WithMaxBodyBytes(n int64) Option {
	return func(c *config) error {
		if n <= 0 {
			return fmt.Errorf("mock: WithMaxBodyBytes(%d): need a positive size", n)
		}
		c.maxBody = n
		return nil
	}
}

// WithSeed fills the default account with the seed's objects when the
// server starts; an invalid seed makes New fail.
func WithSeed(s *Seed) Option {
	return func(c *config) error { c.seed = s; return nil }
}

// WithRetryAfter sets the Retry-After header, in seconds, of the 429 and
// 503 answers faults inject without a RetryAfter of their own (default 0,
// so retrying clients stay fast).
func WithRetryAfter(seconds int) Option {
	return func(c *config) error {
		if seconds < 0 {
			return fmt.Errorf("mock: WithRetryAfter(%d): may not be negative", seconds)
		}
		c.retryAfter = seconds
		return nil
	}
}

// WithJobSteps pins how many GETs of a job it takes to complete (default
// DefaultJobSteps): reads before the n-th answer "working"; the n-th
// performs the change and answers "complete" (or "failed"). 0 completes
// jobs when they are created. Pinned jobs step only when read, never by
// time, so a test that watches them is deterministic; New fails if
// WithJobDelay asks for a delay too.
func WithJobSteps(n int) Option {
	return func(c *config) error {
		if n < 0 {
			return fmt.Errorf("mock: WithJobSteps(%d): may not be negative", n)
		}
		c.jobSteps, c.stepsSet = n, true
		return nil
	}
}

// WithJobDelay sets how long after it was queued a job (a batch update or
// delete of metrics, a snapshot) completes by itself, read or not
// (default DefaultJobDelay), as the API's workers finish jobs nobody
// polls; its DefaultJobSteps-th read still completes it sooner. 0 leaves
// jobs to their reads. SetJobDelay changes it later.
func WithJobDelay(d time.Duration) Option {
	return func(c *config) error {
		if d < 0 {
			return fmt.Errorf("mock: WithJobDelay(%v): may not be negative", d)
		}
		c.jobDelay, c.delaySet = d, true
		return nil
	}
}

// WithSeriesPageSize sets how many series one GET /v1/measurements/:name
// answer holds before a "next" link is added (default
// DefaultSeriesPageSize); small values let tests exercise pagination.
func WithSeriesPageSize(n int) Option {
	return func(c *config) error {
		if n <= 0 {
			return fmt.Errorf("mock: WithSeriesPageSize(%d): need a positive size", n)
		}
		c.seriesPage = n
		return nil
	}
}

// WithRateLimits sets the hourly limits reported and enforced per account
// and clock hour: agg counts measurement submissions (POST
// /v1/measurements and the legacy POST /v1/metrics), std every other
// authenticated request. Every answer carries them in the
// X-Librato-RateLimit-Agg and -Std headers
// ("limit=N,remaining=M,reset=EPOCH"); a request over its limit gets 429
// with a Retry-After up to the end of the hour. Both default to
// DefaultRateLimit.
func WithRateLimits(agg, std int) Option {
	return func(c *config) error {
		if agg <= 0 || std <= 0 {
			return fmt.Errorf("mock: WithRateLimits(%d, %d): need positive limits", agg, std)
		}
		c.aggLimit, c.stdLimit = agg, std
		return nil
	}
}

// WithJournalSize sets how many requests the journal keeps (default
// DefaultJournalSize): the most recent ones, oldest first, see Journal.
// 0 keeps none; WithLogger still sees every request.
func WithJournalSize(n int) Option {
	return func(c *config) error {
		if n < 0 {
			return fmt.Errorf("mock: WithJournalSize(%d): may not be negative", n)
		}
		c.journalSize = n
		return nil
	}
}

// WithGzip sets whether the server takes gzipped request bodies (by
// default it does). With false, any request whose Content-Encoding is
// gzip gets 415 with errors.request, as a server or proxy that does not
// decompress answers, so a client's fallback to plain bodies can be
// tested; SetGzip changes it later.
func WithGzip(accept bool) Option {
	return func(c *config) error { c.noGzip = !accept; return nil }
}

// WithJournalBytes bounds the text the journal keeps (default
// DefaultJournalBytes): past it, the oldest entries go first, so requests
// with long paths or error bodies cannot fill memory or slow GET
// /mock/journal down. Each entry keeps at most JournalFieldBytes of its
// path and of its error. 0 keeps none.
func WithJournalBytes(n int64) Option {
	return func(c *config) error {
		if n < 0 {
			return fmt.Errorf("mock: WithJournalBytes(%d): may not be negative", n)
		}
		c.journalBytes = n
		return nil
	}
}

// WithLogger logs every request the API answers (control-plane requests
// excepted) as one Info record with the journal entry's fields: method,
// path, endpoint, status, token_name, role, duration_ms, error (the error
// body the client got), injected and content_encoding, the path and the
// error cut at JournalFieldBytes. It never logs a token, a query string
// or a request body.
func WithLogger(l *slog.Logger) Option {
	return func(c *config) error { c.logger = l; return nil }
}

// WithControlToken fixes the control plane's bearer token (see
// ControlToken) instead of a random one, for setups that must know it in
// advance. It needs 16 to 256 printable ASCII characters without spaces.
func WithControlToken(token string) Option {
	return func(c *config) error {
		if len(token) < 16 || len(token) > 256 || strings.IndexFunc(token, func(r rune) bool { return r <= ' ' || r > '~' }) >= 0 {
			return errors.New("mock: WithControlToken: need 16 to 256 printable ASCII characters without spaces")
		}
		c.controlToken = token
		return nil
	}
}

// WithTimeouts sets the socket server's limits: how long a client may take
// to send a request's headers (readHeader), its whole request body
// included (read), and how long an idle keep-alive connection stays open
// (idle). 0 means no limit. The defaults (DefaultReadHeaderTimeout,
// DefaultReadTimeout, DefaultIdleTimeout) never hurt a test but stop
// stalled connections from piling up. Latency waits do not count against
// read; a latency longer than read makes reading the body fail.
func WithTimeouts(readHeader, read, idle time.Duration) Option {
	return func(c *config) error {
		if readHeader < 0 || read < 0 || idle < 0 {
			return fmt.Errorf("mock: WithTimeouts(%v, %v, %v): may not be negative", readHeader, read, idle)
		}
		c.readHeader, c.read, c.idle = readHeader, read, idle
		return nil
	}
}

// Server is the in-memory Librato API. It is safe for concurrent use.
//
// The methods an Account has too (Email, Credentials, Client, Recorded,
// RecordedCount, FireAlert) work on the default account. They are on
// Server because most tests use that account alone, and because, unlike
// an *Account a test keeps, they follow the new default account after a
// Reset.
type Server struct {
	cfg    config
	router *api.Router
	env    *api.Env // what the accounts share

	ln        net.Listener
	hs        *http.Server
	url       string
	serveDone chan struct{}

	requests atomic.Int64
	latency  atomic.Int64 // nanoseconds
	noGzip   atomic.Bool  // SetGzip(false)
	aggLimit atomic.Int64 // the rate limits in force (SetRateLimits)
	stdLimit atomic.Int64

	faultMu sync.Mutex
	faults  []*pendingFault

	journal journal
	control controlState

	closing   chan struct{}
	closeOnce sync.Once

	mu       sync.Mutex // guards closed, accounts
	closed   bool
	inflight sync.WaitGroup
	accounts map[string]*Account
	def      atomic.Pointer[Account]
	seed     *Seed // the seed, generated token secrets filled in, for Reset

	usageMu      sync.Mutex // guards usage, usageSweepAt; taken before an account's lock, never after
	usage        map[string]*usageRecord
	usageSeq     int64
	usageSweepAt int
}

// NewServer starts a server on a random loopback port. Like
// httptest.NewServer it panics if it cannot listen or an option is
// invalid; use New to get the error instead. Close it when done.
func NewServer(opts ...Option) *Server {
	s, err := New(opts...)
	if err != nil {
		panic(err.Error())
	}
	return s
}

// New starts a server like NewServer and returns an error where NewServer
// would panic: an invalid option or seed, or an address it cannot listen
// on. It exists for the callers that must report those rather than
// crash: the librato-mock program (its -addr may name a port in use) and
// tests that build options from input.
func New(opts ...Option) (*Server, error) {
	cfg := config{
		addr:       "127.0.0.1:0",
		email:      DefaultEmail,
		maxBody:    DefaultMaxBodyBytes,
		jobSteps:   DefaultJobSteps,
		jobDelay:   DefaultJobDelay,
		seriesPage: DefaultSeriesPageSize,
		legacyPage: DefaultLegacyPageSize,
		aggLimit:   DefaultRateLimit,
		stdLimit:   DefaultRateLimit,

		journalSize:  DefaultJournalSize,
		journalBytes: DefaultJournalBytes,
		readHeader:   DefaultReadHeaderTimeout,
		read:         DefaultReadTimeout,
		idle:         DefaultIdleTimeout,
	}
	for _, o := range opts {
		if o == nil {
			continue
		}
		if err := o(&cfg); err != nil {
			return nil, err
		}
	}
	if cfg.controlToken == "" {
		cfg.controlToken = api.NewSecret()
	}
	if cfg.stepsSet {
		if cfg.delaySet && cfg.jobDelay > 0 {
			return nil, fmt.Errorf("mock: WithJobSteps and WithJobDelay(%v): pinned steps complete jobs only when read; pick one", cfg.jobDelay)
		}
		cfg.jobDelay = 0
	}
	rt, err := api.NewRouter(endpoints.All)
	if err != nil {
		return nil, err
	}
	s := &Server{
		cfg:          cfg,
		router:       rt,
		closing:      make(chan struct{}),
		serveDone:    make(chan struct{}),
		accounts:     make(map[string]*Account),
		usage:        make(map[string]*usageRecord),
		usageSweepAt: usageSweepEvery,
		journal:      journal{size: cfg.journalSize, maxBytes: cfg.journalBytes},
	}
	s.control.init()
	s.latency.Store(int64(cfg.latency))
	s.noGzip.Store(cfg.noGzip)
	s.aggLimit.Store(int64(cfg.aggLimit))
	s.stdLimit.Store(int64(cfg.stdLimit))
	s.env = &api.Env{
		MaxBody: cfg.maxBody, JobSteps: cfg.jobSteps, SeriesPage: cfg.seriesPage,
		LegacyPage: cfg.legacyPage, ControlToken: cfg.controlToken,
	}
	s.env.SetJobDelay(cfg.jobDelay)
	def := s.Account(cfg.email)
	s.def.Store(def)
	if cfg.seed != nil {
		seed := cfg.seed.clone()
		if err := seed.applyTo(def.st); err != nil {
			return nil, fmt.Errorf("mock: seed: %w", err)
		}
		s.seed = seed
	}
	ln, err := net.Listen("tcp", cfg.addr)
	if err != nil {
		return nil, fmt.Errorf("mock: listening on %s: %w", cfg.addr, err)
	}
	s.ln = ln
	s.url = "http://" + ln.Addr().String()
	s.hs = &http.Server{
		Handler:           s,
		ReadHeaderTimeout: cfg.readHeader,
		ReadTimeout:       cfg.read,
		IdleTimeout:       cfg.idle,
		// A client that hangs up or times out is the client's business; the
		// standard logger would print it to stderr.
		ErrorLog: log.New(io.Discard, "", 0),
	}
	go func() {
		defer close(s.serveDone)
		_ = s.hs.Serve(ln)
	}()
	return s, nil
}

// URL is the server's base URL, such as "http://127.0.0.1:41234"; pass it
// to librato.WithBaseURL.
func (s *Server) URL() string { return s.url }

// Email is the default account's email, the Basic-auth user name; see
// Server on the default account's methods.
func (s *Server) Email() string { return s.def.Load().Email() }

// Credentials creates a fresh active API token of role in the default
// account and returns the account's email and the token (part of the
// fixed contract; see Server on the default account's methods).
// An invalid role returns an empty token.
func (s *Server) Credentials(role librato.Role) (email, token string) {
	return s.def.Load().Credentials(role)
}

// Client returns an SDK client for the default account holding a fresh
// token of role, declaring that role and pointed at the server (part of
// the fixed contract; see Server on the default account's methods).
// opts are applied after those, so they can override them (e.g.
// WithHTTPClient with Transport for in-process calls). MinimalRoleOf
// reports what the client used.
func (s *Server) Client(role librato.Role, opts ...librato.Option) (*librato.Client, error) {
	return s.def.Load().Client(role, opts...)
}

// DefaultAccount returns the default account, the one Credentials, Client
// and Recorded work on. Reset replaces it: take it again after a Reset.
func (s *Server) DefaultAccount() *Account { return s.def.Load() }

// Account returns the account of email, creating an empty, isolated one
// the first time. Emails are compared without case. Reset replaces every
// account: an Account taken before a Reset no longer belongs to the
// server.
func (s *Server) Account(email string) *Account {
	key := accountKey(email)
	s.mu.Lock()
	defer s.mu.Unlock()
	if a, ok := s.accounts[key]; ok {
		return a
	}
	a := s.newAccount(email)
	s.accounts[key] = a
	return a
}

// newAccount is an empty account of the server, not yet registered.
func (s *Server) newAccount(email string) *Account {
	return &Account{srv: s, st: api.NewAccount(s.env, strings.TrimSpace(email))}
}

// findAccount finds an existing account by email.
func (s *Server) findAccount(email string) *Account {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.accounts[strings.ToLower(strings.TrimSpace(email))]
}

// Requests is how many API requests the server received so far, over the
// socket and through Transport, whatever their outcome; control-plane
// requests are not counted, and Reset does not start it over.
func (s *Server) Requests() int { return int(s.requests.Load()) }

// SetLatency changes the delay every request waits before it is handled
// (PUT /mock/latency); a negative d is 0.
func (s *Server) SetLatency(d time.Duration) {
	if d < 0 {
		d = 0
	}
	s.latency.Store(int64(d))
}

// Latency is the delay every request currently waits (GET /mock/latency).
func (s *Server) Latency() time.Duration { return time.Duration(s.latency.Load()) }

// SetRateLimits changes the hourly limits of WithRateLimits while the
// server runs (PUT /mock/ratelimits) and starts a new window in every
// account, so the next requests count from zero. Both must be positive.
func (s *Server) SetRateLimits(agg, std int) error {
	if agg <= 0 || std <= 0 {
		return fmt.Errorf("mock: SetRateLimits(%d, %d): need positive limits", agg, std)
	}
	s.aggLimit.Store(int64(agg))
	s.stdLimit.Store(int64(std))
	for _, a := range s.allAccounts() {
		a.st.ResetRate()
	}
	return nil
}

// SetGzip sets whether the server takes gzipped request bodies (PUT
// /mock/encodings); see WithGzip.
func (s *Server) SetGzip(accept bool) { s.noGzip.Store(!accept) }

// Gzip reports whether the server takes gzipped request bodies (GET
// /mock/encodings).
func (s *Server) Gzip() bool { return !s.noGzip.Load() }

// SetJobDelay changes WithJobDelay's delay for the jobs queued from now on
// (PUT /mock/jobs); 0 (or less) leaves them to their reads, as
// WithJobSteps does.
func (s *Server) SetJobDelay(d time.Duration) { s.env.SetJobDelay(d) }

// JobDelay is the delay after which jobs complete by themselves; 0 when
// only reads complete them (GET /mock/jobs).
func (s *Server) JobDelay() time.Duration { return s.env.JobDelay() }

// JobSteps is how many reads complete a job (WithJobSteps).
func (s *Server) JobSteps() int { return s.cfg.jobSteps }

// RateLimits reports the hourly limits in force (GET /mock/ratelimits).
func (s *Server) RateLimits() (agg, std int) {
	return int(s.aggLimit.Load()), int(s.stdLimit.Load())
}

// allAccounts lists the server's accounts.
func (s *Server) allAccounts() []*Account {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]*Account, 0, len(s.accounts))
	for _, a := range s.accounts {
		out = append(out, a)
	}
	return out
}

// Recorded returns the measurements the default account accepted so far,
// in acceptance order; see Account.Recorded, and Server on the default
// account's methods.
func (s *Server) Recorded() []librato.Measurement { return s.def.Load().Recorded() }

// RecordedCount is len(Recorded()) without the copy (the default
// account's, as Recorded).
func (s *Server) RecordedCount() int { return s.def.Load().RecordedCount() }

// FireAlert makes alert id of the default account fire, as if its
// conditions held; see Account.FireAlert, and Server on the default
// account's methods.
func (s *Server) FireAlert(id int64) bool { return s.def.Load().FireAlert(id) }

// Close stops the server: it stops listening, ends open connections and
// pending latency waits, and waits for handlers still running. Requests
// through Transport fail afterwards. Calling it again does nothing.
func (s *Server) Close() {
	s.closeOnce.Do(func() {
		s.mu.Lock()
		s.closed = true
		s.mu.Unlock()
		close(s.closing)
		if s.hs != nil {
			_ = s.hs.Close()
			<-s.serveDone
		}
		s.inflight.Wait()
	})
}

// enter registers a request being handled; false once the server closed.
func (s *Server) enter() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return false
	}
	s.inflight.Add(1)
	return true
}

// wait sleeps for the configured latency; it returns errClosing when the
// server closes first and the context's error when the request ends first.
func (s *Server) wait(ctx context.Context) error {
	d := time.Duration(s.latency.Load())
	if d <= 0 {
		return nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	case <-s.closing:
		return errClosing
	}
}

var errClosing = errors.New("mock: server closed")

// DefaultLegacyPageSize is how many records one legacy read
// (GET /v1/metrics/:name with time parameters and no count) returns
// before it is cut with query.next_time.
const DefaultLegacyPageSize = 1000

// WithLegacyPageSize sets how many records one legacy measurements read
// holds before it is truncated with query.next_time (default
// DefaultLegacyPageSize); small values let tests exercise the paging.
func WithLegacyPageSize(n int) Option {
	return func(c *config) error {
		if n <= 0 {
			return fmt.Errorf("mock: WithLegacyPageSize(%d): need a positive size", n)
		}
		c.legacyPage = n
		return nil
	}
}
