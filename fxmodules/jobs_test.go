package fxmodules_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"runtime"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/fasttrack-go/fasttrack/api"
	"github.com/fasttrack-go/fasttrack/config"
	"github.com/fasttrack-go/fasttrack/db"
	"github.com/fasttrack-go/fasttrack/fxmodules"
	"github.com/fasttrack-go/fasttrack/internal/testdb"
	"github.com/fasttrack-go/fasttrack/jobs"
	"github.com/fasttrack-go/fasttrack/scope"
	"github.com/gin-gonic/gin"
	"github.com/jmoiron/sqlx"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"
	"go.uber.org/fx"
	"go.uber.org/fx/fxtest"
)

// effectArgs is a job that writes one effects row per attempt, in the
// attempt's transaction; its first attempt panics when Panic is set, and
// attempts up to Fail return an error after writing.
type effectArgs struct {
	N     int  `json:"n"`
	Fail  int  `json:"fail"`
	Panic bool `json:"panic"`
}

func (effectArgs) Kind() string { return "effect" }

// jobsMigrations creates the effects table the test worker writes to.
func jobsMigrations() fstest.MapFS {
	fsys := fstest.MapFS{}
	for _, d := range testdb.Dialects() {
		fsys[d.Name()+"/00001_create_effects.sql"] = &fstest.MapFile{Data: []byte(
			"-- +goose Up\nCREATE TABLE effects (job_id BIGINT NOT NULL, n INT NOT NULL, attempt INT NOT NULL);\n" +
				"-- +goose Down\nDROP TABLE effects;\n")}
	}
	return fsys
}

// seen is what the test worker reports from its after-commit hook: the
// job's state in the database right after the attempt's commit.
type seen struct {
	id    int64
	state string
}

// effectWorker writes its effect in the attempt's transaction and, after
// the commit, reads the job's state from the pool into states.
func effectWorker(states chan<- seen) jobs.Worker {
	return jobs.Work3(func(ctx context.Context, job *river.Job[effectArgs], tx *db.Tx, q db.Querier, x *sqlx.DB) error {
		if _, err := q.ExecContext(ctx, q.Rebind("INSERT INTO effects (job_id, n, attempt) VALUES (?, ?, ?)"),
			job.ID, job.Args.N, job.Attempt); err != nil {
			return err
		}
		if job.Args.Panic && job.Attempt == 1 {
			panic("worker panics after writing")
		}
		if job.Attempt <= job.Args.Fail {
			return fmt.Errorf("attempt %d fails after writing", job.Attempt)
		}
		tx.AfterCommit(func(ctx context.Context) {
			var s string
			err := x.GetContext(ctx, &s, x.Rebind("SELECT state FROM river_job WHERE id = ?"), job.ID)
			if err != nil {
				s = err.Error()
			}
			states <- seen{job.ID, s}
		})
		return nil
	})
}

// fastJobs makes River fetch often and retry at once, so that tests wait
// for events, not for River's production intervals.
func fastJobs() fx.Option {
	return fxmodules.ConfigureJobs(func(o *jobs.Options) {
		o.River = func(c *river.Config) {
			c.FetchCooldown = 5 * time.Millisecond
			c.FetchPollInterval = 20 * time.Millisecond
			c.RetryPolicy = retryNow{}
		}
	})
}

type retryNow struct{}

func (retryNow) NextRetry(*rivertype.JobRow) time.Time { return time.Now().Add(time.Millisecond) }

// waitEvent returns the next event of events for job id, failing the test
// after a deadline.
func waitEvent(t *testing.T, events <-chan *river.Event, id int64) *river.Event {
	t.Helper()
	deadline := time.After(30 * time.Second)
	for {
		select {
		case ev := <-events:
			if ev.Job != nil && ev.Job.ID == id {
				return ev
			}
		case <-deadline:
			t.Fatalf("no event for job %d within the deadline", id)
			return nil
		}
	}
}

func jobsDialects(t *testing.T, fn func(t *testing.T, d db.Dialect, u string)) {
	for _, d := range []db.Dialect{db.SQLite, db.Postgres} {
		t.Run(d.Name(), func(t *testing.T) { fn(t, d, testdb.New(t, d)) })
	}
}

// jobsApp is a test app on u with the effect worker and fast polling.
func jobsApp(t *testing.T, u string, states chan<- seen, extra ...fx.Option) fx.Option {
	return jobsAppWith(testConfig(u), states, extra...)
}

// jobsAppWith is jobsApp with the configuration cfg.
func jobsAppWith(cfg config.Config, states chan<- seen, extra ...fx.Option) fx.Option {
	return fx.Options(
		fxmodules.Framework(jobsMigrations()),
		fx.Replace(cfg),
		fx.Decorate(func() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }),
		fxmodules.Jobs(effectWorker(states)),
		fastJobs(),
		fx.Options(extra...),
	)
}

// count runs a COUNT query on x.
func count(t *testing.T, x *sqlx.DB, query string, args ...any) int {
	t.Helper()
	var n int
	if err := x.GetContext(context.Background(), &n, x.Rebind(query), args...); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	return n
}

// TestJobsEnqueueInRequest: a request that enqueues and fails leaves no
// job; the job of one that commits is invisible outside the request's
// transaction until the commit, then runs once, its writes and its
// completion committed together.
func TestJobsEnqueueInRequest(t *testing.T) {
	jobsDialects(t, func(t *testing.T, d db.Dialect, u string) {
		var (
			srv     *http.Server
			x       *sqlx.DB
			client  *jobs.Client
			states  = make(chan seen, 10)
			outside = make(chan int, 10)
		)
		app := fxtest.New(t, jobsApp(t, u, states,
			fxmodules.Singleton[*sqlx.DB](),
			fx.Invoke(func(e *gin.Engine) {
				e.POST("/enqueue/:outcome", api.Handle2(func(c *gin.Context, en *jobs.Enqueuer, pool *sqlx.DB) (gin.H, error) {
					res, err := en.Enqueue(c, effectArgs{N: 7}, nil)
					if err != nil {
						return nil, err
					}
					var n int
					if err := pool.GetContext(c, &n, "SELECT COUNT(*) FROM river_job"); err != nil {
						return nil, err
					}
					outside <- n
					if c.Param("outcome") == "fail" {
						return nil, errors.New("the request fails after enqueueing")
					}
					return gin.H{"id": res.Job.ID}, nil
				}))
			}),
			fx.Populate(&srv, &x, &client)))
		events, cancel := client.River().Subscribe(river.EventKindJobCompleted, river.EventKindJobFailed)
		defer cancel()
		app.RequireStart()
		defer app.RequireStop()
		base := "http://" + srv.Addr

		resp, err := http.Post(base+"/enqueue/fail", "application/json", nil)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusInternalServerError {
			t.Fatalf("failing request: status %d", resp.StatusCode)
		}
		if n := <-outside; n != 0 {
			t.Fatalf("the pool saw %d jobs before the failing request's end", n)
		}
		if n := count(t, x, "SELECT COUNT(*) FROM river_job"); n != 0 {
			t.Fatalf("a request that failed left %d jobs", n)
		}

		status, body := postJSON(t, base+"/enqueue/ok")
		if status != http.StatusOK {
			t.Fatalf("request: status %d %v", status, body)
		}
		if n := <-outside; n != 0 {
			t.Fatalf("the pool saw %d jobs before the request committed", n)
		}
		id := int64(body["id"].(float64))
		if ev := waitEvent(t, events, id); ev.Kind != river.EventKindJobCompleted {
			t.Fatalf("job %d: event %s", id, ev.Kind)
		}
		if s := <-states; s.id != id || s.state != "completed" {
			t.Fatalf("right after the worker's commit, job %d is %q; want completed (committed with its writes)", s.id, s.state)
		}
		if n := count(t, x, "SELECT COUNT(*) FROM effects WHERE job_id = ? AND n = 7", id); n != 1 {
			t.Fatalf("job %d: %d effects; want 1", id, n)
		}
		if n := count(t, x, "SELECT COUNT(*) FROM river_job"); n != 1 {
			t.Fatalf("%d jobs; want 1", n)
		}
	})
}

// TestJobsRetryRollsBack: an attempt that writes and then panics or fails
// leaves nothing; River retries it, and the attempt that succeeds commits
// exactly one effect.
func TestJobsRetryRollsBack(t *testing.T) {
	jobsDialects(t, func(t *testing.T, d db.Dialect, u string) {
		var (
			x      *sqlx.DB
			client *jobs.Client
			reg    *scope.Registry
			states = make(chan seen, 10)
		)
		app := fxtest.New(t, jobsApp(t, u, states, fx.Populate(&x, &client, &reg)))
		events, cancel := client.River().Subscribe(river.EventKindJobCompleted, river.EventKindJobFailed)
		defer cancel()
		app.RequireStart()
		defer app.RequireStop()

		var id int64
		err := reg.Run(context.Background(), func(s *scope.Scope) error {
			en, err := scope.Get[*jobs.Enqueuer](s)
			if err != nil {
				return err
			}
			res, err := en.Enqueue(context.Background(), effectArgs{N: 9, Fail: 2, Panic: true}, &river.InsertOpts{MaxAttempts: 5})
			if err == nil {
				id = res.Job.ID
			}
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		for attempt := 1; attempt <= 2; attempt++ {
			if ev := waitEvent(t, events, id); ev.Kind != river.EventKindJobFailed || ev.Job.Attempt != attempt {
				t.Fatalf("attempt %d: event %s (attempt %d); want job_failed", attempt, ev.Kind, ev.Job.Attempt)
			}
			// The next attempt may already have committed (River retries
			// at once here): count this attempt's effects only.
			if n := count(t, x, "SELECT COUNT(*) FROM effects WHERE job_id = ? AND attempt = ?", id, attempt); n != 0 {
				t.Fatalf("after failed attempt %d: %d effects of it; want 0 (rolled back)", attempt, n)
			}
		}
		if ev := waitEvent(t, events, id); ev.Kind != river.EventKindJobCompleted || ev.Job.Attempt != 3 {
			t.Fatalf("event %s (attempt %d); want job_completed at attempt 3", ev.Kind, ev.Job.Attempt)
		}
		if s := <-states; s.state != "completed" {
			t.Fatalf("right after the commit, the job is %q", s.state)
		}
		if n := count(t, x, "SELECT COUNT(*) FROM effects WHERE job_id = ? AND attempt = 3", id); n != 1 {
			t.Fatalf("%d effects of attempt 3; want 1", n)
		}
		if n := count(t, x, "SELECT COUNT(*) FROM effects"); n != 1 {
			t.Fatalf("%d effects; want exactly 1", n)
		}
	})
}

type unprovided struct{}

// jobsStartError starts the framework on a new SQLite database with opts,
// and returns the start's error (stopping the app if it started).
func jobsStartError(t *testing.T, opts ...fx.Option) error {
	t.Helper()
	app := fx.New(
		fxmodules.Framework(jobsMigrations()),
		fx.Replace(testConfig(testdb.New(t, db.SQLite))),
		fx.NopLogger,
		fx.Options(opts...),
	)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	err := app.Start(ctx)
	if err == nil {
		_ = app.Stop(ctx)
	}
	return err
}

// TestJobsMissingDependency: a worker whose dependency nothing provides
// fails the start, naming the type.
func TestJobsMissingDependency(t *testing.T) {
	w := jobs.Work1(func(context.Context, *river.Job[effectArgs], *unprovided) error { return nil })
	err := jobsStartError(t, fxmodules.Jobs(w))
	if err == nil {
		t.Fatal("started with a worker whose dependency nothing provides")
	}
	if !strings.Contains(err.Error(), "*fxmodules_test.unprovided") {
		t.Fatalf("start error does not name the type: %v", err)
	}
}

// TestJobsQueuesFromConfig: the client works the queues JOBS_QUEUES names
// (here mail beside default), and only those.
func TestJobsQueuesFromConfig(t *testing.T) {
	jobsDialects(t, func(t *testing.T, d db.Dialect, u string) {
		cfg := testConfig(u)
		cfg.JobsQueues = "default:1,mail:2"
		var (
			client *jobs.Client
			reg    *scope.Registry
		)
		app := fxtest.New(t, jobsAppWith(cfg, make(chan seen, 10), fx.Populate(&client, &reg)))
		events, cancel := client.River().Subscribe(river.EventKindJobCompleted, river.EventKindJobFailed)
		defer cancel()
		app.RequireStart()
		defer app.RequireStop()
		mail := enqueue(t, reg, effectArgs{N: 1}, &river.InsertOpts{Queue: "mail"})
		if ev := waitEvent(t, events, mail); ev.Kind != river.EventKindJobCompleted || ev.Job.Queue != "mail" {
			t.Fatalf("job %d of queue mail: event %s in queue %s; want job_completed", mail, ev.Kind, ev.Job.Queue)
		}
		if _, err := client.River().QueueGet(context.Background(), "mail"); err != nil {
			t.Fatalf("queue mail: %v", err)
		}
		if _, err := client.River().QueueGet(context.Background(), "other"); err == nil {
			t.Fatal("queue other exists though JOBS_QUEUES does not name it")
		}
	})
}

// TestJobsCaptiveDependency: a worker that takes a singleton built from a
// scoped type (the request's db.Querier) fails the start as a handler
// would, naming the captive dependency.
func TestJobsCaptiveDependency(t *testing.T) {
	w := jobs.Work1(func(context.Context, *river.Job[effectArgs], *captiveQuerierSvc) error { return nil })
	err := jobsStartError(t, fx.Provide(newCaptiveQuerierSvc), fxmodules.Jobs(w))
	if err == nil {
		t.Fatal("started with a worker that takes a singleton built from db.Querier")
	}
	if !strings.Contains(err.Error(), "captive dependency") || !strings.Contains(err.Error(), "db.Querier") {
		t.Fatalf("start error does not name the captive dependency: %v", err)
	}
}

// TestJobsMySQL: Jobs on MySQL fails at start, saying River has no MySQL
// driver.
func TestJobsMySQL(t *testing.T) {
	app := fx.New(
		fxmodules.Framework(jobsMigrations()),
		fx.Replace(testConfig(testdb.New(t, db.MySQL))),
		fx.NopLogger,
		fxmodules.Jobs(),
	)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	err := app.Start(ctx)
	if err == nil {
		_ = app.Stop(ctx)
		t.Fatal("Jobs started on MySQL")
	}
	if !errors.Is(err, jobs.ErrNoDriver) || !strings.Contains(err.Error(), "River has no MySQL driver") {
		t.Fatalf("start error = %v; want jobs.ErrNoDriver", err)
	}
}

// TestJobsQueuesInvalid: an invalid JOBS_QUEUES fails the start, naming
// the variable.
func TestJobsQueuesInvalid(t *testing.T) {
	cfg := testConfig(testdb.New(t, db.SQLite))
	cfg.JobsQueues = "mail:0"
	app := fx.New(fxmodules.Framework(nil), fx.Replace(cfg), fx.NopLogger, fxmodules.Jobs())
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	err := app.Start(ctx)
	if err == nil {
		_ = app.Stop(ctx)
		t.Fatal("started with JOBS_QUEUES=mail:0")
	}
	if !strings.Contains(err.Error(), `JOBS_QUEUES="mail:0"`) || !errors.Is(err, config.ErrOutOfRange) {
		t.Fatalf("start error = %v; want one naming JOBS_QUEUES", err)
	}
}

// postJSON posts nothing to url and decodes the JSON answer.
func postJSON(t *testing.T, url string) (int, map[string]any) {
	t.Helper()
	resp, err := http.Post(url, "application/json", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		t.Fatalf("POST %s: %v", url, err)
	}
	return resp.StatusCode, body
}

type blockArgs struct{}

func (blockArgs) Kind() string { return "block" }

type finishArgs struct{}

func (finishArgs) Kind() string { return "finish" }

// TestJobsStopLetsARunningJobFinish: a job still running when the app stops
// is not cancelled at once: it is released only after the HTTP server,
// which stops before the jobs, has closed, and it finishes within the soft
// stop, its writes and completion committed.
func TestJobsStopLetsARunningJobFinish(t *testing.T) {
	jobsDialects(t, func(t *testing.T, d db.Dialect, u string) {
		var (
			srv     *http.Server
			client  *jobs.Client
			reg     *scope.Registry
			running = make(chan struct{})
			release = make(chan struct{})
			ended   = make(chan error, 1)
		)
		finish := jobs.Work1(func(ctx context.Context, job *river.Job[finishArgs], q db.Querier) error {
			close(running)
			select {
			case <-release:
			case <-ctx.Done():
				ended <- ctx.Err()
				return ctx.Err()
			}
			_, err := q.ExecContext(ctx, q.Rebind("INSERT INTO effects (job_id, n, attempt) VALUES (?, 0, ?)"), job.ID, job.Attempt)
			ended <- err
			return err
		})
		app := fxtest.New(t, jobsApp(t, u, nil, fxmodules.JobWorkers(finish), fx.Populate(&srv, &client, &reg)))
		app.RequireStart()
		id := enqueue(t, reg, finishArgs{}, nil)
		select {
		case <-running:
		case <-time.After(30 * time.Second):
			t.Fatal("the job did not start within the deadline")
		}
		stopped := make(chan error, 1)
		go func() {
			ctx, cancel := context.WithTimeout(context.Background(), 8*time.Second)
			defer cancel()
			stopped <- app.Stop(ctx)
		}()
		// The app has begun to stop once its server refuses connections.
		for deadline := time.Now().Add(30 * time.Second); ; {
			c, err := net.Dial("tcp", srv.Addr)
			if err != nil {
				break
			}
			_ = c.Close()
			if time.Now().After(deadline) {
				t.Fatal("the server still accepts connections")
			}
			runtime.Gosched()
		}
		close(release)
		if err := <-ended; err != nil {
			t.Fatalf("the running job ended with %v; want it to finish its work", err)
		}
		if err := <-stopped; err != nil {
			t.Fatalf("stop: %v", err)
		}
		y, _ := testdb.Open(t, u)
		if n := count(t, y, "SELECT COUNT(*) FROM effects WHERE job_id = ?", id); n != 1 {
			t.Fatalf("%d effects of the job that finished during the stop; want 1", n)
		}
		if n := count(t, y, "SELECT COUNT(*) FROM river_job WHERE id = ? AND state = 'completed'", id); n != 1 {
			t.Fatal("the job that finished during the stop is not completed")
		}
	})
}

// TestJobsStopCancelsAfterSoftStop: stopping the app waits for a running
// job, then cancels its context within the stop deadline; the cancelled
// attempt's writes roll back.
func TestJobsStopCancelsAfterSoftStop(t *testing.T) {
	jobsDialects(t, func(t *testing.T, d db.Dialect, u string) {
		var (
			x       *sqlx.DB
			client  *jobs.Client
			reg     *scope.Registry
			running = make(chan struct{})
			ended   = make(chan error, 1)
		)
		block := jobs.Work1(func(ctx context.Context, job *river.Job[blockArgs], q db.Querier) error {
			if _, err := q.ExecContext(ctx, q.Rebind("INSERT INTO effects (job_id, n, attempt) VALUES (?, 0, ?)"), job.ID, job.Attempt); err != nil {
				return err
			}
			close(running)
			<-ctx.Done()
			ended <- ctx.Err()
			return ctx.Err()
		})
		app := fxtest.New(t, jobsApp(t, u, nil, fxmodules.JobWorkers(block), fx.Populate(&x, &client, &reg)))
		app.RequireStart()
		err := reg.Run(context.Background(), func(s *scope.Scope) error {
			tx, err := scope.Get[*db.Tx](s)
			if err != nil {
				return err
			}
			_, err = client.Insert(context.Background(), tx, blockArgs{}, nil)
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		select {
		case <-running:
		case <-time.After(30 * time.Second):
			t.Fatal("the job did not start within the deadline")
		}
		// The job returns only when cancelled: a stop that never cancels
		// it fails with the deadline.
		ctx, cancel := context.WithTimeout(context.Background(), 8*time.Second)
		defer cancel()
		if err := app.Stop(ctx); err != nil {
			t.Fatalf("stop: %v", err)
		}
		if err := <-ended; !errors.Is(err, context.Canceled) {
			t.Fatalf("the running job ended with %v; want its context cancelled", err)
		}
		y, _ := testdb.Open(t, u)
		if n := count(t, y, "SELECT COUNT(*) FROM effects"); n != 0 {
			t.Fatalf("%d effects of the cancelled attempt; want 0", n)
		}
		if n := count(t, y, "SELECT COUNT(*) FROM river_job WHERE state IN ('completed', 'discarded')"); n != 0 {
			t.Fatalf("the cancelled job is finished (%d); want it left for a retry", n)
		}
	})
}
