package mock

import (
	"bytes"
	"io"
	"net/http"
	"strconv"
)

// Transport returns a RoundTripper that serves requests from the server's
// state in-process, without a socket: the same accounts, the same hooks,
// counted by Requests. Any host is accepted. It honours the request's
// context and closes the request body; after Close it fails every request,
// and a Drop fault (InjectFault) fails it with ErrDropped.
//
//	c, err := srv.Client(librato.RoleViewOnly, librato.WithHTTPClient(&http.Client{Transport: srv.Transport()}))
func (s *Server) Transport() http.RoundTripper { return transport{s} }

type transport struct{ s *Server }

// RoundTrip runs the server's handler against req and returns its answer.
func (t transport) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.Body != nil {
		defer req.Body.Close()
	}
	ctx := req.Context()
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	select {
	case <-t.s.closing:
		return nil, errClosing
	default:
	}
	sr := req.Clone(ctx)
	if sr.Body == nil {
		sr.Body = http.NoBody
	}
	sr.RequestURI = req.URL.RequestURI()
	if sr.Host == "" {
		sr.Host = req.URL.Host
	}
	sr.RemoteAddr = "in-process"
	if sr.Proto == "" {
		sr.Proto, sr.ProtoMajor, sr.ProtoMinor = "HTTP/1.1", 1, 1
	}
	rec := &recorder{header: make(http.Header)}
	t.s.ServeHTTP(rec, sr)
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if rec.dropped {
		return nil, ErrDropped
	}
	if rec.status == 0 {
		rec.status = http.StatusOK
	}
	body := rec.body.Bytes()
	return &http.Response{
		Status:        strconv.Itoa(rec.status) + " " + http.StatusText(rec.status),
		StatusCode:    rec.status,
		Proto:         "HTTP/1.1",
		ProtoMajor:    1,
		ProtoMinor:    1,
		Header:        rec.header,
		Body:          io.NopCloser(bytes.NewReader(body)),
		ContentLength: int64(len(body)),
		Request:       req,
	}, nil
}

// recorder is a minimal http.ResponseWriter that keeps the answer.
type recorder struct {
	header  http.Header
	status  int
	body    bytes.Buffer
	dropped bool // a Drop fault: no answer
}

// Header is the answer's header map.
func (r *recorder) Header() http.Header { return r.header }

// WriteHeader keeps the first status written.
func (r *recorder) WriteHeader(code int) {
	if r.status == 0 {
		r.status = code
	}
}

// Write appends to the body, implying 200 if no status was written.
func (r *recorder) Write(b []byte) (int, error) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	return r.body.Write(b)
}
