package db

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"path"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"
)

// Migrator applies an application's SQL migrations with goose. On PostgreSQL
// it holds goose's advisory session lock and on MySQL goose's lock table
// while it works, so that N instances starting together apply each migration
// exactly once.
type Migrator struct {
	p *goose.Provider
}

// MigrationStatus is one migration and whether it has been applied.
type MigrationStatus struct {
	Version   int64
	Name      string
	Applied   bool
	AppliedAt time.Time // zero when pending
}

// NewMigrator reads the migrations in fsys. When fsys holds a directory named
// after the dialect ("sqlite", "postgres", "mysql"), the migrations are read
// from there, so that one embedded tree can carry each database's DDL.
func NewMigrator(x *sqlx.DB, d Dialect, fsys fs.FS, logger *slog.Logger) (*Migrator, error) {
	if fi, err := fs.Stat(fsys, d.Name()); err == nil && fi.IsDir() {
		sub, err := fs.Sub(fsys, d.Name())
		if err != nil {
			return nil, fmt.Errorf("db: migrations for %s: %w", d, err)
		}
		fsys = sub
	}
	opts := []goose.ProviderOption{goose.WithDisableGlobalRegistry(true)}
	if logger != nil {
		opts = append(opts, goose.WithSlog(logger.With("component", "migrations")))
	}
	switch d {
	case Postgres:
		l, err := lock.NewPostgresSessionLocker(lock.WithLockTimeout(1, 600))
		if err != nil {
			return nil, fmt.Errorf("db: migration lock: %w", err)
		}
		opts = append(opts, goose.WithSessionLocker(l))
	case MySQL:
		l, err := lock.NewMySQLTableLocker(lock.WithTableLockTimeout(250*time.Millisecond, 2400))
		if err != nil {
			return nil, fmt.Errorf("db: migration lock: %w", err)
		}
		opts = append(opts, goose.WithLocker(l))
	}
	p, err := goose.NewProvider(d.gooseDialect(), x.DB, fsys, opts...)
	if err != nil {
		return nil, fmt.Errorf("db: migrations: %w", err)
	}
	return &Migrator{p: p}, nil
}

// Up applies every pending migration and returns the versions applied.
func (m *Migrator) Up(ctx context.Context) ([]int64, error) {
	res, err := m.p.Up(ctx)
	applied := make([]int64, 0, len(res))
	for _, r := range res {
		if r.Error == nil {
			applied = append(applied, r.Source.Version)
		}
	}
	if err != nil {
		return applied, fmt.Errorf("db: migrate up: %w", err)
	}
	return applied, nil
}

// Down rolls back the most recent applied migration and returns its version.
// It returns 0 and no error when nothing is applied.
func (m *Migrator) Down(ctx context.Context) (int64, error) {
	r, err := m.p.Down(ctx)
	if errors.Is(err, goose.ErrNoNextVersion) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("db: migrate down: %w", err)
	}
	return r.Source.Version, nil
}

// Status lists every known migration in version order.
func (m *Migrator) Status(ctx context.Context) ([]MigrationStatus, error) {
	st, err := m.p.Status(ctx)
	if err != nil {
		return nil, fmt.Errorf("db: migrate status: %w", err)
	}
	out := make([]MigrationStatus, 0, len(st))
	for _, s := range st {
		name := strings.TrimSuffix(path.Base(s.Source.Path), path.Ext(s.Source.Path))
		if _, rest, ok := strings.Cut(name, "_"); ok {
			name = rest
		}
		out = append(out, MigrationStatus{
			Version:   s.Source.Version,
			Name:      name,
			Applied:   s.State == goose.StateApplied,
			AppliedAt: s.AppliedAt,
		})
	}
	return out, nil
}

// Redo rolls back the most recent applied migration and applies it again,
// and returns its version. It returns 0 and no error when nothing is
// applied. The two steps take the migration lock one after the other.
func (m *Migrator) Redo(ctx context.Context) (int64, error) {
	r, err := m.p.Down(ctx)
	if errors.Is(err, goose.ErrNoNextVersion) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("db: migrate redo: %w", err)
	}
	v := r.Source.Version
	if _, err := m.p.ApplyVersion(ctx, v, true); err != nil {
		return v, fmt.Errorf("db: migrate redo: %d rolled back, not applied again: %w", v, err)
	}
	return v, nil
}

// To migrates the database to version: when version is above the current
// one, it applies the pending migrations up to and including it; when below,
// it rolls back the applied migrations above it, the most recent first. 0
// rolls back every migration. It returns the versions applied and rolled
// back; a version that is neither 0 nor one of the migrations is refused.
func (m *Migrator) To(ctx context.Context, version int64) (applied, rolledBack []int64, err error) {
	known := version == 0
	for _, s := range m.p.ListSources() {
		known = known || s.Version == version
	}
	if !known {
		return nil, nil, fmt.Errorf("db: migrate to %d: no migration has this version", version)
	}
	current, err := m.p.GetDBVersion(ctx)
	if err != nil {
		return nil, nil, fmt.Errorf("db: migrate to %d: %w", version, err)
	}
	var res []*goose.MigrationResult
	switch {
	case version > current:
		res, err = m.p.UpTo(ctx, version)
	case version < current:
		res, err = m.p.DownTo(ctx, version)
	}
	for _, r := range res {
		if r.Error != nil {
			continue
		}
		if r.Direction == "down" {
			rolledBack = append(rolledBack, r.Source.Version)
		} else {
			applied = append(applied, r.Source.Version)
		}
	}
	if err != nil {
		return applied, rolledBack, fmt.Errorf("db: migrate to %d: %w", version, err)
	}
	return applied, rolledBack, nil
}
