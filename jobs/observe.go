package jobs

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/riverqueue/river/rivertype"
)

// The outcomes of an attempt, the outcome label of fasttrack_jobs_total
// and the outcome attribute of the job log.
const (
	// OutcomeCompleted: the worker returned nil and the job completed.
	OutcomeCompleted = "completed"
	// OutcomeFailed: the worker returned an error, panicked or timed out,
	// or its transaction did not commit; River retries the job later.
	OutcomeFailed = "failed"
	// OutcomeDiscarded: as OutcomeFailed, on the job's last attempt; River
	// does not retry it.
	OutcomeDiscarded = "discarded"
	// OutcomeCancelled: the worker returned river.JobCancel, or the job was
	// cancelled while it ran (Client.River().JobCancel).
	OutcomeCancelled = "cancelled"
	// OutcomeSnoozed: the worker returned river.JobSnooze; River runs the
	// job again later without counting the attempt.
	OutcomeSnoozed = "snoozed"
	// OutcomeInterrupted: the client stopped and cancelled the running job
	// (see Client.Stop); River makes it available again without counting
	// the attempt.
	OutcomeInterrupted = "interrupted"
)

// observer logs the end of each attempt and counts it in the metrics.
type observer struct {
	log      *slog.Logger
	m        *metrics     // nil: no metrics
	stopping *atomic.Bool // set by Client.Stop before it cancels running jobs
}

// outcome classifies the end of an attempt of job that returned err (nil
// when it panicked, see panicked) in ctx.
func (o *observer) outcome(ctx context.Context, job *rivertype.JobRow, err error, panicked bool) string {
	switch {
	case panicked:
	case err == nil:
		return OutcomeCompleted
	case isErr[*rivertype.JobSnoozeError](err):
		return OutcomeSnoozed
	case isErr[*rivertype.JobCancelError](err):
		return OutcomeCancelled
	case ctx.Err() != nil && errors.Is(context.Cause(ctx), rivertype.ErrJobCancelledRemotely):
		return OutcomeCancelled
	case ctx.Err() != nil && !errors.Is(ctx.Err(), context.DeadlineExceeded) && o.stopping.Load():
		return OutcomeInterrupted
	}
	if job.Attempt >= job.MaxAttempts {
		return OutcomeDiscarded
	}
	return OutcomeFailed
}

// isErr reports whether err's chain has an E (errors.As), without making
// the attempt that completed pay for the target errors.As takes.
func isErr[E error](err error) bool {
	var target E
	return errors.As(err, &target)
}

// endMessage returns the log message of an attempt that ended with out:
// "job " and out, a constant.
func endMessage(out string) string {
	switch out {
	case OutcomeCompleted:
		return "job " + OutcomeCompleted
	case OutcomeFailed:
		return "job " + OutcomeFailed
	case OutcomeDiscarded:
		return "job " + OutcomeDiscarded
	case OutcomeCancelled:
		return "job " + OutcomeCancelled
	case OutcomeSnoozed:
		return "job " + OutcomeSnoozed
	}
	return "job " + OutcomeInterrupted
}

// end records an attempt of job that began at start and returned err, or
// panicked with p when panicked is set: one log line and the metrics. It
// returns the attempt's outcome.
func (o *observer) end(ctx context.Context, job *rivertype.JobRow, start time.Time, err error, panicked bool, p any) string {
	d := time.Since(start)
	out := o.outcome(ctx, job, err, panicked)
	if o.m != nil {
		o.m.observe(job.Kind, out, d)
	}
	level, msg := slog.LevelInfo, endMessage(out)
	switch {
	case panicked:
		level, msg = slog.LevelError, "job panicked"
		err = fmt.Errorf("panic: %v", p)
	case out == OutcomeFailed:
		level = slog.LevelWarn
	case out == OutcomeDiscarded:
		level = slog.LevelError
	}
	if !o.log.Enabled(ctx, level) {
		return out
	}
	attrs := []slog.Attr{
		slog.Int64("job_id", job.ID),
		slog.String("kind", job.Kind),
		slog.String("queue", job.Queue),
		slog.Int("attempt", job.Attempt),
		slog.Int("max_attempts", job.MaxAttempts),
		slog.String("outcome", out),
		slog.Duration("duration", d),
	}
	if err != nil {
		attrs = append(attrs, slog.String("error", err.Error()))
	}
	o.log.LogAttrs(ctx, level, msg, attrs...)
	return out
}
