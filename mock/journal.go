package mock

import (
	"context"
	"log/slog"
	"sync"
	"time"
)

// JournalEntry is one request the API answered (GET /mock/journal), as
// the client saw it. It never holds a token, a query string or a request
// body: TokenName is the name of the token that authenticated, "" when
// the credentials matched no active token.
type JournalEntry struct {
	Time       time.Time `json:"time"`     // when the request arrived
	Method     string    `json:"method"`   // GET, POST...
	Path       string    `json:"path"`     // the escaped path, without the query
	Endpoint   string    `json:"endpoint"` // the route template, "/v1/metrics/:name"; "" for no route
	Status     int       `json:"status"`   // 0 when no answer was sent (dropped, client gone)
	TokenName  string    `json:"token_name"`
	Role       string    `json:"role"` // the token's role; "" without one
	DurationMS float64   `json:"duration_ms"`
	// Error is the error body the client got (status 400 and above), or
	// what happened instead of an answer.
	Error string `json:"error"`
	// Injected is true when a fault (FailNext, InjectFault) answered.
	Injected bool `json:"injected"`
}

// journal keeps the most recent entries in a ring.
type journal struct {
	mu   sync.Mutex
	size int
	buf  []JournalEntry
	next int // where the next entry goes once buf is full
}

func (j *journal) add(e JournalEntry) {
	if j.size == 0 {
		return
	}
	j.mu.Lock()
	defer j.mu.Unlock()
	if len(j.buf) < j.size {
		j.buf = append(j.buf, e)
		return
	}
	j.buf[j.next] = e
	j.next = (j.next + 1) % j.size
}

func (j *journal) list() []JournalEntry {
	j.mu.Lock()
	defer j.mu.Unlock()
	out := make([]JournalEntry, 0, len(j.buf))
	out = append(out, j.buf[j.next:]...)
	return append(out, j.buf[:j.next]...)
}

func (j *journal) clear() {
	j.mu.Lock()
	defer j.mu.Unlock()
	j.buf, j.next = nil, 0
}

// Journal returns the requests the API answered, oldest first: the last
// WithJournalSize (DefaultJournalSize) of them. Control-plane requests are
// not in it. Reset and ClearJournal empty it.
func (s *Server) Journal() []JournalEntry { return s.journal.list() }

// ClearJournal forgets the journal's entries (DELETE /mock/journal).
func (s *Server) ClearJournal() { s.journal.clear() }

// note records a finished request in the journal and the log.
func (s *Server) note(ctx context.Context, e JournalEntry) {
	e.DurationMS = float64(time.Since(e.Time).Microseconds()) / 1000
	s.journal.add(e)
	if l := s.cfg.logger; l != nil {
		l.LogAttrs(ctx, slog.LevelInfo, "librato-mock request",
			slog.String("method", e.Method),
			slog.String("path", e.Path),
			slog.String("endpoint", e.Endpoint),
			slog.Int("status", e.Status),
			slog.String("token_name", e.TokenName),
			slog.String("role", e.Role),
			slog.Float64("duration_ms", e.DurationMS),
			slog.String("error", e.Error),
			slog.Bool("injected", e.Injected),
		)
	}
}
