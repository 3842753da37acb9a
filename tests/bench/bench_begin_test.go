package bench

import (
	"context"
	"database/sql"
	"strconv"
	"testing"

	"github.com/fasttrack-go/fasttrack/db"
	"github.com/jmoiron/sqlx"
)

// BenchmarkBeginPostgres runs, one at a time, the transaction of a GET by id
// (BEGIN READ ONLY, one SELECT, COMMIT) and of a POST (BEGIN, one INSERT …
// RETURNING, COMMIT) on the PostgreSQL server at TEST_POSTGRES_URL (skipped
// when unset), through a pool opened by db.Open, whose connections send
// BEGIN with the first statement, and through one opened with sql.Open and
// pgx's own connector, which sends BEGIN alone and waits for it. The
// difference is one round trip per transaction.
func BenchmarkBeginPostgres(b *testing.B) {
	ft, std := serverDB(b, db.Postgres)
	for _, p := range []struct {
		name string
		x    *sqlx.DB
	}{{"pgx-stdlib", std}, {"fasttrack", ft}} {
		b.Run("Read/"+p.name, func(b *testing.B) { benchReadTx(b, p.x) })
		b.Run("Write/"+p.name, func(b *testing.B) { benchWriteTx(b, p.x) })
	}
}

func benchReadTx(b *testing.B, x *sqlx.DB) {
	ctx := context.Background()
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		i++
		tx, err := x.BeginTxx(ctx, &sql.TxOptions{ReadOnly: true})
		if err != nil {
			b.Fatal(err)
		}
		var name string
		if err := tx.GetContext(ctx, &name, "SELECT name FROM users WHERE id = $1", 1+i%seedRows); err != nil {
			b.Fatal(err)
		}
		if err := tx.Commit(); err != nil {
			b.Fatal(err)
		}
	}
}

func benchWriteTx(b *testing.B, x *sqlx.DB) {
	ctx := context.Background()
	b.Cleanup(func() { trimUsers(b, x) })
	b.ReportAllocs()
	for b.Loop() {
		tx, err := x.BeginTxx(ctx, nil)
		if err != nil {
			b.Fatal(err)
		}
		var id int64
		email := "begin" + strconv.FormatInt(emailSeq.Add(1), 10) + "@example.com"
		if err := tx.GetContext(ctx, &id, "INSERT INTO users (name, email) VALUES ($1, $2) RETURNING id", "Bench", email); err != nil {
			b.Fatal(err)
		}
		if err := tx.Commit(); err != nil {
			b.Fatal(err)
		}
	}
}
