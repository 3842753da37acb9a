package repo_test

import (
	"context"
	"errors"
	"fmt"

	"github.com/fasttrack-go/fasttrack/db"
	"github.com/fasttrack-go/fasttrack/repo"
)

// Book is an example model.
type Book struct {
	ID     int64  `db:"id" json:"id"`
	Title  string `db:"title" json:"title"`
	Author string `db:"author" json:"author"`
	repo.Timestamps
	repo.SoftDelete
}

func ExampleNewTable() {
	ctx := context.Background()
	x, d, err := db.Open("sqlite::memory:", db.Pool{})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer x.Close()
	x.MustExec(`CREATE TABLE book (id INTEGER PRIMARY KEY AUTOINCREMENT, title TEXT NOT NULL,
		author TEXT NOT NULL, created_at TIMESTAMP NOT NULL, updated_at TIMESTAMP NOT NULL, deleted_at TIMESTAMP)`)

	books, err := repo.NewTable[Book](d) // once, at startup
	if err != nil {
		fmt.Println(err)
		return
	}
	r := books.On(x) // or On(tx) for the request's transaction
	b := &Book{Title: "Dune", Author: "Herbert"}
	if err := r.Create(ctx, b); err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(b.ID, b.CreatedAt.Equal(b.UpdatedAt))
	_ = r.CreateMany(ctx, []*Book{{Title: "Emma", Author: "Austen"}, {Title: "Ulysses", Author: "Joyce"}})

	sort, _ := books.ParseSort("-title") // from ?sort=-title
	page, _ := r.All(ctx, repo.Page{Limit: 2, Sort: sort})
	for _, b := range page {
		fmt.Println(b.ID, b.Title)
	}
	_ = r.Delete(ctx, b.ID) // a soft delete
	n, _ := r.Count(ctx)
	all, _ := r.WithTrashed().Count(ctx)
	fmt.Println(n, all)
	_, err = r.FindOrFail(ctx, b.ID)
	fmt.Println(err)
	_, err = r.All(ctx, repo.Page{Sort: []repo.Order{{Column: "password"}}})
	fmt.Println(err)
	// Output:
	// 1 true
	// 3 Ulysses
	// 2 Emma
	// 2 3
	// repo: find book id 1: repo: not found
	// repo: sort book: unknown sort column "password"; sortable: id, title, author, created_at, updated_at, deleted_at: repo: invalid query
}

// A rejected sort, filter or page is a *QueryError: its Detail is written
// for the client, and the whole error is for the log.
func ExampleQueryError() {
	books, _ := repo.NewTable[Book](db.SQLite)
	_, err := books.ParseSort("title,-password") // from ?sort=title,-password
	var qe *repo.QueryError
	if errors.As(err, &qe) {
		fmt.Println(qe.Detail)
		fmt.Println(qe.Column, qe.Allowed)
	}
	fmt.Println(errors.Is(err, repo.ErrInvalidQuery))
	fmt.Println(err)
	// Output:
	// unknown sort column "password"; sortable: id, title, author, created_at, updated_at, deleted_at
	// password [id title author created_at updated_at deleted_at]
	// true
	// repo: sort book: unknown sort column "password"; sortable: id, title, author, created_at, updated_at, deleted_at: repo: invalid query
}

func ExampleBase_Keyset() {
	ctx := context.Background()
	x, d, _ := db.Open("sqlite::memory:", db.Pool{})
	defer x.Close()
	x.MustExec(`CREATE TABLE book (id INTEGER PRIMARY KEY AUTOINCREMENT, title TEXT NOT NULL,
		author TEXT NOT NULL, created_at TIMESTAMP NOT NULL, updated_at TIMESTAMP NOT NULL, deleted_at TIMESTAMP)`)
	books, _ := repo.NewTable[Book](d)
	r := books.On(x)
	for _, title := range []string{"A", "B", "C", "D", "E"} {
		_ = r.Create(ctx, &Book{Title: title, Author: "X"})
	}
	p := repo.KeysetPage{Limit: 2}
	for {
		page, next, err := r.Keyset(ctx, p)
		if err != nil {
			fmt.Println(err)
			return
		}
		for _, b := range page {
			fmt.Print(b.Title, " ")
		}
		fmt.Println("| more:", next != "")
		if next == "" {
			break
		}
		p.After = next
	}
	_, _, err := r.Keyset(ctx, repo.KeysetPage{After: "not-a-cursor"})
	fmt.Println(err)
	// Output:
	// A B | more: true
	// C D | more: true
	// E | more: false
	// repo: keyset book: repo: bad cursor
}
