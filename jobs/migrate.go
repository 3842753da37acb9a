package jobs

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"

	"github.com/fasttrack-go/fasttrack/db"
	"github.com/jmoiron/sqlx"
	"github.com/riverqueue/river/riverdriver"
	"github.com/riverqueue/river/riverdriver/riverdatabasesql"
	"github.com/riverqueue/river/riverdriver/riversqlite"
	"github.com/riverqueue/river/rivermigrate"
)

// Migration is one of River's schema migrations and whether it is applied.
type Migration struct {
	Version int
	Name    string
	Applied bool
}

// migrator returns River's migrator on x, for River's tables in schema
// ("" for the search path's).
func migrator(x *sqlx.DB, d db.Dialect, schema string, logger *slog.Logger) (*rivermigrate.Migrator[*sql.Tx], error) {
	var driver riverdriver.Driver[*sql.Tx]
	switch d {
	case db.Postgres:
		driver = riverdatabasesql.New(x.DB)
	case db.SQLite:
		driver = riversqlite.New(x.DB)
	default:
		return nil, ErrNoDriver
	}
	if logger == nil {
		logger = slog.Default()
	}
	m, err := rivermigrate.New(driver, &rivermigrate.Config{Schema: schema, Logger: logger.With("component", "jobs.migrate")})
	if err != nil {
		return nil, fmt.Errorf("jobs: migrations: %w", err)
	}
	return m, nil
}

// migrateLock is the PostgreSQL advisory lock key Migrate holds.
const migrateLock = 0x66745f72697665 // "ft_rive"

// Migrate applies River's pending migrations (its tables river_job,
// river_queue, …) with River's migrator, and returns the versions applied.
// On PostgreSQL it takes one connection of x's pool, holds an advisory lock
// on it, so that instances starting together apply each migration once,
// and applies each migration in a transaction of its own on that same
// connection: a pool of one connection suffices. It fails with ErrNoDriver
// on MySQL. River's tables go to the search path's schema; Client.Migrate
// uses the client's (River's Config.Schema).
func Migrate(ctx context.Context, x *sqlx.DB, d db.Dialect, logger *slog.Logger) (applied []int, err error) {
	return migrate(ctx, x, d, "", logger)
}

// Migrate is the package's Migrate on the client's pool, for River's tables
// in the client's schema (River's Config.Schema).
func (c *Client) Migrate(ctx context.Context, logger *slog.Logger) (applied []int, err error) {
	return migrate(ctx, c.x, c.dialect, c.schema, logger)
}

// migrate is Migrate for River's tables in schema.
func migrate(ctx context.Context, x *sqlx.DB, d db.Dialect, schema string, logger *slog.Logger) (applied []int, err error) {
	m, err := migrator(x, d, schema, logger)
	if err != nil {
		return nil, err
	}
	if d == db.Postgres {
		return migrateLocked(ctx, x, m)
	}
	res, err := m.Migrate(ctx, rivermigrate.DirectionUp, nil)
	if err != nil {
		return nil, fmt.Errorf("jobs: migrate: %w", err)
	}
	for _, v := range res.Versions {
		applied = append(applied, v.Version)
	}
	return applied, nil
}

// migrateLocked applies m's pending migrations one at a time, each in its
// own transaction, on one connection of x that holds the advisory lock.
func migrateLocked(ctx context.Context, x *sqlx.DB, m *rivermigrate.Migrator[*sql.Tx]) (applied []int, err error) {
	conn, err := x.Conn(ctx)
	if err != nil {
		return nil, fmt.Errorf("jobs: migrate: %w", err)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, "SELECT pg_advisory_lock($1)", migrateLock); err != nil {
		return nil, fmt.Errorf("jobs: migrate: lock: %w", err)
	}
	defer func() {
		if _, uerr := conn.ExecContext(context.WithoutCancel(ctx), "SELECT pg_advisory_unlock($1)", migrateLock); uerr != nil {
			err = errors.Join(err, fmt.Errorf("jobs: migrate: unlock: %w", uerr))
		}
	}()
	for {
		v, err := migrateStep(ctx, conn, m)
		if err != nil {
			return applied, err
		}
		if len(v) == 0 {
			return applied, nil
		}
		applied = append(applied, v...)
	}
}

// migrateStep applies m's next pending migration, if any, in a transaction
// on conn, and returns its version.
func migrateStep(ctx context.Context, conn *sql.Conn, m *rivermigrate.Migrator[*sql.Tx]) (applied []int, err error) {
	tx, err := conn.BeginTx(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("jobs: migrate: %w", err)
	}
	//nolint:staticcheck // Migrate would take another connection; one migration per transaction, as Migrate does.
	res, err := m.MigrateTx(ctx, tx, rivermigrate.DirectionUp, &rivermigrate.MigrateOpts{MaxSteps: 1})
	if err != nil {
		_ = tx.Rollback()
		return nil, fmt.Errorf("jobs: migrate: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return nil, fmt.Errorf("jobs: migrate: commit: %w", err)
	}
	for _, v := range res.Versions {
		applied = append(applied, v.Version)
	}
	return applied, nil
}

// Migrations lists River's migrations in version order, each applied or
// pending, for River's tables in the search path's schema;
// Client.Migrations lists them in the client's.
func Migrations(ctx context.Context, x *sqlx.DB, d db.Dialect) ([]Migration, error) {
	return migrations(ctx, x, d, "")
}

// Migrations is the package's Migrations for River's tables in the
// client's schema (River's Config.Schema).
func (c *Client) Migrations(ctx context.Context) ([]Migration, error) {
	return migrations(ctx, c.x, c.dialect, c.schema)
}

// migrations is Migrations for River's tables in schema.
func migrations(ctx context.Context, x *sqlx.DB, d db.Dialect, schema string) ([]Migration, error) {
	m, err := migrator(x, d, schema, nil)
	if err != nil {
		return nil, err
	}
	existing, err := m.ExistingVersions(ctx)
	if err != nil {
		return nil, fmt.Errorf("jobs: migrations: %w", err)
	}
	done := map[int]bool{}
	for _, e := range existing {
		done[e.Version] = true
	}
	var out []Migration
	for _, v := range m.AllVersions() {
		out = append(out, Migration{Version: v.Version, Name: v.Name, Applied: done[v.Version]})
	}
	return out, nil
}
