package db_test

import (
	"context"
	"sync"
	"testing"
	"testing/fstest"

	"github.com/fasttrack-go/fasttrack/db"
	"github.com/fasttrack-go/fasttrack/internal/testdb"
)

// testMigrations has two migrations per dialect folder, and one stray root
// file that must be ignored because the dialect folders exist.
func testMigrations() fstest.MapFS {
	fsys := fstest.MapFS{
		"00001_wrong.sql": {Data: []byte("-- +goose Up\nCREATE TABLE wrong (id INT);\n-- +goose Down\nDROP TABLE wrong;\n")},
	}
	for _, d := range testdb.Dialects() {
		fsys[d.Name()+"/00001_create_things.sql"] = &fstest.MapFile{Data: []byte(
			"-- +goose Up\nCREATE TABLE things (id INT PRIMARY KEY);\n-- +goose Down\nDROP TABLE things;\n")}
		fsys[d.Name()+"/00002_add_label.sql"] = &fstest.MapFile{Data: []byte(
			"-- +goose Up\nALTER TABLE things ADD COLUMN label VARCHAR(20);\n-- +goose Down\nALTER TABLE things DROP COLUMN label;\n")}
	}
	return fsys
}

func TestMigratorUpStatusDown(t *testing.T) {
	testdb.Each(t, func(t *testing.T, _ db.Dialect, u string) {
		x, d := openTest(t, u)
		ctx := context.Background()
		m, err := db.NewMigrator(x, d, testMigrations(), nil)
		if err != nil {
			t.Fatal(err)
		}
		st, err := m.Status(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if len(st) != 2 || st[0].Applied || st[1].Applied || st[0].Name != "create_things" || st[1].Version != 2 {
			t.Fatalf("status before up: %+v", st)
		}
		applied, err := m.Up(ctx)
		if err != nil || len(applied) != 2 {
			t.Fatalf("up: %v, %v", applied, err)
		}
		mustExec(t, x, "INSERT INTO things (id, label) VALUES (1, 'x')")
		if _, err := x.Exec("SELECT * FROM wrong"); err == nil {
			t.Fatal("the root migration ran beside the dialect folder's")
		}
		st, _ = m.Status(ctx)
		if !st[0].Applied || !st[1].Applied || st[1].AppliedAt.IsZero() {
			t.Fatalf("status after up: %+v", st)
		}
		if again, err := m.Up(ctx); err != nil || len(again) != 0 {
			t.Fatalf("second up: %v, %v", again, err)
		}
		v, err := m.Down(ctx)
		if err != nil || v != 2 {
			t.Fatalf("down: %d, %v", v, err)
		}
		if _, err := x.Exec("SELECT label FROM things"); err == nil {
			t.Fatal("label column still there after down")
		}
		st, _ = m.Status(ctx)
		if !st[0].Applied || st[1].Applied {
			t.Fatalf("status after down: %+v", st)
		}
		if v, err := m.Down(ctx); err != nil || v != 1 {
			t.Fatalf("second down: %d, %v", v, err)
		}
		if v, err := m.Down(ctx); err != nil || v != 0 {
			t.Fatalf("down with nothing applied: %d, %v", v, err)
		}
	})
}

// TestConcurrentMigrators starts four migrators, each on its own pool, at
// once: goose's lock makes each migration apply exactly once.
func TestConcurrentMigrators(t *testing.T) {
	for _, d := range []db.Dialect{db.Postgres, db.MySQL} {
		t.Run(d.Name(), func(t *testing.T) {
			u := testdb.New(t, d)
			const n = 4
			errs := make([]error, n)
			var wg sync.WaitGroup
			start := make(chan struct{})
			for i := range n {
				x, dd := openTest(t, u)
				m, err := db.NewMigrator(x, dd, testMigrations(), nil)
				if err != nil {
					t.Fatal(err)
				}
				wg.Add(1)
				go func() {
					defer wg.Done()
					<-start
					_, errs[i] = m.Up(context.Background())
				}()
			}
			close(start)
			wg.Wait()
			for i, err := range errs {
				if err != nil {
					t.Errorf("migrator %d: %v", i, err)
				}
			}
			x, _ := openTest(t, u)
			var rows []struct {
				Version int64 `db:"version_id"`
				N       int   `db:"n"`
			}
			if err := x.Select(&rows, "SELECT version_id, COUNT(*) AS n FROM goose_db_version WHERE version_id > 0 GROUP BY version_id ORDER BY version_id"); err != nil {
				t.Fatal(err)
			}
			if len(rows) != 2 || rows[0].N != 1 || rows[1].N != 1 {
				t.Fatalf("applied versions: %+v, want 1 and 2 once each", rows)
			}
		})
	}
}
