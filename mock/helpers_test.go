package mock_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	librato "github.com/librato-sdk/librato-go"
	"github.com/librato-sdk/librato-go/mock"
	"github.com/stretchr/testify/require"
)

// wire is a client written only against the documented wire format:
// net/http, Basic auth and encoding/json, no SDK.
type wire struct {
	t     testing.TB
	base  string
	email string
	token string
	hc    *http.Client
}

// resp is one answer, read in full.
type resp struct {
	Status int
	Header http.Header
	Body   []byte
}

// newServer starts a server closed at the end of the test.
func newServer(t testing.TB, opts ...mock.Option) *mock.Server {
	t.Helper()
	srv, err := mock.New(opts...)
	require.NoError(t, err)
	t.Cleanup(srv.Close)
	return srv
}

// newWire returns a raw client for srv holding a fresh token of role.
func newWire(t testing.TB, srv *mock.Server, role librato.Role) *wire {
	t.Helper()
	email, token := srv.Credentials(role)
	require.NotEmpty(t, token)
	tr := &http.Transport{}
	t.Cleanup(tr.CloseIdleConnections)
	return &wire{t: t, base: srv.URL(), email: email, token: token, hc: &http.Client{Transport: tr}}
}

// as returns a copy of w using other credentials.
func (w *wire) as(email, token string) *wire {
	c := *w
	c.email, c.token = email, token
	return &c
}

// raw sends body with contentType ("" for none) to the escaped path.
func (w *wire) raw(method, path, contentType string, body []byte) resp {
	w.t.Helper()
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequest(method, w.base+path, rd)
	require.NoError(w.t, err)
	if w.email != "" || w.token != "" {
		req.SetBasicAuth(w.email, w.token)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	res, err := w.hc.Do(req)
	require.NoError(w.t, err)
	defer res.Body.Close()
	data, err := io.ReadAll(res.Body)
	require.NoError(w.t, err)
	return resp{Status: res.StatusCode, Header: res.Header, Body: data}
}

// do sends v as JSON (nil for no body).
func (w *wire) do(method, path string, v any) resp {
	w.t.Helper()
	if v == nil {
		return w.raw(method, path, "", nil)
	}
	data, err := json.Marshal(v)
	require.NoError(w.t, err)
	return w.raw(method, path, "application/json", data)
}

// form sends an application/x-www-form-urlencoded body.
func (w *wire) form(method, path, body string) resp {
	w.t.Helper()
	return w.raw(method, path, "application/x-www-form-urlencoded", []byte(body))
}

// obj decodes the body as a JSON object.
func (r resp) obj(t testing.TB) map[string]any {
	t.Helper()
	var m map[string]any
	require.NoError(t, json.Unmarshal(r.Body, &m), "body: %s", r.Body)
	return m
}

// list decodes the body as a JSON array.
func (r resp) list(t testing.TB) []any {
	t.Helper()
	var l []any
	require.NoError(t, json.Unmarshal(r.Body, &l), "body: %s", r.Body)
	return l
}

// errs decodes an error body and checks it has the API's shape.
func (r resp) errs(t testing.TB) (params map[string][]string, request, system []string) {
	t.Helper()
	var eb struct {
		Errors *struct {
			Params  map[string][]string `json:"params"`
			Request []string            `json:"request"`
			System  []string            `json:"system"`
		} `json:"errors"`
	}
	require.NoError(t, json.Unmarshal(r.Body, &eb), "body: %s", r.Body)
	require.NotNil(t, eb.Errors, "no errors object in %s", r.Body)
	require.True(t, len(eb.Errors.Params)+len(eb.Errors.Request)+len(eb.Errors.System) > 0, "empty errors in %s", r.Body)
	return eb.Errors.Params, eb.Errors.Request, eb.Errors.System
}

// requireStatus fails with the body when the status differs.
func (r resp) requireStatus(t testing.TB, status int) resp {
	t.Helper()
	require.Equal(t, status, r.Status, "body: %s", r.Body)
	return r
}

// requireParam checks a 400 whose errors.params has field.
func (r resp) requireParam(t testing.TB, field string) {
	t.Helper()
	r.requireStatus(t, http.StatusBadRequest)
	params, _, _ := r.errs(t)
	require.Contains(t, params, field, "body: %s", r.Body)
}

// num reads a JSON number field as int64.
func num(t testing.TB, v any) int64 {
	t.Helper()
	f, ok := v.(float64)
	require.True(t, ok, "not a number: %#v", v)
	return int64(f)
}

// idOf reads the trailing numeric id of a Location header.
func idOf(t testing.TB, loc string) string {
	t.Helper()
	i := strings.LastIndexByte(loc, '/')
	require.True(t, i >= 0 && i < len(loc)-1, "location %q", loc)
	return loc[i+1:]
}

// apiErrors is the API's error document.
type apiErrors struct {
	Errors struct {
		Params  map[string][]string `json:"params"`
		Request []string            `json:"request"`
		System  []string            `json:"system"`
	} `json:"errors"`
}
