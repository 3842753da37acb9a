package jobs

import (
	"context"
	"errors"

	"github.com/fasttrack-go/fasttrack/db"
	"github.com/riverqueue/river/rivertype"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	semconv "go.opentelemetry.io/otel/semconv/v1.40.0"
	"go.opentelemetry.io/otel/trace"
)

// TracerName is the instrumentation scope of the spans of job attempts.
const TracerName = "github.com/fasttrack-go/fasttrack/jobs"

// SpanNamePrefix begins the name of an attempt's span, followed by the
// job's kind: "job welcome".
const SpanNamePrefix = "job "

// The attributes of an attempt's span (see Options.TracerProvider).
const (
	// AttrJobID is the job's ID.
	AttrJobID = attribute.Key("fasttrack.job.id")
	// AttrJobKind is the job's kind.
	AttrJobKind = attribute.Key("fasttrack.job.kind")
	// AttrJobQueue is the job's queue.
	AttrJobQueue = attribute.Key("fasttrack.job.queue")
	// AttrJobAttempt is the attempt, from 1.
	AttrJobAttempt = attribute.Key("fasttrack.job.attempt")
	// AttrJobOutcome is how the attempt ended: OutcomeCompleted, ….
	AttrJobOutcome = attribute.Key("fasttrack.job.outcome")
)

// startSpan starts the span of an attempt of job on ctx and returns the
// context that carries it; without tracing, it returns ctx and nil.
func (c *Client) startSpan(ctx context.Context, job *rivertype.JobRow) (context.Context, trace.Span) {
	if c.tracer == nil {
		return ctx, nil
	}
	return c.tracer.Start(ctx, SpanNamePrefix+job.Kind,
		trace.WithSpanKind(trace.SpanKindConsumer),
		trace.WithAttributes(
			AttrJobID.Int64(job.ID),
			AttrJobKind.String(job.Kind),
			AttrJobQueue.String(job.Queue),
			AttrJobAttempt.Int(job.Attempt)))
}

// endSpan ends span, if any, with the attempt's outcome out; an attempt
// that failed, was discarded or interrupted, or panicked gets the error
// status and err's class (error.type), never err's message, which may
// quote values.
func endSpan(span trace.Span, out string, err error, panicked bool) {
	if span == nil {
		return
	}
	span.SetAttributes(AttrJobOutcome.String(out))
	switch {
	case panicked:
		setError(span, "panic")
	case out == OutcomeFailed || out == OutcomeDiscarded || out == OutcomeInterrupted:
		setError(span, errorClass(err))
	}
	span.End()
}

func setError(span trace.Span, class string) {
	span.SetAttributes(semconv.ErrorTypeKey.String(class))
	span.SetStatus(codes.Error, class)
}

// errorClass names err's class for a span, without its message.
func errorClass(err error) string {
	switch {
	case errors.Is(err, db.ErrNPlusOne):
		return "n_plus_one"
	case errors.Is(err, db.ErrUniqueViolation):
		return "unique_violation"
	case errors.Is(err, db.ErrForeignKeyViolation):
		return "foreign_key_violation"
	case errors.Is(err, db.ErrRetryable):
		return "retryable"
	case errors.Is(err, db.ErrConnLost):
		return "connection_lost"
	case errors.Is(err, db.ErrTxFinished):
		return "tx_finished"
	case errors.Is(err, context.DeadlineExceeded):
		return "deadline_exceeded"
	case errors.Is(err, context.Canceled):
		return "canceled"
	}
	return "error"
}
