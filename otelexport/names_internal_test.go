package otelexport

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"

	librato "github.com/librato-sdk/librato-go"
)

// TestRewriteRules checks each rewriting rule of the package documentation
// for tag names, tag values and metric names.
func TestRewriteRules(t *testing.T) {
	long := strings.Repeat("a", 300)
	for _, tc := range []struct {
		rule, in, name, value, metric string
	}{
		{rule: "valid strings are kept", in: "http.route", name: "http.route", value: "http.route", metric: "http.route"},
		{rule: "invalid ASCII becomes _", in: "a/b=c", name: "a_b_c", value: "a/b_c", metric: "a_b_c"},
		{rule: "one _ per multi-byte character", in: "région", name: "r_gion", value: "r_gion", metric: "r_gion"},
		{rule: "one _ per byte that is not UTF-8", in: "a\xffb", name: "a_b", value: "a_b", metric: "a_b"},
		{rule: "tag names are lower-cased, values and metric names keep case", in: "Host", name: "host", value: "Host", metric: "Host"},
		{rule: "value characters beyond the name set", in: `x? \/`, name: "x____", value: `x? \/`, metric: "x____"},
		{rule: "empty becomes _", in: "", name: "_", value: "_", metric: "_"},
		{rule: "cut to the limits", in: long, name: long[:64], value: long[:255], metric: long[:255]},
		{rule: "cut after replacing", in: strings.Repeat("é", 100), name: strings.Repeat("_", 64), value: strings.Repeat("_", 100), metric: strings.Repeat("_", 100)},
	} {
		t.Run(tc.rule, func(t *testing.T) {
			name, _ := tagName(tc.in)
			value, _ := tagValue(tc.in)
			metric, _ := metricName("", tc.in, "", false)
			assert.Equal(t, tc.name, name, "tag name")
			assert.Equal(t, tc.value, value, "tag value")
			assert.Equal(t, tc.metric, metric, "metric name")
		})
	}
}

// TestMetricNameOptions covers the prefix and the unit suffix.
func TestMetricNameOptions(t *testing.T) {
	for _, tc := range []struct{ prefix, name, unit, want string }{
		{"", "http.server.duration", "ms", "http.server.duration.ms"},
		{"app.", "http.server.duration", "ms", "app.http.server.duration.ms"},
		{"", "net.io", "By/s", "net.io.By_per_s"},
		{"", "packets", "{packet}/s", "packets.per_s"},
		{"", "requests", "{request}", "requests"},
		{"", "ratio", "1", "ratio"},
		{"", "temp", "Cel", "temp.Cel"},
		{"", "temp", "°C", "temp._C"},
		{"", "x", "", "x"},
	} {
		got, _ := metricName(tc.prefix, tc.name, tc.unit, true)
		assert.Equal(t, tc.want, got, "%q %q %q", tc.prefix, tc.name, tc.unit)
	}
	got, _ := metricName("", "http.server.duration", "ms", false)
	assert.Equal(t, "http.server.duration", got, "no suffix unless asked")
}

// FuzzRewrite: whatever the input, the output passes the SDK's own
// validation, rewriting it again changes nothing, and valid input is kept.
func FuzzRewrite(f *testing.F) {
	for _, s := range []string{"", "a", "Host", "a/b", "région", "\xff", strings.Repeat("x", 70), `x? \/`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		name, changed := tagName(s)
		if !librato.ValidTagName(name) {
			t.Fatalf("tag name %q from %q is invalid", name, s)
		}
		if again, ch := tagName(name); ch || again != name {
			t.Fatalf("tag name %q rewrites again to %q", name, again)
		}
		if !changed && name != s {
			t.Fatalf("tag name %q from %q reported unchanged", name, s)
		}
		value, changed := tagValue(s)
		if !librato.ValidTagValue(value) {
			t.Fatalf("tag value %q from %q is invalid", value, s)
		}
		if librato.ValidTagValue(s) && (changed || value != s) {
			t.Fatalf("valid tag value %q rewritten to %q", s, value)
		}
		metric, _ := metricName("p.", s, s, true)
		if !librato.ValidMetricName(metric) {
			t.Fatalf("metric name %q from %q is invalid", metric, s)
		}
		if librato.ValidMetricName(s) {
			if m, ch := metricName("", s, "", false); ch || m != s {
				t.Fatalf("valid metric name %q rewritten to %q", s, m)
			}
		}
	})
}
