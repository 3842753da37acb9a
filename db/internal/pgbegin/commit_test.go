package pgbegin_test

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/fasttrack-go/fasttrack/db"
	"github.com/fasttrack-go/fasttrack/db/internal/pgbegin"
	"github.com/fasttrack-go/fasttrack/dburl"
	"github.com/fasttrack-go/fasttrack/internal/testdb"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/jmoiron/sqlx"
)

// traffic counts what the connections it dials send and wait for: writes,
// and turns, the reads that follow a write. A turn is a round trip the
// client waits for; a write whose reply is read only at the next turn
// costs no wait of its own.
type traffic struct {
	mu            sync.Mutex
	writes, turns int64
	wrote         bool
}

func (t *traffic) write() {
	t.mu.Lock()
	t.writes++
	t.wrote = true
	t.mu.Unlock()
}

func (t *traffic) read() {
	t.mu.Lock()
	if t.wrote {
		t.turns++
		t.wrote = false
	}
	t.mu.Unlock()
}

// sent returns the writes so far.
func (t *traffic) sent() int64 {
	writes, _ := t.counts()
	return writes
}

// counts returns the writes and turns so far.
func (t *traffic) counts() (writes, turns int64) {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.writes, t.turns
}

// trafficConn is a connection whose writes and reads traffic counts.
type trafficConn struct {
	net.Conn
	t *traffic
}

func (c trafficConn) Write(b []byte) (int, error) {
	c.t.write()
	return c.Conn.Write(b)
}

func (c trafficConn) Read(b []byte) (int, error) {
	n, err := c.Conn.Read(b)
	if n > 0 {
		c.t.read()
	}
	return n, err
}

// pgConfig returns the pgx configuration of databaseURL, its connections
// counted by tr (and delayed by delay each way, when it is not zero).
func pgConfig(t testing.TB, databaseURL string, tr *traffic, delay time.Duration) *pgx.ConnConfig {
	t.Helper()
	tgt, err := dburl.Parse(databaseURL)
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := pgx.ParseConfig(tgt.DSN)
	if err != nil {
		t.Fatal(err)
	}
	var d net.Dialer
	cfg.DialFunc = func(ctx context.Context, network, addr string) (net.Conn, error) {
		c, err := d.DialContext(ctx, network, addr)
		if err != nil {
			return nil, err
		}
		if delay > 0 {
			c = delayed(c, delay)
		}
		return trafficConn{Conn: c, t: tr}, nil
	}
	return cfg
}

// openPool opens a one-connection pool on databaseURL through FastTrack's
// connector (or pgx's own, when fasttrack is false), with its traffic
// counted, and creates the items table.
func openPool(t testing.TB, databaseURL string, fasttrack bool, delay time.Duration) (*sqlx.DB, *traffic) {
	t.Helper()
	tr := &traffic{}
	connector := stdlib.GetConnector(*pgConfig(t, databaseURL, tr, delay))
	if fasttrack {
		connector = pgbegin.Wrap(connector)
	}
	pool := sql.OpenDB(connector)
	pool.SetMaxOpenConns(1)
	pool.SetMaxIdleConns(1)
	t.Cleanup(func() { pool.Close() })
	x := db.Wrap(pool, "pgx")
	if _, err := x.Exec(`CREATE TABLE IF NOT EXISTS items (id BIGINT PRIMARY KEY, name TEXT NOT NULL UNIQUE)`); err != nil {
		t.Fatal(err)
	}
	return x, tr
}

// openCounted is openPool with item 1 in the items table.
func openCounted(t testing.TB, databaseURL string, fasttrack bool, delay time.Duration) (*sqlx.DB, *traffic) {
	t.Helper()
	x, tr := openPool(t, databaseURL, fasttrack, delay)
	if _, err := x.Exec(`INSERT INTO items (id, name) VALUES (1, 'one') ON CONFLICT DO NOTHING`); err != nil {
		t.Fatal(err)
	}
	return x, tr
}

// getByID is a route's work: one row by id.
func getByID(ctx context.Context, tx *sqlx.Tx) error {
	var name string
	return tx.GetContext(ctx, &name, "SELECT name FROM items WHERE id = $1", 1)
}

// measured is what one transaction cost.
type measured struct {
	turns       int64 // from BeginTx to Commit's return
	commitTurns int64 // within Commit
	commitErr   error
}

// measure runs fn in a transaction with opts and commits, after settling
// whatever the connection had pending (a ping), and counts its turns.
func measure(t *testing.T, x *sqlx.DB, tr *traffic, opts *sql.TxOptions, fn func(ctx context.Context, tx *sqlx.Tx) error) measured {
	t.Helper()
	ctx := context.Background()
	if err := x.PingContext(ctx); err != nil {
		t.Fatal(err)
	}
	_, start := tr.counts()
	tx, err := x.BeginTxx(ctx, opts)
	if err != nil {
		t.Fatal(err)
	}
	if err := fn(ctx, tx); err != nil {
		t.Fatal(err)
	}
	_, beforeCommit := tr.counts()
	err = tx.Commit()
	_, end := tr.counts()
	return measured{turns: end - start, commitTurns: end - beforeCommit, commitErr: err}
}

// TestPGReadOnlyCommitCostsNoWait: a read-only transaction of one SELECT by
// id takes one round trip from BeginTx to Commit's return (BEGIN and the
// SELECT in one; COMMIT unanswered); one that must wait for its COMMIT
// takes two, and pgx's own connector three.
func TestPGReadOnlyCommitCostsNoWait(t *testing.T) {
	u := testdb.New(t, db.Postgres)
	ro := func(l sql.IsolationLevel) *sql.TxOptions { return &sql.TxOptions{ReadOnly: true, Isolation: l} }
	tests := []struct {
		name                    string
		fasttrack               bool
		opts                    *sql.TxOptions
		wantTurns, wantInCommit int64
	}{
		{"read only", true, ro(sql.LevelDefault), 1, 0},
		{"read only read committed", true, ro(sql.LevelReadCommitted), 1, 0},
		{"read only repeatable read", true, ro(sql.LevelRepeatableRead), 1, 0},
		{"read only serializable", true, ro(sql.LevelSerializable), 2, 1},
		{"read write", true, nil, 2, 1},
		{"pgx stdlib read only", false, ro(sql.LevelDefault), 3, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			x, tr := openCounted(t, u, tt.fasttrack, 0)
			// The first transaction prepares the SELECT; of the next ones,
			// the least: pgx's stdlib pings a connection idle for over a
			// second when it is reused, which a slow machine may see.
			best := measured{turns: 1 << 30}
			for range 4 {
				m := measure(t, x, tr, tt.opts, getByID)
				if m.commitErr != nil {
					t.Fatal(m.commitErr)
				}
				if m.turns < best.turns {
					best = m
				}
			}
			if best.turns != tt.wantTurns || best.commitTurns != tt.wantInCommit {
				t.Errorf("BEGIN, SELECT by id, COMMIT: %d round trips, %d of them in Commit; want %d and %d",
					best.turns, best.commitTurns, tt.wantTurns, tt.wantInCommit)
			}
			if n := x.Stats().InUse; n != 0 {
				t.Errorf("%d connections in use", n)
			}
		})
	}
}

// TestPGReadOnlyCommitsBackToBack: a transaction that follows a read-only
// one on the same connection at once does not wait for its COMMIT's
// reply: its BEGIN and first statement go out first, and the replies to
// all three come back in one read.
func TestPGReadOnlyCommitsBackToBack(t *testing.T) {
	x, tr := openCounted(t, testdb.New(t, db.Postgres), true, 0)
	ctx := context.Background()
	for _, opts := range []*sql.TxOptions{{ReadOnly: true}, {ReadOnly: true}, nil} {
		tx, err := x.BeginTxx(ctx, opts)
		if err != nil {
			t.Fatal(err)
		}
		if err := getByID(ctx, tx); err != nil {
			t.Fatal(err)
		}
		if err := tx.Commit(); err != nil {
			t.Fatal(err)
		}
	}
	// A read-only transaction, then one of each kind, back to back.
	for i, opts := range []*sql.TxOptions{{ReadOnly: true}, {ReadOnly: true}, nil, {ReadOnly: true}} {
		_, before := tr.counts()
		tx, err := x.BeginTxx(ctx, opts)
		if err != nil {
			t.Fatal(err)
		}
		if err := getByID(ctx, tx); err != nil {
			t.Fatal(err)
		}
		_, beforeCommit := tr.counts()
		if err := tx.Commit(); err != nil {
			t.Fatal(err)
		}
		_, after := tr.counts()
		if i == 0 {
			continue // the previous COMMIT may have been waited for
		}
		want := int64(1) // the read-write transaction waits for its COMMIT
		if opts == nil {
			want = 2
		}
		if n := after - before; n != want || beforeCommit-before != 1 {
			t.Errorf("transaction %d (options %+v): %d round trips, %d before Commit; want %d and 1", i, opts, n, beforeCommit-before, want)
		}
	}
}

// TestPGReadOnlyCommitKeepsSetLocal: SET LOCAL in a read-only transaction
// whose COMMIT goes unanswered applies to the statements after it, and no
// longer once the transaction has ended.
func TestPGReadOnlyCommitKeepsSetLocal(t *testing.T) {
	x, tr := openCounted(t, testdb.New(t, db.Postgres), true, 0)
	ctx := context.Background()
	var timeout0 string
	if err := x.Get(&timeout0, "SHOW statement_timeout"); err != nil {
		t.Fatal(err)
	}
	for i := range 3 { // the first time, BEGIN goes alone; then with set_config
		m := measure(t, x, tr, &sql.TxOptions{ReadOnly: true}, func(ctx context.Context, tx *sqlx.Tx) error {
			tenant := "tenant-" + itoa(i)
			var set string
			if err := tx.GetContext(ctx, &set, "SELECT set_config('fasttrack.tenant', $1, true)", tenant); err != nil {
				return err
			}
			if _, err := tx.ExecContext(ctx, "SET LOCAL statement_timeout = '4321ms'"); err != nil {
				return err
			}
			var got, timeout string
			if err := tx.GetContext(ctx, &got, "SELECT current_setting('fasttrack.tenant')"); err != nil {
				return err
			}
			if err := tx.GetContext(ctx, &timeout, "SHOW statement_timeout"); err != nil {
				return err
			}
			if got != tenant || timeout != "4321ms" {
				t.Errorf("round %d: in the transaction, fasttrack.tenant = %q and statement_timeout = %s; want %q and 4321ms", i, got, timeout, tenant)
			}
			return nil
		})
		if m.commitErr != nil || m.commitTurns != 0 {
			t.Fatalf("round %d: Commit: %v, %d round trips; want no error and none", i, m.commitErr, m.commitTurns)
		}
		// The same connection (the pool has one) after the transaction.
		var got, timeout string
		if err := x.GetContext(ctx, &got, "SELECT current_setting('fasttrack.tenant', true)"); err != nil {
			t.Fatal(err)
		}
		if err := x.GetContext(ctx, &timeout, "SHOW statement_timeout"); err != nil {
			t.Fatal(err)
		}
		if got != "" || timeout != timeout0 {
			t.Errorf("round %d: after the transaction, fasttrack.tenant = %q and statement_timeout = %s; want \"\" and %s", i, got, timeout, timeout0)
		}
	}
}

// deferredFailure readies the connection of x (a one-connection pool) so
// that a read-only transaction running "SELECT pg_temp.dup()" fails at
// COMMIT: the function writes a duplicate into a temporary table (the
// only kind a read-only transaction may write) whose unique constraint is
// checked at COMMIT. It returns the backend's pid.
func deferredFailure(t *testing.T, x *sqlx.DB) int {
	t.Helper()
	for _, s := range []string{
		"CREATE TEMP TABLE IF NOT EXISTS dups (id INT UNIQUE DEFERRABLE INITIALLY DEFERRED)",
		"CREATE OR REPLACE FUNCTION pg_temp.dup() RETURNS INT LANGUAGE sql AS $$ INSERT INTO dups VALUES (1), (1); SELECT 1 $$",
	} {
		if _, err := x.Exec(s); err != nil {
			t.Fatal(err)
		}
	}
	return backendPID(t, x)
}

// backendPID returns the pid of the backend of x's connection.
func backendPID(t *testing.T, x *sqlx.DB) int {
	t.Helper()
	var pid int
	if err := x.Get(&pid, "SELECT pg_backend_pid()"); err != nil {
		t.Fatal(err)
	}
	return pid
}

// TestPGSerializableReadOnlyCommitReportsItsFailure: the COMMIT of a
// serializable read-only transaction is waited for, and its failure
// reaches Commit's caller.
func TestPGSerializableReadOnlyCommitReportsItsFailure(t *testing.T) {
	x, tr := openCounted(t, testdb.New(t, db.Postgres), true, 0)
	for i := range 2 { // BEGIN alone, then with the SELECT
		deferredFailure(t, x)
		m := measure(t, x, tr, &sql.TxOptions{ReadOnly: true, Isolation: sql.LevelSerializable}, func(ctx context.Context, tx *sqlx.Tx) error {
			var one int
			return tx.GetContext(ctx, &one, "SELECT pg_temp.dup()")
		})
		var pe *pgconn.PgError
		if !errors.As(m.commitErr, &pe) || pe.Code != "23505" {
			t.Fatalf("round %d: Commit: %v, want the unique violation found at COMMIT (SQLSTATE 23505)", i, m.commitErr)
		}
		if m.commitTurns != 1 {
			t.Errorf("round %d: Commit took %d round trips, want 1", i, m.commitTurns)
		}
	}
}

// TestPGNextUseAfterReadOnlyCommit: the next user of a connection whose
// read-only COMMIT went unanswered gets a connection outside any
// transaction; when the COMMIT's reply is an error, or the backend is gone,
// the connection is dropped, and the pool serves on a new one.
func TestPGNextUseAfterReadOnlyCommit(t *testing.T) {
	ro := &sql.TxOptions{ReadOnly: true}
	// identity returns the transaction's backend, virtual transaction id
	// and start time.
	identity := func(ctx context.Context, tx *sqlx.Tx) (string, error) {
		var id string
		err := tx.GetContext(ctx, &id, `SELECT pg_backend_pid() || ' ' || virtualtransaction || ' ' || now()
			FROM pg_locks WHERE pid = pg_backend_pid() AND locktype = 'virtualxid'`)
		return id, err
	}
	t.Run("a new transaction", func(t *testing.T) {
		x, tr := openCounted(t, testdb.New(t, db.Postgres), true, 0)
		seen := map[string]bool{}
		pid := ""
		for i := range 4 {
			var id string
			m := measure(t, x, tr, ro, func(ctx context.Context, tx *sqlx.Tx) (err error) {
				id, err = identity(ctx, tx)
				return err
			})
			if m.commitErr != nil || m.commitTurns != 0 {
				t.Fatalf("round %d: Commit: %v, %d round trips; want no error and none", i, m.commitErr, m.commitTurns)
			}
			if seen[id] {
				t.Fatalf("round %d: transaction %s seen twice", i, id)
			}
			seen[id] = true
			if p := strings.Fields(id)[0]; pid == "" {
				pid = p
			} else if p != pid {
				t.Errorf("round %d: backend %s, want the pool's one connection %s", i, p, pid)
			}
		}
		if n := x.Stats().InUse; n != 0 {
			t.Errorf("%d connections in use", n)
		}
	})
	// A read-only transaction's COMMIT can fail when it wrote a temporary
	// table with a deferred constraint through a function (writes it runs
	// itself wait for their COMMIT): its connection is dropped.
	t.Run("a failed COMMIT", func(t *testing.T) {
		x, tr := openCounted(t, testdb.New(t, db.Postgres), true, 0)
		for i := range 2 {
			pid := deferredFailure(t, x)
			m := measure(t, x, tr, ro, func(ctx context.Context, tx *sqlx.Tx) error {
				var one int
				return tx.GetContext(ctx, &one, "SELECT pg_temp.dup()")
			})
			if m.commitErr != nil || m.commitTurns != 0 {
				t.Fatalf("round %d: Commit: %v, %d round trips; want the COMMIT unanswered", i, m.commitErr, m.commitTurns)
			}
			if p := backendPID(t, x); p == pid {
				t.Errorf("round %d: the connection whose COMMIT failed served again", i)
			}
			if n := x.Stats().InUse; n != 0 {
				t.Errorf("round %d: %d connections in use", i, n)
			}
		}
	})
	// The same, when the next use is a transaction whose first statement
	// goes out before the failed COMMIT's reply is read: that transaction
	// fails with an error that is driver.ErrBadConn, and the connection
	// is dropped.
	t.Run("a failed COMMIT, then a transaction at once", func(t *testing.T) {
		x, _ := openCounted(t, testdb.New(t, db.Postgres), true, 0)
		ctx := context.Background()
		for i := range 2 {
			pid := deferredFailure(t, x)
			for j, fn := range []func(ctx context.Context, tx *sqlx.Tx) error{
				func(ctx context.Context, tx *sqlx.Tx) error { // prepares getByID's statement
					if err := getByID(ctx, tx); err != nil {
						return err
					}
					var one int
					return tx.GetContext(ctx, &one, "SELECT pg_temp.dup()")
				},
				getByID,
			} {
				tx, err := x.BeginTxx(ctx, ro)
				if err != nil {
					t.Fatal(err)
				}
				err = fn(ctx, tx)
				if err == nil {
					err = tx.Commit()
				} else if rerr := tx.Rollback(); rerr != nil {
					t.Fatalf("round %d: rollback: %v", i, rerr)
				}
				if wantBad := j == 1; wantBad != errors.Is(err, driver.ErrBadConn) || (!wantBad && err != nil) {
					t.Fatalf("round %d, transaction %d: %v (want driver.ErrBadConn: %v)", i, j, err, wantBad)
				}
			}
			if p := backendPID(t, x); p == pid {
				t.Errorf("round %d: the connection whose COMMIT failed served again", i)
			}
			if n := x.Stats().InUse; n != 0 {
				t.Errorf("round %d: %d connections in use", i, n)
			}
		}
	})
	t.Run("a terminated backend", func(t *testing.T) {
		u := testdb.New(t, db.Postgres)
		x, tr := openCounted(t, u, true, 0)
		admin, _ := openCounted(t, u, false, 0)
		for i := range 2 {
			pid := backendPID(t, x)
			m := measure(t, x, tr, ro, getByID)
			if m.commitErr != nil || m.commitTurns != 0 {
				t.Fatalf("round %d: Commit: %v, %d round trips; want no error and none", i, m.commitErr, m.commitTurns)
			}
			var ok bool
			if err := admin.Get(&ok, "SELECT pg_terminate_backend($1, 60000)", pid); err != nil || !ok {
				t.Fatalf("round %d: terminating backend %d: %v, %v", i, pid, ok, err)
			}
			// The next use fails, or runs on a new connection; the one
			// after runs.
			var p int
			if err := x.Get(&p, "SELECT pg_backend_pid()"); err == nil && p == pid {
				t.Fatalf("round %d: the terminated backend answered", i)
			}
			if p := backendPID(t, x); p == pid {
				t.Fatalf("round %d: the terminated backend answered", i)
			}
			if n := x.Stats().InUse; n != 0 {
				t.Errorf("round %d: %d connections in use", i, n)
			}
		}
	})
}

// TestPGReadOnlyCommitOutlivesItsContext: the request's context, cancelled
// right after Commit returns (as net/http does after the response), does
// not interrupt the COMMIT sent without waiting: the connection serves on.
func TestPGReadOnlyCommitOutlivesItsContext(t *testing.T) {
	x, tr := openCounted(t, testdb.New(t, db.Postgres), true, 0)
	pid := backendPID(t, x)
	for i := range 3 {
		ctx, cancel := context.WithCancel(context.Background())
		tx, err := x.BeginTxx(ctx, &sql.TxOptions{ReadOnly: true})
		if err != nil {
			t.Fatal(err)
		}
		if err := getByID(ctx, tx); err != nil {
			t.Fatal(err)
		}
		_, before := tr.counts()
		err = tx.Commit()
		cancel()
		_, after := tr.counts()
		if err != nil || after != before {
			t.Fatalf("round %d: Commit: %v, %d round trips; want no error and none", i, err, after-before)
		}
		if p := backendPID(t, x); p != pid {
			t.Fatalf("round %d: backend %d, want %d: the cancelled context broke the connection", i, p, pid)
		}
	}
}

// driverConn is a connection opened by FastTrack's connector, at driver
// level, with the pgx connection under it.
type driverConn struct {
	dc  driver.Conn
	pgx *pgx.Conn
	tr  *traffic
}

// connectDriver opens a driver connection on a fresh database.
func connectDriver(t *testing.T) driverConn {
	t.Helper()
	tr := &traffic{}
	dc, err := pgbegin.Wrap(stdlib.GetConnector(*pgConfig(t, testdb.New(t, db.Postgres), tr, 0))).Connect(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { dc.Close() })
	pgxConner, ok := dc.(interface{ Conn() *pgx.Conn })
	if !ok {
		t.Fatalf("%T has no Conn() *pgx.Conn", dc)
	}
	return driverConn{dc: dc, pgx: pgxConner.Conn(), tr: tr}
}

// readOnlyCommit runs a read-only transaction of one SELECT on c and
// commits it, leaving the COMMIT's reply unread.
func (c driverConn) readOnlyCommit(t *testing.T) {
	t.Helper()
	ctx := context.Background()
	tx, err := c.dc.(driver.ConnBeginTx).BeginTx(ctx, driver.TxOptions{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.dc.(driver.ExecerContext).ExecContext(ctx, "SELECT $1::int", []driver.NamedValue{{Ordinal: 1, Value: int64(1)}}); err != nil {
		t.Fatal(err)
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	if !c.pgx.PgConn().IsBusy() {
		t.Fatal("the COMMIT's reply was read within Commit")
	}
}

// TestPGEveryEntryPointSettlesTheCommit: each way into the connection
// reads the pending COMMIT's reply first, and leaves the connection idle
// outside any transaction; IsValid, which database/sql calls within
// Tx.Commit, does not wait for it; and a use of the pgx connection that
// bypasses them fails loudly.
func TestPGEveryEntryPointSettlesTheCommit(t *testing.T) {
	ctx := context.Background()
	arg := []driver.NamedValue{{Ordinal: 1, Value: int64(2)}}
	tests := []struct {
		name string
		use  func(c driverConn) error
	}{
		// The statement sent with BEGIN goes out before the reply is
		// read; a new one waits for it.
		{"BeginTx, statement sent with BEGIN", func(c driverConn) error {
			tx, err := c.dc.(driver.ConnBeginTx).BeginTx(ctx, driver.TxOptions{})
			if err != nil {
				return err
			}
			if _, err := c.dc.(driver.ExecerContext).ExecContext(ctx, "SELECT $1::int", arg); err != nil {
				return err
			}
			return tx.Rollback()
		}},
		{"BeginTx, new statement", func(c driverConn) error {
			tx, err := c.dc.(driver.ConnBeginTx).BeginTx(ctx, driver.TxOptions{})
			if err != nil {
				return err
			}
			if _, err := c.dc.(driver.ExecerContext).ExecContext(ctx, "SELECT $1::int + 3", arg); err != nil {
				return err
			}
			return tx.Rollback()
		}},
		{"ExecContext", func(c driverConn) error {
			_, err := c.dc.(driver.ExecerContext).ExecContext(ctx, "SELECT $1::int", arg)
			return err
		}},
		{"QueryContext", func(c driverConn) error {
			rows, err := c.dc.(driver.QueryerContext).QueryContext(ctx, "SELECT $1::int", arg)
			if err != nil {
				return err
			}
			return rows.Close()
		}},
		{"PrepareContext", func(c driverConn) error {
			st, err := c.dc.(driver.ConnPrepareContext).PrepareContext(ctx, "SELECT $1::int + 1")
			if err != nil {
				return err
			}
			return st.Close()
		}},
		{"Ping", func(c driverConn) error { return c.dc.(driver.Pinger).Ping(ctx) }},
		// ResetSession leaves a recent reply for the next use to read.
		{"ResetSession, then a statement", func(c driverConn) error {
			if err := c.dc.(driver.SessionResetter).ResetSession(ctx); err != nil {
				return err
			}
			if !c.pgx.PgConn().IsBusy() {
				return errors.New("ResetSession waited for the reply to a COMMIT just sent")
			}
			_, err := c.dc.(driver.ExecerContext).ExecContext(ctx, "SELECT $1::int", arg)
			return err
		}},
		{"Conn", func(c driverConn) error {
			if pc := c.dc.(interface{ Conn() *pgx.Conn }).Conn(); pc.IsClosed() {
				return errors.New("Conn gave a closed connection")
			}
			return nil
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := connectDriver(t)
			for i := range 2 {
				c.readOnlyCommit(t)
				if err := tt.use(c); err != nil {
					t.Fatalf("round %d: %v", i, err)
				}
				if pc := c.pgx.PgConn(); pc.IsBusy() || pc.TxStatus() != 'I' {
					t.Fatalf("round %d: after %s, busy %v, status %c; want idle, I", i, tt.name, pc.IsBusy(), pc.TxStatus())
				}
			}
		})
	}
	t.Run("statement Close", func(t *testing.T) {
		c := connectDriver(t)
		st, err := c.dc.(driver.ConnPrepareContext).PrepareContext(ctx, "SELECT $1::int + 1")
		if err != nil {
			t.Fatal(err)
		}
		c.readOnlyCommit(t)
		if err := st.Close(); err != nil {
			t.Fatal(err)
		}
		if pc := c.pgx.PgConn(); pc.IsBusy() || pc.TxStatus() != 'I' {
			t.Fatalf("after the statement's Close, busy %v, status %c", pc.IsBusy(), pc.TxStatus())
		}
	})
	t.Run("Close", func(t *testing.T) {
		c := connectDriver(t)
		c.readOnlyCommit(t)
		_, before := c.tr.counts()
		if err := c.dc.Close(); err != nil {
			t.Fatal(err)
		}
		if !c.pgx.IsClosed() {
			t.Fatal("the connection is open after Close")
		}
		// The reply was read: the socket does not close on unread data,
		// which would reset the connection under the server.
		if _, after := c.tr.counts(); after != before+1 {
			t.Errorf("Close read %d replies, want the COMMIT's", after-before)
		}
	})
	t.Run("IsValid does not wait", func(t *testing.T) {
		c := connectDriver(t)
		c.readOnlyCommit(t)
		if !c.dc.(driver.Validator).IsValid() {
			t.Error("a connection with a COMMIT pending is not valid")
		}
		if !c.pgx.PgConn().IsBusy() {
			t.Error("IsValid read the COMMIT's reply")
		}
	})
	t.Run("a bypass fails loudly", func(t *testing.T) {
		c := connectDriver(t)
		c.readOnlyCommit(t)
		_, err := c.pgx.Exec(ctx, "SELECT 1")
		if err == nil || !strings.Contains(err.Error(), "conn busy") {
			t.Errorf("a statement on the pgx connection with a COMMIT pending: %v, want \"conn busy\"", err)
		}
		if _, err := c.dc.(driver.ExecerContext).ExecContext(ctx, "SELECT $1::int", arg); err != nil {
			t.Errorf("the connection after the bypass: %v", err)
		}
	})
}

// TestPGWhichCommitsWait: a read-only transaction below serializable
// commits without waiting, unless what it ran may make its COMMIT fail or
// change what it is.
func TestPGWhichCommitsWait(t *testing.T) {
	u := testdb.New(t, db.Postgres)
	{
		x, _ := openCounted(t, u, false, 0)
		if _, err := x.Exec("CREATE TABLE transactions (id BIGINT PRIMARY KEY, amount INT)"); err != nil {
			t.Fatal(err)
		}
	}
	ro := &sql.TxOptions{ReadOnly: true}
	exec := func(query string, args ...any) func(ctx context.Context, tx *sqlx.Tx) error {
		return func(ctx context.Context, tx *sqlx.Tx) error {
			_, err := tx.ExecContext(ctx, query, args...)
			return err
		}
	}
	tests := []struct {
		name    string
		session string // run on the connection before the transaction
		opts    *sql.TxOptions
		fn      func(ctx context.Context, tx *sqlx.Tx) error
		wait    bool
		commit  error // want Commit's error to be this one
	}{
		{"read only", "", ro, getByID, false, nil},
		{"a table named transactions", "", ro, exec("SELECT count(*) FROM transactions WHERE id = $1", 1), false, nil},
		{"the session's default is serializable", "SET default_transaction_isolation = 'serializable'", ro, func(ctx context.Context, tx *sqlx.Tx) error {
			var level string
			if err := tx.GetContext(ctx, &level, "SELECT current_setting($1)", "transaction_isolation"); err != nil {
				return err
			}
			if level != "serializable" {
				return fmt.Errorf("the transaction runs at %s, want serializable", level)
			}
			return nil
		}, true, nil},
		{"SET TRANSACTION ISOLATION LEVEL SERIALIZABLE", "", ro, func(ctx context.Context, tx *sqlx.Tx) error {
			if err := exec("SET TRANSACTION ISOLATION LEVEL SERIALIZABLE")(ctx, tx); err != nil {
				return err
			}
			return getByID(ctx, tx)
		}, true, nil},
		{"SET TRANSACTION READ WRITE", "", ro, func(ctx context.Context, tx *sqlx.Tx) error {
			if err := exec("SET TRANSACTION READ WRITE")(ctx, tx); err != nil {
				return err
			}
			return exec("INSERT INTO transactions (id, amount) VALUES ($1, 1) ON CONFLICT (id) DO UPDATE SET amount = transactions.amount + 1", 1)(ctx, tx)
		}, true, nil},
		{"NOTIFY", "", ro, exec("SELECT pg_notify('fasttrack', $1)", "x"), true, nil},
		{"a failed statement", "", ro, func(ctx context.Context, tx *sqlx.Tx) error {
			if exec("SELECT 1 / $1::int", 0)(ctx, tx) == nil {
				return errors.New("a division by zero succeeded")
			}
			return nil
		}, true, pgx.ErrTxCommitRollback},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			x, tr := openCounted(t, u, true, 0)
			if tt.session != "" {
				if _, err := x.Exec(tt.session); err != nil {
					t.Fatal(err)
				}
			}
			for i := range 2 { // BEGIN alone, then with the first statement
				m := measure(t, x, tr, tt.opts, tt.fn)
				if !errors.Is(m.commitErr, tt.commit) {
					t.Fatalf("round %d: Commit: %v, want %v", i, m.commitErr, tt.commit)
				}
				if waited := m.commitTurns > 0; waited != tt.wait {
					t.Errorf("round %d: Commit waited for its reply: %v, want %v", i, waited, tt.wait)
				}
			}
		})
	}
	// What a caller runs on the pgx connection of the transaction (through
	// sql.Conn.Raw) is not screened: the COMMIT waits.
	t.Run("the pgx connection", func(t *testing.T) {
		x, tr := openCounted(t, u, true, 0)
		ctx := context.Background()
		conn, err := x.Conn(ctx)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		for i := range 2 {
			tx, err := conn.BeginTx(ctx, ro)
			if err != nil {
				t.Fatal(err)
			}
			var n int
			if err := tx.QueryRowContext(ctx, "SELECT count(*) FROM items WHERE id = $1", 1).Scan(&n); err != nil {
				t.Fatal(err)
			}
			if err := raw(t, conn, func(pc *pgx.Conn) error { return nil }); err != nil {
				t.Fatal(err)
			}
			_, before := tr.counts()
			err = tx.Commit()
			_, after := tr.counts()
			if err != nil || after-before != 1 {
				t.Errorf("round %d: Commit: %v, %d round trips; want no error and 1", i, err, after-before)
			}
		}
	})
}
