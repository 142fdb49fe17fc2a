package api

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strconv"
)

// Reply is what a handler answers: a status, an optional JSON body and an
// optional Location header.
type Reply struct {
	Status     int
	body       any
	location   string
	RetryAfter string
	Allow      string // the Allow header of a 405
}

// errorBody is the API's error document.
type errorBody struct {
	Errors errorSet `json:"errors"`
}

type errorSet struct {
	Params  map[string][]string `json:"params,omitempty"`
	Request []string            `json:"request,omitempty"`
	System  []string            `json:"system,omitempty"`
}

// OK answers 200 with v as the JSON body.
func OK(v any) *Reply { return &Reply{Status: http.StatusOK, body: v} }

func createdReply(location string, v any) *Reply {
	return &Reply{Status: http.StatusCreated, body: v, location: location}
}

func acceptedReply(location string, v any) *Reply {
	return &Reply{Status: http.StatusAccepted, body: v, location: location}
}

// NoContent answers 204 without a body.
func NoContent() *Reply { return &Reply{Status: http.StatusNoContent} }

// RequestError answers status with an errors.request message.
func RequestError(status int, msg string) *Reply {
	return &Reply{Status: status, body: errorBody{Errors: errorSet{Request: []string{msg}}}}
}

// SystemError answers status with an errors.system message.
func SystemError(status int, msg string) *Reply {
	return &Reply{Status: status, body: errorBody{Errors: errorSet{System: []string{msg}}}}
}

// NotFound answers 404 saying that what was not found.
func NotFound(what string) *Reply {
	return RequestError(http.StatusNotFound, what+" not found")
}

// paramError answers 400 with one errors.params message.
func paramError(field, msg string) *Reply {
	return &Reply{Status: http.StatusBadRequest, body: errorBody{Errors: errorSet{Params: map[string][]string{field: {msg}}}}}
}

// alreadyExists answers 422 with an errors.params message on field.
func alreadyExists(field, msg string) *Reply {
	return &Reply{Status: http.StatusUnprocessableEntity, body: errorBody{Errors: errorSet{Params: map[string][]string{field: {msg}}}}}
}

// perrs collects errors.params messages keyed by field.
type perrs map[string][]string

func (p perrs) add(field, msg string) {
	for _, m := range p[field] {
		if m == msg {
			return
		}
	}
	p[field] = append(p[field], msg)
}

func (p perrs) reply() *Reply {
	if len(p) == 0 {
		return nil
	}
	return &Reply{Status: http.StatusBadRequest, body: errorBody{Errors: errorSet{Params: map[string][]string(p)}}}
}

// Encode renders a reply's body; it runs while the account is locked, so
// the body may still refer to live state.
func (r *Reply) Encode() []byte {
	if r.body == nil || r.Status == http.StatusNoContent {
		return nil
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(r.body); err != nil {
		r.Status = http.StatusInternalServerError
		buf.Reset()
		_ = json.NewEncoder(&buf).Encode(errorBody{Errors: errorSet{System: []string{"mock: encoding the answer: " + err.Error()}}})
	}
	return buf.Bytes()
}

// Write sends an encoded reply.
func Write(w http.ResponseWriter, r *Reply, body []byte) {
	h := w.Header()
	if r.location != "" {
		h.Set("Location", r.location)
	}
	if r.RetryAfter != "" {
		h.Set("Retry-After", r.RetryAfter)
	}
	if r.Allow != "" {
		h.Set("Allow", r.Allow)
	}
	if body != nil {
		h.Set("Content-Type", "application/json")
		h.Set("Content-Length", strconv.Itoa(len(body)))
	}
	w.WriteHeader(r.Status)
	if body != nil {
		_, _ = w.Write(body)
	}
}
