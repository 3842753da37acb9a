package repo_test

import (
	"context"
	"fmt"

	"github.com/fasttrack-go/fasttrack/db"
	"github.com/fasttrack-go/fasttrack/repo"
)

func ExampleQuery() {
	ctx := context.Background()
	x, d, err := db.Open("sqlite::memory:", db.Pool{})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer x.Close()
	x.MustExec(`CREATE TABLE book (id INTEGER PRIMARY KEY AUTOINCREMENT, title TEXT NOT NULL,
		author TEXT NOT NULL, created_at TIMESTAMP NOT NULL, updated_at TIMESTAMP NOT NULL, deleted_at TIMESTAMP)`)

	// Once, at startup: the table and its typed columns.
	books, err := repo.NewTable[Book](d)
	if err != nil {
		fmt.Println(err)
		return
	}
	id := repo.MustCol(books, func(b *Book) *int64 { return &b.ID })
	title := repo.MustCol(books, func(b *Book) *string { return &b.Title })
	author := repo.MustCol(books, func(b *Book) *string { return &b.Author })

	r := books.On(x) // or On(tx) for the request's transaction
	_ = r.CreateMany(ctx, []*Book{
		{Title: "Dune", Author: "Herbert"}, {Title: "Emma", Author: "Austen"},
		{Title: "Persuasion", Author: "Austen"}, {Title: "100% Wool", Author: "Anon"},
	})

	// A base query, extended without being changed.
	austen := r.Query().Where(author.Eq("Austen"))
	list, _ := austen.OrderBy(title.Desc()).All(ctx)
	for _, b := range list {
		fmt.Println(b.ID, b.Title)
	}
	n, _ := austen.Where(title.StartsWith("E")).Count(ctx)
	fmt.Println(n)

	// Or, Not, In; a user's % is matched literally.
	q := r.Query().Where(repo.Or(id.In(1, 4), repo.Not(title.Contains("%"))), title.Contains("%"))
	b, err := q.First(ctx)
	fmt.Println(b.Title, err)

	_ = r.Delete(ctx, 1) // soft-deleted rows are left out
	_, err = r.Query().Where(title.Eq("Dune")).First(ctx)
	fmt.Println(err)

	s, args, _ := austen.Where(id.In(1, 2, 3)).Limit(10).ToSQL()
	fmt.Println(s)
	fmt.Println(args)
	// Output:
	// 3 Persuasion
	// 2 Emma
	// 1
	// 100% Wool <nil>
	// repo: query first book: repo: not found
	// SELECT "id", "title", "author", "created_at", "updated_at", "deleted_at" FROM "book" WHERE "deleted_at" IS NULL AND "author" = ? AND "id" IN (SELECT value FROM json_each(?)) ORDER BY "id" ASC LIMIT ?
	// [Austen [1,2,3] 10]
}
