package cli

import (
	"context"
	"testing"

	"github.com/fasttrack-go/fasttrack/db"
	"go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	oteltrace "go.opentelemetry.io/otel/trace"
	"go.uber.org/fx"
)

// A command runs under a root span of its own, "cli NAME", which holds its
// transaction's span, which holds its statements'.
func TestCommandTrace(t *testing.T) {
	sqliteEnv(t)
	sr := tracetest.NewSpanRecorder()
	tp := trace.NewTracerProvider(trace.WithSpanProcessor(sr))
	a := testApp(Command("add-items", "Add items", addItems))
	a.Options = fx.Options(a.Options, fx.Provide(func() oteltrace.TracerProvider { return tp }))
	if _, err := run(t, context.Background(), a, "add-items", "traced"); err != nil {
		t.Fatal(err)
	}
	var root, tx oteltrace.SpanContext
	var stmts int
	byParent := map[oteltrace.SpanID][]string{}
	for _, s := range sr.Ended() {
		byParent[s.Parent().SpanID()] = append(byParent[s.Parent().SpanID()], s.Name())
		switch s.Name() {
		case CommandSpanPrefix + "add-items":
			root = s.SpanContext()
			if s.Parent().IsValid() {
				t.Errorf("the command's span has a parent: %v", s.Parent())
			}
		case db.TxSpanName:
			tx = s.SpanContext()
		}
	}
	if !root.IsValid() || !tx.IsValid() {
		t.Fatalf("spans by parent %v: want the command's root and a db.tx", byParent)
	}
	if got := byParent[root.SpanID()]; len(got) != 1 || got[0] != db.TxSpanName {
		t.Errorf("the command's span holds %v, want the db.tx span", got)
	}
	stmts = len(byParent[tx.SpanID()])
	if stmts == 0 {
		t.Error("the db.tx span holds no statement span")
	}
}
