package librato

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"
)

// JobsService reads and waits for the background jobs that batch metric
// updates and deletes, and snapshots, start.
type JobsService service

var epJobsGet = newEndpoint("GET", "/v1/jobs/:id")

// Job states. Queued and working jobs are still in progress; the others are
// final.
const (
	JobQueued   = "queued"
	JobWorking  = "working"
	JobComplete = "complete"
	JobFailed   = "failed"
	JobCanceled = "canceled"
)

// Job is a background job. Only ID and State are always present.
type Job struct {
	ID       int64               `json:"id"`
	State    string              `json:"state"`
	Progress *float64            `json:"progress,omitempty"` // 0 to 100
	Output   json.RawMessage     `json:"output,omitempty"`
	Errors   map[string][]string `json:"errors,omitempty"` // per parameter, like errors.params
}

// Done reports whether the job reached a final state.
func (j *Job) Done() bool {
	return j.State == JobComplete || j.State == JobFailed || j.State == JobCanceled
}

// JobError is a job that ended failed or canceled.
type JobError struct {
	Job  *Job
	auth *secret // redacts the server's text, which may echo the token
}

// Error names the job, its state and its errors.
func (e *JobError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "librato: job %d ended %s", e.Job.ID, e.Job.State)
	sep := ": "
	for k, v := range e.Job.Errors {
		b.WriteString(sep + k + " " + strings.Join(v, ", "))
		sep = "; "
	}
	return escapeText(e.auth.redact(b.String()))
}

// Get returns job id as it stands.
func (s *JobsService) Get(ctx context.Context, id int64) (*Job, error) {
	return callInto[Job](ctx, s.client, &request{ep: epJobsGet, params: []string{idParam(id)}})
}

// Wait polls job id, backing off from 100ms to 5s between reads, until it
// reaches a final state or ctx ends. A complete job returns nil error; a
// failed or canceled one returns the job and a *JobError.
func (s *JobsService) Wait(ctx context.Context, id int64) (*Job, error) {
	wait := 100 * time.Millisecond
	for {
		job, err := s.Get(ctx, id)
		if err != nil {
			return nil, err
		}
		if job.Done() {
			if job.State != JobComplete {
				return job, &JobError{Job: job, auth: s.client.auth}
			}
			return job, nil
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return job, fmt.Errorf("librato: waiting for job %d (state %s): %w", id, s.client.auth.redact(job.State), ctx.Err())
		case <-t.C:
		}
		wait = min(wait*2, 5*time.Second)
	}
}
