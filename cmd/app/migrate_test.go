package main

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io/fs"
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
	"github.com/jmoiron/sqlx"
)

// openDB opens and pings a pool on databaseURL, closed at the end of t.
func openDB(t *testing.T, databaseURL string) (*sqlx.DB, db.Dialect) {
	t.Helper()
	return testdb.Open(t, databaseURL)
}

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

// checkStatusPending returns a check of the table `migrate status` prints
// when none of ms is applied.
func checkStatusPending(ms []db.MigrationStatus) func(t *testing.T, out, url string) {
	return func(t *testing.T, out, _ string) {
		t.Helper()
		lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
		if len(lines) != 1+len(ms) || !slices.Equal(strings.Fields(lines[0]), []string{"VERSION", "NAME", "APPLIED", "AT"}) {
			t.Fatalf("migrate status printed %q, want a header and %d rows", out, len(ms))
		}
		for i, m := range ms {
			if got, want := strings.Fields(lines[1+i]), []string{strconv.FormatInt(m.Version, 10), m.Name, "pending"}; !slices.Equal(got, want) {
				t.Errorf("row %q, want %q", lines[1+i], want)
			}
		}
	}
}

// checkStatusApplied returns a check that `migrate status` shows when each
// of ms was applied, in UTC.
func checkStatusApplied(ms []db.MigrationStatus) func(t *testing.T, out, url string) {
	return func(t *testing.T, out, _ string) {
		t.Helper()
		lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
		if len(lines) != 1+len(ms) {
			t.Fatalf("migrate status printed %q, want a header and %d rows", out, len(ms))
		}
		if got := strings.Fields(lines[0]); !slices.Equal(got, []string{"VERSION", "NAME", "APPLIED", "AT"}) {
			t.Errorf("header %q", lines[0])
		}
		for i, m := range ms {
			line := lines[1+i]
			row := strings.Fields(line)
			if len(row) != 5 || row[0] != strconv.FormatInt(m.Version, 10) || row[1] != m.Name {
				t.Fatalf("row %q, want %d, %s and a timestamp", line, m.Version, m.Name)
			}
			// The columns line up under the header.
			if i := strings.Index(lines[0], "APPLIED AT"); i < 0 || !strings.HasPrefix(line[i:], row[2]+" ") {
				t.Errorf("timestamp not under APPLIED AT:\n%s", out)
			}
			at, err := time.Parse("2006-01-02 15:04:05 MST", strings.Join(row[2:], " "))
			if err != nil {
				t.Fatalf("applied-at %q: %v", strings.Join(row[2:], " "), err)
			}
			if row[4] != "UTC" {
				t.Errorf("applied-at %q is not in UTC", strings.Join(row[2:], " "))
			}
			// A loose bound: a zero or garbage time is far outside it; a
			// server in another time zone is not.
			if d := time.Since(at); d < -24*time.Hour || d > 24*time.Hour {
				t.Errorf("applied-at %v is not around now", at)
			}
		}
	}
}

// checkUsersTable checks the table the migration creates: an insert of name
// and email fills the defaults, and a duplicate email is rejected.
func checkUsersTable(t *testing.T, _, url string) {
	t.Helper()
	x, d := openDB(t, url)
	ctx := context.Background()
	ins := d.Rebind("INSERT INTO users (name, email) VALUES (?, ?)")
	if _, err := x.ExecContext(ctx, ins, "Ada", "ada@example.com"); err != nil {
		t.Fatalf("inserting a user: %v", err)
	}
	_, err := x.ExecContext(ctx, ins, "Other Ada", "ada@example.com")
	if !errors.Is(d.Classify(err), db.ErrUniqueViolation) {
		t.Errorf("duplicate email: %v, want a unique violation", err)
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
	x, _ := openDB(t, url)
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

// TestMigrateLifecycle runs status, up, down through the command tree on a
// fresh database of each dialect, over the reference app's migrations. The
// steps run in order on one database.
func TestMigrateLifecycle(t *testing.T) {
	testdb.Each(t, func(t *testing.T, d db.Dialect, url string) {
		t.Setenv("DATABASE_URL", url)
		t.Setenv("LOG_LEVEL", "error")
		ms := embeddedMigrations(t, d)
		var applied strings.Builder
		for _, m := range ms {
			fmt.Fprintf(&applied, "applied %d\n", m.Version)
		}
		type check = func(t *testing.T, out, url string)
		type step struct {
			name   string
			args   []string
			checks []check
		}
		steps := []step{
			{"status before up", []string{"migrate", "status"}, []check{checkStatusPending(ms), checkUsersTableGone}},
			{"up", []string{"migrate", "up"}, []check{printed(applied.String()), checkUsersTable}},
			{"status after up", []string{"migrate", "status"}, []check{checkStatusApplied(ms)}},
			{"up again", []string{"migrate", "up"}, []check{printed("nothing to apply\n")}},
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
		steps = append(steps,
			step{"status after down", []string{"migrate", "status"}, []check{checkStatusPending(ms)}},
			step{"down again", []string{"migrate", "down"}, []check{printed("nothing to roll back\n")}},
			step{"up after down", []string{"migrate", "up"}, []check{printed(applied.String()), checkUsersTable}},
		)
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

// listFiles returns the files under dir, relative, with forward slashes,
// sorted.
func listFiles(t *testing.T, dir string) []string {
	t.Helper()
	var files []string
	err := filepath.WalkDir(dir, func(p string, e fs.DirEntry, err error) error {
		if err != nil || e.IsDir() {
			return err
		}
		rel, err := filepath.Rel(dir, p)
		files = append(files, filepath.ToSlash(rel))
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(files)
	return files
}

// writeFiles writes each file of files (relative path, forward slashes) under
// dir with its content.
func writeFiles(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	for f, content := range files {
		p := filepath.Join(dir, filepath.FromSlash(f))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// fakeModule is a module tree like the framework's: its go.mod, the
// reference app's migrations up to version 4 (only postgres has 4), and
// a nested module of its own.
var fakeModule = map[string]string{
	"go.mod": "module github.com/fasttrack-go/fasttrack\n\ngo 1.26\n",
	"cmd/app/migrations/sqlite/00001_create_users.sql":   "-- existing\n",
	"cmd/app/migrations/postgres/00001_create_users.sql": "-- existing\n",
	"cmd/app/migrations/postgres/00004_x.sql":            "-- existing\n",
	"cmd/app/migrations/mysql/00001_create_users.sql":    "-- existing\n",
	"cmd/app/users/keep.go":                              "package users\n",
	"tests/bench/go.mod":                                 "module github.com/fasttrack-go/fasttrack/tests/bench\n",
}

// withFiles returns a copy of base with extra added (an empty content
// removes a file).
func withFiles(base map[string]string, extra map[string]string) map[string]string {
	out := map[string]string{}
	for f, c := range base {
		out[f] = c
	}
	for f, c := range extra {
		if c == "" {
			delete(out, f)
		} else {
			out[f] = c
		}
	}
	return out
}

// TestMigrateCreateFindsTheAppFolder runs `migrate create` without --dir
// from working directories inside and outside a module tree: inside, it
// writes into the module root's cmd/app/migrations, numbered after the
// highest version there; elsewhere it refuses, naming what it looked for,
// and writes nothing.
func TestMigrateCreateFindsTheAppFolder(t *testing.T) {
	const mig = "cmd/app/migrations/"
	inApp := func(v string) []string {
		return []string{mig + "sqlite/" + v, mig + "postgres/" + v, mig + "mysql/" + v}
	}
	for _, tc := range []struct {
		name    string
		tree    map[string]string
		wd      string   // working directory, relative to the tree
		want    []string // files created, relative to the tree
		wantErr []string // what the refusal names
	}{
		{name: "at the module root", tree: fakeModule, wd: ".", want: inApp("00005_add_things.sql")},
		{name: "deep inside the module", tree: fakeModule, wd: "cmd/app/users", want: inApp("00005_add_things.sql")},
		{name: "inside a nested module", tree: fakeModule, wd: "tests/bench", want: inApp("00005_add_things.sql")},
		{
			name: "quoted module path with a comment",
			tree: withFiles(fakeModule, map[string]string{"go.mod": "// FastTrack\nmodule \"github.com/fasttrack-go/fasttrack\" // the framework\n"}),
			wd:   "cmd/app",
			want: inApp("00005_add_things.sql"),
		},
		{
			name:    "outside any module",
			tree:    map[string]string{"somewhere/else/file.txt": "x"},
			wd:      "somewhere/else",
			wantErr: []string{"go.mod", "module github.com/fasttrack-go/fasttrack", "cmd/app/migrations", "--dir", "somewhere/else"},
		},
		{
			name:    "in another module",
			tree:    map[string]string{"go.mod": "module example.com/service\n", "cmd/app/migrations/sqlite/00001_a.sql": "x"},
			wd:      "cmd/app",
			wantErr: []string{"go.mod", "module github.com/fasttrack-go/fasttrack", "--dir"},
		},
		{
			name:    "in a module whose path only starts like it",
			tree:    withFiles(fakeModule, map[string]string{"go.mod": "module github.com/fasttrack-go/fasttrack2\n"}),
			wd:      ".",
			wantErr: []string{"go.mod", "module github.com/fasttrack-go/fasttrack", "--dir"},
		},
		{
			name:    "the module has no migrations folder",
			tree:    map[string]string{"go.mod": "module github.com/fasttrack-go/fasttrack\n", "cmd/app/main.go": "package main\n"},
			wd:      "cmd/app",
			wantErr: []string{"module github.com/fasttrack-go/fasttrack", "has no folder cmd/app/migrations", "--dir"},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			root := t.TempDir()
			writeFiles(t, root, tc.tree)
			wd := filepath.Join(root, filepath.FromSlash(tc.wd))
			t.Chdir(wd)
			out, err := runCLI(t, context.Background(), "migrate", "create", "add_things")
			var want []string
			for f := range tc.tree {
				want = append(want, f)
			}
			if tc.wantErr != nil {
				if err == nil {
					t.Fatalf("migrate create in %s: no error, printed %q", tc.wd, out)
				}
				for _, w := range tc.wantErr {
					if !strings.Contains(err.Error(), w) {
						t.Errorf("error %q does not name %q", err, w)
					}
				}
			} else {
				if err != nil {
					t.Fatalf("migrate create in %s: %v", tc.wd, err)
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
			if got := listFiles(t, root); !slices.Equal(got, want) {
				t.Errorf("files:\n%q\nwant\n%q", got, want)
			}
		})
	}
}
