package librato

import (
	"context"
	"encoding/json"
	"errors"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// responseTypes is every type a 2xx body is decoded into. The lenient test
// builds, for each, a body holding every JSON member the type reads, and
// checks that the body with every number written as a string decodes to
// the same value as with plain numbers.
var responseTypes = []any{
	new(measurementsResponse),
	new(MeasurementPage),
	new([]CompositeSeries),
	new(Metric),
	new(MetricPage),
	new(LegacyPage),
	new(Alert),
	new(AlertPage),
	new(AlertStatus),
	new(AlertsStatus),
	new(AnnotationStreamPage),
	new(AnnotationStreamEvents),
	new(AnnotationEvent),
	new(Link),
	new(APIToken),
	new(APITokenPage),
	new(Space),
	new(SpacePage),
	new(Chart),
	new([]Chart),
	new(Service),
	new(ServicePage),
	new(Job),
	new(Snapshot),
}

var (
	timeType = reflect.TypeFor[time.Time]()
	rawType  = reflect.TypeFor[json.RawMessage]()
	roleType = reflect.TypeFor[Role]()
)

// fixtureGen writes a JSON tree for a type: every member it reads, each
// number distinct (so a value landing in the wrong field shows), written
// as a number or, with asString, as a string.
type fixtureGen struct {
	asString bool
	n        int // numbers written so far
}

func (g *fixtureGen) value(t reflect.Type, depth int) (any, bool) {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch {
	case t == timeType: // times are strings or epoch numbers by type; not numbers-as-strings
		return nil, false
	case t == rawType: // opaque: kept as sent
		return "opaque", true
	case t == roleType:
		return "viewer", true
	}
	switch t.Kind() {
	case reflect.Struct:
		if depth > 6 {
			return nil, false
		}
		m := map[string]any{}
		g.members(t, m, depth)
		return m, true
	case reflect.Slice, reflect.Array:
		v, ok := g.value(t.Elem(), depth+1)
		if !ok {
			return nil, false
		}
		return []any{v}, true
	case reflect.Map:
		v, ok := g.value(t.Elem(), depth+1)
		if !ok {
			return nil, false
		}
		return map[string]any{"k" + strconv.Itoa(g.n): v}, true
	case reflect.Interface:
		return "any", true
	case reflect.String:
		return "s", true
	case reflect.Bool:
		return true, true
	case reflect.Float32, reflect.Float64:
		g.n++
		f := float64(g.n) + 0.5
		if g.asString {
			return strconv.FormatFloat(f, 'g', -1, 64), true
		}
		return f, true
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		g.n++
		if g.asString {
			return strconv.Itoa(g.n), true
		}
		return g.n, true
	}
	return nil, false
}

// members adds the exported fields of struct t by their JSON names,
// flattening untagged embedded structs, as encoding/json reads them.
func (g *fixtureGen) members(t reflect.Type, m map[string]any, depth int) {
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name == "-" {
			continue
		}
		if f.Anonymous && name == "" && f.Type.Kind() == reflect.Struct {
			g.members(f.Type, m, depth)
			continue
		}
		if !f.IsExported() {
			continue
		}
		if name == "" {
			name = f.Name
		}
		if v, ok := g.value(f.Type, depth+1); ok {
			m[name] = v
		}
	}
}

// numbersIn counts the non-zero numbers reachable in v, unexported fields
// included.
func numbersIn(v reflect.Value) int {
	switch v.Kind() {
	case reflect.Pointer, reflect.Interface:
		if v.IsNil() {
			return 0
		}
		return numbersIn(v.Elem())
	case reflect.Struct:
		if v.Type() == timeType {
			return 0
		}
		n := 0
		for i := 0; i < v.NumField(); i++ {
			n += numbersIn(v.Field(i))
		}
		return n
	case reflect.Slice, reflect.Array:
		if v.Type() == rawType {
			return 0
		}
		n := 0
		for i := 0; i < v.Len(); i++ {
			n += numbersIn(v.Index(i))
		}
		return n
	case reflect.Map:
		n := 0
		for _, k := range v.MapKeys() {
			n += numbersIn(v.MapIndex(k))
		}
		return n
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return b2i(v.Int() != 0)
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return b2i(v.Uint() != 0)
	case reflect.Float32, reflect.Float64:
		return b2i(v.Float() != 0)
	}
	return 0
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

func TestEveryResponseTypeTakesNumbersAsStrings(t *testing.T) {
	for _, proto := range responseTypes {
		typ := reflect.TypeOf(proto).Elem()
		t.Run(typ.String(), func(t *testing.T) {
			plainGen, strGen := &fixtureGen{}, &fixtureGen{asString: true}
			plainTree, _ := plainGen.value(typ, 0)
			strTree, _ := strGen.value(typ, 0)
			plainBody, err := json.Marshal(plainTree)
			require.NoError(t, err)
			strBody, err := json.Marshal(strTree)
			require.NoError(t, err)
			// Only these types have no number at all; a type that loses its
			// numbers by mistake fails here.
			_, none := map[reflect.Type]bool{reflect.TypeFor[Link](): true, reflect.TypeFor[APIToken](): true}[typ]
			assert.Equal(t, none, strGen.n == 0, "%s: %d numbers", typ, strGen.n)

			want := reflect.New(typ)
			require.NoError(t, json.Unmarshal(plainBody, want.Interface()), "%s", plainBody)
			// Every number of the fixture was read: the test would prove
			// nothing for a field the type never fills.
			assert.Equal(t, plainGen.n, numbersIn(want.Elem()), "numbers decoded from %s", plainBody)

			got := reflect.New(typ)
			require.NoError(t, decodeJSON(strBody, got.Interface()), "%s", strBody)
			assert.Equal(t, want.Elem().Interface(), got.Elem().Interface(), "%s", strBody)
		})
	}
}

// TestNumbersAsStringsThroughTheClient goes through the pipeline, with the
// reference's own string numbers: a service id "145" (_services.md) and
// attribute values written as strings, as the Ruby examples send them
// (display_max: '150', display_min: '0', _metric-attributes.md and
// _metrics.md), with a period and a source_lag a server could echo the
// same way.
func TestNumbersAsStringsThroughTheClient(t *testing.T) {
	c, mt := newMockClient(t)
	capture(mt, 200, `{"name":"temperature","type":"gauge","period":"60","source_lag":" 120 ",
		"attributes":{"display_max":"150","display_min":"0","display_stacked":true}}`)
	m, err := c.Metrics.Get(context.Background(), "temperature")
	require.NoError(t, err)
	assert.Equal(t, 60, *m.Period)
	assert.Equal(t, 120, *m.SourceLag)
	assert.Equal(t, 150.0, *m.Attributes.DisplayMax)
	assert.Equal(t, 0.0, *m.Attributes.DisplayMin)
	assert.True(t, *m.Attributes.DisplayStacked)

	capture(mt, 200, `{"query":{"found":"1","length":"1","offset":"0","total":"3"},
		"services":[{"id":"145","type":"campfire","settings":{"room":"Ops"},"title":"Notify Ops Room"}]}`)
	l, err := c.Services.List(context.Background(), nil)
	require.NoError(t, err)
	assert.Equal(t, Query{Found: 1, Length: 1, Total: 3}, l.Query)
	assert.EqualValues(t, 145, l.Services[0].ID)

	capture(mt, 200, `{"name":"m","resolution":"60","series":[{"measurements":[{"time":"60","value":"2.5","count":"4"}]}]}`)
	page, err := c.Measurements.List(context.Background(), "m", &MeasurementsQuery{Duration: time.Hour, Resolution: time.Minute})
	require.NoError(t, err)
	assert.Equal(t, 60, page.Resolution)
	assert.Equal(t, []Point{{Time: 60, Value: 2.5, Count: ptr[int64](4)}}, page.Series[0].Measurements)

	capture(mt, 200, `{"id":"7","name":"a","rearm_seconds":"600","created_at":"1700000000",
		"conditions":[{"id":"3","type":"above","metric_name":"m","threshold":"90.5","duration":"300"}]}`)
	a, err := c.Alerts.Get(context.Background(), 7)
	require.NoError(t, err)
	assert.EqualValues(t, 7, a.ID)
	assert.Equal(t, 600, *a.RearmSeconds)
	assert.EqualValues(t, 1700000000, a.CreatedAt)
	assert.EqualValues(t, 3, a.Conditions[0].ID)
	assert.Equal(t, 90.5, *a.Conditions[0].Threshold)
	assert.Equal(t, 300, a.Conditions[0].Duration)

	var out struct {
		N int `json:"n"`
	}
	capture(mt, 200, `{"n":"42"}`)
	require.NoError(t, c.Do(context.Background(), "GET", "/v1/whatever", nil, &out))
	assert.Equal(t, 42, out.N)
}

// TestMalformedNumberIsADecodeError: a string that is not a number still
// fails, naming the field and quoting at most four characters, so a value
// a hostile server fills with the caller's token is never repeated.
func TestMalformedNumberIsADecodeError(t *testing.T) {
	for _, tc := range []struct {
		name, body, field string
	}{
		{"token as period", `{"name":"m","period":"` + testToken + `"}`, "period"},
		{"token as attribute", `{"name":"m","attributes":{"display_min":"` + testToken + `"}}`, "attributes.display_min"},
		{"fraction for an integer", `{"name":"m","period":"60.5"}`, "period"},
		{"NaN", `{"name":"m","attributes":{"display_max":"NaN"}}`, "attributes.display_max"},
		{"infinity", `{"name":"m","attributes":{"display_max":"-Infinity"}}`, "attributes.display_max"},
		{"hex", `{"name":"m","period":"0x3C"}`, "period"},
		{"out of range", `{"name":"m","period":"99999999999999999999999"}`, "period"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, mt := newMockClient(t)
			capture(mt, 200, tc.body)
			_, err := c.Metrics.Get(context.Background(), "m")
			var de *DecodeError
			require.ErrorAs(t, err, &de)
			assert.Equal(t, 200, de.StatusCode)
			msg := err.Error()
			assert.Contains(t, msg, "response field "+tc.field+": ")
			assert.NotContains(t, msg, testToken)
			assert.NotContains(t, msg, testToken[:5])
		})
	}
	// In a map keyed by what the server sent, the key is cut short too.
	var lm LegacyPage
	err := decodeJSON([]byte(`{"measurements":{"`+testToken+`":[{"measure_time":1,"value":"`+testToken+`"}]}}`), &lm)
	require.Error(t, err)
	assert.Equal(t, `response field measurements["tok3"…][0].value: "tok3"… (23 bytes) is not a number`, err.Error())
}

// TestLenientLeavesOtherErrorsAlone: only a string met by a number is
// repaired; every other mismatch fails as encoding/json fails it.
func TestLenientLeavesOtherErrorsAlone(t *testing.T) {
	for _, body := range []string{
		`{"name":7}`,                    // a number for a string
		`{"name":"m","period":true}`,    // a bool for a number
		`{"name":"m","period":[60]}`,    // an array for a number
		`{"name":"m","attributes":"x"}`, // a string for an object
		`{"name":"m"`,                   // truncated
		`{"name":"m"} trailing`,         // garbage after the value
	} {
		var m Metric
		err := decodeJSON([]byte(body), &m)
		require.Error(t, err, body)
		var le *lenientError
		assert.False(t, errors.As(err, &le), "%s: %v", body, err)
		assert.Equal(t, json.Unmarshal([]byte(body), new(Metric)).Error(), err.Error(), body)
	}
	// A type's own decoder keeps its word: a service id that is no number.
	var a Alert
	assert.Error(t, decodeJSON([]byte(`{"id":1,"period":"x","services":[{"id":"abc"}]}`), &a))
}

func TestNumberFromStringKinds(t *testing.T) {
	var v struct {
		I8  int8    `json:"i8"`
		U16 uint16  `json:"u16"`
		F32 float32 `json:"f32"`
		I64 *int64  `json:"i64"`
		Arr [2]int  `json:"arr"`
		Q   int     `json:"q,string"`
		Any any     `json:"any"`
	}
	require.NoError(t, decodeJSON([]byte(`{"i8":"-128","u16":"+65535","f32":"1.5e3","i64":"6e1","arr":["1","2.0"],"q":"5","any":"7"}`), &v))
	assert.Equal(t, int8(-128), v.I8)
	assert.Equal(t, uint16(65535), v.U16)
	assert.Equal(t, float32(1500), v.F32)
	assert.Equal(t, int64(60), *v.I64)
	assert.Equal(t, [2]int{1, 2}, v.Arr)
	assert.Equal(t, 5, v.Q, "the ,string option is encoding/json's own")
	assert.Equal(t, "7", v.Any, "an interface takes the string as it is")

	for body, field := range map[string]string{
		`{"i8":"128"}`:    "i8",
		`{"u16":"-1"}`:    "u16",
		`{"f32":"1e39"}`:  "f32",
		`{"i64":"1e300"}`: "i64",
		`{"arr":["x"]}`:   "arr[0]",
	} {
		err := decodeJSON([]byte(body), &v)
		var le *lenientError
		require.ErrorAs(t, err, &le, body)
		assert.Equal(t, field, le.path, body)
	}
	// An empty string reads as null.
	v.I8 = 9
	require.NoError(t, decodeJSON([]byte(`{"i8":"","u16":"1"}`), &v))
	assert.Zero(t, v.I8)
}

// appending is a decoder that accumulates: each call adds what it read.
type appending []string

func (a *appending) UnmarshalJSON(b []byte) error {
	*a = append(*a, string(b))
	return nil
}

// TestLenientPassStartsFromZero: encoding/json half-fills the target
// before it fails; the second pass must not decode on top of that.
func TestLenientPassStartsFromZero(t *testing.T) {
	var v struct {
		A appending `json:"a"`
		N int       `json:"n"`
	}
	require.NoError(t, decodeJSON([]byte(`{"a":1,"n":"2"}`), &v))
	assert.Equal(t, appending{"1"}, v.A)
	assert.Equal(t, 2, v.N)

	var l MetricPage
	require.NoError(t, decodeJSON([]byte(`{"metrics":[{"name":"a","period":60,"display_name":"A"},{"name":"b","period":"30"}]}`), &l))
	require.Len(t, l.Metrics, 2)
	assert.Equal(t, "A", *l.Metrics[0].DisplayName)
	assert.Nil(t, l.Metrics[1].DisplayName)
	assert.Equal(t, 30, *l.Metrics[1].Period)
}

// BenchmarkDecodeJSON shows the cost of the two paths: a body with plain
// numbers goes through encoding/json alone.
func BenchmarkDecodeJSON(b *testing.B) {
	plain := []byte(metricBody)
	strs := []byte(strings.Replace(metricBody, `"period":60`, `"period":"60"`, 1))
	for name, body := range map[string][]byte{"plain": plain, "strings": strs} {
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				var m Metric
				if err := decodeJSON(body, &m); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
