package librato

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"io"
	"sync"
	"sync/atomic"
)

// gzipMinBytes is the smallest body of a call that is not a submission the
// client compresses: below it gzip's header and CPU cost more than they save.
const gzipMinBytes = 1024

// gzipLevel is gzip.BestSpeed: on a batch of 500 measurements it saves
// 96% of what the default level saves (15 bytes a measurement left of
// 127, against 10) for a quarter of its CPU (220 ns a measurement against
// 880; BenchmarkEncodeBody), and CPU is what an agent's host pays for.
const gzipLevel = gzip.BestSpeed

// requestBody is a request body in pooled buffers: the JSON and, when the
// client compresses it, its gzip. A buffer returns to its pool only once
// the call is done and every reader the transport opened has been closed,
// so a transport still writing an old attempt never sees it reused.
type requestBody struct {
	json  *[]byte
	gz    *[]byte // nil when never compressed
	plain bool    // send json even though gz is there: the server refused gzip
	refs  atomic.Int32
}

var (
	bufPool  = sync.Pool{New: func() any { b := make([]byte, 0, 4096); return &b }}
	gzipPool = sync.Pool{New: func() any { w, _ := gzip.NewWriterLevel(io.Discard, gzipLevel); return w }}
)

// jsonAppender is implemented by bodies with a hand-written encoder.
type jsonAppender interface{ appendJSON([]byte) ([]byte, error) }

// encodeBody encodes v as JSON and, when the client compresses (see
// WithoutCompression) and the body is a submission or at least
// gzipMinBytes, as gzip too.
func (c *Client) encodeBody(ep *endpoint, v any) (*requestBody, error) {
	p := &requestBody{json: bufPool.Get().(*[]byte)}
	p.refs.Store(1)
	b := (*p.json)[:0]
	var err error
	if a, ok := v.(jsonAppender); ok {
		b, err = a.appendJSON(b)
	} else {
		var raw []byte
		raw, err = json.Marshal(v)
		b = append(b, raw...)
	}
	*p.json = b
	if err != nil {
		p.release()
		return nil, err
	}
	if c.gzip.Load() && (isSubmission(ep) || len(b) >= gzipMinBytes) {
		p.gz = bufPool.Get().(*[]byte)
		buf := bytes.NewBuffer((*p.gz)[:0])
		w := gzipPool.Get().(*gzip.Writer)
		w.Reset(buf)
		_, _ = w.Write(b)
		_ = w.Close() // writes to a bytes.Buffer cannot fail
		gzipPool.Put(w)
		*p.gz = buf.Bytes()
	}
	return p, nil
}

// isSubmission reports the endpoints that carry measurements, which are
// compressed whatever their size.
func isSubmission(ep *endpoint) bool {
	return ep.method == "POST" && (ep.template == "/v1/measurements" || ep.template == "/v1/metrics")
}

// compressed reports whether the body goes out as gzip.
func (p *requestBody) compressed() bool { return p != nil && p.gz != nil && !p.plain }

// bytes is what goes on the wire.
func (p *requestBody) bytes() []byte {
	if p.compressed() {
		return *p.gz
	}
	return *p.json
}

// open returns a reader of the body for one attempt; closing it releases
// the attempt's hold on the buffers.
func (p *requestBody) open() (io.ReadCloser, error) {
	p.refs.Add(1)
	return &bodyReader{Reader: bytes.NewReader(p.bytes()), p: p}, nil
}

// release drops one hold; the last returns the buffers to the pool.
func (p *requestBody) release() {
	if p.refs.Add(-1) == 0 {
		put(p.json)
		if p.gz != nil {
			put(p.gz)
		}
	}
}

func put(b *[]byte) {
	if cap(*b) <= 4<<20 {
		*b = (*b)[:0]
		bufPool.Put(b)
	}
}

type bodyReader struct {
	*bytes.Reader
	p      *requestBody
	closed atomic.Bool
}

func (r *bodyReader) Close() error {
	if r.closed.CompareAndSwap(false, true) {
		r.p.release()
	}
	return nil
}
