package mock

import (
	"bytes"
	"math"
	"net/http"
	"strconv"
	"strings"
)

// measurementsIngest answers POST /v1/measurements from the raw body.
//
// The fast path reads the body straight into the store's input, without
// a generic JSON tree, and takes only bodies it can prove valid: plain
// JSON strings (no escapes, ASCII) in the fields it reads, numbers in the
// numeric fields, no duplicate keys among the fields it reads, no
// measurement-level attributes, type or composite. Everything else,
// including every invalid body, goes through decodeJSON and
// measurementsCreate, so status, error keys and messages are those of the
// generic path by construction; FuzzIngestDifferential checks that the
// two agree on what the fast path takes.
func (c *call) measurementsIngest() *reply {
	d := &c.a.ms.dec // the account is locked: its decoder is ours
	defer d.release()
	if in, ok := d.decode(c.raw, c.now.Unix()); ok {
		return c.storeBatch(in)
	}
	return c.measurementsGeneric()
}

// measurementsGeneric decodes the raw body as readBody does for other
// routes and runs the generic handler.
func (c *call) measurementsGeneric() *reply {
	if len(bytes.TrimSpace(c.raw)) > 0 {
		m, err := decodeJSON(c.raw)
		if err != nil {
			return requestError(http.StatusBadRequest, "Malformed JSON body: "+err.Error())
		}
		c.body = m
	}
	return c.measurementsCreate()
}

// ingestDecoder is a one-pass reader of POST /v1/measurements bodies. It
// reports false as soon as the body leaves what it handles. Each account
// keeps one and reuses its buffers from request to request.
type ingestDecoder struct {
	b     []byte
	i     int
	pairs []tagPair // every tag pair of the body; measurements refer to ranges
	in    []measIn
	refs  []fastRef
}

// fastRef is what a measurement needs from its batch once the whole body
// is read (top-level fields may come after the measurements).
type fastRef struct {
	tagOff, tagN int32
	ownTags      bool // a non-empty tags object of its own
	hasTime      bool
	hasPeriod    bool
}

const maxSkipDepth = 64

// Field bits, for duplicate detection.
const (
	fName uint32 = 1 << iota
	fTags
	fTime
	fPeriod
	fValue
	fSum
	fMin
	fMax
	fLast
	fStdDev
	fCount
	fDisplayName
	fDescription
	fMeasurements
)

// release drops the references into the last body, keeping the buffers.
func (d *ingestDecoder) release() {
	clear(d.pairs)
	clear(d.in)
	d.b, d.pairs, d.in, d.refs = nil, d.pairs[:0], d.in[:0], d.refs[:0]
}

func (d *ingestDecoder) decode(b []byte, now int64) ([]measIn, bool) {
	d.b, d.i = b, 0
	d.pairs, d.in, d.refs = d.pairs[:0], d.in[:0], d.refs[:0]
	if !d.open('{') {
		return nil, false
	}
	var seen uint32
	var topOff, topN int32
	var topTags bool
	var topTime, topPeriod int64
	var hasTopTime, hasTopPeriod bool
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
			if !d.once(&seen, fTags) {
				return nil, false
			}
			if !d.null() {
				if topOff, topN, ok = d.tagObject(); !ok {
					return nil, false
				}
				topTags = true
			}
		case "time":
			if !d.once(&seen, fTime) {
				return nil, false
			}
			if topTime, hasTopTime, ok = d.positiveInt(); !ok {
				return nil, false
			}
		case "period":
			if !d.once(&seen, fPeriod) {
				return nil, false
			}
			if topPeriod, hasTopPeriod, ok = d.positiveInt(); !ok {
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
	for i := range d.in {
		m, r := &d.in[i], &d.refs[i]
		switch {
		case r.ownTags:
			m.tags, m.hasTags = d.pairs[r.tagOff:r.tagOff+r.tagN:r.tagOff+r.tagN], true
		case topTags:
			m.tags, m.hasTags = d.pairs[topOff:topOff+topN:topOff+topN], true
		}
		if !r.hasTime {
			m.s.t = now
			if hasTopTime {
				m.s.t = topTime
			}
		}
		if !r.hasPeriod && hasTopPeriod {
			m.period = topPeriod
		}
		m.s.finish()
	}
	return d.in, true
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

// measurement reads one measurement object with the rules of
// measurementsCreate, reporting false wherever that would find an error.
func (d *ingestDecoder) measurement() bool {
	if !d.open('{') || d.close('}') {
		return false
	}
	var m measIn
	var r fastRef
	var seen uint32
	var count int64
	for {
		key, ok := d.key()
		if !ok {
			return false
		}
		switch string(key) {
		case "name":
			if !d.once(&seen, fName) {
				return false
			}
			s, ok := d.plainString()
			if !ok || !validMetricName(s) {
				return false
			}
			m.name = s
		case "tags":
			if !d.once(&seen, fTags) {
				return false
			}
			if !d.null() {
				if r.tagOff, r.tagN, ok = d.tagObject(); !ok {
					return false
				}
				r.ownTags = r.tagN > 0
			}
		case "time":
			if !d.once(&seen, fTime) {
				return false
			}
			if m.s.t, r.hasTime, ok = d.positiveInt(); !ok {
				return false
			}
		case "period":
			if !d.once(&seen, fPeriod) {
				return false
			}
			if m.period, r.hasPeriod, ok = d.positiveInt(); !ok {
				return false
			}
		case "count":
			if !d.once(&seen, fCount) {
				return false
			}
			var has bool
			if count, has, ok = d.positiveInt(); !ok {
				return false
			}
			if !has {
				seen &^= fCount // null: absent
			}
		case "value":
			if !d.float(&seen, fValue, &m.s.sum) {
				return false
			}
		case "sum":
			if !d.float(&seen, fSum, &m.s.sum) {
				return false
			}
		case "min":
			if !d.float(&seen, fMin, &m.s.min) {
				return false
			}
		case "max":
			if !d.float(&seen, fMax, &m.s.max) {
				return false
			}
		case "last":
			if !d.float(&seen, fLast, &m.s.last) {
				return false
			}
		case "stddev":
			if !d.float(&seen, fStdDev, &m.s.stddev) {
				return false
			}
		case "display_name", "description":
			bit, dst := fDisplayName, &m.props.displayName
			if string(key) == "description" {
				bit, dst = fDescription, &m.props.description
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
				return false // validated by the generic path
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
	if m.name == nil {
		return false
	}
	if seen&fCount != 0 {
		if seen&fValue != 0 || seen&fSum == 0 {
			return false
		}
		m.s.count = count
		m.s.flags |= sSummary
		if seen&fMin != 0 {
			m.s.flags |= sMinSent
		}
		if seen&fMax != 0 {
			m.s.flags |= sMaxSent
		}
	} else {
		if seen&fValue == 0 {
			return false
		}
		m.s.count = 1 // min and max of a plain value are the value (finish)
	}
	if seen&fLast != 0 {
		m.s.flags |= sLastSent
	}
	if seen&fStdDev != 0 {
		m.s.flags |= sStdDevSent
	}
	d.in = append(d.in, m)
	d.refs = append(d.refs, r)
	return true
}

// float reads a numeric field into dst with checkMagnitude's rules; null
// is absent. A plain value and a summary's sum share dst (the sample's
// sum): when both are sent without count the value must win, so a sum
// never overwrites a value already read.
func (d *ingestDecoder) float(seen *uint32, bit uint32, dst *float64) bool {
	if !d.once(seen, bit) {
		return false
	}
	if d.null() {
		*seen &^= bit
		return true
	}
	num, ok := d.number()
	if !ok {
		return false
	}
	f, ok := parseFloat(num)
	if !ok || math.IsInf(f, 0) || math.IsNaN(f) || math.Abs(f) > maxMagnitude {
		return false
	}
	if f != 0 && math.Abs(f) < minMagnitude {
		f = 0
	}
	if bit != fSum || *seen&fValue == 0 {
		*dst = f
	}
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

// positiveInt reads an integer field that must be positive; null is
// absent (has false).
func (d *ingestDecoder) positiveInt() (v int64, has, ok bool) {
	if d.null() {
		return 0, false, true
	}
	num, ok := d.number()
	if !ok {
		return 0, false, false
	}
	n, ok := parseInt(num)
	if !ok || n <= 0 {
		return 0, false, false
	}
	return n, true, true
}

// tagObject reads a tags object into d.pairs, sorted by name, with the
// rules of checkTags; a duplicate name is left to the generic path.
func (d *ingestDecoder) tagObject() (off, n int32, ok bool) {
	if !d.open('{') {
		return 0, 0, false
	}
	off = int32(len(d.pairs))
	if d.close('}') {
		return off, 0, true
	}
	for {
		k, ok := d.key()
		if !ok || !validTagName(k) {
			return 0, 0, false
		}
		v, ok := d.plainString()
		if !ok || !validTagValue(v) {
			return 0, 0, false
		}
		// Insertion sort: tag sets are small.
		d.pairs = append(d.pairs, tagPair{})
		j := len(d.pairs) - 1
		for ; j > int(off); j-- {
			c := bytes.Compare(d.pairs[j-1].k, k)
			if c == 0 {
				return 0, 0, false
			}
			if c < 0 {
				break
			}
			d.pairs[j] = d.pairs[j-1]
		}
		d.pairs[j] = tagPair{k: k, v: v}
		if len(d.pairs)-int(off) > maxTags {
			return 0, 0, false
		}
		if d.close('}') {
			return off, int32(len(d.pairs)) - off, true
		}
		if !d.comma() {
			return 0, 0, false
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

// validMetricName is reMetricName without the regexp.
func validMetricName(s []byte) bool { return validChars(s, 255, "") }

// validTagName is reTagName for ASCII input.
func validTagName(s []byte) bool { return validChars(s, 64, "") }

// validTagValue is reTagValue for ASCII input.
func validTagValue(s []byte) bool { return validChars(s, 255, `?\/ `) }

// validChars reports whether s is 1 to max characters from word
// characters, '.', ':', '-' and the extra ones.
func validChars(s []byte, max int, extra string) bool {
	if len(s) == 0 || len(s) > max {
		return false
	}
	for _, c := range s {
		if !isWord(c) && c != '.' && c != ':' && c != '-' && strings.IndexByte(extra, c) < 0 {
			return false
		}
	}
	return true
}

func isWord(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_'
}
