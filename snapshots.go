package librato

import (
	"context"
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
// Snapshot.Duration is zero.
const DefaultSnapshotDuration = time.Hour

// Snapshot is a PNG rendering of a chart over an interval, made by a
// background job, as the API returns it and as Create sends it (its
// Subject, Duration and EndTime). ImageHref stays empty (null on the wire)
// until the image is ready; poll Get, or wait for the job with
// Jobs.Wait(ctx, s.JobID).
type Snapshot struct {
	ID        int64           `json:"-"`          // read from Href; the API sends no id
	JobID     int64           `json:"-"`          // the rendering job's, read from JobHref, for Jobs.Get or Jobs.Wait
	Href      string          `json:"href"`       // the snapshot resource, …/v1/snapshots/:id
	JobHref   string          `json:"job_href"`   // the rendering job, …/v1/jobs/:id
	ImageHref string          `json:"image_href"` // the PNG; empty until rendered
	Duration  int             `json:"duration"`   // seconds of the interval; 0 on create for DefaultSnapshotDuration
	EndTime   time.Time       `json:"end_time"`   // zero on create for now
	CreatedAt time.Time       `json:"created_at"`
	UpdatedAt time.Time       `json:"updated_at"`
	Subject   SnapshotSubject `json:"subject"`
}

// UnmarshalJSON reads a snapshot and its ids from its hrefs.
func (s *Snapshot) UnmarshalJSON(data []byte) error {
	type plain Snapshot
	if err := decodeJSON(data, (*plain)(s)); err != nil {
		return err
	}
	s.ID, s.JobID = idFromLocation(s.Href), idFromLocation(s.JobHref)
	return nil
}

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

// snapshotCreate is what Create sends: duration in seconds and end_time
// as ISO-8601 UTC, each left out when zero so the server applies its
// default.
type snapshotCreate struct {
	Subject  SnapshotSubject `json:"subject"`
	Duration int             `json:"duration,omitempty"`
	EndTime  string          `json:"end_time,omitempty"`
}

func (c *snapshotCreate) validate() error {
	ch := &c.Subject.Chart
	switch {
	case ch.ID <= 0:
		return invalid("subject.chart.id", -1, "is required: the id of the chart to render")
	case ch.Type != "" && !oneOf(ch.Type, ChartTypeLine, ChartTypeStacked, ChartTypeBigNumber):
		return invalid("subject.chart.type", -1, "%s is not one of line, stacked, bignumber", quoteShort(ch.Type))
	case c.Duration < 0:
		return invalid("duration", -1, "may not be negative: seconds, or zero for the default, one hour")
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

// Create starts rendering a snapshot of sn.Subject.Chart (ID required)
// over sn.Duration seconds ending at sn.EndTime, and returns it at once
// (the API answers 202), usually before ImageHref is set. Nothing else of
// sn is sent. A missing chart id, or a bad type, tag or duration, is a
// *ValidationError and nothing is sent.
func (s *SnapshotsService) Create(ctx context.Context, sn *Snapshot) (*Snapshot, error) {
	body := &snapshotCreate{}
	if sn != nil {
		body.Subject, body.Duration = sn.Subject, sn.Duration
		if !sn.EndTime.IsZero() {
			body.EndTime = sn.EndTime.UTC().Format(time.RFC3339)
		}
	}
	var out Snapshot
	res, err := s.client.call(ctx, &request{ep: epSnapshotsCreate, body: body, out: &out})
	if err != nil {
		return nil, err
	}
	if out.Href == "" {
		out.Href = res.location
		out.ID = idFromLocation(res.location)
	}
	return &out, nil
}

// Get returns snapshot id as it stands; ImageHref is set once rendered.
func (s *SnapshotsService) Get(ctx context.Context, id int64) (*Snapshot, error) {
	return callInto[Snapshot](ctx, s.client, &request{ep: epSnapshotsGet, params: []string{idParam(id)}})
}
