package bench

import (
	"database/sql"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/fasttrack-go/fasttrack/db"
	"github.com/fasttrack-go/fasttrack/dburl"
	"github.com/fasttrack-go/fasttrack/internal/testdb"
	"github.com/gin-gonic/gin"
	"github.com/jmoiron/sqlx"
)

// BenchmarkPaired runs FastTrack (typed forms) and the hand-written engine
// in the same loop, one request each per iteration, the order alternating,
// and times each request. Both sides share the database, the heap and
// whatever else the machine is doing at that moment, so the ratio survives
// the drift that separate benchmarks suffer on a shared machine. It reports
// each side's ns per request and:
//
//   - ft/hw: FastTrack's time ÷ the hand-written time (1/ratio of throughput);
//   - extra-ns/op: FastTrack's time − the hand-written time.
func BenchmarkPaired(b *testing.B) { x := httpSQLite(b); pairedOn(b, x, x) }

// BenchmarkPairedPostgres is BenchmarkPaired on a new database of the
// PostgreSQL server at TEST_POSTGRES_URL (skipped when it is unset), seeded
// the same way. pgx keeps a statement cache of its own, so the
// NoStmtCache forms run as the others do.
func BenchmarkPairedPostgres(b *testing.B) {
	x, hx := serverDB(b, db.Postgres)
	pairedOn(b, x, hx)
}

// BenchmarkPairedMySQL is BenchmarkPaired on a new database of the MySQL
// server at TEST_MYSQL_URL (skipped when it is unset; MariaDB 10.5 or later,
// for INSERT … RETURNING).
func BenchmarkPairedMySQL(b *testing.B) {
	x, hx := serverDB(b, db.MySQL)
	pairedOn(b, x, hx)
}

// serverDB returns two pools on a new database of dialect d's test server,
// seeded with seedRows users, or skips: ft opened by db.Open, for
// FastTrack, and hw opened as a hand-written service opens it, with
// sql.Open and the driver's own connector, for the hand-written engine.
// Both have the default configuration's limits.
func serverDB(b *testing.B, d db.Dialect) (ft, hw *sqlx.DB) {
	u := testdb.New(b, d)
	ft, _, err := db.Open(u, db.Pool{})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = ft.Close() })
	if err := seed(ft); err != nil {
		b.Fatal(err)
	}
	return ft, handPool(b, u)
}

// handPool opens databaseURL's pool as a hand-written service does: with
// sql.Open and the driver's own connector, at the default limits.
func handPool(b *testing.B, databaseURL string) *sqlx.DB {
	t, err := dburl.Parse(databaseURL)
	if err != nil {
		b.Fatal(err)
	}
	pool, err := sql.Open(t.Driver, t.DSN)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = pool.Close() })
	pool.SetMaxOpenConns(db.DefaultMaxOpenConns)
	pool.SetMaxIdleConns(db.DefaultMaxIdleConns)
	pool.SetConnMaxLifetime(db.DefaultConnMaxLifetime)
	pool.SetConnMaxIdleTime(db.DefaultConnMaxIdleTime)
	return db.Wrap(pool, t.Driver)
}

// getUserRequest is the i-th GET /users/:id of a benchmark, over the seeded
// users.
func getUserRequest(i int) *http.Request {
	return httptest.NewRequest(http.MethodGet, userPaths[i%seedRows], nil)
}

// postUserRequest is a POST /users of a new user.
func postUserRequest(int) *http.Request {
	req := httptest.NewRequest(http.MethodPost, "/users", newUserBody())
	req.Header.Set("Content-Type", "application/json")
	return req
}

// pairedOn runs the paired benchmarks, FastTrack's on x and the
// hand-written ones on hx, two pools on one database whose users table
// holds seedRows rows.
func pairedOn(b *testing.B, x, hx *sqlx.DB) {
	hw := handEngine(hx)
	get, post := getUserRequest, postUserRequest
	ping := func(int) *http.Request { return httptest.NewRequest(http.MethodGet, "/ping", nil) }
	// FastTrack as an app runs it (the statement cache on), and without
	// the statement cache: the same statements parsed at every run, as the
	// hand-written handlers do, which isolates what the request scope costs.
	for _, v := range []struct {
		name  string
		cache int
	}{{"", defaultStmtCache}, {"NoStmtCache", 0}} {
		ft := fastTrackEngine(b, x, true, v.cache)
		b.Run("GetUser"+v.name, func(b *testing.B) { benchPaired(b, ft, hw, get, http.StatusOK) })
		b.Run("PostUser"+v.name, func(b *testing.B) {
			benchPaired(b, ft, hw, post, http.StatusCreated)
			trimUsers(b, x)
		})
	}
	ft := fastTrackEngine(b, x, true, defaultStmtCache)
	b.Run("Ping", func(b *testing.B) { benchPaired(b, ft, hw, ping, http.StatusOK) })
}

func benchPaired(b *testing.B, ft, hw *gin.Engine, req func(i int) *http.Request, status int) {
	var tft, thw time.Duration
	serve := func(e *gin.Engine, i int) time.Duration {
		_, d := serveTimed(b, e, req(i), status)
		return d
	}
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		if i%2 == 0 {
			tft += serve(ft, i)
			thw += serve(hw, i)
		} else {
			thw += serve(hw, i)
			tft += serve(ft, i)
		}
	}
	n := float64(b.N)
	b.ReportMetric(float64(tft.Nanoseconds())/n, "fasttrack-ns/op")
	b.ReportMetric(float64(thw.Nanoseconds())/n, "handwritten-ns/op")
	b.ReportMetric(float64(tft-thw)/n, "extra-ns/op")
	if thw > 0 {
		b.ReportMetric(float64(tft)/float64(thw), "ft/hw")
	}
}

// serveTimed serves r on e and returns the answer and how long serving it
// took; an answer of another status than status fails b.
func serveTimed(b *testing.B, e *gin.Engine, r *http.Request, status int) (*httptest.ResponseRecorder, time.Duration) {
	w := httptest.NewRecorder()
	start := time.Now()
	e.ServeHTTP(w, r)
	d := time.Since(start)
	if w.Code != status {
		body, _ := io.ReadAll(w.Body)
		b.Fatalf("status %d, want %d: %s", w.Code, status, body)
	}
	return w, d
}
