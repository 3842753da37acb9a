package fxmodules_test

import (
	"context"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/fasttrack-go/fasttrack/db"
	"github.com/fasttrack-go/fasttrack/fxmodules"
	"github.com/fasttrack-go/fasttrack/internal/testdb"
	"github.com/fasttrack-go/fasttrack/jobs"
	"github.com/fasttrack-go/fasttrack/scope"
	"github.com/jmoiron/sqlx"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/riverqueue/river"
	"go.uber.org/fx"
	"go.uber.org/fx/fxtest"
)

type takenArgs struct{}

func (takenArgs) Kind() string { return "taken" }

// TestJobsAttemptRunEnded: an attempt whose run of the job ended while it
// worked (here another run began, as when River's rescuer makes a stuck
// job available again and it is fetched) neither commits its writes nor
// completes the other run: it fails with jobs.ErrJobNotRunning, rolls
// back, and the job's next attempt commits the one effect.
func TestJobsAttemptRunEnded(t *testing.T) {
	jobsDialects(t, func(t *testing.T, d db.Dialect, u string) {
		var (
			x      *sqlx.DB
			client *jobs.Client
			reg    *scope.Registry
		)
		taken := jobs.Work2(func(ctx context.Context, job *river.Job[takenArgs], q db.Querier, pool *sqlx.DB) error {
			if job.Attempt == 1 {
				// River counts the runs of a job in attempt: one more
				// is another run, begun outside this attempt.
				if _, err := pool.ExecContext(ctx, pool.Rebind("UPDATE river_job SET attempt = attempt + 1 WHERE id = ?"), job.ID); err != nil {
					return err
				}
			}
			_, err := q.ExecContext(ctx, q.Rebind("INSERT INTO effects (job_id, n, attempt) VALUES (?, 0, ?)"), job.ID, job.Attempt)
			return err
		})
		app := fxtest.New(t, jobsApp(t, u, nil, fxmodules.JobWorkers(taken), fx.Populate(&x, &client, &reg)))
		events, cancel := client.River().Subscribe(river.EventKindJobCompleted, river.EventKindJobFailed)
		defer cancel()
		app.RequireStart()
		defer app.RequireStop()

		id := enqueue(t, reg, takenArgs{}, nil)
		ev := waitEvent(t, events, id)
		if ev.Kind != river.EventKindJobFailed {
			t.Fatalf("the attempt whose run ended: event %s; want job_failed", ev.Kind)
		}
		if errs := ev.Job.Errors; len(errs) != 1 || !strings.Contains(errs[0].Error, jobs.ErrJobNotRunning.Error()) {
			t.Fatalf("the attempt whose run ended failed with %+v; want jobs.ErrJobNotRunning", errs)
		}
		if n := count(t, x, "SELECT COUNT(*) FROM effects WHERE attempt = 1"); n != 0 {
			t.Fatalf("%d effects committed by the attempt whose run ended; want 0", n)
		}
		if ev := waitEvent(t, events, id); ev.Kind != river.EventKindJobCompleted || ev.Job.Attempt != 3 {
			t.Fatalf("event %s at attempt %d; want job_completed at attempt 3", ev.Kind, ev.Job.Attempt)
		}
		if n := count(t, x, "SELECT COUNT(*) FROM effects WHERE job_id = ? AND attempt = 3", id); n != 1 {
			t.Fatalf("%d effects of attempt 3; want 1", n)
		}
		if n := count(t, x, "SELECT COUNT(*) FROM effects"); n != 1 {
			t.Fatalf("%d effects; want exactly 1", n)
		}
	})
}

// TestJobsRiverSchema: with River's tables in a schema of their own
// (River's Config.Schema), MIGRATE_ON_START migrates them there, a
// worker's attempt completes its job there, in its transaction, the client
// lists its migrations there, and the queue depth is counted there.
func TestJobsRiverSchema(t *testing.T) {
	const schema = "ft_river"
	u := testdb.New(t, db.Postgres)
	y, _ := testdb.Open(t, u)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := y.ExecContext(ctx, "CREATE SCHEMA "+schema); err != nil {
		t.Fatal(err)
	}
	var (
		x      *sqlx.DB
		client *jobs.Client
		reg    *scope.Registry
		prom   *prometheus.Registry
	)
	cfg := testConfig(u)
	cfg.MigrateOnStart = true
	work := jobs.Work1(func(ctx context.Context, job *river.Job[takenArgs], q db.Querier) error {
		_, err := q.ExecContext(ctx, "INSERT INTO effects (job_id, n, attempt) VALUES ($1, 0, $2)", job.ID, job.Attempt)
		return err
	})
	app := fxtest.New(t,
		fxmodules.Framework(jobsMigrations()),
		fx.Replace(cfg),
		fx.Decorate(func() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }),
		fxmodules.Jobs(work),
		fxmodules.ConfigureJobs(func(o *jobs.Options) {
			o.River = func(c *river.Config) {
				c.Schema = schema
				c.FetchCooldown = 5 * time.Millisecond
				c.FetchPollInterval = 20 * time.Millisecond
				c.RetryPolicy = retryNow{}
			}
		}),
		fx.Populate(&x, &client, &reg, &prom))
	events, stop := client.River().Subscribe(river.EventKindJobCompleted, river.EventKindJobFailed)
	defer stop()
	app.RequireStart()
	defer app.RequireStop()

	id := enqueue(t, reg, takenArgs{}, nil)
	if ev := waitEvent(t, events, id); ev.Kind != river.EventKindJobCompleted || ev.Job.Attempt != 1 {
		t.Fatalf("event %s at attempt %d (%+v); want job_completed at attempt 1", ev.Kind, ev.Job.Attempt, ev.Job.Errors)
	}
	if n := count(t, x, "SELECT COUNT(*) FROM "+schema+".river_job WHERE id = $1 AND state = 'completed'", id); n != 1 {
		t.Fatalf("job %d is not completed in %s.river_job", id, schema)
	}
	if n := count(t, x, "SELECT COUNT(*) FROM effects WHERE job_id = $1", id); n != 1 {
		t.Fatalf("%d effects; want 1", n)
	}
	ms, err := client.Migrations(ctx)
	if err != nil || len(ms) == 0 {
		t.Fatalf("client's migrations: %v, %v", ms, err)
	}
	for _, m := range ms {
		if !m.Applied {
			t.Errorf("migration %d (%s) pending in %s", m.Version, m.Name, schema)
		}
	}
	if n := count(t, x, "SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = 'public' AND table_name = 'river_job'"); n != 0 {
		t.Errorf("river_job in the public schema too")
	}
	mfs := gather(t, prom)
	if m := series(mfs["fasttrack_jobs_queue_depth"], "queue", river.QueueDefault); m == nil || m.GetGauge().GetValue() != 0 {
		t.Errorf("fasttrack_jobs_queue_depth{queue=default} = %v; want 0, counted in %s.river_job", m, schema)
	}
}
