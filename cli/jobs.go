package cli

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"text/tabwriter"

	"github.com/fasttrack-go/fasttrack/db"
	"github.com/fasttrack-go/fasttrack/jobs"
	"github.com/jmoiron/sqlx"
	"go.uber.org/fx"
)

// findJobs sets *found when the application runs jobs (it has a
// *jobs.Client, which fxmodules.Jobs provides).
func findJobs(found *bool) fx.Option {
	type in struct {
		fx.In
		Client *jobs.Client `optional:"true"`
	}
	return fx.Invoke(func(i in) { *found = i.Client != nil })
}

// queueSchema is the job queue's schema, River's tables, which the migrate
// command applies after the application's migrations.
type queueSchema struct {
	x   *sqlx.DB
	d   db.Dialect
	log *slog.Logger
}

// up applies River's pending migrations.
func (q *queueSchema) up(ctx context.Context) ([]int, error) {
	return jobs.Migrate(ctx, q.x, q.d, q.log)
}

// printStatus lists River's migrations under their own heading.
func (q *queueSchema) printStatus(ctx context.Context, w io.Writer) error {
	ms, err := jobs.Migrations(ctx, q.x, q.d)
	if err != nil {
		return err
	}
	fmt.Fprintln(w)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "JOBS VERSION\tNAME\tSTATE")
	for _, m := range ms {
		state := "pending"
		if m.Applied {
			state = "applied"
		}
		fmt.Fprintf(tw, "%d\t%s\t%s\n", m.Version, m.Name, state)
	}
	return tw.Flush()
}
