package fxmodules

import (
	"context"
	"log/slog"

	"github.com/fasttrack-go/fasttrack/config"
	"github.com/fasttrack-go/fasttrack/db"
	"github.com/jmoiron/sqlx"
	"go.uber.org/fx"
)

// Database provides the pooled *sqlx.DB and its db.Dialect. On start it pings
// the database within config.Config.StartTimeout and fails with a redacted error
// when it is unreachable; on stop it closes the pool, after the HTTP server
// has drained (Fx stops hooks in reverse order, and the server is started
// after the pool).
func Database() fx.Option {
	return fx.Module("database", fx.Provide(newDatabase))
}

type databaseOut struct {
	fx.Out
	DB      *sqlx.DB
	Dialect db.Dialect
}

func newDatabase(lc fx.Lifecycle, cfg config.Config, log *slog.Logger) (databaseOut, error) {
	x, d, err := db.Open(cfg)
	if err != nil {
		return databaseOut{}, err
	}
	lc.Append(fx.Hook{
		OnStart: func(ctx context.Context) error {
			ctx, cancel := context.WithTimeout(ctx, cfg.StartTimeout)
			defer cancel()
			if err := db.Ping(ctx, x, cfg.DatabaseURL); err != nil {
				return err
			}
			log.Info("database ready", "dialect", d.Name(), "url", config.Redact(cfg.DatabaseURL))
			return nil
		},
		OnStop: func(context.Context) error { return x.Close() },
	})
	return databaseOut{DB: x, Dialect: d}, nil
}
