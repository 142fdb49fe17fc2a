package mock

import (
	"context"
	"log/slog"
	"strconv"
	"strings"
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
	// ContentEncoding is the request's Content-Encoding header, "" for a
	// plain body (or none).
	ContentEncoding string `json:"content_encoding"`
	// Notes say what the mock accepted by choice where the reference is
	// silent or stricter than the real API was (a time with a fraction, a
	// batch time of 0), so a test sees what its client relies on.
	Notes []string `json:"notes,omitempty"`
}

// JournalFieldBytes is the most of a request's path and of its error
// body that a journal entry (and a log line) keeps; a longer one is cut
// and says how many bytes it had.
const JournalFieldBytes = 2048

// journal keeps the most recent entries, at most size of them and about
// maxBytes of their text, oldest first from head.
type journal struct {
	mu       sync.Mutex
	size     int
	maxBytes int64
	buf      []JournalEntry
	head     int
	used     int64 // entrySize of buf[head:]
}

// entrySize is what an entry costs the journal: its text and a fixed part
// for the rest.
func entrySize(e *JournalEntry) int64 {
	return int64(len(e.Method)+len(e.Path)+len(e.Endpoint)+len(e.TokenName)+len(e.Role)+len(e.Error)) + 96
}

// clip cuts s to JournalFieldBytes, saying how long it was.
func clip(s string) string {
	if len(s) <= JournalFieldBytes {
		return s
	}
	return strings.ToValidUTF8(s[:JournalFieldBytes], "") + "... (" + strconv.Itoa(len(s)) + " bytes)"
}

func (j *journal) add(e JournalEntry) {
	if j.size == 0 || j.maxBytes == 0 {
		return
	}
	j.mu.Lock()
	defer j.mu.Unlock()
	j.buf = append(j.buf, e)
	j.used += entrySize(&e)
	for len(j.buf)-j.head > 1 && (len(j.buf)-j.head > j.size || j.used > j.maxBytes) {
		j.used -= entrySize(&j.buf[j.head])
		j.buf[j.head] = JournalEntry{}
		j.head++
	}
	if j.head > 64 && j.head > len(j.buf)/2 {
		j.buf = append(j.buf[:0], j.buf[j.head:]...)
		j.head = 0
	}
}

func (j *journal) list() []JournalEntry {
	j.mu.Lock()
	defer j.mu.Unlock()
	out := make([]JournalEntry, len(j.buf)-j.head)
	copy(out, j.buf[j.head:])
	return out
}

func (j *journal) clear() {
	j.mu.Lock()
	defer j.mu.Unlock()
	j.buf, j.head, j.used = nil, 0, 0
}

// Journal returns the requests the API answered, oldest first: the most
// recent ones, at most WithJournalSize (DefaultJournalSize) of them and
// about WithJournalBytes (DefaultJournalBytes) of text, each path and
// error cut at JournalFieldBytes. Control-plane requests are not in it.
// Reset and ClearJournal empty it.
func (s *Server) Journal() []JournalEntry { return s.journal.list() }

// ClearJournal forgets the journal's entries (DELETE /mock/journal).
func (s *Server) ClearJournal() { s.journal.clear() }

// note records a finished request in the journal and the log.
func (s *Server) note(ctx context.Context, e JournalEntry) {
	e.DurationMS = float64(time.Since(e.Time).Microseconds()) / 1000
	e.Path, e.Error, e.ContentEncoding = clip(e.Path), clip(e.Error), clip(e.ContentEncoding)
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
			slog.String("content_encoding", e.ContentEncoding),
			slog.String("notes", strings.Join(e.Notes, "; ")),
		)
	}
}
