package jobs

import (
	"context"
	"strings"
	"testing"

	"github.com/fasttrack-go/fasttrack/db"
	"github.com/fasttrack-go/fasttrack/internal/testdb"
)

// TestCompleteSQLFindsTheJobByID checks that the generic plan of
// completeSQL (the one a prepared statement settles on) finds the job
// through river_job's primary key, on a table without statistics (as
// before its first ANALYZE) and on one analyzed with many completed jobs
// and one running. With its state in an index condition, the planner may
// pick river_job_prioritized_fetching_index instead, whose 'running'
// entries include every job that ran since the last VACUUM: each
// completion then reads more of them, and a queue slows as it works.
func TestCompleteSQLFindsTheJobByID(t *testing.T) {
	x, _ := testdb.Open(t, testdb.New(t, db.Postgres))
	ctx := context.Background()
	if _, err := Migrate(ctx, x, db.Postgres, nil); err != nil {
		t.Fatal(err)
	}
	conn, err := x.Connx(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = conn.Close() }()
	for _, q := range []string{
		"SET plan_cache_mode = force_generic_plan",
		"PREPARE complete_job(bigint, timestamptz, int) AS " + completeSQL(""),
	} {
		if _, err := conn.ExecContext(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	plan := func() string {
		t.Helper()
		var lines []string
		if err := conn.SelectContext(ctx, &lines, "EXPLAIN EXECUTE complete_job(1, now(), 1)"); err != nil {
			t.Fatal(err)
		}
		return strings.Join(lines, "\n")
	}
	check := func(table string) {
		t.Helper()
		if p := plan(); !strings.Contains(p, "river_job_pkey") || strings.Contains(p, "prioritized_fetching") {
			t.Errorf("%s: the completion's generic plan does not find the job by its primary key:\n%s", table, p)
		}
	}
	check("no statistics")
	if _, err := conn.ExecContext(ctx, `INSERT INTO river_job (args, kind, max_attempts, queue, priority, state, attempt, scheduled_at, finalized_at)
		SELECT jsonb_build_object('n', g), 'effect', 25, 'default', 1,
			CASE WHEN g = 1 THEN 'running' ELSE 'completed' END::river_job_state, 1, now(),
			CASE WHEN g = 1 THEN NULL ELSE now() END
		FROM generate_series(1, 5000) g`); err != nil {
		t.Fatal(err)
	}
	if _, err := conn.ExecContext(ctx, "ANALYZE river_job"); err != nil {
		t.Fatal(err)
	}
	if _, err := conn.ExecContext(ctx, "DEALLOCATE complete_job; PREPARE complete_job(bigint, timestamptz, int) AS "+completeSQL("")); err != nil {
		t.Fatal(err)
	}
	check("analyzed, one job running")
}
