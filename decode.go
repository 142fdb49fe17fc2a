package librato

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
)

// errorBody is the API's error document.
type errorBody struct {
	Errors struct {
		Params  map[string]json.RawMessage `json:"params"`
		Request json.RawMessage            `json:"request"`
		System  json.RawMessage            `json:"system"`
	} `json:"errors"`
}

// decodeError reads a non-2xx answer into an *APIError, its texts
// redacted; it reads at most maxErrorBody bytes of the body.
func (c *Client) decodeError(resp *http.Response, ep *endpoint, attempts int) *APIError {
	e := &APIError{
		StatusCode: resp.StatusCode,
		Method:     ep.method,
		Endpoint:   ep.template,
		RateLimit:  rateLimitsOf(resp.Header),
		Attempts:   max(attempts, 1),
	}
	if d, ok := serverWait(resp.StatusCode, resp.Header); ok {
		e.RetryAfter = d
	}
	hint := resp.ContentLength
	if hint > maxErrorBody {
		hint = -1
	}
	rb, _ := readCapped(resp.Body, hint, maxErrorBody, true)
	defer rb.release()
	data := bytes.TrimSpace(rb.data)
	if len(data) == 0 {
		return e
	}
	var eb errorBody
	if err := json.Unmarshal(data, &eb); err == nil && (eb.Errors.Params != nil || eb.Errors.Request != nil || eb.Errors.System != nil) {
		for k, v := range eb.Errors.Params {
			if e.Params == nil {
				e.Params = make(map[string][]string, len(eb.Errors.Params))
			}
			k = c.auth.redact(k)
			e.Params[k] = append(e.Params[k], c.messages(v)...)
		}
		e.Request = c.messages(eb.Errors.Request)
		e.System = c.messages(eb.Errors.System)
		return e
	}
	e.Message = c.scrubCut(string(data), maxMessage)
	return e
}

// maxMessage is how much of a body that is not the API's JSON an error
// quotes.
const maxMessage = 200

// scrubCut makes text valid UTF-8, redacts it, and only then cuts it to n
// bytes, so a cut can never leave part of a token behind.
func (c *Client) scrubCut(text string, n int) string {
	text = c.auth.redact(strings.ToValidUTF8(text, ""))
	if len(text) > n {
		text = strings.ToValidUTF8(text[:n], "") + "..."
	}
	return text
}

// messages reads a list of messages, or a single one, or anything else as
// its raw text, redacted.
func (c *Client) messages(raw json.RawMessage) []string {
	if len(raw) == 0 || string(raw) == "null" {
		return nil
	}
	var list []string
	if json.Unmarshal(raw, &list) == nil {
		for i := range list {
			list[i] = c.auth.redact(list[i])
		}
		return list
	}
	var one string
	if json.Unmarshal(raw, &one) == nil {
		return []string{c.auth.redact(one)}
	}
	return []string{c.scrubCut(string(raw), maxMessage)}
}

// decodeBody decodes a 2xx body into out, refusing a body over the
// client's cap; a 204, an empty body or a nil out decode to nothing.
func (c *Client) decodeBody(resp *http.Response, out any, ep *endpoint) error {
	if out == nil || resp.StatusCode == http.StatusNoContent {
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, maxErrorBody))
		return nil
	}
	if resp.ContentLength > c.maxBody {
		return &DecodeError{Method: ep.method, Endpoint: ep.template, StatusCode: resp.StatusCode, Err: fmt.Errorf("the body's Content-Length of %d bytes is over the %d-byte cap, so it was not read; raise the cap with WithMaxResponseBytes", resp.ContentLength, c.maxBody)}
	}
	rb, err := readCapped(resp.Body, resp.ContentLength, c.maxBody, false)
	defer rb.release()
	if err != nil {
		return &DecodeError{Method: ep.method, Endpoint: ep.template, StatusCode: resp.StatusCode, Err: c.redactedError(err)}
	}
	if rb.over {
		return &DecodeError{Method: ep.method, Endpoint: ep.template, StatusCode: resp.StatusCode, Err: fmt.Errorf("body exceeds %d bytes; raise the cap with WithMaxResponseBytes", c.maxBody)}
	}
	data := bytes.TrimSpace(rb.data)
	if len(data) == 0 {
		return nil
	}
	if err := decodeJSON(data, out); err != nil {
		return &DecodeError{Method: ep.method, Endpoint: ep.template, StatusCode: resp.StatusCode, Err: c.redactedError(err)}
	}
	return nil
}

// readBlockMax is the largest block readCapped adds at a time, and the
// largest first block readPool keeps.
const readBlockMax = 4 << 20

// readPool holds first blocks for readCapped, up to readBlockMax each.
var readPool = sync.Pool{New: func() any { b := make([]byte, 0, 32<<10); return &b }}

// readBody is what readCapped read; release returns its buffer to the pool
// once the bytes are decoded (the decoders copy what they keep).
type readBody struct {
	data   []byte
	over   bool // the body holds more than the limit
	pooled *[]byte
}

func (r readBody) release() {
	if r.pooled != nil && cap(*r.pooled) <= readBlockMax {
		*r.pooled = (*r.pooled)[:0]
		readPool.Put(r.pooled)
	}
}

// readCapped reads r to its end, or until it holds limit+1 bytes, which
// tells it the body is over limit: then it reports over, with the first
// limit bytes as data if truncate is set and no data otherwise. hint is the
// Content-Length, or -1 (0 is read as unknown, since a custom transport may
// leave it unset).
//
// Memory stays near what is read, never much past the cap. With a hint
// the body is read into one buffer of that size (plus a byte to see the
// end). Without, it is read in blocks, each sized so that together they
// never exceed limit+1 bytes, growing to readBlockMax at most; a body over
// the cap thus allocates about the cap and no more. Each new block is an
// eighth of what was read (64 KiB to readBlockMax), so a body under the
// cap read in several blocks, then joined into one buffer, costs at most
// about 2.125 times its size.
func readCapped(r io.Reader, hint, limit int64, truncate bool) (readBody, error) {
	budget := limit + 1
	want := int64(32 << 10)
	if hint > 0 {
		want = hint + 1
	}
	want = min(want, budget)
	p := readPool.Get().(*[]byte)
	if int64(cap(*p)) < want {
		*p = make([]byte, 0, want)
	}
	first := (*p)[:0:min(int64(cap(*p)), budget)]
	rb := readBody{pooled: p}
	blocks := [][]byte{first}
	cur, total := first, int64(0)
	for total <= limit {
		if len(cur) == cap(cur) {
			// an eighth of what was read keeps the unused tail of the
			// last block small, and the blocks few
			size := min(max(total/8, 64<<10), readBlockMax, budget-total)
			blocks[len(blocks)-1] = cur
			cur = make([]byte, 0, size)
			blocks = append(blocks, cur)
		}
		n, err := r.Read(cur[len(cur):cap(cur)])
		cur = cur[:len(cur)+n]
		total += int64(n)
		if err == io.EOF {
			break
		}
		if err != nil {
			return rb, err
		}
	}
	blocks[len(blocks)-1] = cur
	if total > limit {
		rb.over = true
		if !truncate {
			return rb, nil
		}
		total = limit
	}
	if len(blocks) == 1 {
		rb.data = cur[:total]
		return rb, nil
	}
	rb.data = make([]byte, 0, total)
	for _, b := range blocks {
		rb.data = append(rb.data, b[:min(int64(len(b)), total-int64(len(rb.data)))]...)
	}
	return rb, nil
}
