package jobs_test

import (
	"context"
	"testing"
	"time"

	"github.com/fasttrack-go/fasttrack/db"
	"github.com/fasttrack-go/fasttrack/internal/testdb"
	"github.com/fasttrack-go/fasttrack/jobs"
)

// TestMigrateOneConnection checks that Migrate applies River's schema on a
// pool of one connection (DB_MAX_OPEN_CONNS=1): on PostgreSQL the
// connection that holds the advisory lock is the one that migrates.
func TestMigrateOneConnection(t *testing.T) {
	for _, d := range []db.Dialect{db.SQLite, db.Postgres} {
		t.Run(d.Name(), func(t *testing.T) {
			x, _ := testdb.Open(t, testdb.New(t, d))
			x.SetMaxOpenConns(1)
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			applied, err := jobs.Migrate(ctx, x, d, nil)
			if err != nil {
				t.Fatalf("Migrate on one connection: %v", err)
			}
			ms, err := jobs.Migrations(ctx, x, d)
			if err != nil {
				t.Fatal(err)
			}
			if len(applied) != len(ms) {
				t.Errorf("applied %v, want all %d migrations", applied, len(ms))
			}
			for _, m := range ms {
				if !m.Applied {
					t.Errorf("migration %d (%s) not applied", m.Version, m.Name)
				}
			}
			again, err := jobs.Migrate(ctx, x, d, nil)
			if err != nil || len(again) != 0 {
				t.Errorf("second Migrate = %v, %v; want nothing applied", again, err)
			}
		})
	}
}
