package cli

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/fasttrack-go/fasttrack/fxmodules"
	"github.com/fasttrack-go/fasttrack/internal/testdb"
	"github.com/fasttrack-go/fasttrack/jobs"
	"github.com/riverqueue/river"
	"go.uber.org/fx"
)

// offlineArgs is a job whose worker reports that it ran.
type offlineArgs struct{}

func (offlineArgs) Kind() string { return "offline" }

// TestOfflineCommandsWorkNoJob: seed and the application's commands start
// an application that runs jobs without working its queues: a queued job
// stays available, and the commands still enqueue.
func TestOfflineCommandsWorkNoJob(t *testing.T) {
	url, _ := sqliteEnv(t)
	t.Setenv("JOBS_QUEUES", "default:10")
	worked := make(chan struct{}, 10)
	enqueue := Command("enqueue", "Enqueue a job", func(ctx context.Context, e *jobs.Enqueuer) error {
		_, err := e.Enqueue(ctx, offlineArgs{}, nil)
		return err
	})
	// wait fails if a job is worked while it runs. River fetches the
	// available jobs as soon as it starts working a queue, well within
	// this bound.
	wait := Command("wait", "Wait for a job to be worked", func(ctx context.Context) error {
		select {
		case <-worked:
			return errors.New("a job was worked during the command")
		case <-time.After(2 * time.Second):
			return nil
		}
	})
	a := testApp(enqueue, wait)
	a.Options = fx.Options(a.Options, fxmodules.Jobs(jobs.Work0(func(context.Context, *river.Job[offlineArgs]) error {
		worked <- struct{}{}
		return nil
	})))
	ctx := context.Background()
	if _, err := run(t, ctx, a, "migrate", "up"); err != nil {
		t.Fatal(err)
	}
	if _, err := run(t, ctx, a, "enqueue"); err != nil {
		t.Fatal(err)
	}
	if _, err := run(t, ctx, a, "seed"); err != nil {
		t.Fatal(err)
	}
	if _, err := run(t, ctx, a, "wait"); err != nil {
		t.Fatal(err)
	}
	x, _ := testdb.Open(t, url)
	var states []string
	if err := x.SelectContext(ctx, &states, "SELECT state FROM river_job WHERE kind = 'offline'"); err != nil {
		t.Fatal(err)
	}
	if len(states) != 1 || states[0] != "available" {
		t.Errorf("offline jobs' states = %q, want one available", states)
	}
}
