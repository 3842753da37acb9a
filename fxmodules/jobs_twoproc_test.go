package fxmodules_test

import (
	"context"
	"log/slog"
	"testing"
	"testing/fstest"
	"time"

	"github.com/fasttrack-go/fasttrack/db"
	"github.com/fasttrack-go/fasttrack/fxmodules"
	"github.com/fasttrack-go/fasttrack/internal/testdb"
	"github.com/fasttrack-go/fasttrack/jobs"
	"github.com/fasttrack-go/fasttrack/scope"
	"github.com/riverqueue/river"
	"go.uber.org/fx"
	"go.uber.org/fx/fxtest"
)

type onceArgs struct{}

func (onceArgs) Kind() string { return "once" }

// proc is one app process of the two-process test: its name, whether its
// worker blocks on every 100th job until its context ends (sending the
// job's id to blocked), and where it reports each committed run.
type proc struct {
	name    string
	block   bool
	blocked chan<- int64
	done    chan<- int64
}

// onceWorker records its run in runs, whose key is the job's id, and
// reports it after the commit.
func onceWorker() jobs.Worker {
	return jobs.Work2(func(ctx context.Context, job *river.Job[onceArgs], tx *db.Tx, p *proc) error {
		if p.block && job.ID%100 == 0 {
			select {
			case p.blocked <- job.ID:
			default:
			}
			<-ctx.Done()
			return ctx.Err()
		}
		if _, err := tx.ExecContext(ctx, "INSERT INTO runs (job_id, proc) VALUES ($1, $2)", job.ID, p.name); err != nil {
			return err
		}
		tx.AfterCommit(func(context.Context) { p.done <- job.ID })
		return nil
	})
}

// TestJobsTwoProcesses: two apps on one PostgreSQL database work one
// queue of 1,000 jobs; each job runs exactly once, and stopping one app
// while it runs jobs (its jobs' contexts cancelled) loses none: River makes
// them available again, and the other app runs them.
func TestJobsTwoProcesses(t *testing.T) {
	u := testdb.New(t, db.Postgres)
	migrations := fstest.MapFS{"postgres/00001_create_runs.sql": &fstest.MapFile{Data: []byte(
		"-- +goose Up\nCREATE TABLE runs (job_id BIGINT PRIMARY KEY, proc TEXT NOT NULL);\n-- +goose Down\nDROP TABLE runs;\n")}}
	const total = 1000
	var (
		done    = make(chan int64, 2*total)
		blocked = make(chan int64, 100)
		logsA   = &jobLog{}
	)
	newApp := func(p *proc, logs *jobLog, targets ...any) *fxtest.App {
		return fxtest.New(t,
			fxmodules.Framework(migrations),
			fx.Replace(testConfig(u)),
			fx.Decorate(func() *slog.Logger { return slog.New(slog.NewJSONHandler(logs, nil)) }),
			fx.Supply(p),
			fxmodules.Jobs(onceWorker()),
			fastJobs(),
			fx.Populate(targets...),
		)
	}
	var reg *scope.Registry
	a := newApp(&proc{name: "a", block: true, blocked: blocked, done: done}, logsA, &reg)
	b := newApp(&proc{name: "b", done: done}, &jobLog{})
	a.RequireStart()
	b.RequireStart()
	defer b.RequireStop()

	err := reg.Run(context.Background(), func(s *scope.Scope) error {
		en, err := scope.Get[*jobs.Enqueuer](s)
		if err != nil {
			return err
		}
		for range total {
			if _, err := en.Enqueue(context.Background(), onceArgs{}, nil); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}

	deadline := time.After(120 * time.Second)
	var stuck int64
	select {
	case stuck = <-blocked:
	case <-deadline:
		t.Fatal("app a ran no job within the deadline")
	}
	// a's job never returns on its own: a's stop cancels it.
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Second)
	defer cancel()
	if err := a.Stop(ctx); err != nil {
		t.Fatalf("stopping app a: %v", err)
	}

	seen := map[int64]bool{}
	for len(seen) < total {
		select {
		case id := <-done:
			if seen[id] {
				t.Fatalf("job %d ran twice", id)
			}
			seen[id] = true
		case <-deadline:
			t.Fatalf("%d of %d jobs ran within the deadline", len(seen), total)
		}
	}
	x, _ := testdb.Open(t, u)
	if n := count(t, x, "SELECT COUNT(*) FROM runs"); n != total {
		t.Fatalf("%d runs; want %d", n, total)
	}
	if n := count(t, x, "SELECT COUNT(*) FROM river_job WHERE state = 'completed' AND errors IS NULL"); n != total {
		t.Fatalf("%d jobs completed without an error; want %d (a second run would fail on the runs key)", n, total)
	}
	if n := count(t, x, "SELECT COUNT(*) FROM runs WHERE proc = 'a'"); n == 0 {
		t.Fatal("app a ran no job to completion: the test did not run two processes")
	}
	if n := count(t, x, "SELECT COUNT(*) FROM runs WHERE job_id = ? AND proc = 'b'", stuck); n != 1 {
		t.Fatalf("job %d, interrupted in app a, was not run by app b", stuck)
	}
	if recs := logsA.lines(t, "job interrupted", stuck); len(recs) != 1 || recs[0]["level"] != "INFO" {
		t.Fatalf("app a's log of job %d: %v; want one INFO \"job interrupted\" line", stuck, recs)
	}
}
