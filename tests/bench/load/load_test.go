package load_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/fasttrack-go/fasttrack/db"
	"github.com/fasttrack-go/fasttrack/internal/testdb"
	"github.com/fasttrack-go/fasttrack/tests/bench/load"
)

const (
	seedUsers = 100
	clients   = 64
)

// loadDuration is LOAD_DURATION, default 10s.
func loadDuration(t *testing.T) time.Duration {
	t.Helper()
	v := os.Getenv("LOAD_DURATION")
	if v == "" {
		return 10 * time.Second
	}
	d, err := time.ParseDuration(v)
	if err != nil || d <= 0 {
		t.Fatalf("LOAD_DURATION=%q: want a positive Go duration such as 5s", v)
	}
	return d
}

// TestLoad builds the reference binary, and on SQLite (a temporary file) and
// PostgreSQL (a fresh database on TEST_POSTGRES_URL) runs it, seeds 100
// users, drives 64 concurrent clients of the mixed workload for
// LOAD_DURATION (10s), then checks that every answer was the expected one,
// that no request failed on a lock, and that the table holds exactly the
// seeded users plus every user answered 201.
func TestLoad(t *testing.T) {
	if testing.Short() {
		t.Skip("a load test: skipped with -short")
	}
	duration := loadDuration(t)
	root, err := load.ModuleRoot()
	if err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(t.TempDir(), "app")
	ctx := context.Background()
	start := time.Now()
	if err := load.Build(ctx, root, "./cmd/app", bin); err != nil {
		t.Fatal(err)
	}
	t.Logf("built ./cmd/app in %s", time.Since(start).Round(time.Millisecond))

	for _, d := range []db.Dialect{db.SQLite, db.Postgres} {
		t.Run(d.Name(), func(t *testing.T) {
			runLoad(t, bin, d, duration)
		})
	}
}

func runLoad(t *testing.T, bin string, d db.Dialect, duration time.Duration) {
	ctx := context.Background()
	databaseURL := testdb.New(t, d)
	srv, err := load.StartServer(ctx, load.ServerConfig{
		Name:   "app-" + d.Name(),
		Binary: bin,
		Env:    []string{"DATABASE_URL=" + databaseURL, "LOG_LEVEL=warn"},
		LogDir: t.TempDir(),
	})
	if err != nil {
		t.Fatal(err)
	}
	// Registered after testdb.New's cleanup, so it runs before the database
	// is dropped.
	t.Cleanup(func() {
		if err := srv.Stop(10 * time.Second); err != nil {
			t.Errorf("stopping the app: %v", err)
		}
	})

	hc := load.NewClient(clients)
	defer hc.CloseIdleConnections()
	runID := load.NewRunID()
	ids, err := load.Seed(ctx, hc, srv.URL, seedUsers, runID)
	if err != nil {
		t.Fatal(err)
	}

	res, err := load.Run(ctx, load.Options{
		BaseURL:  srv.URL,
		Clients:  clients,
		Duration: duration,
		IDs:      ids,
		Client:   hc,
		RunID:    runID,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%s: %s", d, res.Summary())
	t.Logf("%s: throughput %.0f req/s, p50 %s, p99 %s", d, res.Throughput(), load.FormatLatency(res.P(50)), load.FormatLatency(res.P(99)))
	for op := range load.NumOps {
		r := res.Ops[op]
		t.Logf("  %-20s %7d requests, p50 %s, p99 %s, %d unexpected", op, r.Requests,
			load.FormatLatency(load.Percentile(r.Latencies, 50)), load.FormatLatency(load.Percentile(r.Latencies, 99)), r.Unexpected)
	}

	for _, s := range res.Samples {
		t.Logf("sample: %s", s)
	}
	if res.Unexpected > 0 {
		t.Errorf("%d answers had an unexpected status (statuses: %v)", res.Unexpected, res.Status)
	}
	if res.TransportErrors > 0 {
		t.Errorf("%d requests got no answer", res.TransportErrors)
	}
	if res.BadBodies > 0 {
		t.Errorf("%d 201 answers had no id", res.BadBodies)
	}
	if res.Ops[load.OpCreate].Requests == 0 || len(res.Latencies) == 0 {
		t.Errorf("the run sent %d POSTs and got %d answers: nothing was measured", res.Ops[load.OpCreate].Requests, len(res.Latencies))
	}

	if exited, err := srv.Exited(); exited {
		t.Errorf("the app exited during the run: %v", err)
	}
	log, err := srv.Stderr()
	if err != nil {
		t.Fatal(err)
	}
	if busy := load.BusyLines(log); len(busy) > 0 {
		t.Errorf("the app's stderr reports lock contention %d times, such as:\n%s", len(busy), strings.Join(busy[:min(len(busy), 5)], "\n"))
	}
	if strings.TrimSpace(log) != "" {
		t.Logf("the app's stderr (LOG_LEVEL=warn):\n%s", tail(log, 3000))
	}

	check, err := load.Verify(ctx, databaseURL, seedUsers, res.Created)
	if err != nil {
		t.Error(err)
	}
	t.Logf("%s: %d users rows = %d seeded + %d created", d, check.Rows, seedUsers, len(res.Created))
}

func tail(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return "…" + s[len(s)-n:]
}
