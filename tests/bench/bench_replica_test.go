package bench

import (
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"reflect"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/fasttrack-go/fasttrack/api"
	"github.com/fasttrack-go/fasttrack/db"
	"github.com/fasttrack-go/fasttrack/internal/replicatest"
	"github.com/fasttrack-go/fasttrack/scope"
	"github.com/fasttrack-go/fasttrack/tests/bench/load"
	"github.com/gin-gonic/gin"
	"github.com/jmoiron/sqlx"
)

// BenchmarkPairedReplica measures what read replicas add to a request, in
// BenchmarkPaired's way: both sides in one loop, one request each per
// iteration, the order alternating. Both sides are the same FastTrack
// engine (typed handlers, GET /users/:id read-only, POST /users), built
// on a fresh database of the replication pair's primary
// (TEST_REPLICA_PRIMARY_URL) seeded with seedRows users; side A on
// db.PrimaryOnly, side B on a db.Cluster whose replica is the same
// database on TEST_REPLICA_URL, probed once so that it is in rotation
// (not probed again during the loop: the probes of an app run in the
// background, not in a request). Every request of both sides carries a
// valid position cookie (api.PositionCookie, a position the replica has
// replayed): side A ignores it, side B verifies it and routes by it. It
// reports a-ns/op, b-ns/op, extra-ns/op (B − A) and b/a, and fails when
// one of B's reads did not run on the replica. Skipped when TEST_REPLICA_*
// are unset (see .ci/pg-replica).
//
//   - GetUser: B's read runs on another server, the replica, whose
//     statements are not prepared by db.Statements (a replica's
//     transaction runs them unprepared, on pgx's own statement cache),
//     while A's runs on the primary through the statement cache: the
//     difference is routing and verification plus whatever differs
//     between the two servers and the two statement paths.
//   - GetUserNoStmtCache: the same without the statement cache on either
//     side (both on pgx's cache): the statement path is the same, the
//     servers still differ.
//   - GetUserSameServer: A is db.PrimaryOnly on the replica's pool itself,
//     without the statement cache, so both sides read on the replica, over
//     the same connection: the difference is what routing and the
//     position's verification cost.
//   - PostUser: a write on the primary on both sides; B then reads the
//     primary's WAL position (one more query, SELECT pg_current_wal_lsn())
//     and answers with it signed, in a header and a cookie: the difference
//     is that cost.
func BenchmarkPairedReplica(b *testing.B) {
	x, c, replicaDB, tok := replicaEnv(b)
	primaryOnly := db.PrimaryOnly(x, db.Postgres)
	withReplica := func(cache int) *gin.Engine { return clusterEngine(b, c, cache) }
	get := func(i int) *http.Request { return withPosition(getUserRequest(i), tok) }
	post := func(i int) *http.Request { return withPosition(postUserRequest(i), tok) }

	b.Run("GetUser", func(b *testing.B) {
		benchPairedReplica(b, clusterEngine(b, primaryOnly, defaultStmtCache), withReplica(defaultStmtCache), c, get, http.StatusOK, true)
	})
	b.Run("GetUserNoStmtCache", func(b *testing.B) {
		benchPairedReplica(b, clusterEngine(b, primaryOnly, 0), withReplica(0), c, get, http.StatusOK, true)
	})
	b.Run("GetUserSameServer", func(b *testing.B) {
		onReplica := db.PrimaryOnly(replicaDB, db.Postgres)
		benchPairedReplica(b, clusterEngine(b, onReplica, 0), withReplica(0), c, get, http.StatusOK, true)
	})
	b.Run("PostUser", func(b *testing.B) {
		benchPairedReplica(b, clusterEngine(b, primaryOnly, defaultStmtCache), withReplica(defaultStmtCache), c, post, http.StatusCreated, false)
		trimUsers(b, x)
	})
}

// replicaEnv makes a fresh database on the replication pair's primary,
// seeded with seedRows users and replayed by the replica, or skips b when
// TEST_REPLICA_PRIMARY_URL or TEST_REPLICA_URL is unset. It returns the
// primary's pool, the Cluster of it and of the same database on the
// replica, in rotation, the replica's pool, and a signed position the
// replica has replayed. The pair stays locked against the tests that pause
// its replay or stop its replica until b ends.
func replicaEnv(b *testing.B) (x *sqlx.DB, c *db.Cluster, replicaDB *sqlx.DB, token string) {
	b.Helper()
	if os.Getenv(replicatest.PrimaryEnv) == "" || os.Getenv(replicatest.ReplicaEnv) == "" {
		b.Skipf("%s or %s is not set: start the replication pair with eval \"$(bash .ci/pg-replica start)\"",
			replicatest.PrimaryEnv, replicatest.ReplicaEnv)
	}
	primaryURL, replicaURL := replicatest.URLs(b)
	ctx := context.Background()
	dbURL, drop, err := load.CreateDatabase(ctx, primaryURL)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() {
		if err := drop(); err != nil {
			b.Error(err)
		}
	})
	replicaDBURL, err := load.SameDatabase(replicaURL, dbURL)
	if err != nil {
		b.Fatal(err)
	}
	x, d, err := db.Open(dbURL, db.Pool{})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = x.Close() })
	if d != db.Postgres {
		b.Fatalf("%s is %s, want PostgreSQL", replicatest.PrimaryEnv, d.Name())
	}
	if err := seed(x); err != nil {
		b.Fatal(err)
	}
	var lsn string
	if err := x.GetContext(ctx, &lsn, "SELECT pg_current_wal_lsn()::text"); err != nil {
		b.Fatal(err)
	}
	p, err := db.ParsePosition(lsn)
	if err != nil {
		b.Fatal(err)
	}
	replicatest.WaitReplayed(b, dbURL, replicaDBURL)

	replicas, err := db.OpenReplicas([]string{replicaDBURL}, db.Pool{})
	if err != nil {
		b.Fatal(err)
	}
	c, err = db.NewCluster(x, d, db.ClusterOptions{Replicas: replicas, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		_ = replicas[0].DB.Close()
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = c.Close() }) // before the drop: cleanups run last first
	pctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	c.Probe(pctx)
	if st := c.Replicas()[0]; !st.Up || st.Replayed < p {
		b.Fatalf("the replica is not in rotation at %s: %+v", p, st)
	}
	token = c.SignPosition(p)
	if got, ok := c.VerifyPosition(token); !ok || got != p {
		b.Fatalf("position %s signed as %q verifies as %s, %v", p, token, got, ok)
	}
	return x, c, replicas[0].DB, token
}

// withPosition returns req carrying token in its position cookie.
func withPosition(req *http.Request, token string) *http.Request {
	req.Header.Set("Cookie", api.PositionCookie+"="+token)
	return req
}

// clusterEngine returns a gin engine with FastTrack's request-scope
// middleware and the typed GET /users/:id (read-only) and POST /users
// routes of fastTrackEngine, their transactions on c as fxmodules makes
// them: api.TxProviders on c, with a statement cache of stmtCache
// statements on c's primary (0 for none).
func clusterEngine(b *testing.B, c *db.Cluster, stmtCache int) *gin.Engine {
	b.Helper()
	stmts := db.NewStatements(c.Primary(), c.Dialect(), stmtCache)
	b.Cleanup(func() { _ = stmts.Close() })
	reg := scope.NewRegistry()
	repo, err := scope.NewProvider(scope.Scoped, scope.Func1(NewUserRepo))
	if err != nil {
		b.Fatal(err)
	}
	for _, p := range append(api.TxProviders(c, stmts, nil), repo) {
		if err := reg.Add(p); err != nil {
			b.Fatal(err)
		}
	}
	if err := reg.Compile(map[reflect.Type]any{}); err != nil {
		b.Fatal(err)
	}
	e := gin.New()
	e.Use(api.NewMiddleware(reg, api.MiddlewareConfig{}).HandlerFunc())
	get := func(c *gin.Context, r *UserRepo) (*User, error) {
		id, err := strconv.ParseInt(c.Param("id"), 10, 64)
		if err != nil {
			return nil, api.NewError(http.StatusBadRequest, "invalid id")
		}
		return r.Find(c.Request.Context(), id)
	}
	post := func(c *gin.Context, r *UserRepo) (*User, error) {
		var in userIn
		if err := c.ShouldBindJSON(&in); err != nil {
			return nil, api.NewError(http.StatusBadRequest, "invalid body")
		}
		u, err := r.Create(c.Request.Context(), in.Name, in.Email)
		if err != nil {
			return nil, err
		}
		c.Status(http.StatusCreated)
		return u, nil
	}
	e.GET("/users/:id", api.Handle1(get, api.WithReadOnly()))
	e.POST("/users", api.Handle1(post))
	if err := api.CheckRoutes(e, reg); err != nil {
		b.Fatal(err)
	}
	return e
}

// benchPairedReplica is benchPaired for engine a (no replica) against
// engine bEng (on Cluster c): it first checks one request of each (status,
// and that B's read ran on the replica, or that B's write answered with a
// position and A's did not), then times both in one loop and reports
// a-ns/op, b-ns/op, extra-ns/op (B − A) and b/a. With read, it fails
// unless every request of B in the loop ran on the replica.
func benchPairedReplica(b *testing.B, a, bEng *gin.Engine, c *db.Cluster, req func(i int) *http.Request, status int, read bool) {
	serve := func(e *gin.Engine, i int) (*httptest.ResponseRecorder, time.Duration) {
		return serveTimed(b, e, req(i), status)
	}
	onReplica0, onPrimary0 := c.Routed()
	wa, _ := serve(a, 0)
	wb, _ := serve(bEng, 0)
	onReplica1, onPrimary1 := c.Routed()
	switch {
	case read && (onReplica1-onReplica0 != 1 || onPrimary1 != onPrimary0):
		b.Fatalf("B's read ran on the primary: routed %d to the replica, %d to the primary", onReplica1-onReplica0, onPrimary1-onPrimary0)
	case !read && (wb.Header().Get(api.PositionHeader) == "" || wa.Header().Get(api.PositionHeader) != ""):
		b.Fatalf("position header: B %q, A %q; want B's only", wb.Header().Get(api.PositionHeader), wa.Header().Get(api.PositionHeader))
	}

	var ta, tb time.Duration
	diffs := make([]time.Duration, b.N)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		var sa, sb time.Duration
		if i%2 == 0 {
			_, sa = serve(a, i)
			_, sb = serve(bEng, i)
		} else {
			_, sb = serve(bEng, i)
			_, sa = serve(a, i)
		}
		ta, tb, diffs[i] = ta+sa, tb+sb, sb-sa
	}
	b.StopTimer()
	if onReplica2, onPrimary2 := c.Routed(); read && (onReplica2-onReplica1 != uint64(b.N) || onPrimary2 != onPrimary1) {
		b.Fatalf("of B's %d reads, %d ran on the replica and %d on the primary", b.N, onReplica2-onReplica1, onPrimary2-onPrimary1)
	}
	n := float64(b.N)
	b.ReportMetric(float64(ta.Nanoseconds())/n, "a-ns/op")
	b.ReportMetric(float64(tb.Nanoseconds())/n, "b-ns/op")
	b.ReportMetric(float64(tb-ta)/n, "extra-ns/op")
	slices.Sort(diffs)
	b.ReportMetric(float64(diffs[len(diffs)/2].Nanoseconds()), "median-extra-ns/op")
	if ta > 0 {
		b.ReportMetric(float64(tb)/float64(ta), "b/a")
	}
}
