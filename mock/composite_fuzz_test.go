package mock

import (
	"context"
	"encoding/json"
	"errors"
	"math"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"

	librato "github.com/librato-sdk/librato-go"
)

// composeSeeds are expressions from the reference, the blog and
// composite.md, plus broken ones.
var composeSeeds = []string{
	`derive(s("librato.disk.disk_ops.read", {"host": "ip-192-168-15-18.ec2.internal"}), {detect_reset: "true"})`,
	`derive(s("librato.disk.disk_ops.read", {"host":"ip-192-168-15-18.ec2.internal"), {detect_reset: "true"})`,
	`timeshift("0,1,2,3w", mean(s("AWS.ElastiCache.CPUUtilization", "%")))`,
	`timeshift("0,1,2,3w", window(max(s("api.auth.time.p99", "*")), {size: "10"}))`,
	`group_by("region", sum(series("m", {"region":"us*"})))`,
	`group_by("region,az", divide([sum(s("m", "*")), sum(s("m", "*", {group: "false"}))]))`,
	`map({metric: "m*"}, scale(s("&", "*"), {factor: "1/1024"}))`,
	`map({source: "*"}, s("m", "&"))`,
	`top(filter(zero_fill(s("m", "*", {period: "60"})), {gt: "0", lt: "1e3"}), {"count": "2", "function": "max"})`,
	`[fill(s("m", "*"), {value: "last"}), last_fill(s("m", "*")), rate(s("m", "*"), {duration: "60"})]`,
	`moving_average(integrate(abs(subtract([s("m", "*"), s("n", "*")]))), {size: "2"})`,
	`multiply([s("m", {host: "a"}), s("n", {"@host": "!b*"})])`,
	`s(`, `s("m",{`, `[[[[`, `sum(s("m", "*"), )`, `s ("m", "*")`, `"x"`, `s("m", "*")]`,
}

// FuzzComposeParse feeds arbitrary text to the parser: it never panics,
// and every refusal is a *composeError that says where.
func FuzzComposeParse(f *testing.F) {
	for _, s := range composeSeeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		n, err := parseCompose(s)
		if err == nil {
			if n == nil {
				t.Fatal("no error and no expression")
			}
			if len(s) > maxComposeLen {
				t.Fatalf("accepted %d bytes", len(s))
			}
			return
		}
		var ce *composeError
		if !errors.As(err, &ce) || ce.msg == "" {
			t.Fatalf("refusal %T %q is not a composeError", err, err)
		}
	})
}

// TestComposeParseHostile: deep nesting, long input and huge sets are
// refused (or accepted) without recursing without bound.
func TestComposeParseHostile(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{strings.Repeat("[", 10_000), "nested more than 32 levels deep"},
		{strings.Repeat("[", 100_000), "the mock accepts at most 16384"},
		{strings.Repeat("sum(", 8), "line 1, column 33: unexpected end of expression"},
		{`sum(s("m", "*")`, "the argument list of sum() opened here is never closed"},
		{strings.Repeat("s(", 9000), "the mock accepts at most 16384"},
		{strings.Repeat("{", 1000), "found an options map"},
		{"s(\"m\", " + strings.Repeat("{", 40), "expected an option name"},
		{`s("` + strings.Repeat("a", 20_000) + `", "*")`, "the mock accepts at most 16384"},
		{`s("m", "*"` + strings.Repeat(",", 5000), "expected a function call or a set"},
		{`s("unterminated`, "never closed with '\"'"},
		{"\xff\xfe", "found byte 0xff"},
		{"", "the expression is empty"},
		{"  \n ", "the expression is empty"},
	} {
		_, err := parseCompose(c.in)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%.40q: got %v, want an error containing %q", c.in, err, c.want)
		}
	}
	// A huge flat set within the length limit parses.
	set := "sum([" + strings.Repeat(`s("m","*"),`, 1400) + `s("m","*")])`
	if len(set) > maxComposeLen {
		t.Fatalf("fixture too long: %d", len(set))
	}
	if _, err := parseCompose(set); err != nil {
		t.Fatal(err)
	}
	// Exactly maxComposeDepth levels parse; one more does not.
	at := func(depth int) string {
		return strings.Repeat("abs(", depth-1) + `s("m", "*")` + strings.Repeat(")", depth-1)
	}
	if _, err := parseCompose(at(maxComposeDepth)); err != nil {
		t.Fatal(err)
	}
	if _, err := parseCompose(at(maxComposeDepth + 1)); err == nil {
		t.Fatal("one level too deep was accepted")
	}
}

// FuzzComposeQuery runs arbitrary expressions against a server holding a
// few streams: every answer is a 200 with finite values in the documented
// shape, or a 400 with one message on compose.
func FuzzComposeQuery(f *testing.F) {
	for _, s := range composeSeeds {
		f.Add(s, int64(60))
	}
	srv, err := New(WithRateLimits(math.MaxInt32, math.MaxInt32))
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(srv.Close)
	c, err := srv.Client(librato.RoleFullAccess)
	if err != nil {
		f.Fatal(err)
	}
	const start = 1_700_000_400
	var ms []librato.Measurement
	for i := range 6 {
		for _, h := range []string{"a", "b", "c"} {
			ms = append(ms,
				librato.Measurement{Name: "m", Value: float64(i*i) - 3, Time: start + 60*int64(i), Tags: map[string]string{"host": h, "region": "us-" + h, "source": "web-" + h}},
				librato.Measurement{Name: "n", Value: float64(i%3) * 1e120, Time: start + 90*int64(i), Tags: map[string]string{"host": h}})
		}
	}
	if err := c.Metrics.Update(context.Background(), "m", &librato.MetricUpdate{Type: librato.Ptr("gauge"), Period: librato.Ptr(60)}); err != nil {
		f.Fatal(err)
	}
	if _, err := c.Measurements.Create(context.Background(), &librato.MeasurementBatch{Measurements: ms}); err != nil {
		f.Fatal(err)
	}
	email, token := srv.Credentials(librato.RoleFullAccess)
	tr := srv.Transport()
	f.Fuzz(func(t *testing.T, expr string, res int64) {
		if res < 1 || res > 3600 {
			res = 60
		}
		q := url.Values{"compose": {expr}, "start_time": {strconv.Itoa(start)}, "end_time": {strconv.Itoa(start + 3600)}, "resolution": {strconv.FormatInt(res, 10)}}
		req, err := http.NewRequest("GET", "http://mock.invalid/v1/measurements?"+q.Encode(), nil)
		if err != nil {
			t.Fatal(err)
		}
		req.SetBasicAuth(email, token)
		rsp, err := tr.RoundTrip(req)
		if err != nil {
			t.Fatal(err)
		}
		defer rsp.Body.Close()
		switch rsp.StatusCode {
		case 200:
			var out []composeSeriesJSON
			if err := json.NewDecoder(rsp.Body).Decode(&out); err != nil {
				t.Fatalf("%q: 200 that is not an array of series: %v", expr, err)
			}
			for _, s := range out {
				if s.Tags == nil || s.Metric.Name == "" || s.Period <= 0 || len(s.Measurements) == 0 {
					t.Fatalf("%q: series without tags, metric, period or points: %+v", expr, s)
				}
			}
		case 400:
			var eb errorBody
			if err := json.NewDecoder(rsp.Body).Decode(&eb); err != nil || len(eb.Errors.Params["compose"]) != 1 || len(eb.Errors.Params) != 1 {
				t.Fatalf("%q: 400 without one compose message: %+v (%v)", expr, eb, err)
			}
		default:
			t.Fatalf("%q: status %d", expr, rsp.StatusCode)
		}
	})
}

// TestComposeFunctionList: the names the "unknown function" message lists
// are exactly the ones the checker knows.
func TestComposeFunctionList(t *testing.T) {
	known := map[string]bool{"series": true, "s": true, "timeshift": true, "map": true, "group_by": true}
	for name := range transforms {
		known[name] = true
	}
	if len(known) != len(composeFunctions) {
		t.Fatalf("composeFunctions has %d names, the checker knows %d", len(composeFunctions), len(known))
	}
	for _, name := range composeFunctions {
		if !known[name] {
			t.Errorf("%s is listed but unknown", name)
		}
		if _, err := parseCompose(name + "()"); err == nil || strings.Contains(err.Error(), "unknown function") {
			t.Errorf("%s(): %v", name, err)
		}
	}
}
