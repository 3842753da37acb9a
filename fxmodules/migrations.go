package fxmodules

import (
	"context"
	"io/fs"
	"log/slog"

	"github.com/fasttrack-go/fasttrack/config"
	"github.com/fasttrack-go/fasttrack/db"
	"github.com/jmoiron/sqlx"
	"go.uber.org/fx"
)

// Migrations provides a *db.Migrator over the application's migrations in
// fsys (see db.NewMigrator for the per-dialect layout) and, when
// config.Config.MigrateOnStart is set, applies pending migrations on start, after the
// database answers and before the HTTP server listens. On PostgreSQL and
// MySQL the migrator holds goose's lock, so instances started together apply
// each migration once.
func Migrations(fsys fs.FS) fx.Option {
	return fx.Module("migrations",
		fx.Provide(func(x *sqlx.DB, d db.Dialect, log *slog.Logger) (*db.Migrator, error) {
			return db.NewMigrator(x, d, fsys, log)
		}),
		fx.Invoke(migrateOnStart),
	)
}

func migrateOnStart(lc fx.Lifecycle, cfg config.Config, m *db.Migrator, log *slog.Logger) {
	if !cfg.MigrateOnStart {
		return
	}
	lc.Append(fx.StartHook(func(ctx context.Context) error {
		applied, err := m.Up(ctx)
		if err != nil {
			return err
		}
		log.Info("migrations applied", "count", len(applied), "versions", applied)
		return nil
	}))
}
