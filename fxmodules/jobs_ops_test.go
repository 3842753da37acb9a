package fxmodules_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"

	"github.com/fasttrack-go/fasttrack/config"
	"github.com/fasttrack-go/fasttrack/db"
	"github.com/fasttrack-go/fasttrack/fxmodules"
	"github.com/fasttrack-go/fasttrack/jobs"
	"github.com/fasttrack-go/fasttrack/scope"
	"github.com/jmoiron/sqlx"
	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"github.com/riverqueue/river"
	"go.uber.org/fx"
	"go.uber.org/fx/fxtest"
)

// jobLog is a JSON log the app writes to and the test reads.
type jobLog struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *jobLog) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

// lines returns the log's records whose msg is msg and whose job_id is id.
func (l *jobLog) lines(t *testing.T, msg string, id int64) []map[string]any {
	t.Helper()
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []map[string]any
	for _, line := range strings.Split(strings.TrimSpace(l.buf.String()), "\n") {
		var rec map[string]any
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Fatalf("log line %q: %v", line, err)
		}
		if rec["msg"] == msg && rec["job_id"] == float64(id) {
			out = append(out, rec)
		}
	}
	return out
}

// opsApp is a test app on cfg with the effect worker, fast polling, and its
// logs written as JSON to logs.
func opsApp(cfg config.Config, logs *jobLog, states chan<- seen, extra ...fx.Option) fx.Option {
	return fx.Options(
		fxmodules.Framework(jobsMigrations()),
		fx.Replace(cfg),
		fx.Decorate(func() *slog.Logger { return slog.New(slog.NewJSONHandler(logs, nil)) }),
		fxmodules.Jobs(effectWorker(states)),
		fastJobs(),
		fx.Options(extra...),
	)
}

// enqueue inserts a job in a scope of reg and returns its id.
func enqueue(t *testing.T, reg *scope.Registry, args river.JobArgs, opts *river.InsertOpts) int64 {
	t.Helper()
	var id int64
	err := reg.Run(context.Background(), func(s *scope.Scope) error {
		en, err := scope.Get[*jobs.Enqueuer](s)
		if err != nil {
			return err
		}
		res, err := en.Enqueue(context.Background(), args, opts)
		if err == nil {
			id = res.Job.ID
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return id
}

// gather returns the metrics of reg by name.
func gather(t *testing.T, reg *prometheus.Registry) map[string]*dto.MetricFamily {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]*dto.MetricFamily{}
	for _, mf := range mfs {
		out[mf.GetName()] = mf
	}
	return out
}

// series returns the metric of mf whose labels are labels (name=value
// pairs), or nil.
func series(mf *dto.MetricFamily, labels ...string) *dto.Metric {
	if mf == nil {
		return nil
	}
next:
	for _, m := range mf.GetMetric() {
		have := map[string]string{}
		for _, lp := range m.GetLabel() {
			have[lp.GetName()] = lp.GetValue()
		}
		for i := 0; i+1 < len(labels); i += 2 {
			if have[labels[i]] != labels[i+1] {
				continue next
			}
		}
		return m
	}
	return nil
}

// TestJobsMetricsAndLogs: each attempt's end is counted in
// fasttrack_jobs_total by kind and outcome and in the duration histogram,
// the available jobs of each queue are reported on scrape, and each
// attempt's end is one log line with the job's id, kind, queue and attempt:
// INFO when completed, WARN with the error when failed, ERROR on a panic
// and when discarded.
func TestJobsMetricsAndLogs(t *testing.T) {
	jobsDialects(t, func(t *testing.T, d db.Dialect, u string) {
		var (
			client *jobs.Client
			reg    *scope.Registry
			prom   *prometheus.Registry
			logs   = &jobLog{}
		)
		app := fxtest.New(t, opsApp(testConfig(u), logs, make(chan seen, 10), fx.Populate(&client, &reg, &prom)))
		events, cancel := client.River().Subscribe(river.EventKindJobCompleted, river.EventKindJobFailed)
		defer cancel()
		app.RequireStart()
		defer app.RequireStop()

		failing := enqueue(t, reg, effectArgs{N: 1, Fail: 1}, &river.InsertOpts{MaxAttempts: 3})
		for _, want := range []river.EventKind{river.EventKindJobFailed, river.EventKindJobCompleted} {
			if ev := waitEvent(t, events, failing); ev.Kind != want {
				t.Fatalf("job %d: event %s; want %s", failing, ev.Kind, want)
			}
		}
		panicking := enqueue(t, reg, effectArgs{N: 2, Panic: true}, &river.InsertOpts{MaxAttempts: 3})
		for _, want := range []river.EventKind{river.EventKindJobFailed, river.EventKindJobCompleted} {
			if ev := waitEvent(t, events, panicking); ev.Kind != want {
				t.Fatalf("job %d: event %s; want %s", panicking, ev.Kind, want)
			}
		}
		discarded := enqueue(t, reg, effectArgs{N: 3, Fail: 1}, &river.InsertOpts{MaxAttempts: 1})
		if ev := waitEvent(t, events, discarded); ev.Kind != river.EventKindJobFailed || ev.Job.State != "discarded" {
			t.Fatalf("job %d: event %s, state %s; want discarded", discarded, ev.Kind, ev.Job.State)
		}
		// Two jobs wait in a queue nobody works.
		enqueue(t, reg, effectArgs{N: 4}, &river.InsertOpts{Queue: "idle"})
		enqueue(t, reg, effectArgs{N: 5}, &river.InsertOpts{Queue: "idle"})

		mfs := gather(t, prom)
		for outcome, want := range map[string]float64{"completed": 2, "failed": 2, "discarded": 1} {
			m := series(mfs["fasttrack_jobs_total"], "kind", "effect", "outcome", outcome)
			if m == nil || m.GetCounter().GetValue() != want {
				t.Errorf("fasttrack_jobs_total{kind=effect,outcome=%s} = %v; want %v", outcome, m, want)
			}
		}
		if m := series(mfs["fasttrack_jobs_duration_seconds"], "kind", "effect"); m == nil || m.GetHistogram().GetSampleCount() != 5 {
			t.Errorf("fasttrack_jobs_duration_seconds{kind=effect}: %v; want 5 observations", m)
		}
		for queue, want := range map[string]float64{"idle": 2, "default": 0} {
			if m := series(mfs["fasttrack_jobs_queue_depth"], "queue", queue); m == nil || m.GetGauge().GetValue() != want {
				t.Errorf("fasttrack_jobs_queue_depth{queue=%s} = %v; want %v", queue, m, want)
			}
		}

		check := func(msg string, id int64, level string, attempt int, errPart string) {
			t.Helper()
			recs := logs.lines(t, msg, id)
			var rec map[string]any
			for _, r := range recs {
				if r["attempt"] == float64(attempt) {
					rec = r
				}
			}
			if rec == nil {
				t.Errorf("no %q line for job %d attempt %d; lines: %v", msg, id, attempt, recs)
				return
			}
			if rec["level"] != level || rec["kind"] != "effect" || rec["queue"] != "default" || rec["component"] != "jobs" {
				t.Errorf("%q line of job %d: %v; want level %s, kind effect, queue default, component jobs", msg, id, rec, level)
			}
			if e, _ := rec["error"].(string); !strings.Contains(e, errPart) {
				t.Errorf("%q line of job %d: error %q; want it to contain %q", msg, id, e, errPart)
			}
		}
		check("job failed", failing, "WARN", 1, "attempt 1 fails after writing")
		check("job completed", failing, "INFO", 2, "")
		check("job panicked", panicking, "ERROR", 1, "worker panics after writing")
		check("job completed", panicking, "INFO", 2, "")
		check("job discarded", discarded, "ERROR", 1, "attempt 1 fails after writing")
	})
}

type nplusArgs struct{}

func (nplusArgs) Kind() string { return "nplus" }

// nplusWorker writes an effect, then runs one SELECT three times.
func nplusWorker() jobs.Worker {
	return jobs.Work1(func(ctx context.Context, job *river.Job[nplusArgs], q db.Querier) error {
		if _, err := q.ExecContext(ctx, q.Rebind("INSERT INTO effects (job_id, n, attempt) VALUES (?, 0, ?)"), job.ID, job.Attempt); err != nil {
			return err
		}
		for i := 0; i < 3; i++ {
			var n int
			if err := q.GetContext(ctx, &n, q.Rebind("SELECT COUNT(*) FROM effects WHERE n = ?"), i); err != nil {
				return fmt.Errorf("select %d: %w", i, err)
			}
		}
		return nil
	})
}

// TestJobsNPlusOne: a job's transaction has the configured N+1 detector. In
// error mode, an attempt that runs a statement past the threshold fails and
// its writes roll back; in log mode, it completes and the statement is
// logged with the job's id.
func TestJobsNPlusOne(t *testing.T) {
	jobsDialects(t, func(t *testing.T, d db.Dialect, u string) {
		for _, mode := range []string{"error", "log"} {
			t.Run(mode, func(t *testing.T) {
				var (
					client *jobs.Client
					reg    *scope.Registry
					x      *sqlx.DB
					logs   = &jobLog{}
				)
				cfg := testConfig(u)
				cfg.NPlusOne, cfg.NPlusOneThreshold = mode, 2
				app := fxtest.New(t, opsApp(cfg, logs, nil, fxmodules.JobWorkers(nplusWorker()), fx.Populate(&client, &reg, &x)))
				events, cancel := client.River().Subscribe(river.EventKindJobCompleted, river.EventKindJobFailed)
				defer cancel()
				app.RequireStart()
				defer app.RequireStop()

				id := enqueue(t, reg, nplusArgs{}, &river.InsertOpts{MaxAttempts: 1})
				ev := waitEvent(t, events, id)
				effects := count(t, x, "SELECT COUNT(*) FROM effects WHERE job_id = ?", id)
				reported := logs.lines(t, "N+1 query", id)
				if mode == "error" {
					if ev.Kind != river.EventKindJobFailed || len(ev.Job.Errors) != 1 || !strings.Contains(ev.Job.Errors[0].Error, "N+1 query") {
						t.Fatalf("event %s, errors %v; want the attempt failed by the N+1 detector", ev.Kind, ev.Job.Errors)
					}
					if effects != 0 {
						t.Fatalf("%d effects; want 0 (rolled back)", effects)
					}
					if len(reported) != 1 || reported[0]["level"] != "ERROR" {
						t.Fatalf("N+1 lines: %v; want one at ERROR", reported)
					}
					return
				}
				if ev.Kind != river.EventKindJobCompleted || effects != 1 {
					t.Fatalf("event %s, %d effects; want completed with 1", ev.Kind, effects)
				}
				if len(reported) != 1 || reported[0]["level"] != "WARN" || reported[0]["count"] != float64(3) ||
					!strings.Contains(reported[0]["statement"].(string), "SELECT COUNT(*) FROM effects") {
					t.Fatalf("N+1 lines: %v; want one WARN naming the SELECT, run 3 times", reported)
				}
			})
		}
	})
}
