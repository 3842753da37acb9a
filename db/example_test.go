package db_test

import (
	"context"
	"errors"
	"fmt"

	"github.com/fasttrack-go/fasttrack/db"
)

// A CLI command or a job gets the request's rules with WithTx: commit when
// the function returns nil, roll back when it fails.
func ExampleWithTx() {
	x, _, err := db.Open("sqlite::memory:", db.Pool{})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer x.Close()
	ctx := context.Background()
	x.MustExec("CREATE TABLE notes (body TEXT NOT NULL)")

	err = db.WithTx(ctx, x, func(tx *db.Tx) error {
		_, err := tx.ExecContext(ctx, "INSERT INTO notes (body) VALUES (?)", "kept")
		tx.AfterCommit(func(context.Context) { fmt.Println("committed") })
		return err
	})
	fmt.Println(err)

	err = db.WithTx(ctx, x, func(tx *db.Tx) error {
		if _, err := tx.ExecContext(ctx, "INSERT INTO notes (body) VALUES (?)", "undone"); err != nil {
			return err
		}
		return errors.New("something failed")
	})
	fmt.Println(err)

	var n int
	_ = x.Get(&n, "SELECT COUNT(*) FROM notes")
	fmt.Println(n, "note")
	// Output:
	// committed
	// <nil>
	// something failed
	// 1 note
}
