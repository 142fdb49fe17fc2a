package tsdb

import (
	"bytes"
	"math"
	"strconv"
	"strings"
)

// Ingest stores the measurements of a POST /v1/measurements body read
// in one pass, without a generic JSON tree, and reports how many; false
// stores nothing and leaves the body to the generic reader. A body whose
// measurements go to metrics of another type stores nothing either and
// returns the messages of TypeConflicts. It takes only
// bodies whose fields it reads exactly as the generic decoder would:
// plain JSON strings (no escapes, ASCII) in the fields it reads, numbers
// in the numeric fields, no duplicate keys among them, no
// measurement-level attributes, type or composite; and only bodies that
// keep the rules (Batch.Check, Fields.Build, the name and tag rules),
// which the generic reader applies too. So a body it refuses gets the
// generic reader's status, error keys and messages by construction;
// FuzzIngestDifferential checks that the two readers read the same.
func (s *Store) Ingest(body []byte, now int64, ua string) (Ingested, bool) {
	defer s.dec.release()
	in, ok := s.dec.decode(body, now)
	if !ok {
		return Ingested{}, false
	}
	out := Ingested{FracTime: s.dec.fracTime, ZeroTime: s.dec.zeroTime}
	if out.Conflicts = s.TypeConflicts(in); out.Conflicts != nil {
		return out, true
	}
	for i := range in {
		s.Put(&in[i], ua)
	}
	out.N = len(in)
	return out, true
}

// Ingested is what Ingest did with a body it read.
type Ingested struct {
	N         int      // measurements stored
	Conflicts []string // TypeConflicts' messages: nothing was stored
	FracTime  bool     // a time had a fraction, truncated
	ZeroTime  bool     // the batch's time was 0, read as none
}

// --- the rules of a measurement ------------------------------------------------

// The API's documented limits on measurements.
const (
	MaxTags      = 50     // tags on one measurement
	maxMagnitude = 1e126  // largest magnitude of a value
	minMagnitude = 1e-130 // smaller magnitudes are stored as 0
)

// Messages of the rules, shared by every reader of measurements.
const (
	MsgName   = "is invalid: 1 to 255 characters from A-Z a-z 0-9 . : - _"
	MsgTime   = "is out of range: a time must fall between 1970-01-01T00:00:01Z and 2099-12-31T23:59:59Z"
	MsgPeriod = "must be a positive number of seconds"
	MsgRange  = "is out of range: the magnitude may not exceed 1e126"
)

// The time rule of every time the API stores (measurement times, legacy
// measure_time, annotation times, a snapshot's end): epoch seconds within
// [MinTime, MaxTime], after the epoch and before 2100, which also catches
// milliseconds sent as seconds. A fraction is truncated to the second:
// the reference says "Unix time" without a type, and clients send
// Date.now()/1000 as it is.
const (
	MinTime = 1          // 1970-01-01T00:00:01Z
	MaxTime = 4102444799 // 2099-12-31T23:59:59Z
)

// Seconds truncates epoch seconds to the second; magnitudes beyond the
// time range, infinities included, stay beyond it (and NaN reads as 0),
// so ValidTime refuses them instead of an int64 conversion wrapping.
func Seconds(f float64) int64 {
	switch {
	case f >= MaxTime+1:
		return MaxTime + 1
	case f <= -MaxTime-1:
		return -MaxTime - 1
	case f != f:
		return 0
	}
	return int64(f)
}

// ValidTime reports whether t keeps the time rule (MinTime to MaxTime).
func ValidTime(t int64) bool { return t >= MinTime && t <= MaxTime }

// ValidName reports whether s is a valid metric name (also the rule of
// sources and annotation streams): 1 to 255 of A-Z a-z 0-9 . : - _.
func ValidName[T string | []byte](s T) bool { return validChars(s, 255, "") }

// ValidTagName reports whether s is a valid tag name: 1 to 64 of
// A-Z a-z 0-9 . : - _.
func ValidTagName[T string | []byte](s T) bool { return validChars(s, 64, "") }

// ValidTagValue reports whether s is a valid tag value: 1 to 255 of
// A-Z a-z 0-9 . : - _ ? \ / and space.
func ValidTagValue[T string | []byte](s T) bool { return validChars(s, 255, `?\/ `) }

// CheckMagnitude applies the API's range to a value: false beyond
// 1e126 (or not finite); magnitudes below 1e-130 read as 0, as the API
// stores them.
func CheckMagnitude(v float64) (float64, bool) {
	if math.IsInf(v, 0) || math.IsNaN(v) || math.Abs(v) > maxMagnitude {
		return 0, false
	}
	if v != 0 && math.Abs(v) < minMagnitude {
		return 0, true
	}
	return v, true
}

// Batch is the top level of a POST /v1/measurements body: the defaults of
// its measurements.
type Batch struct {
	Tags      []TagPair // sorted by name, valid
	HasTags   bool      // a tags object was sent (possibly empty)
	Time      int64
	HasTime   bool
	Period    int64
	HasPeriod bool
}

// Check applies the rules of the top level, reporting each problem to
// bad with its field's name. A top-level time of 0 is the one exception to
// the time rule: it reads as absent, as appoptics-api-go's BatchPersister
// sends "time":0 on every batch and the API took it for years.
func (b *Batch) Check(bad func(field, msg string)) {
	if b.HasTime && b.Time == 0 {
		b.HasTime = false
	}
	if b.HasTime && !ValidTime(b.Time) {
		bad("time", MsgTime)
	}
	if b.HasPeriod && b.Period <= 0 {
		bad("period", MsgPeriod)
	}
}

// The fields of a measurement, as bits of Fields.Sent and Fields.Read.
const (
	FName uint32 = 1 << iota
	FTags
	FTime
	FPeriod
	FValue
	FSum
	FMin
	FMax
	FLast
	FStdDev
	FCount
	fDisplayName
	fDescription
	fMeasurements
)

// FloatFields are the numeric fields of Fields.Num, in order.
var FloatFields = [...]struct {
	Name string
	Bit  uint32
}{{"value", FValue}, {"sum", FSum}, {"min", FMin}, {"max", FMax}, {"last", FLast}, {"stddev", FStdDev}}

// The indexes of Fields.Num.
const (
	iValue = iota
	iSum
	iMin
	iMax
	iLast
	iStdDev
)

// Fields is one measurement of a POST /v1/measurements body as a reader
// found it, before the rules: Sent holds the fields present and not
// null, Read those of them read as their type (the reader reported the
// others). Build applies the rules.
type Fields struct {
	Sent, Read uint32
	Name       []byte
	Tags       []TagPair // its own tags, sorted by name and valid
	Time       int64
	Period     int64
	Count      int64
	Num        [6]float64 // value, sum, min, max, last, stddev (floatFields)
	Props      MetricProps
}

// SetNum records numeric field i (an index of floatFields) as read.
func (f *Fields) SetNum(i int, v float64) {
	f.Num[i] = v
	f.Read |= FloatFields[i].Bit
}

// Build applies the rules of one measurement with the defaults of its
// batch, reporting each problem to bad with its field's name, and returns
// the measurement to store (meaningless once bad was called): a name is
// required and valid; its own tags replace the batch's when they are a
// non-empty object; time keeps the time rule (ValidTime) and period is
// positive; values are within
// range; count (positive) makes a summary, which needs sum and excludes
// value; otherwise value is required.
func (f *Fields) Build(b *Batch, now int64, bad func(field, msg string)) Input {
	var m Input
	switch {
	case f.Read&FName != 0:
		m.Name = f.Name
		if !ValidName(f.Name) {
			if len(bytes.TrimSpace(f.Name)) == 0 {
				bad("name", "is required")
			} else {
				bad("name", MsgName)
			}
		}
	case f.Sent&FName == 0:
		bad("name", "is required")
	}
	m.Tags, m.HasTags = b.Tags, b.HasTags
	if f.Read&FTags != 0 && len(f.Tags) > 0 {
		m.Tags, m.HasTags = f.Tags, true
	}
	m.S.T = now
	if b.HasTime {
		m.S.T = b.Time
	}
	if f.Read&FTime != 0 {
		if !ValidTime(f.Time) {
			bad("time", MsgTime)
		}
		m.S.T = f.Time
	}
	if b.HasPeriod {
		m.Period = b.Period
	}
	if f.Read&FPeriod != 0 {
		if f.Period <= 0 {
			bad("period", MsgPeriod)
		}
		m.Period = f.Period
	}
	var ok uint32 // numeric fields read and within range
	for i, ff := range FloatFields {
		if f.Read&ff.Bit == 0 {
			continue
		}
		v, inRange := CheckMagnitude(f.Num[i])
		if !inRange {
			bad(ff.Name, MsgRange)
			continue
		}
		f.Num[i] = v
		ok |= ff.Bit
	}
	switch {
	case f.Read&FCount != 0:
		if f.Count <= 0 {
			bad("count", "must be a positive integer")
		}
		if f.Sent&FValue != 0 {
			bad("value", "cannot be combined with count")
		}
		if f.Sent&FSum == 0 {
			bad("sum", "is required when count is given")
		}
		if ok&FSum != 0 {
			m.S.Count, m.S.Sum = f.Count, f.Num[iSum]
			m.S.Flags |= SentSummary
			if ok&FMin != 0 {
				m.S.Min = f.Num[iMin]
				m.S.Flags |= SentMin
			}
			if ok&FMax != 0 {
				m.S.Max = f.Num[iMax]
				m.S.Flags |= SentMax
			}
		}
	case f.Sent&FValue == 0:
		bad("value", "is required (or count and sum for a summary)")
	case ok&FValue != 0:
		m.S.Count, m.S.Sum = 1, f.Num[iValue]
	}
	if ok&FLast != 0 {
		m.S.last = f.Num[iLast]
		m.S.Flags |= sLastSent
	}
	if ok&FStdDev != 0 {
		m.S.stddev = f.Num[iStdDev]
		m.S.Flags |= sStdDevSent
	}
	m.S.Finish()
	m.Props = f.Props
	// A submission sets no type, composite or period property: the
	// effective period, m.period, applies.
	m.Props.Type, m.Props.Composite, m.Props.Period = nil, nil, nil
	return m
}

// ingestDecoder is a one-pass reader of POST /v1/measurements bodies. It
// reports false as soon as the body leaves what it reads exactly as the
// generic decoder would, or breaks a rule. Each store keeps one and
// reuses its buffers from request to request.
type ingestDecoder struct {
	b        []byte
	i        int
	fracTime bool      // a time had a fraction
	zeroTime bool      // the batch's time was 0
	pairs    []TagPair // every tag pair of the body; measurements refer to ranges
	fields   []Fields
	refs     []tagRef
	in       []Input
}

// tagRef is where a measurement's own tags are in pairs: the slice is
// taken once the whole body is read, as pairs grows while it is.
type tagRef struct{ off, n int32 }

const maxSkipDepth = 64

// release drops the references into the last body, keeping the buffers.
func (d *ingestDecoder) release() {
	clear(d.pairs)
	clear(d.fields)
	clear(d.in)
	d.b, d.pairs, d.fields, d.refs, d.in = nil, d.pairs[:0], d.fields[:0], d.refs[:0], d.in[:0]
}

// decode reads a body and applies the rules; false means the generic
// path must answer it.
func (d *ingestDecoder) decode(b []byte, now int64) ([]Input, bool) {
	d.b, d.i, d.fracTime, d.zeroTime = b, 0, false, false
	d.pairs, d.fields, d.refs, d.in = d.pairs[:0], d.fields[:0], d.refs[:0], d.in[:0]
	if !d.open('{') {
		return nil, false
	}
	var seen uint32
	var batch Batch
	var top tagRef
	for first := true; ; first = false {
		if first && d.close('}') {
			return nil, false // no measurements
		}
		key, ok := d.key()
		if !ok {
			return nil, false
		}
		switch string(key) {
		case "measurements":
			if !d.once(&seen, fMeasurements) || !d.measurements() {
				return nil, false
			}
		case "tags":
			if !d.once(&seen, FTags) {
				return nil, false
			}
			if !d.null() {
				if top, ok = d.tagObject(); !ok {
					return nil, false
				}
				batch.HasTags = true
			}
		case "time":
			if !d.once(&seen, FTime) {
				return nil, false
			}
			if batch.Time, batch.HasTime, ok = d.seconds(); !ok {
				return nil, false
			}
		case "period":
			if !d.once(&seen, FPeriod) {
				return nil, false
			}
			if batch.Period, batch.HasPeriod, ok = d.integer(); !ok {
				return nil, false
			}
		default:
			if !d.skip(0) {
				return nil, false
			}
		}
		if d.close('}') {
			break
		}
		if !d.comma() {
			return nil, false
		}
	}
	d.ws()
	if d.i != len(d.b) || seen&fMeasurements == 0 {
		return nil, false
	}
	valid := true
	bad := func(string, string) { valid = false }
	d.zeroTime = batch.HasTime && batch.Time == 0
	batch.Tags = d.tags(top)
	batch.Check(bad)
	for i := range d.fields {
		f := &d.fields[i]
		f.Tags = d.tags(d.refs[i])
		d.in = append(d.in, f.Build(&batch, now, bad))
	}
	return d.in, valid
}

// tags is the slice of pairs r refers to.
func (d *ingestDecoder) tags(r tagRef) []TagPair {
	return d.pairs[r.off : r.off+r.n : r.off+r.n]
}

// measurements reads the list of measurements; it must not be empty.
func (d *ingestDecoder) measurements() bool {
	if !d.open('[') || d.close(']') {
		return false
	}
	for {
		if !d.measurement() {
			return false
		}
		if d.close(']') {
			return true
		}
		if !d.comma() {
			return false
		}
	}
}

// measurement reads one measurement object into Fields.
func (d *ingestDecoder) measurement() bool {
	if !d.open('{') || d.close('}') {
		return false
	}
	var f Fields
	var r tagRef
	var seen uint32
	for {
		key, ok := d.key()
		if !ok {
			return false
		}
		switch k := string(key); k {
		case "name":
			if !d.once(&seen, FName) {
				return false
			}
			if f.Name, ok = d.plainString(); !ok {
				return false
			}
			f.Sent |= FName
			f.Read |= FName
		case "tags":
			if !d.once(&seen, FTags) {
				return false
			}
			if !d.null() {
				if r, ok = d.tagObject(); !ok {
					return false
				}
				f.Sent |= FTags
				f.Read |= FTags
			}
		case "time", "period", "count":
			bit, dst := FTime, &f.Time
			switch k {
			case "period":
				bit, dst = FPeriod, &f.Period
			case "count":
				bit, dst = FCount, &f.Count
			}
			if !d.once(&seen, bit) {
				return false
			}
			read := d.integer
			if bit == FTime {
				read = d.seconds
			}
			v, has, ok := read()
			if !ok {
				return false
			}
			if has {
				*dst = v
				f.Sent |= bit
				f.Read |= bit
			}
		case "value", "sum", "min", "max", "last", "stddev":
			i := 0
			for FloatFields[i].Name != k {
				i++
			}
			if !d.once(&seen, FloatFields[i].Bit) {
				return false
			}
			if d.null() {
				break
			}
			num, ok := d.number()
			if !ok {
				return false
			}
			v, ok := parseFloat(num)
			if !ok {
				return false
			}
			f.Sent |= FloatFields[i].Bit
			f.SetNum(i, v)
		case "display_name", "description":
			bit, dst := fDisplayName, &f.Props.DisplayName
			if k == "description" {
				bit, dst = fDescription, &f.Props.Description
			}
			if !d.once(&seen, bit) {
				return false
			}
			if !d.null() {
				s, ok := d.plainString()
				if !ok {
					return false
				}
				v := string(s)
				*dst = &v
			}
		case "attributes", "type", "composite":
			if !d.null() {
				return false // read and checked by the generic path
			}
		default:
			if !d.skip(0) {
				return false
			}
		}
		if d.close('}') {
			break
		}
		if !d.comma() {
			return false
		}
	}
	d.fields = append(d.fields, f)
	d.refs = append(d.refs, r)
	return true
}

// once marks a field seen; a field read twice is left to the generic
// path, where the last one wins.
func (d *ingestDecoder) once(seen *uint32, bit uint32) bool {
	if *seen&bit != 0 {
		return false
	}
	*seen |= bit
	return true
}

// integer reads an integer field as the generic reader does (a whole
// number, however written, of magnitude at most 2^53); null is absent
// (has false).
func (d *ingestDecoder) integer() (v int64, has, ok bool) {
	if d.null() {
		return 0, false, true
	}
	num, ok := d.number()
	if !ok {
		return 0, false, false
	}
	n, ok := parseInt(num)
	if !ok {
		return 0, false, false
	}
	return n, true, true
}

// seconds reads a time field as the generic reader does: epoch seconds,
// a fraction truncated (Seconds); null is absent.
func (d *ingestDecoder) seconds() (v int64, has, ok bool) {
	if d.null() {
		return 0, false, true
	}
	num, ok := d.number()
	if !ok {
		return 0, false, false
	}
	if n, ok := parseInt(num); ok {
		return n, true, true
	}
	f, ok := parseFloat(num)
	if !ok {
		return 0, false, false
	}
	d.fracTime = d.fracTime || (f != math.Trunc(f) && !math.IsInf(f, 0))
	return Seconds(f), true, true
}

// tagObject reads a tags object into d.pairs, sorted by name, taking only
// tags the rules accept; a duplicate name is left to the generic path.
func (d *ingestDecoder) tagObject() (tagRef, bool) {
	if !d.open('{') {
		return tagRef{}, false
	}
	off := int32(len(d.pairs))
	if d.close('}') {
		return tagRef{off: off}, true
	}
	for {
		k, ok := d.key()
		if !ok || !ValidTagName(k) {
			return tagRef{}, false
		}
		v, ok := d.plainString()
		if !ok || !ValidTagValue(v) {
			return tagRef{}, false
		}
		// Insertion sort: tag sets are small.
		d.pairs = append(d.pairs, TagPair{})
		j := len(d.pairs) - 1
		for ; j > int(off); j-- {
			c := bytes.Compare(d.pairs[j-1].K, k)
			if c == 0 {
				return tagRef{}, false
			}
			if c < 0 {
				break
			}
			d.pairs[j] = d.pairs[j-1]
		}
		d.pairs[j] = TagPair{K: k, V: v}
		if len(d.pairs)-int(off) > MaxTags {
			return tagRef{}, false
		}
		if d.close('}') {
			return tagRef{off: off, n: int32(len(d.pairs)) - off}, true
		}
		if !d.comma() {
			return tagRef{}, false
		}
	}
}

// --- lexical level -----------------------------------------------------------

func (d *ingestDecoder) ws() {
	for d.i < len(d.b) {
		switch d.b[d.i] {
		case ' ', '\t', '\n', '\r':
			d.i++
		default:
			return
		}
	}
}

// open consumes c (after whitespace).
func (d *ingestDecoder) open(c byte) bool {
	d.ws()
	if d.i < len(d.b) && d.b[d.i] == c {
		d.i++
		return true
	}
	return false
}

func (d *ingestDecoder) close(c byte) bool { return d.open(c) }
func (d *ingestDecoder) comma() bool       { return d.open(',') }

// null consumes a JSON null.
func (d *ingestDecoder) null() bool {
	d.ws()
	if bytes.HasPrefix(d.b[d.i:], []byte("null")) {
		d.i += 4
		return true
	}
	return false
}

// key reads an object key without escapes and the colon after it.
func (d *ingestDecoder) key() ([]byte, bool) {
	d.ws()
	start, end, esc, ok := d.scanString()
	if !ok || esc || !d.open(':') {
		return nil, false
	}
	return d.b[start:end], true
}

// plainString reads a string of printable ASCII without escapes.
func (d *ingestDecoder) plainString() ([]byte, bool) {
	d.ws()
	start, end, esc, ok := d.scanString()
	if !ok || esc {
		return nil, false
	}
	for _, c := range d.b[start:end] {
		if c >= 0x80 {
			return nil, false
		}
	}
	return d.b[start:end], true
}

// scanString consumes a JSON string and returns its raw content; esc says
// it holds escapes (which it checks).
func (d *ingestDecoder) scanString() (start, end int, esc, ok bool) {
	if d.i >= len(d.b) || d.b[d.i] != '"' {
		return 0, 0, false, false
	}
	d.i++
	start = d.i
	for d.i < len(d.b) {
		c := d.b[d.i]
		switch {
		case c == '"':
			end = d.i
			d.i++
			return start, end, esc, true
		case c < 0x20:
			return 0, 0, false, false
		case c == '\\':
			esc = true
			if d.i+1 >= len(d.b) {
				return 0, 0, false, false
			}
			switch d.b[d.i+1] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				d.i += 2
			case 'u':
				if d.i+6 > len(d.b) {
					return 0, 0, false, false
				}
				for _, h := range d.b[d.i+2 : d.i+6] {
					if !isHex(h) {
						return 0, 0, false, false
					}
				}
				d.i += 6
			default:
				return 0, 0, false, false
			}
		default:
			d.i++
		}
	}
	return 0, 0, false, false
}

func isHex(c byte) bool { return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F' }

// number consumes a number in JSON's grammar and returns its text.
func (d *ingestDecoder) number() ([]byte, bool) {
	d.ws()
	b, i := d.b, d.i
	start := i
	if i < len(b) && b[i] == '-' {
		i++
	}
	switch {
	case i < len(b) && b[i] == '0':
		i++
	case i < len(b) && '1' <= b[i] && b[i] <= '9':
		for i < len(b) && '0' <= b[i] && b[i] <= '9' {
			i++
		}
	default:
		return nil, false
	}
	if i < len(b) && b[i] == '.' {
		i++
		j := i
		for i < len(b) && '0' <= b[i] && b[i] <= '9' {
			i++
		}
		if i == j {
			return nil, false
		}
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		j := i
		for i < len(b) && '0' <= b[i] && b[i] <= '9' {
			i++
		}
		if i == j {
			return nil, false
		}
	}
	d.i = i
	return b[start:i], true
}

// skip consumes any JSON value, checking its syntax.
func (d *ingestDecoder) skip(depth int) bool {
	if depth > maxSkipDepth {
		return false
	}
	d.ws()
	if d.i >= len(d.b) {
		return false
	}
	switch c := d.b[d.i]; {
	case c == '"':
		_, _, _, ok := d.scanString()
		return ok
	case c == '{':
		d.i++
		if d.close('}') {
			return true
		}
		for {
			d.ws()
			if _, _, _, ok := d.scanString(); !ok || !d.open(':') || !d.skip(depth+1) {
				return false
			}
			if d.close('}') {
				return true
			}
			if !d.comma() {
				return false
			}
		}
	case c == '[':
		d.i++
		if d.close(']') {
			return true
		}
		for {
			if !d.skip(depth + 1) {
				return false
			}
			if d.close(']') {
				return true
			}
			if !d.comma() {
				return false
			}
		}
	case c == 't':
		return d.word("true")
	case c == 'f':
		return d.word("false")
	case c == 'n':
		return d.word("null")
	}
	_, ok := d.number()
	return ok
}

func (d *ingestDecoder) word(w string) bool {
	if bytes.HasPrefix(d.b[d.i:], []byte(w)) {
		d.i += len(w)
		return true
	}
	return false
}

// --- numbers and names -------------------------------------------------------

// pow10 holds the exactly representable powers of ten.
var pow10 = [...]float64{1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11,
	1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22}

// parseFloat converts a JSON number as number() does for json.Number:
// strconv.ParseFloat, where an overflow reads as an infinity. Decimals of
// at most 15 significant digits without exponent take the exact shortcut
// (an integer mantissa divided by an exact power of ten is correctly
// rounded), the same value ParseFloat gives.
func parseFloat(num []byte) (float64, bool) {
	i, neg := 0, false
	if num[0] == '-' {
		i, neg = 1, true
	}
	var mant uint64
	digits, frac := 0, -1
	for ; i < len(num); i++ {
		c := num[i]
		switch {
		case c >= '0' && c <= '9':
			mant = mant*10 + uint64(c-'0')
			if mant != 0 {
				digits++
			}
			if frac >= 0 {
				frac++
			}
		case c == '.':
			frac = 0
		default:
			digits = 99 // exponent: take the general path
		}
	}
	if digits <= 15 && frac <= 22 {
		f := float64(mant)
		if frac > 0 {
			f /= pow10[frac]
		}
		if neg {
			f = -f
		}
		return f, true
	}
	f, err := strconv.ParseFloat(string(num), 64)
	if err != nil && !math.IsInf(f, 0) {
		return 0, false
	}
	return f, true
}

// parseInt converts a JSON number as integer() does: through float64, a
// whole number of magnitude at most 2^53. Up to 15 digits without
// fraction or exponent are exact as they are.
func parseInt(num []byte) (int64, bool) {
	i, neg := 0, false
	if num[0] == '-' {
		i, neg = 1, true
	}
	if len(num)-i <= 15 {
		var n int64
		for ; i < len(num) && '0' <= num[i] && num[i] <= '9'; i++ {
			n = n*10 + int64(num[i]-'0')
		}
		if i == len(num) {
			if neg {
				n = -n
			}
			return n, true
		}
	}
	f, ok := parseFloat(num)
	if !ok || math.IsInf(f, 0) || f != math.Trunc(f) || math.Abs(f) > 1<<53 {
		return 0, false
	}
	return int64(f), true
}

// validChars reports whether s is 1 to max characters from word
// characters, '.', ':', '-' and the extra ones.
func validChars[T string | []byte](s T, max int, extra string) bool {
	if len(s) == 0 || len(s) > max {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !isWord(c) && c != '.' && c != ':' && c != '-' && strings.IndexByte(extra, c) < 0 {
			return false
		}
	}
	return true
}

func isWord(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_'
}
