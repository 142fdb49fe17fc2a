package api

import (
	"cmp"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	librato "github.com/librato-sdk/librato-go"
	"github.com/librato-sdk/librato-go/mock/internal/tsdb"
)

// Env is what every account of a server shares: one id sequence for
// every kind of object, and the settings of the handlers.
type Env struct {
	MaxBody      int64  // the largest request body, decompressed
	JobSteps     int    // reads of a job until it completes
	SeriesPage   int    // series in one measurements read
	LegacyPage   int    // records in one legacy read
	ControlToken string // no API token may have it as its secret
	ids          atomic.Int64
	jobDelay     atomic.Int64 // nanoseconds; see SetJobDelay
}

func (e *Env) nextID() int64 { return e.ids.Add(1) }

// SetJobDelay makes jobs queued from now on complete by themselves d
// after they were queued, read or not; 0 leaves them to reads alone.
func (e *Env) SetJobDelay(d time.Duration) { e.jobDelay.Store(int64(max(d, 0))) }

// JobDelay is the delay SetJobDelay set.
func (e *Env) JobDelay() time.Duration { return time.Duration(e.jobDelay.Load()) }

// Account is one isolated Librato account: its own tokens, metrics,
// measurements, spaces, alerts, services, annotations, jobs and
// snapshots. Its handlers run with mu held.
type Account struct {
	env   *Env
	Email string

	mu          sync.Mutex
	tokens      map[int64]*Token
	bySecret    map[string]*Token
	db          *tsdb.Store // metrics and measurements
	spaces      map[int64]*space
	charts      map[int64]*chart
	annotations map[string]*annStream
	alerts      map[int64]*alert
	services    map[int64]*service
	jobs        map[int64]*job
	snapshots   map[int64]*snapshot
	sources     *sourceRegistry // sources.go
	rate        rateWindow
	tokenSeq    int
	nextDue     time.Time // the earliest due time of an unfinished job; zero for none
}

// NewAccount is an empty account of email.
func NewAccount(e *Env, email string) *Account {
	return &Account{
		env:         e,
		Email:       email,
		tokens:      make(map[int64]*Token),
		bySecret:    make(map[string]*Token),
		db:          tsdb.NewStore(),
		spaces:      make(map[int64]*space),
		charts:      make(map[int64]*chart),
		annotations: make(map[string]*annStream),
		alerts:      make(map[int64]*alert),
		services:    make(map[int64]*service),
		jobs:        make(map[int64]*job),
		snapshots:   make(map[int64]*snapshot),
		sources:     newSourceRegistry(),
	}
}

// Issue creates a fresh active token of role for a test, named
// mock-<role>-<n>, and returns a copy of it (restore puts it back after a
// reset). An invalid role returns false.
func (a *Account) Issue(role librato.Role) (Token, bool) {
	if !role.Valid() {
		return Token{}, false
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	a.tokenSeq++
	return *a.addToken(fmt.Sprintf("mock-%s-%d", role, a.tokenSeq), role, "", time.Now()), true
}

// Restore adds a token issue made, as it was issued.
func (a *Account) Restore(t Token) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.tokens[t.id] = &t
	a.bySecret[t.Secret] = &t
	a.tokenSeq++
}

// Lookup returns the active token with that secret, with its name and
// role as they are now (read under the lock: a later change of the token
// does not race with the request).
func (a *Account) Lookup(secret string) (t *Token, name string, role librato.Role, ok bool) {
	if secret == "" {
		return nil, "", "", false
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	t = a.bySecret[secret]
	if t == nil || !t.active {
		return nil, "", "", false
	}
	return t, t.name, t.role, true
}

// HasToken reports whether t (from lookup) still exists.
func (a *Account) HasToken(t *Token) bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.tokens[t.id] == t
}

// Recorded rebuilds the measurements the account accepted, in acceptance
// order; see mock.Account.Recorded.
func (a *Account) Recorded() []librato.Measurement {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.db.Recorded()
}

// RecordedCount is how many measurements the account accepted.
func (a *Account) RecordedCount() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.db.RecordedCount()
}

// FireAlert makes alert id trigger; false if there is no such alert.
func (a *Account) FireAlert(id int64) bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	al := a.alerts[id]
	if al == nil {
		return false
	}
	al.triggeredAt = time.Now().Unix()
	al.clearedAt = 0
	return true
}

// NewSecret returns 64 random hex characters, the API's token format.
func NewSecret() string {
	var b [32]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// addToken stores a token; secret "" generates one. The caller holds a.mu.
func (a *Account) addToken(name string, role librato.Role, secret string, now time.Time) *Token {
	if secret == "" {
		secret = NewSecret()
	}
	t := &Token{
		id:      a.env.nextID(),
		name:    name,
		Secret:  secret,
		role:    role,
		active:  true,
		created: now.UTC(),
		updated: now.UTC(),
	}
	a.tokens[t.id] = t
	a.bySecret[secret] = t
	return t
}

// rateWindow counts an account's requests in the current hour.
type rateWindow struct {
	hour     int64 // start of the window, epoch seconds
	agg, std int
}

// RateState is what the rate-limit headers report.
type RateState struct {
	AggLimit, AggRemaining int
	StdLimit, StdRemaining int
	Reset                  int64
}

// Consume counts one request in the current window against the limits
// and reports the state and whether the request fits its limit.
func (a *Account) Consume(agg bool, now time.Time, aggLimit, stdLimit int) (RateState, bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	hour := now.Unix() - now.Unix()%3600
	if a.rate.hour != hour {
		a.rate = rateWindow{hour: hour}
	}
	ok := true
	if agg {
		if a.rate.agg >= aggLimit {
			ok = false
		} else {
			a.rate.agg++
		}
	} else {
		if a.rate.std >= stdLimit {
			ok = false
		} else {
			a.rate.std++
		}
	}
	return RateState{
		AggLimit: aggLimit, AggRemaining: aggLimit - a.rate.agg,
		StdLimit: stdLimit, StdRemaining: stdLimit - a.rate.std,
		Reset: hour + 3600,
	}, ok
}

// ResetRate starts a new rate-limit window.
func (a *Account) ResetRate() {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.rate = rateWindow{}
}

// AnnotationRecord is an annotation event with its stream, as the
// control plane shows it (mock.AnnotationRecord).
type AnnotationRecord struct {
	Stream      string
	DisplayName string
	ID          int64
	Title       string
	Description string
	Source      string
	Links       []librato.Link
	StartTime   int64
	EndTime     int64
}

// FiredAlert is an alert that fires or has fired (mock.FiredAlert).
type FiredAlert struct {
	ID          int64
	Name        string
	Firing      bool
	TriggeredAt int64
	ClearedAt   int64
}

// AnnotationRecords lists the account's annotation events for the
// control plane; see mock.Account.Annotations.
func (a *Account) AnnotationRecords(stream string) []AnnotationRecord {
	a.mu.Lock()
	defer a.mu.Unlock()
	streams := make([]*annStream, 0, len(a.annotations))
	for _, st := range a.annotations {
		if stream == "" || strings.EqualFold(st.name, stream) {
			streams = append(streams, st)
		}
	}
	slices.SortFunc(streams, func(x, y *annStream) int { return cmp.Compare(x.name, y.name) })
	out := []AnnotationRecord{}
	for _, st := range streams {
		for _, e := range st.events {
			rec := AnnotationRecord{
				Stream: st.name, DisplayName: st.displayName, ID: e.id, Title: e.title,
				Links: make([]librato.Link, len(e.links)), StartTime: e.start,
			}
			if e.description != nil {
				rec.Description = *e.description
			}
			if e.source != nil {
				rec.Source = *e.source
			}
			if e.end != nil {
				rec.EndTime = *e.end
			}
			for i, l := range e.links {
				rec.Links[i] = librato.Link{Rel: l.Rel, Href: l.Href, Label: l.Label}
			}
			out = append(out, rec)
		}
	}
	return out
}

// FiredAlerts lists the account's alerts that fire or have fired, by
// id; see mock.Account.FiredAlerts.
func (a *Account) FiredAlerts() []FiredAlert {
	a.mu.Lock()
	defer a.mu.Unlock()
	out := []FiredAlert{}
	for _, al := range a.alerts {
		if al.triggeredAt == 0 && al.clearedAt == 0 {
			continue
		}
		out = append(out, FiredAlert{ID: al.id, Name: al.name, Firing: al.triggeredAt > 0, TriggeredAt: al.triggeredAt, ClearedAt: al.clearedAt})
	}
	slices.SortFunc(out, func(x, y FiredAlert) int { return cmp.Compare(x.ID, y.ID) })
	return out
}
