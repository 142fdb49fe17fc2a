package api

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"iter"
	"maps"
	"math"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"
)

// decodeJSON reads a JSON object; numbers stay json.Number so integers
// keep their precision.
func decodeJSON(data []byte) (map[string]any, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errors.New("unexpected data after the JSON value")
	}
	m, ok := v.(map[string]any)
	if !ok {
		return nil, errors.New("the body must be a JSON object")
	}
	return m, nil
}

// decodeForm reads an application/x-www-form-urlencoded body with Rails'
// bracket nesting into the structure the same JSON body would have:
// attributes[display_min]=0 is {"attributes":{"display_min":"0"}},
// names[]=a&names[]=b is {"names":["a","b"]}, links[0][rel]=x is
// {"links":[{"rel":"x"}]}. Every leaf is a string; the field readers
// convert them.
func decodeForm(data []byte) (map[string]any, error) {
	vals, err := url.ParseQuery(string(data))
	if err != nil {
		return nil, err
	}
	root := map[string]any{}
	keys := make([]string, 0, len(vals))
	for k := range vals {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, key := range keys {
		base, segs, err := splitFormKey(key)
		if err != nil {
			return nil, err
		}
		if err := insertForm(root, base, segs, vals[key]); err != nil {
			return nil, fmt.Errorf("form field %q: %w", key, err)
		}
	}
	// Only nested objects become lists: the body itself stays an object
	// even if its field names are digits.
	for k, v := range root {
		root[k] = listify(v)
	}
	return root, nil
}

// maxFormDepth bounds the nesting of a form field name, as encoding/json
// bounds JSON's, so a hostile key cannot exhaust the stack.
const maxFormDepth = 32

// splitFormKey splits "a[b][c][]" into "a" and ["b","c",""].
func splitFormKey(key string) (string, []string, error) {
	i := strings.IndexByte(key, '[')
	if i < 0 {
		return key, nil, nil
	}
	base, rest := key[:i], key[i:]
	if base == "" {
		return "", nil, fmt.Errorf("form field %q has no name before '['", key)
	}
	var segs []string
	for rest != "" {
		if rest[0] != '[' {
			return "", nil, fmt.Errorf("form field %q: expected '[' at %q", key, rest)
		}
		j := strings.IndexByte(rest, ']')
		if j < 0 {
			return "", nil, fmt.Errorf("form field %q: unclosed '['", key)
		}
		segs = append(segs, rest[1:j])
		rest = rest[j+1:]
		if len(segs) > maxFormDepth {
			return "", nil, fmt.Errorf("form field %.40q... is nested deeper than %d levels", key, maxFormDepth)
		}
	}
	for i, s := range segs {
		if s == "" && i != len(segs)-1 {
			return "", nil, fmt.Errorf("form field %q: '[]' is supported only at the end", key)
		}
	}
	return base, segs, nil
}

func insertForm(m map[string]any, base string, segs []string, values []string) error {
	if len(segs) == 0 {
		if _, exists := m[base]; exists {
			return errors.New("given both as a value and as a nested field")
		}
		if len(values) == 1 {
			m[base] = values[0]
		} else {
			list := make([]any, len(values))
			for i, v := range values {
				list[i] = v
			}
			m[base] = list
		}
		return nil
	}
	if segs[0] == "" { // base[] = list of values
		if _, exists := m[base]; exists {
			return errors.New("given both as a list and otherwise")
		}
		list := make([]any, len(values))
		for i, v := range values {
			list[i] = v
		}
		m[base] = list
		return nil
	}
	child, exists := m[base]
	if !exists {
		child = map[string]any{}
		m[base] = child
	}
	cm, ok := child.(map[string]any)
	if !ok {
		return errors.New("given both as a value and as a nested field")
	}
	return insertForm(cm, segs[0], segs[1:], values)
}

// listify turns maps whose keys are all small non-negative integers into
// lists ordered by index, recursively.
func listify(v any) any {
	m, ok := v.(map[string]any)
	if !ok {
		return v
	}
	for k, c := range m {
		m[k] = listify(c)
	}
	if len(m) == 0 {
		return m
	}
	idx := make([]int, 0, len(m))
	for k := range m {
		n, err := strconv.Atoi(k)
		if err != nil || n < 0 || n > 100000 || strconv.Itoa(n) != k {
			return m
		}
		idx = append(idx, n)
	}
	sort.Ints(idx)
	list := make([]any, len(idx))
	for i, n := range idx {
		list[i] = m[strconv.Itoa(n)]
	}
	return list
}

// obj reads fields of a decoded JSON or form object. Readers accept the
// JSON type and, for numbers and booleans, the string a form carries; a
// field of the wrong type is recorded in errs as "is invalid" and read as
// absent. A null field reads as absent.
type obj struct {
	m     map[string]any
	path  string
	errs  perrs
	notes *notes // the request's; nil: not noted
}

// child is a nested object of o at path, reporting to o's errors and
// notes.
func (o obj) child(m map[string]any, path string) obj {
	return obj{m: m, path: path, errs: o.errs, notes: o.notes}
}

func newObj(m map[string]any, errs perrs) obj { return obj{m: m, errs: errs} }

// key is the field's name in errors.params: "name" at top level,
// "measurements[2].name" inside a list item.
func (o obj) key(k string) string {
	if o.path == "" {
		return k
	}
	return o.path + "." + k
}

func (o obj) raw(k string) (any, bool) {
	v, ok := o.m[k]
	if !ok || v == nil {
		return nil, false
	}
	return v, true
}

// has reports whether k is present and not null.
func (o obj) has(k string) bool { _, ok := o.raw(k); return ok }

// present reports whether k is present, even as null.
func (o obj) present(k string) bool { _, ok := o.m[k]; return ok }

func (o obj) invalid(k, msg string) { o.errs.add(o.key(k), msg) }

func (o obj) str(k string) (string, bool) {
	v, ok := o.raw(k)
	if !ok {
		return "", false
	}
	switch t := v.(type) {
	case string:
		return t, true
	case json.Number:
		return t.String(), true
	case float64:
		return strconv.FormatFloat(t, 'f', -1, 64), true
	case int:
		return strconv.Itoa(t), true
	case int64:
		return strconv.FormatInt(t, 10), true
	}
	o.invalid(k, "is invalid: expected a string")
	return "", false
}

// requiredStr reads a string that must be present and not blank.
func (o obj) requiredStr(k string) (string, bool) {
	s, ok := o.str(k)
	if !ok {
		if !o.has(k) {
			o.invalid(k, "is required")
		}
		return "", false
	}
	if strings.TrimSpace(s) == "" {
		o.invalid(k, "is required")
		return "", false
	}
	return s, true
}

// number converts v to a float64; a JSON number too large for float64
// reads as an infinity so the caller reports it as out of range.
func number(v any) (float64, bool) {
	switch t := v.(type) {
	case json.Number:
		f, err := strconv.ParseFloat(t.String(), 64)
		if err != nil && !math.IsInf(f, 0) {
			return 0, false
		}
		return f, true
	case float64:
		return t, true
	case int:
		return float64(t), true
	case int64:
		return float64(t), true
	case string:
		s := strings.TrimSpace(t)
		if s == "" {
			return 0, false
		}
		f, err := strconv.ParseFloat(s, 64)
		if math.IsNaN(f) || (err != nil && !math.IsInf(f, 0)) {
			return 0, false
		}
		if math.IsInf(f, 0) && !strings.ContainsAny(s, "eE") {
			return 0, false // "Inf", "infinity": not a number on the wire
		}
		return f, true
	}
	return 0, false
}

// read reads field k with conv; a value conv refuses is reported as
// invalid, saying it expected want. With blankIsAbsent an empty or blank
// string (an empty form field) is no value rather than a wrong one.
func read[T any](o obj, k, want string, blankIsAbsent bool, conv func(any) (T, bool)) (T, bool) {
	var zero T
	v, ok := o.raw(k)
	if !ok {
		return zero, false
	}
	if s, isStr := v.(string); blankIsAbsent && isStr && strings.TrimSpace(s) == "" {
		return zero, false
	}
	x, ok := conv(v)
	if !ok {
		o.invalid(k, "is invalid: expected "+want)
		return zero, false
	}
	return x, true
}

func (o obj) float(k string) (float64, bool) { return read(o, k, "a number", true, number) }

func integer(v any) (int64, bool) {
	f, ok := number(v)
	if !ok || math.IsInf(f, 0) || f != math.Trunc(f) || math.Abs(f) > 1<<53 {
		return 0, false
	}
	return int64(f), true
}

func (o obj) int(k string) (int64, bool) { return read(o, k, "an integer", true, integer) }

func boolean(v any) (bool, bool) {
	switch t := v.(type) {
	case bool:
		return t, true
	case string:
		switch strings.ToLower(strings.TrimSpace(t)) {
		case "true", "1", "t", "yes":
			return true, true
		case "false", "0", "f", "no":
			return false, true
		}
	case json.Number:
		switch t.String() {
		case "1":
			return true, true
		case "0":
			return false, true
		}
	}
	return false, false
}

func (o obj) boolean(k string) (bool, bool) {
	return read(o, k, "true or false", false, boolean)
}

// object reads a nested object.
func (o obj) object(k string) (obj, bool) {
	v, ok := o.raw(k)
	if !ok {
		return obj{}, false
	}
	m, ok := v.(map[string]any)
	if !ok {
		o.invalid(k, "is invalid: expected an object")
		return obj{}, false
	}
	return o.child(m, o.key(k)), true
}

// list reads an array; a form field sent once without [] is a list of one.
func (o obj) list(k string) ([]any, bool) {
	v, ok := o.raw(k)
	if !ok {
		return nil, false
	}
	switch t := v.(type) {
	case []any:
		return t, true
	}
	o.invalid(k, "is invalid: expected a list")
	return nil, false
}

// item reads element i of list k as an object.
func (o obj) item(k string, i int, v any) (obj, bool) {
	m, ok := v.(map[string]any)
	path := o.key(k) + "[" + strconv.Itoa(i) + "]"
	if !ok {
		o.errs.add(path, "is invalid: expected an object")
		return obj{}, false
	}
	return o.child(m, path), true
}

// strList reads a list of strings (numbers are taken as their text).
func (o obj) strList(k string) ([]string, bool) {
	l, ok := o.list(k)
	if !ok {
		return nil, false
	}
	out := make([]string, 0, len(l))
	for i, v := range l {
		s, ok := (obj{m: map[string]any{"v": v}}).strValue()
		if !ok {
			o.errs.add(o.key(k)+"["+strconv.Itoa(i)+"]", "is invalid: expected a string")
			return nil, false
		}
		out = append(out, s)
	}
	return out, true
}

// strValue reads the helper field "v" of a one-field obj without errors.
func (o obj) strValue() (string, bool) {
	switch t := o.m["v"].(type) {
	case string:
		return t, true
	case json.Number:
		return t.String(), true
	case float64:
		return strconv.FormatFloat(t, 'f', -1, 64), true
	}
	return "", false
}

// plain converts a decoded value to plain JSON values (json.Number to
// float64 or int64), for storing free-form objects such as alert
// attributes and service settings.
func plain(v any) any {
	switch t := v.(type) {
	case json.Number:
		if n, err := t.Int64(); err == nil {
			return n
		}
		f, _ := t.Float64()
		return f
	case map[string]any:
		out := make(map[string]any, len(t))
		for k, c := range t {
			out[k] = plain(c)
		}
		return out
	case []any:
		out := make([]any, len(t))
		for i, c := range t {
			out[i] = plain(c)
		}
		return out
	}
	return v
}

// BodyBytes reads a request body as every endpoint must see it: decoded
// from its Content-Encoding and at most limit bytes once decoded. gzip
// (and its alias x-gzip) is accepted, once, as appoptics-api-go gzips
// every body; identity means none. A body larger than limit, before or
// after decompression, is 413, so a small gzip bomb costs at most limit
// bytes; any other encoding, or more than one coding, is 415.
func BodyBytes(r *http.Request, limit int64) ([]byte, *Reply) {
	gzipped, rep := contentEncodings(r.Header)
	if rep != nil {
		return nil, rep
	}
	if r.ContentLength > limit {
		return nil, tooLarge(limit, "")
	}
	data, err := io.ReadAll(io.LimitReader(r.Body, limit+1))
	if err != nil {
		return nil, RequestError(http.StatusBadRequest, "could not read the request body: "+err.Error())
	}
	if int64(len(data)) > limit {
		return nil, tooLarge(limit, "")
	}
	if gzipped && len(data) > 0 { // appoptics-api-go sends Content-Encoding: gzip on bodiless GETs too
		zr, err := gzip.NewReader(bytes.NewReader(data))
		if err != nil {
			return nil, RequestError(http.StatusBadRequest, "the body is not valid gzip (Content-Encoding: gzip): "+err.Error())
		}
		data, err = io.ReadAll(io.LimitReader(zr, limit+1))
		if err != nil {
			return nil, RequestError(http.StatusBadRequest, "the gzip body does not decompress: "+err.Error())
		}
		if int64(len(data)) > limit {
			return nil, tooLarge(limit, " once decompressed")
		}
	}
	return data, nil
}

func tooLarge(limit int64, when string) *Reply {
	return RequestError(http.StatusRequestEntityTooLarge, "Request body too large: the limit is "+strconv.FormatInt(limit, 10)+" bytes"+when)
}

// codings lists the Content-Encoding values of h, lower-cased, one coding
// at a time.
func codings(h http.Header) iter.Seq[string] {
	return func(yield func(string) bool) {
		for _, v := range h.Values("Content-Encoding") {
			for _, c := range strings.Split(v, ",") {
				if !yield(strings.ToLower(strings.TrimSpace(c))) {
					return
				}
			}
		}
	}
}

// Gzipped reports whether a request declares a gzip coding (gzip or
// x-gzip) among its Content-Encoding values.
func Gzipped(h http.Header) bool {
	for c := range codings(h) {
		if c == "gzip" || c == "x-gzip" {
			return true
		}
	}
	return false
}

// contentEncodings reports whether a body is gzipped. Any coding but
// gzip, x-gzip and identity is 415, and so is a second gzip: codings
// stacked layer on layer cost their decompression each (1,500 layers
// declared in one header took 2.9 GiB), and no client stacks them.
func contentEncodings(h http.Header) (bool, *Reply) {
	n := 0
	for c := range codings(h) {
		switch c {
		case "", "identity":
		case "gzip", "x-gzip":
			if n++; n > 1 {
				return false, RequestError(http.StatusUnsupportedMediaType,
					"Unsupported Content-Encoding: more than one coding; send the body as is or gzipped once (Content-Encoding: gzip)")
			}
		default:
			return false, RequestError(http.StatusUnsupportedMediaType,
				"Unsupported Content-Encoding "+strconv.Quote(c)+": send the body as is or gzip it (Content-Encoding: gzip)")
		}
	}
	return n == 1, nil
}

// CheckJSONText answers 400 with errors.params when a string of a JSON
// body, name or value, is not valid UTF-8 or holds an unpaired UTF-16
// surrogate escape ("\udcff"). encoding/json would read either as U+FFFD,
// so "\xff" and "\xfe" would name the same object. Valid text costs one
// pass over the bytes; only a problem is located, by walking the tokens.
func CheckJSONText(data []byte) *Reply {
	if utf8.Valid(data) && !bytes.Contains(data, []byte(`\u`)) || stringProblem(data) == "" {
		return nil
	}
	if path, msg, ok := badJSONString(data); ok {
		return paramError(path, msg)
	}
	return nil // not inside a string: a syntax error, reported by the decoder
}

// badJSONString finds the first string of data, name or value, that is
// not valid UTF-8 or has an unpaired surrogate escape, and returns its
// errors.params key ("measurements[2].name").
func badJSONString(data []byte) (path, msg string, found bool) {
	type frame struct {
		object  bool
		key     string // the current member's name (objects)
		index   int    // the current element's index (arrays)
		wantKey bool
	}
	var stack []frame
	where := func() string {
		var b strings.Builder
		for i, f := range stack {
			if f.object {
				if i > 0 {
					b.WriteByte('.')
				}
				b.WriteString(f.key)
			} else {
				b.WriteString("[" + strconv.Itoa(f.index) + "]")
			}
		}
		return b.String()
	}
	done := func() { // a value of the innermost container ended
		if n := len(stack); n > 0 {
			if stack[n-1].object {
				stack[n-1].wantKey = true
			} else {
				stack[n-1].index++
			}
		}
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	var prev int64
	for {
		tok, err := dec.Token()
		if err != nil {
			return "", "", false
		}
		end := dec.InputOffset()
		raw := data[prev:end] // the token, after separators and spaces (ASCII)
		prev = end
		switch v := tok.(type) {
		case json.Delim:
			switch v {
			case '{':
				stack = append(stack, frame{object: true, wantKey: true})
			case '[':
				stack = append(stack, frame{})
			default:
				stack = stack[:len(stack)-1]
				done()
			}
		case string:
			n := len(stack)
			isKey := n > 0 && stack[n-1].object && stack[n-1].wantKey
			if isKey {
				stack[n-1].key, stack[n-1].wantKey = v, false
			}
			if m := stringProblem(raw); m != "" {
				p := where()
				if p == "" {
					p = "request"
				}
				return p, m, true
			}
			if !isKey {
				done()
			}
		default:
			done()
		}
	}
}

// stringProblem checks JSON text, one string token or a whole document
// (a \u escape only occurs inside strings), for bytes that are not UTF-8
// and unpaired surrogate escapes.
func stringProblem(raw []byte) string {
	if !utf8.Valid(raw) {
		return msgInvalidUTF8
	}
	for i := 0; i < len(raw); i++ {
		j := bytes.IndexByte(raw[i:], '\\')
		if j < 0 {
			return ""
		}
		if i += j; i+1 >= len(raw) {
			continue
		}
		if raw[i+1] != 'u' {
			i++ // skip the escaped character, which may be a backslash
			continue
		}
		r, ok := hex4(raw, i+2)
		if !ok {
			continue
		}
		switch {
		case r >= 0xD800 && r <= 0xDBFF:
			lo, ok := hex4(raw, i+8)
			if !ok || i+7 >= len(raw) || raw[i+6] != '\\' || raw[i+7] != 'u' || lo < 0xDC00 || lo > 0xDFFF {
				return msgUnpairedSurrogate
			}
			i += 11
		case r >= 0xDC00 && r <= 0xDFFF:
			return msgUnpairedSurrogate
		default:
			i += 5
		}
	}
	return ""
}

const msgUnpairedSurrogate = `is invalid: holds an unpaired UTF-16 surrogate escape (\uD800 to \uDFFF), which is no character`

func hex4(b []byte, at int) (rune, bool) {
	if at+4 > len(b) {
		return 0, false
	}
	n, err := strconv.ParseUint(string(b[at:at+4]), 16, 32)
	return rune(n), err == nil
}

// checkTreeUTF8 answers 400 with errors.params for the first string of a
// decoded body (names included) that is not valid UTF-8: form values,
// which arrive percent-encoded, and Go seeds.
func checkTreeUTF8(m map[string]any) *Reply {
	errs := perrs{}
	walkUTF8(m, "", errs)
	return errs.reply()
}

func walkUTF8(v any, path string, errs perrs) {
	key := path
	if key == "" {
		key = "request"
	}
	switch t := v.(type) {
	case string:
		if !utf8.ValidString(t) {
			errs.add(key, msgInvalidUTF8)
		}
	case map[string]any:
		for _, k := range slices.Sorted(maps.Keys(t)) {
			p := k
			if path != "" {
				p = path + "." + k
			}
			if !utf8.ValidString(k) {
				errs.add(strings.ToValidUTF8(p, "\uFFFD"), msgInvalidUTF8)
				continue
			}
			walkUTF8(t[k], p, errs)
		}
	case []any:
		for i, c := range t {
			walkUTF8(c, path+"["+strconv.Itoa(i)+"]", errs)
		}
	case []string:
		for i, c := range t {
			walkUTF8(c, path+"["+strconv.Itoa(i)+"]", errs)
		}
	}
}
