package librato

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// legacyComposeExample is the answer of the "Composite Metric Queries"
// example, transcribed from librato/api-docs, branch legacy,
// source/includes/_metrics.md.
const legacyComposeExample = `{
  "compose": "derive(s(\"collectd.cpu.*.idle\",\"boatman*19\"))",
  "measurements": [
    {
      "metric": {
        "attributes": {
          "aggregate": false,
          "created_by_ua": "Collectd-Librato.py/0.0.8 (Linux; x86_64) Python-Urllib2/2.7",
          "display_max": null,
          "display_min": null,
          "display_stacked": true,
          "display_units_long": "Units",
          "gap_detection": true
        },
        "description": null,
        "display_name": null,
        "name": "collectd.cpu.0.cpu.idle",
        "period": 60,
        "type": "counter"
      },
      "period": 60,
      "query": {"metric": "collectd.cpu.*.idle", "source": "boatman*19"},
      "series": [
        {"measure_time": 1395802200, "value": 5831.0},
        {"measure_time": 1395802620, "value": 5748.0}
      ],
      "source": {"display_name": null, "name": "boatman-stg_19"}
    }
  ],
  "resolution": 60
}`

func TestLegacyComposeRequestAndAnswer(t *testing.T) {
	c, mt := newMockClient(t)
	rec := famRespond(t, mt, "GET", "/v1/metrics", 200, legacyComposeExample, "")
	expr := `derive(s("collectd.cpu.*.idle","boatman*45"))`
	got, err := c.Legacy.Compose(context.Background(), &LegacyCompositeQuery{
		Compose: expr, StartTime: time.Unix(1432931007, 0), Resolution: time.Minute,
	})
	require.NoError(t, err)
	call := rec.one(t)
	famAssertRequest(t, call, "GET", "/v1/metrics")
	assert.Equal(t, map[string][]string{"compose": {expr}, "start_time": {"1432931007"}, "resolution": {"60"}}, call.Query)
	assert.Empty(t, call.Body)

	assert.Equal(t, &LegacyComposite{
		Compose:    `derive(s("collectd.cpu.*.idle","boatman*19"))`,
		Resolution: 60,
		Measurements: []LegacyCompositeSeries{{
			Metric: &Metric{
				Name: "collectd.cpu.0.cpu.idle", Type: "counter", Period: Ptr(60),
				Attributes: &MetricAttributes{
					Aggregate: Ptr(false), CreatedByUA: "Collectd-Librato.py/0.0.8 (Linux; x86_64) Python-Urllib2/2.7",
					DisplayStacked: Ptr(true), DisplayUnitsLong: "Units", GapDetection: Ptr(true),
				},
			},
			Period: 60,
			Query:  LegacyCompositeSeriesQuery{Metric: "collectd.cpu.*.idle", Source: "boatman*19"},
			Series: []LegacyCompositePoint{{MeasureTime: 1395802200, Value: 5831}, {MeasureTime: 1395802620, Value: 5748}},
			Source: Source{Name: "boatman-stg_19"},
		}},
	}, got)
}

func TestLegacyComposeSendsEndTime(t *testing.T) {
	c, mt := newMockClient(t)
	rec := famRespond(t, mt, "GET", "/v1/metrics", 200, `{"compose":"s(\"cpu\",\"*\")","resolution":300,"measurements":[]}`, "")
	got, err := c.Legacy.Compose(context.Background(), &LegacyCompositeQuery{
		Compose: `s("cpu","*")`, StartTime: time.Unix(1000, 0), EndTime: time.Unix(4600, 0), Resolution: 5 * time.Minute,
	})
	require.NoError(t, err)
	assert.Equal(t, map[string][]string{"compose": {`s("cpu","*")`}, "start_time": {"1000"}, "end_time": {"4600"}, "resolution": {"300"}}, rec.one(t).Query)
	assert.Equal(t, 300, got.Resolution)
	assert.Empty(t, got.Measurements)
}

func TestLegacyComposeRefusesBadQueries(t *testing.T) {
	start := time.Unix(1432931007, 0)
	for _, tc := range []struct {
		name, field string
		q           *LegacyCompositeQuery
	}{
		{"nil", "compose", nil},
		{"blank compose", "compose", &LegacyCompositeQuery{Compose: "  ", StartTime: start, Resolution: time.Minute}},
		{"no start", "start_time", &LegacyCompositeQuery{Compose: `s("cpu","*")`, Resolution: time.Minute}},
		{"no resolution", "resolution", &LegacyCompositeQuery{Compose: `s("cpu","*")`, StartTime: start}},
		{"fractional resolution", "resolution", &LegacyCompositeQuery{Compose: `s("cpu","*")`, StartTime: start, Resolution: 1500 * time.Millisecond}},
		{"resolution over a week", "resolution", &LegacyCompositeQuery{Compose: `s("cpu","*")`, StartTime: start, Resolution: (MaxResolution + 1) * time.Second}},
		{"end before start", "end_time", &LegacyCompositeQuery{Compose: `s("cpu","*")`, StartTime: start, EndTime: start.Add(-time.Second), Resolution: time.Minute}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, mt := newMockClient(t)
			_, err := c.Legacy.Compose(context.Background(), tc.q)
			famRequireInvalid(t, mt, err, tc.field)
		})
	}
}

func TestLegacyComposeServerError(t *testing.T) {
	c, mt := newMockClient(t)
	famRespond(t, mt, "GET", "/v1/metrics", 400, `{"errors":{"params":{"compose":["syntax error at line 1, column 3"]}}}`, "")
	_, err := c.Legacy.Compose(context.Background(), &LegacyCompositeQuery{Compose: `s(`, StartTime: time.Unix(1, 0), Resolution: time.Minute})
	require.ErrorIs(t, err, ErrBadRequest)
	var ae *APIError
	require.ErrorAs(t, err, &ae)
	assert.Equal(t, []string{"syntax error at line 1, column 3"}, ae.Params["compose"])
}

// TestLegacyComposeRoles: the legacy composite read is GET /v1/metrics,
// a published row every role may call, so even a strict View Only client
// sends it.
func TestLegacyComposeRoles(t *testing.T) {
	p, ok := LookupPermission("GET", "/v1/metrics")
	require.True(t, ok)
	assert.Equal(t, Roles(), p.Roles)
	for _, role := range Roles() {
		c, mt := newMockClient(t, WithRole(role), WithStrictGuard())
		famRespond(t, mt, "GET", "/v1/metrics", 200, `{"compose":"x","resolution":60,"measurements":[]}`, "")
		_, err := c.Legacy.Compose(context.Background(), &LegacyCompositeQuery{Compose: `s("cpu","*")`, StartTime: time.Unix(1, 0), Resolution: time.Minute})
		require.NoError(t, err, role)
		assert.Equal(t, 1, mt.GetTotalCallCount(), role)
	}
}
