package librato

import (
	"bytes"
	"encoding"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"unicode/utf8"
)

// The reference writes numbers as strings in several examples (service ids
// "145", attribute values such as display_max: '150'), and a server that
// stores what such a client sent may well answer with it. Every response
// type therefore takes a number sent as a string, in one place: decodeJSON,
// which every 2xx body goes through.
//
// The plain path is encoding/json and nothing else. Only when it fails
// because a string met a numeric field does a second pass run: the body is
// read as a generic tree, walked alongside the target type, numeric strings
// standing where the type wants a number become numbers, and the fixed tree
// is decoded into a zero value of the target. A string that is not a
// number still fails, with an error that quotes at most a few characters
// of it, since a hostile server could echo a secret there.
//
// A type with its own UnmarshalJSON is walked by its exported fields and
// their JSON names, the shape such methods in this package decode into; a
// non-struct type with its own decoder (Role) is left to it. Those methods
// decode their parts with decodeJSON too, so the shapes the walk cannot
// follow (a service given as a bare id, an annotation stream's events) are
// lenient all the same, and so is a caller's own json.Unmarshal of them.

// decodeJSON decodes data into out like json.Unmarshal, accepting numbers
// sent as strings (see above). out must be a non-nil pointer.
func decodeJSON(data []byte, out any) error {
	err := json.Unmarshal(data, out)
	if err == nil || !stringMetNumber(err) {
		return err
	}
	return decodeLenient(data, out)
}

// stringMetNumber reports whether err is encoding/json refusing a JSON
// string for a numeric Go type, the one failure the lenient pass repairs.
func stringMetNumber(err error) bool {
	var te *json.UnmarshalTypeError
	return errors.As(err, &te) && te.Value == "string" && te.Type != nil && numericKind(te.Type.Kind())
}

func numericKind(k reflect.Kind) bool {
	switch k {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr,
		reflect.Float32, reflect.Float64:
		return true
	}
	return false
}

// decodeLenient is the second pass. It decodes into a fresh zero value and
// then replaces *out, so that a decoder which accumulates (appends to what
// it holds) does not see the document twice; the targets of the SDK's
// calls start from zero anyway.
func decodeLenient(data []byte, out any) error {
	rv := reflect.ValueOf(out)
	if rv.Kind() != reflect.Pointer || rv.IsNil() {
		return json.Unmarshal(data, out)
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber() // numbers stay as written, so nothing is rounded on the way
	var tree any
	if err := dec.Decode(&tree); err != nil {
		return err
	}
	tree, err := normalize(tree, rv.Type().Elem())
	if err != nil {
		return err
	}
	fixed, err := json.Marshal(tree)
	if err != nil {
		return err
	}
	fresh := reflect.New(rv.Type().Elem())
	if err := json.Unmarshal(fixed, fresh.Interface()); err != nil {
		return err
	}
	rv.Elem().Set(fresh.Elem())
	return nil
}

var (
	jsonUnmarshalerType = reflect.TypeFor[json.Unmarshaler]()
	textUnmarshalerType = reflect.TypeFor[encoding.TextUnmarshaler]()
)

// customDecoder reports whether encoding/json hands values of t to t's own
// method rather than decoding them by kind.
func customDecoder(t reflect.Type) bool {
	p := reflect.PointerTo(t)
	return p.Implements(jsonUnmarshalerType) || p.Implements(textUnmarshalerType)
}

// normalize returns v, a tree from a UseNumber decode, with every string
// that stands where t wants a number turned into that number. Values whose
// shape does not fit t are left as they are, for encoding/json to judge.
func normalize(v any, t reflect.Type) (any, error) {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if v == nil {
		return nil, nil
	}
	if customDecoder(t) && t.Kind() != reflect.Struct {
		return v, nil
	}
	switch t.Kind() {
	case reflect.Struct:
		m, ok := v.(map[string]any)
		if !ok {
			return v, nil
		}
		fields := structFields(t)
		for k, x := range m {
			f, ok := fields.lookup(k)
			if !ok || f.quoted {
				continue
			}
			nx, err := normalize(x, f.typ)
			if err != nil {
				return nil, under(err, f.name)
			}
			m[k] = nx
		}
		return m, nil
	case reflect.Map:
		m, ok := v.(map[string]any)
		if !ok {
			return v, nil
		}
		for k, x := range m {
			nx, err := normalize(x, t.Elem())
			if err != nil {
				return nil, under(err, "["+snippet(k)+"]")
			}
			m[k] = nx
		}
		return m, nil
	case reflect.Slice, reflect.Array:
		a, ok := v.([]any)
		if !ok {
			return v, nil
		}
		for i, x := range a {
			nx, err := normalize(x, t.Elem())
			if err != nil {
				return nil, under(err, "["+strconv.Itoa(i)+"]")
			}
			a[i] = nx
		}
		return a, nil
	}
	if s, ok := v.(string); ok && numericKind(t.Kind()) {
		return numberFromString(s, t)
	}
	return v, nil
}

// numberFromString reads s as a number fit for t. Surrounding space is
// ignored, an empty string reads as null (the zero value), an integer
// field takes an integral "60.0" or "6e1", and anything else, NaN,
// infinities and out-of-range values included, is an error.
func numberFromString(s string, t reflect.Type) (any, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return nil, nil
	}
	bad := func(why string) error {
		return &lenientError{reason: fmt.Sprintf("%s (%d bytes) %s", snippet(s), len(s), why)}
	}
	switch t.Kind() {
	case reflect.Float32, reflect.Float64:
		f, err := strconv.ParseFloat(s, t.Bits())
		switch {
		case err != nil && errors.Is(err, strconv.ErrRange):
			return nil, bad("is out of range for " + t.Kind().String())
		case err != nil || math.IsNaN(f) || math.IsInf(f, 0) || strings.ContainsAny(s, "xX_"):
			return nil, bad("is not a number")
		}
		return json.Number(strconv.FormatFloat(f, 'g', -1, 64)), nil
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		if n, err := strconv.ParseUint(strings.TrimPrefix(s, "+"), 10, t.Bits()); err == nil {
			return json.Number(strconv.FormatUint(n, 10)), nil
		}
	default:
		if n, err := strconv.ParseInt(s, 10, t.Bits()); err == nil {
			return json.Number(strconv.FormatInt(n, 10)), nil
		}
	}
	f, err := strconv.ParseFloat(s, 64)
	switch {
	case err != nil || math.IsNaN(f) || math.IsInf(f, 0) || strings.ContainsAny(s, "xX_"):
		return nil, bad("is not a number")
	case f != math.Trunc(f):
		return nil, bad("is not an integer")
	}
	// An integral value written with a fraction or an exponent: in range?
	// Through float64, integers are exact only up to 2^53.
	lo, hi := intRange(t)
	if f < lo || f > hi || math.Abs(f) > 1<<53 {
		return nil, bad("is out of range for " + t.Kind().String())
	}
	return json.Number(strconv.FormatFloat(f, 'f', 0, 64)), nil
}

func intRange(t reflect.Type) (lo, hi float64) {
	bits := t.Bits()
	switch t.Kind() {
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		return 0, math.Ldexp(1, bits) - 1
	}
	return -math.Ldexp(1, bits-1), math.Ldexp(1, bits-1) - 1
}

// snippet quotes at most the first four characters of s, so an error can
// point at a value without repeating it.
func snippet(s string) string {
	const keep = 4
	n, i := 0, 0
	for i < len(s) && n < keep {
		_, size := utf8.DecodeRuneInString(s[i:])
		i += size
		n++
	}
	if i < len(s) {
		return strconv.Quote(s[:i]) + "…"
	}
	return strconv.Quote(s)
}

// lenientError is a value the lenient pass could not read as a number,
// and where it stands in the body.
type lenientError struct {
	path   string
	reason string
}

func (e *lenientError) Error() string {
	if e.path == "" {
		return "response value " + e.reason
	}
	return "response field " + e.path + ": " + e.reason
}

// under prefixes err's path with the name or index of the member it lies
// in.
func under(err error, seg string) error {
	var le *lenientError
	if !errors.As(err, &le) {
		return err
	}
	switch {
	case le.path == "":
		le.path = seg
	case strings.HasPrefix(le.path, "["):
		le.path = seg + le.path
	default:
		le.path = seg + "." + le.path
	}
	return le
}

// jsonField is one member of a struct as encoding/json names it.
type jsonField struct {
	name   string
	typ    reflect.Type
	quoted bool // the ",string" option: the value is meant to be a string
}

type fieldSet struct {
	exact map[string]*jsonField
	list  []*jsonField
}

// lookup matches a key as encoding/json does: exactly, else ignoring case.
func (fs *fieldSet) lookup(key string) (*jsonField, bool) {
	if f, ok := fs.exact[key]; ok {
		return f, true
	}
	for _, f := range fs.list {
		if strings.EqualFold(f.name, key) {
			return f, true
		}
	}
	return nil, false
}

var fieldCache sync.Map // reflect.Type -> *fieldSet

// structFields lists the JSON members of struct t, promoting the fields
// of untagged embedded structs; a shallower field wins over a deeper one
// of the same name, as in encoding/json.
func structFields(t reflect.Type) *fieldSet {
	if fs, ok := fieldCache.Load(t); ok {
		return fs.(*fieldSet)
	}
	fs := &fieldSet{exact: map[string]*jsonField{}}
	type level struct {
		t     reflect.Type
		depth int
	}
	depthOf := map[string]int{}
	queue := []level{{t, 0}}
	visited := map[reflect.Type]bool{}
	for len(queue) > 0 {
		l := queue[0]
		queue = queue[1:]
		if visited[l.t] {
			continue
		}
		visited[l.t] = true
		for i := 0; i < l.t.NumField(); i++ {
			sf := l.t.Field(i)
			tag := sf.Tag.Get("json")
			if tag == "-" {
				continue
			}
			name, opts, _ := strings.Cut(tag, ",")
			ft := sf.Type
			if sf.Anonymous && name == "" {
				et := ft
				if et.Kind() == reflect.Pointer {
					et = et.Elem()
				}
				if et.Kind() == reflect.Struct {
					queue = append(queue, level{et, l.depth + 1})
					continue
				}
			}
			if !sf.IsExported() {
				continue
			}
			if name == "" {
				name = sf.Name
			}
			if d, seen := depthOf[name]; seen && d <= l.depth {
				continue
			}
			depthOf[name] = l.depth
			f := &jsonField{name: name, typ: ft, quoted: strings.Contains(","+opts+",", ",string,")}
			if old, ok := fs.exact[name]; ok {
				*old = *f
				continue
			}
			fs.exact[name] = f
			fs.list = append(fs.list, f)
		}
	}
	actual, _ := fieldCache.LoadOrStore(t, fs)
	return actual.(*fieldSet)
}
