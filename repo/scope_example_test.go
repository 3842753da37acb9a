package repo_test

import (
	"context"
	"fmt"

	"github.com/fasttrack-go/fasttrack/db"
	"github.com/fasttrack-go/fasttrack/repo"
)

func ExampleTable_AddScope() {
	ctx := context.Background()
	x, d, err := db.Open("sqlite::memory:", db.Pool{})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer x.Close()
	x.MustExec(`CREATE TABLE book (id INTEGER PRIMARY KEY AUTOINCREMENT, title TEXT NOT NULL,
		author TEXT NOT NULL, created_at TIMESTAMP NOT NULL, updated_at TIMESTAMP NOT NULL, deleted_at TIMESTAMP)`)
	books, err := repo.NewTable[Book](d)
	if err != nil {
		fmt.Println(err)
		return
	}
	title := repo.MustCol(books, func(b *Book) *string { return &b.Title })
	author := repo.MustCol(books, func(b *Book) *string { return &b.Author })

	// A global scope: every query of the table leaves Anon's books out.
	if err := books.AddScope("signed", author.Ne("Anon")); err != nil {
		fmt.Println(err)
		return
	}
	// A reusable scope: a function of a query.
	byTitle := func(q repo.Query[Book]) repo.Query[Book] { return q.OrderBy(title.Asc()) }

	r := books.On(x)
	_ = r.CreateMany(ctx, []*Book{
		{Title: "Persuasion", Author: "Austen"}, {Title: "Emma", Author: "Austen"}, {Title: "Beowulf", Author: "Anon"},
	})
	list, _ := r.Query().Scopes(byTitle).All(ctx)
	fmt.Println(len(list), list[0].Title, list[1].Title)
	all, _ := r.Query().Without("signed").Scopes(byTitle).All(ctx)
	fmt.Println(len(all), all[0].Title)
	n, _ := r.Count(ctx) // Base's reads apply it too
	fmt.Println(n)
	s, _, _ := r.Query().Where(title.Eq("Emma")).ToSQL()
	fmt.Println(s)
	// Output:
	// 2 Emma Persuasion
	// 3 Beowulf
	// 2
	// SELECT "id", "title", "author", "created_at", "updated_at", "deleted_at" FROM "book" WHERE "deleted_at" IS NULL AND "author" <> ? AND "title" = ? ORDER BY "id" ASC
}
