package bench

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/fasttrack-go/fasttrack/api"
	"github.com/fasttrack-go/fasttrack/db"
	"github.com/gin-gonic/gin"
	"github.com/jmoiron/sqlx"
	"github.com/prometheus/client_golang/prometheus"
)

// BenchmarkPairedCPUPostgres measures CPU time, not wall time, per request
// of FastTrack configured as cmd/app runs it — the request timeout (30 s),
// Prometheus metrics, the request id, the access log at a level that drops
// it — and of the hand-written engine, on the
// PostgreSQL server at TEST_POSTGRES_URL (skipped when unset). Each request
// carries a cancellable context, as a served one does. The two run
// in alternating blocks of requests, and each block's process CPU time
// (getrusage: user + system, the garbage collector included) is charged to
// its side. Waiting for the database costs no CPU, so this isolates what
// each side's own code costs, which is what bounds throughput when the
// machine's CPUs are the limit. It reports ft-cpu-ns/op, hw-cpu-ns/op and
// their ratio, ft/hw-cpu. Garbage collection one side's block starts may
// run on into the other's: alternating the order spreads it over both,
// which pulls the ratio towards 1. B/op and allocs/op count both sides'
// requests of one iteration.
func BenchmarkPairedCPUPostgres(b *testing.B) {
	x, hx := serverDB(b, db.Postgres)
	ft := appEngine(b, x)
	hw := handEngine(hx)
	b.Run("GetUser", func(b *testing.B) { benchPairedCPU(b, ft, hw, getUserRequest, http.StatusOK) })
	b.Run("PostUser", func(b *testing.B) {
		benchPairedCPU(b, ft, hw, postUserRequest, http.StatusCreated)
		trimUsers(b, x)
	})
}

// appEngine is fastTrackEngine configured as cmd/app runs it: the typed
// forms, the statement cache, the request timeout (30 s), Prometheus
// metrics, the request id, the access log at a level that drops it, the
// body limit, and POST bound by api.BindJSON and retried up to 3 times.
func appEngine(b *testing.B, x *sqlx.DB) *gin.Engine {
	quiet := quietLogger()
	return fastTrackEngineWith(b, x, true, defaultStmtCache, api.MiddlewareConfig{
		TxTimeout: 30 * time.Second, Logger: quiet, AccessLog: quiet, Observer: newMetrics(b),
	}, 1<<20, 3)
}

// quietLogger logs warnings and errors only, to nowhere: the access log at
// the level cmd/app's load runs use drops every line.
func quietLogger() *slog.Logger {
	return slog.New(slog.NewTextHandler(io.Discard, &slog.HandlerOptions{Level: slog.LevelWarn}))
}

// newMetrics returns FastTrack's Prometheus observer on a registry of its own.
func newMetrics(b *testing.B) *api.Metrics {
	m, err := api.NewMetrics(prometheus.NewRegistry())
	if err != nil {
		b.Fatal(err)
	}
	return m
}

// serveCancellable serves r on e with a context that can be cancelled, as a
// server's request context can: database/sql watches such a context with a
// goroutine per transaction and per query, and both sides pay for it, as
// they do when served.
func serveCancellable(e http.Handler, r *http.Request) *httptest.ResponseRecorder {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	w := httptest.NewRecorder()
	e.ServeHTTP(w, r.WithContext(ctx))
	return w
}

// alternately runs a block of each side, FastTrack first when k is even and
// the hand-written side first otherwise, and adds each block's CPU time to
// its side's total.
func alternately(k int, cft, chw *time.Duration, ft, hw func() time.Duration) {
	if k%2 == 0 {
		*cft += ft()
		*chw += hw()
	} else {
		*chw += hw()
		*cft += ft()
	}
}

// reportCPU reports each side's CPU time per request, in ft-cpu-ns/<per> and
// hw-cpu-ns/<per>, and their ratio, ft/hw-cpu; nothing when the platform
// does not measure CPU time.
func reportCPU(b *testing.B, cft, chw time.Duration, n int, per string) {
	if cft == 0 && chw == 0 {
		return
	}
	b.ReportMetric(float64(cft.Nanoseconds())/float64(n), "ft-cpu-ns/"+per)
	b.ReportMetric(float64(chw.Nanoseconds())/float64(n), "hw-cpu-ns/"+per)
	if chw > 0 {
		b.ReportMetric(float64(cft)/float64(chw), "ft/hw-cpu")
	}
}

// cpuBlock is how many requests a side serves between two readings of the
// process's CPU time: enough that the kernel's accounting granularity is
// small against the block.
const cpuBlock = 200

func benchPairedCPU(b *testing.B, ft, hw *gin.Engine, req func(i int) *http.Request, status int) {
	var cft, chw time.Duration
	block := func(e *gin.Engine, from, n int) func() time.Duration {
		return func() time.Duration {
			start := cpuTime()
			for i := from; i < from+n; i++ {
				if w := serveCancellable(e, req(i)); w.Code != status {
					b.Fatalf("status %d, want %d: %s", w.Code, status, w.Body)
				}
			}
			return cpuTime() - start
		}
	}
	b.ReportAllocs()
	for i, k := 0, 0; i < b.N; k++ {
		n := min(cpuBlock, b.N-i)
		alternately(k, &cft, &chw, block(ft, i, n), block(hw, i, n))
		i += n
	}
	reportCPU(b, cft, chw, b.N, "op")
}
