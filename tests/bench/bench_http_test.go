package bench

import (
	"database/sql"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/fasttrack-go/fasttrack/api"
	"github.com/fasttrack-go/fasttrack/config"
	"github.com/fasttrack-go/fasttrack/db"
	"github.com/fasttrack-go/fasttrack/scope"
	"github.com/gin-gonic/gin"
	"github.com/jmoiron/sqlx"
)

// emailSeq makes every inserted email unique across all POST benchmarks.
var emailSeq atomic.Int64

// newUserBody returns a POST /users body with a fresh email.
func newUserBody() *strings.Reader {
	n := strconv.FormatInt(emailSeq.Add(1), 10)
	return strings.NewReader(`{"name":"Bench ` + n + `","email":"bench` + n + `@example.com"}`)
}

// userIn is the body of POST /users.
type userIn struct {
	Name  string `json:"name" binding:"required"`
	Email string `json:"email" binding:"required"`
}

// defaultStmtCache is DB_STMT_CACHE's default.
var defaultStmtCache = config.Default().DBStmtCache

// userPaths are the GET paths, one per seeded row.
var userPaths = func() []string {
	p := make([]string, seedRows)
	for i := range p {
		p[i] = "/users/" + strconv.Itoa(i+1)
	}
	return p
}()

// fastTrackEngine returns a gin engine with FastTrack's request-scope
// middleware and the GET, POST and ping routes, its registry compiled and its
// routes checked. With typed, the repository is registered through
// scope.Func1 and the handlers through api.Handle1, which call them
// directly; without, as plain funcs called by reflection. stmtCache is the
// size of the request transactions' statement cache (db.Statements), as
// DB_STMT_CACHE sets it for an app: defaultStmtCache, or 0 for none.
func fastTrackEngine(b *testing.B, x *sqlx.DB, typed bool, stmtCache int) *gin.Engine {
	return fastTrackEngineWith(b, x, typed, stmtCache, api.MiddlewareConfig{}, 0, 1)
}

// fastTrackEngineWith is fastTrackEngine with the middleware's options and,
// when bodyLimit > 0, api.BodyLimit before it, as fxmodules installs them.
// With postRetry > 1, POST binds with api.BindJSON and may run postRetry
// times (api.WithRetry), as cmd/app's POST /users does.
func fastTrackEngineWith(b *testing.B, x *sqlx.DB, typed bool, stmtCache int, opts api.MiddlewareConfig, bodyLimit int64, postRetry int) *gin.Engine {
	b.Helper()
	d := db.DialectOf(x)
	stmts := db.NewStatements(x, d, stmtCache)
	b.Cleanup(func() { _ = stmts.Close() })
	reg := scope.NewRegistry()
	var ctor any = NewUserRepo
	if typed {
		ctor = scope.Func1(NewUserRepo)
	}
	repo, err := scope.NewProvider(scope.Scoped, ctor)
	if err != nil {
		b.Fatal(err)
	}
	for _, p := range append(api.TxProviders(db.PrimaryOnly(x, d), stmts, nil), repo) {
		if err := reg.Add(p); err != nil {
			b.Fatal(err)
		}
	}
	if err := reg.Compile(map[reflect.Type]any{}); err != nil {
		b.Fatal(err)
	}
	e := gin.New()
	if bodyLimit > 0 {
		e.Use(api.BodyLimit(bodyLimit))
	}
	e.Use(api.NewMiddleware(reg, opts).HandlerFunc())
	get := func(c *gin.Context, r *UserRepo) (*User, error) {
		id, err := strconv.ParseInt(c.Param("id"), 10, 64)
		if err != nil {
			return nil, api.NewError(http.StatusBadRequest, "invalid id")
		}
		return r.Find(c.Request.Context(), id)
	}
	post := func(c *gin.Context, r *UserRepo) (*User, error) {
		var in userIn
		if postRetry > 1 {
			if err := api.BindJSON(c, &in); err != nil {
				return nil, err
			}
		} else if err := c.ShouldBindJSON(&in); err != nil {
			return nil, api.NewError(http.StatusBadRequest, "invalid body")
		}
		u, err := r.Create(c.Request.Context(), in.Name, in.Email)
		if err != nil {
			return nil, err
		}
		c.Status(http.StatusCreated)
		return u, nil
	}
	var postOpts []api.Option
	if postRetry > 1 {
		postOpts = append(postOpts, api.WithRetry(postRetry))
	}
	if typed {
		e.GET("/users/:id", api.Handle1(get, api.WithReadOnly()))
		e.POST("/users", api.Handle1(post, postOpts...))
	} else {
		e.GET("/users/:id", api.Handle(get, api.WithReadOnly()))
		e.POST("/users", api.Handle(post, postOpts...))
	}
	e.GET("/ping", func(c *gin.Context) { c.String(http.StatusOK, "pong") })
	if err := api.CheckRoutes(e, reg); err != nil {
		b.Fatal(err)
	}
	return e
}

// handEngine returns a plain gin engine whose handlers run their own
// transactions on x.
func handEngine(x *sqlx.DB) *gin.Engine {
	q := sqlOf(x)
	e := gin.New()
	e.GET("/users/:id", func(c *gin.Context) {
		id, err := strconv.ParseInt(c.Param("id"), 10, 64)
		if err != nil {
			c.JSON(http.StatusBadRequest, gin.H{"error": "invalid id"})
			return
		}
		ctx := c.Request.Context()
		tx, err := x.BeginTxx(ctx, &sql.TxOptions{ReadOnly: true})
		if err != nil {
			c.JSON(http.StatusInternalServerError, gin.H{"error": "internal"})
			return
		}
		var u User
		if err := tx.GetContext(ctx, &u, q.find, id); err != nil {
			_ = tx.Rollback()
			c.JSON(http.StatusNotFound, gin.H{"error": "not found"})
			return
		}
		if err := tx.Commit(); err != nil {
			c.JSON(http.StatusInternalServerError, gin.H{"error": "internal"})
			return
		}
		c.JSON(http.StatusOK, &u)
	})
	e.POST("/users", func(c *gin.Context) {
		var in userIn
		if err := c.ShouldBindJSON(&in); err != nil {
			c.JSON(http.StatusBadRequest, gin.H{"error": "invalid body"})
			return
		}
		ctx := c.Request.Context()
		tx, err := x.BeginTxx(ctx, nil)
		if err != nil {
			c.JSON(http.StatusInternalServerError, gin.H{"error": "internal"})
			return
		}
		u := User{Name: in.Name, Email: in.Email}
		if err := tx.GetContext(ctx, &u.ID, q.create, in.Name, in.Email); err != nil {
			_ = tx.Rollback()
			c.JSON(http.StatusInternalServerError, gin.H{"error": "internal"})
			return
		}
		if err := tx.Commit(); err != nil {
			c.JSON(http.StatusInternalServerError, gin.H{"error": "internal"})
			return
		}
		c.JSON(http.StatusCreated, &u)
	})
	e.GET("/ping", func(c *gin.Context) { c.String(http.StatusOK, "pong") })
	return e
}

// BenchmarkGetUser times GET /users/:id: a read-only transaction and one
// SELECT by primary key on the SQLite file, answered as JSON.
func BenchmarkGetUser(b *testing.B) {
	b.Run("fasttrack", func(b *testing.B) { benchGet(b, fastTrackEngine(b, httpSQLite(b), false, defaultStmtCache)) })
	b.Run("fasttrack-typed", func(b *testing.B) { benchGet(b, fastTrackEngine(b, httpSQLite(b), true, defaultStmtCache)) })
	b.Run("fasttrack-typed-nocache", func(b *testing.B) { benchGet(b, fastTrackEngine(b, httpSQLite(b), true, 0)) })
	b.Run("fasttrack-app", func(b *testing.B) { benchGet(b, appEngine(b, httpSQLite(b))) })
	b.Run("handwritten", func(b *testing.B) { benchGet(b, handEngine(httpSQLite(b))) })
}

func benchGet(b *testing.B, e *gin.Engine) {
	b.ReportAllocs()
	m := startMeter(b, false)
	for i := 0; i < b.N; i++ {
		req := httptest.NewRequest(http.MethodGet, userPaths[i%seedRows], nil)
		w := httptest.NewRecorder()
		e.ServeHTTP(w, req)
		if i == 0 {
			checkStatus(b, w.Code, w.Body.String(), http.StatusOK, `"id":1,`)
		}
	}
	m.stop(b)
}

// BenchmarkPostUser times POST /users: bind the JSON body, INSERT …
// RETURNING id, commit, answer 201 JSON. Each run starts from the seeded
// table: the rows it added are deleted after the timed loop.
func BenchmarkPostUser(b *testing.B) {
	b.Run("fasttrack", func(b *testing.B) { benchPost(b, fastTrackEngine(b, httpSQLite(b), false, defaultStmtCache)) })
	b.Run("fasttrack-typed", func(b *testing.B) { benchPost(b, fastTrackEngine(b, httpSQLite(b), true, defaultStmtCache)) })
	b.Run("fasttrack-typed-nocache", func(b *testing.B) { benchPost(b, fastTrackEngine(b, httpSQLite(b), true, 0)) })
	b.Run("fasttrack-app", func(b *testing.B) { benchPost(b, appEngine(b, httpSQLite(b))) })
	b.Run("handwritten", func(b *testing.B) { benchPost(b, handEngine(httpSQLite(b))) })
}

func benchPost(b *testing.B, e *gin.Engine) {
	x := httpSQLite(b)
	b.ReportAllocs()
	m := startMeter(b, false)
	for i := 0; i < b.N; i++ {
		req := httptest.NewRequest(http.MethodPost, "/users", newUserBody())
		req.Header.Set("Content-Type", "application/json")
		w := httptest.NewRecorder()
		e.ServeHTTP(w, req)
		if i == 0 {
			checkStatus(b, w.Code, w.Body.String(), http.StatusCreated, `"email":"bench`)
		}
	}
	m.stop(b)
	trimUsers(b, x)
}

// BenchmarkPing times GET /ping, a route that touches no database: through
// FastTrack's middleware, and on plain gin without it.
func BenchmarkPing(b *testing.B) {
	b.Run("fasttrack", func(b *testing.B) { benchPing(b, fastTrackEngine(b, httpSQLite(b), false, defaultStmtCache)) })
	b.Run("fasttrack-app", func(b *testing.B) { benchPing(b, appEngine(b, httpSQLite(b))) })
	b.Run("plain-gin", func(b *testing.B) { benchPing(b, handEngine(httpSQLite(b))) })
}

func benchPing(b *testing.B, e *gin.Engine) {
	b.ReportAllocs()
	m := startMeter(b, false)
	for i := 0; i < b.N; i++ {
		req := httptest.NewRequest(http.MethodGet, "/ping", nil)
		w := httptest.NewRecorder()
		e.ServeHTTP(w, req)
		if i == 0 {
			checkStatus(b, w.Code, w.Body.String(), http.StatusOK, "pong")
		}
	}
	m.stop(b)
}
