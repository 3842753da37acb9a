package repo_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/fasttrack-go/fasttrack/db"
	"github.com/fasttrack-go/fasttrack/repo"
	"github.com/jmoiron/sqlx"
)

// The benchmarks compare the repository with raw sqlx running the same SQL
// (hand-written statements, same columns, same timestamps) on an SQLite file.
//
//	go test -run '^$' -bench . -benchmem -count 5 ./repo/

// BenchUser is the benchmarks' model.
type BenchUser struct {
	ID    int64  `db:"id"`
	Email string `db:"email"`
	Name  string `db:"name"`
	Age   int    `db:"age"`
	repo.Timestamps
}

func (BenchUser) TableName() string { return "bench_users" }

const (
	rawInsert = "INSERT INTO bench_users (email, name, age, created_at, updated_at) VALUES (?, ?, ?, ?, ?) RETURNING id"
	rawFind   = "SELECT id, email, name, age, created_at, updated_at FROM bench_users WHERE id = ?"
	rawAll    = "SELECT id, email, name, age, created_at, updated_at FROM bench_users ORDER BY id ASC LIMIT ? OFFSET ?"
	seedRows  = 1000
	pageSize  = 20
)

// benchDB opens a new SQLite file with the bench_users table and rows rows.
func benchDB(b *testing.B, rows int) (*sqlx.DB, repo.Base[BenchUser]) {
	b.Helper()
	x := openDB(b, "sqlite:"+filepath.Join(b.TempDir(), "bench.db"))
	createTable(b, x, db.SQLite, "bench_users", "email VARCHAR(255) NOT NULL", "name VARCHAR(255) NOT NULL",
		"age INT NOT NULL", "created_at {ts} NOT NULL", "updated_at {ts} NOT NULL")
	users := mustTable[BenchUser](b, db.SQLite)
	r := users.On(x)
	ms := make([]*BenchUser, rows)
	for i := range ms {
		ms[i] = &BenchUser{Email: fmt.Sprintf("u%d@example.com", i), Name: fmt.Sprintf("user %d", i), Age: i % 90}
	}
	if rows > 0 {
		must(b, r.CreateMany(context.Background(), ms))
	}
	return x, r
}

func BenchmarkCreate(b *testing.B) {
	ctx := context.Background()
	b.Run("repo", func(b *testing.B) {
		_, r := benchDB(b, 0)
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			u := &BenchUser{Email: "ada@example.com", Name: "Ada", Age: i % 90}
			if err := r.Create(ctx, u); err != nil {
				b.Fatal(err)
			}
			i++
		}
	})
	b.Run("sqlx", func(b *testing.B) {
		x, _ := benchDB(b, 0)
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			u := &BenchUser{Email: "ada@example.com", Name: "Ada", Age: i % 90}
			at := time.Now().UTC().Truncate(time.Microsecond)
			u.CreatedAt, u.UpdatedAt = at, at
			if err := x.GetContext(ctx, &u.ID, rawInsert, u.Email, u.Name, u.Age, u.CreatedAt, u.UpdatedAt); err != nil {
				b.Fatal(err)
			}
			i++
		}
	})
}

func BenchmarkFindOrFail(b *testing.B) {
	ctx := context.Background()
	b.Run("repo", func(b *testing.B) {
		_, r := benchDB(b, seedRows)
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			u, err := r.FindOrFail(ctx, int64(i%seedRows+1))
			if err != nil || u.ID == 0 {
				b.Fatal(err)
			}
			i++
		}
	})
	b.Run("sqlx", func(b *testing.B) {
		x, _ := benchDB(b, seedRows)
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			u := new(BenchUser)
			err := x.GetContext(ctx, u, rawFind, int64(i%seedRows+1))
			if errors.Is(err, sql.ErrNoRows) {
				err = repo.ErrNotFound
			}
			if err != nil || u.ID == 0 {
				b.Fatal(err)
			}
			i++
		}
	})
}

func BenchmarkAll(b *testing.B) {
	ctx := context.Background()
	b.Run("repo", func(b *testing.B) {
		_, r := benchDB(b, seedRows)
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			page, err := r.All(ctx, repo.Page{Limit: pageSize, Offset: i * pageSize % seedRows})
			if err != nil || len(page) != pageSize {
				b.Fatal(len(page), err)
			}
			i++
		}
	})
	b.Run("sqlx", func(b *testing.B) {
		x, _ := benchDB(b, seedRows)
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			var page []BenchUser
			err := x.SelectContext(ctx, &page, rawAll, pageSize, i*pageSize%seedRows)
			if err != nil || len(page) != pageSize {
				b.Fatal(len(page), err)
			}
			i++
		}
	})
}

// nopQuerier answers every statement at once without a database, so that
// BenchmarkLayer measures what the repository itself adds per call.
type nopQuerier struct{}

type nopResult struct{}

func (nopResult) LastInsertId() (int64, error) { return 1, nil }
func (nopResult) RowsAffected() (int64, error) { return 1, nil }

func (nopQuerier) ExecContext(context.Context, string, ...any) (sql.Result, error) {
	return nopResult{}, nil
}
func (nopQuerier) QueryxContext(context.Context, string, ...any) (*sqlx.Rows, error) {
	return nil, errors.New("nop")
}
func (nopQuerier) GetContext(context.Context, any, string, ...any) error    { return nil }
func (nopQuerier) SelectContext(context.Context, any, string, ...any) error { return nil }
func (nopQuerier) Rebind(q string) string                                   { return q }
func (nopQuerier) DriverName() string                                       { return "sqlite" }

// BenchmarkLayer is the repository's own cost, without a database: repo
// calls against direct calls of the same Querier with the same arguments.
func BenchmarkLayer(b *testing.B) {
	ctx := context.Background()
	var q db.Querier = nopQuerier{}
	r := mustTable[BenchUser](b, db.SQLite).On(q)
	b.Run("Create/repo", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			u := &BenchUser{Email: "ada@example.com", Name: "Ada", Age: 36}
			if err := r.Create(ctx, u); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("Create/direct", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			u := &BenchUser{Email: "ada@example.com", Name: "Ada", Age: 36}
			at := time.Now().UTC().Truncate(time.Microsecond)
			u.CreatedAt, u.UpdatedAt = at, at
			if err := q.GetContext(ctx, &u.ID, rawInsert, u.Email, u.Name, u.Age, u.CreatedAt, u.UpdatedAt); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("FindOrFail/repo", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := r.FindOrFail(ctx, 7); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("FindOrFail/direct", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			u := new(BenchUser)
			if err := q.GetContext(ctx, u, rawFind, int64(7)); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("All/repo", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := r.All(ctx, repo.Page{Limit: pageSize, Offset: 40}); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("All/direct", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			var page []BenchUser
			if err := q.SelectContext(ctx, &page, rawAll, pageSize, 40); err != nil {
				b.Fatal(err)
			}
		}
	})
}
