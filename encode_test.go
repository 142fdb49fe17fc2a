package librato

import (
	"bytes"
	"encoding/json"
	"math"
	"reflect"
	"strconv"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// referenceJSON builds the same payload as plain maps and encodes it with
// encoding/json: the yardstick the hand-written encoder is held to.
func referenceJSON(t testing.TB, b *MeasurementBatch) []byte {
	ms := make([]any, 0, len(b.Measurements))
	for _, m := range b.Measurements {
		o := map[string]any{"name": m.Name}
		if m.Count == 0 {
			o["value"] = m.Value
		} else {
			o["count"] = m.Count
			for k, v := range map[string]*float64{"sum": m.Sum, "min": m.Min, "max": m.Max} {
				if v != nil {
					o[k] = *v
				}
			}
		}
		for k, v := range map[string]*float64{"last": m.Last, "stddev": m.StdDev} {
			if v != nil {
				o[k] = *v
			}
		}
		if m.Tags != nil {
			o["tags"] = m.Tags
		}
		if m.Time != 0 {
			o["time"] = m.Time
		}
		if m.Period != 0 {
			o["period"] = m.Period
		}
		if m.DisplayName != "" {
			o["display_name"] = m.DisplayName
		}
		if m.Description != "" {
			o["description"] = m.Description
		}
		if m.Attributes != nil {
			o["attributes"] = m.Attributes
		}
		ms = append(ms, o)
	}
	top := map[string]any{"measurements": ms}
	if b.Tags != nil {
		top["tags"] = b.Tags
	}
	if b.Time != 0 {
		top["time"] = b.Time
	}
	if b.Period != 0 {
		top["period"] = b.Period
	}
	out, err := json.Marshal(top)
	require.NoError(t, err)
	return out
}

func decodeAny(t testing.TB, b []byte) any {
	var v any
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	require.NoError(t, d.Decode(&v), "%s", b)
	return normalizeNumbers(v)
}

// normalizeNumbers turns json.Numbers into float64 or int64 so that "1" and
// "1.0" compare as what a decoder stores.
func normalizeNumbers(v any) any {
	switch x := v.(type) {
	case json.Number:
		if i, err := strconv.ParseInt(string(x), 10, 64); err == nil {
			return i
		}
		f, _ := x.Float64()
		if f == math.Trunc(f) && math.Abs(f) < 1<<53 {
			return int64(f)
		}
		return f
	case map[string]any:
		for k, e := range x {
			x[k] = normalizeNumbers(e)
		}
	case []any:
		for i, e := range x {
			x[i] = normalizeNumbers(e)
		}
	}
	return v
}

func assertSameAsEncodingJSON(t testing.TB, b *MeasurementBatch) {
	ours, err := b.appendJSON(nil)
	require.NoError(t, err)
	if !json.Valid(ours) {
		t.Fatalf("invalid JSON: %q", ours)
	}
	want := decodeAny(t, referenceJSON(t, b))
	got := decodeAny(t, ours)
	if !reflect.DeepEqual(want, got) {
		t.Fatalf("decoded values differ\nours: %s\nref:  %s", ours, referenceJSON(t, b))
	}
	var typed MeasurementBatch
	require.NoError(t, json.Unmarshal(ours, &typed))
	require.Len(t, typed.Measurements, len(b.Measurements))
	for i := range b.Measurements {
		if b.Measurements[i].Count == 0 && typed.Measurements[i].Value != b.Measurements[i].Value {
			t.Fatalf("value %d: %v != %v", i, typed.Measurements[i].Value, b.Measurements[i].Value)
		}
	}
}

func TestEncoderMatchesEncodingJSON(t *testing.T) {
	shared := map[string]string{"host": "db-1", "region": "us-east-1", "az": "b"}
	b := &MeasurementBatch{
		Tags: map[string]string{"env": "prod"}, Time: 1700000000, Period: 60,
		Measurements: []Measurement{
			{Name: "a", Value: 0},
			{Name: "b", Value: -0.000001, Tags: shared},
			{Name: "c", Value: 1e21, Tags: shared},
			{Name: "d", Value: 1e-7, Tags: map[string]string{}},
			{Name: "e", Value: 123456789.125, Time: 5, Period: 10},
			{Name: "f", Count: 4, Sum: Ptr(10.0), Min: Ptr(-1e126), Max: Ptr(1e126), Last: Ptr(5e-324), StdDev: Ptr(1.5), Tags: shared},
			{Name: "g", Value: math.MaxFloat64 / 1e200, Attributes: &MetricAttributes{Color: "#aabbcc", Aggregate: Ptr(true)}, DisplayName: "G <&>", Description: "line\nbreak"},
			{Name: "q\"uote\\back\x01\x1f\u2028\u2029\xff\xfeé中", Value: 1, Tags: map[string]string{"k\"": "v\\\t\r\n"}},
		},
	}
	assertSameAsEncodingJSON(t, b)
	out, _ := b.appendJSON(nil)
	assert.Equal(t, 3, bytes.Count(out, []byte(`{"az":"b","host":"db-1","region":"us-east-1"}`)), "a shared map is written each time it is used, keys sorted")
	assert.Contains(t, string(out), `"value":1e+21`)
	assert.Contains(t, string(out), `"value":1e-7`)
}

func TestEncoderReusesNothingAcrossBodies(t *testing.T) {
	tags := map[string]string{"a": "1"}
	b1 := &MeasurementBatch{Measurements: []Measurement{{Name: "x", Tags: tags}}}
	first, _ := b1.appendJSON(nil)
	tags["a"] = "2"
	second, _ := b1.appendJSON(nil)
	assert.NotEqual(t, first, second, "the tag cache lives for one body only")
	assert.Contains(t, string(second), `"a":"2"`)
}

func FuzzEncodeMeasurements(f *testing.F) {
	f.Add("cpu", "host", "db-1", 1.5, int64(0), 0.0, int64(1700000000))
	f.Add("q\"\\\x00", "k\u2028", "v\xff\xfe", 1e126, int64(3), -1e126, int64(0))
	f.Add("ü中文", "", "", 1e-130, int64(1), 5e-324, int64(-1))
	f.Add("", "a b", "\t\n\r", math.Copysign(0, -1), int64(-7), 1e21, int64(math.MaxInt64))
	f.Fuzz(func(t *testing.T, name, tagKey, tagValue string, value float64, count int64, sum float64, ts int64) {
		if math.IsNaN(value) || math.IsInf(value, 0) {
			value = 0
		}
		if math.IsNaN(sum) || math.IsInf(sum, 0) {
			sum = 1
		}
		tags := map[string]string{tagKey: tagValue, tagKey + "2": name}
		b := &MeasurementBatch{
			Tags: map[string]string{tagValue: tagKey},
			Time: ts,
			Measurements: []Measurement{
				{Name: name, Value: value, Tags: tags, Time: ts},
				{Name: tagValue, Count: count, Sum: &sum, Min: &value, Tags: tags},
				{Name: tagKey, Value: sum, Last: &value},
			},
		}
		assertSameAsEncodingJSON(t, b)
	})
}

// mergedReference is what a measurementBody must decode to: the batch
// with common merged under the top-level tags and under every
// measurement's own non-empty tags, own keys winning.
func mergedReference(body *measurementBody) *MeasurementBatch {
	merge := func(own map[string]string) map[string]string {
		out := map[string]string{}
		for k, v := range body.common {
			out[k] = v
		}
		for k, v := range own {
			out[k] = v
		}
		return out
	}
	ref := &MeasurementBatch{Tags: body.tags}
	if len(body.common) > 0 {
		ref.Tags = merge(body.tags)
	}
	for _, m := range body.ms {
		if len(body.common) > 0 {
			if len(m.Tags) > 0 {
				m.Tags = merge(m.Tags)
			} else {
				m.Tags = nil
			}
		}
		ref.Measurements = append(ref.Measurements, m)
	}
	return ref
}

func assertBodyMatches(t testing.TB, body *measurementBody) {
	ours, err := body.appendJSON(nil)
	require.NoError(t, err)
	if !json.Valid(ours) {
		t.Fatalf("invalid JSON: %q", ours)
	}
	ref := mergedReference(body)
	want := decodeAny(t, referenceJSON(t, ref))
	if got := decodeAny(t, ours); !reflect.DeepEqual(want, got) {
		t.Fatalf("decoded values differ\nours: %s\nref:  %s", ours, referenceJSON(t, ref))
	}
}

func TestEncoderMergesCommonTags(t *testing.T) {
	common := map[string]string{"host": "web-1", "region": "us-east-1", "status": "unknown"}
	shared := map[string]string{"status": "200", "route": "/a"}
	body := &measurementBody{
		common: common,
		tags:   map[string]string{"env": "prod", "region": "eu-west-1"},
		ms: []Measurement{
			{Name: "a", Value: 1, Tags: shared},
			{Name: "b", Value: 2},                            // no tags: the merged top-level set
			{Name: "c", Value: 3, Tags: map[string]string{}}, // empty: the same
			{Name: "d", Value: 4, Tags: shared},              // the cached merged span
			{Name: "e", Value: 5, Tags: map[string]string{"z": "1"}},
			{Name: "f", Value: 6, Tags: common}, // common itself
		},
	}
	assertBodyMatches(t, body)
	out, _ := body.appendJSON(nil)
	s := string(out)
	assert.Contains(t, s, `"tags":{"env":"prod","host":"web-1","region":"eu-west-1","status":"unknown"}`, "top level: DefaultTags win over CommonTags")
	assert.Equal(t, 2, bytes.Count(out, []byte(`{"host":"web-1","region":"us-east-1","route":"/a","status":"200"}`)), "own tags win, keys sorted, merged once per map")
	assert.Contains(t, s, `{"name":"b","value":2}`, "no tags of its own: the top-level set applies")
	assert.NotContains(t, s, `"name":"c","value":3,"tags"`, "an empty map is no tags of its own")

	// Without common tags the body is exactly the API's: no merging.
	plain := &measurementBody{tags: map[string]string{"env": "prod"}, ms: body.ms}
	assertBodyMatches(t, plain)
	want, _ := (&MeasurementBatch{Tags: plain.tags, Measurements: plain.ms}).appendJSON(nil)
	got, _ := plain.appendJSON(nil)
	assert.Equal(t, string(want), string(got))

	// No DefaultTags: the common set alone is the top level.
	bare := &measurementBody{common: common, ms: []Measurement{{Name: "x", Value: 1}}}
	assertBodyMatches(t, bare)
	out, _ = bare.appendJSON(nil)
	assert.Contains(t, string(out), `"tags":{"host":"web-1","region":"us-east-1","status":"unknown"}`)
}

func FuzzEncodeCommonTags(f *testing.F) {
	f.Add("host", "web-1", "status", "200", "host", "web-2")
	f.Add("k", "v", "k", "w", "", "")
	f.Add("q\"", "\xff", "\u2028", "a", "q\"", "b")
	f.Fuzz(func(t *testing.T, ck, cv, ok, ov, dk, dv string) {
		common := map[string]string{ck: cv, "c2": cv}
		own := map[string]string{ok: ov}
		body := &measurementBody{common: common, tags: map[string]string{dk: dv}, ms: []Measurement{
			{Name: "a", Value: 1, Tags: own},
			{Name: "b", Value: 2},
			{Name: "c", Value: 3, Tags: own},
		}}
		assertBodyMatches(t, body)
	})
}
