package cli

import (
	"context"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/fasttrack-go/fasttrack/db"
	"github.com/fasttrack-go/fasttrack/internal/testdb"
)

func TestPrintStatus(t *testing.T) {
	cet := time.FixedZone("CET", 3600)
	for _, tc := range []struct {
		name string
		st   []db.MigrationStatus
		want string
	}{
		{"no migrations", nil, "VERSION  NAME  APPLIED AT\n"},
		{
			"pending",
			[]db.MigrationStatus{{Version: 1, Name: "create_users"}},
			"" +
				"VERSION  NAME          APPLIED AT\n" +
				"1        create_users  pending\n",
		},
		{
			"applied times shown in UTC, columns aligned",
			[]db.MigrationStatus{
				{Version: 1, Name: "create_users", Applied: true, AppliedAt: time.Date(2024, 1, 2, 3, 4, 5, 0, cet)},
				{Version: 2, Name: "x", Applied: true, AppliedAt: time.Date(2024, 12, 31, 23, 59, 59, 999, time.UTC)},
				{Version: 10, Name: "add_things", Applied: false},
			},
			"" +
				"VERSION  NAME          APPLIED AT\n" +
				"1        create_users  2024-01-02 02:04:05 UTC\n" +
				"2        x             2024-12-31 23:59:59 UTC\n" +
				"10       add_things    pending\n",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var b strings.Builder
			if err := printStatus(&b, tc.st); err != nil {
				t.Fatal(err)
			}
			if b.String() != tc.want {
				t.Errorf("printed\n%s\nwant\n%s", b.String(), tc.want)
			}
		})
	}
}

func TestMigrateCreate(t *testing.T) {
	for _, tc := range []struct {
		name     string
		existing []string // files present before, relative to --dir
		runs     []string // migration names, created in order
		wantErr  bool     // whether the last run fails
		want     []string // files created by the runs, relative to --dir
	}{
		{
			name: "empty folder",
			runs: []string{"add_things"},
			want: inEachDialect("00001_add_things.sql"),
		},
		{
			name:     "numbered after the highest version of any dialect",
			existing: []string{"postgres/00007_x.sql"},
			runs:     []string{"add_things"},
			want:     inEachDialect("00008_add_things.sql"),
		},
		{
			name:     "gaps and other files",
			existing: []string{"sqlite/00002_a.sql", "mysql/00012_b.sql", "mysql/README.md"},
			runs:     []string{"c"},
			want:     inEachDialect("00013_c.sql"),
		},
		{
			name: "twice",
			runs: []string{"add_things", "add_things"},
			want: inEachDialect("00001_add_things.sql", "00002_add_things.sql"),
		},
		{
			name: "digits and underscores after the first letter",
			runs: []string{"a1_b2"},
			want: inEachDialect("00001_a1_b2.sql"),
		},
		{
			name: "63 bytes",
			runs: []string{strings.Repeat("x", 63)},
			want: inEachDialect("00001_" + strings.Repeat("x", 63) + ".sql"),
		},
		{name: "space and capitals", runs: []string{"Bad Name"}, wantErr: true},
		{name: "capital after the first letter", runs: []string{"add_Things"}, wantErr: true},
		{name: "leading digit", runs: []string{"1abc"}, wantErr: true},
		{name: "empty", runs: []string{""}, wantErr: true},
		{name: "leading underscore", runs: []string{"_abc"}, wantErr: true},
		{name: "dash", runs: []string{"add-things"}, wantErr: true},
		{name: "path", runs: []string{"a/../b"}, wantErr: true},
		{name: "non-ASCII letter", runs: []string{"caf\u00e9"}, wantErr: true},
		{name: "64 bytes", runs: []string{strings.Repeat("x", 64)}, wantErr: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			t.Chdir(dir) // outside the module: a --dir ignored cannot reach its migrations
			for _, f := range tc.existing {
				p := filepath.Join(dir, filepath.FromSlash(f))
				if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(p, []byte("-- existing\n"), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			var outs []string
			var err error
			for _, name := range tc.runs {
				var out string
				out, err = run(t, context.Background(), testApp(), "migrate", "create", name, "--dir", dir)
				outs = append(outs, out)
				if err != nil {
					break
				}
			}
			if tc.wantErr {
				if err == nil {
					t.Fatalf("migrate create %q: no error, printed %q", tc.runs, outs)
				}
			} else if err != nil {
				t.Fatalf("migrate create %q: %v", tc.runs, err)
			}

			want := slices.Concat(tc.existing, tc.want)
			slices.Sort(want)
			if got := listFiles(t, dir); !slices.Equal(got, want) {
				t.Errorf("files under --dir:\n%q\nwant\n%q", got, want)
			}
			// Each run reports the files it created.
			var reported []string
			for _, out := range outs {
				for _, line := range strings.Split(strings.TrimSuffix(out, "\n"), "\n") {
					if line == "" {
						continue
					}
					p, ok := strings.CutPrefix(line, "created ")
					if !ok {
						t.Errorf("unexpected output line %q", line)
						continue
					}
					rel, err := filepath.Rel(dir, p)
					if err != nil {
						t.Fatal(err)
					}
					reported = append(reported, filepath.ToSlash(rel))
				}
			}
			slices.Sort(reported)
			wantReported := slices.Clone(tc.want)
			slices.Sort(wantReported)
			if !slices.Equal(reported, wantReported) {
				t.Errorf("reported %q, want %q", reported, wantReported)
			}
			for _, f := range tc.want {
				b, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(f)))
				if err != nil {
					t.Fatal(err)
				}
				if s := string(b); !strings.Contains(s, "-- +goose Up") || !strings.Contains(s, "-- +goose Down") ||
					strings.Index(s, "-- +goose Up") > strings.Index(s, "-- +goose Down") {
					t.Errorf("%s is not a goose migration template:\n%s", f, s)
				}
			}
		})
	}
}

// TestCreatedMigrationRuns checks that a migration written by `migrate
// create` and filled in is applied and rolled back by the migrator.
func TestCreatedMigrationRuns(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir) // outside the module: a --dir ignored cannot reach its migrations
	if out, err := run(t, context.Background(), testApp(), "migrate", "create", "add_things", "--dir", dir); err != nil {
		t.Fatalf("migrate create: %v (printed %q)", err, out)
	}
	p := filepath.Join(dir, "sqlite", "00001_add_things.sql")
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	// Fill in the template's two statement blocks.
	s := strings.Replace(string(b), "-- +goose StatementBegin\n\n", "-- +goose StatementBegin\nCREATE TABLE things (id INTEGER PRIMARY KEY);\n", 1)
	s = strings.Replace(s, "-- +goose StatementBegin\n\n", "-- +goose StatementBegin\nDROP TABLE things;\n", 1)
	if strings.Count(s, "things") != 2 {
		t.Fatalf("template has no empty statement blocks to fill:\n%s", b)
	}
	if err := os.WriteFile(p, []byte(s), 0o644); err != nil {
		t.Fatal(err)
	}
	url := testdb.New(t, db.SQLite)
	x, d := testdb.Open(t, url)
	m, err := db.NewMigrator(x, d, os.DirFS(dir), nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if applied, err := m.Up(ctx); err != nil || !slices.Equal(applied, []int64{1}) {
		t.Fatalf("up: %v, %v", applied, err)
	}
	if _, err := x.Exec("INSERT INTO things (id) VALUES (1)"); err != nil {
		t.Fatalf("created migration not applied: %v", err)
	}
	if v, err := m.Down(ctx); err != nil || v != 1 {
		t.Fatalf("down: %v, %v", v, err)
	}
	if _, err := x.Exec("SELECT * FROM things"); err == nil {
		t.Fatal("created migration not rolled back")
	}
}

// inEachDialect returns "sqlite/"+file, "postgres/"+file and "mysql/"+file.
func inEachDialect(files ...string) []string {
	var out []string
	for _, d := range []string{"sqlite", "postgres", "mysql"} {
		for _, f := range files {
			out = append(out, d+"/"+f)
		}
	}
	return out
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

// shopModule is an application's module tree: its go.mod, its migrations
// folder up to version 3 (only postgres has 3), a nested module, and a
// folder that is not the migrations'.
var shopModule = map[string]string{
	"go.mod":                                   "module example.com/shop\n\ngo 1.26\n",
	"internal/migrations/sqlite/00001_a.sql":   "-- existing\n",
	"internal/migrations/postgres/00001_a.sql": "-- existing\n",
	"internal/migrations/postgres/00003_b.sql": "-- existing\n",
	"internal/migrations/mysql/00001_a.sql":    "-- existing\n",
	"internal/orders/keep.go":                  "package orders\n",
	"tools/go.mod":                             "module example.com/shop/tools\n",
	"afile":                                    "x",
}

// TestMigrateCreateFolder runs `migrate create` without --dir, and with a
// --dir that is refused, for applications that name their folder in their
// module, in the nearest module, or not at all.
func TestMigrateCreateFolder(t *testing.T) {
	const mig = "internal/migrations/"
	created := func(v string) []string {
		return []string{mig + "sqlite/" + v, mig + "postgres/" + v, mig + "mysql/" + v}
	}
	shop := App{Migrations: testMigrations(), Module: "example.com/shop", MigrationsDir: "internal/migrations"}
	nearest := App{Migrations: testMigrations(), MigrationsDir: "internal/migrations"}
	none := App{Migrations: testMigrations()}
	for _, tc := range []struct {
		name    string
		app     App
		wd      string   // working directory, relative to the tree
		args    []string // after migrate create add_things
		want    []string // files created, relative to the tree
		wantErr []string // what the refusal names
	}{
		{name: "at the module root", app: shop, wd: ".", want: created("00004_add_things.sql")},
		{name: "deep inside the module", app: shop, wd: "internal/orders", want: created("00004_add_things.sql")},
		{name: "inside a nested module", app: shop, wd: "tools", want: created("00004_add_things.sql")},
		{name: "the nearest module", app: nearest, wd: "internal/orders", want: created("00004_add_things.sql")},
		{
			name: "the nearest module is a nested one", app: nearest, wd: "tools",
			wantErr: []string{"the nearest module", "has no folder internal/migrations", "--dir"},
		},
		{
			name: "outside the module", app: shop, wd: "..",
			wantErr: []string{"no go.mod of module example.com/shop", "internal/migrations", "--dir"},
		},
		{name: "no folder named", app: none, wd: ".", wantErr: []string{"cli.App.MigrationsDir", "--dir"}},
		{name: "--dir relative to the working directory", app: none, wd: "internal/orders", args: []string{"--dir", "../migrations"},
			want: created("00004_add_things.sql")},
		{name: "--dir missing", app: shop, wd: ".", args: []string{"--dir", "internal/migration"}, wantErr: []string{"--dir", "internal/migration", "does not exist"}},
		{name: "--dir a file", app: shop, wd: ".", args: []string{"--dir", "afile"}, wantErr: []string{"--dir", "is not a folder"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			root := filepath.Join(t.TempDir(), "shop")
			writeFiles(t, root, shopModule)
			t.Chdir(filepath.Join(root, filepath.FromSlash(tc.wd)))
			out, err := run(t, context.Background(), tc.app, append([]string{"migrate", "create", "add_things"}, tc.args...)...)
			var want []string
			for f := range shopModule {
				want = append(want, f)
			}
			if tc.wantErr != nil {
				wantErr(t, err, tc.wantErr...)
			} else {
				if err != nil {
					t.Fatalf("migrate create in %s: %v", tc.wd, err)
				}
				want = append(want, tc.want...)
				if n := strings.Count(out, "created "); n != len(tc.want) {
					t.Errorf("printed %q, want %d files", out, len(tc.want))
				}
			}
			slices.Sort(want)
			if got := listFiles(t, root); !slices.Equal(got, want) {
				t.Errorf("files:\n%q\nwant\n%q", got, want)
			}
		})
	}
}

// TestMigrationsDirOfThisModule resolves, from this package's folder (where
// go test runs), the reference app's folder, without writing to it.
func TestMigrationsDirOfThisModule(t *testing.T) {
	a := App{Module: "github.com/fasttrack-go/fasttrack", MigrationsDir: "cmd/app/migrations"}
	got, err := a.migrationsDir("")
	if err != nil {
		t.Fatal(err)
	}
	want, err := filepath.Abs(filepath.Join("..", "cmd", "app", "migrations"))
	if err != nil {
		t.Fatal(err)
	}
	if got != want {
		t.Errorf("migrationsDir(\"\") = %s, want %s", got, want)
	}
}

// tables reports which of the test migrations' tables exist.
func tables(t *testing.T, url string) (itemsTable, tagsTable bool) {
	t.Helper()
	x, _ := testdb.Open(t, url)
	var n int
	return x.Get(&n, "SELECT COUNT(*) FROM items") == nil, x.Get(&n, "SELECT COUNT(*) FROM tags") == nil
}

// TestMigrateCommands runs every migrate command on a fresh database of
// each dialect, over the test application's two migrations. The steps run
// in order on one database.
func TestMigrateCommands(t *testing.T) {
	testdb.Each(t, func(t *testing.T, _ db.Dialect, url string) {
		t.Setenv("DATABASE_URL", url)
		t.Setenv("LOG_LEVEL", "error")
		for _, step := range []struct {
			args       []string
			want       string // printed
			wantErr    string
			items, tag bool // tables afterwards
		}{
			{args: []string{"status"}, want: "VERSION  NAME          APPLIED AT\n1        create_items  pending\n2        create_tags   pending\n"},
			{args: []string{"redo"}, want: "nothing to redo\n"},
			{args: []string{"to", "1"}, want: "applied 1\n", items: true},
			{args: []string{"to", "1"}, want: "already at 1\n", items: true},
			{args: []string{"to", "2"}, want: "applied 2\n", items: true, tag: true},
			{args: []string{"redo"}, want: "rolled back 2\napplied 2\n", items: true, tag: true},
			{args: []string{"to", "0"}, want: "rolled back 2\nrolled back 1\n"},
			{args: []string{"to", "7"}, wantErr: "no migration has this version"},
			{args: []string{"to", "--", "-1"}, wantErr: `VERSION "-1"`},
			{args: []string{"to", "two"}, wantErr: `VERSION "two"`},
			{args: []string{"to"}, wantErr: "accepts 1 arg"},
			{args: []string{"up"}, want: "applied 1\napplied 2\n", items: true, tag: true},
			{args: []string{"up"}, want: "nothing to apply\n", items: true, tag: true},
			{args: []string{"down"}, want: "rolled back 2\n", items: true},
			{args: []string{"redo"}, want: "rolled back 1\napplied 1\n", items: true},
			{args: []string{"to", "0"}, want: "rolled back 1\n"},
			{args: []string{"down"}, want: "nothing to roll back\n"},
		} {
			name := strings.Join(step.args, " ")
			ok := t.Run(name, func(t *testing.T) {
				out, err := run(t, context.Background(), testApp(), append([]string{"migrate"}, step.args...)...)
				if step.wantErr != "" {
					wantErr(t, err, step.wantErr)
				} else if err != nil {
					t.Fatalf("migrate %s: %v", name, err)
				}
				if out != step.want {
					t.Errorf("printed %q, want %q", out, step.want)
				}
				if items, tags := tables(t, url); items != step.items || tags != step.tag {
					t.Errorf("tables items %v, tags %v; want %v, %v", items, tags, step.items, step.tag)
				}
			})
			if !ok {
				t.Fatalf("step %q failed; later steps depend on it", name)
			}
		}
	})
}

// TestMigrateWithoutMigrations: an application without migrations has no
// migrate command.
func TestMigrateWithoutMigrations(t *testing.T) {
	a := testApp()
	a.Migrations = nil
	if _, err := run(t, context.Background(), a, "migrate", "status"); err == nil || !strings.Contains(err.Error(), "unknown command") {
		t.Fatalf("migrate status without migrations: %v", err)
	}
}
