package bench

import (
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/fasttrack-go/fasttrack/api"
	"github.com/fasttrack-go/fasttrack/db"
)

// concurrentClients and concurrentRequests shape BenchmarkConcurrentCPUPostgres:
// as many requests in flight as the load benchmark's clients, and enough
// requests per block that starting and stopping the clients is small
// against it.
const (
	concurrentClients  = 64
	concurrentRequests = 3000
)

// BenchmarkConcurrentCPUPostgres is BenchmarkPairedCPUPostgres with 64
// requests in flight instead of one, GET /users/:id on the PostgreSQL server
// at TEST_POSTGRES_URL (skipped when unset), over the pool's 10 connections.
// One request at a time, FastTrack costs a few percent more CPU than the
// hand-written engine; with the pool contended and the CPUs shared with
// PostgreSQL, as when the binaries are served under load, the gap is several
// times larger, and this reproduces it in process. Each iteration runs a
// block of requests on each engine, the order alternating, and charges each
// block's process CPU time to its engine. It reports ft-cpu-ns/req,
// hw-cpu-ns/req and ft/hw-cpu. The variants take FastTrack's optional
// per-request features away one at a time: app is configured as cmd/app
// runs it (see appEngine), no-timeout drops the transaction timeout,
// no-observe the request id, access log and metrics, and bare all of them
// with the body limit and the retry.
func BenchmarkConcurrentCPUPostgres(b *testing.B) {
	x, hx := serverDB(b, db.Postgres)
	hw := handEngine(hx)
	quiet := quietLogger()
	for _, v := range []struct {
		name string
		ft   func() http.Handler
	}{
		{"app", func() http.Handler { return appEngine(b, x) }},
		{"no-timeout", func() http.Handler {
			return fastTrackEngineWith(b, x, true, defaultStmtCache, api.MiddlewareConfig{Logger: quiet, AccessLog: quiet, Observer: newMetrics(b)}, 1<<20, 3)
		}},
		{"no-observe", func() http.Handler {
			return fastTrackEngineWith(b, x, true, defaultStmtCache, api.MiddlewareConfig{TxTimeout: 30 * time.Second, Logger: quiet}, 1<<20, 3)
		}},
		{"bare", func() http.Handler {
			return fastTrackEngineWith(b, x, true, defaultStmtCache, api.MiddlewareConfig{Logger: quiet}, 0, 1)
		}},
	} {
		b.Run("GetUser/"+v.name, func(b *testing.B) { benchConcurrentCPU(b, v.ft(), hw, getUserRequest) })
	}
}

func benchConcurrentCPU(b *testing.B, ft, hw http.Handler, req func(i int) *http.Request) {
	var cft, chw time.Duration
	for k := 0; k < b.N; k++ {
		alternately(k, &cft, &chw,
			func() time.Duration { return serveConcurrently(b, ft, req) },
			func() time.Duration { return serveConcurrently(b, hw, req) })
	}
	reportCPU(b, cft, chw, b.N*concurrentRequests, "req")
}

// serveConcurrently serves concurrentRequests requests on e from
// concurrentClients goroutines and returns the process CPU time it took.
// A failed request stops the benchmark.
func serveConcurrently(b *testing.B, e http.Handler, req func(i int) *http.Request) time.Duration {
	start := cpuTime()
	var next atomic.Int64
	var failed atomic.Value
	var wg sync.WaitGroup
	for range concurrentClients {
		wg.Go(func() {
			for {
				i := int(next.Add(1))
				if i > concurrentRequests || failed.Load() != nil {
					return
				}
				if w := serveCancellable(e, req(i)); w.Code != http.StatusOK {
					failed.CompareAndSwap(nil, w.Body.String())
				}
			}
		})
	}
	wg.Wait()
	if msg := failed.Load(); msg != nil {
		b.Fatalf("a request failed: %v", msg)
	}
	return cpuTime() - start
}
