package librato

import (
	"encoding/json"
	"math"
	"reflect"
	"slices"
	"strconv"
	"sync"
	"unicode/utf8"
)

// The measurement payload is what an agent spends its time encoding, so it
// has its own append-style encoder: no reflection, floats and integers by
// strconv, and each distinct tag map encoded once per body however many
// measurements share it. Its output decodes with encoding/json to the same
// values encoding/json itself would produce.

// tagCache remembers where in the body each tag map was first written.
// With common set, every tag object it writes is common merged with the
// given map (the map's own keys winning), so one body never mixes merged
// and unmerged spans under the same key.
type tagCache struct {
	spans  map[uintptr][2]int
	keys   []string
	common map[string]string
}

var tagCachePool = sync.Pool{New: func() any { return &tagCache{spans: make(map[uintptr][2]int)} }}

func (b *MeasurementBatch) appendJSON(dst []byte) ([]byte, error) {
	return appendBody(dst, nil, b.Tags, b.Time, b.Period, b.Measurements), nil
}

// measurementBody is the Batcher's request body: its measurements with
// CommonTags merged into every tag set and DefaultTags as the top-level
// tags. Its measurements were validated by Add, so it has no validate.
type measurementBody struct {
	common map[string]string
	tags   map[string]string
	ms     []Measurement
}

func (b *measurementBody) appendJSON(dst []byte) ([]byte, error) {
	return appendBody(dst, b.common, b.tags, 0, 0, b.ms), nil
}

// appendBody writes a POST /v1/measurements body. With common tags, the
// top-level tags are common merged with tags, so measurements without tags
// of their own still get the common ones; measurements with tags get their
// own merged with common.
func appendBody(dst []byte, common, tags map[string]string, time, period int64, ms []Measurement) []byte {
	tc := tagCachePool.Get().(*tagCache)
	if len(common) > 0 {
		tc.common = common
	}
	defer func() {
		clear(tc.spans)
		clear(tc.keys)
		tc.keys = tc.keys[:0]
		tc.common = nil
		tagCachePool.Put(tc)
	}()
	dst = append(dst, '{')
	if tags != nil || tc.common != nil {
		dst = append(dst, `"tags":`...)
		dst = tc.appendTags(dst, tags)
		dst = append(dst, ',')
	}
	if time != 0 {
		dst = append(dst, `"time":`...)
		dst = strconv.AppendInt(dst, time, 10)
		dst = append(dst, ',')
	}
	if period != 0 {
		dst = append(dst, `"period":`...)
		dst = strconv.AppendInt(dst, period, 10)
		dst = append(dst, ',')
	}
	dst = append(dst, `"measurements":[`...)
	for i := range ms {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = appendMeasurement(dst, &ms[i], tc)
	}
	return append(dst, ']', '}')
}

// appendMeasurement writes one measurement object; tc may be nil.
func appendMeasurement(dst []byte, m *Measurement, tc *tagCache) []byte {
	dst = append(dst, `{"name":`...)
	dst = appendString(dst, m.Name)
	if m.Count == 0 {
		dst = append(dst, `,"value":`...)
		dst = appendFloat(dst, m.Value)
	} else {
		dst = append(dst, `,"count":`...)
		dst = strconv.AppendInt(dst, m.Count, 10)
		dst = appendOptFloat(dst, `,"sum":`, m.Sum)
		dst = appendOptFloat(dst, `,"min":`, m.Min)
		dst = appendOptFloat(dst, `,"max":`, m.Max)
	}
	dst = appendOptFloat(dst, `,"last":`, m.Last)
	dst = appendOptFloat(dst, `,"stddev":`, m.StdDev)
	if m.Tags != nil && (tc == nil || tc.common == nil || len(m.Tags) > 0) {
		// With common tags, an empty map is no tags of its own: the
		// measurement takes the merged top-level set.
		dst = append(dst, `,"tags":`...)
		if tc == nil {
			tc = &tagCache{}
		}
		dst = tc.appendTags(dst, m.Tags)
	}
	if m.Time != 0 {
		dst = append(dst, `,"time":`...)
		dst = strconv.AppendInt(dst, m.Time, 10)
	}
	dst = appendMetricProps(dst, m.Period, m.DisplayName, m.Description, m.Attributes)
	return append(dst, '}')
}

// appendMetricProps writes the metric properties a measurement (tagged or
// legacy) may carry for the metric it creates, each only when set.
// MetricAttributes holds only plain fields, so encoding it cannot fail.
func appendMetricProps(dst []byte, period int64, displayName, description string, attrs *MetricAttributes) []byte {
	if period != 0 {
		dst = append(dst, `,"period":`...)
		dst = strconv.AppendInt(dst, period, 10)
	}
	if displayName != "" {
		dst = append(dst, `,"display_name":`...)
		dst = appendString(dst, displayName)
	}
	if description != "" {
		dst = append(dst, `,"description":`...)
		dst = appendString(dst, description)
	}
	if attrs != nil {
		if raw, err := json.Marshal(attrs); err == nil {
			dst = append(dst, `,"attributes":`...)
			dst = append(dst, raw...)
		}
	}
	return dst
}

// appendTags writes a tag object with keys in order (merged with the
// common tags, if any), or copies the bytes written for the same map
// earlier in this body.
func (tc *tagCache) appendTags(dst []byte, tags map[string]string) []byte {
	var id uintptr
	if tc.spans != nil {
		id = uintptr(reflect.ValueOf(tags).UnsafePointer())
		if sp, ok := tc.spans[id]; ok {
			return append(dst, dst[sp[0]:sp[1]]...)
		}
	}
	start := len(dst)
	keys := tc.keys[:0]
	for k := range tags {
		keys = append(keys, k)
	}
	for k := range tc.common {
		if _, own := tags[k]; !own {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	dst = append(dst, '{')
	for i, k := range keys {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = appendString(dst, k)
		dst = append(dst, ':')
		v, own := tags[k]
		if !own {
			v = tc.common[k]
		}
		dst = appendString(dst, v)
	}
	dst = append(dst, '}')
	clear(keys)
	tc.keys = keys[:0]
	if tc.spans != nil {
		tc.spans[id] = [2]int{start, len(dst)}
	}
	return dst
}

func appendOptFloat(dst []byte, key string, v *float64) []byte {
	if v == nil {
		return dst
	}
	dst = append(dst, key...)
	return appendFloat(dst, *v)
}

// appendFloat formats like encoding/json: plain notation between 1e-6 and
// 1e21, exponent notation outside, shortest round-tripping digits. NaN and
// infinities, which JSON cannot carry and validation refuses, become 0.
func appendFloat(dst []byte, f float64) []byte {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return append(dst, '0')
	}
	abs := math.Abs(f)
	format := byte('f')
	if abs != 0 && (abs < 1e-6 || abs >= 1e21) {
		format = 'e'
	}
	dst = strconv.AppendFloat(dst, f, format, -1, 64)
	if format == 'e' {
		// clean up e-09 to e-9
		n := len(dst)
		if n >= 4 && dst[n-4] == 'e' && dst[n-3] == '-' && dst[n-2] == '0' {
			dst[n-2] = dst[n-1]
			dst = dst[:n-1]
		}
	}
	return dst
}

const hexDigits = "0123456789abcdef"

// appendString writes s as a JSON string: quotes, backslashes and control
// characters escaped, invalid UTF-8 replaced by U+FFFD, and U+2028/U+2029
// escaped, as encoding/json does.
func appendString(dst []byte, s string) []byte {
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' {
				i++
				continue
			}
			dst = append(dst, s[start:i]...)
			switch c {
			case '"', '\\':
				dst = append(dst, '\\', c)
			case '\n':
				dst = append(dst, '\\', 'n')
			case '\r':
				dst = append(dst, '\\', 'r')
			case '\t':
				dst = append(dst, '\\', 't')
			default:
				dst = append(dst, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xF])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			dst = append(dst, s[start:i]...)
			dst = append(dst, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			dst = append(dst, s[start:i]...)
			dst = append(dst, '\\', 'u', '2', '0', '2', hexDigits[r&0xF])
			i += size
			start = i
			continue
		}
		i += size
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}
