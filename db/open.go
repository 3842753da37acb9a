package db

import (
	"context"
	"database/sql"
	"database/sql/driver"
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
	c, err := Connector(t)
	if err != nil {
		return nil, "", fmt.Errorf("db: open %s: %s", config.Redact(cfg.DatabaseURL), redactText(err.Error(), urlPassword(cfg.DatabaseURL)))
	}
	x := Wrap(sql.OpenDB(c), t.Driver)
	SetLimits(x.DB, cfg)
	if t.Memory {
		// An in-memory database vanishes with its last connection: keep
		// the pool's connections for the life of the pool.
		x.SetMaxIdleConns(max(cfg.DBMaxOpenConns, 1))
		x.SetConnMaxLifetime(0)
		x.SetConnMaxIdleTime(0)
	}
	return x, t.Dialect, nil
}

// SetLimits sets cfg's pool limits (DB_MAX_OPEN_CONNS, DB_MAX_IDLE_CONNS,
// DB_CONN_MAX_LIFETIME, DB_CONN_MAX_IDLE_TIME) on pool, as Open does.
func SetLimits(pool *sql.DB, cfg config.Config) {
	pool.SetMaxOpenConns(cfg.DBMaxOpenConns)
	pool.SetMaxIdleConns(cfg.DBMaxIdleConns)
	pool.SetConnMaxLifetime(cfg.DBConnMaxLifetime)
	pool.SetConnMaxIdleTime(cfg.DBConnMaxIdleTime)
}

// Connector returns the connector Open opens t's pool with, for a pool
// opened with sql.OpenDB through a wrapping driver (tracing, counting).
// On PostgreSQL its connections send a transaction's BEGIN together with
// the transaction's first statement, one round trip instead of two; the
// other databases get their driver's own connector.
func Connector(t Target) (driver.Connector, error) {
	if t.Dialect == Postgres {
		return newPGConnector(t.DSN)
	}
	d, err := driverOf(t.Driver)
	if err != nil {
		return nil, err
	}
	if dc, ok := d.(driver.DriverContext); ok {
		return dc.OpenConnector(t.DSN)
	}
	return dsnConnector{d: d, dsn: t.DSN}, nil
}

// driverOf returns the registered driver called name.
func driverOf(name string) (driver.Driver, error) {
	probe, err := sql.Open(name, "")
	if err != nil {
		return nil, err
	}
	defer probe.Close()
	return probe.Driver(), nil
}

// dsnConnector opens connections of a driver without a connector of its
// own.
type dsnConnector struct {
	d   driver.Driver
	dsn string
}

// Connect opens a connection.
func (c dsnConnector) Connect(context.Context) (driver.Conn, error) { return c.d.Open(c.dsn) }

// Driver returns the driver.
func (c dsnConnector) Driver() driver.Driver { return c.d }

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
