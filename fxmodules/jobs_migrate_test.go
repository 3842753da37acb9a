package fxmodules_test

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/fasttrack-go/fasttrack/db"
	"github.com/fasttrack-go/fasttrack/fxmodules"
	"github.com/fasttrack-go/fasttrack/internal/testdb"
	"github.com/fasttrack-go/fasttrack/jobs"
	"go.uber.org/fx"
)

// startJobsApp starts an app with Jobs on u without migrating on start and
// returns the start's error.
func startJobsApp(t *testing.T, u string) error {
	t.Helper()
	cfg := testConfig(u)
	cfg.MigrateOnStart = false
	app := fx.New(fxmodules.Framework(jobsMigrations()), fx.Replace(cfg), fx.NopLogger, fxmodules.Jobs(effectWorker(nil)))
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	err := app.Start(ctx)
	if err == nil {
		if err := app.Stop(ctx); err != nil {
			t.Error(err)
		}
	}
	return err
}

// TestJobsNotMigrated: an app with Jobs on a database where River's
// migrations were never applied fails to start, saying so and naming the
// migrate up command and MIGRATE_ON_START.
func TestJobsNotMigrated(t *testing.T) {
	jobsDialects(t, func(t *testing.T, d db.Dialect, u string) {
		err := startJobsApp(t, u)
		if err == nil {
			t.Fatal("started without River's tables")
		}
		for _, want := range []string{"River's tables are not migrated", " migrate up\"", "MIGRATE_ON_START=true"} {
			if !strings.Contains(err.Error(), want) {
				t.Errorf("start error does not say %q: %v", want, err)
			}
		}
		if !errors.Is(err, jobs.ErrNotMigrated) {
			t.Errorf("start error = %v; want jobs.ErrNotMigrated", err)
		}
	})
}

// TestJobsMigratedStartError: when River's migrations are applied, an app
// with Jobs starts; when its start fails all the same (here a table was
// dropped by hand), the error says nothing of migrating.
func TestJobsMigratedStartError(t *testing.T) {
	u := testdb.New(t, db.Postgres)
	y, d := testdb.Open(t, u)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := jobs.Migrate(ctx, y, d, slog.New(slog.DiscardHandler)); err != nil {
		t.Fatal(err)
	}
	if err := startJobsApp(t, u); err != nil {
		t.Fatalf("start with River's tables migrated: %v", err)
	}
	if _, err := y.ExecContext(ctx, "DROP TABLE river_queue"); err != nil {
		t.Fatal(err)
	}
	err := startJobsApp(t, u)
	if err == nil {
		t.Fatal("started without river_queue")
	}
	if errors.Is(err, jobs.ErrNotMigrated) || strings.Contains(err.Error(), "migrate") {
		t.Fatalf("start error with River's migrations applied speaks of migrating: %v", err)
	}
}
