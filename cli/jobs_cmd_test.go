package cli

import (
	"context"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/fasttrack-go/fasttrack/db"
	"github.com/fasttrack-go/fasttrack/fxmodules"
	"github.com/fasttrack-go/fasttrack/internal/testdb"
	"github.com/fasttrack-go/fasttrack/jobs"
	"github.com/fasttrack-go/fasttrack/scope"
	"github.com/riverqueue/river"
	"go.uber.org/fx"
)

// noteArgs is the test application's job.
type noteArgs struct {
	Text string `json:"text"`
}

func (noteArgs) Kind() string { return "note" }

func noteWorker() jobs.Worker {
	return jobs.Work0(func(context.Context, *river.Job[noteArgs]) error { return nil })
}

// insertNotes inserts one note job per queue in queues, with a client
// that works none, and returns their IDs.
func insertNotes(t *testing.T, url string, d db.Dialect, queues ...string) []int64 {
	t.Helper()
	x, _ := testdb.Open(t, url)
	c, err := jobs.New(x, d, scope.NewRegistry(), jobs.Options{Workers: []jobs.Worker{noteWorker()}})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	var ids []int64
	for _, q := range queues {
		tx := db.NewTx(ctx, x, d, db.TxOptions{})
		res, err := c.Insert(ctx, tx, noteArgs{Text: q}, &river.InsertOpts{Queue: q})
		if err != nil {
			t.Fatal(err)
		}
		if err := tx.Finish(ctx, true); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, res.Job.ID)
	}
	return ids
}

// TestJobsCommands: jobs list prints the jobs as a table, the most recent
// first, filtered by state and queue; jobs cancel and jobs retry change a
// job's state and say so; an unknown ID, a bad ID and a bad state fail,
// naming them; and nothing is worked meanwhile.
func TestJobsCommands(t *testing.T) {
	for _, d := range []db.Dialect{db.SQLite, db.Postgres} {
		t.Run(d.Name(), func(t *testing.T) {
			url := testdb.New(t, d)
			t.Setenv("DATABASE_URL", url)
			t.Setenv("LOG_LEVEL", "error")
			a := testApp()
			a.Options = fx.Options(a.Options, fxmodules.Jobs(noteWorker()))
			ctx := context.Background()

			if _, err := run(t, ctx, a, "jobs", "list"); err == nil || !strings.Contains(err.Error(), "migrate up") {
				t.Fatalf("jobs list before migrate up: %v; want an error saying to migrate", err)
			}
			if _, err := run(t, ctx, a, "migrate", "up"); err != nil {
				t.Fatal(err)
			}
			out, err := run(t, ctx, a, "jobs", "list")
			if err != nil || out != "no jobs\n" {
				t.Fatalf("jobs list with no job: %q, %v", out, err)
			}
			ids := insertNotes(t, url, d, "default", "mail", "mail")

			out, err = run(t, ctx, a, "jobs", "list")
			if err != nil {
				t.Fatal(err)
			}
			lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
			if len(lines) != 4 || !regexp.MustCompile(`^ID +KIND +QUEUE +STATE +ATTEMPT +SCHEDULED AT +LAST ERROR$`).MatchString(lines[0]) {
				t.Fatalf("jobs list:\n%s", out)
			}
			row := regexp.MustCompile(`^(\d+) +note +(\w+) +available +0/25 +\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC +-$`)
			for i, line := range lines[1:] {
				m := row.FindStringSubmatch(line)
				if m == nil || m[1] != strconv.FormatInt(ids[len(ids)-1-i], 10) {
					t.Fatalf("row %d %q; want job %d, newest first:\n%s", i, line, ids[len(ids)-1-i], out)
				}
			}

			out, err = run(t, ctx, a, "jobs", "cancel", strconv.FormatInt(ids[1], 10))
			if want := "job " + strconv.FormatInt(ids[1], 10) + " (note) cancelled\n"; err != nil || out != want {
				t.Fatalf("jobs cancel: %q, %v; want %q", out, err, want)
			}
			out, err = run(t, ctx, a, "jobs", "list", "--state", "cancelled", "--queue", "mail")
			if err != nil || strings.Count(out, "\n") != 2 || !strings.HasPrefix(strings.Split(out, "\n")[1], strconv.FormatInt(ids[1], 10)+" ") {
				t.Fatalf("jobs list --state cancelled --queue mail: %v\n%s", err, out)
			}
			out, err = run(t, ctx, a, "jobs", "list", "--state", "available", "--queue", "mail", "--limit", "5")
			if err != nil || strings.Count(out, "\n") != 2 || !strings.HasPrefix(strings.Split(out, "\n")[1], strconv.FormatInt(ids[2], 10)+" ") {
				t.Fatalf("jobs list --state available --queue mail: %v\n%s", err, out)
			}
			out, err = run(t, ctx, a, "jobs", "cancel", strconv.FormatInt(ids[1], 10))
			if err != nil {
				t.Fatalf("cancelling a cancelled job again: %q, %v", out, err)
			}

			out, err = run(t, ctx, a, "jobs", "retry", strconv.FormatInt(ids[1], 10))
			if err != nil || !strings.HasPrefix(out, "job "+strconv.FormatInt(ids[1], 10)+" (note, queue mail) is available") {
				t.Fatalf("jobs retry: %q, %v", out, err)
			}
			out, err = run(t, ctx, a, "jobs", "list", "--state", "available")
			if err != nil || strings.Count(out, "\n") != 4 {
				t.Fatalf("after retry, jobs list --state available: %v\n%s", err, out)
			}

			_, err = run(t, ctx, a, "jobs", "cancel", "999999")
			wantErr(t, err, "jobs cancel: job 999999 not found")
			_, err = run(t, ctx, a, "jobs", "retry", "999999")
			wantErr(t, err, "jobs retry: job 999999 not found")
			_, err = run(t, ctx, a, "jobs", "retry", "abc")
			wantErr(t, err, `ID "abc"`)
			_, err = run(t, ctx, a, "jobs", "list", "--state", "done")
			wantErr(t, err, `--state "done"`, "available")

			// The commands worked no job: all three are still available.
			x, _ := testdb.Open(t, url)
			var n int
			if err := x.GetContext(ctx, &n, "SELECT COUNT(*) FROM river_job WHERE state = 'available'"); err != nil || n != 3 {
				t.Fatalf("%d available jobs (%v); want 3", n, err)
			}
		})
	}
}

// TestJobsCommandsWithoutJobs: in an application without fxmodules.Jobs,
// the jobs commands fail, saying jobs are not configured.
func TestJobsCommandsWithoutJobs(t *testing.T) {
	sqliteEnv(t)
	for _, args := range [][]string{{"jobs", "list"}, {"jobs", "retry", "1"}, {"jobs", "cancel", "1"}} {
		_, err := run(t, context.Background(), testApp(), args...)
		wantErr(t, err, "jobs are not configured", "fxmodules.Jobs")
	}
}
