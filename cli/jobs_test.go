package cli

import (
	"context"
	"strings"
	"testing"

	"github.com/fasttrack-go/fasttrack/db"
	"github.com/fasttrack-go/fasttrack/fxmodules"
	"github.com/fasttrack-go/fasttrack/internal/testdb"
	"go.uber.org/fx"
)

// TestMigrateJobs: for an application that runs jobs, migrate up applies
// River's migrations after the application's, once, and migrate status
// lists them.
func TestMigrateJobs(t *testing.T) {
	for _, d := range []db.Dialect{db.SQLite, db.Postgres} {
		t.Run(d.Name(), func(t *testing.T) {
			url := testdb.New(t, d)
			t.Setenv("DATABASE_URL", url)
			t.Setenv("LOG_LEVEL", "error")
			a := testApp()
			a.Options = fx.Options(a.Options, fxmodules.Jobs())
			ctx := context.Background()

			out, err := run(t, ctx, a, "migrate", "status")
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(out, "JOBS VERSION") || !strings.Contains(out, " pending\n") || strings.Contains(out, " applied\n") {
				t.Fatalf("status before up:\n%s", out)
			}
			out, err = run(t, ctx, a, "migrate", "up")
			if err != nil {
				t.Fatal(err)
			}
			if !strings.HasPrefix(out, "applied 1\napplied 2\napplied jobs 1\n") {
				t.Fatalf("up printed:\n%s", out)
			}
			x, _ := testdb.Open(t, url)
			var n int
			if err := x.GetContext(ctx, &n, "SELECT COUNT(*) FROM river_job"); err != nil || n != 0 {
				t.Fatalf("river_job after migrate up: %d, %v", n, err)
			}
			out, err = run(t, ctx, a, "migrate", "up")
			if err != nil || out != "nothing to apply\n" {
				t.Fatalf("second up: %q, %v", out, err)
			}
			out, err = run(t, ctx, a, "migrate", "status")
			if err != nil {
				t.Fatal(err)
			}
			_, jobsPart, _ := strings.Cut(out, "JOBS VERSION")
			if jobsPart == "" || strings.Contains(jobsPart, " pending\n") || !strings.Contains(jobsPart, " applied\n") {
				t.Fatalf("status after up:\n%s", out)
			}
		})
	}
}
