package repo_test

import (
	"strings"
	"testing"

	"github.com/fasttrack-go/fasttrack/db"
	"github.com/fasttrack-go/fasttrack/internal/testdb"
	"github.com/fasttrack-go/fasttrack/repo"
	"github.com/jmoiron/sqlx"
)

func TestQueryLockSQL(t *testing.T) {
	for d, want := range map[db.Dialect][2]string{
		db.Postgres: {` ORDER BY "id" ASC LIMIT $2 FOR UPDATE`, ` ORDER BY "id" ASC LIMIT $2 FOR UPDATE SKIP LOCKED`},
		db.MySQL:    {" ORDER BY `id` ASC LIMIT ? FOR UPDATE", " ORDER BY `id` ASC LIMIT ? FOR UPDATE SKIP LOCKED"},
	} {
		g := mustTable[Gadget](t, d)
		c := gadgetColumns(g)
		q := g.Query().Where(c.kind.Eq("veg")).Limit(3)
		for i, lq := range []repo.Query[Gadget]{q.ForUpdate(), q.SkipLocked()} {
			s, _, err := lq.ToSQL()
			if err != nil || !strings.HasSuffix(s, want[i]) {
				t.Errorf("%s: %s, %v; want ...%s", d, s, err, want[i])
			}
		}
		if s, _, _ := q.ToSQL(); strings.Contains(s, "FOR UPDATE") {
			t.Errorf("%s: ForUpdate changed its receiver: %s", d, s)
		}
		rec := &recorder{driver: map[db.Dialect]string{db.Postgres: "pgx", db.MySQL: "mysql"}[d]}
		if _, err := q.On(rec).ForUpdate().Count(bg); err == nil {
			t.Errorf("%s: Count with a lock gave no error", d)
		}
		_, _ = q.On(rec).ForUpdate().Exists(bg)
		if calls := rec.Calls(); len(calls) != 1 || !strings.HasSuffix(calls[0], "LIMIT 1 FOR UPDATE") {
			t.Errorf("%s: sent %q", d, calls)
		}
	}

	// SQLite has no row locks: an error, and nothing sent.
	g := mustTable[Gadget](t, db.SQLite)
	rec := &recorder{driver: "sqlite"}
	for _, q := range []repo.Query[Gadget]{g.Query().ForUpdate(), g.Query().SkipLocked()} {
		if _, _, err := q.ToSQL(); err == nil || !strings.Contains(err.Error(), "SQLite") {
			t.Errorf("ToSQL: %v", err)
		}
		q = q.On(rec)
		if _, err := q.All(bg); err == nil {
			t.Error("All ran")
		}
		if _, err := q.First(bg); err == nil {
			t.Error("First ran")
		}
		if _, err := q.Exists(bg); err == nil {
			t.Error("Exists ran")
		}
		for _, err := range q.Chunks(bg, 2) {
			if err == nil {
				t.Error("Chunks ran")
			}
		}
	}
	if calls := rec.Calls(); len(calls) != 0 {
		t.Fatalf("sent %q", calls)
	}
}

// TestQueryRowLocks holds row locks in one transaction and looks at the rows
// from others, on PostgreSQL and MariaDB: SkipLocked skips what ForUpdate
// and SkipLocked locked. Each statement returns without waiting, so the test
// needs no sleep.
func TestQueryRowLocks(t *testing.T) {
	testdb.Each(t, func(t *testing.T, d db.Dialect, u string) {
		if d == db.SQLite {
			return // TestQueryLockSQL checks the error
		}
		x, g, c, rows := seedGadgets(t, d, u)
		begin := func() *sqlx.Tx {
			t.Helper()
			tx, err := x.BeginTxx(bg, nil)
			must(t, err)
			t.Cleanup(func() { _ = tx.Rollback() })
			return tx
		}
		tx1, tx2, tx3 := begin(), begin(), begin()
		// tx1 locks apple by its key.
		got, err := g.On(tx1).Query().Where(c.id.Eq(rows["apple"].ID)).ForUpdate().All(bg)
		if err != nil || names(got) != "apple" {
			t.Fatalf("tx1 ForUpdate = [%s], %v", names(got), err)
		}
		// tx2 takes the first row not locked: banana, which it locks.
		got, err = g.On(tx2).Query().Limit(1).SkipLocked().All(bg)
		if err != nil || names(got) != "banana" {
			t.Fatalf("tx2 SkipLocked = [%s], %v; want banana (apple is locked by tx1)", names(got), err)
		}
		// tx3 skips both.
		got, err = g.On(tx3).Query().Where(c.qty.Le(3)).SkipLocked().All(bg)
		if err != nil || names(got) != "carrot" {
			t.Fatalf("tx3 SkipLocked = [%s], %v; want carrot", names(got), err)
		}
		// Once tx1 ends, apple is free again.
		must(t, tx1.Rollback())
		got, err = g.On(tx3).Query().Where(c.qty.Le(3)).SkipLocked().All(bg)
		if err != nil || names(got) != "apple,carrot" {
			t.Fatalf("tx3 SkipLocked after tx1 = [%s], %v; want apple,carrot", names(got), err)
		}
	})
}
