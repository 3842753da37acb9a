package fxmodules_test

import (
	"context"
	"os"
	"testing"

	"github.com/fasttrack-go/fasttrack/db"
	"github.com/fasttrack-go/fasttrack/fxmodules"
	"github.com/fasttrack-go/fasttrack/internal/testdb"
	"github.com/fasttrack-go/fasttrack/jobs"
	"github.com/jmoiron/sqlx"
	"github.com/riverqueue/river"
	"go.uber.org/fx"
)

// openFiles counts the process's open file descriptors.
func openFiles(t *testing.T) int {
	t.Helper()
	fds, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Skipf("no /proc/self/fd: %v", err)
	}
	return len(fds)
}

// TestJobsUnstartedAppKeepsNoFile: an app with Jobs on a SQLite file, built
// without being started and used through River's client (as the jobs
// commands do), keeps no connection of River's own pool open once the
// app's pool is closed: it opens no file that outlives it.
func TestJobsUnstartedAppKeepsNoFile(t *testing.T) {
	u := testdb.New(t, db.SQLite)
	{
		y, d := testdb.Open(t, u)
		if _, err := jobs.Migrate(context.Background(), y, d, nil); err != nil {
			t.Fatal(err)
		}
		if err := y.Close(); err != nil {
			t.Fatal(err)
		}
	}
	before := openFiles(t)
	for range 3 {
		var (
			c *jobs.Client
			x *sqlx.DB
		)
		app := fx.New(fxmodules.Framework(jobsMigrations()), fx.Replace(testConfig(u)), fx.NopLogger,
			fxmodules.Jobs(), fx.Populate(&c, &x))
		if err := app.Err(); err != nil {
			t.Fatal(err)
		}
		if _, err := c.River().JobList(context.Background(), river.NewJobListParams()); err != nil {
			t.Fatalf("listing jobs without starting: %v", err)
		}
		if err := x.Close(); err != nil {
			t.Fatal(err)
		}
	}
	if after := openFiles(t); after > before {
		t.Fatalf("%d files open after building and discarding apps; %d before", after, before)
	}
}
