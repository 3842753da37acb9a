package main

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/fasttrack-go/fasttrack/db"
	"github.com/fasttrack-go/fasttrack/internal/testdb"
	"github.com/fasttrack-go/fasttrack/seed"
	"github.com/jmoiron/sqlx"
	"go.uber.org/fx"
)

// runSeedCmd runs `app seed args...` with extra options in its Fx app.
func runSeedCmd(t *testing.T, extra []fx.Option, args ...string) (string, error) {
	t.Helper()
	a := app()
	a.Options = fx.Options(a.Options, fx.Options(extra...))
	return runApp(t, context.Background(), a, append([]string{"seed"}, args...)...)
}

// probeSeeder inserts the user probe@example.com with plain SQL.
type probeSeeder struct{}

func (probeSeeder) Name() string { return "probe" }

func (probeSeeder) Seed(ctx context.Context, q db.Querier) error {
	_, err := q.ExecContext(ctx, q.Rebind("INSERT INTO users (name, email) VALUES (?, ?)"), "Probe", "probe@example.com")
	return err
}

var errSeedFailed = errors.New("the test seeder fails")

// failingSeeder inserts a user, then fails. Its name sorts after the
// others', so that they have written when it fails.
type failingSeeder struct{}

func (failingSeeder) Name() string { return "zz-failing" }

func (failingSeeder) Seed(ctx context.Context, q db.Querier) error {
	if _, err := q.ExecContext(ctx, q.Rebind("INSERT INTO users (name, email) VALUES (?, ?)"), "Failing", "failing@example.com"); err != nil {
		return err
	}
	return errSeedFailed
}

func userEmails(t *testing.T, x *sqlx.DB) []string {
	t.Helper()
	var emails []string
	if err := x.Select(&emails, "SELECT email FROM users ORDER BY email"); err != nil {
		t.Fatal(err)
	}
	return emails
}

var exampleEmails = []string{"ada@example.com", "alan@example.com", "grace@example.com"}

// TestSeedCommand runs `app seed` on a fresh database of each dialect: the
// users seeder, migrating first, then the posts seeder (which seeds the
// users it needs), adding nothing the second time; an
// unknown name beside a known one runs nothing; one failing seeder keeps
// nothing of any (cli.TestSeedCommand does not check these two at the
// command; seed.TestRun does on the seed.Set). The steps run in order on
// one database.
func TestSeedCommand(t *testing.T) {
	testSeeders := []fx.Option{seed.Provide(func() probeSeeder { return probeSeeder{} }), seed.Provide(func() failingSeeder { return failingSeeder{} })}
	testdb.Each(t, func(t *testing.T, _ db.Dialect, url string) {
		t.Setenv("DATABASE_URL", url)
		t.Setenv("LOG_LEVEL", "error")
		x, _ := testdb.Open(t, url) // migrated by the first step
		for _, step := range []struct {
			name      string
			extra     []fx.Option
			args      []string
			clear     bool     // empty the users table first
			wantOut   string   // stdout
			wantErr   []string // substrings of the error; none: success
			wantUsers []string // emails in the table afterwards
			wantPosts int      // posts in the table afterwards
		}{
			{
				name: "seed NAME on a fresh database migrates, then seeds", args: []string{"seed", "users"},
				wantOut: "seeded users\n", wantUsers: exampleEmails,
			},
			{
				name: "seed (all) again adds nothing", args: []string{"seed"},
				wantOut: "seeded posts\nseeded users\n", wantUsers: exampleEmails, wantPosts: 3,
			},
			{
				name: "unknown name", args: []string{"seed", "nope"},
				wantErr: []string{`unknown seeder "nope"`, "known: posts, users"}, wantUsers: exampleEmails, wantPosts: 3,
			},
			{
				name: "unknown name beside a known one runs nothing", args: []string{"seed", "users", "nope"}, clear: true,
				wantErr: []string{`unknown seeder "nope"`}, wantUsers: nil,
			},
			{
				name: "one failing seeder keeps nothing of any", extra: testSeeders, args: []string{"seed"}, clear: true,
				wantErr: []string{"zz-failing", errSeedFailed.Error(), "nothing was seeded"}, wantUsers: nil,
			},
			{
				name: "several names run those, in name order", extra: testSeeders, args: []string{"seed", "users", "probe"}, clear: true,
				wantOut: "seeded probe\nseeded users\n", wantUsers: append(slices.Clone(exampleEmails), "probe@example.com"),
			},
		} {
			ok := t.Run(step.name, func(t *testing.T) {
				if step.clear {
					if _, err := x.Exec("DELETE FROM users"); err != nil {
						t.Fatal(err)
					}
				}
				var out string
				var err error
				if step.extra == nil {
					out, err = runCLI(t, context.Background(), step.args...)
				} else {
					out, err = runSeedCmd(t, step.extra, step.args[1:]...)
				}
				if len(step.wantErr) == 0 && err != nil {
					t.Fatalf("app %v: %v (printed %q)", step.args, err, out)
				}
				if len(step.wantErr) > 0 {
					if err == nil {
						t.Fatalf("app %v: no error, printed %q", step.args, out)
					}
					for _, want := range step.wantErr {
						if !strings.Contains(err.Error(), want) {
							t.Errorf("error %q lacks %q", err, want)
						}
					}
				}
				if out != step.wantOut {
					t.Errorf("printed %q, want %q", out, step.wantOut)
				}
				if got := userEmails(t, x); !slices.Equal(got, step.wantUsers) {
					t.Errorf("users %v, want %v", got, step.wantUsers)
				}
				var posts int
				if err := x.Get(&posts, "SELECT COUNT(*) FROM posts"); err != nil || posts != step.wantPosts {
					t.Errorf("%d posts, %v; want %d", posts, err, step.wantPosts)
				}
			})
			if !ok {
				t.Fatalf("step %q failed; later steps depend on it", step.name)
			}
		}
	})
}

// TestSeedCommandMigrationsOff: with MIGRATE_ON_START=false a database
// whose app tables are not migrated fails the seed, and nothing is created.
// (River's tables are there: without them the app fails to start, see
// TestServeNeedsTheJobSchema.)
func TestSeedCommandMigrationsOff(t *testing.T) {
	url := testdb.New(t, db.SQLite)
	t.Setenv("DATABASE_URL", url)
	t.Setenv("LOG_LEVEL", "error")
	t.Setenv("MIGRATE_ON_START", "false")
	migrateJobs(t, url)
	out, err := runCLI(t, context.Background(), "seed")
	if err == nil || !strings.Contains(err.Error(), "seed: posts") {
		t.Fatalf("seed on an unmigrated database: %v (printed %q)", err, out)
	}
	if out != "" {
		t.Errorf("printed %q", out)
	}
}
