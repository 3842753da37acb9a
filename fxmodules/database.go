package fxmodules

import (
	"context"
	"log/slog"
	"time"

	"github.com/fasttrack-go/fasttrack/config"
	"github.com/fasttrack-go/fasttrack/db"
	"github.com/fasttrack-go/fasttrack/dburl"
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
	x, d, err := db.Open(cfg.DatabaseURL, DatabasePool(cfg))
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
			log.Info("database ready", "dialect", d.Name(), "url", dburl.Redact(cfg.DatabaseURL))
			return nil
		},
		OnStop: func(context.Context) error { return x.Close() },
	})
	return databaseOut{DB: x, Dialect: d}, nil
}

// DatabasePool returns the pool limits of cfg's DB_MAX_OPEN_CONNS,
// DB_MAX_IDLE_CONNS, DB_CONN_MAX_LIFETIME and DB_CONN_MAX_IDLE_TIME, which
// Database opens its pool with: pass it to db.Open to open another pool
// the same way. A variable's 0 (no limit, or no idle connection kept)
// becomes the field's negative, since a zero db.Pool field stands for its
// default.
func DatabasePool(cfg config.Config) db.Pool {
	return db.Pool{
		MaxOpenConns:    orNegative(cfg.DBMaxOpenConns),
		MaxIdleConns:    orNegative(cfg.DBMaxIdleConns),
		ConnMaxLifetime: orNegative(cfg.DBConnMaxLifetime),
		ConnMaxIdleTime: orNegative(cfg.DBConnMaxIdleTime),
	}
}

// orNegative returns n, or -1 for 0.
func orNegative[N int | time.Duration](n N) N {
	if n == 0 {
		return -1
	}
	return n
}
