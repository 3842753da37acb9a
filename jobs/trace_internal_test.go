package jobs

import (
	"context"
	"testing"

	"github.com/fasttrack-go/fasttrack/db"
	"github.com/fasttrack-go/fasttrack/internal/testdb"
	"github.com/fasttrack-go/fasttrack/scope"
	"github.com/riverqueue/river/rivertype"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"
	"go.opentelemetry.io/otel/trace/noop"
)

// Without a TracerProvider, or with the no-op one, a client installs no
// tracer, leaves its transactions untraced, and starting an attempt's span
// costs no allocation; with an SDK provider, both are installed.
func TestTracingOffInstallsNothing(t *testing.T) {
	x, d := testdb.Open(t, testdb.New(t, db.SQLite))
	job := &rivertype.JobRow{ID: 1, Kind: "k", Queue: "q", Attempt: 1}
	for name, tp := range map[string]trace.TracerProvider{"nil": nil, "noop": noop.NewTracerProvider()} {
		c, err := New(x, d, scope.NewRegistry(), Options{TracerProvider: tp})
		if err != nil {
			t.Fatal(err)
		}
		if c.tracer != nil || c.tx.Tracer != nil {
			t.Errorf("%s provider: tracer %v, transaction tracer %v; want none", name, c.tracer, c.tx.Tracer)
		}
		ctx := context.Background()
		if n := testing.AllocsPerRun(100, func() {
			_, span := c.startSpan(ctx, job)
			endSpan(span, OutcomeCompleted, nil, false)
		}); n != 0 {
			t.Errorf("%s provider: %v allocations per attempt's span; want 0", name, n)
		}
	}
	c, err := New(x, d, scope.NewRegistry(), Options{TracerProvider: sdktrace.NewTracerProvider()})
	if err != nil {
		t.Fatal(err)
	}
	if c.tracer == nil || c.tx.Tracer == nil {
		t.Error("an SDK provider installs no tracer")
	}
}
