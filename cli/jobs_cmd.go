package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"unicode/utf8"

	"github.com/fasttrack-go/fasttrack/db"
	"github.com/fasttrack-go/fasttrack/jobs"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"
	"github.com/spf13/cobra"
	"go.uber.org/fx"
)

// errNoJobs is returned by the jobs commands of an application without
// fxmodules.Jobs.
var errNoJobs = errors.New("jobs are not configured: this application does not run background jobs (add fxmodules.Jobs to its options, on SQLite or PostgreSQL: River has no MySQL driver)")

func (a *App) jobsCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "jobs",
		Short: "List, retry or cancel background jobs (applications with fxmodules.Jobs)",
		Long: "List, retry or cancel the jobs of River's queue in the application's database. The application is\n" +
			"built for its configuration and pool, but not started: no job is worked by the command.",
	}
	var (
		states, queues, kinds []string
		limit                 int
	)
	list := &cobra.Command{
		Use:   "list",
		Short: "List jobs, the most recent first: id, kind, queue, state, attempts, schedule, last error",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if limit < 1 || limit > 10000 {
				return fmt.Errorf("jobs list: --limit %d: give 1 to 10000", limit)
			}
			params := river.NewJobListParams().First(limit).OrderBy(river.JobListOrderByID, river.SortOrderDesc)
			if len(states) > 0 {
				ss, err := parseStates(states)
				if err != nil {
					return err
				}
				params = params.States(ss...)
			}
			if len(queues) > 0 {
				params = params.Queues(queues...)
			}
			if len(kinds) > 0 {
				params = params.Kinds(kinds...)
			}
			return a.withJobs(cmd.Context(), func(ctx context.Context, c *jobs.Client) error {
				res, err := c.River().JobList(ctx, params)
				if err != nil {
					return fmt.Errorf("jobs list: %w", err)
				}
				return printJobs(cmd.OutOrStdout(), res.Jobs)
			})
		},
	}
	list.Flags().StringSliceVar(&states, "state", nil, "only jobs in these states (repeat or separate with commas): "+stateNames())
	list.Flags().StringSliceVar(&queues, "queue", nil, "only jobs of these queues (repeat or separate with commas)")
	list.Flags().StringSliceVar(&kinds, "kind", nil, "only jobs of these kinds (repeat or separate with commas)")
	list.Flags().IntVar(&limit, "limit", 50, "list at most N jobs (1 to 10000)")

	retry := &cobra.Command{
		Use:   "retry ID",
		Short: "Make a job available to run again now (any state but running)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.jobByID(cmd, "retry", args[0], func(ctx context.Context, c *jobs.Client, id int64) error {
				job, err := c.River().JobRetry(ctx, id)
				if err != nil {
					return err
				}
				if job.State == rivertype.JobStateRunning {
					return fmt.Errorf("job %d (%s) is running: it can be retried once it ends", id, job.Kind)
				}
				_, err = fmt.Fprintf(cmd.OutOrStdout(), "job %d (%s, queue %s) is %s: it runs again as soon as a worker is free\n",
					id, job.Kind, job.Queue, job.State)
				return err
			})
		},
	}
	cancel := &cobra.Command{
		Use:   "cancel ID",
		Short: "Cancel a job: a waiting one at once, a running one when its worker returns",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.jobByID(cmd, "cancel", args[0], func(ctx context.Context, c *jobs.Client, id int64) error {
				job, err := c.River().JobCancel(ctx, id)
				if err != nil {
					return err
				}
				w := cmd.OutOrStdout()
				switch job.State {
				case rivertype.JobStateCancelled:
					_, err = fmt.Fprintf(w, "job %d (%s) cancelled\n", id, job.Kind)
				case rivertype.JobStateRunning:
					_, err = fmt.Fprintf(w, "job %d (%s) is running: marked for cancellation; its context is cancelled, "+
						"and it ends cancelled unless it completes first\n", id, job.Kind)
				default:
					err = fmt.Errorf("job %d (%s) is already %s: nothing to cancel", id, job.Kind, job.State)
				}
				return err
			})
		},
	}
	cmd.AddCommand(list, retry, cancel)
	return cmd
}

// jobByID parses arg as a job's ID and runs fn with it; River's not-found
// error becomes one naming the ID.
func (a *App) jobByID(cmd *cobra.Command, verb, arg string, fn func(ctx context.Context, c *jobs.Client, id int64) error) error {
	id, err := strconv.ParseInt(arg, 10, 64)
	if err != nil || id < 1 {
		return fmt.Errorf("jobs %s: ID %q: give a job's number (see jobs list)", verb, arg)
	}
	return a.withJobs(cmd.Context(), func(ctx context.Context, c *jobs.Client) error {
		err := fn(ctx, c, id)
		if errors.Is(err, river.ErrNotFound) {
			return fmt.Errorf("jobs %s: job %d not found", verb, id)
		}
		if err != nil {
			return fmt.Errorf("jobs %s: %w", verb, err)
		}
		return nil
	})
}

// withJobs builds the application without starting it, checks that the
// database answers and that River's tables are migrated, and runs fn with
// its *jobs.Client. An application without one fails with errNoJobs.
func (a *App) withJobs(ctx context.Context, fn func(ctx context.Context, c *jobs.Client) error) (err error) {
	type in struct {
		fx.In
		Client *jobs.Client `optional:"true"`
	}
	var got in
	o, err := a.build(fx.Invoke(func(i in) { got = i }))
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, o.stop()) }()
	if got.Client == nil {
		return errNoJobs
	}
	if ctx == nil {
		ctx = context.Background()
	}
	pingCtx, cancel := context.WithTimeout(ctx, o.cfg.StartTimeout)
	defer cancel()
	if err := db.Ping(pingCtx, o.x, o.cfg.DatabaseURL); err != nil {
		return err
	}
	ms, err := got.Client.Migrations(ctx)
	if err != nil {
		return err
	}
	if slices.ContainsFunc(ms, func(m jobs.Migration) bool { return !m.Applied }) {
		return errors.New("the job queue's tables are not migrated: run `migrate up` first")
	}
	return fn(ctx, got.Client)
}

// parseStates checks names against River's job states.
func parseStates(names []string) ([]rivertype.JobState, error) {
	out := make([]rivertype.JobState, 0, len(names))
	for _, n := range names {
		s := rivertype.JobState(strings.ToLower(strings.TrimSpace(n)))
		if !slices.Contains(rivertype.JobStates(), s) {
			return nil, fmt.Errorf("jobs list: --state %q: not a job state; give one of %s", n, stateNames())
		}
		out = append(out, s)
	}
	return out, nil
}

// stateNames lists River's job states, comma-separated.
func stateNames() string {
	var names []string
	for _, s := range rivertype.JobStates() {
		names = append(names, string(s))
	}
	return strings.Join(names, ", ")
}

// printJobs writes jobs as a table, or "no jobs".
func printJobs(w io.Writer, list []*rivertype.JobRow) error {
	if len(list) == 0 {
		_, err := fmt.Fprintln(w, "no jobs")
		return err
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tKIND\tQUEUE\tSTATE\tATTEMPT\tSCHEDULED AT\tLAST ERROR")
	for _, j := range list {
		last := "-"
		if n := len(j.Errors); n > 0 {
			last = oneLine(j.Errors[n-1].Error, 80)
		}
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%d/%d\t%s\t%s\n", j.ID, j.Kind, j.Queue, j.State, j.Attempt, j.MaxAttempts,
			j.ScheduledAt.UTC().Format("2006-01-02 15:04:05 MST"), last)
	}
	return tw.Flush()
}

// oneLine returns s's first line, cut to max runes with "…".
func oneLine(s string, max int) string {
	s, _, cut := strings.Cut(s, "\n")
	if utf8.RuneCountInString(s) > max {
		s, cut = string([]rune(s)[:max-1]), true
	}
	if cut {
		s += "…"
	}
	return s
}
