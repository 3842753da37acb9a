package pgbegin_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/fasttrack-go/fasttrack/db"
	"github.com/fasttrack-go/fasttrack/internal/testdb"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jmoiron/sqlx"
)

// openPG opens a one-connection pool on a fresh PostgreSQL database, through
// FastTrack's connector (fasttrack) or pgx's own (stdlib), counting its
// traffic.
func openPG(t *testing.T, fasttrack bool) (*sqlx.DB, *traffic) {
	t.Helper()
	return openPGOn(t, testdb.New(t, db.Postgres), fasttrack)
}

// openPGOn is openPG on the database u, with the pool's connection already
// pinged (pgx's stdlib pings a connection on its first reuse).
func openPGOn(t *testing.T, u string, fasttrack bool) (*sqlx.DB, *traffic) {
	t.Helper()
	x, tr := openPool(t, u, fasttrack, 0)
	for range 2 {
		if _, err := x.Exec("SELECT 1"); err != nil {
			t.Fatal(err)
		}
	}
	return x, tr
}

// inTx runs fn in a transaction of x with opts, and commits.
func inTx(t *testing.T, x *sqlx.DB, opts *sql.TxOptions, fn func(tx *sqlx.Tx) error) error {
	t.Helper()
	ctx := context.Background()
	tx, err := x.BeginTxx(ctx, opts)
	if err != nil {
		t.Fatal(err)
	}
	if err := fn(tx); err != nil {
		if rerr := tx.Rollback(); rerr != nil {
			t.Errorf("rollback: %v", rerr)
		}
		return err
	}
	return tx.Commit()
}

// finish commits tx, or rolls it back.
func finish(t *testing.T, tx *sqlx.Tx, commit bool) {
	t.Helper()
	end := tx.Rollback
	if commit {
		end = tx.Commit
	}
	if err := end(); err != nil {
		t.Fatal(err)
	}
}

// writesOf returns how many writes one run of fn takes, after a first run
// has prepared its statements.
func writesOf(t *testing.T, x *sqlx.DB, w *traffic, opts *sql.TxOptions, fn func(tx *sqlx.Tx) error) int64 {
	t.Helper()
	if err := inTx(t, x, opts, fn); err != nil {
		t.Fatal(err)
	}
	before := w.sent()
	if err := inTx(t, x, opts, fn); err != nil {
		t.Fatal(err)
	}
	return w.sent() - before
}

func TestPGBeginTravelsWithTheFirstStatement(t *testing.T) {
	u := testdb.New(t, db.Postgres)
	read := func(tx *sqlx.Tx) error {
		var name string
		err := tx.Get(&name, "SELECT name FROM items WHERE id = $1", 1)
		if errors.Is(err, sql.ErrNoRows) {
			return nil
		}
		return err
	}
	var next int64 = 100
	write := func(tx *sqlx.Tx) error {
		next++
		_, err := tx.Exec("INSERT INTO items (id, name) VALUES ($1, $2)", next, "n"+time.Now().String()+string(rune('a'+next%26)))
		return err
	}
	ro := &sql.TxOptions{ReadOnly: true}
	for _, c := range []struct {
		name string
		opts *sql.TxOptions
		fn   func(*sqlx.Tx) error
	}{{"read", ro, read}, {"write", nil, write}} {
		x, w := openPGOn(t, u, true)
		got := writesOf(t, x, w, c.opts, c.fn)
		xs, ws := openPGOn(t, u, false)
		std := writesOf(t, xs, ws, c.opts, c.fn)
		if got != 2 || std != 3 {
			t.Errorf("%s: a transaction of one statement took %d writes through FastTrack's connector, %d through pgx's; want 2 and 3", c.name, got, std)
		}
	}
}

func TestPGTransactionWithoutStatementsSendsNothing(t *testing.T) {
	x, w := openPG(t, true)
	ctx := context.Background()
	for _, commit := range []bool{true, false} {
		before := w.sent()
		tx, err := x.BeginTxx(ctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		finish(t, tx, commit)
		if n := w.sent() - before; n != 0 {
			t.Errorf("commit=%v: an empty transaction sent %d writes", commit, n)
		}
	}
}

// typesQuery reads one value of many PostgreSQL types.
const typesQuery = `SELECT $1::int AS k, true AS b, 2::int2 AS i2, 3::int4 AS i4, 4::int8 AS i8,
	1.5::float4 AS f4, 2.25::float8 AS f8, 12.50::numeric(10,2) AS num, 'text'::text AS t,
	'vc'::varchar(5) AS vc, 'ch'::char(3) AS ch, '\x0102'::bytea AS by, '{"a": 1}'::json AS j,
	'{"b": [2]}'::jsonb AS jb, 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11'::uuid AS id,
	'2026-11-26'::date AS d, '2026-11-26 05:06:07.123456'::timestamp AS ts,
	'2026-11-26 05:06:07.123456+02'::timestamptz AS tstz, '1 day 02:03:04'::interval AS iv,
	ARRAY[1, 2]::int[] AS ai, ARRAY['x', NULL]::text[] AS at, '10.0.0.1/8'::inet AS ip,
	26::oid AS o, NULL::int AS n, 'infinity'::timestamptz AS inf, '12:34'::time AS tm,
	'<a/>'::xml AS x, '$1.25'::money AS m`

// scanAll returns the columns, type names and values of typesQuery's row.
func scanAll(t *testing.T, rows *sqlx.Rows) ([]string, []any) {
	t.Helper()
	defer rows.Close()
	types, err := rows.ColumnTypes()
	if err != nil {
		t.Fatal(err)
	}
	names := make([]string, len(types))
	for i, ct := range types {
		length, hasLength := ct.Length()
		prec, scale, hasDec := ct.DecimalSize()
		names[i] = fmt.Sprintf("%s %s %v length %d %v decimal %d,%d %v", ct.Name(), ct.DatabaseTypeName(), ct.ScanType(),
			length, hasLength, prec, scale, hasDec)
	}
	if !rows.Next() {
		t.Fatalf("no row: %v", rows.Err())
	}
	vals := make([]any, len(types))
	ptrs := make([]any, len(types))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	if err := rows.Scan(ptrs...); err != nil {
		t.Fatal(err)
	}
	if rows.Next() {
		t.Fatal("a second row")
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return names, vals
}

func TestPGFirstStatementScansAsTheOthers(t *testing.T) {
	x, w := openPG(t, true)
	ctx := context.Background()
	// The first transaction prepares the query; the second sends it with
	// BEGIN, then runs it again as its second statement.
	for range 2 {
		before := w.sent()
		tx, err := x.BeginTxx(ctx, &sql.TxOptions{ReadOnly: true})
		if err != nil {
			t.Fatal(err)
		}
		rows, err := tx.QueryxContext(ctx, typesQuery, 7)
		if err != nil {
			t.Fatal(err)
		}
		firstNames, first := scanAll(t, rows)
		sent := w.sent() - before
		rows, err = tx.QueryxContext(ctx, typesQuery, 7)
		if err != nil {
			t.Fatal(err)
		}
		names, second := scanAll(t, rows)
		if err := tx.Commit(); err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(firstNames, names) {
			t.Errorf("column types: first statement %v, second %v", firstNames, names)
		}
		for i := range first {
			if !reflect.DeepEqual(first[i], second[i]) {
				t.Errorf("%s: first statement %#v (%T), second %#v (%T)", names[i], first[i], first[i], second[i], second[i])
			}
		}
		if sent == 1 {
			return // sent with BEGIN, and compared
		}
	}
	t.Error("the query never went with BEGIN")
}

func TestPGBeginKeepsTheOptions(t *testing.T) {
	x, _ := openPG(t, true)
	setting := func(opts *sql.TxOptions, name string) string {
		var v string
		for range 2 { // the second time, with BEGIN
			if err := inTx(t, x, opts, func(tx *sqlx.Tx) error {
				return tx.Get(&v, "SELECT current_setting($1)", name)
			}); err != nil {
				t.Fatal(err)
			}
		}
		return v
	}
	if v := setting(&sql.TxOptions{Isolation: sql.LevelSerializable}, "transaction_isolation"); v != "serializable" {
		t.Errorf("serializable transaction runs at %q", v)
	}
	if v := setting(&sql.TxOptions{Isolation: sql.LevelRepeatableRead, ReadOnly: true}, "transaction_isolation"); v != "repeatable read" {
		t.Errorf("repeatable read transaction runs at %q", v)
	}
	if v := setting(&sql.TxOptions{ReadOnly: true}, "transaction_read_only"); v != "on" {
		t.Errorf("read-only transaction has transaction_read_only %q", v)
	}
	if v := setting(nil, "transaction_read_only"); v != "off" {
		t.Errorf("read-write transaction has transaction_read_only %q", v)
	}
	if _, err := x.BeginTx(context.Background(), &sql.TxOptions{Isolation: sql.LevelLinearizable}); err == nil {
		t.Error("an isolation level PostgreSQL does not have began")
	}
	// A write sent with a read-only BEGIN fails as in any read-only
	// transaction.
	for i := range 2 {
		err := inTx(t, x, &sql.TxOptions{ReadOnly: true}, func(tx *sqlx.Tx) error {
			_, err := tx.Exec("INSERT INTO items (id, name) VALUES ($1, $2)", 1, "ro")
			return err
		})
		var pe *pgconn.PgError
		if !errors.As(err, &pe) || pe.Code != "25006" {
			t.Fatalf("attempt %d: insert in a read-only transaction: %v, want SQLSTATE 25006", i, err)
		}
	}
	assertNoItems(t, x)
}

func TestPGFirstStatementCommitsAndRollsBack(t *testing.T) {
	x, _ := openPG(t, true)
	ctx := context.Background()
	insert := func(id int, name string, commit bool) {
		tx, err := x.BeginTxx(ctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := tx.ExecContext(ctx, "INSERT INTO items (id, name) VALUES ($1, $2)", id, name); err != nil {
			t.Fatal(err)
		}
		finish(t, tx, commit)
	}
	insert(1, "kept", true)     // prepares the insert
	insert(2, "dropped", false) // sent with BEGIN, rolled back
	insert(3, "kept too", true) // sent with BEGIN, committed
	var ids []int
	if err := x.Select(&ids, "SELECT id FROM items ORDER BY id"); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(ids, []int{1, 3}) {
		t.Errorf("rows %v, want [1 3]", ids)
	}
}

func TestPGFailedFirstStatement(t *testing.T) {
	x, _ := openPG(t, true)
	ctx := context.Background()
	if _, err := x.Exec("INSERT INTO items (id, name) VALUES (1, 'taken')"); err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		tx, err := x.BeginTxx(ctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		var id int
		err = tx.GetContext(ctx, &id, "INSERT INTO items (id, name) VALUES ($1, $2) RETURNING id", 10+i, "taken")
		if !errors.Is(db.Postgres.Classify(err), db.ErrUniqueViolation) {
			t.Fatalf("attempt %d: duplicate insert: %v", i, err)
		}
		// The transaction began, and failed: it takes no more statements.
		if _, err := tx.ExecContext(ctx, "INSERT INTO items (id, name) VALUES ($1, $2)", 20+i, "other"); err == nil {
			t.Fatalf("attempt %d: a statement ran after the failed one", i)
		}
		if err := tx.Rollback(); err != nil {
			t.Fatalf("attempt %d: rollback: %v", i, err)
		}
		if n := x.Stats().InUse; n != 0 {
			t.Fatalf("attempt %d: %d connections in use", i, n)
		}
	}
	var names []string
	if err := x.Select(&names, "SELECT name FROM items"); err != nil || !reflect.DeepEqual(names, []string{"taken"}) {
		t.Fatalf("rows %v, %v; want [taken]", names, err)
	}
	// A commit of a failed transaction reports it.
	tx, err := x.BeginTxx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.ExecContext(ctx, "INSERT INTO items (id, name) VALUES ($1, $2)", 30, "taken"); err == nil {
		t.Fatal("duplicate insert succeeded")
	}
	if err := tx.Commit(); err == nil {
		t.Error("the commit of a failed transaction succeeded")
	}
}

func TestPGStatementsWithoutArgumentsAndPrepared(t *testing.T) {
	x, _ := openPG(t, true)
	ctx := context.Background()
	for range 2 {
		// Without arguments, as pgx runs them: by the simple protocol,
		// several statements at once.
		tx, err := x.BeginTxx(ctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := tx.ExecContext(ctx, "INSERT INTO items (id, name) VALUES (1, 'a'); INSERT INTO items (id, name) VALUES (2, 'b')"); err != nil {
			t.Fatal(err)
		}
		// Prepared in the transaction.
		st, err := tx.PreparexContext(ctx, "INSERT INTO items (id, name) VALUES ($1, $2)")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := st.ExecContext(ctx, 3, "c"); err != nil {
			t.Fatal(err)
		}
		st.Close()
		if err := tx.Rollback(); err != nil {
			t.Fatal(err)
		}
		assertNoItems(t, x)
	}
	// A prepared statement that is a transaction's first statement.
	for i := range 2 {
		tx, err := x.BeginTxx(ctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		st, err := tx.PreparexContext(ctx, "INSERT INTO items (id, name) VALUES ($1, $2)")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := st.ExecContext(ctx, 10+i, "p"); err != nil {
			t.Fatal(err)
		}
		if err := tx.Rollback(); err != nil {
			t.Fatal(err)
		}
	}
	assertNoItems(t, x)
}

func TestPGTableChangedUnderAPreparedStatement(t *testing.T) {
	x, _ := openPG(t, true)
	if _, err := x.Exec("INSERT INTO items (id, name) VALUES (1, 'a')"); err != nil {
		t.Fatal(err)
	}
	read := func() ([]string, error) {
		var cols []string
		err := inTx(t, x, nil, func(tx *sqlx.Tx) error {
			rows, err := tx.Queryx("SELECT * FROM items")
			if err != nil {
				return err
			}
			defer rows.Close()
			cols, err = rows.Columns()
			for rows.Next() {
			}
			return errors.Join(err, rows.Err())
		})
		return cols, err
	}
	for range 2 {
		if _, err := read(); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := x.Exec("ALTER TABLE items ADD COLUMN note TEXT"); err != nil {
		t.Fatal(err)
	}
	// The statement prepared before fails once, as pgx's own cache does;
	// then it is prepared again, and sees the new column.
	for i := range 3 {
		cols, err := read()
		var pe *pgconn.PgError
		switch {
		case i == 0 && (!errors.As(err, &pe) || pe.Code != "0A000"):
			t.Fatalf("first read after the change: %v, want SQLSTATE 0A000", err)
		case i > 0 && err != nil:
			t.Fatalf("read %d after the change: %v", i, err)
		case i > 0 && len(cols) != 3:
			t.Fatalf("columns %v after the change", cols)
		}
	}
}

func TestPGQueryWithoutColumns(t *testing.T) {
	x, _ := openPG(t, true)
	for i := range 3 {
		err := inTx(t, x, nil, func(tx *sqlx.Tx) error {
			rows, err := tx.Query("INSERT INTO items (id, name) VALUES ($1, $2)", i, "q")
			if err != nil {
				return err
			}
			if rows.Next() {
				t.Error("a row from an INSERT")
			}
			rows.Close()
			return errors.New("roll back")
		})
		if err == nil || err.Error() != "roll back" {
			t.Fatalf("round %d: %v", i, err)
		}
	}
	assertNoItems(t, x)
}

func TestPGFailedRollbackEndsTheConnection(t *testing.T) {
	x, _ := openPG(t, true)
	bg := context.Background()
	conn, err := x.Conn(bg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(bg)
	tx, err := conn.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.ExecContext(ctx, "INSERT INTO items (id, name) VALUES ($1, $2)", 1, "rolled back"); err != nil {
		t.Fatal(err)
	}
	cancel()
	if err := tx.Rollback(); err == nil {
		t.Log("the rollback went out before the context was cancelled")
	}
	// The next transaction on the same connection must not join the
	// first: it fails, or it runs on its own.
	if tx2, err := conn.BeginTx(bg, nil); err == nil {
		if _, err := tx2.ExecContext(bg, "INSERT INTO items (id, name) VALUES ($1, $2)", 2, "second"); err == nil {
			_ = tx2.Commit()
		} else {
			_ = tx2.Rollback()
		}
	}
	conn.Close()
	var names []string
	if err := x.Select(&names, "SELECT name FROM items WHERE name = 'rolled back'"); err != nil {
		t.Fatal(err)
	}
	if len(names) != 0 {
		t.Error("a rolled-back insert was committed by the next transaction on its connection")
	}
}

func TestPGOptionsOfPgx(t *testing.T) {
	x, _ := openPG(t, true)
	for i := range 3 {
		for _, c := range []struct {
			query string
			args  []any
		}{
			{"SELECT $1::int + 1", []any{pgx.QueryExecModeExec, 1}},
			{"SELECT @a::int + 1", []any{pgx.NamedArgs{"a": 1}}},
		} {
			var n int
			if err := inTx(t, x, nil, func(tx *sqlx.Tx) error {
				return tx.QueryRow(c.query, c.args...).Scan(&n)
			}); err != nil || n != 2 {
				t.Fatalf("round %d: %s with %v: %d, %v", i, c.query, c.args, n, err)
			}
		}
	}
}

func TestPGCancelledFirstStatementLeaksNothing(t *testing.T) {
	x, _ := openPG(t, true)
	for i := range 3 {
		ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
		tx, err := x.BeginTxx(ctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		_, err = tx.ExecContext(ctx, "SELECT pg_sleep($1)", 5)
		cancel()
		if err == nil {
			t.Fatalf("attempt %d: a 5 s sleep outlived its 200 ms context", i)
		}
		_ = tx.Rollback()
		if err := inTx(t, x, nil, func(tx *sqlx.Tx) error {
			_, err := tx.Exec("INSERT INTO items (id, name) VALUES ($1, $2)", i, "after "+itoa(i))
			return err
		}); err != nil {
			t.Fatalf("attempt %d: the pool after a cancelled statement: %v", i, err)
		}
		if n := x.Stats().InUse; n != 0 {
			t.Fatalf("attempt %d: %d connections in use", i, n)
		}
	}
}

func TestPGPreparedStatementsAreBounded(t *testing.T) {
	x, w := openPG(t, true)
	// More distinct first statements than a connection keeps.
	for i := range 300 {
		if err := inTx(t, x, nil, func(tx *sqlx.Tx) error {
			var n int
			return tx.Get(&n, "SELECT $1::int + "+itoa(i), 1)
		}); err != nil {
			t.Fatal(err)
		}
	}
	var n int
	if err := x.Get(&n, "SELECT count(*) FROM pg_prepared_statements"); err != nil {
		t.Fatal(err)
	}
	if n > 260 {
		t.Errorf("%d statements prepared on one connection", n)
	}
	// The most recent one still goes with BEGIN.
	if got := writesOf(t, x, w, nil, func(tx *sqlx.Tx) error {
		var n int
		return tx.Get(&n, "SELECT $1::int + 299", 1)
	}); got != 2 {
		t.Errorf("a recent statement took %d writes, want 2", got)
	}
}

// assertNoItems fails t unless the items table is empty.
func assertNoItems(t *testing.T, x *sqlx.DB) {
	t.Helper()
	var n int
	if err := x.Get(&n, "SELECT count(*) FROM items"); err != nil || n != 0 {
		t.Fatalf("%d rows in items, want none (%v)", n, err)
	}
}

func itoa(i int) string {
	if i < 10 {
		return string(rune('0' + i))
	}
	return itoa(i/10) + string(rune('0'+i%10))
}
