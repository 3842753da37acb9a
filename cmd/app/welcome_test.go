package main

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/fasttrack-go/fasttrack/cmd/app/migrations"
	"github.com/fasttrack-go/fasttrack/cmd/app/users"
	"github.com/fasttrack-go/fasttrack/db"
	"github.com/fasttrack-go/fasttrack/fasttest"
	"github.com/fasttrack-go/fasttrack/internal/testdb"
	"github.com/fasttrack-go/fasttrack/jobs"
	"github.com/riverqueue/river"
	"go.uber.org/fx"
)

// sink is a users.Mailer that hands each email to the test.
type sink struct{ got chan users.Email }

func newSink() *sink { return &sink{got: make(chan users.Email, 16)} }

func (s *sink) Send(_ context.Context, e users.Email) error {
	s.got <- e
	return nil
}

// replaceMailer makes the app send its emails to s.
func replaceMailer(s users.Mailer) fx.Option {
	return fx.Decorate(func(users.Mailer) users.Mailer { return s })
}

// deadline bounds each wait for the job queue.
const deadline = 30 * time.Second

// count returns SELECT COUNT(*) of the query.
func count(t *testing.T, app *fasttest.App, query string, args ...any) int {
	t.Helper()
	var n int
	if err := app.DB.Get(&n, app.DB.Rebind(query), args...); err != nil {
		t.Fatal(err)
	}
	return n
}

// jobDialects are the dialects the app runs jobs on.
var jobDialects = []db.Dialect{db.SQLite, db.Postgres}

// TestWelcomeEmail: on SQLite and PostgreSQL, POST /users enqueues the
// welcome job in its transaction; the worker records the email in
// welcome_emails and sends it to the Mailer exactly once, and the job is
// completed. A POST refused by validation and one that rolls back (a
// duplicate email) enqueue nothing: the queue holds no other job, so no
// other email can come.
func TestWelcomeEmail(t *testing.T) {
	for _, d := range jobDialects {
		t.Run(d.Name(), func(t *testing.T) {
			if d != db.SQLite {
				testdb.ServerURL(t, d)
			}
			s := newSink()
			var client *jobs.Client
			app := fasttest.Start(t, migrations.FS, features(d), fasttest.On(d), replaceMailer(s), fx.Populate(&client))
			completed, cancel := client.River().Subscribe(river.EventKindJobCompleted)
			defer cancel()

			resp := app.Do(t, http.MethodPost, "/users", map[string]any{"name": "Ada", "email": "ada@example.com"})
			if resp.Status != http.StatusCreated {
				t.Fatalf("POST /users answered %d %s", resp.Status, resp.Body)
			}
			var id int64
			if err := app.DB.Get(&id, app.DB.Rebind("SELECT id FROM users WHERE email = ?"), "ada@example.com"); err != nil {
				t.Fatal(err)
			}
			select {
			case e := <-s.got:
				if e.To != "ada@example.com" || !strings.Contains(e.Body, "Ada") {
					t.Errorf("email %+v, want Ada's welcome", e)
				}
			case <-time.After(deadline):
				t.Fatalf("no welcome email within %v", deadline)
			}
			select {
			case ev := <-completed:
				if ev.Job.Kind != (users.WelcomeArgs{}).Kind() {
					t.Errorf("completed a %s job", ev.Job.Kind)
				}
			case <-time.After(deadline):
				t.Fatalf("the welcome job did not complete within %v", deadline)
			}
			if n := count(t, app, "SELECT COUNT(*) FROM welcome_emails WHERE user_id = ?", id); n != 1 {
				t.Errorf("%d welcome_emails rows for the user, want 1", n)
			}

			bad := app.Do(t, http.MethodPost, "/users", map[string]any{"name": "Bad", "email": "not an email"})
			dup := app.Do(t, http.MethodPost, "/users", map[string]any{"name": "Ada again", "email": "ADA@example.com"})
			if bad.Status < 400 || bad.Status >= 500 || dup.Status != http.StatusConflict {
				t.Fatalf("invalid POST answered %d, duplicate %d; want a 4xx and 409", bad.Status, dup.Status)
			}
			if n := count(t, app, "SELECT COUNT(*) FROM river_job"); n != 1 {
				t.Errorf("%d jobs in the queue, want the one welcome job", n)
			}
			if n := count(t, app, "SELECT COUNT(*) FROM river_job WHERE state = 'completed'"); n != 1 {
				t.Errorf("the welcome job is not completed (%d completed)", n)
			}
			select {
			case e := <-s.got:
				t.Errorf("a second email: %+v", e)
			default:
			}
		})
	}
}

// TestJobsOffOnMySQL: on MariaDB the app starts without jobs, says so once
// in its start log with the reason, and POST /users creates the user
// without enqueueing (there is no job table).
func TestJobsOffOnMySQL(t *testing.T) {
	testdb.ServerURL(t, db.MySQL)
	s := newSink()
	app := fasttest.Start(t, migrations.FS, features(db.MySQL), fasttest.On(db.MySQL), replaceMailer(s))
	logs := app.Logs.String()
	if n := strings.Count(logs, "jobs off"); n != 1 || !strings.Contains(logs, "River has no MySQL driver") || !strings.Contains(logs, "level=WARN") {
		t.Errorf("want one WARN \"jobs off\" line naming the reason, got %d in:\n%s", n, logs)
	}
	resp := app.Do(t, http.MethodPost, "/users", map[string]any{"name": "Ada", "email": "ada@example.com"})
	if resp.Status != http.StatusCreated {
		t.Fatalf("POST /users answered %d %s", resp.Status, resp.Body)
	}
	var n int
	if err := app.DB.Get(&n, "SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = DATABASE() AND table_name LIKE 'river%'"); err != nil || n != 0 {
		t.Errorf("%d River tables (%v), want none", n, err)
	}
	select {
	case e := <-s.got:
		t.Errorf("an email without jobs: %+v", e)
	default:
	}
}

// TestEnvDialect: the app runs jobs unless DATABASE_URL names MySQL.
func TestEnvDialect(t *testing.T) {
	for url, want := range map[string]db.Dialect{
		"mysql://u:p@localhost:3306/app": db.MySQL,
		"postgres://u:p@localhost/app":   db.Postgres,
		"sqlite:app.db":                  db.SQLite,
		"redis://nope":                   "",
	} {
		t.Setenv("DATABASE_URL", url)
		if got := envDialect(); got != want {
			t.Errorf("DATABASE_URL=%s: %q, want %q", url, got, want)
		}
	}
}
