package jobs

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/fasttrack-go/fasttrack/config"
	"github.com/fasttrack-go/fasttrack/db"
	"github.com/fasttrack-go/fasttrack/scope"
	"github.com/jmoiron/sqlx"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver"
	"github.com/riverqueue/river/riverdriver/riverdatabasesql"
	"github.com/riverqueue/river/riverdriver/riversqlite"
	"go.opentelemetry.io/otel/trace"
)

// ErrNoDriver is returned by New on a database River has no driver for:
// MySQL.
var ErrNoDriver = errors.New("jobs: River has no MySQL driver; jobs need PostgreSQL or SQLite")

// Options configure a Client.
type Options struct {
	// Queues are the queues the client works and how many jobs of each
	// run at once (config.ParseQueues reads JOBS_QUEUES into them). None:
	// the client inserts jobs and works none.
	Queues []config.Queue
	// Workers are the workers, one per job kind.
	Workers []Worker
	// Pool is the pool River runs its own work on (fetching, completing,
	// maintenance); nil is the application's pool. Inserting and
	// completing in a unit of work always use its transaction. On SQLite,
	// River advises a pool of one connection (fxmodules.Jobs opens one).
	Pool *sql.DB
	// Logger receives River's logs and one line per attempt's end (see
	// Client); nil is slog.Default().
	Logger *slog.Logger
	// Metrics, when set, receives the job metrics (see Client).
	Metrics prometheus.Registerer
	// Tx are the options of each attempt's transaction: its N+1 detector
	// (db.TxOptions.NPlusOne), timeout and tracer.
	Tx db.TxOptions
	// TracerProvider, when set and not a no-op provider, receives a span
	// per attempt, SpanNamePrefix and the job's kind ("job welcome"), a
	// child of the span in the job's context or else a root, with
	// AttrJobID, AttrJobKind, AttrJobQueue, AttrJobAttempt and
	// AttrJobOutcome; an attempt that fails, panics or is interrupted
	// gets the error status and its error's class (error.type), never its
	// message. The attempt's transaction and statements are traced under
	// it (a db.NewTracer of this provider, unless Tx.Tracer is set). Nil
	// (or a no-op provider) traces nothing and costs nothing per attempt.
	TracerProvider trace.TracerProvider
	// River, when set, adjusts River's configuration last, before the
	// client is made (retry policy, job timeout, periodic jobs, …).
	River func(*river.Config)
}

// Client is River's client on the application's database, with workers
// that run in the request scope's rules.
//
// The end of each attempt is logged on Options.Logger, with the attributes
// job_id, kind, queue, attempt, max_attempts, outcome, duration and, for a
// failure, error: "job completed" (and "job cancelled", "job snoozed", "job
// interrupted") at INFO, "job failed" at WARN, "job discarded" and "job
// panicked" at ERROR. With Options.Metrics, it is counted in
//
//	fasttrack_jobs_total{kind,outcome}      attempts ended, by outcome (OutcomeCompleted, …)
//	fasttrack_jobs_duration_seconds{kind}   attempts' run time, commit included (histogram)
//	fasttrack_jobs_queue_depth{queue}       jobs available to work, counted when scraped
type Client struct {
	river       *river.Client[*sql.Tx]
	x           *sqlx.DB
	dialect     db.Dialect
	schema      string // River's Config.Schema: "" for the search path's
	reg         *scope.Registry
	bindings    []binding
	working     bool
	tx          db.TxOptions
	obs         *observer
	tracer      trace.Tracer // nil: attempts are not traced
	completeSQL string       // completes a job on PostgreSQL (see complete); "" elsewhere
	stopping    atomic.Bool
}

// New returns a Client on x, whose workers resolve their dependencies from
// reg. It fails with ErrNoDriver on MySQL, and when River refuses the
// configuration (a queue name, a worker count, two workers of one kind).
func New(x *sqlx.DB, d db.Dialect, reg *scope.Registry, opts Options) (*Client, error) {
	pool := opts.Pool
	if pool == nil {
		pool = x.DB
	}
	var driver riverdriver.Driver[*sql.Tx]
	switch d {
	case db.Postgres:
		driver = riverdatabasesql.New(pool)
	case db.SQLite:
		driver = riversqlite.New(pool)
	default:
		return nil, ErrNoDriver
	}
	c := &Client{x: x, dialect: d, reg: reg, working: len(opts.Queues) > 0, tx: opts.Tx}
	if db.TracingEnabled(opts.TracerProvider) {
		c.tracer = opts.TracerProvider.Tracer(TracerName)
		if c.tx.Tracer == nil {
			c.tx.Tracer = db.NewTracer(opts.TracerProvider, d)
		}
	}
	workers := river.NewWorkers()
	for _, w := range opts.Workers {
		b, err := w.bind(c, workers)
		if err != nil {
			return nil, fmt.Errorf("jobs: worker %s: %w", w.name, err)
		}
		c.bindings = append(c.bindings, b)
	}
	logger := opts.Logger
	if logger == nil {
		logger = slog.Default()
	}
	logger = logger.With("component", "jobs")
	c.obs = &observer{log: logger, stopping: &c.stopping}
	rc := &river.Config{Workers: workers, Logger: logger}
	if len(opts.Queues) > 0 {
		rc.Queues = make(map[string]river.QueueConfig, len(opts.Queues))
		for _, q := range opts.Queues {
			rc.Queues[q.Name] = river.QueueConfig{MaxWorkers: q.MaxWorkers}
		}
	}
	if opts.River != nil {
		opts.River(rc)
	}
	c.schema = rc.Schema
	if d == db.Postgres {
		c.completeSQL = completeSQL(rc.Schema)
	}
	rc2, err := river.NewClient(driver, rc)
	if err != nil {
		return nil, fmt.Errorf("jobs: %w", err)
	}
	c.river = rc2
	if opts.Metrics != nil {
		queues := make([]string, len(opts.Queues))
		for i, q := range opts.Queues {
			queues[i] = q.Name
		}
		if c.obs.m, err = newMetrics(opts.Metrics, x.DB, riverTable(rc.Schema), queues, logger); err != nil {
			return nil, err
		}
	}
	return c, nil
}

// River returns River's client, for what this package does not wrap:
// listing, cancelling and retrying jobs, subscribing to events, queues.
func (c *Client) River() *river.Client[*sql.Tx] { return c.river }

// Check builds each worker's resolution plan from the compiled registry:
// it fails, naming the types, when a worker takes one that is neither
// scoped, transient, a singleton given to the registry nor
// context.Context. Start calls it.
func (c *Client) Check() error {
	var errs []error
	for _, b := range c.bindings {
		if err := b.plan(c.reg); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// Start checks the workers (see Check) and, when the client has queues,
// starts working them. Jobs run on contexts derived from ctx without its
// cancellation: Stop ends them.
func (c *Client) Start(ctx context.Context) error {
	if err := c.Check(); err != nil {
		return err
	}
	if !c.working {
		return nil
	}
	if err := c.river.Start(context.WithoutCancel(ctx)); err != nil {
		return c.startError(ctx, err)
	}
	return nil
}

// ErrNotMigrated is the error of a Start that failed while River's
// migrations are pending: its tables are missing (Migrate was never run) or
// behind the River this binary holds. Migrate applies them.
var ErrNotMigrated = errors.New("jobs: River's tables are not migrated")

// startError returns the error of a start that River failed with err. When
// River's migrations are pending, it wraps ErrNotMigrated and says how many,
// since River's own error only names a missing table or column; otherwise,
// or when they cannot be listed, it returns err as it is.
func (c *Client) startError(ctx context.Context, err error) error {
	ms, merr := Migrations(ctx, c.x, c.dialect)
	pending := 0
	for _, m := range ms {
		if !m.Applied {
			pending++
		}
	}
	if merr != nil || pending == 0 {
		return fmt.Errorf("jobs: start: %w", err)
	}
	return &notMigratedError{pending: pending, total: len(ms), err: err}
}

// notMigratedError is the error of a start that River failed with err while
// pending of River's total migrations were not applied.
type notMigratedError struct {
	pending, total int
	err            error
}

func (e *notMigratedError) Error() string {
	return fmt.Sprintf("jobs: start: River's tables are not migrated (%d of its %d migrations pending): %v", e.pending, e.total, e.err)
}

// Unwrap returns ErrNotMigrated and River's error.
func (e *notMigratedError) Unwrap() []error { return []error{ErrNotMigrated, e.err} }

// Stop stops a started client: it fetches no new job and waits for the
// running ones (a soft stop) until half the time left before
// ctx's deadline has passed, then cancels their contexts (a hard stop) and
// waits for them to return until ctx is done. A cancelled job rolls back
// and River retries it later. Without a deadline on ctx, Stop waits for
// the running jobs as long as ctx allows.
func (c *Client) Stop(ctx context.Context) error {
	if !c.working {
		return nil
	}
	soft := ctx
	if dl, ok := ctx.Deadline(); ok {
		var cancel context.CancelFunc
		soft, cancel = context.WithDeadline(ctx, time.Now().Add(time.Until(dl)/2))
		defer cancel()
	}
	err := c.river.Stop(soft)
	if err == nil || ctx.Err() != nil || soft.Err() == nil {
		if err != nil {
			return fmt.Errorf("jobs: stop: %w", err)
		}
		return nil
	}
	c.stopping.Store(true)
	if err := c.river.StopAndCancel(ctx); err != nil {
		return fmt.Errorf("jobs: stop: running jobs did not return after their contexts were cancelled: %w", err)
	}
	return nil
}
