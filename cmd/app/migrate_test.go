package main

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/fasttrack-go/fasttrack/cmd/app/migrations"
	"github.com/fasttrack-go/fasttrack/db"
	"github.com/fasttrack-go/fasttrack/internal/testdb"
	"github.com/fasttrack-go/fasttrack/jobs"
)

// embeddedMigrations returns the reference app's migrations for dialect d,
// as `migrate status` lists them before any is applied: by version, pending.
func embeddedMigrations(t *testing.T, d db.Dialect) []db.MigrationStatus {
	t.Helper()
	entries, err := fs.ReadDir(migrations.FS, d.Name())
	if err != nil {
		t.Fatal(err)
	}
	var st []db.MigrationStatus
	for _, e := range entries {
		prefix, rest, ok := strings.Cut(strings.TrimSuffix(e.Name(), ".sql"), "_")
		v, err := strconv.ParseInt(prefix, 10, 64)
		if !ok || err != nil {
			t.Fatalf("migration file %s/%s is not NNNNN_name.sql", d.Name(), e.Name())
		}
		st = append(st, db.MigrationStatus{Version: v, Name: rest})
	}
	slices.SortFunc(st, func(a, b db.MigrationStatus) int { return cmp.Compare(a.Version, b.Version) })
	if len(st) == 0 || st[0].Version != 1 || st[0].Name != "create_users" {
		t.Fatalf("the first %s migration is not 00001_create_users.sql: %+v", d.Name(), st)
	}
	return st
}

// checkStatus returns a check that `migrate status` lists ms, in order,
// under its header, each pending or applied (cli.TestPrintStatus covers the
// table's layout), and then, when the app runs jobs (not on MySQL), River's
// migrations queue under their own header, in the same state.
func checkStatus(ms []db.MigrationStatus, queue []jobs.Migration, applied bool) func(t *testing.T, out, url string) {
	return func(t *testing.T, out, _ string) {
		t.Helper()
		app, jobsOut, hasJobs := strings.Cut(strings.TrimSuffix(out, "\n"), "\n\n")
		lines := strings.Split(app, "\n")
		if len(lines) != 1+len(ms) || !slices.Equal(strings.Fields(lines[0]), []string{"VERSION", "NAME", "APPLIED", "AT"}) {
			t.Fatalf("migrate status printed %q, want a header and %d rows", out, len(ms))
		}
		for i, m := range ms {
			row := strings.Fields(lines[1+i])
			if len(row) < 3 || row[0] != strconv.FormatInt(m.Version, 10) || row[1] != m.Name || (row[2] == "pending") == applied {
				t.Errorf("row %q, want %d %s, applied %v", lines[1+i], m.Version, m.Name, applied)
			}
		}
		if hasJobs != (len(queue) > 0) {
			t.Fatalf("migrate status printed %q: want River's migrations listed: %v", out, len(queue) > 0)
		}
		if !hasJobs {
			return
		}
		lines = strings.Split(jobsOut, "\n")
		if len(lines) != 1+len(queue) || !slices.Equal(strings.Fields(lines[0]), []string{"JOBS", "VERSION", "NAME", "STATE"}) {
			t.Fatalf("migrate status printed %q, want a jobs header and %d rows", out, len(queue))
		}
		state := map[bool]string{false: "pending", true: "applied"}[applied]
		for i, m := range queue {
			if row := strings.Fields(lines[1+i]); row[0] != strconv.Itoa(m.Version) || row[len(row)-1] != state {
				t.Errorf("jobs row %q, want %d %s", lines[1+i], m.Version, state)
			}
		}
	}
}

// riverMigrations lists River's migrations when the app runs jobs on d:
// on SQLite and PostgreSQL, not on MySQL.
func riverMigrations(t *testing.T, d db.Dialect, url string) []jobs.Migration {
	t.Helper()
	if d == db.MySQL {
		return nil
	}
	x, _ := testdb.Open(t, url)
	ms, err := jobs.Migrations(context.Background(), x, d)
	if err != nil || len(ms) == 0 {
		t.Fatalf("River's migrations: %v, %v", ms, err)
	}
	return ms
}

// checkUsersTable checks the table the migrations create: an insert of name
// and email fills the defaults, and a duplicate email is rejected, also one
// differing only in case (the email migration; cmd/app/migrations tests it
// in depth).
func checkUsersTable(t *testing.T, _, url string) {
	t.Helper()
	x, d := testdb.Open(t, url)
	ctx := context.Background()
	ins := d.Rebind("INSERT INTO users (name, email) VALUES (?, ?)")
	if _, err := x.ExecContext(ctx, ins, "Ada", "ada@example.com"); err != nil {
		t.Fatalf("inserting a user: %v", err)
	}
	_, err := x.ExecContext(ctx, ins, "Other Ada", "ada@example.com")
	if !errors.Is(d.Classify(err), db.ErrUniqueViolation) {
		t.Errorf("duplicate email: %v, want a unique violation", err)
	}
	_, err = x.ExecContext(ctx, ins, "ADA", "ADA@example.com")
	if !errors.Is(d.Classify(err), db.ErrUniqueViolation) {
		t.Errorf("email differing only in case: %v, want a unique violation", err)
	}
	if _, err := x.ExecContext(ctx, ins, "Bob", "bob@example.com"); err != nil {
		t.Errorf("inserting a second user: %v", err)
	}
	var u struct {
		ID        int64     `db:"id"`
		Name      string    `db:"name"`
		IsActive  bool      `db:"is_active"`
		CreatedAt time.Time `db:"created_at"`
		UpdatedAt time.Time `db:"updated_at"`
	}
	q := d.Rebind("SELECT id, name, is_active, created_at, updated_at FROM users WHERE email = ?")
	if err := x.GetContext(ctx, &u, q, "ada@example.com"); err != nil {
		t.Fatalf("reading the user back: %v", err)
	}
	if u.Name != "Ada" || u.ID == 0 {
		t.Errorf("read back %+v", u)
	}
	if !u.IsActive {
		t.Error("is_active did not default to true")
	}
	for name, ts := range map[string]time.Time{"created_at": u.CreatedAt, "updated_at": u.UpdatedAt} {
		if d := time.Since(ts); d < -24*time.Hour || d > 24*time.Hour {
			t.Errorf("%s = %v, want it to default to now", name, ts)
		}
	}
	var n int
	if err := x.GetContext(ctx, &n, "SELECT COUNT(*) FROM users"); err != nil || n != 2 {
		t.Errorf("%d users, %v; want 2", n, err)
	}
}

// checkUsersTableGone checks that rolling back dropped the table.
func checkUsersTableGone(t *testing.T, _, url string) {
	t.Helper()
	x, _ := testdb.Open(t, url)
	var n int
	if err := x.Get(&n, "SELECT COUNT(*) FROM users"); err == nil {
		t.Errorf("users table still exists after rollback (%d rows)", n)
	}
}

// printed returns a check that the command printed exactly want.
func printed(want string) func(t *testing.T, out, url string) {
	return func(t *testing.T, out, _ string) {
		t.Helper()
		if out != want {
			t.Errorf("printed %q, want %q", out, want)
		}
	}
}

// TestMigrateLifecycle runs the reference app's migrations through the
// command tree on a fresh database of each dialect: status lists them,
// up applies them all and makes the users table, each down rolls back
// one, the last dropping the table, and up applies them again. The steps
// run in order on one database. cli.TestMigrateCommands covers the
// commands themselves (nothing to apply, nothing to roll back, to, redo).
func TestMigrateLifecycle(t *testing.T) {
	testdb.Each(t, func(t *testing.T, d db.Dialect, url string) {
		t.Setenv("DATABASE_URL", url)
		t.Setenv("LOG_LEVEL", "error")
		ms := embeddedMigrations(t, d)
		queue := riverMigrations(t, d, url)
		var applied strings.Builder
		for _, m := range ms {
			fmt.Fprintf(&applied, "applied %d\n", m.Version)
		}
		// The first up applies River's migrations too; down leaves them.
		firstUp := applied.String()
		for _, m := range queue {
			firstUp += fmt.Sprintf("applied jobs %d\n", m.Version)
		}
		type check = func(t *testing.T, out, url string)
		type step struct {
			name   string
			args   []string
			checks []check
		}
		steps := []step{
			{"status before up", []string{"migrate", "status"}, []check{checkStatus(ms, queue, false), checkUsersTableGone}},
			{"up", []string{"migrate", "up"}, []check{printed(firstUp), checkUsersTable}},
			{"status after up", []string{"migrate", "status"}, []check{checkStatus(ms, queue, true)}},
		}
		// Each down rolls back the latest applied migration; the last one
		// drops the users table.
		for i := len(ms) - 1; i >= 0; i-- {
			checks := []check{printed(fmt.Sprintf("rolled back %d\n", ms[i].Version))}
			if i == 0 {
				checks = append(checks, checkUsersTableGone)
			}
			steps = append(steps, step{fmt.Sprintf("down %d", ms[i].Version), []string{"migrate", "down"}, checks})
		}
		steps = append(steps, step{"up after down", []string{"migrate", "up"}, []check{printed(applied.String()), checkUsersTable}})
		for _, step := range steps {
			ok := t.Run(step.name, func(t *testing.T) {
				out, err := runCLI(t, context.Background(), step.args...)
				if err != nil {
					t.Fatalf("app %v: %v (printed %q)", step.args, err, out)
				}
				for _, check := range step.checks {
					check(t, out, url)
				}
			})
			if !ok {
				t.Fatalf("step %q failed; later steps depend on it", step.name)
			}
		}
	})
}

// TestMigrateCreateFindsTheAppFolder runs `migrate create` without --dir in
// module trees: in the framework's, it writes into cmd/app/migrations,
// numbered after the highest version there; in a module that is not the
// framework's, or has no such folder, it refuses, naming what it looked for,
// and writes nothing. cli.TestMigrateCreateFolder covers the search from
// other folders (deep inside, nested modules, outside any module).
func TestMigrateCreateFindsTheAppFolder(t *testing.T) {
	const (
		goMod = "module github.com/fasttrack-go/fasttrack\n\ngo 1.26\n"
		mig   = "cmd/app/migrations/"
	)
	existing := map[string]string{
		mig + "sqlite/00001_create_users.sql":   "-- existing\n",
		mig + "postgres/00001_create_users.sql": "-- existing\n",
		mig + "postgres/00004_x.sql":            "-- existing\n",
		mig + "mysql/00001_create_users.sql":    "-- existing\n",
	}
	notFramework := []string{"go.mod", "module github.com/fasttrack-go/fasttrack", "--dir"}
	for _, tc := range []struct {
		name    string
		goMod   string
		noMig   bool     // without the migrations folder
		want    []string // files created, relative to the tree
		wantErr []string // what the refusal names
	}{
		{name: "the framework's module", goMod: goMod,
			want: []string{mig + "sqlite/00005_add_things.sql", mig + "postgres/00005_add_things.sql", mig + "mysql/00005_add_things.sql"}},
		{name: "quoted module path with a comment", goMod: "// FastTrack\nmodule \"github.com/fasttrack-go/fasttrack\" // the framework\n",
			want: []string{mig + "sqlite/00005_add_things.sql", mig + "postgres/00005_add_things.sql", mig + "mysql/00005_add_things.sql"}},
		{name: "another module", goMod: "module example.com/service\n", wantErr: notFramework},
		{name: "a module whose path only starts like it", goMod: "module github.com/fasttrack-go/fasttrack2\n", wantErr: notFramework},
		{name: "no migrations folder", goMod: goMod, noMig: true,
			wantErr: []string{"module github.com/fasttrack-go/fasttrack", "has no folder cmd/app/migrations", "--dir"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			root := t.TempDir()
			tree := map[string]string{"go.mod": tc.goMod, "cmd/app/main.go": "package main\n"}
			if !tc.noMig {
				maps.Copy(tree, existing)
			}
			want := slices.Collect(maps.Keys(tree))
			for f, content := range tree {
				p := filepath.Join(root, filepath.FromSlash(f))
				if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			t.Chdir(filepath.Join(root, "cmd", "app"))
			out, err := runCLI(t, context.Background(), "migrate", "create", "add_things")
			if tc.wantErr != nil {
				if err == nil {
					t.Fatalf("migrate create: no error, printed %q", out)
				}
				for _, w := range tc.wantErr {
					if !strings.Contains(err.Error(), w) {
						t.Errorf("error %q does not name %q", err, w)
					}
				}
			} else {
				if err != nil {
					t.Fatalf("migrate create: %v", err)
				}
				want = append(want, tc.want...)
				var wantOut strings.Builder
				for _, f := range tc.want {
					wantOut.WriteString("created " + filepath.Join(root, filepath.FromSlash(f)) + "\n")
				}
				if out != wantOut.String() {
					t.Errorf("printed\n%s\nwant\n%s", out, wantOut.String())
				}
			}
			slices.Sort(want)
			var got []string
			err = filepath.WalkDir(root, func(p string, e fs.DirEntry, err error) error {
				if err != nil || e.IsDir() {
					return err
				}
				rel, err := filepath.Rel(root, p)
				got = append(got, filepath.ToSlash(rel))
				return err
			})
			if err != nil {
				t.Fatal(err)
			}
			slices.Sort(got)
			if !slices.Equal(got, want) {
				t.Errorf("files:\n%q\nwant\n%q", got, want)
			}
		})
	}
}
