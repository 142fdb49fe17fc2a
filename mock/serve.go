package mock

import (
	"bytes"
	"errors"
	"image"
	"image/color"
	"image/png"
	"net/http"
	"strconv"
	"strings"
	"time"

	librato "github.com/librato-sdk/librato-go"
	"github.com/librato-sdk/librato-go/internal/endpoints"
	"github.com/librato-sdk/librato-go/mock/internal/api"
)

// ServeHTTP answers one API request: latency, injected faults,
// authentication, rate limits, routing, role enforcement, body limits and
// decoding, then the endpoint itself; every request ends up in the
// journal. Requests under /mock/ (snapshot images aside) go to the
// control plane instead. It makes Server an http.Handler, so the API can
// also be mounted in another server.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if isControlPath(r.URL.Path) {
		s.serveControl(w, r)
		return
	}
	s.requests.Add(1)
	now := time.Now()
	aggLimit, stdLimit := s.RateLimits()
	setRateHeaders(w.Header(), api.RateState{
		AggLimit: aggLimit, AggRemaining: aggLimit,
		StdLimit: stdLimit, StdRemaining: stdLimit,
		Reset: now.Unix() - now.Unix()%3600 + 3600,
	})
	if !s.enter() {
		rep := api.SystemError(http.StatusServiceUnavailable, "the mock server is closed")
		api.Write(w, rep, rep.Encode())
		return
	}
	defer s.inflight.Done()
	if r.Body != nil {
		defer r.Body.Close()
	}
	rq := s.router.Route(r.Method, r.URL.EscapedPath())
	ent := JournalEntry{Time: now, Method: r.Method, Path: r.URL.EscapedPath(), Endpoint: rq.Template(),
		ContentEncoding: strings.Join(r.Header.Values("Content-Encoding"), ", ")}
	if err := s.wait(r.Context()); err != nil {
		if errors.Is(err, errClosing) {
			s.send(w, r, &ent, api.Plain(api.SystemError(http.StatusServiceUnavailable, "the mock server is closed")))
			return
		}
		ent.Error = "no answer: the client went away during the latency wait (" + err.Error() + ")"
		s.note(r.Context(), ent)
		return
	}
	if f, ok := s.takeFault(r.Method, ent.Endpoint, ent.Path); ok {
		ent.Injected = true
		switch {
		case f.After:
			// The write lands, the answer is lost on the way back.
			if !strings.HasPrefix(r.URL.Path, api.SnapshotImagePrefix) {
				s.handle(&lostAnswer{h: http.Header{}}, r, now, rq, &ent)
			}
		default:
			if user, secret, ok := r.BasicAuth(); ok {
				if id, ok := s.identify(user, secret); ok {
					ent.TokenName, ent.Role = id.name, string(id.role)
				}
			}
		}
		if f.Drop {
			ent.Error = "no answer: " + ErrDropped.Error()
			s.note(r.Context(), ent)
			drop(w)
			return
		}
		s.send(w, r, &ent, api.Plain(s.injected(f)))
		return
	}
	if !s.Gzip() && api.Gzipped(r.Header) {
		s.send(w, r, &ent, api.Plain(api.RequestError(http.StatusUnsupportedMediaType,
			`Unsupported Content-Encoding "gzip": this server takes plain bodies only (the mock's SetGzip(false) or PUT /mock/encodings); send the body as is`)))
		return
	}
	if r.Method == http.MethodGet && strings.HasPrefix(r.URL.Path, api.SnapshotImagePrefix) {
		ent.Endpoint = api.SnapshotImagePrefix + ":id.png"
		s.serveSnapshotImage(w, r, &ent)
		return
	}
	s.send(w, r, &ent, s.handle(w, r, now, rq, &ent))
}

// send writes an answer and notes it in the journal.
func (s *Server) send(w http.ResponseWriter, r *http.Request, ent *JournalEntry, e *api.Encoded) {
	api.Write(w, e.Rep, e.Body)
	ent.Status, ent.Notes = e.Rep.Status, e.Notes
	if e.Rep.Status >= 400 {
		ent.Error = strings.TrimSpace(string(e.Body))
	}
	s.note(r.Context(), *ent)
}

// drop ends a request without an answer: the in-process transport fails
// it with ErrDropped, a socket is closed.
func drop(w http.ResponseWriter) {
	if rec, ok := w.(*recorder); ok {
		rec.dropped = true
		return
	}
	if hj, ok := w.(http.Hijacker); ok {
		if conn, _, err := hj.Hijack(); err == nil {
			_ = conn.Close()
			return
		}
	}
	panic(http.ErrAbortHandler) // net/http closes the connection (or resets the stream)
}

// handle runs everything after the hooks; replies from endpoints are
// encoded while the account is still locked, others here.
func (s *Server) handle(w http.ResponseWriter, r *http.Request, now time.Time, rq api.Routed, ent *JournalEntry) *api.Encoded {
	// authentication
	user, secret, hasBasic := r.BasicAuth()
	var id identity
	ok := false
	if hasBasic {
		id, ok = s.identify(user, secret)
	}
	if !ok {
		w.Header().Set("WWW-Authenticate", `Basic realm="Librato API (mock)"`)
		return api.Plain(api.RequestError(http.StatusUnauthorized, unauthorizedMessage(r, hasBasic)))
	}
	ent.TokenName, ent.Role = id.name, string(id.role)
	a := id.a
	// rate limit: measurement submissions (tagged and legacy) count
	// against Agg, decided on the row the router found, so no escaping
	// evades it
	aggLimit, stdLimit := s.RateLimits()
	st, fits := a.st.Consume(rq.Agg(), now, aggLimit, stdLimit)
	setRateHeaders(w.Header(), st)
	if !fits {
		rep := api.RequestError(http.StatusTooManyRequests, "Rate limit exceeded: too many requests this hour")
		rep.RetryAfter = strconv.FormatInt(max(st.Reset-now.Unix(), 1), 10)
		return api.Plain(rep)
	}
	// routing
	row := rq.Row
	if row == nil {
		return api.Plain(api.RequestError(http.StatusNotFound, "no such endpoint: "+r.Method+" "+r.URL.EscapedPath()))
	}
	// roles, from the row: the same matrix the SDK guards with, inferred
	// roles of unlisted rows included
	s.recordUsage(secret, id, row)
	if !row.Allows(string(id.role)) {
		return api.Plain(api.RequestError(http.StatusForbidden, forbiddenMessage(id.role, row)))
	}
	return a.st.Serve(r, rq, now)
}

// unauthorizedMessage says which credentials the API expects.
func unauthorizedMessage(r *http.Request, hasBasic bool) string {
	const expected = "send HTTP Basic auth with the account's email as user name and an active API token as password" +
		` (the user name "token" with the token as password, or the token as user name with an empty password, work too, as appoptics-api-go sends them)`
	auth := strings.TrimSpace(r.Header.Get("Authorization"))
	switch {
	case len(auth) >= 7 && strings.EqualFold(auth[:7], "Bearer "):
		return "Authorization Required: a bearer token (the control token) is for the mock's control plane under /mock/ only; " + expected
	case !hasBasic:
		return "Authorization Required: " + expected
	}
	return "Authorization Required: the credentials match no active API token of that account; " + expected
}

func forbiddenMessage(role librato.Role, row *endpoints.Row) string {
	names := row.Roles()
	allowed := make([]string, len(names))
	for i, r := range names {
		allowed[i] = librato.Role(r).Label()
	}
	return "Forbidden: a " + role.Label() + " token (role " + string(role) + ") may not call " +
		row.String() + "; allowed: " + strings.Join(allowed, ", ")
}

func setRateHeaders(h http.Header, st api.RateState) {
	h.Set("X-Librato-RateLimit-Agg", "limit="+strconv.Itoa(st.AggLimit)+",remaining="+strconv.Itoa(max(st.AggRemaining, 0))+",reset="+strconv.FormatInt(st.Reset, 10))
	h.Set("X-Librato-RateLimit-Std", "limit="+strconv.Itoa(st.StdLimit)+",remaining="+strconv.Itoa(max(st.StdRemaining, 0))+",reset="+strconv.FormatInt(st.Reset, 10))
}

// serveSnapshotImage serves a 1x1 PNG for any rendered snapshot id.
func (s *Server) serveSnapshotImage(w http.ResponseWriter, r *http.Request, ent *JournalEntry) {
	name := strings.TrimPrefix(r.URL.Path, api.SnapshotImagePrefix)
	id, ok := api.PathID(strings.TrimSuffix(name, ".png"))
	found := false
	if ok && strings.HasSuffix(name, ".png") {
		for _, a := range s.allAccounts() {
			found = found || a.st.SnapshotRendered(id)
		}
	}
	if !found {
		s.send(w, r, ent, api.Plain(api.NotFound("image")))
		return
	}
	img := image.NewNRGBA(image.Rect(0, 0, 1, 1))
	img.Set(0, 0, color.NRGBA{R: 0x52, G: 0xD7, B: 0x4C, A: 0xFF})
	var buf bytes.Buffer
	_ = png.Encode(&buf, img)
	w.Header().Set("Content-Type", "image/png")
	w.Header().Set("Content-Length", strconv.Itoa(buf.Len()))
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(buf.Bytes())
	ent.Status = http.StatusOK
	s.note(r.Context(), *ent)
}
