package api

import (
	"cmp"
	"slices"
	"strconv"
	"time"
)

// job is a background job: batch metric updates and deletes, snapshots.
// It advances one step per read and performs its change on the read that
// completes it, or, when it has a due time, on the account's first
// request at or after it, read or not: a client that never polls its job
// still sees the change.
type job struct {
	id       int64
	state    string
	reads    int
	steps    int
	due      time.Time // zero: only reads finish it
	progress float64
	errors   map[string][]string
	output   any
	run      func() (map[string][]string, any)
}

type jobJSON struct {
	ID       int64               `json:"id"`
	State    string              `json:"state"`
	Progress *float64            `json:"progress,omitempty"`
	Output   any                 `json:"output,omitempty"`
	Errors   map[string][]string `json:"errors,omitempty"`
}

// json answers progress only while working and once complete, as the
// API's examples show it: a queued or failed job has none.
func (j *job) json() jobJSON {
	out := jobJSON{ID: j.id, State: j.state, Output: j.output, Errors: j.errors}
	if j.state == "working" || j.state == "complete" {
		p := j.progress
		out.Progress = &p
	}
	return out
}

func jobLocation(id int64) string { return "/v1/jobs/" + strconv.FormatInt(id, 10) }

// Job retention: an account keeps at most maxJobs jobs. Past that, the
// oldest finished jobs are forgotten (their GET answers 404) until
// keptJobs remain; unfinished jobs are always kept, since the read that
// finishes one performs its change.
const (
	maxJobs  = 1000
	keptJobs = 750
)

// newJob queues run as a job; with zero job steps it runs at once, and
// with a job delay (Env.JobDelay) it is due that long after now. The
// caller holds a.mu, as every later step does.
func (a *Account) newJob(now time.Time, run func() (map[string][]string, any)) *job {
	j := &job{id: a.env.nextID(), state: "queued", steps: a.env.JobSteps, run: run}
	a.jobs[j.id] = j
	if j.steps == 0 {
		j.finish()
	} else if d := a.env.JobDelay(); d > 0 {
		j.due = now.Add(d)
		if a.nextDue.IsZero() || j.due.Before(a.nextDue) {
			a.nextDue = j.due
		}
	}
	if len(a.jobs) > maxJobs {
		a.pruneJobs()
	}
	return j
}

// pruneJobs forgets the oldest finished jobs until keptJobs remain (or no
// finished job is left). Ids grow with time, so the smallest are oldest.
func (a *Account) pruneJobs() {
	var done []int64
	for id, j := range a.jobs {
		if j.state == "complete" || j.state == "failed" {
			done = append(done, id)
		}
	}
	slices.Sort(done)
	for _, id := range done {
		if len(a.jobs) <= keptJobs {
			return
		}
		delete(a.jobs, id)
	}
}

// finishDueJobs finishes the jobs due by now, in id order, as the API's
// workers would have; it costs nothing while none is due. The caller
// holds a.mu.
func (a *Account) finishDueJobs(now time.Time) {
	if a.nextDue.IsZero() || now.Before(a.nextDue) {
		return
	}
	var due []*job
	a.nextDue = time.Time{}
	for _, j := range a.jobs {
		if j.due.IsZero() || (j.state != "queued" && j.state != "working") {
			continue
		}
		if !now.Before(j.due) {
			due = append(due, j)
		} else if a.nextDue.IsZero() || j.due.Before(a.nextDue) {
			a.nextDue = j.due
		}
	}
	slices.SortFunc(due, func(x, y *job) int { return cmp.Compare(x.id, y.id) })
	for _, j := range due {
		j.finish()
	}
}

// advance is one read of the job.
func (j *job) advance() {
	if j.state != "queued" && j.state != "working" {
		return
	}
	j.reads++
	if j.reads >= j.steps {
		j.finish()
		return
	}
	j.state = "working"
	j.progress = float64(j.reads) * 100 / float64(j.steps)
}

func (j *job) finish() {
	errs, out := j.run()
	j.run = nil
	j.output = out
	if errs != nil {
		j.state = "failed"
		j.errors = errs
		return
	}
	j.state = "complete"
	j.progress = 100
}

// jobsGet answers GET /v1/jobs/:id, one step of the job: jobs start
// queued; reads before the Env.JobSteps-th answer working (with
// progress), that read performs the change and answers complete
// (progress 100) or failed (no progress, as the API's example shows).
// With 0 steps jobs complete when created; with a job delay they also
// complete by themselves once it has passed (finishDueJobs).
func (c *call) jobsGet() *Reply {
	j, rep := byID(c, c.a.jobs, 0, "job")
	if rep != nil {
		return rep
	}
	j.advance()
	return OK(j.json())
}

// --- snapshots ------------------------------------------------------------

// SnapshotImagePrefix is where the mock serves the rendered snapshot
// images, without authentication, as a public storage link would.
const SnapshotImagePrefix = "/mock/snapshots/"

type snapshot struct {
	id       int64
	jobID    int64
	origin   string
	duration int64
	end      time.Time
	created  time.Time
	updated  time.Time
	subject  any
	rendered bool
}

type snapshotJSON struct {
	Href      string  `json:"href"`
	JobHref   string  `json:"job_href"`
	ImageHref *string `json:"image_href"`
	Duration  int64   `json:"duration"`
	EndTime   string  `json:"end_time"`
	CreatedAt string  `json:"created_at"`
	UpdatedAt string  `json:"updated_at"`
	Subject   any     `json:"subject"`
}

const isoTime = "2006-01-02T15:04:05Z"

func (s *snapshot) json() snapshotJSON {
	out := snapshotJSON{
		Href:      s.origin + "/v1/snapshots/" + strconv.FormatInt(s.id, 10),
		JobHref:   s.origin + jobLocation(s.jobID),
		Duration:  s.duration,
		EndTime:   s.end.UTC().Format(isoTime),
		CreatedAt: s.created.UTC().Format(isoTime),
		UpdatedAt: s.updated.UTC().Format(isoTime),
		Subject:   s.subject,
	}
	if s.rendered {
		img := s.origin + SnapshotImagePrefix + strconv.FormatInt(s.id, 10) + ".png"
		out.ImageHref = &img
	}
	return out
}

// snapshotsCreate answers POST /v1/snapshots: 202, Location
// /v1/snapshots/:id, with the snapshot (href and job_href absolute,
// image_href null, times ISO-8601, subject echoed). Reading the snapshot
// also advances its job; once the job completes, image_href points at a
// 1x1 PNG the harness serves without authentication under
// SnapshotImagePrefix. The chart must exist (400 on subject.chart.id
// otherwise). A legacy subject.chart.source pattern is answered as
// sources [pattern], as the legacy example shows.
func (c *call) snapshotsCreate() *Reply {
	errs := perrs{}
	o := c.fields(errs)
	subject, ok := o.object("subject")
	if !ok && !o.has("subject") {
		o.invalid("subject", "is required: {\"chart\": {\"id\": ..., \"type\": ...}}")
	}
	var chartOut map[string]any
	if ok {
		ch, ok := subject.object("chart")
		if !ok && !subject.has("chart") {
			subject.invalid("chart", "is required")
		}
		if ok {
			chartOut = map[string]any{}
			if id, ok := ch.int("id"); ok {
				if c.a.charts[id] == nil {
					ch.invalid("id", "is invalid: no such chart")
				}
				chartOut["id"] = id
			} else if !ch.has("id") {
				ch.invalid("id", "is required")
			}
			typ := "line"
			if v, ok := oneOf(ch, "type", "line", "stacked", "bignumber"); ok {
				typ = v
			}
			chartOut["type"] = typ
			if tl, ok := ch.list("tags"); ok {
				tags := make([]any, 0, len(tl))
				for i, v := range tl {
					to, ok := ch.item("tags", i, v)
					if !ok {
						continue
					}
					name, _ := to.requiredStr("name")
					values, _ := to.strList("values")
					if values == nil {
						values = []string{}
					}
					tags = append(tags, map[string]any{"name": name, "values": values})
				}
				chartOut["tags"] = tags
			}
			if src, ok := ch.strList("sources"); ok {
				chartOut["sources"] = src
			} else if src, ok := ch.str("source"); ok {
				// The legacy request names one source pattern; answers
				// list it under sources, as the legacy example shows.
				chartOut["sources"] = []string{src}
			}
		}
	}
	duration := int64(3600)
	if d, ok := o.int("duration"); ok {
		if d <= 0 {
			o.invalid("duration", "must be a positive number of seconds")
		}
		duration = d
	}
	end := c.now
	if t, ok := o.isoTime("end_time"); ok {
		end = time.Unix(t, 0)
	}
	if rep := errs.reply(); rep != nil {
		return rep
	}
	s := &snapshot{
		id:       c.a.env.nextID(),
		origin:   c.origin(),
		duration: duration,
		end:      end,
		created:  c.now,
		updated:  c.now,
		subject:  map[string]any{"chart": chartOut},
	}
	j := c.a.newJob(c.now, func() (map[string][]string, any) {
		s.rendered = true
		s.updated = time.Now()
		return nil, nil
	})
	s.jobID = j.id
	c.a.snapshots[s.id] = s
	return acceptedReply("/v1/snapshots/"+strconv.FormatInt(s.id, 10), s.json())
}

// snapshotsGet answers a snapshot; reading it also advances its job, so
// polling the snapshot alone sees image_href appear.
func (c *call) snapshotsGet() *Reply {
	s, rep := byID(c, c.a.snapshots, 0, "snapshot")
	if rep != nil {
		return rep
	}
	if j := c.a.jobs[s.jobID]; j != nil {
		j.advance()
	}
	return OK(s.json())
}

// SnapshotRendered reports whether snapshot id exists and its image was
// rendered (its job completed).
func (a *Account) SnapshotRendered(id int64) bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.finishDueJobs(time.Now())
	sn := a.snapshots[id]
	return sn != nil && sn.rendered
}
