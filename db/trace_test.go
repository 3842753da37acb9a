package db_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/fasttrack-go/fasttrack/db"
	"github.com/fasttrack-go/fasttrack/internal/testdb"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace/noop"
)

const traceSecret = "bound-value-c4e2"

// db.WithTx runs under a root span of its own, which holds the db.tx span,
// which holds every statement's; a context that carries a span keeps it as
// the parent. No span holds a bound value.
func TestWithTxTrace(t *testing.T) {
	testdb.Each(t, func(t *testing.T, d db.Dialect, u string) {
		x, _ := testdb.Open(t, u)
		x.MustExec("CREATE TABLE tr (v VARCHAR(64))")
		sr := tracetest.NewSpanRecorder()
		tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(sr))
		opts := db.TxOptions{Tracer: db.NewTracer(tp, d)}
		work := func(tx *db.Tx) error {
			if _, err := tx.ExecContext(context.Background(), tx.Rebind("INSERT INTO tr (v) VALUES (?)"), traceSecret); err != nil {
				return err
			}
			var n int
			return tx.GetContext(context.Background(), &n, tx.Rebind("SELECT COUNT(*) FROM tr WHERE v = ?"), traceSecret)
		}
		if err := db.WithTxOptions(context.Background(), x, opts, work); err != nil {
			t.Fatal(err)
		}
		spans := sr.Ended()
		if len(spans) != 4 {
			t.Fatalf("%d spans, want 4 (2 statements, db.tx, db.WithTx)", len(spans))
		}
		byName := map[string]sdktrace.ReadOnlySpan{}
		for _, s := range spans {
			byName[s.Name()] = s
			for _, kv := range s.Attributes() {
				if strings.Contains(kv.Value.Emit(), traceSecret) {
					t.Errorf("span %q attribute %s holds the bound value", s.Name(), kv.Key)
				}
			}
		}
		root, tx := byName[db.WithTxSpanName], byName[db.TxSpanName]
		if root == nil || tx == nil || byName["INSERT"] == nil || byName["SELECT"] == nil {
			t.Fatalf("spans %v", byName)
		}
		if root.Parent().IsValid() || tx.Parent().SpanID() != root.SpanContext().SpanID() {
			t.Errorf("db.WithTx parent %v, db.tx parent %v", root.Parent(), tx.Parent())
		}
		for _, n := range []string{"INSERT", "SELECT"} {
			if byName[n].Parent().SpanID() != tx.SpanContext().SpanID() {
				t.Errorf("%s span's parent is not db.tx", n)
			}
		}
		if q := attrOf(byName["INSERT"], "db.query.text"); q != x.Rebind("INSERT INTO tr (v) VALUES (?)") {
			t.Errorf("INSERT span's db.query.text %q", q)
		}
		if o := attrOf(tx, string(db.AttrTxOutcome)); o != "committed" {
			t.Errorf("outcome %q, want committed", o)
		}

		// Under a caller's span, and rolled back: no root span of its own.
		sr.Reset()
		ctx, parent := tp.Tracer("test").Start(context.Background(), "job")
		boom := errors.New("boom")
		if err := db.WithTxOptions(ctx, x, opts, func(tx *db.Tx) error { _ = work(tx); return boom }); !errors.Is(err, boom) {
			t.Fatal(err)
		}
		parent.End()
		for _, s := range sr.Ended() {
			switch s.Name() {
			case db.WithTxSpanName:
				t.Error("a db.WithTx span under the caller's span")
			case db.TxSpanName:
				if s.Parent().SpanID() != parent.SpanContext().SpanID() {
					t.Error("db.tx is not the caller span's child")
				}
				if o := attrOf(s, string(db.AttrTxOutcome)); o != "rolled_back" {
					t.Errorf("outcome %q, want rolled_back", o)
				}
			}
		}
	})
}

func attrOf(s sdktrace.ReadOnlySpan, key string) string {
	for _, kv := range s.Attributes() {
		if string(kv.Key) == key {
			return kv.Value.Emit()
		}
	}
	return ""
}

// An untraced transaction's statements allocate no more than without the
// tracing code: NewTracer of the no-op provider is nil, and a nil Tracer
// costs one check.
func TestUntracedStatementAllocations(t *testing.T) {
	x, d := testdb.Open(t, testdb.New(t, db.SQLite))
	if db.NewTracer(noop.NewTracerProvider(), d) != nil || db.NewTracer(nil, d) != nil {
		t.Fatal("NewTracer of no provider traces")
	}
	tx := db.NewTx(context.Background(), x, d, db.TxOptions{ReadOnly: true, Tracer: db.NewTracer(noop.NewTracerProvider(), d)})
	defer tx.Close()
	var n int
	if err := tx.GetContext(context.Background(), &n, "SELECT 1"); err != nil {
		t.Fatal(err)
	}
	plain := db.NewTx(context.Background(), x, d, db.TxOptions{ReadOnly: true})
	defer plain.Close()
	if err := plain.GetContext(context.Background(), &n, "SELECT 1"); err != nil {
		t.Fatal(err)
	}
	run := func(tx *db.Tx) func() {
		return func() { _ = tx.GetContext(context.Background(), &n, "SELECT 1") }
	}
	// The fewest of a few measures: the driver's own allocations vary by
	// one now and then (a pool refilled, a buffer grown).
	least := func(f func()) float64 {
		n := testing.AllocsPerRun(200, f)
		for range 4 {
			n = min(n, testing.AllocsPerRun(200, f))
		}
		return n
	}
	if a, b := least(run(tx)), least(run(plain)); a != b {
		t.Errorf("untraced statement: %v allocations, %v without a tracer", a, b)
	}
}
