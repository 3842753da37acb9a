package jobs

import (
	"context"
	"database/sql"
	"errors"
	"strings"
	"time"

	"github.com/fasttrack-go/fasttrack/db"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver"
	"github.com/riverqueue/river/rivertype"
)

// ErrJobNotRunning is the error of an attempt whose run of the job had
// ended in the database when its work was done: River's rescuer made the
// job available again after it ran past RescueStuckJobsAfter (and another
// attempt may have begun), or the job was deleted. The attempt's writes
// roll back instead of committing without the job's completion, or with
// the completion of another attempt's run: that attempt does, or did, the
// job.
var ErrJobNotRunning = errors.New("jobs: the attempt's run of the job has ended (rescued as stuck, or deleted)")

// completeSQL returns the statement that marks the run of a job by one
// attempt completed on PostgreSQL, in River's table of schema (River's
// Config.Schema; "" for the search path's).
//
// It does to a running job what river.JobCompleteTx does (River's
// JobSetStateIfRunningMany with the completed state: state and
// finalized_at), in one small statement of three scalar arguments, where
// River's database/sql driver sends twelve arrays as text and reads the
// whole job back: per job, some 540 allocations fewer, and less work for
// the server. The job must still be running the attempt's run (River
// increments attempt at each fetch); when it is not, the statement fails
// (a text naming notRunning cast to an integer), so that it can ride with
// the COMMIT (db.Tx.ExecAtCommit): the COMMIT then does not run. Metadata
// the worker recorded (river.RecordOutput) is merged by River's completer
// right after the attempt, as for a job River completes itself.
//
// The job is found by its id alone: its state is compared as text, which
// no index holds. With state = 'running' in an index condition, the
// generic plan of the prepared statement reads
// river_job_prioritized_fetching_index's 'running' entries instead of the
// primary key, with or without statistics, and those entries include
// every job that ran since river_job's last VACUUM: each completion read
// more of them, and the queue slowed as it worked.
func completeSQL(schema string) string {
	return "WITH done AS (UPDATE " + riverTable(schema) + " SET state = 'completed', finalized_at = $2" +
		" WHERE id = $1 AND state::text = 'running' AND attempt = $3 RETURNING 1)" +
		" SELECT CASE count(*) WHEN 1 THEN 1 ELSE ('" + notRunning + ": ' || count(*))::int END FROM done"
}

// riverTable is River's job table in schema ("" for the search path's),
// quoted for a statement.
func riverTable(schema string) string {
	if schema == "" {
		return "river_job"
	}
	return `"` + strings.ReplaceAll(schema, `"`, `""`) + `".river_job`
}

// notRunning is in the error of completeSQL when the attempt's run of the
// job has ended.
const notRunning = "fasttrack: job not running"

// complete marks job completed in tx, the attempt's transaction, on ctx:
// on PostgreSQL with c.completeSQL, sent with the COMMIT where the pool
// allows; elsewhere with river.JobCompleteTx. It fails with
// ErrJobNotRunning when the attempt's run of the job has ended (and the
// COMMIT fails with an error endedRun tells).
func complete[A river.JobArgs](ctx context.Context, c *Client, tx *db.Tx, job *river.Job[A]) error {
	if c.completeSQL != "" {
		err := tx.ExecAtCommit(ctx, c.completeSQL, job.ID, time.Now().UTC(), job.Attempt)
		if endedRun(err) {
			return ErrJobNotRunning
		}
		return err
	}
	stx, sctx, err := tx.SQLTxContext(ctx)
	if err != nil {
		return err
	}
	// The driver type only guides inference: JobCompleteTx uses the
	// driver of the client working the job, found in ctx.
	done, err := river.JobCompleteTx[riverdriver.Driver[*sql.Tx]](sctx, stx, job)
	switch {
	case errors.Is(err, rivertype.ErrNotFound):
		return ErrJobNotRunning
	case err != nil:
		return err
	case done.State != rivertype.JobStateCompleted || done.Attempt != job.Attempt:
		return ErrJobNotRunning // JobCompleteTx left it, or completed another attempt's run
	}
	return nil
}

// endedRun reports whether err is completeSQL's failure on a job whose
// attempt's run has ended: the cast of its message to an integer, from pgx
// or, by its text, from another PostgreSQL driver.
func endedRun(err error) bool {
	if err == nil {
		return false
	}
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return pe.Code == "22P02" && strings.Contains(pe.Message, notRunning)
	}
	return strings.Contains(err.Error(), notRunning)
}
