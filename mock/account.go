package mock

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"sync"
	"time"

	librato "github.com/librato-sdk/librato-go"
)

// Account is one isolated Librato account of the server: its own tokens,
// metrics, measurements, spaces, alerts, services, annotations, jobs and
// snapshots. A token of one account never authenticates with another
// account's email, and no account sees another's objects.
type Account struct {
	srv   *Server
	email string

	mu          sync.Mutex
	tokens      map[int64]*apiToken
	bySecret    map[string]*apiToken
	metrics     map[string]*metric // by lower-cased name
	spaces      map[int64]*space
	charts      map[int64]*chart
	annotations map[string]*annStream
	alerts      map[int64]*alert
	services    map[int64]*service
	jobs        map[int64]*job
	snapshots   map[int64]*snapshot
	sources     *sourceRegistry // sources.go
	ms          measureStore    // interned names and tag sets, the acceptance log
	rate        rateWindow
	tokenSeq    int
}

func newAccount(s *Server, email string) *Account {
	return &Account{
		srv:         s,
		email:       email,
		tokens:      make(map[int64]*apiToken),
		bySecret:    make(map[string]*apiToken),
		metrics:     make(map[string]*metric),
		spaces:      make(map[int64]*space),
		charts:      make(map[int64]*chart),
		annotations: make(map[string]*annStream),
		alerts:      make(map[int64]*alert),
		services:    make(map[int64]*service),
		jobs:        make(map[int64]*job),
		snapshots:   make(map[int64]*snapshot),
		sources:     newSourceRegistry(),
		ms:          newMeasureStore(),
	}
}

// Email is the account's email, the Basic-auth user name of its tokens.
func (a *Account) Email() string { return a.email }

// Credentials creates a fresh active API token of role in the account
// (listed by GET /v1/api_tokens like any other) and returns the account's
// email and the token. An invalid role returns an empty token.
func (a *Account) Credentials(role librato.Role) (email, token string) {
	if !role.Valid() {
		return a.email, ""
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	a.tokenSeq++
	t := a.addToken(fmt.Sprintf("mock-%s-%d", role, a.tokenSeq), role, "", time.Now())
	a.srv.control.issued(a.email, t) // Reset keeps the tokens handed out
	return a.email, t.secret
}

// Client returns an SDK client holding a fresh token of role for this
// account, declaring that role, with the server's URL as base URL; opts
// are applied after those.
func (a *Account) Client(role librato.Role, opts ...librato.Option) (*librato.Client, error) {
	return a.srv.newClient(a, role, opts...) // remembered for MinimalRoleOf
}

// Recorded returns copies of the measurements the account accepted, in
// acceptance order. Each carries its effective tags (its own, or the
// batch's top-level tags when it had none), time (its own, the batch's, or
// the server's clock) and period, with names and tags as the client sent
// them (the stored series lower-case tags), and the summary fields it
// sent. Seeded measurements count, and so do legacy POST /v1/metrics
// submissions, as measurements tagged {"source": S} (none without a
// source). They are rebuilt from the store on each call.
func (a *Account) Recorded() []librato.Measurement {
	a.mu.Lock()
	defer a.mu.Unlock()
	out := make([]librato.Measurement, len(a.ms.log))
	for i := range a.ms.log {
		out[i] = a.ms.measurement(&a.ms.log[i])
	}
	return out
}

// RecordedCount is how many measurements the account accepted so far.
func (a *Account) RecordedCount() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return len(a.ms.log)
}

// FireAlert makes alert id trigger, as if its conditions held: it shows as
// firing in the status endpoints until POST /v1/alerts/:id/clear. It
// reports false if the account has no such alert.
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

// newSecret returns 64 random hex characters, the API's token format.
func newSecret() string {
	var b [32]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// addToken stores a token; secret "" generates one. The caller holds a.mu.
func (a *Account) addToken(name string, role librato.Role, secret string, now time.Time) *apiToken {
	if secret == "" {
		secret = newSecret()
	}
	t := &apiToken{
		id:      a.srv.nextID(),
		name:    name,
		secret:  secret,
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

// rateState is what the rate-limit headers report.
type rateState struct {
	aggLimit, aggRemaining int
	stdLimit, stdRemaining int
	reset                  int64
}

// consume counts one request in the current window and reports the state
// and whether the request fits its limit.
func (a *Account) consume(agg bool, now time.Time) (rateState, bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	hour := now.Unix() - now.Unix()%3600
	if a.rate.hour != hour {
		a.rate = rateWindow{hour: hour}
	}
	cfg := a.srv.liveConfig()
	ok := true
	if agg {
		if a.rate.agg >= cfg.aggLimit {
			ok = false
		} else {
			a.rate.agg++
		}
	} else {
		if a.rate.std >= cfg.stdLimit {
			ok = false
		} else {
			a.rate.std++
		}
	}
	return rateState{
		aggLimit: cfg.aggLimit, aggRemaining: cfg.aggLimit - a.rate.agg,
		stdLimit: cfg.stdLimit, stdRemaining: cfg.stdLimit - a.rate.std,
		reset: hour + 3600,
	}, ok
}
