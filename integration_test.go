package librato_test

// End-to-end tests: every typed method of the SDK, as every role, against
// the stateful mock server, over the in-process transport and the socket.

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"iter"
	"net/http"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	librato "github.com/librato-sdk/librato-go"
	"github.com/librato-sdk/librato-go/mock"
)

// e2e is one mock server and how clients reach it.
type e2e struct {
	srv  *mock.Server
	opts []librato.Option // transport options every client gets
	// admin builds the fixtures and reads state back.
	admin *librato.Client
	seq   int
}

// newE2E starts a mock server; inProcess picks the in-process transport
// over the socket.
func newE2E(t *testing.T, inProcess bool, srvOpts ...mock.Option) *e2e {
	t.Helper()
	// Jobs step only when read: the fixture's job must not complete by
	// itself between the state snapshots a refused call is checked with.
	srv := mock.NewServer(append([]mock.Option{mock.WithJobSteps(mock.DefaultJobSteps)}, srvOpts...)...)
	t.Cleanup(srv.Close)
	h := &e2e{srv: srv, opts: []librato.Option{librato.WithBackoff(time.Millisecond, 5*time.Millisecond)}}
	if inProcess {
		h.opts = append(h.opts, librato.WithHTTPClient(&http.Client{Transport: srv.Transport()}))
	} else {
		hc := &http.Client{Transport: &http.Transport{}, Timeout: 10 * time.Second}
		t.Cleanup(hc.CloseIdleConnections)
		h.opts = append(h.opts, librato.WithHTTPClient(hc))
	}
	h.admin, _ = h.client(t, librato.RoleFullAccess, e2eGuardDeclared)
	return h
}

// e2eGuard is how a test client declares its token's role.
type e2eGuard int

const (
	e2eGuardNone     e2eGuard = iota // no role declared: the server decides
	e2eGuardDeclared                 // WithRole: the lenient guard
	e2eGuardStrict                   // WithRole and WithStrictGuard
)

// client returns a client holding a fresh token of role, and the token.
func (h *e2e) client(t testing.TB, role librato.Role, mode e2eGuard) (*librato.Client, string) {
	t.Helper()
	email, token := h.srv.Credentials(role)
	require.NotEmpty(t, token)
	opts := append([]librato.Option{librato.WithBaseURL(h.srv.URL())}, h.opts...)
	switch mode {
	case e2eGuardDeclared:
		opts = append(opts, librato.WithRole(role))
	case e2eGuardStrict:
		opts = append(opts, librato.WithRole(role), librato.WithStrictGuard())
	}
	c, err := librato.NewClient(email, token, opts...)
	require.NoError(t, err)
	return c, token
}

// e2eFixture is a set of real objects, created by a Full Access client, that
// one call of the table works on.
type e2eFixture struct {
	id       string // unique in the server: f001, f002...
	metric   string
	tags     map[string]string
	points   []librato.Point
	service  *librato.Service // attached to alert
	service2 *librato.Service // not attached
	alert    *librato.Alert   // fired
	space    *librato.Space
	chart    *librato.Chart
	stream   string
	source   string                   // a legacy source, named by a measurement's tag
	event    *librato.AnnotationEvent // with the link rel "github"
	token    *librato.APIToken        // a View Only token
	job      *librato.Job             // a queued batch update of metric's description
	snapshot *librato.Snapshot
}

// newFixture creates a fresh fixture through the admin client.
func (h *e2e) newFixture(t testing.TB) *e2eFixture {
	t.Helper()
	ctx := context.Background()
	a := h.admin
	h.seq++
	id := fmt.Sprintf("f%03d", h.seq)
	now := time.Now().Unix()
	f := &e2eFixture{
		id:     id,
		metric: "e2e.cpu." + id,
		tags:   map[string]string{"host": "web-" + id},
		points: []librato.Point{{Time: now - 300, Value: 1.5}, {Time: now - 200, Value: 2.5}, {Time: now - 100, Value: 3.5}},
		stream: "e2e.deploys." + id,
		source: "e2e-src-" + id,
	}
	batch := &librato.MeasurementBatch{Tags: f.tags}
	for _, p := range f.points {
		batch.Measurements = append(batch.Measurements, librato.Measurement{Name: f.metric, Value: p.Value, Time: p.Time})
	}
	sum, err := a.Measurements.Create(ctx, batch)
	require.NoError(t, err)
	require.Equal(t, len(f.points), sum.Accepted)
	_, err = a.Measurements.Create(ctx, &librato.MeasurementBatch{Tags: map[string]string{"source": f.source},
		Measurements: []librato.Measurement{{Name: "e2e.src." + id, Value: 1, Time: now - 100}}})
	require.NoError(t, err)

	f.service, err = a.Services.Create(ctx, &librato.Service{Type: "mail", Title: "e2e ops " + id, Settings: map[string]any{"addresses": "ops-" + id + "@example.com"}})
	require.NoError(t, err)
	require.Positive(t, f.service.ID)
	f.service2, err = a.Services.Create(ctx, &librato.Service{Type: "mail", Title: "e2e pager " + id, Settings: map[string]any{"addresses": "pager-" + id + "@example.com"}})
	require.NoError(t, err)

	f.alert, err = a.Alerts.Create(ctx, &librato.Alert{
		Name:        "e2e.alert." + id,
		Description: librato.Ptr("fixture " + id),
		Conditions:  []librato.AlertCondition{{Type: librato.AlertConditionAbove, MetricName: f.metric, Threshold: librato.Ptr(90.0)}},
		Services:    librato.AlertServiceIDs(f.service.ID),
	})
	require.NoError(t, err)
	require.Positive(t, f.alert.ID)
	require.True(t, h.srv.FireAlert(f.alert.ID))

	f.space, err = a.Spaces.Create(ctx, &librato.Space{Name: "e2e space " + id})
	require.NoError(t, err)
	f.chart, err = a.Charts.Create(ctx, f.space.ID, &librato.Chart{
		Name: "CPU " + id, Type: librato.ChartTypeLine,
		Streams: []librato.ChartStream{{Metric: f.metric, Tags: []librato.StreamTag{{Name: "host", Values: []string{f.tags["host"]}}}}},
	})
	require.NoError(t, err)
	require.Positive(t, f.chart.ID)

	f.event, err = a.Annotations.CreateEvent(ctx, f.stream, &librato.AnnotationEvent{
		Title: "deploy " + id, Source: "ci",
		Links: []librato.Link{{Rel: "github", Href: "https://github.com/example/" + id}},
	})
	require.NoError(t, err)
	require.Positive(t, f.event.ID)

	f.token, err = a.APITokens.Create(ctx, &librato.APIToken{Name: librato.Ptr("e2e-token-" + id), Role: librato.RoleViewOnly})
	require.NoError(t, err)
	require.Positive(t, f.token.ID)

	f.job, err = a.Metrics.UpdateBatch(ctx, &librato.MetricsBatchUpdate{MetricNames: librato.MetricNames{Names: []string{f.metric}}, Description: librato.Ptr("batch " + id)})
	require.NoError(t, err)
	require.NotNil(t, f.job)
	require.Positive(t, f.job.ID)

	f.snapshot, err = a.Snapshots.Create(ctx, &librato.Snapshot{Subject: librato.SnapshotSubject{Chart: librato.SnapshotChart{ID: f.chart.ID, Type: librato.ChartTypeLine}}})
	require.NoError(t, err)
	require.Positive(t, f.snapshot.ID)
	return f
}

// query reads the fixture's metric at one-second resolution, so every
// point is its own bucket.
func (f *e2eFixture) query() *librato.MeasurementsQuery {
	return &librato.MeasurementsQuery{Duration: time.Hour, Resolution: time.Second, Tags: map[string][]string{"host": {f.tags["host"]}}}
}

// e2eState is what refused calls must leave alone, read by the admin.
type e2eState struct {
	Metric, Series, Alert, Status, Service, Service2, Space, Charts, Stream, Event, Token string
	Totals                                                                                [5]int
}

func (h *e2e) state(t *testing.T, f *e2eFixture) e2eState {
	t.Helper()
	ctx := context.Background()
	a := h.admin
	js := func(v any, err error) string {
		require.NoError(t, err)
		b, err := json.Marshal(v)
		require.NoError(t, err)
		return string(b)
	}
	var st e2eState
	st.Metric = js(a.Metrics.Get(ctx, f.metric))
	st.Series = js(a.Measurements.List(ctx, f.metric, f.query()))
	st.Alert = js(a.Alerts.Get(ctx, f.alert.ID))
	st.Status = js(a.Alerts.Status(ctx, f.alert.ID))
	st.Service = js(a.Services.Get(ctx, f.service.ID))
	st.Service2 = js(a.Services.Get(ctx, f.service2.ID))
	st.Space = js(a.Spaces.Get(ctx, f.space.ID))
	st.Charts = js(a.Charts.List(ctx, f.space.ID))
	st.Stream = js(a.Annotations.Get(ctx, f.stream, &librato.AnnotationSearch{Count: 100}))
	st.Event = js(a.Annotations.GetEvent(ctx, f.stream, f.event.ID))
	st.Token = js(a.APITokens.Get(ctx, f.token.ID))
	ml, err := a.Metrics.List(ctx, nil)
	require.NoError(t, err)
	al, err := a.Alerts.List(ctx, nil)
	require.NoError(t, err)
	sl, err := a.Spaces.List(ctx, nil)
	require.NoError(t, err)
	sv, err := a.Services.List(ctx, nil)
	require.NoError(t, err)
	an, err := a.Annotations.List(ctx, nil)
	require.NoError(t, err)
	st.Totals = [5]int{ml.Query.Total, al.Query.Total, sl.Query.Total, sv.Query.Total, an.Query.Total}
	return st
}

// e2eCall is one typed method, the matrix row it calls, how to call it on
// a fixture, and how to tell it really worked.
type e2eCall struct {
	name     string
	method   string
	template string
	run      func(ctx context.Context, c *librato.Client, f *e2eFixture) (any, error)
	check    func(t *testing.T, h *e2e, f *e2eFixture, out any)
}

// mutates reports whether the call changes state, and so needs a fixture
// of its own for each role that may make it. Reading a job advances it.
func (e e2eCall) mutates() bool {
	return e.method != http.MethodGet || strings.HasPrefix(e.name, "Jobs.")
}

func e2eCollect[T any](seq iter.Seq2[T, error]) ([]T, error) {
	var out []T
	for v, err := range seq {
		if err != nil {
			return out, err
		}
		out = append(out, v)
	}
	return out, nil
}

func e2eRequireNotFound(t *testing.T, err error) {
	t.Helper()
	var ae *librato.APIError
	require.ErrorAs(t, err, &ae)
	assert.Equal(t, http.StatusNotFound, ae.StatusCode)
	assert.ErrorIs(t, err, librato.ErrNotFound)
}

// e2eSeriesOf finds the series with exactly tags.
func e2eSeriesOf(series []librato.Series, tags map[string]string) *librato.Series {
	for i := range series {
		if fmt.Sprint(series[i].Tags) == fmt.Sprint(tags) {
			return &series[i]
		}
	}
	return nil
}

func e2eEventIDs(events []librato.AnnotationEvent) []int64 {
	var ids []int64
	for _, e := range events {
		ids = append(ids, e.ID)
	}
	return ids
}

func e2eLinkRels(links []librato.Link) []string {
	var rels []string
	for _, l := range links {
		rels = append(rels, l.Rel)
	}
	sort.Strings(rels)
	return rels
}

func e2eCtx() context.Context { return context.Background() }

// e2eCalls is every typed method of the SDK, the same set as typedCalls in
// methods_test.go; TestE2ETableCoversTheMatrix proves it reaches every row.
var e2eCalls = []e2eCall{
	// --- measurements ---
	{"Measurements.Create", "POST", "/v1/measurements",
		func(ctx context.Context, c *librato.Client, f *e2eFixture) (any, error) {
			return c.Measurements.Create(ctx, &librato.MeasurementBatch{Measurements: []librato.Measurement{
				{Name: f.metric, Value: 9.25, Time: f.points[2].Time + 50, Tags: f.tags}}})
		},
		func(t *testing.T, h *e2e, f *e2eFixture, out any) {
			sum := out.(*librato.MeasurementsSummary)
			assert.Equal(t, 1, sum.Accepted)
			assert.Equal(t, 1, sum.Total)
			rec := h.srv.Recorded()
			last := rec[len(rec)-1]
			assert.Equal(t, f.metric, last.Name)
			assert.Equal(t, f.tags, last.Tags)
			assert.Equal(t, f.points[2].Time+50, last.Time)
			page, err := h.admin.Measurements.List(e2eCtx(), f.metric, f.query())
			require.NoError(t, err)
			s := e2eSeriesOf(page.Series, f.tags)
			require.NotNil(t, s)
			assert.Equal(t, append(slices.Clone(f.points), librato.Point{Time: f.points[2].Time + 50, Value: 9.25}), s.Measurements)
		}},
	{"Measurements.List", "GET", "/v1/measurements/:name",
		func(ctx context.Context, c *librato.Client, f *e2eFixture) (any, error) {
			return c.Measurements.List(ctx, f.metric, f.query())
		},
		func(t *testing.T, h *e2e, f *e2eFixture, out any) {
			page := out.(*librato.MeasurementPage)
			assert.Equal(t, f.metric, page.Name)
			assert.Equal(t, 1, page.Resolution)
			require.Len(t, page.Series, 1)
			assert.Equal(t, f.tags, page.Series[0].Tags)
			assert.Equal(t, f.points, page.Series[0].Measurements)
			assert.Empty(t, page.Next())
		}},
	{"Measurements.All", "GET", "/v1/measurements/:name",
		func(ctx context.Context, c *librato.Client, f *e2eFixture) (any, error) {
			return e2eCollect(c.Measurements.All(ctx, f.metric, f.query()))
		},
		func(t *testing.T, h *e2e, f *e2eFixture, out any) {
			series := out.([]librato.Series)
			require.Len(t, series, 1)
			assert.Equal(t, f.tags, series[0].Tags)
			assert.Equal(t, f.points, series[0].Measurements)
		}},
	{"Measurements.Compose", "GET", "/v1/measurements",
		func(ctx context.Context, c *librato.Client, f *e2eFixture) (any, error) {
			return c.Measurements.Compose(ctx, &librato.CompositeQuery{
				Compose:   fmt.Sprintf(`s("%s", {"host": "%s"})`, f.metric, f.tags["host"]),
				StartTime: time.Now().Add(-time.Hour), Resolution: time.Second,
			})
		},
		func(t *testing.T, h *e2e, f *e2eFixture, out any) {
			series := out.([]librato.CompositeSeries)
			require.Len(t, series, 1)
			assert.Equal(t, f.points, series[0].Measurements)
		}},

	// --- metrics ---
	{"Metrics.List", "GET", "/v1/metrics",
		func(ctx context.Context, c *librato.Client, f *e2eFixture) (any, error) {
			return c.Metrics.List(ctx, &librato.ListOptions{Name: f.metric})
		},
		func(t *testing.T, h *e2e, f *e2eFixture, out any) {
			l := out.(*librato.MetricPage)
			assert.Equal(t, 1, l.Query.Found)
			require.Len(t, l.Metrics, 1)
			assert.Equal(t, f.metric, l.Metrics[0].Name)
			assert.Equal(t, librato.MetricTypeGauge, l.Metrics[0].Type)
		}},
	{"Metrics.All", "GET", "/v1/metrics",
		func(ctx context.Context, c *librato.Client, f *e2eFixture) (any, error) {
			return e2eCollect(c.Metrics.All(ctx, &librato.ListOptions{Name: f.metric}))
		},
		func(t *testing.T, h *e2e, f *e2eFixture, out any) {
			ms := out.([]librato.Metric)
			require.Len(t, ms, 1)
			assert.Equal(t, f.metric, ms[0].Name)
		}},
	{"Metrics.Get", "GET", "/v1/metrics/:name",
		func(ctx context.Context, c *librato.Client, f *e2eFixture) (any, error) {
			return c.Metrics.Get(ctx, f.metric)
		},
		func(t *testing.T, h *e2e, f *e2eFixture, out any) {
			m := out.(*librato.Metric)
			assert.Equal(t, f.metric, m.Name)
			assert.Equal(t, librato.MetricTypeGauge, m.Type)
		}},
	{"Metrics.Update", "PUT", "/v1/metrics/:name",
		func(ctx context.Context, c *librato.Client, f *e2eFixture) (any, error) {
			return nil, c.Metrics.Update(ctx, f.metric, &librato.MetricUpdate{DisplayName: librato.Ptr("CPU of " + f.id)})
		},
		func(t *testing.T, h *e2e, f *e2eFixture, out any) {
			m, err := h.admin.Metrics.Get(e2eCtx(), f.metric)
			require.NoError(t, err)
			require.NotNil(t, m.DisplayName)
			assert.Equal(t, "CPU of "+f.id, *m.DisplayName)
		}},
	{"Metrics.Delete", "DELETE", "/v1/metrics/:name",
		func(ctx context.Context, c *librato.Client, f *e2eFixture) (any, error) {
			return nil, c.Metrics.Delete(ctx, f.metric)
		},
		func(t *testing.T, h *e2e, f *e2eFixture, out any) {
			_, err := h.admin.Metrics.Get(e2eCtx(), f.metric)
			e2eRequireNotFound(t, err)
			_, err = h.admin.Measurements.List(e2eCtx(), f.metric, f.query())
			e2eRequireNotFound(t, err)
		}},
	{"Metrics.UpdateBatch", "PUT", "/v1/metrics",
		func(ctx context.Context, c *librato.Client, f *e2eFixture) (any, error) {
			return c.Metrics.UpdateBatch(ctx, &librato.MetricsBatchUpdate{MetricNames: librato.MetricNames{Pattern: f.metric + "*"}, DisplayName: librato.Ptr("batched " + f.id)})
		},
		func(t *testing.T, h *e2e, f *e2eFixture, out any) {
			job := out.(*librato.Job)
			require.NotNil(t, job)
			done, err := h.admin.Jobs.Wait(e2eCtx(), job.ID)
			require.NoError(t, err)
			assert.Equal(t, librato.JobComplete, done.State)
			m, err := h.admin.Metrics.Get(e2eCtx(), f.metric)
			require.NoError(t, err)
			require.NotNil(t, m.DisplayName)
			assert.Equal(t, "batched "+f.id, *m.DisplayName)
		}},
	{"Metrics.DeleteBatch", "DELETE", "/v1/metrics",
		func(ctx context.Context, c *librato.Client, f *e2eFixture) (any, error) {
			return c.Metrics.DeleteBatch(ctx, &librato.MetricsBatchDelete{MetricNames: librato.MetricNames{Names: []string{f.metric}}})
		},
		func(t *testing.T, h *e2e, f *e2eFixture, out any) {
			job := out.(*librato.Job)
			require.NotNil(t, job)
			_, err := h.admin.Jobs.Wait(e2eCtx(), job.ID)
			require.NoError(t, err)
			_, err = h.admin.Metrics.Get(e2eCtx(), f.metric)
			e2eRequireNotFound(t, err)
		}},

	// --- legacy (source-based) metrics ---
	{"Legacy.Create", "POST", "/v1/metrics",
		func(ctx context.Context, c *librato.Client, f *e2eFixture) (any, error) {
			return nil, c.Legacy.Create(ctx, &librato.LegacyBatch{
				Source: "e2e-" + f.id, MeasureTime: f.points[2].Time,
				Gauges: []librato.LegacyMeasurement{
					{Name: "e2e.legacy." + f.id, Value: 4.5},
					{Name: "e2e.legacy." + f.id, Count: 2, Sum: librato.Ptr(3.0), Min: librato.Ptr(1.0), Max: librato.Ptr(2.0), SumSquares: librato.Ptr(5.0), Source: "e2e-other-" + f.id},
				},
				Counters: []librato.LegacyMeasurement{{Name: "e2e.legacy.count." + f.id, Value: 7}},
			})
		},
		func(t *testing.T, h *e2e, f *e2eFixture, out any) {
			m, err := h.admin.Legacy.List(e2eCtx(), "e2e.legacy."+f.id, &librato.LegacyQuery{StartTime: time.Unix(f.points[0].Time, 0), Resolution: time.Second})
			require.NoError(t, err)
			assert.Equal(t, librato.MetricTypeGauge, m.Type)
			require.Len(t, m.Measurements["e2e-"+f.id], 1)
			assert.Equal(t, f.points[2].Time, m.Measurements["e2e-"+f.id][0].MeasureTime)
			assert.Equal(t, 4.5, m.Measurements["e2e-"+f.id][0].Value)
			require.Len(t, m.Measurements["e2e-other-"+f.id], 1)
			assert.Equal(t, 1.5, m.Measurements["e2e-other-"+f.id][0].Value, "a summary reads back as sum/count")
			ctr, err := h.admin.Metrics.Get(e2eCtx(), "e2e.legacy.count."+f.id)
			require.NoError(t, err)
			assert.Equal(t, librato.MetricTypeCounter, ctr.Type)
		}},
	{"Legacy.List", "GET", "/v1/metrics/:name",
		func(ctx context.Context, c *librato.Client, f *e2eFixture) (any, error) {
			return c.Legacy.List(ctx, f.metric, &librato.LegacyQuery{StartTime: time.Unix(f.points[0].Time, 0), Resolution: time.Second})
		},
		func(t *testing.T, h *e2e, f *e2eFixture, out any) {
			// The fixture's data is tagged; what a legacy read shows of it
			// is the mock's choice, so only the metric itself is checked.
			m := out.(*librato.LegacyPage)
			assert.Equal(t, f.metric, m.Name)
			assert.Equal(t, librato.MetricTypeGauge, m.Type)
		}},
	{"Legacy.All", "GET", "/v1/metrics/:name",
		func(ctx context.Context, c *librato.Client, f *e2eFixture) (any, error) {
			return e2eCollect(c.Legacy.All(ctx, f.metric, &librato.LegacyQuery{StartTime: time.Unix(f.points[0].Time, 0), Resolution: time.Second}))
		},
		func(t *testing.T, h *e2e, f *e2eFixture, out any) {
			for _, s := range out.([]librato.LegacySeries) {
				for _, p := range s.Points {
					assert.GreaterOrEqual(t, p.MeasureTime, f.points[0].Time, "source %s", s.Source)
				}
			}
		}},

	// --- alerts ---
	{"Alerts.List", "GET", "/v1/alerts",
		func(ctx context.Context, c *librato.Client, f *e2eFixture) (any, error) {
			return c.Alerts.List(ctx, &librato.AlertListOptions{ListOptions: librato.ListOptions{Name: f.alert.Name}})
		},
		func(t *testing.T, h *e2e, f *e2eFixture, out any) {
			l := out.(*librato.AlertPage)
			require.Len(t, l.Alerts, 1)
			assert.Equal(t, f.alert.ID, l.Alerts[0].ID)
			assert.Equal(t, f.alert.Name, l.Alerts[0].Name)
		}},
	{"Alerts.All", "GET", "/v1/alerts",
		func(ctx context.Context, c *librato.Client, f *e2eFixture) (any, error) {
			return e2eCollect(c.Alerts.All(ctx, &librato.AlertListOptions{ListOptions: librato.ListOptions{Name: f.alert.Name}}))
		},
		func(t *testing.T, h *e2e, f *e2eFixture, out any) {
			as := out.([]librato.Alert)
			require.Len(t, as, 1)
			assert.Equal(t, f.alert.ID, as[0].ID)
		}},
	{"Alerts.Get", "GET", "/v1/alerts/:id",
		func(ctx context.Context, c *librato.Client, f *e2eFixture) (any, error) {
			return c.Alerts.Get(ctx, f.alert.ID)
		},
		func(t *testing.T, h *e2e, f *e2eFixture, out any) {
			a := out.(*librato.Alert)
			assert.Equal(t, f.alert.Name, a.Name)
			require.Len(t, a.Conditions, 1)
			assert.Equal(t, f.metric, a.Conditions[0].MetricName)
			assert.Equal(t, []int64{f.service.ID}, a.ServiceIDs())
			require.Len(t, a.Services, 1)
			assert.Equal(t, f.service.Title, a.Services[0].Title)
		}},
	{"Alerts.Create", "POST", "/v1/alerts",
		func(ctx context.Context, c *librato.Client, f *e2eFixture) (any, error) {
			return c.Alerts.Create(ctx, &librato.Alert{
				Name:       "e2e.alert.new." + f.id,
				Conditions: []librato.AlertCondition{{Type: librato.AlertConditionBelow, MetricName: f.metric, Threshold: librato.Ptr(0.0)}},
				Services:   librato.AlertServiceIDs(f.service2.ID),
			})
		},
		func(t *testing.T, h *e2e, f *e2eFixture, out any) {
			a := out.(*librato.Alert)
			require.Positive(t, a.ID)
			got, err := h.admin.Alerts.Get(e2eCtx(), a.ID)
			require.NoError(t, err)
			assert.Equal(t, "e2e.alert.new."+f.id, got.Name)
			assert.Equal(t, []int64{f.service2.ID}, got.ServiceIDs())
			require.Len(t, got.Conditions, 1)
			assert.Equal(t, librato.AlertConditionBelow, got.Conditions[0].Type)
		}},
	{"Alerts.Update", "PUT", "/v1/alerts/:id",
		func(ctx context.Context, c *librato.Client, f *e2eFixture) (any, error) {
			return nil, c.Alerts.Update(ctx, f.alert.ID, &librato.AlertUpdate{
				Conditions: f.alert.Conditions, Description: librato.Ptr("updated " + f.id),
			})
		},
		func(t *testing.T, h *e2e, f *e2eFixture, out any) {
			got, err := h.admin.Alerts.Get(e2eCtx(), f.alert.ID)
			require.NoError(t, err)
			require.NotNil(t, got.Description)
			assert.Equal(t, "updated "+f.id, *got.Description)
			assert.Equal(t, f.alert.Name, got.Name)
			assert.Len(t, got.Conditions, 1)
			assert.Equal(t, f.alert.ServiceIDs(), got.ServiceIDs(), "services not sent are kept")
		}},
	{"Alerts.Delete", "DELETE", "/v1/alerts/:id",
		func(ctx context.Context, c *librato.Client, f *e2eFixture) (any, error) {
			return nil, c.Alerts.Delete(ctx, f.alert.ID)
		},
		func(t *testing.T, h *e2e, f *e2eFixture, out any) {
			_, err := h.admin.Alerts.Get(e2eCtx(), f.alert.ID)
			e2eRequireNotFound(t, err)
		}},
	{"Alerts.Status", "GET", "/v1/alerts/:id/status",
		func(ctx context.Context, c *librato.Client, f *e2eFixture) (any, error) {
			return c.Alerts.Status(ctx, f.alert.ID)
		},
		func(t *testing.T, h *e2e, f *e2eFixture, out any) {
			st := out.(*librato.AlertStatus)
			assert.Equal(t, f.alert.ID, st.Alert.ID)
			assert.True(t, st.Triggered(), "the e2eFixture's alert was fired")
		}},
	{"Alerts.StatusAll", "GET", "/v1/alerts/status",
		func(ctx context.Context, c *librato.Client, f *e2eFixture) (any, error) {
			return c.Alerts.StatusAll(ctx)
		},
		func(t *testing.T, h *e2e, f *e2eFixture, out any) {
			st := out.(*librato.AlertsStatus)
			assert.True(t, slices.ContainsFunc(st.Firing, func(a librato.FiringAlert) bool { return a.ID == f.alert.ID && a.TriggeredAt > 0 }),
				"alert %d not firing in %+v", f.alert.ID, st.Firing)
		}},
	{"Alerts.Clear", "POST", "/v1/alerts/:id/clear",
		func(ctx context.Context, c *librato.Client, f *e2eFixture) (any, error) {
			return nil, c.Alerts.Clear(ctx, f.alert.ID)
		},
		func(t *testing.T, h *e2e, f *e2eFixture, out any) {
			st, err := h.admin.Alerts.Status(e2eCtx(), f.alert.ID)
			require.NoError(t, err)
			assert.Equal(t, librato.AlertOK, st.Status)
			all, err := h.admin.Alerts.StatusAll(e2eCtx())
			require.NoError(t, err)
			assert.False(t, slices.ContainsFunc(all.Firing, func(a librato.FiringAlert) bool { return a.ID == f.alert.ID }))
			assert.True(t, slices.ContainsFunc(all.Cleared, func(a librato.ClearedAlert) bool { return a.ID == f.alert.ID }))
		}},
	{"Alerts.AddService", "POST", "/v1/alerts/:id/services",
		func(ctx context.Context, c *librato.Client, f *e2eFixture) (any, error) {
			return nil, c.Alerts.AddService(ctx, f.alert.ID, f.service2.ID)
		},
		func(t *testing.T, h *e2e, f *e2eFixture, out any) {
			got, err := h.admin.Alerts.Get(e2eCtx(), f.alert.ID)
			require.NoError(t, err)
			ids := got.ServiceIDs()
			slices.Sort(ids)
			assert.Equal(t, []int64{f.service.ID, f.service2.ID}, ids)
		}},
	{"Alerts.RemoveService", "DELETE", "/v1/alerts/:id/services/:service_id",
		func(ctx context.Context, c *librato.Client, f *e2eFixture) (any, error) {
			return nil, c.Alerts.RemoveService(ctx, f.alert.ID, f.service.ID)
		},
		func(t *testing.T, h *e2e, f *e2eFixture, out any) {
			got, err := h.admin.Alerts.Get(e2eCtx(), f.alert.ID)
			require.NoError(t, err)
			assert.Empty(t, got.ServiceIDs())
			_, err = h.admin.Services.Get(e2eCtx(), f.service.ID)
			assert.NoError(t, err, "the service itself is kept")
		}},

	// --- annotations ---
	{"Annotations.List", "GET", "/v1/annotations",
		func(ctx context.Context, c *librato.Client, f *e2eFixture) (any, error) {
			return c.Annotations.List(ctx, &librato.ListOptions{Name: f.stream})
		},
		func(t *testing.T, h *e2e, f *e2eFixture, out any) {
			l := out.(*librato.AnnotationStreamPage)
			require.Len(t, l.Streams, 1)
			assert.Equal(t, f.stream, l.Streams[0].Name)
			assert.Equal(t, f.stream, l.Streams[0].DisplayName)
		}},
	{"Annotations.All", "GET", "/v1/annotations",
		func(ctx context.Context, c *librato.Client, f *e2eFixture) (any, error) {
			return e2eCollect(c.Annotations.All(ctx, &librato.ListOptions{Name: f.stream}))
		},
		func(t *testing.T, h *e2e, f *e2eFixture, out any) {
			ss := out.([]librato.AnnotationStream)
			require.Len(t, ss, 1)
			assert.Equal(t, f.stream, ss[0].Name)
		}},
	{"Annotations.Get", "GET", "/v1/annotations/:name",
		func(ctx context.Context, c *librato.Client, f *e2eFixture) (any, error) {
			return c.Annotations.Get(ctx, f.stream, &librato.AnnotationSearch{Count: 10})
		},
		func(t *testing.T, h *e2e, f *e2eFixture, out any) {
			s := out.(*librato.AnnotationStreamEvents)
			assert.Equal(t, f.stream, s.Name)
			require.Len(t, s.Events["ci"], 1)
			ev := s.Events["ci"][0]
			assert.Equal(t, f.event.ID, ev.ID)
			assert.Equal(t, "deploy "+f.id, ev.Title)
			assert.Equal(t, []string{"github"}, e2eLinkRels(ev.Links))
		}},
	{"Annotations.Update", "PUT", "/v1/annotations/:name",
		func(ctx context.Context, c *librato.Client, f *e2eFixture) (any, error) {
			return nil, c.Annotations.Update(ctx, f.stream, &librato.AnnotationStreamUpdate{DisplayName: librato.Ptr("Deploys " + f.id)})
		},
		func(t *testing.T, h *e2e, f *e2eFixture, out any) {
			l, err := h.admin.Annotations.List(e2eCtx(), &librato.ListOptions{Name: f.stream})
			require.NoError(t, err)
			require.Len(t, l.Streams, 1)
			assert.Equal(t, "Deploys "+f.id, l.Streams[0].DisplayName)
		}},
	{"Annotations.Delete", "DELETE", "/v1/annotations/:name",
		func(ctx context.Context, c *librato.Client, f *e2eFixture) (any, error) {
			return nil, c.Annotations.Delete(ctx, f.stream)
		},
		func(t *testing.T, h *e2e, f *e2eFixture, out any) {
			_, err := h.admin.Annotations.Get(e2eCtx(), f.stream, &librato.AnnotationSearch{Count: 10})
			e2eRequireNotFound(t, err)
			_, err = h.admin.Annotations.GetEvent(e2eCtx(), f.stream, f.event.ID)
			e2eRequireNotFound(t, err)
		}},
	{"Annotations.CreateEvent", "POST", "/v1/annotations/:name",
		func(ctx context.Context, c *librato.Client, f *e2eFixture) (any, error) {
			return c.Annotations.CreateEvent(ctx, f.stream, &librato.AnnotationEvent{Title: "rollback " + f.id, Description: "oops"})
		},
		func(t *testing.T, h *e2e, f *e2eFixture, out any) {
			ev := out.(*librato.AnnotationEvent)
			require.Positive(t, ev.ID)
			assert.NotEqual(t, f.event.ID, ev.ID)
			got, err := h.admin.Annotations.GetEvent(e2eCtx(), f.stream, ev.ID)
			require.NoError(t, err)
			assert.Equal(t, "rollback "+f.id, got.Title)
			assert.Equal(t, "oops", got.Description)
			s, err := h.admin.Annotations.Get(e2eCtx(), f.stream, &librato.AnnotationSearch{Count: 10})
			require.NoError(t, err)
			assert.ElementsMatch(t, []int64{f.event.ID, ev.ID}, e2eEventIDs(s.SortedEvents()))
		}},
	{"Annotations.GetEvent", "GET", "/v1/annotations/:name/:id",
		func(ctx context.Context, c *librato.Client, f *e2eFixture) (any, error) {
			return c.Annotations.GetEvent(ctx, f.stream, f.event.ID)
		},
		func(t *testing.T, h *e2e, f *e2eFixture, out any) {
			ev := out.(*librato.AnnotationEvent)
			assert.Equal(t, f.event.ID, ev.ID)
			assert.Equal(t, "deploy "+f.id, ev.Title)
			assert.Equal(t, "ci", ev.Source)
			require.Len(t, ev.Links, 1)
			assert.Equal(t, "https://github.com/example/"+f.id, ev.Links[0].Href)
		}},
	{"Annotations.UpdateEvent", "PUT", "/v1/annotations/:name/:id",
		func(ctx context.Context, c *librato.Client, f *e2eFixture) (any, error) {
			return nil, c.Annotations.UpdateEvent(ctx, f.stream, f.event.ID, &librato.AnnotationEventUpdate{Title: librato.Ptr("redeploy " + f.id)})
		},
		func(t *testing.T, h *e2e, f *e2eFixture, out any) {
			got, err := h.admin.Annotations.GetEvent(e2eCtx(), f.stream, f.event.ID)
			require.NoError(t, err)
			assert.Equal(t, "redeploy "+f.id, got.Title)
			assert.Equal(t, "ci", got.Source, "fields not sent are kept")
		}},
	{"Annotations.DeleteEvent", "DELETE", "/v1/annotations/:name/:id",
		func(ctx context.Context, c *librato.Client, f *e2eFixture) (any, error) {
			return nil, c.Annotations.DeleteEvent(ctx, f.stream, f.event.ID)
		},
		func(t *testing.T, h *e2e, f *e2eFixture, out any) {
			_, err := h.admin.Annotations.GetEvent(e2eCtx(), f.stream, f.event.ID)
			e2eRequireNotFound(t, err)
		}},
	{"Annotations.AddLink", "POST", "/v1/annotations/:name/:id/links",
		func(ctx context.Context, c *librato.Client, f *e2eFixture) (any, error) {
			return c.Annotations.AddLink(ctx, f.stream, f.event.ID, &librato.Link{Rel: "jira", Href: "https://jira.example.com/" + f.id, Label: "ticket"})
		},
		func(t *testing.T, h *e2e, f *e2eFixture, out any) {
			l := out.(*librato.Link)
			assert.Equal(t, "jira", l.Rel)
			got, err := h.admin.Annotations.GetEvent(e2eCtx(), f.stream, f.event.ID)
			require.NoError(t, err)
			assert.Equal(t, []string{"github", "jira"}, e2eLinkRels(got.Links))
		}},
	{"Annotations.DeleteLink", "DELETE", "/v1/annotations/:name/:id/links/:rel",
		func(ctx context.Context, c *librato.Client, f *e2eFixture) (any, error) {
			return nil, c.Annotations.DeleteLink(ctx, f.stream, f.event.ID, "github")
		},
		func(t *testing.T, h *e2e, f *e2eFixture, out any) {
			got, err := h.admin.Annotations.GetEvent(e2eCtx(), f.stream, f.event.ID)
			require.NoError(t, err)
			assert.Empty(t, got.Links)
		}},

	// --- API tokens ---
	{"APITokens.List", "GET", "/v1/api_tokens",
		func(ctx context.Context, c *librato.Client, f *e2eFixture) (any, error) {
			return c.APITokens.List(ctx, &librato.ListOptions{Name: *f.token.Name})
		},
		func(t *testing.T, h *e2e, f *e2eFixture, out any) {
			l := out.(*librato.APITokenPage)
			require.Len(t, l.APITokens, 1)
			assert.Equal(t, f.token.ID, l.APITokens[0].ID)
			assert.Equal(t, f.token.Token(), l.APITokens[0].Token())
			assert.Equal(t, librato.RoleViewOnly, l.APITokens[0].Role)
		}},
	{"APITokens.All", "GET", "/v1/api_tokens",
		func(ctx context.Context, c *librato.Client, f *e2eFixture) (any, error) {
			return e2eCollect(c.APITokens.All(ctx, &librato.ListOptions{Name: "e2e-token-" + f.id}))
		},
		func(t *testing.T, h *e2e, f *e2eFixture, out any) {
			ts := out.([]librato.APIToken)
			require.Len(t, ts, 1)
			assert.Equal(t, f.token.ID, ts[0].ID)
		}},
	{"APITokens.Get", "GET", "/v1/api_tokens/:id",
		func(ctx context.Context, c *librato.Client, f *e2eFixture) (any, error) {
			return c.APITokens.Get(ctx, f.token.ID)
		},
		func(t *testing.T, h *e2e, f *e2eFixture, out any) {
			tok := out.(*librato.APIToken)
			require.NotNil(t, tok.Name)
			assert.Equal(t, "e2e-token-"+f.id, *tok.Name)
			assert.True(t, tok.Active)
			assert.Equal(t, f.token.Token(), tok.Token())
		}},
	{"APITokens.Create", "POST", "/v1/api_tokens",
		func(ctx context.Context, c *librato.Client, f *e2eFixture) (any, error) {
			return c.APITokens.Create(ctx, &librato.APIToken{Name: librato.Ptr("e2e-new-" + f.id), Role: librato.RoleRecordOnly})
		},
		func(t *testing.T, h *e2e, f *e2eFixture, out any) {
			tok := out.(*librato.APIToken)
			assert.Len(t, tok.Token(), 64)
			assert.Equal(t, librato.RoleRecordOnly, tok.Role)
			// The new secret works, and carries the role asked for.
			c, err := librato.NewClient(h.srv.Email(), tok.Token(), append([]librato.Option{librato.WithBaseURL(h.srv.URL())}, h.opts...)...)
			require.NoError(t, err)
			role, err := c.DetectRole(e2eCtx())
			require.NoError(t, err)
			assert.Equal(t, librato.RoleRecordOnly, role)
		}},
	{"APITokens.Update", "PUT", "/v1/api_tokens/:id",
		func(ctx context.Context, c *librato.Client, f *e2eFixture) (any, error) {
			return nil, c.APITokens.Update(ctx, f.token.ID, &librato.APITokenUpdate{Active: librato.Ptr(false)})
		},
		func(t *testing.T, h *e2e, f *e2eFixture, out any) {
			tok, err := h.admin.APITokens.Get(e2eCtx(), f.token.ID)
			require.NoError(t, err)
			assert.False(t, tok.Active)
			assert.Equal(t, f.token.Name, tok.Name, "fields not sent are kept")
			assert.Equal(t, librato.RoleViewOnly, tok.Role)
			// A revoked token no longer authenticates.
			c, err := librato.NewClient(h.srv.Email(), f.token.Token(), append([]librato.Option{librato.WithBaseURL(h.srv.URL())}, h.opts...)...)
			require.NoError(t, err)
			_, err = c.Spaces.List(e2eCtx(), nil)
			assert.ErrorIs(t, err, librato.ErrUnauthorized)
		}},
	{"APITokens.Delete", "DELETE", "/v1/api_tokens/:id",
		func(ctx context.Context, c *librato.Client, f *e2eFixture) (any, error) {
			return nil, c.APITokens.Delete(ctx, f.token.ID)
		},
		func(t *testing.T, h *e2e, f *e2eFixture, out any) {
			_, err := h.admin.APITokens.Get(e2eCtx(), f.token.ID)
			e2eRequireNotFound(t, err)
			c, err := librato.NewClient(h.srv.Email(), f.token.Token(), append([]librato.Option{librato.WithBaseURL(h.srv.URL())}, h.opts...)...)
			require.NoError(t, err)
			_, err = c.Spaces.List(e2eCtx(), nil)
			assert.ErrorIs(t, err, librato.ErrUnauthorized)
		}},

	// --- spaces ---
	{"Spaces.List", "GET", "/v1/spaces",
		func(ctx context.Context, c *librato.Client, f *e2eFixture) (any, error) {
			return c.Spaces.List(ctx, &librato.ListOptions{Name: f.space.Name})
		},
		func(t *testing.T, h *e2e, f *e2eFixture, out any) {
			l := out.(*librato.SpacePage)
			require.Len(t, l.Spaces, 1)
			assert.Equal(t, f.space.ID, l.Spaces[0].ID)
			assert.Equal(t, f.space.Name, l.Spaces[0].Name)
		}},
	{"Spaces.All", "GET", "/v1/spaces",
		func(ctx context.Context, c *librato.Client, f *e2eFixture) (any, error) {
			return e2eCollect(c.Spaces.All(ctx, &librato.ListOptions{Name: f.space.Name}))
		},
		func(t *testing.T, h *e2e, f *e2eFixture, out any) {
			ss := out.([]librato.Space)
			require.Len(t, ss, 1)
			assert.Equal(t, f.space.ID, ss[0].ID)
		}},
	{"Spaces.Get", "GET", "/v1/spaces/:id",
		func(ctx context.Context, c *librato.Client, f *e2eFixture) (any, error) {
			return c.Spaces.Get(ctx, f.space.ID)
		},
		func(t *testing.T, h *e2e, f *e2eFixture, out any) {
			s := out.(*librato.Space)
			assert.Equal(t, f.space.Name, s.Name)
			assert.Equal(t, []librato.ChartRef{{ID: f.chart.ID}}, s.Charts)
		}},
	{"Spaces.Create", "POST", "/v1/spaces",
		func(ctx context.Context, c *librato.Client, f *e2eFixture) (any, error) {
			return c.Spaces.Create(ctx, &librato.Space{Name: "e2e new space " + f.id})
		},
		func(t *testing.T, h *e2e, f *e2eFixture, out any) {
			s := out.(*librato.Space)
			require.Positive(t, s.ID)
			got, err := h.admin.Spaces.Get(e2eCtx(), s.ID)
			require.NoError(t, err)
			assert.Equal(t, "e2e new space "+f.id, got.Name)
			assert.Empty(t, got.Charts)
		}},
	{"Spaces.Update", "PUT", "/v1/spaces/:id",
		func(ctx context.Context, c *librato.Client, f *e2eFixture) (any, error) {
			return nil, c.Spaces.Update(ctx, f.space.ID, &librato.SpaceUpdate{Name: librato.Ptr("e2e renamed " + f.id)})
		},
		func(t *testing.T, h *e2e, f *e2eFixture, out any) {
			got, err := h.admin.Spaces.Get(e2eCtx(), f.space.ID)
			require.NoError(t, err)
			assert.Equal(t, "e2e renamed "+f.id, got.Name)
			assert.Equal(t, []librato.ChartRef{{ID: f.chart.ID}}, got.Charts, "charts are not touched")
		}},
	{"Spaces.Delete", "DELETE", "/v1/spaces/:id",
		func(ctx context.Context, c *librato.Client, f *e2eFixture) (any, error) {
			return nil, c.Spaces.Delete(ctx, f.space.ID)
		},
		func(t *testing.T, h *e2e, f *e2eFixture, out any) {
			_, err := h.admin.Spaces.Get(e2eCtx(), f.space.ID)
			e2eRequireNotFound(t, err)
			_, err = h.admin.Charts.Get(e2eCtx(), f.space.ID, f.chart.ID)
			e2eRequireNotFound(t, err)
		}},

	// --- charts ---
	{"Charts.List", "GET", "/v1/spaces/:id/charts",
		func(ctx context.Context, c *librato.Client, f *e2eFixture) (any, error) {
			return c.Charts.List(ctx, f.space.ID)
		},
		func(t *testing.T, h *e2e, f *e2eFixture, out any) {
			cs := out.([]librato.Chart)
			require.Len(t, cs, 1)
			assert.Equal(t, f.chart.ID, cs[0].ID)
			assert.Equal(t, "CPU "+f.id, cs[0].Name)
		}},
	{"Charts.Get", "GET", "/v1/spaces/:id/charts/:chart_id",
		func(ctx context.Context, c *librato.Client, f *e2eFixture) (any, error) {
			return c.Charts.Get(ctx, f.space.ID, f.chart.ID)
		},
		func(t *testing.T, h *e2e, f *e2eFixture, out any) {
			ch := out.(*librato.Chart)
			assert.Equal(t, "CPU "+f.id, ch.Name)
			require.Len(t, ch.Streams, 1)
			assert.Equal(t, f.metric, ch.Streams[0].Metric)
			assert.Positive(t, ch.Streams[0].ID)
		}},
	{"Charts.Create", "POST", "/v1/spaces/:id/charts",
		func(ctx context.Context, c *librato.Client, f *e2eFixture) (any, error) {
			return c.Charts.Create(ctx, f.space.ID, &librato.Chart{Name: "Load " + f.id, Type: librato.ChartTypeStacked, Streams: []librato.ChartStream{{Metric: f.metric}}})
		},
		func(t *testing.T, h *e2e, f *e2eFixture, out any) {
			ch := out.(*librato.Chart)
			require.Positive(t, ch.ID)
			got, err := h.admin.Charts.Get(e2eCtx(), f.space.ID, ch.ID)
			require.NoError(t, err)
			assert.Equal(t, "Load "+f.id, got.Name)
			assert.Equal(t, librato.ChartTypeStacked, got.Type)
			sp, err := h.admin.Spaces.Get(e2eCtx(), f.space.ID)
			require.NoError(t, err)
			assert.ElementsMatch(t, []librato.ChartRef{{ID: f.chart.ID}, {ID: ch.ID}}, sp.Charts)
		}},
	{"Charts.Update", "PUT", "/v1/spaces/:id/charts/:chart_id",
		func(ctx context.Context, c *librato.Client, f *e2eFixture) (any, error) {
			return nil, c.Charts.Update(ctx, f.space.ID, f.chart.ID, &librato.ChartUpdate{Name: librato.Ptr("CPU % " + f.id)})
		},
		func(t *testing.T, h *e2e, f *e2eFixture, out any) {
			got, err := h.admin.Charts.Get(e2eCtx(), f.space.ID, f.chart.ID)
			require.NoError(t, err)
			assert.Equal(t, "CPU % "+f.id, got.Name)
			assert.Len(t, got.Streams, 1, "streams not sent are kept")
			assert.Equal(t, f.chart.Type, got.Type)
		}},
	{"Charts.Delete", "DELETE", "/v1/spaces/:id/charts/:chart_id",
		func(ctx context.Context, c *librato.Client, f *e2eFixture) (any, error) {
			return nil, c.Charts.Delete(ctx, f.space.ID, f.chart.ID)
		},
		func(t *testing.T, h *e2e, f *e2eFixture, out any) {
			_, err := h.admin.Charts.Get(e2eCtx(), f.space.ID, f.chart.ID)
			e2eRequireNotFound(t, err)
			sp, err := h.admin.Spaces.Get(e2eCtx(), f.space.ID)
			require.NoError(t, err)
			assert.Empty(t, sp.Charts)
		}},

	// --- services ---
	{"Services.List", "GET", "/v1/services",
		func(ctx context.Context, c *librato.Client, f *e2eFixture) (any, error) {
			return c.Services.List(ctx, &librato.ListOptions{Length: librato.MaxPageLength})
		},
		func(t *testing.T, h *e2e, f *e2eFixture, out any) {
			l := out.(*librato.ServicePage)
			i := slices.IndexFunc(l.Services, func(s librato.Service) bool { return s.ID == f.service.ID })
			require.GreaterOrEqual(t, i, 0, "service %d not listed", f.service.ID)
			assert.Equal(t, f.service.Title, l.Services[i].Title)
		}},
	{"Services.All", "GET", "/v1/services",
		func(ctx context.Context, c *librato.Client, f *e2eFixture) (any, error) {
			return e2eCollect(c.Services.All(ctx, &librato.ListOptions{Length: 2}))
		},
		func(t *testing.T, h *e2e, f *e2eFixture, out any) {
			ss := out.([]librato.Service)
			l, err := h.admin.Services.List(e2eCtx(), nil)
			require.NoError(t, err)
			assert.Len(t, ss, l.Query.Total, "All pages through every service")
			assert.True(t, slices.ContainsFunc(ss, func(s librato.Service) bool { return s.ID == f.service2.ID }))
		}},
	{"Services.Get", "GET", "/v1/services/:id",
		func(ctx context.Context, c *librato.Client, f *e2eFixture) (any, error) {
			return c.Services.Get(ctx, f.service.ID)
		},
		func(t *testing.T, h *e2e, f *e2eFixture, out any) {
			s := out.(*librato.Service)
			assert.Equal(t, f.service.ID, s.ID)
			assert.Equal(t, "e2e ops "+f.id, s.Title)
			assert.Equal(t, "mail", s.Type)
			assert.Equal(t, "ops-"+f.id+"@example.com", s.Settings["addresses"])
		}},
	{"Services.Create", "POST", "/v1/services",
		func(ctx context.Context, c *librato.Client, f *e2eFixture) (any, error) {
			return c.Services.Create(ctx, &librato.Service{Type: "slack", Title: "e2e chat " + f.id, Settings: map[string]any{"url": "https://hooks.example.com/" + f.id}})
		},
		func(t *testing.T, h *e2e, f *e2eFixture, out any) {
			s := out.(*librato.Service)
			require.Positive(t, s.ID)
			got, err := h.admin.Services.Get(e2eCtx(), s.ID)
			require.NoError(t, err)
			assert.Equal(t, "e2e chat "+f.id, got.Title)
			assert.Equal(t, "slack", got.Type)
		}},
	{"Services.Update", "PUT", "/v1/services/:id",
		func(ctx context.Context, c *librato.Client, f *e2eFixture) (any, error) {
			return nil, c.Services.Update(ctx, f.service.ID, &librato.ServiceUpdate{Title: librato.Ptr("e2e ops renamed " + f.id)})
		},
		func(t *testing.T, h *e2e, f *e2eFixture, out any) {
			got, err := h.admin.Services.Get(e2eCtx(), f.service.ID)
			require.NoError(t, err)
			assert.Equal(t, "e2e ops renamed "+f.id, got.Title)
			assert.Equal(t, "mail", got.Type)
		}},
	{"Services.Delete", "DELETE", "/v1/services/:id",
		func(ctx context.Context, c *librato.Client, f *e2eFixture) (any, error) {
			return nil, c.Services.Delete(ctx, f.service.ID)
		},
		func(t *testing.T, h *e2e, f *e2eFixture, out any) {
			_, err := h.admin.Services.Get(e2eCtx(), f.service.ID)
			e2eRequireNotFound(t, err)
			a, err := h.admin.Alerts.Get(e2eCtx(), f.alert.ID)
			require.NoError(t, err)
			assert.Empty(t, a.ServiceIDs(), "a deleted service is detached from its alerts")
		}},

	// --- legacy sources ---
	{"Sources.List", "GET", "/v1/sources",
		func(ctx context.Context, c *librato.Client, f *e2eFixture) (any, error) {
			return c.Sources.List(ctx, &librato.ListOptions{Name: f.source})
		},
		func(t *testing.T, h *e2e, f *e2eFixture, out any) {
			l := out.(*librato.SourcePage)
			require.Len(t, l.Sources, 1)
			assert.Equal(t, f.source, l.Sources[0].Name)
		}},
	{"Sources.All", "GET", "/v1/sources",
		func(ctx context.Context, c *librato.Client, f *e2eFixture) (any, error) {
			return e2eCollect(c.Sources.All(ctx, &librato.ListOptions{Name: f.source}))
		},
		func(t *testing.T, h *e2e, f *e2eFixture, out any) {
			ss := out.([]librato.Source)
			require.Len(t, ss, 1)
			assert.Equal(t, f.source, ss[0].Name)
		}},
	{"Sources.Get", "GET", "/v1/sources/:name",
		func(ctx context.Context, c *librato.Client, f *e2eFixture) (any, error) {
			return c.Sources.Get(ctx, f.source)
		},
		func(t *testing.T, h *e2e, f *e2eFixture, out any) {
			assert.Equal(t, f.source, out.(*librato.Source).Name)
		}},
	{"Sources.Update", "PUT", "/v1/sources/:name",
		func(ctx context.Context, c *librato.Client, f *e2eFixture) (any, error) {
			return nil, c.Sources.Update(ctx, f.source, &librato.SourceUpdate{DisplayName: librato.Ptr("Source " + f.id)})
		},
		func(t *testing.T, h *e2e, f *e2eFixture, out any) {
			s, err := h.admin.Sources.Get(e2eCtx(), f.source)
			require.NoError(t, err)
			assert.Equal(t, "Source "+f.id, s.DisplayName)
		}},

	// --- jobs and snapshots ---
	{"Jobs.Get", "GET", "/v1/jobs/:id",
		func(ctx context.Context, c *librato.Client, f *e2eFixture) (any, error) {
			return c.Jobs.Get(ctx, f.job.ID)
		},
		func(t *testing.T, h *e2e, f *e2eFixture, out any) {
			j := out.(*librato.Job)
			assert.Equal(t, f.job.ID, j.ID)
			// DefaultJobSteps is 2: the first read answers working, half done.
			assert.Equal(t, librato.JobWorking, j.State)
			require.NotNil(t, j.Progress)
			assert.InDelta(t, 50, *j.Progress, 0.001)
		}},
	{"Jobs.Wait", "GET", "/v1/jobs/:id",
		func(ctx context.Context, c *librato.Client, f *e2eFixture) (any, error) {
			return c.Jobs.Wait(ctx, f.job.ID)
		},
		func(t *testing.T, h *e2e, f *e2eFixture, out any) {
			j := out.(*librato.Job)
			assert.Equal(t, f.job.ID, j.ID)
			assert.Equal(t, librato.JobComplete, j.State)
			m, err := h.admin.Metrics.Get(e2eCtx(), f.metric)
			require.NoError(t, err)
			require.NotNil(t, m.Description, "the job applied the batch update")
			assert.Equal(t, "batch "+f.id, *m.Description)
		}},
	{"Snapshots.Create", "POST", "/v1/snapshots",
		func(ctx context.Context, c *librato.Client, f *e2eFixture) (any, error) {
			return c.Snapshots.Create(ctx, &librato.Snapshot{Duration: 600, Subject: librato.SnapshotSubject{Chart: librato.SnapshotChart{ID: f.chart.ID, Type: librato.ChartTypeStacked}}})
		},
		func(t *testing.T, h *e2e, f *e2eFixture, out any) {
			s := out.(*librato.Snapshot)
			require.Positive(t, s.ID)
			require.Positive(t, s.JobID)
			assert.Equal(t, 600, s.Duration)
			assert.Equal(t, f.chart.ID, s.Subject.Chart.ID)
			assert.False(t, s.Ready())
			_, err := h.admin.Jobs.Wait(e2eCtx(), s.JobID)
			require.NoError(t, err)
			got, err := h.admin.Snapshots.Get(e2eCtx(), s.ID)
			require.NoError(t, err)
			assert.True(t, got.Ready(), "the image is there once the job completed")
		}},
	{"Snapshots.Get", "GET", "/v1/snapshots/:id",
		func(ctx context.Context, c *librato.Client, f *e2eFixture) (any, error) {
			return c.Snapshots.Get(ctx, f.snapshot.ID)
		},
		func(t *testing.T, h *e2e, f *e2eFixture, out any) {
			s := out.(*librato.Snapshot)
			assert.Equal(t, f.snapshot.ID, s.ID)
			assert.Equal(t, f.snapshot.JobID, s.JobID)
			assert.Equal(t, f.chart.ID, s.Subject.Chart.ID)
			assert.Equal(t, 3600, s.Duration)
		}},
}

// TestE2ETableCoversTheMatrix proves the table names every matrix row with
// the template the matrix spells, and nothing outside it.
func TestE2ETableCoversTheMatrix(t *testing.T) {
	rows := map[string]bool{}
	names := map[string]bool{}
	for _, tc := range e2eCalls {
		require.False(t, names[tc.name], "duplicate %s", tc.name)
		names[tc.name] = true
		p, ok := librato.LookupPermission(tc.method, tc.template)
		require.True(t, ok, "%s: %s %s is not a matrix row", tc.name, tc.method, tc.template)
		assert.Equal(t, tc.method, p.Method, tc.name)
		assert.Equal(t, tc.template, p.Endpoint, tc.name)
		for _, r := range librato.Roles() {
			assert.Equal(t, slices.Contains(p.Roles, r), librato.Permitted(r, tc.method, tc.template), "%s as %s", tc.name, r)
		}
		rows[tc.method+" "+tc.template] = true
	}
	for _, p := range librato.Permissions() {
		assert.True(t, rows[p.Method+" "+p.Endpoint], "no table entry calls %s %s", p.Method, p.Endpoint)
	}
	assert.Len(t, rows, len(librato.Permissions()))
	assert.Equal(t, 67, len(e2eCalls), "the typed methods of the SDK, as typedCalls in methods_test.go lists them")
}

// runAllowed makes the call as role, on a client declaring it, and checks
// the result; the server must have classified it as the entry's row.
func (h *e2e) runAllowed(t *testing.T, tc e2eCall, role librato.Role, f *e2eFixture) {
	t.Helper()
	c, token := h.client(t, role, e2eGuardDeclared)
	before := h.srv.Requests()
	out, err := tc.run(e2eCtx(), c, f)
	require.NoError(t, err, "%s as %s", tc.name, role)
	assert.Greater(t, h.srv.Requests(), before)
	usage := h.srv.Usage(token)
	require.NotEmpty(t, usage)
	for _, p := range usage {
		assert.Equal(t, tc.method+" "+tc.template, p.Method+" "+p.Endpoint, "%s as %s reached another endpoint", tc.name, role)
	}
	tc.check(t, h, f, out)
}

// runRefused proves a refused role is stopped by the guard with nothing
// sent, and by the server with a 403 when no role is declared.
func (h *e2e) runRefused(t *testing.T, tc e2eCall, role librato.Role, perm librato.Permission, f *e2eFixture) {
	t.Helper()
	// (a) a guarded client: strict for unlisted rows, which a lenient
	// guard passes to the server by design.
	mode := e2eGuardDeclared
	if !perm.Enforced() {
		mode = e2eGuardStrict
	}
	c, token := h.client(t, role, mode)
	before := h.srv.Requests()
	_, err := tc.run(e2eCtx(), c, f)
	var fe *librato.ErrForbiddenForRole
	if assert.ErrorAs(t, err, &fe, "%s as %s", tc.name, role) {
		assert.Equal(t, role, fe.Role)
		assert.Equal(t, tc.method, fe.Method)
		assert.Equal(t, tc.template, fe.Endpoint)
		assert.Equal(t, perm.Roles, fe.Allowed)
	}
	assert.ErrorIs(t, err, librato.ErrForbidden)
	assert.Equal(t, before, h.srv.Requests(), "%s as %s: the guard let a request through", tc.name, role)
	assert.Nil(t, h.srv.Usage(token))

	// (a') a lenient guard passes an unlisted row on; the server refuses it.
	if !perm.Enforced() {
		c, _ := h.client(t, role, e2eGuardDeclared)
		_, err := tc.run(e2eCtx(), c, f)
		h.requireServer403(t, tc, role, err)
	}

	// (b) no role declared: the request reaches the server, which refuses.
	c, token = h.client(t, role, e2eGuardNone)
	before = h.srv.Requests()
	_, err = tc.run(e2eCtx(), c, f)
	h.requireServer403(t, tc, role, err)
	assert.Greater(t, h.srv.Requests(), before, "%s as %s: nothing reached the server", tc.name, role)
	assert.Equal(t, []librato.Permission{perm}, h.srv.Usage(token), "the server classified the call as another row")
}

func (h *e2e) requireServer403(t *testing.T, tc e2eCall, role librato.Role, err error) {
	t.Helper()
	var ae *librato.APIError
	if assert.ErrorAs(t, err, &ae, "%s as %s", tc.name, role) {
		assert.Equal(t, http.StatusForbidden, ae.StatusCode)
		assert.NotEmpty(t, ae.Request, "the 403 says why in errors.request")
		assert.Equal(t, tc.template, ae.Endpoint)
		assert.Equal(t, tc.method, ae.Method)
		assert.Equal(t, 1, ae.Attempts, "a 403 is not retried")
	}
	assert.ErrorIs(t, err, librato.ErrForbidden)
	assert.NotErrorIs(t, err, librato.ErrRateLimited)
}

// e2eRunTable runs every entry for which pick is true, as every role.
func e2eRunTable(t *testing.T, h *e2e, pick func(e2eCall) bool) {
	shared := h.newFixture(t)
	for _, tc := range e2eCalls {
		if !pick(tc) {
			continue
		}
		t.Run(tc.name, func(t *testing.T) {
			perm, ok := librato.LookupPermission(tc.method, tc.template)
			require.True(t, ok)
			var refused []librato.Role
			for _, role := range librato.Roles() {
				if !librato.Permitted(role, tc.method, tc.template) {
					refused = append(refused, role)
					continue
				}
				f := shared
				if tc.mutates() {
					f = h.newFixture(t)
				}
				h.runAllowed(t, tc, role, f)
			}
			assert.True(t, librato.Permitted(librato.RoleFullAccess, tc.method, tc.template), "Full Access is never refused")
			if len(refused) == 0 {
				return
			}
			before := h.state(t, shared)
			for _, role := range refused {
				h.runRefused(t, tc, role, perm, shared)
			}
			assert.Equal(t, before, h.state(t, shared), "a refused call changed state")
		})
	}
}

// TestE2EEveryMethodEveryRoleInProcess runs the whole table over the
// in-process transport.
func TestE2EEveryMethodEveryRoleInProcess(t *testing.T) {
	h := newE2E(t, true)
	e2eRunTable(t, h, func(e2eCall) bool { return true })
}

// TestE2EEveryMethodEveryRoleSocket runs the whole table again over a real
// loopback socket: the same outcomes, role by role.
func TestE2EEveryMethodEveryRoleSocket(t *testing.T) {
	h := newE2E(t, false)
	e2eRunTable(t, h, func(e2eCall) bool { return true })
}

// TestE2ETransportsAnswerAlike reads the same fixture over the socket and
// in-process and compares the decoded answers field by field.
func TestE2ETransportsAnswerAlike(t *testing.T) {
	sock := newE2E(t, false)
	inproc := &e2e{srv: sock.srv, opts: []librato.Option{librato.WithHTTPClient(&http.Client{Transport: sock.srv.Transport()})}}
	inproc.admin, _ = inproc.client(t, librato.RoleFullAccess, e2eGuardDeclared)
	f := sock.newFixture(t)
	for _, tc := range e2eCalls {
		// Reading a job or a snapshot advances it, so two reads differ.
		if tc.mutates() || strings.HasPrefix(tc.name, "Snapshots.") {
			continue
		}
		for _, role := range librato.Roles() {
			if !librato.Permitted(role, tc.method, tc.template) {
				continue
			}
			cs, _ := sock.client(t, role, e2eGuardDeclared)
			ci, _ := inproc.client(t, role, e2eGuardDeclared)
			a, err := tc.run(e2eCtx(), cs, f)
			require.NoError(t, err, "%s as %s over the socket", tc.name, role)
			b, err := tc.run(e2eCtx(), ci, f)
			require.NoError(t, err, "%s as %s in-process", tc.name, role)
			ja, _ := json.Marshal(a)
			jb, _ := json.Marshal(b)
			assert.JSONEq(t, string(ja), string(jb), "%s as %s", tc.name, role)
		}
	}
}

// TestE2ELeastPrivilege drives typical workloads with a Full Access token
// and asks the server which role would have been enough.
func TestE2ELeastPrivilege(t *testing.T) {
	h := newE2E(t, true)
	f := h.newFixture(t)
	ctx := e2eCtx()
	workload := func(t *testing.T, work func(c *librato.Client)) (librato.Role, []string) {
		c, token := h.client(t, librato.RoleFullAccess, e2eGuardDeclared)
		work(c)
		role, ok := h.srv.MinimalRole(token)
		require.True(t, ok)
		var rows []string
		for _, p := range h.srv.Usage(token) {
			rows = append(rows, p.Method+" "+p.Endpoint)
		}
		return role, rows
	}
	must := func(_ any, err error) { require.NoError(t, err) }

	t.Run("recorder", func(t *testing.T) {
		role, rows := workload(t, func(c *librato.Client) {
			must(c.Measurements.Create(ctx, &librato.MeasurementBatch{Tags: map[string]string{"host": "agent"}, Measurements: []librato.Measurement{
				{Name: "agent.load", Value: 0.5, Time: time.Now().Unix() - 10}, {Name: "agent.mem", Value: 512, Time: time.Now().Unix() - 10}}}))
			must(c.Metrics.List(ctx, &librato.ListOptions{Name: "agent."}))
			must(c.Metrics.Get(ctx, "agent.load"))
			must(c.Measurements.List(ctx, "agent.load", &librato.MeasurementsQuery{Duration: time.Hour, Resolution: time.Minute}))
			must(c.Annotations.CreateEvent(ctx, "agent.restarts", &librato.AnnotationEvent{Title: "restart"}))
			must(c.Alerts.List(ctx, nil))
		})
		assert.Equal(t, librato.RoleRecordOnly, role)
		assert.Equal(t, []string{"POST /v1/measurements", "GET /v1/metrics", "GET /v1/metrics/:name",
			"GET /v1/measurements/:name", "POST /v1/annotations/:name", "GET /v1/alerts"}, rows)
	})
	t.Run("viewer", func(t *testing.T) {
		role, rows := workload(t, func(c *librato.Client) {
			must(c.Spaces.List(ctx, nil))
			must(c.Spaces.Get(ctx, f.space.ID))
			must(c.Charts.List(ctx, f.space.ID))
			must(c.Charts.Get(ctx, f.space.ID, f.chart.ID))
			must(c.Measurements.List(ctx, f.metric, f.query()))
			must(c.Annotations.Get(ctx, f.stream, &librato.AnnotationSearch{Count: 5}))
		})
		assert.Equal(t, librato.RoleViewOnly, role)
		assert.Equal(t, []string{"GET /v1/spaces", "GET /v1/spaces/:id", "GET /v1/spaces/:id/charts",
			"GET /v1/spaces/:id/charts/:chart_id", "GET /v1/measurements/:name", "GET /v1/annotations/:name"}, rows)
	})
	t.Run("reads of both kinds need Full Access", func(t *testing.T) {
		// Alerts are for recorders, spaces for viewers: no lesser role has both.
		role, _ := workload(t, func(c *librato.Client) {
			must(c.Alerts.List(ctx, nil))
			must(c.Spaces.List(ctx, nil))
		})
		assert.Equal(t, librato.RoleFullAccess, role)
	})
	t.Run("admin", func(t *testing.T) {
		role, _ := workload(t, func(c *librato.Client) {
			must(c.Measurements.Create(ctx, &librato.MeasurementBatch{Measurements: []librato.Measurement{{Name: "adm.x", Value: 1}}}))
			must(c.Spaces.Create(ctx, &librato.Space{Name: "least privilege admin"}))
		})
		assert.Equal(t, librato.RoleFullAccess, role)
	})
	t.Run("refused calls count", func(t *testing.T) {
		// A viewer token that tried to record needs more than View Only.
		c, token := h.client(t, librato.RoleViewOnly, e2eGuardNone)
		_, err := c.Measurements.Create(ctx, &librato.MeasurementBatch{Measurements: []librato.Measurement{{Name: "v.x", Value: 1}}})
		require.ErrorIs(t, err, librato.ErrForbidden)
		role, ok := h.srv.MinimalRole(token)
		require.True(t, ok)
		assert.Equal(t, librato.RoleRecordOnly, role)
	})
	t.Run("no calls", func(t *testing.T) {
		_, token := h.client(t, librato.RoleViewOnly, e2eGuardDeclared)
		_, ok := h.srv.MinimalRole(token)
		assert.False(t, ok)
	})
}

// TestE2EDetectRole asks the mock, for each kind of token, whatever role
// the client declares (or none), and always gets the token's real role.
func TestE2EDetectRole(t *testing.T) {
	for _, inProcess := range []bool{true, false} {
		h := newE2E(t, inProcess)
		for _, real := range librato.Roles() {
			email, token := h.srv.Credentials(real)
			for _, declared := range append(librato.Roles(), "") {
				for _, strict := range []bool{false, true} {
					opts := append([]librato.Option{librato.WithBaseURL(h.srv.URL())}, h.opts...)
					if declared != "" {
						opts = append(opts, librato.WithRole(declared))
					}
					if strict {
						opts = append(opts, librato.WithStrictGuard())
					}
					c, err := librato.NewClient(email, token, opts...)
					require.NoError(t, err)
					got, err := c.DetectRole(e2eCtx())
					require.NoError(t, err, "real %s declared %q strict=%v in-process=%v", real, declared, strict, inProcess)
					assert.Equal(t, real, got, "real %s declared %q strict=%v in-process=%v", real, declared, strict, inProcess)
					assert.Equal(t, declared, c.Role(), "DetectRole does not change the declared role")
				}
			}
		}
		// A revoked token is not a role: 401 comes back as is.
		email, token := h.srv.Credentials(librato.RoleViewOnly)
		c, err := librato.NewClient(email, token, append([]librato.Option{librato.WithBaseURL(h.srv.URL())}, h.opts...)...)
		require.NoError(t, err)
		list, err := h.admin.APITokens.List(e2eCtx(), &librato.ListOptions{Name: "*"})
		require.NoError(t, err)
		i := slices.IndexFunc(list.APITokens, func(x librato.APIToken) bool { return x.Token() == token })
		require.GreaterOrEqual(t, i, 0)
		require.NoError(t, h.admin.APITokens.Update(e2eCtx(), list.APITokens[i].ID, &librato.APITokenUpdate{Active: librato.Ptr(false)}))
		_, err = c.DetectRole(e2eCtx())
		assert.ErrorIs(t, err, librato.ErrUnauthorized)
		assert.NotErrorIs(t, err, librato.ErrRoleUndetected)
	}
}

// e2eMeasKey names one measurement point exactly.
type e2eMeasKey struct {
	name string
	tags string
	time int64
}

func e2eKeyOf(m librato.Measurement) e2eMeasKey {
	return e2eMeasKey{name: m.Name, tags: fmt.Sprint(m.Tags), time: m.Time}
}

// TestE2EConcurrentRolesRace runs 32 goroutines with clients of all three
// roles mixing reads and writes, then checks the server's state exactly.
func TestE2EConcurrentRolesRace(t *testing.T) {
	h := newE2E(t, true)
	const workers, ops = 32, 24
	base := time.Now().Unix() - 1800
	var (
		mu       sync.Mutex
		accepted = map[e2eMeasKey]float64{}
		spaces   = map[int64]string{}
		events   = map[int64]string{}
		stream   = "conc.events"
	)
	var wg sync.WaitGroup
	errs := make(chan error, workers*ops)
	for w := 0; w < workers; w++ {
		role := librato.Roles()[w%3]
		c, err := h.srv.Client(role, h.opts...)
		require.NoError(t, err)
		wg.Add(1)
		go func(w int, role librato.Role, c *librato.Client) {
			defer wg.Done()
			ctx := context.Background()
			tags := map[string]string{"worker": fmt.Sprintf("w%02d", w)}
			fail := func(op string, err error) { errs <- fmt.Errorf("worker %d (%s) %s: %w", w, role, op, err) }
			for k := 0; k < ops; k++ {
				switch {
				case role != librato.RoleViewOnly && k%3 == 0:
					// Every writer writes to one shared metric, each to its
					// own stream, so the metric is created concurrently.
					m := librato.Measurement{Name: "conc.shared", Value: float64(w*1000 + k), Time: base + int64(k), Tags: tags}
					sum, err := c.Measurements.Create(ctx, &librato.MeasurementBatch{Measurements: []librato.Measurement{m}})
					if err != nil {
						fail("measurements", err)
						continue
					}
					if sum.Accepted == 1 {
						mu.Lock()
						accepted[e2eKeyOf(m)] = m.Value
						mu.Unlock()
					}
				case role == librato.RoleFullAccess && k%3 == 1:
					name := fmt.Sprintf("conc space w%02d k%02d", w, k)
					sp, err := c.Spaces.Create(ctx, &librato.Space{Name: name})
					if err != nil {
						fail("space", err)
						continue
					}
					mu.Lock()
					spaces[sp.ID] = name
					mu.Unlock()
				case role == librato.RoleRecordOnly && k%3 == 1:
					title := fmt.Sprintf("w%02d k%02d", w, k)
					ev, err := c.Annotations.CreateEvent(ctx, stream, &librato.AnnotationEvent{Title: title, StartTime: base + int64(k)})
					if err != nil {
						fail("event", err)
						continue
					}
					mu.Lock()
					events[ev.ID] = title
					mu.Unlock()
				case role == librato.RoleViewOnly && k%4 == 0:
					// Refused by the guard, whatever else is going on.
					_, err := c.Measurements.Create(ctx, &librato.MeasurementBatch{Measurements: []librato.Measurement{{Name: "conc.shared", Value: 1}}})
					var fe *librato.ErrForbiddenForRole
					if !errors.As(err, &fe) {
						fail("viewer write", fmt.Errorf("want ErrForbiddenForRole, got %v", err))
					}
				case role == librato.RoleViewOnly && k%4 == 1:
					if _, err := c.Spaces.List(ctx, nil); err != nil {
						fail("spaces list", err)
					}
				case role == librato.RoleRecordOnly && k%3 == 2:
					_, err := c.Spaces.List(ctx, nil)
					var fe *librato.ErrForbiddenForRole
					if !errors.As(err, &fe) {
						fail("recorder spaces", fmt.Errorf("want ErrForbiddenForRole, got %v", err))
					}
				default:
					_, err := c.Measurements.List(ctx, "conc.shared", &librato.MeasurementsQuery{StartTime: time.Unix(base-10, 0), Resolution: time.Second})
					if err != nil && !errors.Is(err, librato.ErrNotFound) { // not yet created
						fail("measurements get", err)
					}
					if _, err := c.Metrics.List(ctx, nil); err != nil {
						fail("metrics list", err)
					}
				}
			}
		}(w, role, c)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}

	// Exact state: every accepted measurement is recorded once, nothing else.
	rec := h.srv.Recorded()
	assert.Equal(t, len(accepted), len(rec), "recorded == accepted")
	seen := map[e2eMeasKey]bool{}
	for _, m := range rec {
		k := e2eKeyOf(m)
		assert.False(t, seen[k], "recorded twice: %+v", m)
		seen[k] = true
		v, ok := accepted[k]
		if assert.True(t, ok, "recorded but not accepted: %+v", m) {
			assert.Equal(t, v, m.Value)
		}
	}
	// ... and readable through the API, stream by stream.
	page, err := h.admin.Measurements.List(e2eCtx(), "conc.shared", &librato.MeasurementsQuery{StartTime: time.Unix(base-10, 0), Resolution: time.Second})
	require.NoError(t, err)
	got := map[e2eMeasKey]float64{}
	for _, s := range page.Series {
		for _, p := range s.Measurements {
			got[e2eMeasKey{name: "conc.shared", tags: fmt.Sprint(s.Tags), time: p.Time}] = p.Value
		}
	}
	assert.Equal(t, accepted, got)

	listed, err := e2eCollect(h.admin.Spaces.All(e2eCtx(), nil))
	require.NoError(t, err)
	gotSpaces := map[int64]string{}
	for _, s := range listed {
		gotSpaces[s.ID] = s.Name
	}
	assert.Equal(t, spaces, gotSpaces, "spaces created == spaces listed")

	s, err := h.admin.Annotations.Get(e2eCtx(), stream, &librato.AnnotationSearch{StartTime: time.Unix(base-10, 0)})
	require.NoError(t, err)
	gotEvents := map[int64]string{}
	for _, e := range s.SortedEvents() {
		gotEvents[e.ID] = e.Title
	}
	assert.Equal(t, events, gotEvents)
	// 11 admins and 11 recorders write 8 measurements each.
	assert.Equal(t, 22*8, len(accepted))
	assert.Equal(t, 11*8, len(spaces))
	assert.Equal(t, 11*8, len(events))
}
