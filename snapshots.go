package librato

import (
	"context"
	"encoding/json"
	"fmt"
	"time"
)

// SnapshotsService renders charts to images in the background.
type SnapshotsService service

var (
	epSnapshotsCreate = newEndpoint("POST", "/v1/snapshots")
	epSnapshotsGet    = newEndpoint("GET", "/v1/snapshots/:id")
)

// DefaultSnapshotDuration is the interval the API renders when
// SnapshotCreate.Duration is zero.
const DefaultSnapshotDuration = time.Hour

// Snapshot is a PNG rendering of a chart over an interval, made by a
// background job. ImageHref stays empty (null on the wire) until the image
// is ready; poll Get, or wait for the job with Jobs.Wait(ctx, s.JobID()).
type Snapshot struct {
	Href      string          `json:"href"`       // the snapshot resource, …/v1/snapshots/:id
	JobHref   string          `json:"job_href"`   // the rendering job, …/v1/jobs/:id
	ImageHref string          `json:"image_href"` // the PNG; empty until rendered
	Duration  int             `json:"duration"`   // seconds of the interval
	EndTime   time.Time       `json:"end_time"`
	CreatedAt time.Time       `json:"created_at"`
	UpdatedAt time.Time       `json:"updated_at"`
	Subject   SnapshotSubject `json:"subject"`
}

// ID returns the snapshot's id, read from Href; 0 if there is none.
func (s *Snapshot) ID() int64 { return idFromLocation(s.Href) }

// JobID returns the id of the rendering job, read from JobHref, for
// Jobs.Get or Jobs.Wait; 0 if there is none.
func (s *Snapshot) JobID() int64 { return idFromLocation(s.JobHref) }

// Ready reports whether the image has been rendered.
func (s *Snapshot) Ready() bool { return s.ImageHref != "" }

// SnapshotSubject is what a snapshot renders: one chart.
type SnapshotSubject struct {
	Chart SnapshotChart `json:"chart"`
}

// SnapshotChart names the chart to render, how to draw it, and the tag
// filters to apply. Answers may carry Sources (legacy source patterns)
// instead of Tags; Source is how the legacy reference sends one such
// pattern ("*" for all sources) in a request.
type SnapshotChart struct {
	ID      int64         `json:"id"`
	Type    string        `json:"type,omitempty"` // ChartTypeLine, ChartTypeStacked or ChartTypeBigNumber
	Tags    []SnapshotTag `json:"tags,omitempty"`
	Source  string        `json:"source,omitempty"`
	Sources []string      `json:"sources,omitempty"`
}

// SnapshotTag filters the rendered chart by one tag; Values may hold '*'
// patterns.
type SnapshotTag struct {
	Name   string   `json:"name"`
	Values []string `json:"values"`
}

// SnapshotCreate asks for a snapshot of Subject.Chart (ID required) over
// Duration (whole seconds; zero for DefaultSnapshotDuration) ending at
// EndTime (zero for now).
type SnapshotCreate struct {
	Subject  SnapshotSubject
	Duration time.Duration
	EndTime  time.Time
}

// MarshalJSON writes the API's body: duration in seconds and end_time as
// ISO-8601 UTC, each left out when zero so the server applies its default.
func (c SnapshotCreate) MarshalJSON() ([]byte, error) {
	w := struct {
		Subject  SnapshotSubject `json:"subject"`
		Duration int64           `json:"duration,omitempty"`
		EndTime  string          `json:"end_time,omitempty"`
	}{Subject: c.Subject, Duration: int64(c.Duration / time.Second)}
	if !c.EndTime.IsZero() {
		w.EndTime = c.EndTime.UTC().Format(time.RFC3339)
	}
	return json.Marshal(w)
}

func (c *SnapshotCreate) validate() error {
	ch := &c.Subject.Chart
	switch {
	case ch.ID <= 0:
		return invalid("subject.chart.id", -1, "is required: the id of the chart to render")
	case ch.Type != "" && !oneOf(ch.Type, ChartTypeLine, ChartTypeStacked, ChartTypeBigNumber):
		return invalid("subject.chart.type", -1, "%s is not one of line, stacked, bignumber", quoteShort(ch.Type))
	case c.Duration < 0 || c.Duration%time.Second != 0:
		return invalid("duration", -1, "must be a positive whole number of seconds (zero for the default, one hour)")
	}
	for i, t := range ch.Tags {
		if !ValidTagName(t.Name) {
			return invalid(fmt.Sprintf("subject.chart.tags[%d].name", i), -1, "%s must be 1 to %d characters from A-Z a-z 0-9 . : - _", quoteShort(t.Name), MaxTagNameLength)
		}
		if len(t.Values) == 0 {
			return invalid(fmt.Sprintf("subject.chart.tags[%d].values", i), -1, "is empty; give at least one value or pattern such as \"*\"")
		}
	}
	return nil
}

// Create starts rendering a snapshot and returns it at once (the API
// answers 202), usually before ImageHref is set. A missing chart id is a
// *ValidationError.
func (s *SnapshotsService) Create(ctx context.Context, c *SnapshotCreate) (*Snapshot, error) {
	if c == nil {
		c = &SnapshotCreate{}
	}
	var out Snapshot
	res, err := s.client.call(ctx, &request{ep: epSnapshotsCreate, body: c, out: &out})
	if err != nil {
		return nil, err
	}
	if out.Href == "" {
		out.Href = res.location
	}
	return &out, nil
}

// Get returns snapshot id as it stands; ImageHref is set once rendered.
func (s *SnapshotsService) Get(ctx context.Context, id int64) (*Snapshot, error) {
	return callInto[Snapshot](ctx, s.client, &request{ep: epSnapshotsGet, params: []string{idParam(id)}})
}
