package api_test

import (
	"database/sql"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/fasttrack-go/fasttrack/api"
	"github.com/fasttrack-go/fasttrack/db"
	"github.com/fasttrack-go/fasttrack/internal/testdb"
	"github.com/gin-gonic/gin"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
)

// A request retried because its COMMIT failed with a serialization
// failure (PostgreSQL SERIALIZABLE, write skew with a transaction that
// committed first) traces its first transaction as "retried", attempt 1,
// and the second as "committed", attempt 2.
func TestTraceCommitRetryOutcome(t *testing.T) {
	testdb.Each(t, func(t *testing.T, d db.Dialect, u string) {
		if d != db.Postgres {
			t.Skip("a COMMIT-time serialization failure is provoked on PostgreSQL")
		}
		x, _ := testdb.Open(t, u)
		x.MustExec("CREATE TABLE sk (id SERIAL PRIMARY KEY, class INT)")
		sr := tracetest.NewSpanRecorder()
		tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(sr))
		reg := compiledRegistry(t, api.TxProviders(db.PrimaryOnly(x, d), nil, nil)...)
		gin.SetMode(gin.TestMode)
		e := gin.New()
		e.Use(api.Trace(tp, nil, ""), api.NewMiddleware(reg, api.MiddlewareConfig{Tracer: db.NewTracer(tp, d)}).HandlerFunc())
		attempt := 0
		e.POST("/skew", api.Handle(func(c *gin.Context, q db.Querier) error {
			attempt++
			var n int
			if err := q.GetContext(c, &n, "SELECT COUNT(*) FROM sk WHERE class = 1"); err != nil {
				return err
			}
			if _, err := q.ExecContext(c, "INSERT INTO sk (class) VALUES (2)"); err != nil {
				return err
			}
			if attempt == 1 {
				// The other side of the skew commits first: this
				// transaction's COMMIT fails.
				tx2, err := x.BeginTxx(c, &sql.TxOptions{Isolation: sql.LevelSerializable})
				if err != nil {
					return err
				}
				tx2.MustExec("SELECT COUNT(*) FROM sk WHERE class = 2")
				tx2.MustExec("INSERT INTO sk (class) VALUES (1)")
				if err := tx2.Commit(); err != nil {
					t.Errorf("the other transaction's commit: %v", err)
				}
			}
			return nil
		}, api.WithTx(db.TxOptions{Isolation: sql.LevelSerializable}), api.WithRetry(3)))
		w := httptest.NewRecorder()
		e.ServeHTTP(w, httptest.NewRequest(http.MethodPost, "/skew", nil))
		if w.Code >= http.StatusBadRequest || attempt != 2 {
			t.Fatalf("status %d after %d attempts, want success after 2", w.Code, attempt)
		}
		var got []string
		for _, s := range sr.Ended() {
			if s.Name() == db.TxSpanName {
				got = append(got, attr(s, string(db.AttrTxAttempt))+" "+attr(s, string(db.AttrTxOutcome)))
			}
		}
		if len(got) != 2 || got[0] != "1 retried" || got[1] != "2 committed" {
			t.Errorf("db.tx spans (attempt outcome) = %q, want [1 retried, 2 committed]", got)
		}
	})
}
