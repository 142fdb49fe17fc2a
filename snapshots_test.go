package librato

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const snapshotExample = `{
  "href": "https://metrics-api.librato.com/v1/snapshots/1",
  "job_href": "https://metrics-api.librato.com/v1/jobs/123456",
  "image_href": "http://snapshots.librato.com/chart/tuqlgn1i-71569.png",
  "duration": 3600,
  "end_time": "2016-02-20T01:18:46Z",
  "created_at": "2016-02-20T01:18:46Z",
  "updated_at": "2016-02-20T01:18:46Z",
  "subject": {"chart": {"id": 1, "sources": ["*"], "type": "stacked", "extra": 1}},
  "owner": "someone"
}`

func TestSnapshotsCreate(t *testing.T) {
	c, mt := newMockClient(t)
	rec := famRespond(t, mt, "POST", "/v1/snapshots", 202, snapshotExample, "/v1/snapshots/1")
	end := time.Date(2016, 2, 20, 2, 18, 46, 0, time.FixedZone("CET", 3600))
	snap, err := c.Snapshots.Create(context.Background(), &Snapshot{
		Subject:  SnapshotSubject{Chart: SnapshotChart{ID: 1, Type: ChartTypeStacked, Tags: []SnapshotTag{{Name: "environment", Values: []string{"*"}}}}},
		Duration: 1800,
		EndTime:  end,
	})
	require.NoError(t, err)
	call := rec.one(t)
	famAssertRequest(t, call, "POST", "/v1/snapshots")
	assert.JSONEq(t, `{
	  "subject": {"chart": {"id": 1, "type": "stacked", "tags": [{"name": "environment", "values": ["*"]}]}},
	  "duration": 1800,
	  "end_time": "2016-02-20T01:18:46Z"
	}`, call.Body)
	assert.EqualValues(t, 1, snap.ID)
	assert.EqualValues(t, 123456, snap.JobID)
	assert.True(t, snap.Ready())
	assert.Equal(t, 3600, snap.Duration)
	assert.True(t, snap.EndTime.Equal(time.Date(2016, 2, 20, 1, 18, 46, 0, time.UTC)))
	assert.True(t, snap.CreatedAt.Equal(snap.EndTime))
	assert.Equal(t, SnapshotChart{ID: 1, Type: "stacked", Sources: []string{"*"}}, snap.Subject.Chart)
}

func TestSnapshotsCreateMinimal(t *testing.T) {
	c, mt := newMockClient(t)
	rec := famRespond(t, mt, "POST", "/v1/snapshots", 202, ``, "https://api.test/prefix/v1/snapshots/42")
	snap, err := c.Snapshots.Create(context.Background(), &Snapshot{Subject: SnapshotSubject{Chart: SnapshotChart{ID: 9}}})
	require.NoError(t, err)
	assert.JSONEq(t, `{"subject":{"chart":{"id":9}}}`, rec.one(t).Body, "defaults are left to the server")
	assert.EqualValues(t, 42, snap.ID, "the id comes from Location when the body has none")
	assert.False(t, snap.Ready())
	assert.Zero(t, snap.JobID)
}

func TestSnapshotsGet(t *testing.T) {
	c, mt := newMockClient(t)
	rec := famRespond(t, mt, "GET", "/v1/snapshots/1", 200, `{
	  "href": "https://metrics-api.librato.com/v1/snapshots/1",
	  "job_href": "https://metrics-api.librato.com/v1/jobs/123456",
	  "image_href": null,
	  "duration": 600,
	  "end_time": "2016-02-20T01:18:46Z",
	  "created_at": "2016-02-20T01:18:47Z",
	  "updated_at": "2016-02-20T01:18:48.5Z",
	  "subject": {"chart": {"id": 3, "type": "line", "tags": [{"name": "host", "values": ["db-*"]}]}}
	}`, "")
	snap, err := c.Snapshots.Get(context.Background(), 1)
	require.NoError(t, err)
	famAssertRequest(t, rec.one(t), "GET", "/v1/snapshots/1")
	assert.False(t, snap.Ready())
	assert.Empty(t, snap.ImageHref)
	assert.Equal(t, 600, snap.Duration)
	assert.Equal(t, time.Date(2016, 2, 20, 1, 18, 48, 5e8, time.UTC), snap.UpdatedAt.UTC())
	assert.Equal(t, SnapshotChart{ID: 3, Type: "line", Tags: []SnapshotTag{{Name: "host", Values: []string{"db-*"}}}}, snap.Subject.Chart)
	assert.EqualValues(t, 123456, snap.JobID)
	assert.EqualValues(t, 1, snap.ID)
}

func TestSnapshotsValidation(t *testing.T) {
	ctx := context.Background()
	chart := func(ch SnapshotChart) SnapshotSubject { return SnapshotSubject{Chart: ch} }
	cases := []struct {
		name  string
		field string
		in    *Snapshot
	}{
		{"nil", "subject.chart.id", nil},
		{"no chart id", "subject.chart.id", &Snapshot{Subject: chart(SnapshotChart{Type: "line"})}},
		{"negative chart id", "subject.chart.id", &Snapshot{Subject: chart(SnapshotChart{ID: -1})}},
		{"bad type", "subject.chart.type", &Snapshot{Subject: chart(SnapshotChart{ID: 1, Type: "pie"})}},
		{"negative duration", "duration", &Snapshot{Subject: chart(SnapshotChart{ID: 1}), Duration: -3600}},
		{"tag without name", "subject.chart.tags[0].name", &Snapshot{Subject: chart(SnapshotChart{ID: 1, Tags: []SnapshotTag{{Values: []string{"a"}}}})}},
		{"tag without values", "subject.chart.tags[1].values", &Snapshot{Subject: chart(SnapshotChart{ID: 1, Tags: []SnapshotTag{{Name: "a", Values: []string{"*"}}, {Name: "b"}}})}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c, mt := newMockClient(t)
			_, err := c.Snapshots.Create(ctx, tc.in)
			famRequireInvalid(t, mt, err, tc.field)
		})
	}
	t.Run("get id 0", func(t *testing.T) {
		c, mt := newMockClient(t)
		_, err := c.Snapshots.Get(ctx, 0)
		famRequireInvalid(t, mt, err, "id")
	})
}

func TestSnapshotsGuard(t *testing.T) {
	// The snapshot rows are unlisted: a lenient guard lets the server
	// decide, a strict one refuses for View Only.
	c, mt := newMockClient(t, WithRole(RoleViewOnly))
	famRespond(t, mt, "GET", "/v1/snapshots/1", 403, `{"errors":{"request":["forbidden"]}}`, "")
	_, err := c.Snapshots.Get(context.Background(), 1)
	var apiErr *APIError
	require.ErrorAs(t, err, &apiErr)
	assert.Equal(t, 1, mt.GetTotalCallCount())

	strict, mt2 := newMockClient(t, WithRole(RoleViewOnly), WithStrictGuard())
	_, err = strict.Snapshots.Create(context.Background(), &Snapshot{Subject: SnapshotSubject{Chart: SnapshotChart{ID: 1}}})
	var fe *ErrForbiddenForRole
	require.ErrorAs(t, err, &fe)
	assert.Zero(t, mt2.GetTotalCallCount())
}

func TestSnapshotJSONRoundTrip(t *testing.T) {
	var s Snapshot
	require.NoError(t, json.Unmarshal([]byte(snapshotExample), &s))
	b, err := json.Marshal(s)
	require.NoError(t, err)
	var back Snapshot
	require.NoError(t, json.Unmarshal(b, &back))
	assert.Equal(t, s.Href, back.Href)
	assert.True(t, s.EndTime.Equal(back.EndTime))
	assert.Equal(t, s.Subject, back.Subject)
	assert.Equal(t, s, back, "the ids come back from the hrefs")
}

// TestSnapshotsCreateSendsOnlyCreateFields: a snapshot read from the API
// can be sent again; its hrefs and server times are not sent.
func TestSnapshotsCreateSendsOnlyCreateFields(t *testing.T) {
	var s Snapshot
	require.NoError(t, json.Unmarshal([]byte(snapshotExample), &s))
	c, mt := newMockClient(t)
	rec := famRespond(t, mt, "POST", "/v1/snapshots", 202, snapshotExample, "/v1/snapshots/1")
	_, err := c.Snapshots.Create(context.Background(), &s)
	require.NoError(t, err)
	assert.JSONEq(t, `{"subject":{"chart":{"id":1,"type":"stacked","sources":["*"]}},"duration":3600,"end_time":"2016-02-20T01:18:46Z"}`, rec.one(t).Body)
}
