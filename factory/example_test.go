package factory_test

import (
	"context"
	"errors"
	"fmt"

	"github.com/fasttrack-go/fasttrack/db"
	"github.com/fasttrack-go/fasttrack/factory"
	"github.com/fasttrack-go/fasttrack/repo"
)

// Member is an example model.
type Member struct {
	ID    int64  `db:"id"`
	Name  string `db:"name"`
	Email string `db:"email"`
	Admin bool   `db:"admin"`
	repo.Timestamps
}

func ExampleNew() {
	ctx := context.Background()
	x, d, err := db.Open("sqlite::memory:", db.Pool{})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer x.Close()
	x.MustExec(`CREATE TABLE member (id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT NOT NULL,
		email TEXT NOT NULL UNIQUE, admin BOOLEAN NOT NULL, created_at TIMESTAMP NOT NULL, updated_at TIMESTAMP NOT NULL)`)
	members, err := repo.NewTable[Member](d)
	if err != nil {
		fmt.Println(err)
		return
	}

	f := factory.New(func(seq int) Member {
		return Member{Name: fmt.Sprintf("Member %d", seq), Email: fmt.Sprintf("member%d@example.com", seq)}
	})
	admins := f.With(func(m *Member) { m.Admin = true }) // shares f's sequence

	fmt.Println(f.One().Email) // built, not saved
	saved, err := f.Create(ctx, members, x, 2)
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, m := range saved {
		fmt.Println(m.ID, m.Name, m.Admin, !m.CreatedAt.IsZero())
	}
	boss, _ := admins.CreateOne(ctx, members, x)
	fmt.Println(boss.ID, boss.Email, boss.Admin)

	_, err = f.With(func(m *Member) { m.Email = boss.Email }).CreateOne(ctx, members, x)
	fmt.Println(err != nil && errors.Is(err, repo.ErrConflict))
	// Output:
	// member1@example.com
	// 1 Member 2 false true
	// 2 Member 3 false true
	// 3 member4@example.com true
	// true
}
