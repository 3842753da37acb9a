package db_test

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/fasttrack-go/fasttrack/db"
	"github.com/fasttrack-go/fasttrack/internal/testdb"
	"github.com/go-sql-driver/mysql"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jmoiron/sqlx"
	"modernc.org/sqlite"
)

// driverCode returns the code the driver gave err: PostgreSQL's SQLSTATE,
// MySQL's error number or SQLite's extended result code; "" for none.
func driverCode(err error) string {
	var pg *pgconn.PgError
	var my *mysql.MySQLError
	var se *sqlite.Error
	switch {
	case errors.As(err, &pg):
		return pg.Code
	case errors.As(err, &my):
		return strconv.Itoa(int(my.Number))
	case errors.As(err, &se):
		return strconv.Itoa(se.Code())
	}
	return ""
}

// classes are the sentinels of Classify; an error wraps at most one.
var classes = []error{db.ErrUniqueViolation, db.ErrForeignKeyViolation, db.ErrRetryable, db.ErrConnLost}

// checkClass fails t unless err wraps want and no other class.
func checkClass(t *testing.T, err, want error) {
	t.Helper()
	if !errors.Is(err, want) {
		t.Fatalf("%v (driver code %q) does not wrap %v", err, driverCode(err), want)
	}
	for _, c := range classes {
		if c != want && errors.Is(err, c) {
			t.Fatalf("%v wraps %v besides %v", err, c, want)
		}
	}
}

// fkSchema creates fk_parent(1) and fk_child, whose parent_id references
// fk_parent through the constraint fk_child_parent.
func fkSchema(t *testing.T, x *sqlx.DB) {
	t.Helper()
	mustExec(t, x, "CREATE TABLE fk_parent (id INT PRIMARY KEY)")
	mustExec(t, x, "CREATE TABLE fk_child (id INT PRIMARY KEY, parent_id INT NOT NULL, "+
		"CONSTRAINT fk_child_parent FOREIGN KEY (parent_id) REFERENCES fk_parent (id))")
	mustExec(t, x, "INSERT INTO fk_parent (id) VALUES (1)")
	mustExec(t, x, "INSERT INTO fk_child (id, parent_id) VALUES (1, 1)")
}

// TestForeignKeyViolationIsClassified breaks a foreign key both ways in a
// Tx, on every database: a child that references a missing parent
// (MySQL 1452) and a referenced parent deleted (MySQL 1451). The error wraps
// ErrForeignKeyViolation alone, the driver's error stays in its chain, and
// PostgreSQL and MySQL name the constraint.
func TestForeignKeyViolationIsClassified(t *testing.T) {
	testdb.Each(t, func(t *testing.T, d db.Dialect, u string) {
		x, _ := testdb.Open(t, u)
		fkSchema(t, x)
		for _, tc := range []struct {
			name, query string
			args        []any
			code        map[db.Dialect]string
		}{
			{"a child without its parent", "INSERT INTO fk_child (id, parent_id) VALUES (?, ?)", []any{2, 99},
				map[db.Dialect]string{db.Postgres: "23503", db.MySQL: "1452", db.SQLite: "787"}},
			{"a referenced parent deleted", "DELETE FROM fk_parent WHERE id = ?", []any{1},
				map[db.Dialect]string{db.Postgres: "23503", db.MySQL: "1451", db.SQLite: "787"}},
		} {
			t.Run(tc.name, func(t *testing.T) {
				ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
				defer cancel()
				tx := db.NewTx(ctx, x, d, db.TxOptions{})
				defer endTx(t, tx, false)
				_, err := tx.ExecContext(ctx, d.Rebind(tc.query), tc.args...)
				checkClass(t, err, db.ErrForeignKeyViolation)
				if got := driverCode(err); got != tc.code[d] {
					t.Errorf("driver code %q, want %q: %v", got, tc.code[d], err)
				}
				var pg *pgconn.PgError
				if d == db.Postgres && (!errors.As(err, &pg) || pg.ConstraintName != "fk_child_parent") {
					t.Errorf("the PgError does not name fk_child_parent: %v", err)
				}
				if d == db.MySQL && !strings.Contains(err.Error(), "fk_child_parent") {
					t.Errorf("the error does not name fk_child_parent: %v", err)
				}
			})
		}
	})
}

// TestDeferredConstraintsFailTheCommitClassified breaks deferred
// constraints, which are checked at COMMIT: a unique key and a foreign key
// declared DEFERRABLE INITIALLY DEFERRED on PostgreSQL, a deferred foreign
// key on SQLite (MySQL has no deferred constraints). Every statement
// succeeds; Finish(commit) fails with the class of the broken constraint and
// the driver's error in the chain, nothing is committed, and the connection
// is back in the pool.
func TestDeferredConstraintsFailTheCommitClassified(t *testing.T) {
	type commitCase struct {
		name       string
		d          db.Dialect
		params     string // added to the database URL
		schema     []string
		stmts      []string
		want       error
		code       string
		constraint string // "" where the database does not name it
		table      string // left empty by the rollback
	}
	cases := []commitCase{
		{
			name: "postgres unique", d: db.Postgres,
			schema: []string{"CREATE TABLE dq (v INT, CONSTRAINT dq_v_key UNIQUE (v) DEFERRABLE INITIALLY DEFERRED)"},
			stmts:  []string{"INSERT INTO dq (v) VALUES (1)", "INSERT INTO dq (v) VALUES (1)"},
			want:   db.ErrUniqueViolation, code: "23505", constraint: "dq_v_key", table: "dq",
		},
		{
			name: "postgres foreign key", d: db.Postgres,
			schema: []string{
				"CREATE TABLE dp (id INT PRIMARY KEY)",
				"CREATE TABLE dc (id INT PRIMARY KEY, parent_id INT NOT NULL, " +
					"CONSTRAINT dc_parent_fk FOREIGN KEY (parent_id) REFERENCES dp (id) DEFERRABLE INITIALLY DEFERRED)",
			},
			stmts: []string{"INSERT INTO dc (id, parent_id) VALUES (1, 99)"},
			want:  db.ErrForeignKeyViolation, code: "23503", constraint: "dc_parent_fk", table: "dc",
		},
		{
			name: "sqlite foreign key", d: db.SQLite,
			schema: []string{
				"CREATE TABLE dp (id INTEGER PRIMARY KEY)",
				"CREATE TABLE dc (id INTEGER PRIMARY KEY, parent_id INTEGER NOT NULL " +
					"REFERENCES dp (id) DEFERRABLE INITIALLY DEFERRED)",
			},
			stmts: []string{"INSERT INTO dc (id, parent_id) VALUES (1, 99)"},
			want:  db.ErrForeignKeyViolation, code: "787", table: "dc",
		},
	}
	for _, tc := range cases {
		if tc.d == db.Postgres {
			// The simple protocol: the connection leaves transactions to
			// pgx's stdlib (see package db/internal/pgbegin).
			tc.name += ", simple protocol"
			tc.params = "&default_query_exec_mode=simple_protocol"
			cases = append(cases, tc)
		}
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			x, d := testdb.Open(t, testdb.New(t, tc.d)+tc.params)
			for _, s := range tc.schema {
				mustExec(t, x, s)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			tx := db.NewTx(ctx, x, d, db.TxOptions{})
			for _, s := range tc.stmts {
				if _, err := tx.ExecContext(ctx, s); err != nil {
					_ = tx.Finish(ctx, false)
					t.Fatalf("%s: %v (the constraint is not deferred?)", s, err)
				}
			}
			err := tx.Finish(ctx, true)
			checkClass(t, err, tc.want)
			if got := driverCode(err); got != tc.code {
				t.Errorf("driver code %q, want %q: %v", got, tc.code, err)
			}
			var pg *pgconn.PgError
			if tc.constraint != "" && (!errors.As(err, &pg) || pg.ConstraintName != tc.constraint) {
				t.Errorf("the PgError does not name %s: %v", tc.constraint, err)
			}
			if tx.Outcome() != db.OutcomeRolledBack {
				t.Errorf("outcome %v, want rolled back", tx.Outcome())
			}
			var n int
			if err := x.GetContext(ctx, &n, "SELECT COUNT(*) FROM "+tc.table); err != nil || n != 0 {
				t.Errorf("%d rows in %s (%v), want none", n, tc.table, err)
			}
			waitIdle(t, x)
		})
	}
}

// endTx ends tx, failing t if that fails.
func endTx(t *testing.T, tx *db.Tx, commit bool) {
	t.Helper()
	if err := tx.Finish(tx.Context(), commit); err != nil {
		t.Errorf("finish (commit %v): %v", commit, err)
	}
}
