package bench

import (
	"context"
	"testing"
	"time"

	"github.com/fasttrack-go/fasttrack/db"
	"github.com/fasttrack-go/fasttrack/internal/testdb"
	"github.com/fasttrack-go/fasttrack/repo"
	"github.com/jmoiron/sqlx"
)

// listedUser is a row of the seeded users table, as repo maps it.
type listedUser struct {
	ID    int64  `db:"id"`
	Name  string `db:"name"`
	Email string `db:"email"`
}

// TableName names listedUser's table for repo.
func (listedUser) TableName() string { return "users" }

// userQuery is the users table of one dialect and its typed columns,
// resolved once.
type userQuery struct {
	t     *repo.Table[listedUser]
	id    repo.Column[listedUser, int64]
	email repo.Column[listedUser, string]
}

func newUserQuery(b *testing.B, d db.Dialect) userQuery {
	b.Helper()
	t, err := repo.NewTable[listedUser](d)
	if err != nil {
		b.Fatal(err)
	}
	return userQuery{
		t:     t,
		id:    repo.MustCol(t, func(u *listedUser) *int64 { return &u.ID }),
		email: repo.MustCol(t, func(u *listedUser) *string { return &u.Email }),
	}
}

// queryDB returns a pool, opened by db.Open, on a new database of dialect d
// whose users table holds seedRows rows; it skips when d's server URL is
// unset (SQLite needs none).
func queryDB(b *testing.B, d db.Dialect) *sqlx.DB {
	b.Helper()
	x, _ := testdb.Open(b, testdb.New(b, d))
	if err := seed(x); err != nil {
		b.Fatal(err)
	}
	return x
}

// queryDialects are the dialects of the Find and List benchmarks.
var queryDialects = []db.Dialect{db.SQLite, db.Postgres}

// BenchmarkQueryFind finds a user by id, through a repo Query's First and
// through hand-written sqlx (GetContext) running the same SQL text with the
// same arguments, on one pool: what differs is only the query layer.
// "paired" runs one of each per iteration, the order alternating, and
// reports each side's time and their ratio (ft/sqlx), which drifts less
// than separate sub-benchmarks on a busy machine.
func BenchmarkQueryFind(b *testing.B) {
	for _, d := range queryDialects {
		b.Run(d.Name(), func(b *testing.B) {
			x := queryDB(b, d)
			u := newUserQuery(b, d)
			base := u.t.Query().On(x)
			hand := d.Rebind(`SELECT ` + u.t.SelectList() + ` FROM ` + u.t.QuotedName() + ` WHERE ` + d.Quote("id") +
				` = ? ORDER BY ` + d.Quote("id") + ` ASC LIMIT ?`)
			sameSQL(b, base.Where(u.id.Eq(1)).Limit(1), hand)
			ctx := context.Background()
			ft := func(i int) (int64, error) {
				got, err := base.Where(u.id.Eq(int64(i%seedRows + 1))).First(ctx)
				if err != nil {
					return 0, err
				}
				return got.ID, nil
			}
			hw := func(i int) (int64, error) {
				var got listedUser
				err := x.GetContext(ctx, &got, hand, int64(i%seedRows+1), 1)
				return got.ID, err
			}
			check := func(i int, id int64) bool { return id == int64(i%seedRows+1) }
			runQueryPair(b, ft, hw, check)
		})
	}
}

// BenchmarkQueryList100 lists 100 users filtered on two columns (id > 100
// and the email containing "@example.") and ordered by id descending,
// through a repo Query's All and through hand-written sqlx
// (SelectContext) running the same SQL, on one pool.
func BenchmarkQueryList100(b *testing.B) {
	for _, d := range queryDialects {
		b.Run(d.Name(), func(b *testing.B) {
			x := queryDB(b, d)
			u := newUserQuery(b, d)
			q := u.t.Query().On(x).Where(u.id.Gt(100), u.email.Contains("@example.")).OrderBy(u.id.Desc()).Limit(100)
			hand := d.Rebind(`SELECT ` + u.t.SelectList() + ` FROM ` + u.t.QuotedName() + ` WHERE ` + d.Quote("id") +
				` > ? AND ` + d.Quote("email") + ` LIKE ? ESCAPE '\' ORDER BY ` + d.Quote("id") + ` DESC LIMIT ?`)
			sameSQL(b, q, hand)
			ctx := context.Background()
			ft := func(int) (int64, error) {
				rows, err := u.t.Query().On(x).
					Where(u.id.Gt(100), u.email.Contains("@example.")).
					OrderBy(u.id.Desc()).
					Limit(100).
					All(ctx)
				return listCheck(rows, err)
			}
			hw := func(int) (int64, error) {
				var rows []listedUser
				err := x.SelectContext(ctx, &rows, hand, int64(100), "%@example.%", 100)
				return listCheck(rows, err)
			}
			check := func(_ int, first int64) bool { return first == seedRows }
			runQueryPair(b, ft, hw, check)
		})
	}
}

// listCheck returns the first id of a list that must hold 100 rows, in
// descending order of id, each row complete.
func listCheck(rows []listedUser, err error) (int64, error) {
	if err != nil {
		return 0, err
	}
	if len(rows) != 100 {
		return 0, errWrongRows(len(rows))
	}
	for i, r := range rows {
		if r.ID != rows[0].ID-int64(i) || r.Name == "" || r.Email == "" {
			return 0, errWrongRows(len(rows))
		}
	}
	return rows[0].ID, nil
}

// errWrongRows is the error of a list that is not the expected one.
type errWrongRows int

func (e errWrongRows) Error() string { return "the list is not the 100 expected rows" }

// sameSQL fails b unless q renders as want: both sides run the same SQL.
func sameSQL(b *testing.B, q repo.Query[listedUser], want string) {
	b.Helper()
	got, _, err := q.ToSQL()
	if err != nil {
		b.Fatal(err)
	}
	if got != want {
		b.Fatalf("repo renders\n%s\nthe hand-written SQL is\n%s", got, want)
	}
}

// runQueryPair runs ft and hw as sub-benchmarks "fasttrack", "sqlx" and
// "paired" (both in each iteration, the order alternating); check tells
// whether the result of iteration i is the expected one, and is checked
// at every iteration.
func runQueryPair(b *testing.B, ft, hw func(i int) (int64, error), check func(i int, got int64) bool) {
	run := func(b *testing.B, name string, f func(int) (int64, error), i int) {
		got, err := f(i)
		if err != nil {
			b.Fatalf("%s: %v", name, err)
		}
		if !check(i, got) {
			b.Fatalf("%s: iteration %d got %d", name, i, got)
		}
	}
	single := func(name string, f func(int) (int64, error)) {
		b.Run(name, func(b *testing.B) {
			run(b, name, f, 0)
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				run(b, name, f, i)
				i++
			}
		})
	}
	single("fasttrack", ft)
	single("sqlx", hw)
	b.Run("paired", func(b *testing.B) {
		var tft, thw time.Duration
		timed := func(name string, f func(int) (int64, error), i int) time.Duration {
			start := time.Now()
			run(b, name, f, i)
			return time.Since(start)
		}
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			if i%2 == 0 {
				tft += timed("fasttrack", ft, i)
				thw += timed("sqlx", hw, i)
			} else {
				thw += timed("sqlx", hw, i)
				tft += timed("fasttrack", ft, i)
			}
			i++
		}
		n := float64(b.N)
		b.ReportMetric(float64(tft.Nanoseconds())/n, "fasttrack-ns/op")
		b.ReportMetric(float64(thw.Nanoseconds())/n, "sqlx-ns/op")
		if thw > 0 {
			b.ReportMetric(float64(tft)/float64(thw), "ft/sqlx")
		}
	})
}

// inLargeKeys is how many keys BenchmarkInLarge looks up.
const inLargeKeys = 100_000

// BenchmarkInLarge looks up 100,000 ids with one In through a repo Query
// on each database (MariaDB when TEST_MYSQL_URL is set): all but one are
// absent, and every iteration must return exactly the one that is there.
func BenchmarkInLarge(b *testing.B) {
	const want = 500
	keys := make([]int64, inLargeKeys)
	for i := range keys {
		keys[i] = int64(seedRows + 1 + i) // past every seeded id
	}
	keys[inLargeKeys/2] = want
	for _, d := range testdb.Dialects() {
		b.Run(d.Name(), func(b *testing.B) {
			x := queryDB(b, d)
			u := newUserQuery(b, d)
			ctx := context.Background()
			b.ReportAllocs()
			for b.Loop() {
				rows, err := u.t.Query().On(x).Where(u.id.In(keys...)).All(ctx)
				if err != nil {
					b.Fatal(err)
				}
				if len(rows) != 1 || rows[0].ID != want || rows[0].Name != "User 500" {
					b.Fatalf("rows %v, want the one user %d", rows, want)
				}
			}
		})
	}
}
