package db

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"fmt"
	"net/url"
	"time"

	"github.com/fasttrack-go/fasttrack/db/internal/pgbegin"
	"github.com/fasttrack-go/fasttrack/dburl"
	_ "github.com/go-sql-driver/mysql" // registers "mysql"
	_ "github.com/jackc/pgx/v5/stdlib" // registers "pgx"
	"github.com/jmoiron/sqlx"
	"github.com/jmoiron/sqlx/reflectx"
	_ "modernc.org/sqlite" // registers "sqlite"
)

// The limits a zero Pool field stands for, which config.Default has too.
const (
	// DefaultMaxOpenConns is the default of Pool.MaxOpenConns.
	DefaultMaxOpenConns = 10
	// DefaultMaxIdleConns is the default of Pool.MaxIdleConns.
	DefaultMaxIdleConns = 10
	// DefaultConnMaxLifetime is the default of Pool.ConnMaxLifetime.
	DefaultConnMaxLifetime = 30 * time.Minute
	// DefaultConnMaxIdleTime is the default of Pool.ConnMaxIdleTime.
	DefaultConnMaxIdleTime = 5 * time.Minute
)

// Pool is the connection limits of a pool Open opens. A zero field takes
// its default (DefaultMaxOpenConns, …); a negative one means what
// database/sql means by a value <= 0: no limit, or for MaxIdleConns no
// idle connection kept. The config package's DB_* variables, where 0
// means no limit, map to a Pool with 0 written as -1:
// fxmodules.DatabasePool maps them.
type Pool struct {
	// MaxOpenConns caps the open connections: default 10, negative for
	// no limit.
	MaxOpenConns int
	// MaxIdleConns caps the idle connections kept: default 10, negative
	// for none; database/sql lowers it to MaxOpenConns.
	MaxIdleConns int
	// ConnMaxLifetime closes a connection that old: default 30m,
	// negative for no limit.
	ConnMaxLifetime time.Duration
	// ConnMaxIdleTime closes a connection idle that long: default 5m,
	// negative for no limit.
	ConnMaxIdleTime time.Duration
}

// limits returns p with its zero fields set to their defaults.
func (p Pool) limits() Pool {
	if p.MaxOpenConns == 0 {
		p.MaxOpenConns = DefaultMaxOpenConns
	}
	if p.MaxIdleConns == 0 {
		p.MaxIdleConns = DefaultMaxIdleConns
	}
	if p.ConnMaxLifetime == 0 {
		p.ConnMaxLifetime = DefaultConnMaxLifetime
	}
	if p.ConnMaxIdleTime == 0 {
		p.ConnMaxIdleTime = DefaultConnMaxIdleTime
	}
	return p
}

// Open opens a pool on databaseURL, a URL of the grammar of package dburl
// (sqlite:PATH, sqlite::memory:, postgres://…, mysql://…), with pool's
// limits, and returns it with its dialect. It does not connect: call Ping
// to check that the database answers. A URL dburl refuses fails with its
// *dburl.Error; no error contains the URL's password.
//
// An in-memory SQLite database lives as long as one of its connections:
// its pool keeps its connections for the life of the pool, whatever the
// lifetimes of pool.
func Open(databaseURL string, pool Pool) (*sqlx.DB, Dialect, error) {
	t, err := dburl.Parse(databaseURL)
	if err != nil {
		return nil, "", err
	}
	c, err := Connector(t)
	if err != nil {
		return nil, "", fmt.Errorf("db: open %s: %s", dburl.Redact(databaseURL), dburl.RedactText(err.Error(), databaseURL))
	}
	x := Wrap(sql.OpenDB(c), t.Driver)
	p := pool.limits()
	x.SetMaxOpenConns(p.MaxOpenConns)
	x.SetMaxIdleConns(p.MaxIdleConns)
	x.SetConnMaxLifetime(p.ConnMaxLifetime)
	x.SetConnMaxIdleTime(p.ConnMaxIdleTime)
	if t.Memory {
		x.SetMaxIdleConns(max(p.MaxOpenConns, 1))
		x.SetConnMaxLifetime(0)
		x.SetConnMaxIdleTime(0)
	}
	return x, Dialect(t.Dialect), nil
}

// Connector returns the connector Open opens t's pool with, for a pool
// opened with sql.OpenDB through a wrapping driver (tracing, counting).
// On PostgreSQL its connections send a transaction's BEGIN together with
// the transaction's first statement, one round trip instead of two; the
// other databases get their driver's own connector.
func Connector(t dburl.Target) (driver.Connector, error) {
	if t.Dialect == dburl.Postgres {
		return pgbegin.NewConnector(t.DSN)
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
		msg := dburl.RedactText(err.Error(), databaseURL)
		if ctx.Err() != nil {
			return fmt.Errorf("db: %s did not answer in time: %s: %w", dburl.Redact(databaseURL), msg, ErrConnLost)
		}
		return fmt.Errorf("db: cannot reach %s: %s: %w", dburl.Redact(databaseURL), msg, ErrConnLost)
	}
	return nil
}

// OpenReplicas opens a pool on each of urls, PostgreSQL replicas, with
// pool's limits, named by their redacted URLs: the replicas of a
// ClusterOptions. A URL without connect_timeout gets
// ReplicaConnectTimeout's, so that a replica that does not answer fails
// a connection quickly, and its work goes to the primary. A URL that is not PostgreSQL's fails with
// ErrReplicaDialect; on any error, the pools already opened are closed.
func OpenReplicas(urls []string, pool Pool) ([]Replica, error) {
	var out []Replica
	for _, u := range urls {
		x, d, err := Open(withConnectTimeout(u), pool)
		if err == nil && d != Postgres {
			x.Close()
			err = fmt.Errorf("%w: %s is %s", ErrReplicaDialect, dburl.Redact(u), d.Name())
		}
		if err != nil {
			for _, r := range out {
				r.DB.Close()
			}
			return nil, err
		}
		out = append(out, Replica{Name: dburl.Redact(u), DB: x})
	}
	return out, nil
}

// ReplicaConnectTimeout is the connect_timeout, in seconds, OpenReplicas
// gives a replica URL that sets none.
const ReplicaConnectTimeout = "2"

// withConnectTimeout returns u with connect_timeout=ReplicaConnectTimeout
// when it is a URL without one; other text unchanged.
func withConnectTimeout(u string) string {
	p, err := url.Parse(u)
	if err != nil || p.Scheme == "" || p.Query().Has("connect_timeout") {
		return u
	}
	q := p.Query()
	q.Set("connect_timeout", ReplicaConnectTimeout)
	p.RawQuery = q.Encode()
	return p.String()
}
