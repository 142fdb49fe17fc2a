package librato

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jarcoal/httpmock"
	"github.com/stretchr/testify/require"
)

// specialToken has the characters that escaping changes, so its
// percent-encoded and query spellings differ from it.
const specialToken = "s3cr+t/T0KEN=?&%~ x:y;z"

// tokenSpellings is every way a server may echo tok: as is, in the
// Authorization header, base64 of "email:tok" and of tok in every
// alphabet, padded or not, and percent- and JSON-escaped.
func tokenSpellings(tok string) []string {
	pair := []byte(testEmail + ":" + tok)
	out := []string{tok, "Basic " + base64.StdEncoding.EncodeToString(pair), url.PathEscape(tok), url.QueryEscape(tok)}
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.URLEncoding, base64.RawStdEncoding, base64.RawURLEncoding} {
		out = append(out, enc.EncodeToString(pair), enc.EncodeToString([]byte(tok)))
	}
	escape := func(pick func(i int) (bool, string)) string {
		var b strings.Builder
		for i := 0; i < len(tok); i++ {
			if esc, format := pick(i); esc {
				fmt.Fprintf(&b, format, tok[i])
			} else {
				b.WriteByte(tok[i])
			}
		}
		return b.String()
	}
	out = append(out,
		escape(func(int) (bool, string) { return true, "%%%02X" }),
		escape(func(int) (bool, string) { return true, "%%%02x" }),
		escape(func(i int) (bool, string) { return true, map[bool]string{true: "%%%02X", false: "%%%02x"}[i%2 == 0] }),
		escape(func(i int) (bool, string) { return i%3 != 1, "%%%02X" }),
		escape(func(int) (bool, string) { return true, `\u%04x` }),
		escape(func(i int) (bool, string) { return i%2 == 0, `\u%04X` }),
	)
	return out
}

// fragments is every 12-byte piece of tok.
func fragments(tok string) []string {
	var out []string
	for i := 0; i+12 <= len(tok); i++ {
		out = append(out, tok[i:i+12])
	}
	return out
}

// leakChecker searches text for the token, any 12-byte piece of it, and
// any spelling of it long enough to mean something.
type leakChecker struct {
	tok     string
	needles []string
}

func newLeakChecker(tok string) *leakChecker {
	lc := &leakChecker{tok: tok, needles: fragments(tok)}
	for _, s := range tokenSpellings(tok) {
		if len(s) >= 12 {
			lc.needles = append(lc.needles, s)
		}
	}
	return lc
}

func (lc *leakChecker) check(t *testing.T, what, text string) {
	t.Helper()
	for _, n := range lc.needles {
		if strings.Contains(text, n) {
			t.Errorf("%s leaks %q: %s", what, n, text)
			return
		}
	}
}

// checkError searches every rendering of err and of each error in its
// chain, and the fields of the SDK's error types.
func (lc *leakChecker) checkError(t *testing.T, what string, err error) {
	t.Helper()
	if err == nil {
		return
	}
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q"} {
		lc.check(t, what+" "+verb, fmt.Sprintf(verb, err))
	}
	lc.check(t, what+" Error()", err.Error())
	for e := errors.Unwrap(err); e != nil; e = errors.Unwrap(e) {
		lc.check(t, what+" in its chain", fmt.Sprintf("%v %#v", e, e))
	}
	var ae *APIError
	if errors.As(err, &ae) {
		lc.check(t, what+" APIError fields", fmt.Sprintf("%#v %#v %#v %#v %q", ae.Params, ae.Request, ae.System, ae.Message, ae.Endpoint))
	}
	var je *JobError
	if errors.As(err, &je) {
		lc.check(t, what+" JobError", je.Error())
	}
}

// recordSink is an slog handler that keeps every record's message and
// attribute values as plain text, unescaped, so a search sees what was
// logged.
type recordSink struct {
	mu    sync.Mutex
	lines []string
}

func (s *recordSink) Enabled(context.Context, slog.Level) bool { return true }
func (s *recordSink) WithAttrs([]slog.Attr) slog.Handler       { return s }
func (s *recordSink) WithGroup(string) slog.Handler            { return s }
func (s *recordSink) Handle(_ context.Context, r slog.Record) error {
	var b strings.Builder
	b.WriteString(r.Message)
	r.Attrs(func(a slog.Attr) bool {
		b.WriteString(" " + a.Key + "=" + a.Value.String())
		return true
	})
	s.mu.Lock()
	s.lines = append(s.lines, b.String())
	s.mu.Unlock()
	return nil
}

func (s *recordSink) take() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := strings.Join(s.lines, "\n")
	s.lines = nil
	return out
}

// echoShape answers a request with the credentials echoed somehow.
type echoShape struct {
	name    string
	respond func(req *http.Request, spellings []string) (*http.Response, error)
	timeout time.Duration // for the call; default a few seconds
	decodes bool          // a 2xx body meant not to decode
}

func jsonString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// echoShapes is every error shape and every kind of 2xx body, each echoing
// every spelling of the credentials (and the request's own Authorization
// header) in every field it has.
func echoShapes() []echoShape {
	all := func(req *http.Request, sp []string) []string {
		return append(append([]string(nil), sp...), req.Header.Get("Authorization"), req.URL.String())
	}
	joined := func(req *http.Request, sp []string) string { return strings.Join(all(req, sp), " | ") }
	var shapes []echoShape
	for _, status := range []int{400, 401, 403, 404, 413, 422, 429, 503} {
		shapes = append(shapes,
			echoShape{fmt.Sprintf("%d errors document", status), func(req *http.Request, sp []string) (*http.Response, error) {
				params := map[string][]string{}
				for _, s := range all(req, sp) {
					params[s] = []string{s, "was " + s}
				}
				body, _ := json.Marshal(map[string]any{"errors": map[string]any{"params": params, "request": all(req, sp), "system": all(req, sp)}})
				r := httpmock.NewBytesResponse(status, body)
				r.Header.Set("Retry-After", "0")
				return r, nil
			}, 0, false},
			echoShape{fmt.Sprintf("%d single messages", status), func(req *http.Request, sp []string) (*http.Response, error) {
				j := jsonString(joined(req, sp))
				return httpmock.NewStringResponse(status, `{"errors":{"request":`+j+`,"system":`+j+`,"params":{"name":`+j+`}}}`), nil
			}, 0, false},
			echoShape{fmt.Sprintf("%d odd messages", status), func(req *http.Request, sp []string) (*http.Response, error) {
				j := jsonString(joined(req, sp))
				return httpmock.NewStringResponse(status, `{"errors":{"request":{"k":`+j+`},"system":[1,`+j+`],"params":{"n":{"x":`+j+`}}}}`), nil
			}, 0, false},
			echoShape{fmt.Sprintf("%d html", status), func(req *http.Request, sp []string) (*http.Response, error) {
				return httpmock.NewStringResponse(status, "<html><body>"+joined(req, sp)+"</body></html>"), nil
			}, 0, false},
			echoShape{fmt.Sprintf("%d other json", status), func(req *http.Request, sp []string) (*http.Response, error) {
				return httpmock.NewStringResponse(status, `{"message":`+jsonString(joined(req, sp))+`}`), nil
			}, 0, false},
		)
	}
	// 2xx bodies the method cannot decode, each field in turn holding the
	// spellings in a shape it does not take.
	keys := []string{"id", "name", "version", "period", "query", "metrics", "measurements", "series", "links", "alerts", "annotations",
		"api_tokens", "spaces", "services", "charts", "streams", "conditions", "attributes", "tags", "summary", "state", "progress",
		"errors", "token", "role", "active", "settings", "href", "image_href", "events", "resolution", "type", "title", "display_name",
		"threshold", "duration", "time", "value", "job", "subject", "rearm_seconds", "created_at", "source"}
	for _, key := range keys {
		// a string where anything else may be expected (integers read
		// leniently, times, objects), and the spellings as an object's keys
		for _, form := range []string{`V`, `{V:[V]}`} {
			shapes = append(shapes, echoShape{"200 " + key + " " + form, func(req *http.Request, sp []string) (*http.Response, error) {
				body := `{"` + key + `":` + strings.ReplaceAll(form, "V", jsonString(joined(req, sp))) + `}`
				return httpmock.NewStringResponse(200, body), nil
			}, 0, true})
		}
	}
	for _, status := range []int{200, 201, 202} {
		shapes = append(shapes,
			echoShape{fmt.Sprintf("%d truncated json", status), func(req *http.Request, sp []string) (*http.Response, error) {
				return httpmock.NewStringResponse(status, `{"name":`+joined(req, sp)), nil
			}, 0, false},
			echoShape{fmt.Sprintf("%d ids as strings", status), func(req *http.Request, sp []string) (*http.Response, error) {
				j := jsonString(joined(req, sp))
				return httpmock.NewStringResponse(status, `{"id":`+j+`,"version":`+j+`,"query":{"found":`+j+`}}`), nil
			}, 0, false},
			echoShape{fmt.Sprintf("%d failed job", status), func(req *http.Request, sp []string) (*http.Response, error) {
				errs := map[string][]string{}
				for _, s := range all(req, sp) {
					errs[s] = []string{s}
				}
				body, _ := json.Marshal(map[string]any{"id": 11, "state": "failed", "errors": errs})
				return httpmock.NewBytesResponse(status, body), nil
			}, 0, false},
		)
	}
	shapes = append(shapes,
		echoShape{"200 job stuck in an echoed state", func(req *http.Request, sp []string) (*http.Response, error) {
			return httpmock.NewStringResponse(200, `{"id":11,"state":`+jsonString(joined(req, sp))+`}`), nil
		}, 150 * time.Millisecond, false},
		echoShape{"200 next links", func(req *http.Request, sp []string) (*http.Response, error) {
			var links []map[string]string
			for _, s := range sp {
				links = append(links, map[string]string{"rel": "next", "href": s}, map[string]string{"rel": "next", "href": "https://" + s + ".evil.example/" + s})
			}
			body, _ := json.Marshal(map[string]any{"series": []any{map[string]any{}}, "links": links})
			return httpmock.NewBytesResponse(200, body), nil
		}, 0, false},
		echoShape{"200 next link on the origin", func(req *http.Request, sp []string) (*http.Response, error) {
			href := testBase + "/v1/measurements/cpu?k=" + url.QueryEscape(strings.Join(sp, " "))
			body, _ := json.Marshal(map[string]any{"series": []any{map[string]any{}}, "links": []any{map[string]string{"rel": "next", "href": href}}})
			return httpmock.NewBytesResponse(200, body), nil
		}, 0, false},
		echoShape{"network error", func(req *http.Request, sp []string) (*http.Response, error) {
			return nil, errors.New("dial tcp " + joined(req, sp) + ": connection refused")
		}, 0, false},
	)
	for _, loc := range []func(s string) string{
		func(s string) string { return "https://user:" + url.QueryEscape(s) + "@api.test/prefix/v1/metrics/x" },
		func(s string) string {
			return "http://api.test/prefix/v1/" + url.PathEscape(s) + "?q=" + url.QueryEscape(s)
		},
		func(s string) string { return "https://evil.example/" + url.PathEscape(s) + "?q=" + url.QueryEscape(s) },
		func(s string) string { return "https://api.test/prefix/v1/" + s },
	} {
		shapes = append(shapes, echoShape{"302 to " + loc("TOKEN"), func(req *http.Request, sp []string) (*http.Response, error) {
			r := httpmock.NewStringResponse(302, joined(req, sp))
			r.Header.Set("Location", loc(sp[0]))
			return r, nil
		}, 0, false})
	}
	return shapes
}

// TestEchoedCredentialsNeverLeak calls every typed method against a server
// that echoes the credentials, in every spelling, in every field of every
// response shape, for two tokens, and searches every rendering of the
// error and every debug record for the token or any 12-byte piece of it.
func TestEchoedCredentialsNeverLeak(t *testing.T) {
	shapes := echoShapes()
	for _, tok := range []string{testToken, specialToken} {
		lc := newLeakChecker(tok)
		sp := tokenSpellings(tok)
		sink := &recordSink{}
		for _, tc := range typedCalls {
			for _, shape := range shapes {
				mt := httpmock.NewMockTransport()
				c, err := NewClient(testEmail, tok, WithBaseURL(testBase), WithHTTPClient(&http.Client{Transport: mt}),
					WithBackoff(time.Microsecond, time.Microsecond), WithMaxAttempts(2), WithLogger(slog.New(sink)))
				require.NoError(t, err)
				mt.RegisterNoResponder(func(req *http.Request) (*http.Response, error) { return shape.respond(req, sp) })
				timeout := shape.timeout
				if shape.decodes && tok != specialToken {
					continue // the token whose spellings differ most covers these
				}
				if tc.name == "Jobs.Wait" && shape.decodes {
					// a body Jobs.Get decodes is a job still running, which
					// Wait polls until its context ends; Jobs.Get covers
					// these bodies
					continue
				}
				switch {
				case tc.name == "Jobs.Wait":
					timeout = 150 * time.Millisecond // a job that never ends is waited for until then
				case timeout == 0:
					timeout = 10 * time.Second
				}
				ctx, cancel := context.WithTimeout(context.Background(), timeout)
				err = tc.call(ctx, c)
				cancel()
				what := tc.name + " / " + shape.name
				lc.checkError(t, what, err)
				lc.check(t, what+" log", sink.take())
				if t.Failed() {
					return
				}
			}
		}
	}
}

// TestCutsNeverLeaveAPieceOfTheToken puts each spelling of the token
// across the point where an error cuts a body it quotes, at every offset.
func TestCutsNeverLeaveAPieceOfTheToken(t *testing.T) {
	for _, tok := range []string{testToken, specialToken} {
		lc := newLeakChecker(tok)
		for _, s := range tokenSpellings(tok) {
			for off := maxMessage - len(s) - 1; off <= maxMessage+1; off++ {
				pad := strings.Repeat("x", max(off, 0))
				for _, body := range []string{
					pad + s + " tail", // an error body that is not JSON
					`{"errors":{"request":{"k":"` + pad[min(len(pad), 19):] + s + `"}}}`, // a message that is not a string
				} {
					mt := httpmock.NewMockTransport()
					sink := &recordSink{}
					c, err := NewClient(testEmail, tok, WithBaseURL(testBase), WithHTTPClient(&http.Client{Transport: mt}), WithoutRetries(), WithLogger(slog.New(sink)))
					require.NoError(t, err)
					mt.RegisterNoResponder(httpmock.NewStringResponder(502, body))
					_, err = c.Metrics.Get(context.Background(), "cpu")
					require.Error(t, err)
					lc.checkError(t, fmt.Sprintf("%q at %d", s, off), err)
					lc.check(t, "log", sink.take())
				}
			}
		}
		// the caller's own input, quoted by validation, around its cut
		for _, pad := range []int{0, 10, 41, 50, 63, 64, 200} {
			c, err := NewClient(testEmail, tok, WithHTTPClient(&http.Client{Transport: failTransport{}}))
			require.NoError(t, err)
			name := strings.Repeat("n", pad) + tok + " "
			_, err = c.Measurements.Create(context.Background(), &MeasurementBatch{Measurements: []Measurement{{Name: name, Value: 1}}})
			var ve *ValidationError
			require.ErrorAs(t, err, &ve)
			lc.checkError(t, fmt.Sprintf("metric name padded %d", pad), err)
			_, err = c.Measurements.Create(context.Background(), &MeasurementBatch{Measurements: []Measurement{{Name: "cpu", Value: 1, Tags: map[string]string{"host": strings.Repeat("v", pad) + tok + "\n"}}}})
			require.ErrorAs(t, err, &ve)
			lc.checkError(t, fmt.Sprintf("tag value padded %d", pad), err)
		}
	}
}

// TestRedactSpellings checks redact on each spelling alone and inside
// text, and that it leaves text without the token alone.
func TestRedactSpellings(t *testing.T) {
	for _, tok := range []string{testToken, specialToken} {
		s := newSecret(testEmail, tok)
		lc := newLeakChecker(tok)
		for _, sp := range tokenSpellings(tok) {
			for _, text := range []string{sp, "a " + sp + " b", sp + sp, "%" + sp + "%", `\` + sp} {
				got := s.redact(text)
				lc.check(t, fmt.Sprintf("redact(%q)", text), got)
				if !strings.Contains(got, "[REDACTED]") {
					t.Errorf("redact(%q) = %q", text, got)
				}
			}
		}
		for _, clean := range []string{"", "plain", "100%", "%zz", `\u12`, "a+b", "%41%42", `\u0041\/x`} {
			if got := s.redact(clean); got != clean {
				t.Errorf("redact(%q) = %q, want it unchanged", clean, got)
			}
		}
	}
}
