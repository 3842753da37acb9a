package db

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"
)

// flakyBegin is a driver whose first BEGIN fails; everything else succeeds
// at once.
type flakyBegin struct{ begins atomic.Int64 }

func (d *flakyBegin) Open(string) (driver.Conn, error) { return &flakyConn{d: d}, nil }

// flakyConnector opens flakyBegin connections without registering a driver.
type flakyConnector struct{ d *flakyBegin }

func (k flakyConnector) Connect(context.Context) (driver.Conn, error) { return &flakyConn{d: k.d}, nil }
func (k flakyConnector) Driver() driver.Driver                        { return k.d }

type flakyConn struct{ d *flakyBegin }

func (c *flakyConn) Prepare(string) (driver.Stmt, error) { return nil, errors.New("not supported") }
func (c *flakyConn) Close() error                        { return nil }
func (c *flakyConn) Begin() (driver.Tx, error)           { return nil, errors.New("use BeginTx") }

func (c *flakyConn) BeginTx(context.Context, driver.TxOptions) (driver.Tx, error) {
	if c.d.begins.Add(1) == 1 {
		return nil, errors.New("flaky: BEGIN failed")
	}
	return flakyTx{}, nil
}

func (c *flakyConn) ExecContext(context.Context, string, []driver.NamedValue) (driver.Result, error) {
	return driver.RowsAffected(1), nil
}

type flakyTx struct{}

func (flakyTx) Commit() error   { return nil }
func (flakyTx) Rollback() error { return nil }

// A BEGIN that failed does not spoil the timeout of the BEGIN that follows
// it: the second attempt is bounded, and a statement after its timeout
// fails with context.DeadlineExceeded.
func TestTimeoutAfterAFailedBegin(t *testing.T) {
	pool := sql.OpenDB(flakyConnector{&flakyBegin{}})
	defer pool.Close()
	x := sqlx.NewDb(pool, "sqlite")
	ctx := context.Background()
	tx := NewTx(ctx, x, SQLite, TxOptions{Timeout: 50 * time.Millisecond})
	if _, err := tx.ExecContext(ctx, "INSERT 1"); err == nil {
		t.Fatal("the first BEGIN did not fail")
	}
	if _, err := tx.ExecContext(ctx, "INSERT 2"); err != nil {
		t.Fatalf("the second BEGIN: %v", err)
	}
	// The timer cancels the context, and database/sql rolls back on its
	// own goroutine: a statement may slip in between, so keep trying until
	// one fails (or give up after 5 s).
	var err error
	deadline := time.Now().Add(5 * time.Second)
	for {
		_, err = tx.ExecContext(ctx, "INSERT 3")
		if err != nil || time.Now().After(deadline) {
			break
		}
		time.Sleep(5 * time.Millisecond)
	}
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("a statement after the timeout: %v, want context.DeadlineExceeded", err)
	}
	if err := tx.Finish(ctx, true); err == nil {
		t.Error("a commit after the timeout succeeded")
	}
	if n := pool.Stats().InUse; n != 0 {
		t.Errorf("%d connections in use", n)
	}
}
