package fxmodules_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/fasttrack-go/fasttrack/db"
	"github.com/fasttrack-go/fasttrack/fxmodules"
	"github.com/fasttrack-go/fasttrack/jobs"
	"github.com/fasttrack-go/fasttrack/scope"
	"github.com/riverqueue/river"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"
	"go.uber.org/fx"
	"go.uber.org/fx/fxtest"
)

// tracedArgs is a job that inserts one effects row with the bound value N,
// then fails its first attempts (up to Fail) with an error quoting Secret.
type tracedArgs struct {
	N      int    `json:"n"`
	Fail   int    `json:"fail"`
	Secret string `json:"secret"`
}

func (tracedArgs) Kind() string { return "traced" }

func tracedWorker() jobs.Worker {
	return jobs.Work1(func(ctx context.Context, job *river.Job[tracedArgs], q db.Querier) error {
		if _, err := q.ExecContext(ctx, q.Rebind("INSERT INTO effects (job_id, n, attempt) VALUES (?, ?, ?)"),
			job.ID, job.Args.N, job.Attempt); err != nil {
			return err
		}
		if job.Attempt <= job.Args.Fail {
			return fmt.Errorf("attempt %d fails, quoting %s", job.Attempt, job.Args.Secret)
		}
		return nil
	})
}

// TestJobsTraces: with the app's TracerProvider, each attempt is a root
// span "job traced" with the job's id, kind, queue and attempt, holding its
// db.tx span (with the attempt), which holds the INSERT's span; the failed
// attempt's span has the error status and the error's class only; no bound
// value nor the error's message appears in any span.
func TestJobsTraces(t *testing.T) {
	const secret, bound = "zebra-secret-7431", 918273645
	jobsDialects(t, func(t *testing.T, d db.Dialect, u string) {
		sr := tracetest.NewSpanRecorder()
		tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(sr))
		var (
			client *jobs.Client
			reg    *scope.Registry
		)
		app := fxtest.New(t, jobsApp(t, u, nil,
			fxmodules.JobWorkers(tracedWorker()),
			fx.Provide(func() trace.TracerProvider { return tp }),
			fx.Populate(&client, &reg)))
		events, cancel := client.River().Subscribe(river.EventKindJobCompleted, river.EventKindJobFailed)
		defer cancel()
		app.RequireStart()
		defer app.RequireStop()
		id := enqueue(t, reg, tracedArgs{N: bound, Fail: 1, Secret: secret}, &river.InsertOpts{MaxAttempts: 3})
		if ev := waitEvent(t, events, id); ev.Kind != river.EventKindJobFailed {
			t.Fatalf("attempt 1: event %s; want job_failed", ev.Kind)
		}
		if ev := waitEvent(t, events, id); ev.Kind != river.EventKindJobCompleted {
			t.Fatalf("attempt 2: event %s; want job_completed", ev.Kind)
		}

		spans := sr.Ended()
		byParent := map[trace.SpanID][]sdktrace.ReadOnlySpan{}
		jobSpans := map[int64]sdktrace.ReadOnlySpan{}
		for _, s := range spans {
			byParent[s.Parent().SpanID()] = append(byParent[s.Parent().SpanID()], s)
			if s.Name() == jobs.SpanNamePrefix+"traced" {
				jobSpans[attr(s, jobs.AttrJobAttempt).AsInt64()] = s
			}
			for _, kv := range s.Attributes() {
				if v := kv.Value.Emit(); strings.Contains(v, secret) || strings.Contains(v, fmt.Sprint(bound)) {
					t.Errorf("span %s: attribute %s = %q holds a bound value or the error's message", s.Name(), kv.Key, v)
				}
			}
			if strings.Contains(s.Status().Description, secret) || len(s.Events()) > 0 {
				t.Errorf("span %s: status %q, events %v: the error's message is recorded", s.Name(), s.Status().Description, s.Events())
			}
		}
		if len(jobSpans) != 2 {
			t.Fatalf("job spans by attempt: %v; want attempts 1 and 2", jobSpans)
		}
		for attempt, js := range jobSpans {
			if js.Parent().IsValid() || js.SpanKind() != trace.SpanKindConsumer {
				t.Errorf("attempt %d: parent %v, kind %v; want a root consumer span", attempt, js.Parent(), js.SpanKind())
			}
			if attr(js, jobs.AttrJobID).AsInt64() != id || attr(js, jobs.AttrJobKind).AsString() != "traced" ||
				attr(js, jobs.AttrJobQueue).AsString() != river.QueueDefault {
				t.Errorf("attempt %d: attributes %v", attempt, js.Attributes())
			}
			txs := byParent[js.SpanContext().SpanID()]
			if len(txs) != 1 || txs[0].Name() != db.TxSpanName || attr(txs[0], db.AttrTxAttempt).AsInt64() != attempt {
				t.Fatalf("attempt %d: children %v; want one db.tx span of attempt %d", attempt, names(txs), attempt)
			}
			stmts := byParent[txs[0].SpanContext().SpanID()]
			if len(stmts) < 1 || stmts[0].Name() != "INSERT" {
				t.Errorf("attempt %d: db.tx children %v; want the INSERT first", attempt, names(stmts))
			}
		}
		if failed := jobSpans[1]; failed.Status().Code != codes.Error || failed.Status().Description != "error" ||
			attr(failed, jobs.AttrJobOutcome).AsString() != jobs.OutcomeFailed {
			t.Errorf("failed attempt: status %v, attributes %v; want the error status, class error, outcome failed", failed.Status(), failed.Attributes())
		}
		if done := jobSpans[2]; done.Status().Code != codes.Unset || attr(done, jobs.AttrJobOutcome).AsString() != jobs.OutcomeCompleted {
			t.Errorf("completed attempt: status %v, attributes %v", done.Status(), done.Attributes())
		}
	})
}

// attr returns s's attribute k (an empty value when it has none).
func attr(s sdktrace.ReadOnlySpan, k attribute.Key) attribute.Value {
	for _, kv := range s.Attributes() {
		if kv.Key == k {
			return kv.Value
		}
	}
	return attribute.Value{}
}

func names(spans []sdktrace.ReadOnlySpan) []string {
	out := make([]string, len(spans))
	for i, s := range spans {
		out[i] = s.Name()
	}
	return out
}
