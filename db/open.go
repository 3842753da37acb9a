package db

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/fasttrack-go/fasttrack/config"
	_ "github.com/go-sql-driver/mysql" // registers "mysql"
	_ "github.com/jackc/pgx/v5/stdlib" // registers "pgx"
	"github.com/jmoiron/sqlx"
	"github.com/jmoiron/sqlx/reflectx"
	_ "modernc.org/sqlite" // registers "sqlite"
)

// Open opens the pool for cfg.DatabaseURL with cfg's pool limits. It does not
// connect: call Ping to check that the database is reachable.
func Open(cfg config.Config) (*sqlx.DB, Dialect, error) {
	t, err := ParseURL(cfg.DatabaseURL)
	if err != nil {
		return nil, "", err
	}
	sqlDB, err := sql.Open(t.Driver, t.DSN)
	if err != nil {
		return nil, "", fmt.Errorf("db: open %s: %s", config.Redact(cfg.DatabaseURL), redactText(err.Error(), urlPassword(cfg.DatabaseURL)))
	}
	x := Wrap(sqlDB, t.Driver)
	x.SetMaxOpenConns(cfg.DBMaxOpenConns)
	x.SetMaxIdleConns(cfg.DBMaxIdleConns)
	x.SetConnMaxLifetime(cfg.DBConnMaxLifetime)
	x.SetConnMaxIdleTime(cfg.DBConnMaxIdleTime)
	if t.Memory {
		// An in-memory database vanishes with its last connection: keep
		// the pool's connections for the life of the pool.
		x.SetMaxIdleConns(max(cfg.DBMaxOpenConns, 1))
		x.SetConnMaxLifetime(0)
		x.SetConnMaxIdleTime(0)
	}
	return x, t.Dialect, nil
}

// Wrap makes a *sqlx.DB of a pool opened with driver, mapping struct fields
// without a db tag to snake_case columns (see SnakeCase), as Open does.
func Wrap(pool *sql.DB, driver string) *sqlx.DB {
	x := sqlx.NewDb(pool, driver)
	x.Mapper = reflectx.NewMapperFunc("db", SnakeCase)
	return x
}

// Ping checks that the database answers within ctx. Its error names the
// database by its redacted URL and never contains the password.
func Ping(ctx context.Context, x *sqlx.DB, databaseURL string) error {
	if err := x.PingContext(ctx); err != nil {
		msg := redactText(err.Error(), urlPassword(databaseURL))
		if ctx.Err() != nil {
			return fmt.Errorf("db: %s did not answer in time: %s: %w", config.Redact(databaseURL), msg, ErrConnLost)
		}
		return fmt.Errorf("db: cannot reach %s: %s: %w", config.Redact(databaseURL), msg, ErrConnLost)
	}
	return nil
}
