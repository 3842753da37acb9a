package main

import (
	"context"
	"log/slog"

	"github.com/fasttrack-go/fasttrack/cmd/app/posts"
	"github.com/fasttrack-go/fasttrack/cmd/app/users"
	"github.com/fasttrack-go/fasttrack/config"
	"github.com/fasttrack-go/fasttrack/db"
	"github.com/fasttrack-go/fasttrack/dburl"
	"github.com/fasttrack-go/fasttrack/fxmodules"
	"github.com/fasttrack-go/fasttrack/jobs"
	"go.uber.org/fx"
)

// features are the app's features on a database of dialect d: users and
// posts, and background jobs (the users' welcome email) except on MySQL,
// where River has no driver. There the app runs without jobs, POST /users
// enqueues no welcome email, and the start log says so once.
func features(d db.Dialect) fx.Option {
	opts := fx.Options(users.Module(), posts.Module())
	if d == db.MySQL {
		return fx.Options(opts, jobsOff(jobs.ErrNoDriver.Error()))
	}
	return fx.Options(opts, fxmodules.Jobs())
}

// jobsOff logs, when the app starts, that it runs no jobs, and why.
func jobsOff(reason string) fx.Option {
	return fx.Invoke(func(lc fx.Lifecycle, log *slog.Logger) {
		lc.Append(fx.StartHook(func(ctx context.Context) {
			log.WarnContext(ctx, "jobs off: POST /users sends no welcome email", "reason", reason)
		}))
	})
}

// envDialect is the dialect of the environment's DATABASE_URL. A
// configuration that does not load gives "": the app's own start reports
// the error.
func envDialect() db.Dialect {
	cfg, err := config.Load()
	if err != nil {
		return ""
	}
	t, err := dburl.Parse(cfg.DatabaseURL)
	if err != nil {
		return ""
	}
	return db.Dialect(t.Dialect)
}
