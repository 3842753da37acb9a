package bench

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/fasttrack-go/fasttrack/db"
	"github.com/gin-gonic/gin"
	"github.com/jmoiron/sqlx"
)

// seedRows is how many users the HTTP benchmarks' table starts with.
const seedRows = 1000

// User is a row of the users table.
type User struct {
	ID    int64  `db:"id" json:"id"`
	Name  string `db:"name" json:"name"`
	Email string `db:"email" json:"email"`
}

// userSQL is the SQL of the users table in one bind style.
type userSQL struct{ find, create, insert, trim string }

// newUserSQL returns the statements in d's bind style.
func newUserSQL(d db.Dialect) *userSQL {
	return &userSQL{
		find:   d.Rebind("SELECT id, name, email FROM users WHERE id = ?"),
		create: d.Rebind("INSERT INTO users (name, email) VALUES (?, ?) RETURNING id"),
		insert: d.Rebind("INSERT INTO users (name, email) VALUES (?, ?)"),
		trim:   d.Rebind("DELETE FROM users WHERE id > ?"),
	}
}

// The statements with ? (SQLite, MySQL) and with $n (PostgreSQL).
var questionSQL, dollarSQL = newUserSQL(db.SQLite), newUserSQL(db.Postgres)

// sqlOf returns the statements for q's database.
func sqlOf(q db.Querier) *userSQL {
	if db.DialectOf(q) == db.Postgres {
		return dollarSQL
	}
	return questionSQL
}

// UserRepo is the repository every benchmark resolves.
type UserRepo struct {
	q   db.Querier
	sql *userSQL
}

// NewUserRepo returns a repository running its SQL on q.
func NewUserRepo(q db.Querier) *UserRepo { return &UserRepo{q: q, sql: sqlOf(q)} }

// Find returns the user with the given id.
func (r *UserRepo) Find(ctx context.Context, id int64) (*User, error) {
	var u User
	if err := r.q.GetContext(ctx, &u, r.sql.find, id); err != nil {
		return nil, err
	}
	return &u, nil
}

// Create inserts a user and returns it with its new id.
func (r *UserRepo) Create(ctx context.Context, name, email string) (*User, error) {
	u := &User{Name: name, Email: email}
	if err := r.q.GetContext(ctx, &u.ID, r.sql.create, name, email); err != nil {
		return nil, err
	}
	return u, nil
}

var (
	dirOnce sync.Once
	dir     string
	dirErr  error

	scopeOnce sync.Once
	scopeDB   *sqlx.DB
	scopeErr  error

	httpOnce sync.Once
	httpDB   *sqlx.DB
	httpErr  error
)

func init() { gin.SetMode(gin.ReleaseMode) }

func TestMain(m *testing.M) {
	code := m.Run()
	for _, x := range []*sqlx.DB{scopeDB, httpDB} {
		if x != nil {
			_ = x.Close()
		}
	}
	if dir != "" {
		_ = os.RemoveAll(dir)
	}
	os.Exit(code)
}

// tempDir returns the folder of the benchmarks' SQLite files, made once per
// process and removed by TestMain.
func tempDir(b *testing.B) string {
	b.Helper()
	dirOnce.Do(func() { dir, dirErr = os.MkdirTemp("", "fasttrack-bench-") })
	if dirErr != nil {
		b.Fatal(dirErr)
	}
	return dir
}

// openSQLite opens, with db.Open and the default configuration, an SQLite
// file of the benchmarks' folder.
func openSQLite(b *testing.B, name string) (*sqlx.DB, error) {
	x, d, err := db.Open("sqlite:"+filepath.Join(tempDir(b), name), db.Pool{})
	if err != nil {
		return nil, err
	}
	if d != db.SQLite {
		_ = x.Close()
		return nil, fmt.Errorf("dialect %s, want sqlite", d)
	}
	return x, nil
}

// scopeSQLite returns the pool of the scope-cycle benchmarks: a real SQLite
// file that the benchmarks never query.
func scopeSQLite(b *testing.B) *sqlx.DB {
	b.Helper()
	scopeOnce.Do(func() { scopeDB, scopeErr = openSQLite(b, "scope.db") })
	if scopeErr != nil {
		b.Fatal(scopeErr)
	}
	return scopeDB
}

// httpSQLite returns the pool of the HTTP benchmarks, on an SQLite file whose
// users table holds seedRows rows.
func httpSQLite(b *testing.B) *sqlx.DB {
	b.Helper()
	httpOnce.Do(func() {
		httpDB, httpErr = openSQLite(b, "http.db")
		if httpErr != nil {
			return
		}
		httpErr = seed(httpDB)
	})
	if httpErr != nil {
		b.Fatal(httpErr)
	}
	return httpDB
}

func seed(x *sqlx.DB) error {
	ctx := context.Background()
	key, text := "INTEGER PRIMARY KEY AUTOINCREMENT", "TEXT"
	switch db.DialectOf(x) {
	case db.Postgres:
		key = "BIGSERIAL PRIMARY KEY"
	case db.MySQL: // MariaDB 10.5 or later: the POST uses INSERT … RETURNING
		key, text = "BIGINT AUTO_INCREMENT PRIMARY KEY", "VARCHAR(255)"
	}
	if _, err := x.ExecContext(ctx, `CREATE TABLE users (
		id    `+key+`,
		name  `+text+` NOT NULL,
		email `+text+` NOT NULL UNIQUE
	)`); err != nil {
		return err
	}
	tx, err := x.BeginTxx(ctx, nil)
	if err != nil {
		return err
	}
	defer func() { _ = tx.Rollback() }()
	for i := 1; i <= seedRows; i++ {
		if _, err := tx.ExecContext(ctx, sqlOf(x).insert,
			fmt.Sprintf("User %d", i), fmt.Sprintf("user%d@example.com", i)); err != nil {
			return err
		}
	}
	return tx.Commit()
}

// trimUsers deletes the rows the POST benchmarks added, so that each run
// starts from the seeded table.
func trimUsers(b *testing.B, x *sqlx.DB) {
	b.Helper()
	if _, err := x.ExecContext(context.Background(), sqlOf(x).trim, seedRows); err != nil {
		b.Fatal(err)
	}
	if db.DialectOf(x) != db.SQLite {
		return
	}
	// Empty the WAL too, so that the next benchmark does not pay for this
	// one's writes when SQLite checkpoints.
	if _, err := x.ExecContext(context.Background(), "PRAGMA wal_checkpoint(TRUNCATE)"); err != nil {
		b.Fatal(err)
	}
}

// meter measures a benchmark loop beyond what the testing package does:
// the process's CPU time per iteration (cpu-ns/op: user + system time of
// every thread, GC included, so it moves less than ns/op on a shared
// machine) and, if asked, the heap the loop leaves behind (retained-B/op).
type meter struct {
	retained bool
	heap     uint64
	cpu      time.Duration
}

// startMeter resets the timer and starts measuring: call it right before
// the loop. It first collects the garbage of earlier benchmarks and, with
// retained, notes the live heap.
func startMeter(b *testing.B, retained bool) *meter {
	b.Helper()
	m := &meter{retained: retained}
	// Collect the garbage of the benchmarks before this one and give its
	// memory back now, so that neither the collector nor the background
	// scavenger works for them during this loop (dig's retained scopes
	// reach hundreds of MiB).
	debug.FreeOSMemory()
	if retained {
		runtime.GC()
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		m.heap = ms.HeapAlloc
	}
	b.ResetTimer()
	m.cpu = cpuTime()
	return m
}

// stop stops the timer and reports cpu-ns/op and, if asked, retained-B/op:
// the live heap after two collections minus the one before the loop, per
// iteration.
func (m *meter) stop(b *testing.B) {
	b.Helper()
	cpu := cpuTime() - m.cpu
	b.StopTimer()
	if cpu > 0 {
		b.ReportMetric(float64(cpu.Nanoseconds())/float64(b.N), "cpu-ns/op")
	}
	if !m.retained {
		return
	}
	runtime.GC()
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	b.ReportMetric(float64(int64(ms.HeapAlloc)-int64(m.heap))/float64(b.N), "retained-B/op")
}

// checkStatus fails b when the first response of a benchmark is not the
// expected one.
func checkStatus(b *testing.B, code int, body string, want int, wantIn string) {
	b.Helper()
	if code != want || !strings.Contains(body, wantIn) {
		b.Fatalf("status %d, body %q; want %d with %q", code, body, want, wantIn)
	}
}
