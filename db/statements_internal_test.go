package db

import (
	"context"
	"path/filepath"
	"testing"
	"time"
)

// A statement that failed to prepare is prepared again once its retry time
// has come: here a table created after the statement's first run.
func TestStatementsRetryAFailedPrepare(t *testing.T) {
	x, d, err := Open("sqlite:"+filepath.Join(t.TempDir(), "retry.db"), Pool{})
	if err != nil {
		t.Fatal(err)
	}
	defer x.Close()
	s := NewStatements(x, d, 8)
	defer s.Close()
	s.retry = 20 * time.Millisecond
	const q = "SELECT v FROM later WHERE id = ?"
	ctx := context.Background()
	get := func() error {
		tx := NewTx(ctx, x, d, TxOptions{})
		tx.SetStatements(s)
		var v int
		err := tx.GetContext(ctx, &v, q, 1)
		if ferr := tx.Finish(ctx, err == nil); err == nil {
			err = ferr
		}
		return err
	}
	if err := get(); err == nil {
		t.Fatal("no error before the table exists")
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		v, ok := s.entries.Load(q)
		if ok && v.(*stmtEntry).retryAt.Load() != 0 {
			break // the first prepare failed
		}
		if time.Now().After(deadline) {
			t.Fatal("the failed prepare was not recorded")
		}
		time.Sleep(time.Millisecond)
	}
	if _, err := x.ExecContext(ctx, "CREATE TABLE later (id INTEGER PRIMARY KEY, v INTEGER)"); err != nil {
		t.Fatal(err)
	}
	if _, err := x.ExecContext(ctx, "INSERT INTO later (id, v) VALUES (1, 7)"); err != nil {
		t.Fatal(err)
	}
	for !s.Prepared(q) {
		if err := get(); err != nil {
			t.Fatal(err)
		}
		if time.Now().After(deadline) {
			t.Fatal("never prepared again")
		}
		time.Sleep(5 * time.Millisecond)
	}
	if err := get(); err != nil {
		t.Fatal(err)
	}
}
