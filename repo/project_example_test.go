package repo_test

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/fasttrack-go/fasttrack/db"
	"github.com/fasttrack-go/fasttrack/repo"
)

// Loan is a book lent to a reader.
type Loan struct {
	ID     int64  `db:"id"`
	BookID int64  `db:"book_id"`
	Reader string `db:"reader"`
	repo.SoftDelete
}

// ExampleSelectGroups counts books per author, then lists loans with their
// books through a join, and the books nobody borrowed through a subquery.
func ExampleSelectGroups() {
	ctx := context.Background()
	x, d, err := db.Open("sqlite::memory:", db.Pool{})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer x.Close()
	x.MustExec(`CREATE TABLE book (id INTEGER PRIMARY KEY AUTOINCREMENT, title TEXT NOT NULL,
		author TEXT NOT NULL, created_at TIMESTAMP NOT NULL, updated_at TIMESTAMP NOT NULL, deleted_at TIMESTAMP)`)
	x.MustExec(`CREATE TABLE loan (id INTEGER PRIMARY KEY AUTOINCREMENT, book_id INTEGER NOT NULL,
		reader TEXT NOT NULL, deleted_at TIMESTAMP)`)

	// Once, at startup: tables, columns and the fields of projections.
	books := must1(repo.NewTable[Book](d))
	loans := must1(repo.NewTable[Loan](d))
	bookID := repo.MustCol(books, func(b *Book) *int64 { return &b.ID })
	title := repo.MustCol(books, func(b *Book) *string { return &b.Title })
	author := repo.MustCol(books, func(b *Book) *string { return &b.Author })
	loanBook := repo.MustCol(loans, func(l *Loan) *int64 { return &l.BookID })
	reader := repo.MustCol(loans, func(l *Loan) *string { return &l.Reader })

	type AuthorStats struct {
		Author string `db:"author"`
		Books  int64  `db:"books"`
	}
	statsAuthor := repo.To(func(s *AuthorStats) *string { return &s.Author }, author)
	statsBooks := repo.To(func(s *AuthorStats) *int64 { return &s.Books }, repo.CountAll[Book]())

	type Lending struct {
		Title  string           `db:"title"`
		Reader sql.Null[string] `db:"reader"`
	}
	lendTitle := repo.To(func(l *Lending) *string { return &l.Title }, title)
	lendReader := repo.ToNull(func(l *Lending) *sql.Null[string] { return &l.Reader }, reader)

	r := books.On(x)
	_ = r.CreateMany(ctx, []*Book{
		{Title: "Dune", Author: "Herbert"}, {Title: "Emma", Author: "Austen"},
		{Title: "Persuasion", Author: "Austen"},
	})
	_ = loans.On(x).CreateMany(ctx, []*Loan{{BookID: 2, Reader: "ada"}, {BookID: 3, Reader: "bob"}, {BookID: 3, Reader: "cy"}})

	stats, _ := repo.SelectGroups(repo.GroupBy(r.Query(), author).Having(repo.CountAll[Book]().Ge(2)), statsAuthor, statsBooks).All(ctx)
	fmt.Printf("%+v\n", stats)

	lent := repo.LeftJoin(r.Query().OrderBy(title.Asc()), loans.Query().Where(reader.Ne("cy")), repo.On(bookID, loanBook))
	rows, _ := repo.SelectJoin(lent, []repo.Field[Lending, Book]{lendTitle}, []repo.Field[Lending, Loan]{lendReader}).All(ctx)
	for _, l := range rows {
		fmt.Println(l.Title, l.Reader.V, l.Reader.Valid)
	}

	idle, _ := repo.Pluck(ctx, r.Query().Where(repo.NotInQuery(bookID, loans.Query(), loanBook)), title)
	fmt.Println(idle)
	// Output:
	// [{Author:Austen Books:2}]
	// Dune  false
	// Emma ada true
	// Persuasion bob true
	// [Dune]
}

// must1 returns v, and panics on err.
func must1[V any](v V, err error) V {
	if err != nil {
		panic(err)
	}
	return v
}
