package librato

import (
	"context"
	"fmt"
	"iter"
	"strings"
)

// SpacesService manages spaces (dashboards).
type SpacesService service

// ChartsService manages the charts of a space.
type ChartsService service

var (
	epSpacesList   = newEndpoint("GET", "/v1/spaces")
	epSpacesCreate = newEndpoint("POST", "/v1/spaces")
	epSpacesGet    = newEndpoint("GET", "/v1/spaces/:id")
	epSpacesUpdate = newEndpoint("PUT", "/v1/spaces/:id")
	epSpacesDelete = newEndpoint("DELETE", "/v1/spaces/:id")

	epChartsList   = newEndpoint("GET", "/v1/spaces/:id/charts")
	epChartsCreate = newEndpoint("POST", "/v1/spaces/:id/charts")
	epChartsGet    = newEndpoint("GET", "/v1/spaces/:id/charts/:chart_id")
	epChartsUpdate = newEndpoint("PUT", "/v1/spaces/:id/charts/:chart_id")
	epChartsDelete = newEndpoint("DELETE", "/v1/spaces/:id/charts/:chart_id")
)

// Space is a dashboard: a named, account-unique collection of charts.
// Charts is filled only by Get; List returns ids and names.
type Space struct {
	ID     int64      `json:"id,omitempty"`
	Name   string     `json:"name"`
	Charts []ChartRef `json:"charts,omitempty"`
	// Tags, when set, is sent on Create: false makes a space for legacy
	// source-based metrics, as the legacy reference's example does; nil
	// leaves the server's default, a space for tags.
	Tags *bool `json:"tags,omitempty"`
}

// ChartRef is a chart as a space's detail lists it: its id alone. Read the
// chart itself with Charts.Get.
type ChartRef struct {
	ID int64 `json:"id"`
}

// spaceCreate is what Create sends: the name and the legacy tags flag,
// so a Space read from the API can be passed back without sending its id
// or chart list.
type spaceCreate struct {
	Name string `json:"name"`
	Tags *bool  `json:"tags,omitempty"`
}

func (b *spaceCreate) validate() error { return checkRequired("name", b.Name) }

// SpaceUpdate changes a space (PUT /v1/spaces/:id); its name is the one
// property a space has, and the charts are not touched.
type SpaceUpdate struct {
	Name *string `json:"name,omitempty"` // unique in the account; not blank
}

func (u *SpaceUpdate) validate() error {
	if u == nil || u.Name == nil {
		return invalid("name", -1, "is not set; nothing to update")
	}
	return checkRequired("name", *u.Name)
}

// SpacePage is one page of GET /v1/spaces.
type SpacePage struct {
	Query  Query   `json:"query"`
	Spaces []Space `json:"spaces"`
}

func (l *SpacePage) page() ([]Space, Query) { return l.Spaces, l.Query }

// List returns one page of spaces (ids and names), filtered by opts.
func (s *SpacesService) List(ctx context.Context, opts *ListOptions) (*SpacePage, error) {
	return callInto[SpacePage](ctx, s.client, &request{ep: epSpacesList, opts: listOf{opts, []string{"name"}, true}})
}

// All yields every space matching opts, page after page; an error ends the
// sequence.
func (s *SpacesService) All(ctx context.Context, opts *ListOptions) iter.Seq2[Space, error] {
	return allPages[Space](ctx, opts, s.List)
}

// Get returns space id with the ids of its charts; a missing space is an
// *APIError matching ErrNotFound.
func (s *SpacesService) Get(ctx context.Context, id int64) (*Space, error) {
	return callInto[Space](ctx, s.client, &request{ep: epSpacesGet, params: []string{idParam(id)}})
}

// Create makes a space named sp.Name (required, unique in the account; a
// duplicate is an *APIError matching ErrAlreadyExists) and returns it with
// its id. Only the name, and sp.Tags when set, are sent.
func (s *SpacesService) Create(ctx context.Context, sp *Space) (*Space, error) {
	body := &spaceCreate{}
	if sp != nil {
		body.Name, body.Tags = sp.Name, sp.Tags
	}
	var out Space
	res, err := s.client.call(ctx, &request{ep: epSpacesCreate, body: body, out: &out})
	if err != nil {
		return nil, err
	}
	if out.ID == 0 {
		out.ID = idFromLocation(res.location)
	}
	if out.Name == "" {
		out.Name = body.Name
	}
	return &out, nil
}

// Update renames space id to what u sets; an update without a name, or
// with a blank one, is a *ValidationError and nothing is sent. A name
// another space has is an *APIError matching ErrAlreadyExists.
func (s *SpacesService) Update(ctx context.Context, id int64, u *SpaceUpdate) error {
	_, err := s.client.call(ctx, &request{ep: epSpacesUpdate, params: []string{idParam(id)}, body: u})
	return err
}

// Delete deletes space id and its charts.
func (s *SpacesService) Delete(ctx context.Context, id int64) error {
	_, err := s.client.call(ctx, &request{ep: epSpacesDelete, params: []string{idParam(id)}})
	return err
}

// Chart types. Snapshots use the same set.
const (
	ChartTypeLine      = "line" // the API's default
	ChartTypeStacked   = "stacked"
	ChartTypeBigNumber = "bignumber" // needs Thresholds
)

// Threshold operators and colours of a big-number chart.
const (
	ThresholdAbove  = ">"
	ThresholdBelow  = "<"
	ThresholdEqual  = "="
	ThresholdRed    = "red"
	ThresholdYellow = "yellow"
)

// Chart is a chart of a space, as the API returns it and as Create sends
// it (without its ID); a zero field is not sent and takes the API's
// default, but an empty, non-nil Streams or Thresholds is sent as [].
// ChartUpdate changes one.
type Chart struct {
	ID           int64            `json:"id,omitempty"`
	Name         string           `json:"name,omitempty"` // the title; required to create
	Type         string           `json:"type,omitempty"` // ChartTypeLine (default), ChartTypeStacked or ChartTypeBigNumber
	Streams      []ChartStream    `json:"streams,omitzero"`
	Min          *float64         `json:"min,omitempty"`           // lowest Y value shown
	Max          *float64         `json:"max,omitempty"`           // highest Y value shown
	Label        string           `json:"label,omitempty"`         // Y-axis label
	RelatedSpace int64            `json:"related_space,omitempty"` // id of a related space
	Thresholds   []ChartThreshold `json:"thresholds,omitzero"`     // required for big-number charts; null for others
}

// ChartUpdate changes a chart (PUT /v1/spaces/:id/charts/:chart_id): a
// nil field is not sent and the server keeps it.
type ChartUpdate struct {
	Name *string `json:"name,omitempty"` // the title; not blank
	Type *string `json:"type,omitempty"` // ChartTypeLine, ChartTypeStacked or ChartTypeBigNumber
	// Streams replaces every stream of the chart: to keep a stream, send
	// it back with its ID; an empty, non-nil slice removes them all.
	Streams      []ChartStream `json:"streams,omitzero"`
	Min          *float64      `json:"min,omitempty"`
	Max          *float64      `json:"max,omitempty"`
	Label        *string       `json:"label,omitempty"`         // Ptr("") clears it
	RelatedSpace *int64        `json:"related_space,omitempty"` // the id of an existing space
	// Thresholds replaces the chart's thresholds; an empty, non-nil slice
	// removes them all.
	Thresholds []ChartThreshold `json:"thresholds,omitzero"`
}

// ChartThreshold colours a big-number chart when its value compares with
// Value by Operator (ThresholdAbove, ThresholdBelow, ThresholdEqual); Type
// is the colour, ThresholdRed or ThresholdYellow.
type ChartThreshold struct {
	Operator string  `json:"operator"`
	Value    float64 `json:"value"`
	Type     string  `json:"type"`
}

// ChartStream is one line (or number) of a chart: a metric with tag
// filters, or a composite expression. Responses add ID and Type ("gauge" or
// "composite"). Zero fields are not sent and take the API's defaults.
type ChartStream struct {
	ID        int64       `json:"id,omitempty"`
	Type      string      `json:"type,omitempty"` // set by the server: gauge or composite
	Metric    string      `json:"metric,omitempty"`
	Tags      []StreamTag `json:"tags,omitempty"`
	Composite string      `json:"composite,omitempty"` // not with Metric, Tags or GroupFunction
	// Source is the legacy (source-based) stream filter: a source name, a
	// pattern with '*' ("*" for all sources), or "%" for a dynamic source
	// chosen when the space is viewed. Tag-based streams leave it empty.
	Source string `json:"source,omitempty"`

	GroupFunction      string `json:"group_function,omitempty"`      // average (default), sum, min, max, breakout
	SummaryFunction    string `json:"summary_function,omitempty"`    // average (default), max, min, sum, count
	DownsampleFunction string `json:"downsample_function,omitempty"` // average (default), max, min, sum, count; composite streams only

	Color      string   `json:"color,omitempty"` // #RRGGBB
	Name       string   `json:"name,omitempty"`  // display name in the tooltip
	UnitsShort string   `json:"units_short,omitempty"`
	UnitsLong  string   `json:"units_long,omitempty"` // Y-axis label; streams with the same one share an axis
	Min        *float64 `json:"min,omitempty"`
	Max        *float64 `json:"max,omitempty"`

	// TransformFunction is a linear formula applied to each point, where x
	// is the value and p the period in seconds, e.g. "x/p" or "(x-32)*5/9".
	// Only digits, x, p, parentheses, space and + - * / , . are allowed;
	// never multiply x by itself.
	TransformFunction string `json:"transform_function,omitempty"`
	Period            int    `json:"period,omitempty"`     // seconds between reports
	SplitAxis         *bool  `json:"split_axis,omitempty"` // draw the stream on its own Y axis
}

// StreamTag filters a chart stream by one tag. Values may hold '*'
// patterns ("us-west-*-app"); Grouped groups the stream by the tag; Dynamic
// lets the space's own tag filters and grouping apply.
type StreamTag struct {
	Name    string   `json:"name"`
	Values  []string `json:"values,omitempty"`
	Grouped bool     `json:"grouped,omitempty"`
	Dynamic bool     `json:"dynamic,omitempty"`
}

// chartCreate is a Chart on its way to Create: the depth-0 ID, never
// set, hides the chart's own, which is the server's.
type chartCreate struct {
	*Chart
	ID *int64 `json:"id,omitempty"`
}

func (b chartCreate) validate() error {
	c := b.Chart
	if err := checkRequired("name", c.Name); err != nil {
		return err
	}
	if c.Type == ChartTypeBigNumber && len(c.Thresholds) == 0 {
		return invalid("thresholds", -1, "are required for a bignumber chart")
	}
	return c.check()
}

func (u *ChartUpdate) validate() error {
	if u == nil || u.Name == nil && u.Type == nil && u.Streams == nil && u.Min == nil && u.Max == nil &&
		u.Label == nil && u.RelatedSpace == nil && u.Thresholds == nil {
		return invalid("chart", -1, "sets no field; nothing to update")
	}
	c := Chart{Streams: u.Streams, Min: u.Min, Max: u.Max, Thresholds: u.Thresholds}
	if u.Name != nil {
		if err := checkRequired("name", *u.Name); err != nil {
			return err
		}
		c.Name = *u.Name
	}
	if u.Type != nil {
		if *u.Type == "" {
			return invalid("type", -1, "is empty; use one of line, stacked, bignumber")
		}
		c.Type = *u.Type
	}
	if u.RelatedSpace != nil {
		if *u.RelatedSpace <= 0 {
			return invalid("related_space", -1, "must be the id of an existing space")
		}
		c.RelatedSpace = *u.RelatedSpace
	}
	return c.check()
}

// check applies the rules Create and Update share to the fields c sets.
func (c *Chart) check() error {
	if c.Name != "" && strings.TrimSpace(c.Name) == "" {
		return invalid("name", -1, "is blank")
	}
	if c.Type != "" && !oneOf(c.Type, ChartTypeLine, ChartTypeStacked, ChartTypeBigNumber) {
		return invalid("type", -1, "%s is not one of line, stacked, bignumber", quoteShort(c.Type))
	}
	for _, f := range [...]struct {
		name string
		v    *float64
	}{{"min", c.Min}, {"max", c.Max}} {
		if f.v != nil {
			if err := checkFloat(f.name, -1, *f.v); err != nil {
				return err
			}
		}
	}
	if c.Min != nil && c.Max != nil && *c.Min > *c.Max {
		return invalid("min", -1, "%g is above max %g", *c.Min, *c.Max)
	}
	if c.RelatedSpace < 0 {
		return invalid("related_space", -1, "may not be negative")
	}
	for i := range c.Thresholds {
		if err := c.Thresholds[i].check(i); err != nil {
			return err
		}
	}
	for i := range c.Streams {
		if err := c.Streams[i].check(i); err != nil {
			return err
		}
	}
	return nil
}

func (t *ChartThreshold) check(i int) error {
	field := func(name string) string { return fmt.Sprintf("thresholds[%d].%s", i, name) }
	if !oneOf(t.Operator, ThresholdAbove, ThresholdBelow, ThresholdEqual) {
		return invalid(field("operator"), -1, "%s is not one of >, <, =", quoteShort(t.Operator))
	}
	if !oneOf(t.Type, ThresholdRed, ThresholdYellow) {
		return invalid(field("type"), -1, "%s is not red or yellow", quoteShort(t.Type))
	}
	return checkFloat(field("value"), -1, t.Value)
}

func (st *ChartStream) check(i int) error {
	field := func(name string) string { return fmt.Sprintf("streams[%d].%s", i, name) }
	if st.Composite != "" {
		if st.Metric != "" || len(st.Tags) > 0 || st.GroupFunction != "" {
			return invalid(field("composite"), -1, "cannot be combined with metric, tags or group_function")
		}
		if strings.TrimSpace(st.Composite) == "" {
			return invalid(field("composite"), -1, "is blank")
		}
	} else {
		if st.Metric == "" {
			return invalid(field("metric"), -1, "is required unless the stream is a composite")
		}
		if err := checkMetricName(field("metric"), -1, st.Metric); err != nil {
			return err
		}
	}
	for j, tag := range st.Tags {
		if !ValidTagName(tag.Name) {
			return invalid(fmt.Sprintf("streams[%d].tags[%d].name", i, j), -1, "%s must be 1 to %d characters from A-Z a-z 0-9 . : - _", quoteShort(tag.Name), MaxTagNameLength)
		}
	}
	if st.GroupFunction != "" && !oneOf(st.GroupFunction, "average", "sum", "min", "max", "breakout") {
		return invalid(field("group_function"), -1, "%s is not one of average, sum, min, max, breakout", quoteShort(st.GroupFunction))
	}
	if st.SummaryFunction != "" && !oneOf(st.SummaryFunction, "average", "sum", "min", "max", "count") {
		return invalid(field("summary_function"), -1, "%s is not one of average, sum, min, max, count", quoteShort(st.SummaryFunction))
	}
	if st.DownsampleFunction != "" && !oneOf(st.DownsampleFunction, "average", "sum", "min", "max", "count") {
		return invalid(field("downsample_function"), -1, "%s is not one of average, sum, min, max, count", quoteShort(st.DownsampleFunction))
	}
	if st.Color != "" && !validColor(st.Color) {
		return invalid(field("color"), -1, "%s is not #RRGGBB", quoteShort(st.Color))
	}
	if st.TransformFunction != "" && !validTransform(st.TransformFunction) {
		return invalid(field("transform_function"), -1, "%s may hold only digits, x, p, parentheses, space and + - * / , .", quoteShort(st.TransformFunction))
	}
	for _, f := range [...]struct {
		name string
		v    *float64
	}{{"min", st.Min}, {"max", st.Max}} {
		if f.v != nil {
			if err := checkFloat(field(f.name), -1, *f.v); err != nil {
				return err
			}
		}
	}
	if st.Period < 0 {
		return invalid(field("period"), -1, "may not be negative")
	}
	return nil
}

// validTransform is the API's /^[\dxp()+-\/ ]+$/, whose range +-/ spans
// "+,-./", plus '*', which the reference's prose allows (multiplying by a
// constant) though its regex lost it.
func validTransform(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c >= '0' && c <= '9':
		case c == 'x' || c == 'p' || c == '(' || c == ')' || c == ' ' || c == '*':
		case c >= '+' && c <= '/': // + , - . /
		default:
			return false
		}
	}
	return true
}

// List returns every chart of space spaceID. It returns a slice and
// there is no All, because the API answers every chart of a space at once
// as one bare array, with no paging. A missing space is an *APIError
// matching ErrNotFound.
func (s *ChartsService) List(ctx context.Context, spaceID int64) ([]Chart, error) {
	out := []Chart{} // a space without charts is an empty list, never nil
	if _, err := s.client.call(ctx, &request{ep: epChartsList, params: []string{idParam(spaceID)}, out: &out}); err != nil {
		return nil, err
	}
	return out, nil
}

// Get returns chart chartID of space spaceID; a missing one is an
// *APIError matching ErrNotFound.
func (s *ChartsService) Get(ctx context.Context, spaceID, chartID int64) (*Chart, error) {
	return callInto[Chart](ctx, s.client, &request{ep: epChartsGet, params: []string{idParam(spaceID), idParam(chartID)}})
}

// Create adds chart c to space spaceID and returns it as the server stored
// it, with its id and its streams' ids. c needs a Name, a bignumber chart
// needs Thresholds, and every stream a Metric or a Composite; input the
// API would reject is a *ValidationError and nothing is sent.
func (s *ChartsService) Create(ctx context.Context, spaceID int64, c *Chart) (*Chart, error) {
	if c == nil {
		c = &Chart{}
	}
	var out Chart
	// The Location of a created chart names the space, not the chart, so
	// the id comes from the body only.
	if _, err := s.client.call(ctx, &request{ep: epChartsCreate, params: []string{idParam(spaceID)}, body: chartCreate{Chart: c}, out: &out}); err != nil {
		return nil, err
	}
	return &out, nil
}

// Update changes the fields u sets on chart chartID of space spaceID.
// Setting Streams replaces all the chart's streams. An update that sets
// nothing, or input the API would reject, is a *ValidationError and
// nothing is sent.
func (s *ChartsService) Update(ctx context.Context, spaceID, chartID int64, u *ChartUpdate) error {
	_, err := s.client.call(ctx, &request{ep: epChartsUpdate, params: []string{idParam(spaceID), idParam(chartID)}, body: u})
	return err
}

// Delete deletes chart chartID of space spaceID.
func (s *ChartsService) Delete(ctx context.Context, spaceID, chartID int64) error {
	_, err := s.client.call(ctx, &request{ep: epChartsDelete, params: []string{idParam(spaceID), idParam(chartID)}})
	return err
}
