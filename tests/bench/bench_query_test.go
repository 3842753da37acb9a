package bench

import (
	"database/sql"
	"fmt"
	"reflect"
	"testing"

	sq "github.com/Masterminds/squirrel"
	"github.com/doug-martin/goqu/v9"
	_ "github.com/doug-martin/goqu/v9/dialect/postgres" // registers goqu's "postgres" dialect
	"github.com/fasttrack-go/fasttrack/db"
	"github.com/fasttrack-go/fasttrack/repo"
	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect/pgdialect"
)

// Item is the model the query-building benchmarks select from.
type Item struct {
	bun.BaseModel `db:"-" bun:"table:items"`

	ID   int64  `db:"id" bun:"id,pk"`
	Name string `db:"name" bun:"name"`
	Kind string `db:"kind" bun:"kind"`
	Qty  int    `db:"qty" bun:"qty"`
}

// TableName names Item's table for repo.
func (Item) TableName() string { return "items" }

// buildIDs is the IN list of the build benchmark.
var buildIDs = []int64{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}

// BenchmarkQueryBuild builds and renders, for PostgreSQL, the same SELECT
// with each query builder: three predicates (qty > 1, kind = 'veg', name
// starting with "a"), an IN of 10 ints, ORDER BY name, id and LIMIT 20,
// each written as that library's users write it. Every sub-benchmark first
// checks the library's output once against the SQL it must produce.
//
// FastTrack binds the IN list as one array (= ANY($4)) and the limit as a
// parameter; squirrel and goqu (in prepared mode) write one placeholder per
// IN value; bun has no placeholder mode, so its query is rendered with
// AppendQuery and the values are inlined into the SQL, with no args.
func BenchmarkQueryBuild(b *testing.B) {
	b.Run("fasttrack", benchBuildFastTrack)
	b.Run("squirrel", benchBuildSquirrel)
	b.Run("goqu", benchBuildGoqu)
	b.Run("bun", benchBuildBun)
}

func benchBuildFastTrack(b *testing.B) {
	items, err := repo.NewTable[Item](db.Postgres)
	if err != nil {
		b.Fatal(err)
	}
	// Resolved once, as an application resolves them next to its Table.
	id := repo.MustCol(items, func(i *Item) *int64 { return &i.ID })
	name := repo.MustCol(items, func(i *Item) *string { return &i.Name })
	kind := repo.MustCol(items, func(i *Item) *string { return &i.Kind })
	qty := repo.MustCol(items, func(i *Item) *int { return &i.Qty })
	build := func() (string, []any, error) {
		return items.Query().
			Where(qty.Gt(1), kind.Eq("veg"), name.StartsWith("a"), id.In(buildIDs...)).
			OrderBy(name.Asc()).
			Limit(20).
			ToSQL()
	}
	checkBuild(b, build,
		`SELECT "id", "name", "kind", "qty" FROM "items" WHERE "qty" > $1 AND "kind" = $2 AND "name" LIKE $3 ESCAPE '\'`+
			` AND "id" = ANY($4) ORDER BY "name" ASC, "id" ASC LIMIT $5`,
		[]any{1, "veg", "a%", buildIDs, 20})
	loopBuild(b, build)
}

func benchBuildSquirrel(b *testing.B) {
	psql := sq.StatementBuilder.PlaceholderFormat(sq.Dollar)
	build := func() (string, []any, error) {
		return psql.Select("id", "name", "kind", "qty").From("items").
			Where(sq.Gt{"qty": 1}).
			Where(sq.Eq{"kind": "veg"}).
			Where(sq.Like{"name": "a%"}).
			Where(sq.Eq{"id": buildIDs}).
			OrderBy("name ASC", "id ASC").
			Limit(20).
			ToSql()
	}
	checkBuild(b, build,
		"SELECT id, name, kind, qty FROM items WHERE qty > $1 AND kind = $2 AND name LIKE $3"+
			" AND id IN ($4,$5,$6,$7,$8,$9,$10,$11,$12,$13) ORDER BY name ASC, id ASC LIMIT 20",
		append([]any{1, "veg", "a%"}, int64Args(buildIDs)...))
	loopBuild(b, build)
}

func benchBuildGoqu(b *testing.B) {
	pg := goqu.Dialect("postgres")
	build := func() (string, []any, error) {
		return pg.From("items").Prepared(true).
			Select("id", "name", "kind", "qty").
			Where(
				goqu.C("qty").Gt(1),
				goqu.C("kind").Eq("veg"),
				goqu.C("name").Like("a%"),
				goqu.C("id").In(buildIDs),
			).
			Order(goqu.C("name").Asc(), goqu.C("id").Asc()).
			Limit(20).
			ToSQL()
	}
	checkBuild(b, build,
		`SELECT "id", "name", "kind", "qty" FROM "items" WHERE (("qty" > $1) AND ("kind" = $2) AND ("name" LIKE $3)`+
			` AND ("id" IN ($4, $5, $6, $7, $8, $9, $10, $11, $12, $13))) ORDER BY "name" ASC, "id" ASC LIMIT $14`,
		append(append([]any{int64(1), "veg", "a%"}, int64Args(buildIDs)...), int64(20)))
	loopBuild(b, build)
}

func benchBuildBun(b *testing.B) {
	// bun needs a *sql.DB to build on; it is never connected.
	pool, err := sql.Open("pgx", "postgres://bench.invalid/none")
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = pool.Close() })
	bdb := bun.NewDB(pool, pgdialect.New())
	gen := bdb.QueryGen()
	var buf []byte
	build := func() (string, []any, error) {
		q := bdb.NewSelect().Model((*Item)(nil)).
			Where("qty > ?", 1).
			Where("kind = ?", "veg").
			Where("name LIKE ?", "a%").
			Where("id IN (?)", bun.In(buildIDs)).
			Order("name ASC", "id ASC").
			Limit(20)
		var err error
		buf, err = q.AppendQuery(gen, buf[:0])
		return string(buf), nil, err
	}
	checkBuild(b, build,
		`SELECT "item"."id", "item"."name", "item"."kind", "item"."qty" FROM "items" AS "item"`+
			` WHERE (qty > 1) AND (kind = 'veg') AND (name LIKE 'a%') AND (id IN (1, 2, 3, 4, 5, 6, 7, 8, 9, 10))`+
			` ORDER BY "name" ASC, "id" ASC LIMIT 20`,
		nil)
	loopBuild(b, build)
}

// checkBuild fails b unless build gives wantSQL and wantArgs.
func checkBuild(b *testing.B, build func() (string, []any, error), wantSQL string, wantArgs []any) {
	b.Helper()
	got, args, err := build()
	if err != nil {
		b.Fatal(err)
	}
	if got != wantSQL {
		b.Fatalf("SQL\n%s\nwant\n%s", got, wantSQL)
	}
	if fmt.Sprint(args) != fmt.Sprint(wantArgs) || len(args) != len(wantArgs) {
		b.Fatalf("args %v, want %v", args, wantArgs)
	}
	for i := range args {
		if reflect.TypeOf(args[i]) != reflect.TypeOf(wantArgs[i]) {
			b.Fatalf("arg %d is a %T, want a %T", i, args[i], wantArgs[i])
		}
	}
}

// loopBuild times build, which must not fail.
func loopBuild(b *testing.B, build func() (string, []any, error)) {
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := build(); err != nil {
			b.Fatal(err)
		}
	}
}

// int64Args returns ids as arguments.
func int64Args(ids []int64) []any {
	out := make([]any, len(ids))
	for i, id := range ids {
		out[i] = id
	}
	return out
}
