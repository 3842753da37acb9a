package fxmodules

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path"
	"reflect"

	"github.com/fasttrack-go/fasttrack/config"
	"github.com/fasttrack-go/fasttrack/db"
	"github.com/fasttrack-go/fasttrack/dburl"
	"github.com/fasttrack-go/fasttrack/jobs"
	"github.com/fasttrack-go/fasttrack/scope"
	"github.com/jmoiron/sqlx"
	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/fx"
)

// Jobs runs background jobs on River in the application's database (see
// package jobs), with workers, and JobWorkers adds more from other
// modules. It provides the *jobs.Client, a singleton, and the scoped
// *jobs.Enqueuer, which inserts jobs in the scope's transaction.
//
// The client works the queues of JOBS_QUEUES (config.Config.JobsQueues),
// none with JobsInsertOnly.
// Each attempt's transaction has the N+1 detector of N_PLUS_ONE and
// N_PLUS_ONE_THRESHOLD: in error mode, an attempt it catches fails and
// rolls back. Each attempt's end is logged on the app's *slog.Logger and,
// with Metrics, counted on its *prometheus.Registry (see jobs.Client).
// With Tracing on, each attempt is a span, with its transaction's and
// statements' spans under it (jobs.Options.TracerProvider).
// It starts with the app — before the HTTP server listens, and stops after
// the server has shut down and before the pool closes, whatever the order
// of the application's options — after River's schema is migrated when
// MIGRATE_ON_START is set (the migrate command's up migrates it too); a
// worker whose dependency nothing provides fails the start, naming the
// type, and so do River's tables when they are not migrated
// (jobs.ErrNotMigrated), the error naming the migrate up command. It stops with the app: it fetches no new job and waits for the
// running ones for half the stop time left (STOP_TIMEOUT),
// then cancels them; a cancelled job rolls back and is retried later.
//
// On PostgreSQL, River works on the application's pool. On SQLite, River
// runs its own work (fetching, completing, maintenance) on a pool of one
// connection to the same file, as River advises for SQLite, beside the
// application's pool; until the app starts, that pool keeps no connection
// open, so that an app built and never started (the jobs commands) leaves
// no file open; an in-memory database shares the application's
// pool. On MySQL, for which River has no driver, the start fails with
// jobs.ErrNoDriver.
//
// Jobs needs RequestScope (Framework has it).
func Jobs(workers ...jobs.Worker) fx.Option {
	return fx.Options(
		JobWorkers(workers...),
		fx.Module("fasttrack.jobs",
			fx.Provide(newJobs),
			fx.Invoke(func(*jobs.Client) {}), // started even if nothing takes it
		),
		Scoped(scope.Func2(jobs.NewEnqueuer)),
	)
}

// JobWorkers adds workers to the Jobs client, from any module. Their
// singleton dependencies are looked up when the app is built (see
// Singleton), and the start fails on one that nothing provides.
func JobWorkers(workers ...jobs.Worker) fx.Option {
	opts := make([]fx.Option, 0, 2*len(workers))
	for _, w := range workers {
		opts = append(opts,
			fx.Supply(fx.Annotate(w, fx.ResultTags(`group:"fasttrack.jobs.workers"`))),
			workerSingletons(w))
	}
	return fx.Options(opts...)
}

// ConfigureJobs lets the app adjust the jobs.Options that Jobs makes its
// client with, after FastTrack has filled them from the configuration: for
// example Options.River, to set River's retry policy, job timeout or
// periodic jobs.
func ConfigureJobs(fn func(*jobs.Options)) fx.Option {
	return fx.Supply(fx.Annotate(fn, fx.ResultTags(`group:"fasttrack.jobs.configure"`)))
}

// workerSingletons hands the singletons among w's dependencies to the
// request scope's registry, as Scoped does for a constructor.
func workerSingletons(w jobs.Worker) fx.Option {
	var params []reflect.Type
	for _, t := range w.Deps() {
		if !frameworkScoped(t) {
			params = append(params, t)
		}
	}
	return Lookup(params, func(r *registrar, values []any, present []bool) {
		for i, t := range params {
			if present[i] {
				r.singletons[t] = values[i]
			}
		}
	})
}

type jobsIn struct {
	fx.In
	Lifecycle  fx.Lifecycle
	DB         *sqlx.DB
	Dialect    db.Dialect
	Registry   *scope.Registry
	Config     config.Config
	Logger     *slog.Logger
	Workers    []jobs.Worker         `group:"fasttrack.jobs.workers"`
	Configures []func(*jobs.Options) `group:"fasttrack.jobs.configure"`
	Prometheus *prometheus.Registry  `optional:"true"`
	Tracing    *tracing              `optional:"true"`
	InsertOnly *jobsInsertOnly       `optional:"true"`
}

func newJobs(in jobsIn) (*jobs.Client, error) {
	if in.Dialect == db.MySQL {
		return nil, fmt.Errorf("fasttrack: fxmodules.Jobs: %w", jobs.ErrNoDriver)
	}
	queues, err := config.ParseQueues(in.Config.JobsQueues)
	if err != nil {
		return nil, fmt.Errorf("fasttrack: JOBS_QUEUES=%q: %w", in.Config.JobsQueues, err)
	}
	mode, err := db.ParseNPlusOneMode(in.Config.NPlusOne)
	if err != nil {
		return nil, fmt.Errorf("fasttrack: N_PLUS_ONE: %w", err)
	}
	opts := jobs.Options{
		Queues:  queues,
		Workers: in.Workers,
		Logger:  in.Logger,
		Tx:      db.TxOptions{NPlusOne: db.NPlusOne{Mode: mode, Threshold: in.Config.NPlusOneThreshold}},
	}
	if in.Prometheus != nil {
		opts.Metrics = in.Prometheus
	}
	if in.Tracing != nil {
		opts.TracerProvider = in.Tracing.provider
	}
	var own *sql.DB
	if in.Dialect == db.SQLite {
		if t, err := dburl.Parse(in.Config.DatabaseURL); err == nil && !t.Memory {
			// No idle connection until the start: an app built and never
			// started (the jobs commands) keeps no file open here.
			x, _, err := db.Open(in.Config.DatabaseURL, db.Pool{MaxOpenConns: 1, MaxIdleConns: -1})
			if err != nil {
				return nil, fmt.Errorf("fasttrack: jobs: %w", err)
			}
			own, opts.Pool = x.DB, x.DB
		}
	}
	for _, fn := range in.Configures {
		fn(&opts)
	}
	if in.InsertOnly != nil {
		opts.Queues = nil // River is then not started: no queue, no maintenance
	}
	c, err := jobs.New(in.DB, in.Dialect, in.Registry, opts)
	if err != nil {
		if own != nil {
			_ = own.Close()
		}
		return nil, fmt.Errorf("fasttrack: %w", err)
	}
	in.Lifecycle.Append(fx.Hook{
		OnStart: func(ctx context.Context) error {
			if own != nil {
				own.SetMaxIdleConns(1) // River's work keeps its connection
			}
			err := startJobs(ctx, in, c)
			if err != nil && own != nil {
				_ = own.Close() // Fx calls no stop hook of a failed start
			}
			return err
		},
		OnStop: func(ctx context.Context) error {
			err := c.Stop(ctx)
			if err == nil {
				in.Logger.Info("jobs stopped")
			}
			if own != nil {
				err = errors.Join(err, own.Close())
			}
			return err
		},
	})
	return c, nil
}

// startJobs migrates River's schema when MIGRATE_ON_START is set, checks
// the workers and starts c.
func startJobs(ctx context.Context, in jobsIn, c *jobs.Client) error {
	if in.Config.MigrateOnStart {
		applied, err := c.Migrate(ctx, in.Logger)
		if err != nil {
			return err
		}
		if len(applied) > 0 {
			in.Logger.Info("job queue migrations applied", "count", len(applied), "versions", applied)
		}
	}
	if err := c.Start(ctx); err != nil {
		if errors.Is(err, jobs.ErrNotMigrated) {
			return fmt.Errorf("fasttrack: %w; run %q first (package cli's migrate up, which migrates River's tables too), "+
				"or start with MIGRATE_ON_START=true", err, migrateUpCommand())
		}
		return fmt.Errorf("fasttrack: %w", err)
	}
	in.Logger.Info("jobs started", "queues", in.Config.JobsQueues)
	return nil
}

// migrateUpCommand returns the command line that applies the app's
// migrations and River's, as package cli names it: the program's name,
// then migrate up.
func migrateUpCommand() string {
	return path.Base(os.Args[0]) + " migrate up"
}
