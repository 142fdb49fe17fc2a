package librato

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/jarcoal/httpmock"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The reference's "annotation stream from multiple sources" example, plus
// a field the SDK does not know.
const streamEventsBody = `{
  "name": "api-deploys",
  "display_name": "Deploys to API",
  "unknown": true,
  "events": [
    {
      "unassigned": [
        {
          "id": 45, "title": "Deployed v91", "description": null,
          "start_time": 1234567890, "end_time": null, "source": null,
          "links": [
            {"label": "Github commit", "rel": "github", "href": "http://github.com/org/app/commit/01beaf"},
            {"label": "Jenkins CI build job", "rel": "jenkins", "href": "http://ci.acme.com/job/api/34"}
          ]
        }
      ],
      "foo3.bar.com": [
        {"id": 123, "title": "My Annotation", "description": null, "start_time": 1234567890,
         "end_time": null, "source": "foo3.bar.com", "links": []},
        {"id": 1098, "title": "Chef run finished", "description": "Chef migrated up to SHA 44a87f9",
         "start_time": 1234567908, "end_time": 1234567958, "source": "foo3.bar.com", "links": []}
      ]
    }
  ]
}`

func TestAnnotationsListStreams(t *testing.T) {
	c, mt := newMockClient(t)
	seen := aaReply(t, mt, "GET", "/v1/annotations", 200, `{
  "query": {"found": 2, "length": 2, "offset": 0, "total": 2},
  "annotations": [
    {"name": "api-deploys", "display_name": "Deploys to API"},
    {"name": "app-deploys", "display_name": "Deploys to UX app", "extra": 1}
  ]
}`)
	list, err := c.Annotations.List(context.Background(), &ListOptions{Name: "api", Offset: 10, Length: 5, OrderBy: "name", Sort: "asc"})
	require.NoError(t, err)
	r := aaOne(t, seen, "GET", "/v1/annotations")
	assert.Equal(t, url.Values{"name": {"api"}, "offset": {"10"}, "length": {"5"}, "orderby": {"name"}, "sort": {"asc"}}, r.Query)
	assert.Equal(t, Query{Found: 2, Length: 2, Total: 2}, list.Query)
	assert.Equal(t, []AnnotationStream{
		{Name: "api-deploys", DisplayName: "Deploys to API"},
		{Name: "app-deploys", DisplayName: "Deploys to UX app"},
	}, list.Streams)
}

func TestAnnotationsListStreamsOptionsValidation(t *testing.T) {
	c, mt := newMockClient(t)
	aaNoCalls(mt)
	_, err := c.Annotations.List(context.Background(), &ListOptions{OrderBy: "updated_at"})
	aaValidation(t, err, "orderby")
	_, err = c.Annotations.List(context.Background(), &ListOptions{Sort: "up"})
	aaValidation(t, err, "sort")
	assert.Equal(t, 0, mt.GetTotalCallCount())
}

func TestAnnotationsAllStreamsPagesThroughTwoPages(t *testing.T) {
	c, mt := newMockClient(t)
	var queries []url.Values
	mt.RegisterResponder("GET", testBase+"/v1/annotations", func(req *http.Request) (*http.Response, error) {
		q := req.URL.Query()
		queries = append(queries, q)
		if q.Get("offset") == "" {
			return httpmock.NewStringResponse(200, `{"query":{"found":3,"length":2,"offset":0,"total":3},
				"annotations":[{"name":"a"},{"name":"b"}]}`), nil
		}
		return httpmock.NewStringResponse(200, `{"query":{"found":3,"length":2,"offset":2,"total":3},
			"annotations":[{"name":"c","display_name":"C"}]}`), nil
	})
	var names []string
	for s, err := range c.Annotations.All(context.Background(), &ListOptions{Name: "x"}) {
		require.NoError(t, err)
		names = append(names, s.Name)
	}
	assert.Equal(t, []string{"a", "b", "c"}, names)
	require.Len(t, queries, 2)
	assert.Equal(t, url.Values{"name": {"x"}}, queries[0])
	assert.Equal(t, url.Values{"name": {"x"}, "offset": {"2"}}, queries[1])
}

func TestAnnotationsAllStreamsStopsWhenCallerStops(t *testing.T) {
	c, mt := newMockClient(t)
	aaReply(t, mt, "GET", "/v1/annotations", 200, `{"query":{"found":300,"length":2,"offset":0,"total":300},
		"annotations":[{"name":"a"},{"name":"b"}]}`)
	for range c.Annotations.All(context.Background(), nil) {
		break
	}
	assert.Equal(t, 1, mt.GetTotalCallCount())
}

func TestAnnotationsGetStreamByTimeRangeAndSources(t *testing.T) {
	c, mt := newMockClient(t)
	seen := aaReply(t, mt, "GET", "/v1/annotations/api-deploys", 200, streamEventsBody)
	got, err := c.Annotations.Get(context.Background(), "api-deploys", &AnnotationSearch{
		StartTime: time.Unix(1234500000, 0),
		EndTime:   time.Unix(1234600000, 999),
		Sources:   []string{"db1.acme", "db2.acme"},
	})
	require.NoError(t, err)
	r := aaOne(t, seen, "GET", "/v1/annotations/api-deploys")
	assert.Equal(t, url.Values{
		"start_time": {"1234500000"},
		"end_time":   {"1234600000"},
		"sources[]":  {"db1.acme", "db2.acme"},
	}, r.Query)

	assert.Equal(t, "api-deploys", got.Name)
	assert.Equal(t, "Deploys to API", got.DisplayName)
	require.Len(t, got.Events, 2)
	un := got.Events[UnassignedSource]
	require.Len(t, un, 1)
	assert.Equal(t, AnnotationEvent{
		ID: 45, Title: "Deployed v91",
		StartTime: 1234567890,
		Links: []Link{
			{Label: "Github commit", Rel: "github", Href: "http://github.com/org/app/commit/01beaf"},
			{Label: "Jenkins CI build job", Rel: "jenkins", Href: "http://ci.acme.com/job/api/34"},
		},
	}, un[0])
	foo := got.Events["foo3.bar.com"]
	require.Len(t, foo, 2)
	assert.Equal(t, "foo3.bar.com", foo[0].Source)
	assert.Zero(t, foo[0].EndTime, "a null end_time is 0")
	assert.Equal(t, int64(1234567958), foo[1].EndTime)
	assert.Equal(t, "Chef migrated up to SHA 44a87f9", foo[1].Description)

	var ids []int64
	for _, e := range got.SortedEvents() {
		ids = append(ids, e.ID)
	}
	assert.Equal(t, []int64{45, 123, 1098}, ids, "by start time, then id")
}

func TestAnnotationsGetStreamByCount(t *testing.T) {
	c, mt := newMockClient(t)
	seen := aaReply(t, mt, "GET", "/v1/annotations/api-deploys", 200, `{"name":"api-deploys","display_name":"API","events":[{}]}`)
	got, err := c.Annotations.Get(context.Background(), "api-deploys", &AnnotationSearch{Count: 10})
	require.NoError(t, err)
	assert.Equal(t, url.Values{"count": {"10"}}, aaOne(t, seen, "GET", "/v1/annotations/api-deploys").Query)
	assert.Empty(t, got.SortedEvents())
	assert.NotNil(t, got.Events)
}

func TestAnnotationStreamEventsDecodesOtherShapes(t *testing.T) {
	for name, body := range map[string]string{
		"bare object":          `{"name":"s","events":{"web1":[{"id":2,"title":"b","start_time":20,"source":"web1"}],"unassigned":[{"id":1,"title":"a","start_time":10}]}}`,
		"flat list":            `{"name":"s","events":[{"id":2,"title":"b","start_time":20,"source":"web1"},{"id":1,"title":"a","start_time":10,"source":null}]}`,
		"two group objects":    `{"name":"s","events":[{"web1":[{"id":2,"title":"b","start_time":20,"source":"web1"}]},{"unassigned":[{"id":1,"title":"a","start_time":10}]}]}`,
		"string times and ids": `{"name":"s","events":[{"web1":[{"id":"2","title":"b","start_time":"20","source":"web1"}],"unassigned":[{"id":1,"title":"a","start_time":10}]}]}`,
	} {
		t.Run(name, func(t *testing.T) {
			var s AnnotationStreamEvents
			require.NoError(t, json.Unmarshal([]byte(body), &s))
			assert.Equal(t, []string{"a"}, titles(s.Events[UnassignedSource]))
			assert.Equal(t, []string{"b"}, titles(s.Events["web1"]))
			assert.Equal(t, []string{"a", "b"}, titles(s.SortedEvents()))
		})
	}
	var s AnnotationStreamEvents
	require.NoError(t, json.Unmarshal([]byte(`{"name":"s","events":null}`), &s))
	assert.Empty(t, s.Events)
	assert.Error(t, json.Unmarshal([]byte(`{"name":"s","events":[{"web1":[{"id":"x"}]}]}`), &s))
	assert.Error(t, json.Unmarshal([]byte(`{"name":"s","events":"nope"}`), &s))
}

func titles(evs []AnnotationEvent) []string {
	out := []string{}
	for _, e := range evs {
		out = append(out, e.Title)
	}
	return out
}

func TestAnnotationStreamEventsRoundTrip(t *testing.T) {
	var s AnnotationStreamEvents
	require.NoError(t, json.Unmarshal([]byte(streamEventsBody), &s))
	raw, err := json.Marshal(s)
	require.NoError(t, err)
	var again AnnotationStreamEvents
	require.NoError(t, json.Unmarshal(raw, &again))
	assert.Equal(t, s, again)
	assert.Contains(t, string(raw), `"events":[{`)
}

func TestAnnotationsGetStreamRequiresCountOrTimeRange(t *testing.T) {
	start := time.Unix(1234500000, 0)
	for _, tc := range []struct {
		name   string
		search *AnnotationSearch
		field  string
	}{
		{"nil", nil, "count"},
		{"empty", &AnnotationSearch{}, "count"},
		{"sources only", &AnnotationSearch{Sources: []string{"db1"}}, "count"},
		{"end only", &AnnotationSearch{EndTime: start}, "start_time"},
		{"negative count", &AnnotationSearch{Count: -1}, "count"},
		{"end before start", &AnnotationSearch{StartTime: start, EndTime: start.Add(-time.Second)}, "end_time"},
		{"empty source", &AnnotationSearch{Count: 1, Sources: []string{"db1", " "}}, "sources[1]"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, mt := newMockClient(t)
			aaNoCalls(mt)
			_, err := c.Annotations.Get(context.Background(), "api-deploys", tc.search)
			aaValidation(t, err, tc.field)
			assert.Equal(t, 0, mt.GetTotalCallCount())
		})
	}
}

func TestAnnotationsUpdateStream(t *testing.T) {
	c, mt := newMockClient(t)
	seen := aaReply(t, mt, "PUT", "/v1/annotations/api-deploys", 204, "")
	require.NoError(t, c.Annotations.Update(context.Background(), "api-deploys", &AnnotationStreamUpdate{DisplayName: Ptr("Deploys to API")}))
	assert.JSONEq(t, `{"display_name":"Deploys to API"}`, string(aaOne(t, seen, "PUT", "/v1/annotations/api-deploys").Body))

	// An empty display name is sent as given; an update without one has
	// nothing to send.
	seen = aaReply(t, mt, "PUT", "/v1/annotations/api-deploys", 204, "")
	require.NoError(t, c.Annotations.Update(context.Background(), "api-deploys", &AnnotationStreamUpdate{DisplayName: Ptr("")}))
	assert.JSONEq(t, `{"display_name":""}`, string(aaOne(t, seen, "PUT", "/v1/annotations/api-deploys").Body))
	aaValidation(t, c.Annotations.Update(context.Background(), "api-deploys", &AnnotationStreamUpdate{}), "display_name")
	aaValidation(t, c.Annotations.Update(context.Background(), "api-deploys", nil), "display_name")
	assert.Equal(t, 2, mt.GetTotalCallCount())
}

func TestAnnotationsDeleteStream(t *testing.T) {
	c, mt := newMockClient(t)
	seen := aaReply(t, mt, "DELETE", "/v1/annotations/api-deploys", 204, "")
	require.NoError(t, c.Annotations.Delete(context.Background(), "api-deploys"))
	assert.Empty(t, aaOne(t, seen, "DELETE", "/v1/annotations/api-deploys").Body)
}

func TestAnnotationsCreateEvent(t *testing.T) {
	c, mt := newMockClient(t)
	// The reference's create response.
	seen := aaReply(t, mt, "POST", "/v1/annotations/api-deploys", 201, `{
  "id": 123, "title": "My Annotation", "description": "Joe deployed v29 to metrics",
  "source": null, "start_time": 1234567890, "end_time": null, "links": []}`,
		"Location", "/v1/annotations/api-deploys/123")
	got, err := c.Annotations.CreateEvent(context.Background(), "api-deploys", &AnnotationEvent{
		Title:       "My Annotation",
		Description: "Joe deployed v29 to metrics",
		Source:      "foo3.bar.com",
		StartTime:   1234567890,
		Links:       []Link{{Label: "Metrics Gem", Href: "https://github.com/librato/librato-metrics", Rel: "github"}},
	})
	require.NoError(t, err)
	r := aaOne(t, seen, "POST", "/v1/annotations/api-deploys")
	assert.JSONEq(t, `{
  "title": "My Annotation",
  "description": "Joe deployed v29 to metrics",
  "source": "foo3.bar.com",
  "start_time": 1234567890,
  "links": [{"label": "Metrics Gem", "href": "https://github.com/librato/librato-metrics", "rel": "github"}]}`, string(r.Body))

	assert.Equal(t, &AnnotationEvent{
		ID: 123, Title: "My Annotation", Description: "Joe deployed v29 to metrics",
		StartTime: 1234567890, Links: []Link{},
	}, got)
}

func TestAnnotationsCreateEventMinimalAndIDFromLocation(t *testing.T) {
	c, mt := newMockClient(t)
	seen := aaReply(t, mt, "POST", "/v1/annotations/app-deploys", 201, "", "Location", "/v1/annotations/app-deploys/321")
	got, err := c.Annotations.CreateEvent(context.Background(), "app-deploys", &AnnotationEvent{Title: "Deployed v56"})
	require.NoError(t, err)
	assert.JSONEq(t, `{"title":"Deployed v56"}`, string(aaOne(t, seen, "POST", "/v1/annotations/app-deploys").Body))
	assert.Equal(t, int64(321), got.ID)
}

// TestAnnotationsCreateEventSendsNoID: an event read from the API can be
// created again; its id is the server's and is not sent.
func TestAnnotationsCreateEventSendsNoID(t *testing.T) {
	c, mt := newMockClient(t)
	seen := aaReply(t, mt, "POST", "/v1/annotations/app-deploys", 201, `{"id":9,"title":"again"}`)
	_, err := c.Annotations.CreateEvent(context.Background(), "app-deploys", &AnnotationEvent{ID: 45, Title: "again", StartTime: 100, EndTime: 160})
	require.NoError(t, err)
	assert.JSONEq(t, `{"title":"again","start_time":100,"end_time":160}`, string(aaOne(t, seen, "POST", "/v1/annotations/app-deploys").Body))
}

func TestAnnotationsCreateEventValidation(t *testing.T) {
	for _, tc := range []struct {
		name  string
		event *AnnotationEvent
		field string
	}{
		{"nil", nil, "title"},
		{"no title", &AnnotationEvent{Description: "x"}, "title"},
		{"blank title", &AnnotationEvent{Title: " \t"}, "title"},
		{"link without rel", &AnnotationEvent{Title: "t", Links: []Link{{Href: "https://x"}}}, "links[0].rel"},
		{"link without href", &AnnotationEvent{Title: "t", Links: []Link{{Rel: "ci"}}}, "links[0].href"},
		{"duplicate rel", &AnnotationEvent{Title: "t", Links: []Link{{Rel: "ci", Href: "https://a"}, {Rel: "ci", Href: "https://b"}}}, "links[1].rel"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, mt := newMockClient(t)
			aaNoCalls(mt)
			_, err := c.Annotations.CreateEvent(context.Background(), "deploys", tc.event)
			aaValidation(t, err, tc.field)
			assert.Equal(t, 0, mt.GetTotalCallCount())
		})
	}
}

func TestAnnotationsGetEvent(t *testing.T) {
	c, mt := newMockClient(t)
	seen := aaReply(t, mt, "GET", "/v1/annotations/api-deploys/189", 200, `{
  "id": 189, "title": "Deployed v91", "description": null,
  "start_time": 1234567890, "end_time": 1234567990, "source": null,
  "links": [{"label": "Github commit", "rel": "github", "href": "http://github.com/org/app/commit/01beaf"}]}`)
	e, err := c.Annotations.GetEvent(context.Background(), "api-deploys", 189)
	require.NoError(t, err)
	r := aaOne(t, seen, "GET", "/v1/annotations/api-deploys/189")
	assert.Empty(t, r.Query)
	assert.Equal(t, int64(189), e.ID)
	assert.Equal(t, "", e.Source)
	assert.Equal(t, "", e.Description)
	assert.Equal(t, int64(1234567890), e.StartTime)
	assert.Equal(t, int64(100), e.EndTime-e.StartTime)
	assert.Equal(t, []Link{{Label: "Github commit", Rel: "github", Href: "http://github.com/org/app/commit/01beaf"}}, e.Links)
}

func TestAnnotationsUpdateEventSendsOnlySetFields(t *testing.T) {
	end := int64(1234567958)
	for _, tc := range []struct {
		name   string
		update AnnotationEventUpdate
		want   string
	}{
		{"title", AnnotationEventUpdate{Title: Ptr("v92")}, `{"title":"v92"}`},
		{"empty description", AnnotationEventUpdate{Description: Ptr("")}, `{"description":""}`},
		{"end time", AnnotationEventUpdate{EndTime: &end}, `{"end_time":1234567958}`},
		{"clear end time", AnnotationEventUpdate{EndTime: Ptr(int64(0))}, `{"end_time":null}`},
		{"empty links", AnnotationEventUpdate{Links: []Link{}}, `{"links":[]}`},
		{"everything", AnnotationEventUpdate{Title: Ptr("t"), Description: Ptr("d"), EndTime: &end,
			Links: []Link{{Rel: "ci", Href: "https://ci/1"}}},
			`{"title":"t","description":"d","end_time":1234567958,"links":[{"rel":"ci","href":"https://ci/1"}]}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, mt := newMockClient(t)
			seen := aaReply(t, mt, "PUT", "/v1/annotations/api-deploys/45", 204, "")
			require.NoError(t, c.Annotations.UpdateEvent(context.Background(), "api-deploys", 45, &tc.update))
			assert.JSONEq(t, tc.want, string(aaOne(t, seen, "PUT", "/v1/annotations/api-deploys/45").Body))
		})
	}
}

func TestAnnotationsUpdateEventValidation(t *testing.T) {
	for _, tc := range []struct {
		name   string
		update *AnnotationEventUpdate
		field  string
	}{
		{"nil", nil, "event"},
		{"nothing set", &AnnotationEventUpdate{}, "event"},
		{"blank title", &AnnotationEventUpdate{Title: Ptr(" ")}, "title"},
		{"bad link", &AnnotationEventUpdate{Links: []Link{{Rel: "ci"}}}, "links[0].href"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, mt := newMockClient(t)
			aaNoCalls(mt)
			aaValidation(t, c.Annotations.UpdateEvent(context.Background(), "s", 1, tc.update), tc.field)
			assert.Equal(t, 0, mt.GetTotalCallCount())
		})
	}
}

func TestAnnotationsDeleteEvent(t *testing.T) {
	c, mt := newMockClient(t)
	seen := aaReply(t, mt, "DELETE", "/v1/annotations/api-deploys/45", 204, "")
	require.NoError(t, c.Annotations.DeleteEvent(context.Background(), "api-deploys", 45))
	assert.Empty(t, aaOne(t, seen, "DELETE", "/v1/annotations/api-deploys/45").Body)
}

func TestAnnotationsAddLink(t *testing.T) {
	c, mt := newMockClient(t)
	seen := aaReply(t, mt, "POST", "/v1/annotations/app-deploys/198/links", 201,
		`{"rel": "github", "label": "Github Commit", "href": "https://github.com/acme/app/commits/01beaf"}`,
		"Location", "/v1/annotations/app-deploys/198/links/github")
	link := Link{Rel: "github", Label: "Github Commit", Href: "https://github.com/acme/app/commits/01beaf"}
	got, err := c.Annotations.AddLink(context.Background(), "app-deploys", 198, &link)
	require.NoError(t, err)
	r := aaOne(t, seen, "POST", "/v1/annotations/app-deploys/198/links")
	assert.JSONEq(t, `{"rel":"github","label":"Github Commit","href":"https://github.com/acme/app/commits/01beaf"}`, string(r.Body))
	assert.Equal(t, &link, got)
}

func TestAnnotationsAddLinkWithoutResponseBody(t *testing.T) {
	c, mt := newMockClient(t)
	aaReply(t, mt, "POST", "/v1/annotations/app-deploys/198/links", 201, "")
	link := Link{Rel: "ci", Href: "https://ci/34"}
	got, err := c.Annotations.AddLink(context.Background(), "app-deploys", 198, &link)
	require.NoError(t, err)
	assert.Equal(t, &link, got)
}

func TestAnnotationsAddLinkValidation(t *testing.T) {
	c, mt := newMockClient(t)
	aaNoCalls(mt)
	_, err := c.Annotations.AddLink(context.Background(), "s", 1, &Link{Href: "https://x"})
	aaValidation(t, err, "rel")
	_, err = c.Annotations.AddLink(context.Background(), "s", 1, &Link{Rel: "x", Label: "no href"})
	aaValidation(t, err, "href")
	_, err = c.Annotations.AddLink(context.Background(), "s", 1, nil)
	aaValidation(t, err, "link")
	assert.Equal(t, 0, mt.GetTotalCallCount())
}

func TestAnnotationsDeleteLink(t *testing.T) {
	c, mt := newMockClient(t)
	seen := aaReply(t, mt, "DELETE", "/v1/annotations/app-deploys/198/links/github", 204, "")
	require.NoError(t, c.Annotations.DeleteLink(context.Background(), "app-deploys", 198, "github"))
	assert.Empty(t, aaOne(t, seen, "DELETE", "/v1/annotations/app-deploys/198/links/github").Body)
}

func TestAnnotationsEscapePathParameters(t *testing.T) {
	cases := []struct {
		stream, escaped string // escaped "" : refused before sending
	}{
		{"a/b", ""},
		{"..", ""},
		{".", ""},
		{"../api_tokens", ""},
		{`a\b`, ""},
		{"a\x1bb", ""},
		{"...", "..."},
		{"my deploys", "my%20deploys"},
		{"déploiements ✓", "d%C3%A9ploiements%20%E2%9C%93"},
		{"a?b#c%d", "a%3Fb%23c%25d"},
	}
	ctx := context.Background()
	calls := []struct {
		name   string
		suffix string
		call   func(c *Client, stream string) error
	}{
		{"GetStream", "", func(c *Client, s string) error {
			_, err := c.Annotations.Get(ctx, s, &AnnotationSearch{Count: 1})
			return err
		}},
		{"UpdateStream", "", func(c *Client, s string) error {
			return c.Annotations.Update(ctx, s, &AnnotationStreamUpdate{DisplayName: Ptr("x")})
		}},
		{"DeleteStream", "", func(c *Client, s string) error { return c.Annotations.Delete(ctx, s) }},
		{"CreateEvent", "", func(c *Client, s string) error {
			_, err := c.Annotations.CreateEvent(ctx, s, &AnnotationEvent{Title: "t"})
			return err
		}},
		{"GetEvent", "/7", func(c *Client, s string) error {
			_, err := c.Annotations.GetEvent(ctx, s, 7)
			return err
		}},
		{"UpdateEvent", "/7", func(c *Client, s string) error {
			return c.Annotations.UpdateEvent(ctx, s, 7, &AnnotationEventUpdate{Title: Ptr("t")})
		}},
		{"DeleteEvent", "/7", func(c *Client, s string) error { return c.Annotations.DeleteEvent(ctx, s, 7) }},
		{"AddLink", "/7/links", func(c *Client, s string) error {
			_, err := c.Annotations.AddLink(ctx, s, 7, &Link{Rel: "r", Href: "https://h"})
			return err
		}},
		{"DeleteLink", "/7/links/a%20b%3Fc", func(c *Client, s string) error { return c.Annotations.DeleteLink(ctx, s, 7, "a b?c") }},
	}
	for _, call := range calls {
		for _, tc := range cases {
			t.Run(call.name+"/"+tc.stream, func(t *testing.T) {
				c, mt := newMockClient(t)
				var seen []aaSeen
				mt.RegisterNoResponder(aaResponder(&seen, 200, `{}`))
				err := call.call(c, tc.stream)
				if tc.escaped == "" {
					var ve *ValidationError
					require.ErrorAs(t, err, &ve)
					assert.Equal(t, "name", ve.Field)
					assert.Empty(t, seen, "nothing was sent")
					return
				}
				require.NoError(t, err)
				require.Len(t, seen, 1)
				assert.Equal(t, "/prefix/v1/annotations/"+tc.escaped+call.suffix, seen[0].Path)
			})
		}
	}
	c, mt := newMockClient(t)
	err := c.Annotations.DeleteLink(ctx, "s", 7, "a/b")
	var ve *ValidationError
	require.ErrorAs(t, err, &ve)
	assert.Equal(t, "rel", ve.Field)
	assert.Zero(t, mt.GetTotalCallCount())
}

func TestAnnotationsRefuseEmptyPathParameters(t *testing.T) {
	c, mt := newMockClient(t)
	aaNoCalls(mt)
	ctx := context.Background()
	_, err := c.Annotations.Get(ctx, "", &AnnotationSearch{Count: 1})
	aaValidation(t, err, "name")
	aaValidation(t, c.Annotations.Delete(ctx, ""), "name")
	aaValidation(t, c.Annotations.Update(ctx, "", &AnnotationStreamUpdate{DisplayName: Ptr("x")}), "name")
	_, err = c.Annotations.GetEvent(ctx, "s", 0)
	aaValidation(t, err, "id")
	aaValidation(t, c.Annotations.DeleteEvent(ctx, "", 1), "name")
	aaValidation(t, c.Annotations.DeleteLink(ctx, "s", 1, ""), "rel")
	assert.Equal(t, 0, mt.GetTotalCallCount())
}

func TestAnnotationEventJSON(t *testing.T) {
	raw, err := json.Marshal(AnnotationEvent{Title: "t"})
	require.NoError(t, err)
	assert.JSONEq(t, `{"title":"t"}`, string(raw), "zero times and empty fields are left out")

	raw, err = json.Marshal(AnnotationEvent{ID: 3, Title: "t", StartTime: 100, EndTime: 160})
	require.NoError(t, err)
	assert.JSONEq(t, `{"id":3,"title":"t","start_time":100,"end_time":160}`, string(raw))

	var e AnnotationEvent
	require.NoError(t, json.Unmarshal(raw, &e))
	assert.Equal(t, AnnotationEvent{ID: 3, Title: "t", StartTime: 100, EndTime: 160}, e)

	// Nulls read as zero values (the pipeline decodes into a fresh event).
	e = AnnotationEvent{}
	require.NoError(t, json.Unmarshal([]byte(`{"id":4,"title":"u","start_time":1,"end_time":null,"source":null,"description":null,"links":null}`), &e))
	assert.Equal(t, AnnotationEvent{ID: 4, Title: "u", StartTime: 1}, e)

	assert.Error(t, json.Unmarshal([]byte(`{"start_time":"soon"}`), &e))
	assert.Error(t, json.Unmarshal([]byte(`{"start_time":1.5}`), &e))
}

func TestAnnotationsGuard(t *testing.T) {
	c, mt := newMockClient(t, WithRole(RoleViewOnly))
	aaNoCalls(mt)
	seen := aaReply(t, mt, "GET", "/v1/annotations/s", 200, `{"name":"s","events":[]}`)
	_, err := c.Annotations.Get(context.Background(), "s", &AnnotationSearch{Count: 1})
	require.NoError(t, err, "View Only may read streams")
	require.Len(t, *seen, 1)

	_, err = c.Annotations.CreateEvent(context.Background(), "s", &AnnotationEvent{Title: "t"})
	var fe *ErrForbiddenForRole
	require.ErrorAs(t, err, &fe)
	assert.Equal(t, "/v1/annotations/:name", fe.Endpoint)
	assert.Equal(t, 1, mt.GetTotalCallCount())
}

func TestAnnotationEndpointsMatchTheMatrix(t *testing.T) {
	for _, ep := range []*endpoint{epAnnotationsList, epAnnotationsGetStream, epAnnotationsCreateEvent,
		epAnnotationsUpdateStream, epAnnotationsDeleteStream, epAnnotationsGetEvent, epAnnotationsUpdateEvent,
		epAnnotationsDeleteEvent, epAnnotationsAddLink, epAnnotationsDeleteLink} {
		require.NotNil(t, ep.row, "%s %s", ep.method, ep.template)
		assert.Equal(t, ep.template, ep.row.Template, "%s %s", ep.method, ep.template)
	}
}
