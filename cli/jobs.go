package cli

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"text/tabwriter"

	"github.com/fasttrack-go/fasttrack/jobs"
	"go.uber.org/fx"
)

// findJobs sets *found to the application's *jobs.Client, which
// fxmodules.Jobs provides, or leaves it nil when the application runs no
// jobs.
func findJobs(found **jobs.Client) fx.Option {
	type in struct {
		fx.In
		Client *jobs.Client `optional:"true"`
	}
	return fx.Invoke(func(i in) { *found = i.Client })
}

// queueSchema is the job queue's schema, River's tables (in the client's
// schema, River's Config.Schema), which the migrate command applies after
// the application's migrations.
type queueSchema struct {
	c   *jobs.Client
	log *slog.Logger
}

// up applies River's pending migrations.
func (q *queueSchema) up(ctx context.Context) ([]int, error) {
	return q.c.Migrate(ctx, q.log)
}

// printStatus lists River's migrations under their own heading.
func (q *queueSchema) printStatus(ctx context.Context, w io.Writer) error {
	ms, err := q.c.Migrations(ctx)
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
