package bench

import (
	"context"
	"database/sql"
	"flag"
	"fmt"
	"log/slog"
	"net/http"
	"reflect"
	"testing"
	"time"

	"github.com/fasttrack-go/fasttrack/api"
	"github.com/fasttrack-go/fasttrack/config"
	"github.com/fasttrack-go/fasttrack/db"
	"github.com/fasttrack-go/fasttrack/internal/testdb"
	"github.com/fasttrack-go/fasttrack/jobs"
	"github.com/fasttrack-go/fasttrack/scope"
	"github.com/gin-gonic/gin"
	"github.com/jmoiron/sqlx"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverdatabasesql"
)

// effectArgs are the benchmark job's arguments: the value it inserts.
type effectArgs struct {
	N int64 `json:"n"`
}

func (effectArgs) Kind() string { return "bench.effect" }

// effectSQL is the one statement each job runs.
const effectSQL = "INSERT INTO job_effects (n) VALUES ($1)"

// EffectRepo is the scoped repository of FastTrack's worker: it inserts on
// the job's transaction.
type EffectRepo struct{ q db.Querier }

// Insert inserts n into job_effects.
func (r *EffectRepo) Insert(ctx context.Context, n int64) error {
	_, err := r.q.ExecContext(ctx, effectSQL, n)
	return err
}

// plainWorker is the plain River worker: it inserts with the pool and
// returns nil, and River completes the job.
type plainWorker struct {
	river.WorkerDefaults[effectArgs]
	x *sqlx.DB
}

func (w *plainWorker) Work(ctx context.Context, job *river.Job[effectArgs]) error {
	_, err := w.x.ExecContext(ctx, effectSQL, job.Args.N)
	return err
}

// txWorker is a River worker with FastTrack's guarantee written by hand,
// as River documents it: it inserts in a transaction of the pool and
// completes the job in it with river.JobCompleteTx before committing.
type txWorker struct {
	river.WorkerDefaults[effectArgs]
	x *sqlx.DB
}

func (w *txWorker) Work(ctx context.Context, job *river.Job[effectArgs]) error {
	tx, err := w.x.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer func() { _ = tx.Rollback() }()
	if _, err := tx.ExecContext(ctx, effectSQL, job.Args.N); err != nil {
		return err
	}
	if _, err := river.JobCompleteTx[*riverdatabasesql.Driver](ctx, tx, job); err != nil {
		return err
	}
	return tx.Commit()
}

// jobsWorkers is how many jobs each client runs at once, unless a
// benchmark says otherwise.
const jobsWorkers = 10

// riverTuning returns the River configuration both sides share: the
// default queue with the given number of workers, and fetches close
// together, since the database/sql driver has no LISTEN and River polls.
func riverTuning(workers int) func(c *river.Config) {
	return func(c *river.Config) {
		c.Queues = map[string]river.QueueConfig{river.QueueDefault: {MaxWorkers: workers}}
		c.FetchCooldown = 5 * time.Millisecond
		c.FetchPollInterval = 10 * time.Millisecond
		c.Logger = slog.New(slog.DiscardHandler)
	}
}

// jobsDB returns a pool on a new PostgreSQL database with River's schema
// and the job_effects table, or skips without TEST_POSTGRES_URL.
func jobsDB(b *testing.B) *sqlx.DB {
	b.Helper()
	u := testdb.New(b, db.Postgres)
	x, _, err := db.Open(u, db.Pool{})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = x.Close() })
	ctx := context.Background()
	if _, err := jobs.Migrate(ctx, x, db.Postgres, slog.New(slog.DiscardHandler)); err != nil {
		b.Fatal(err)
	}
	if _, err := x.ExecContext(ctx, "CREATE TABLE job_effects (id BIGSERIAL PRIMARY KEY, n BIGINT NOT NULL)"); err != nil {
		b.Fatal(err)
	}
	return x
}

// fastTrackJobs starts a FastTrack jobs.Client on x whose worker (jobs.Work1)
// resolves an *EffectRepo from a fresh scope per job and completes the job
// in that scope's transaction, with the given number of workers.
func fastTrackJobs(b *testing.B, x *sqlx.DB, workers int) *river.Client[*sql.Tx] {
	b.Helper()
	reg := scope.NewRegistry()
	for _, p := range api.TxProviders(db.PrimaryOnly(x, db.Postgres), nil, nil) {
		if err := reg.Add(p); err != nil {
			b.Fatal(err)
		}
	}
	p, err := scope.NewProvider(scope.Scoped, scope.Func1(func(q db.Querier) *EffectRepo { return &EffectRepo{q: q} }))
	if err != nil {
		b.Fatal(err)
	}
	if err := reg.Add(p); err != nil {
		b.Fatal(err)
	}
	if err := reg.Compile(map[reflect.Type]any{}); err != nil {
		b.Fatal(err)
	}
	work := jobs.Work1(func(ctx context.Context, job *river.Job[effectArgs], r *EffectRepo) error {
		return r.Insert(ctx, job.Args.N)
	})
	c, err := jobs.New(x, db.Postgres, reg, jobs.Options{
		Queues:  []config.Queue{{Name: river.QueueDefault, MaxWorkers: workers}},
		Workers: []jobs.Worker{work},
		Logger:  slog.New(slog.DiscardHandler),
		River:   riverTuning(workers),
	})
	if err != nil {
		b.Fatal(err)
	}
	if err := c.Start(context.Background()); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { stopRiver(b, c.Stop) })
	return c.River()
}

// plainRiverJobs starts a River client on x with the plain worker.
func plainRiverJobs(b *testing.B, x *sqlx.DB, workers int) *river.Client[*sql.Tx] {
	return riverJobs(b, x, &plainWorker{x: x}, workers)
}

// txRiverJobs starts a River client on x with txWorker.
func txRiverJobs(b *testing.B, x *sqlx.DB, workers int) *river.Client[*sql.Tx] {
	return riverJobs(b, x, &txWorker{x: x}, workers)
}

// riverJobs starts a River client on x with w as its only worker, run by
// the given number of workers.
func riverJobs(b *testing.B, x *sqlx.DB, w river.Worker[effectArgs], workers int) *river.Client[*sql.Tx] {
	b.Helper()
	ws := river.NewWorkers()
	river.AddWorker(ws, w)
	rc := &river.Config{Workers: ws}
	riverTuning(workers)(rc)
	c, err := river.NewClient(riverdatabasesql.New(x.DB), rc)
	if err != nil {
		b.Fatal(err)
	}
	if err := c.Start(context.Background()); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { stopRiver(b, c.Stop) })
	return c
}

func stopRiver(b *testing.B, stop func(context.Context) error) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := stop(ctx); err != nil {
		b.Error(err)
	}
}

// BenchmarkJobs runs the same job — one INSERT — through FastTrack's scoped
// worker (jobs.Work1 with a scoped repository, completing the job in its
// transaction), through a plain River worker (inserting with the pool;
// River completes the job), and through txWorker (river-tx: the guarantee
// of FastTrack's worker, written with River's JobCompleteTx), each on its
// own new database of the PostgreSQL server at TEST_POSTGRES_URL (skipped
// when unset), with 10 workers. Each run inserts b.N jobs with InsertMany
// and waits until River reports them all completed; it reports jobs/s and
// checks that each job inserted one row.
func BenchmarkJobs(b *testing.B) {
	benchJobSides(b, jobsWorkers, jobSides())
}

// BenchmarkJobsFiveWorkers is BenchmarkJobs' fasttrack and river sides
// with 5 workers each: few enough jobs at once that the jobs of one fetch
// are done before River's next (every 5 ms) on a machine of two CPUs, so
// that the CPU each job costs does not bound the throughput, as it does
// with 10.
func BenchmarkJobsFiveWorkers(b *testing.B) {
	benchJobSides(b, 5, jobSides()[:2])
}

// jobSide is one way to work the benchmark's jobs: its name and how to
// start its client on a database with a number of workers.
type jobSide struct {
	name  string
	start func(b *testing.B, x *sqlx.DB, workers int) *river.Client[*sql.Tx]
}

// jobSides returns BenchmarkJobs' sides: FastTrack's scoped worker, the
// plain River worker, and River's worker with JobCompleteTx.
func jobSides() []jobSide {
	return []jobSide{{"fasttrack", fastTrackJobs}, {"river", plainRiverJobs}, {"river-tx", txRiverJobs}}
}

// benchJobSides runs each of sides on a new database with the given
// number of workers.
func benchJobSides(b *testing.B, workers int, sides []jobSide) {
	for _, side := range sides {
		b.Run(side.name, func(b *testing.B) {
			x := jobsDB(b)
			benchJobs(b, x, side.start(b, x, workers))
		})
	}
}

// insertBatch is how many jobs one InsertMany inserts.
const insertBatch = 1000

// jobsRound is how many jobs one side of BenchmarkJobsPaired works per
// turn.
const jobsRound = 500

// BenchmarkJobsPaired runs BenchmarkJobs' two sides in turns of jobsRound
// jobs, the order alternating, both clients started, each on its own new
// database: both sides see the machine at the same moments, so their
// ratio does not move with its drift between runs, as BenchmarkJobs' does
// (-count runs one side's rounds, then the other's). Every vacuumEvery
// turns (4 unless -vacuum-every says otherwise), both river_job tables
// are vacuumed, outside the timing (see vacuumJobs). b.N counts the jobs
// of each side, rounded up to whole turns. It reports each side's jobs/s
// and ft/river, the ratio of FastTrack's throughput to plain River's.
func BenchmarkJobsPaired(b *testing.B) {
	fx, rx := jobsDB(b), jobsDB(b)
	ft, plain := fastTrackJobs(b, fx, jobsWorkers), plainRiverJobs(b, rx, jobsWorkers)
	ftEvents, ftCancel := completions(ft, jobsRound)
	defer ftCancel()
	rEvents, rCancel := completions(plain, jobsRound)
	defer rCancel()
	var tft, triver time.Duration
	jobs := 0
	b.ResetTimer()
	for round := 0; jobs < b.N; round++ {
		if round%2 == 0 {
			tft += workJobs(b, ft, ftEvents, jobs, jobsRound)
			triver += workJobs(b, plain, rEvents, jobs, jobsRound)
		} else {
			triver += workJobs(b, plain, rEvents, jobs, jobsRound)
			tft += workJobs(b, ft, ftEvents, jobs, jobsRound)
		}
		jobs += jobsRound
		if *vacuumEvery > 0 && round%*vacuumEvery == *vacuumEvery-1 {
			b.StopTimer()
			vacuumJobs(b, fx, rx)
			b.StartTimer()
		}
	}
	b.StopTimer()
	ftRate, riverRate := float64(jobs)/tft.Seconds(), float64(jobs)/triver.Seconds()
	b.ReportMetric(ftRate, "fasttrack-jobs/s")
	b.ReportMetric(riverRate, "river-jobs/s")
	b.ReportMetric(ftRate/riverRate, "ft/river")
	for _, x := range []*sqlx.DB{fx, rx} {
		var n int
		if err := x.Get(&n, "SELECT COUNT(*) FROM job_effects"); err != nil {
			b.Fatal(err)
		}
		if n != jobs {
			b.Fatalf("%d effects of %d jobs", n, jobs)
		}
	}
}

// vacuumEvery is how many turns BenchmarkJobsPaired runs between two
// VACUUMs of river_job; 0 never vacuums (go test … -args -vacuum-every=0).
var vacuumEvery = flag.Int("vacuum-every", 4, "BenchmarkJobsPaired: turns between two VACUUMs of river_job; 0 for none")

// vacuumJobs vacuums river_job on each of xs, outside the timed turns, as
// autovacuum does on a server that runs it: the test server may not (the
// one CI uses runs with autovacuum off), and River's fetch of a queue
// table that is never vacuumed reads past the index entries of every job
// it fetched before.
func vacuumJobs(b *testing.B, xs ...*sqlx.DB) {
	for _, x := range xs {
		if _, err := x.Exec("VACUUM river_job"); err != nil {
			b.Fatal(err)
		}
	}
}

// completions subscribes to c's completed and failed jobs, with room for
// size events.
func completions(c *river.Client[*sql.Tx], size int) (<-chan *river.Event, func()) {
	return c.SubscribeConfig(&river.SubscribeConfig{
		ChanSize: size,
		Kinds:    []river.EventKind{river.EventKindJobCompleted, river.EventKindJobFailed},
	})
}

// workJobs inserts n jobs on c, numbered from first, insertBatch to an
// InsertMany, waits until events reports them all completed, and returns
// how long that took.
func workJobs(b *testing.B, c *river.Client[*sql.Tx], events <-chan *river.Event, first, n int) time.Duration {
	params := make([]river.InsertManyParams, 0, min(n, insertBatch))
	start := time.Now()
	for i := first; i < first+n; i += insertBatch {
		params = params[:0]
		for j := i; j < min(i+insertBatch, first+n); j++ {
			params = append(params, river.InsertManyParams{Args: effectArgs{N: int64(j)}})
		}
		if _, err := c.InsertMany(context.Background(), params); err != nil {
			b.Fatal(err)
		}
	}
	timeout := time.After(5 * time.Minute)
	for done := 0; done < n; {
		select {
		case ev := <-events:
			if ev.Kind != river.EventKindJobCompleted {
				b.Fatalf("job %d: %s: %v", ev.Job.ID, ev.Kind, ev.Job.Errors)
			}
			done++
		case <-timeout:
			b.Fatalf("%d of %d jobs completed in 5 minutes", done, n)
		}
	}
	return time.Since(start)
}

func benchJobs(b *testing.B, x *sqlx.DB, c *river.Client[*sql.Tx]) {
	events, cancel := completions(c, b.N+1)
	defer cancel()
	b.ReportAllocs()
	b.ResetTimer()
	elapsed := workJobs(b, c, events, 0, b.N)
	b.StopTimer()
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "jobs/s")
	var n int
	if err := x.Get(&n, "SELECT COUNT(*) FROM job_effects"); err != nil {
		b.Fatal(err)
	}
	if _, err := x.Exec("TRUNCATE job_effects"); err != nil {
		b.Fatal(err)
	}
	if n != b.N {
		b.Fatalf("%d effects of %d jobs", n, b.N)
	}
	b.StartTimer()
}

// BenchmarkEnqueueInRequest measures what enqueueing one job adds to a
// request: POST /users through FastTrack, inserting the user, paired in one
// loop (as BenchmarkPaired pairs FastTrack and hand-written handlers) with
// the same POST that also enqueues a job through the scoped *jobs.Enqueuer,
// in the request's transaction. On SQLite and on PostgreSQL (skipped
// without TEST_POSTGRES_URL). with/without is the ratio of the two
// requests' times; extra-ns/op their difference.
func BenchmarkEnqueueInRequest(b *testing.B) {
	b.Run("sqlite", func(b *testing.B) {
		x, err := openSQLite(b, fmt.Sprintf("enqueue-%d.db", time.Now().UnixNano()))
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { _ = x.Close() })
		if err := seed(x); err != nil {
			b.Fatal(err)
		}
		benchEnqueue(b, x)
	})
	b.Run("postgres", func(b *testing.B) {
		x, _ := serverDB(b, db.Postgres)
		benchEnqueue(b, x)
	})
}

func benchEnqueue(b *testing.B, x *sqlx.DB) {
	d := db.DialectOf(x)
	if _, err := jobs.Migrate(context.Background(), x, d, slog.New(slog.DiscardHandler)); err != nil {
		b.Fatal(err)
	}
	with, without := enqueueEngine(b, x)
	benchPairedMetrics(b, with, without, postUserRequest, http.StatusCreated, "with", "without")
	b.StopTimer()
	trimUsers(b, x)
}

// enqueueEngine returns two engines on x with a POST /users: without
// inserts the user; with inserts it and enqueues one job in the request's
// transaction. Their request scopes are the same but for the Enqueuer.
func enqueueEngine(b *testing.B, x *sqlx.DB) (with, without *gin.Engine) {
	b.Helper()
	d := db.DialectOf(x)
	stmts := db.NewStatements(x, d, defaultStmtCache)
	b.Cleanup(func() { _ = stmts.Close() })
	reg := scope.NewRegistry()
	repo, err := scope.NewProvider(scope.Scoped, scope.Func1(NewUserRepo))
	if err != nil {
		b.Fatal(err)
	}
	enq, err := scope.NewProvider(scope.Scoped, scope.Func2(jobs.NewEnqueuer))
	if err != nil {
		b.Fatal(err)
	}
	for _, p := range append(api.TxProviders(db.PrimaryOnly(x, d), stmts, nil), repo, enq) {
		if err := reg.Add(p); err != nil {
			b.Fatal(err)
		}
	}
	// A client that inserts and works no queue (River inserts only the
	// kinds it has a worker for).
	noop := jobs.Work0(func(context.Context, *river.Job[effectArgs]) error { return nil })
	c, err := jobs.New(x, d, reg, jobs.Options{Workers: []jobs.Worker{noop}, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		b.Fatal(err)
	}
	if err := reg.Compile(map[reflect.Type]any{reflect.TypeFor[*jobs.Client](): c}); err != nil {
		b.Fatal(err)
	}
	create := func(c *gin.Context, r *UserRepo) (*User, error) {
		var in userIn
		if err := api.BindJSON(c, &in); err != nil {
			return nil, err
		}
		u, err := r.Create(c.Request.Context(), in.Name, in.Email)
		if err != nil {
			return nil, err
		}
		c.Status(http.StatusCreated)
		return u, nil
	}
	engine := func(h gin.HandlerFunc) *gin.Engine {
		e := gin.New()
		e.Use(api.NewMiddleware(reg, api.MiddlewareConfig{}).HandlerFunc())
		e.POST("/users", h)
		if err := api.CheckRoutes(e, reg); err != nil {
			b.Fatal(err)
		}
		return e
	}
	without = engine(api.Handle1(create, api.WithRetry(3)))
	with = engine(api.Handle2(func(c *gin.Context, r *UserRepo, e *jobs.Enqueuer) (*User, error) {
		u, err := create(c, r)
		if err != nil {
			return nil, err
		}
		if _, err := e.Enqueue(c.Request.Context(), effectArgs{N: u.ID}, nil); err != nil {
			return nil, err
		}
		return u, nil
	}, api.WithRetry(3)))
	return with, without
}

// benchPairedMetrics serves req on a and on o in one loop, one each per
// iteration, the order alternating (see benchPaired), and reports each
// side's ns per request (aName-ns/op, oName-ns/op), their ratio
// (aName/oName) and extra-ns/op, a's time − o's.
func benchPairedMetrics(b *testing.B, a, o *gin.Engine, req func(i int) *http.Request, status int, aName, oName string) {
	var ta, to time.Duration
	serve := func(e *gin.Engine, i int) time.Duration {
		_, d := serveTimed(b, e, req(i), status)
		return d
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if i%2 == 0 {
			ta += serve(a, i)
			to += serve(o, i)
		} else {
			to += serve(o, i)
			ta += serve(a, i)
		}
	}
	n := float64(b.N)
	b.ReportMetric(float64(ta.Nanoseconds())/n, aName+"-ns/op")
	b.ReportMetric(float64(to.Nanoseconds())/n, oName+"-ns/op")
	b.ReportMetric(float64(ta-to)/n, "extra-ns/op")
	if to > 0 {
		b.ReportMetric(float64(ta)/float64(to), aName+"/"+oName)
	}
}
