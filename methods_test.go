package librato

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/jarcoal/httpmock"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// typedCall is one typed method called with valid arguments.
type typedCall struct {
	name string
	call func(ctx context.Context, c *Client) error
}

// first runs a sequence until its first item or error.
func first[T any](seq func(func(T, error) bool)) error {
	var err error
	seq(func(_ T, e error) bool { err = e; return false })
	return err
}

func minimalAlert() *Alert {
	return &Alert{Name: "api.latency", Conditions: []AlertCondition{{Type: AlertConditionAbove, MetricName: "api.latency", Threshold: Ptr(200.0)}}}
}

// typedCalls is every typed method of the SDK. The coverage test below
// fails if a matrix row has no method here.
var typedCalls = []typedCall{
	{"Measurements.Create", func(ctx context.Context, c *Client) error {
		_, err := c.Measurements.Create(ctx, &MeasurementBatch{Measurements: []Measurement{{Name: "cpu", Value: 1}}})
		return err
	}},
	{"Measurements.List", func(ctx context.Context, c *Client) error {
		_, err := c.Measurements.List(ctx, "cpu", &MeasurementsQuery{Duration: time.Hour, Resolution: time.Minute})
		return err
	}},
	{"Measurements.All", func(ctx context.Context, c *Client) error {
		return first(c.Measurements.All(ctx, "cpu", &MeasurementsQuery{Duration: time.Hour, Resolution: time.Minute}))
	}},
	{"Measurements.Compose", func(ctx context.Context, c *Client) error {
		_, err := c.Measurements.Compose(ctx, &CompositeQuery{Compose: `s("cpu", "*")`, StartTime: time.Unix(1, 0), Resolution: time.Minute})
		return err
	}},
	{"Metrics.List", func(ctx context.Context, c *Client) error { _, err := c.Metrics.List(ctx, nil); return err }},
	{"Metrics.All", func(ctx context.Context, c *Client) error { return first(c.Metrics.All(ctx, nil)) }},
	{"Metrics.Get", func(ctx context.Context, c *Client) error { _, err := c.Metrics.Get(ctx, "cpu"); return err }},
	{"Metrics.Update", func(ctx context.Context, c *Client) error {
		return c.Metrics.Update(ctx, "cpu", &MetricUpdate{Type: Ptr(MetricTypeGauge)})
	}},
	{"Metrics.Delete", func(ctx context.Context, c *Client) error { return c.Metrics.Delete(ctx, "cpu") }},
	{"Metrics.UpdateBatch", func(ctx context.Context, c *Client) error {
		_, err := c.Metrics.UpdateBatch(ctx, &MetricsBatchUpdate{MetricNames: MetricNames{Pattern: "cpu*"}, Period: Ptr(60)})
		return err
	}},
	{"Metrics.DeleteBatch", func(ctx context.Context, c *Client) error {
		_, err := c.Metrics.DeleteBatch(ctx, &MetricsBatchDelete{MetricNames{Names: []string{"cpu"}}})
		return err
	}},
	{"Legacy.Create", func(ctx context.Context, c *Client) error {
		return c.Legacy.Create(ctx, &LegacyBatch{Source: "web-1", Gauges: []LegacyMeasurement{{Name: "cpu", Value: 1}}})
	}},
	{"Legacy.List", func(ctx context.Context, c *Client) error {
		_, err := c.Legacy.List(ctx, "cpu", &LegacyQuery{Count: 5, Resolution: time.Minute})
		return err
	}},
	{"Legacy.All", func(ctx context.Context, c *Client) error {
		return first(c.Legacy.All(ctx, "cpu", &LegacyQuery{StartTime: time.Unix(1, 0)}))
	}},
	{"Legacy.Compose", func(ctx context.Context, c *Client) error {
		_, err := c.Legacy.Compose(ctx, &LegacyCompositeQuery{Compose: `s("cpu", "*")`, StartTime: time.Unix(1, 0), Resolution: time.Minute})
		return err
	}},
	{"Alerts.List", func(ctx context.Context, c *Client) error { _, err := c.Alerts.List(ctx, nil); return err }},
	{"Alerts.All", func(ctx context.Context, c *Client) error { return first(c.Alerts.All(ctx, nil)) }},
	{"Alerts.Get", func(ctx context.Context, c *Client) error { _, err := c.Alerts.Get(ctx, 7); return err }},
	{"Alerts.Create", func(ctx context.Context, c *Client) error { _, err := c.Alerts.Create(ctx, minimalAlert()); return err }},
	{"Alerts.Update", func(ctx context.Context, c *Client) error { return c.Alerts.Update(ctx, 7, minimalAlert().asUpdate()) }},
	{"Alerts.Delete", func(ctx context.Context, c *Client) error { return c.Alerts.Delete(ctx, 7) }},
	{"Alerts.Status", func(ctx context.Context, c *Client) error { _, err := c.Alerts.Status(ctx, 7); return err }},
	{"Alerts.StatusAll", func(ctx context.Context, c *Client) error { _, err := c.Alerts.StatusAll(ctx); return err }},
	{"Alerts.Clear", func(ctx context.Context, c *Client) error { return c.Alerts.Clear(ctx, 7) }},
	{"Alerts.AddService", func(ctx context.Context, c *Client) error { return c.Alerts.AddService(ctx, 7, 9) }},
	{"Alerts.RemoveService", func(ctx context.Context, c *Client) error { return c.Alerts.RemoveService(ctx, 7, 9) }},
	{"Annotations.List", func(ctx context.Context, c *Client) error {
		_, err := c.Annotations.List(ctx, nil)
		return err
	}},
	{"Annotations.All", func(ctx context.Context, c *Client) error { return first(c.Annotations.All(ctx, nil)) }},
	{"Annotations.Get", func(ctx context.Context, c *Client) error {
		_, err := c.Annotations.Get(ctx, "deploys", &AnnotationSearch{Count: 5})
		return err
	}},
	{"Annotations.Update", func(ctx context.Context, c *Client) error {
		return c.Annotations.Update(ctx, "deploys", &AnnotationStreamUpdate{DisplayName: Ptr("Deploys")})
	}},
	{"Annotations.Delete", func(ctx context.Context, c *Client) error { return c.Annotations.Delete(ctx, "deploys") }},
	{"Annotations.CreateEvent", func(ctx context.Context, c *Client) error {
		_, err := c.Annotations.CreateEvent(ctx, "deploys", &AnnotationEvent{Title: "v45"})
		return err
	}},
	{"Annotations.GetEvent", func(ctx context.Context, c *Client) error {
		_, err := c.Annotations.GetEvent(ctx, "deploys", 3)
		return err
	}},
	{"Annotations.UpdateEvent", func(ctx context.Context, c *Client) error {
		return c.Annotations.UpdateEvent(ctx, "deploys", 3, &AnnotationEventUpdate{Title: Ptr("v46")})
	}},
	{"Annotations.DeleteEvent", func(ctx context.Context, c *Client) error { return c.Annotations.DeleteEvent(ctx, "deploys", 3) }},
	{"Annotations.AddLink", func(ctx context.Context, c *Client) error {
		_, err := c.Annotations.AddLink(ctx, "deploys", 3, &Link{Rel: "github", Href: "https://github.com/x"})
		return err
	}},
	{"Annotations.DeleteLink", func(ctx context.Context, c *Client) error {
		return c.Annotations.DeleteLink(ctx, "deploys", 3, "github")
	}},
	{"APITokens.List", func(ctx context.Context, c *Client) error { _, err := c.APITokens.List(ctx, nil); return err }},
	{"APITokens.All", func(ctx context.Context, c *Client) error { return first(c.APITokens.All(ctx, nil)) }},
	{"APITokens.Get", func(ctx context.Context, c *Client) error { _, err := c.APITokens.Get(ctx, 4); return err }},
	{"APITokens.Create", func(ctx context.Context, c *Client) error {
		_, err := c.APITokens.Create(ctx, &APIToken{Name: Ptr("ci"), Role: RoleViewOnly})
		return err
	}},
	{"APITokens.Update", func(ctx context.Context, c *Client) error {
		return c.APITokens.Update(ctx, 4, &APITokenUpdate{Active: Ptr(false)})
	}},
	{"APITokens.Delete", func(ctx context.Context, c *Client) error { return c.APITokens.Delete(ctx, 4) }},
	{"Spaces.List", func(ctx context.Context, c *Client) error { _, err := c.Spaces.List(ctx, nil); return err }},
	{"Spaces.All", func(ctx context.Context, c *Client) error { return first(c.Spaces.All(ctx, nil)) }},
	{"Spaces.Get", func(ctx context.Context, c *Client) error { _, err := c.Spaces.Get(ctx, 5); return err }},
	{"Spaces.Create", func(ctx context.Context, c *Client) error {
		_, err := c.Spaces.Create(ctx, &Space{Name: "ops"})
		return err
	}},
	{"Spaces.Update", func(ctx context.Context, c *Client) error {
		return c.Spaces.Update(ctx, 5, &SpaceUpdate{Name: Ptr("ops2")})
	}},
	{"Spaces.Delete", func(ctx context.Context, c *Client) error { return c.Spaces.Delete(ctx, 5) }},
	{"Charts.List", func(ctx context.Context, c *Client) error { _, err := c.Charts.List(ctx, 5); return err }},
	{"Charts.Get", func(ctx context.Context, c *Client) error { _, err := c.Charts.Get(ctx, 5, 6); return err }},
	{"Charts.Create", func(ctx context.Context, c *Client) error {
		_, err := c.Charts.Create(ctx, 5, &Chart{Name: "CPU", Streams: []ChartStream{{Metric: "cpu"}}})
		return err
	}},
	{"Charts.Update", func(ctx context.Context, c *Client) error {
		return c.Charts.Update(ctx, 5, 6, &ChartUpdate{Name: Ptr("CPU %")})
	}},
	{"Charts.Delete", func(ctx context.Context, c *Client) error { return c.Charts.Delete(ctx, 5, 6) }},
	{"Services.List", func(ctx context.Context, c *Client) error { _, err := c.Services.List(ctx, nil); return err }},
	{"Services.All", func(ctx context.Context, c *Client) error { return first(c.Services.All(ctx, nil)) }},
	{"Services.Get", func(ctx context.Context, c *Client) error { _, err := c.Services.Get(ctx, 9); return err }},
	{"Services.Create", func(ctx context.Context, c *Client) error {
		_, err := c.Services.Create(ctx, &Service{Type: "mail", Title: "ops", Settings: map[string]any{"addresses": "ops@example.com"}})
		return err
	}},
	{"Services.Update", func(ctx context.Context, c *Client) error {
		return c.Services.Update(ctx, 9, &ServiceUpdate{Title: Ptr("ops2")})
	}},
	{"Services.Delete", func(ctx context.Context, c *Client) error { return c.Services.Delete(ctx, 9) }},
	{"Jobs.Get", func(ctx context.Context, c *Client) error { _, err := c.Jobs.Get(ctx, 11); return err }},
	{"Jobs.Wait", func(ctx context.Context, c *Client) error { _, err := c.Jobs.Wait(ctx, 11); return err }},
	{"Snapshots.Create", func(ctx context.Context, c *Client) error {
		_, err := c.Snapshots.Create(ctx, &Snapshot{Subject: SnapshotSubject{Chart: SnapshotChart{ID: 6, Type: ChartTypeLine}}})
		return err
	}},
	{"Snapshots.Get", func(ctx context.Context, c *Client) error { _, err := c.Snapshots.Get(ctx, 12); return err }},
	{"Sources.List", func(ctx context.Context, c *Client) error { _, err := c.Sources.List(ctx, nil); return err }},
	{"Sources.All", func(ctx context.Context, c *Client) error { return first(c.Sources.All(ctx, nil)) }},
	{"Sources.Get", func(ctx context.Context, c *Client) error { _, err := c.Sources.Get(ctx, "web-1"); return err }},
	{"Sources.Update", func(ctx context.Context, c *Client) error {
		return c.Sources.Update(ctx, "web-1", &SourceUpdate{DisplayName: Ptr("Web 1")})
	}},
}

// acceptAll answers 204 to everything but jobs, which are complete.
func acceptAll(mt *httpmock.MockTransport) {
	mt.RegisterNoResponder(func(req *http.Request) (*http.Response, error) {
		if strings.Contains(req.URL.Path, "/v1/jobs/") {
			return httpmock.NewStringResponse(200, `{"id":11,"state":"complete"}`), nil
		}
		return httpmock.NewStringResponse(204, ""), nil
	})
}

// endpointsOf runs one call on a Full Access client and returns the
// endpoints it went through.
func endpointsOf(t *testing.T, tc typedCall) []*endpoint {
	c, mt := newMockClient(t, WithRole(RoleFullAccess))
	acceptAll(mt)
	var eps []*endpoint
	c.onEndpoint = func(ep *endpoint) { eps = append(eps, ep) }
	require.NoError(t, tc.call(context.Background(), c), tc.name)
	require.NotEmpty(t, eps, tc.name)
	assert.Equal(t, len(eps), mt.GetTotalCallCount(), tc.name)
	return eps
}

// TestEveryMatrixRowHasATypedMethod walks Permissions() and proves each
// row is reached by a typed method whose endpoint template is exactly the
// row's, and that no typed method uses a template outside the matrix.
func TestEveryMatrixRowHasATypedMethod(t *testing.T) {
	reached := map[string][]string{}
	for _, tc := range typedCalls {
		for _, ep := range endpointsOf(t, tc) {
			key := ep.method + " " + ep.template
			require.NotNil(t, ep.row, "%s uses %s, which is not in the matrix", tc.name, key)
			assert.Equal(t, ep.template, ep.row.Template, tc.name)
			assert.Equal(t, ep.method, ep.row.Method, tc.name)
			reached[key] = append(reached[key], tc.name)
		}
	}
	for _, p := range Permissions() {
		key := p.Method + " " + p.Endpoint
		assert.NotEmpty(t, reached[key], "no typed method calls %s", key)
	}
	assert.Len(t, reached, len(Permissions()))
}

// TestTypedMethodsFollowTheMatrix calls every typed method as every role,
// lenient and strict, and checks it is refused (with nothing sent) or let
// through exactly as the matrix and the guard policy say.
func TestTypedMethodsFollowTheMatrix(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for _, tc := range typedCalls {
		eps := endpointsOf(t, tc)
		ep := eps[0]
		want := wantMatrix[ep.method+" "+ep.template]
		letters, source, _ := strings.Cut(want, " ")
		for _, role := range append(Roles(), "") {
			for _, strict := range []bool{false, true} {
				allowed := role == "" || strings.ContainsRune(letters, rune(string(role)[0]))
				refused := !allowed && (source != SourceUnlisted || strict)
				opts := []Option{}
				if role != "" {
					opts = append(opts, WithRole(role))
				}
				if strict {
					opts = append(opts, WithStrictGuard())
				}
				c, mt := newMockClient(t, opts...)
				acceptAll(mt)
				err := tc.call(ctx, c)
				var fe *ErrForbiddenForRole
				if refused {
					if assert.ErrorAs(t, err, &fe, "%s as %q strict=%v", tc.name, role, strict) {
						assert.Equal(t, ep.template, fe.Endpoint)
						assert.Equal(t, role, fe.Role)
					}
					assert.Zero(t, mt.GetTotalCallCount(), "%s as %q sent a request", tc.name, role)
				} else {
					assert.NoError(t, err, "%s as %q strict=%v", tc.name, role, strict)
					assert.Positive(t, mt.GetTotalCallCount(), "%s as %q", tc.name, role)
				}
			}
		}
	}
}
