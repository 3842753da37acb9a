// Command baseline is a hand-written Gin + sqlx service with the routes and
// the SQL of the reference app's users API (cmd/app/users), for comparison
// only: the load benchmark (tests/bench/load/cmd/loadbench) runs the same load
// against both. It has no FastTrack request scope and no dependency
// injection: each handler runs BeginTxx, the statements cmd/app's repository
// sends, Commit, then c.JSON.
//
// It reads the same environment as cmd/app (DATABASE_URL, HTTP_ADDR, the
// pool limits, the HTTP timeouts, LOG_LEVEL…) through config.Load, so that
// both run with the same pool, and migrates the database with the same
// migration files (db.NewMigrator over cmd/app/migrations.FS). It opens its
// pool as a hand-written service does, with sql.Open and the driver's own
// connector, not with db.Open, whose PostgreSQL connections send BEGIN
// with the transaction's first statement.
package main

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/fasttrack-go/fasttrack/cmd/app/migrations"
	"github.com/fasttrack-go/fasttrack/config"
	"github.com/fasttrack-go/fasttrack/db"
	"github.com/fasttrack-go/fasttrack/dburl"
	"github.com/gin-gonic/gin"
	"github.com/gin-gonic/gin/binding"
	"github.com/jmoiron/sqlx"
)

// User is a row of the users table, answered as cmd/app answers it.
type User struct {
	ID        int64     `db:"id" json:"id"`
	Name      string    `db:"name" json:"name"`
	Email     string    `db:"email" json:"email"`
	IsActive  bool      `db:"is_active" json:"is_active"`
	CreatedAt time.Time `db:"created_at" json:"created_at"`
	UpdatedAt time.Time `db:"updated_at" json:"updated_at"`
}

// input is the body of POST /users and PUT /users/:id.
type input struct {
	Name     string `json:"name" binding:"required,max=100"`
	Email    string `json:"email" binding:"required,email,max=100"`
	IsActive *bool  `json:"is_active"`
}

type listResponse struct {
	Users  []User `json:"users"`
	Total  int64  `json:"total"`
	Limit  int    `json:"limit"`
	Offset int    `json:"offset"`
}

// statements are the SQL of cmd/app's users repository, in the dialect's
// quoting and bind style.
type statements struct {
	insert, find, update, delete, count, list string
}

func newStatements(d db.Dialect) statements {
	q := d.Quote
	cols := strings.Join([]string{q("id"), q("name"), q("email"), q("is_active"), q("created_at"), q("updated_at")}, ", ")
	s := statements{
		insert: "INSERT INTO " + q("users") + " (" + q("name") + ", " + q("email") + ", " + q("is_active") + ", " +
			q("created_at") + ", " + q("updated_at") + ") VALUES (?, ?, ?, ?, ?)",
		find: "SELECT " + cols + " FROM " + q("users") + " WHERE " + q("id") + " = ?",
		update: "UPDATE " + q("users") + " SET " + q("name") + " = ?, " + q("email") + " = ?, " + q("is_active") + " = ?, " +
			q("updated_at") + " = ? WHERE " + q("id") + " = ?",
		delete: "DELETE FROM " + q("users") + " WHERE " + q("id") + " = ?",
		count:  "SELECT COUNT(*) FROM users",
		list:   "SELECT * FROM users ORDER BY " + q("id") + " ASC LIMIT %d OFFSET %d",
	}
	if d.SupportsReturning() {
		s.insert += " RETURNING " + q("id")
	}
	s.insert, s.find, s.update, s.delete = d.Rebind(s.insert), d.Rebind(s.find), d.Rebind(s.update), d.Rebind(s.delete)
	return s
}

type service struct {
	x   *sqlx.DB
	d   db.Dialect
	st  statements
	log *slog.Logger
}

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "error:", err)
		os.Exit(1)
	}
}

func run() error {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	cfg, err := config.Load()
	if err != nil {
		return err
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: cfg.LogLevel}))
	x, d, err := openPool(cfg)
	if err != nil {
		return err
	}
	defer x.Close()
	startCtx, cancel := context.WithTimeout(ctx, cfg.StartTimeout)
	defer cancel()
	if err := db.Ping(startCtx, x, cfg.DatabaseURL); err != nil {
		return err
	}
	m, err := db.NewMigrator(x, d, migrations.FS, log)
	if err != nil {
		return err
	}
	if _, err := m.Up(startCtx); err != nil {
		return err
	}

	gin.SetMode(gin.ReleaseMode)
	e := gin.New()
	s := &service{x: x, d: d, st: newStatements(d), log: log}
	e.GET("/healthz", func(c *gin.Context) { c.JSON(http.StatusOK, gin.H{"status": "ok"}) })
	e.POST("/users", s.create)
	e.GET("/users", s.list)
	e.GET("/users/:id", s.show)
	e.PUT("/users/:id", s.update)
	e.DELETE("/users/:id", s.remove)

	srv := &http.Server{
		Handler:           e,
		ReadHeaderTimeout: cfg.ReadHeaderTimeout,
		ReadTimeout:       cfg.ReadTimeout,
		WriteTimeout:      cfg.WriteTimeout,
		IdleTimeout:       cfg.IdleTimeout,
	}
	ln, err := net.Listen("tcp", cfg.HTTPAddr)
	if err != nil {
		return fmt.Errorf("http: cannot listen on %s: %w", cfg.HTTPAddr, err)
	}
	log.Info("baseline listening", "addr", ln.Addr().String())
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	select {
	case err := <-served:
		return err
	case <-ctx.Done():
	}
	stopCtx, cancelStop := context.WithTimeout(context.Background(), cfg.StopTimeout)
	defer cancelStop()
	return srv.Shutdown(stopCtx)
}

// openPool opens the pool for cfg.DatabaseURL with sql.Open and cfg's
// limits, which mean what database/sql means (0: no limit).
func openPool(cfg config.Config) (*sqlx.DB, db.Dialect, error) {
	t, err := dburl.Parse(cfg.DatabaseURL)
	if err != nil {
		return nil, "", err
	}
	pool, err := sql.Open(t.Driver, t.DSN)
	if err != nil {
		return nil, "", fmt.Errorf("opening the database: %w", err)
	}
	pool.SetMaxOpenConns(cfg.DBMaxOpenConns)
	pool.SetMaxIdleConns(cfg.DBMaxIdleConns)
	pool.SetConnMaxLifetime(cfg.DBConnMaxLifetime)
	pool.SetConnMaxIdleTime(cfg.DBConnMaxIdleTime)
	return db.Wrap(pool, t.Driver), db.Dialect(t.Dialect), nil
}

// problem answers status as application/problem+json.
func problem(c *gin.Context, status int, detail string) {
	c.Header("Content-Type", "application/problem+json")
	c.AbortWithStatusJSON(status, gin.H{"type": "about:blank", "title": http.StatusText(status), "status": status, "detail": detail})
}

// fail answers a database error: 404, 409, 503 or 500 (logged).
func (s *service) fail(c *gin.Context, err error) {
	err = s.d.Classify(err)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		problem(c, http.StatusNotFound, "the resource does not exist")
	case errors.Is(err, db.ErrUniqueViolation):
		problem(c, http.StatusConflict, "a user with this email already exists")
	case errors.Is(err, db.ErrRetryable):
		s.log.Error("request failed", "method", c.Request.Method, "path", c.Request.URL.Path, "error", err)
		problem(c, http.StatusServiceUnavailable, "the database is busy; try again")
	case errors.Is(err, db.ErrConnLost), errors.Is(err, context.DeadlineExceeded):
		s.log.Error("request failed", "method", c.Request.Method, "path", c.Request.URL.Path, "error", err)
		problem(c, http.StatusServiceUnavailable, "the database is not available; try again")
	default:
		s.log.Error("request failed", "method", c.Request.Method, "path", c.Request.URL.Path, "error", err)
		problem(c, http.StatusInternalServerError, "internal server error")
	}
}

// bind decodes and validates the JSON body: 400 for bad JSON, 422 for a
// field that fails validation.
func bind(c *gin.Context, in *input) bool {
	body, err := c.GetRawData()
	if err != nil {
		problem(c, http.StatusBadRequest, "the body could not be read")
		return false
	}
	if err := json.Unmarshal(body, in); err != nil {
		problem(c, http.StatusBadRequest, "the body is not valid JSON")
		return false
	}
	if err := binding.Validator.ValidateStruct(in); err != nil {
		problem(c, http.StatusUnprocessableEntity, "the request has invalid fields")
		return false
	}
	return true
}

func idParam(c *gin.Context) (int64, bool) {
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil || id <= 0 {
		problem(c, http.StatusBadRequest, "the id must be a positive integer")
		return 0, false
	}
	return id, true
}

// now is the time cmd/app's repository writes: UTC, to the microsecond.
func now() time.Time { return time.Now().UTC().Truncate(time.Microsecond) }

func (s *service) create(c *gin.Context) {
	var in input
	if !bind(c, &in) {
		return
	}
	ctx := c.Request.Context()
	at := now()
	u := User{Name: in.Name, Email: in.Email, IsActive: in.IsActive == nil || *in.IsActive, CreatedAt: at, UpdatedAt: at}
	tx, err := s.x.BeginTxx(ctx, nil)
	if err != nil {
		s.fail(c, err)
		return
	}
	defer tx.Rollback()
	if s.d.SupportsReturning() {
		err = tx.GetContext(ctx, &u.ID, s.st.insert, u.Name, u.Email, u.IsActive, u.CreatedAt, u.UpdatedAt)
	} else {
		var res sql.Result
		if res, err = tx.ExecContext(ctx, s.st.insert, u.Name, u.Email, u.IsActive, u.CreatedAt, u.UpdatedAt); err == nil {
			u.ID, err = res.LastInsertId()
		}
	}
	if err == nil {
		err = tx.Commit()
	}
	if err != nil {
		s.fail(c, err)
		return
	}
	c.Header("Location", fmt.Sprintf("/users/%d", u.ID))
	c.JSON(http.StatusCreated, &u)
}

func (s *service) show(c *gin.Context) {
	id, ok := idParam(c)
	if !ok {
		return
	}
	ctx := c.Request.Context()
	tx, err := s.x.BeginTxx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		s.fail(c, err)
		return
	}
	defer tx.Rollback()
	var u User
	if err = tx.GetContext(ctx, &u, s.st.find, id); err == nil {
		err = tx.Commit()
	}
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, &u)
}

func (s *service) update(c *gin.Context) {
	id, ok := idParam(c)
	if !ok {
		return
	}
	var in input
	if !bind(c, &in) {
		return
	}
	ctx := c.Request.Context()
	tx, err := s.x.BeginTxx(ctx, nil)
	if err != nil {
		s.fail(c, err)
		return
	}
	defer tx.Rollback()
	var u User
	if err := tx.GetContext(ctx, &u, s.st.find, id); err != nil {
		s.fail(c, err)
		return
	}
	u.Name, u.Email, u.UpdatedAt = in.Name, in.Email, now()
	if in.IsActive != nil {
		u.IsActive = *in.IsActive
	}
	if _, err = tx.ExecContext(ctx, s.st.update, u.Name, u.Email, u.IsActive, u.UpdatedAt, u.ID); err == nil {
		err = tx.Commit()
	}
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, &u)
}

func (s *service) remove(c *gin.Context) {
	id, ok := idParam(c)
	if !ok {
		return
	}
	ctx := c.Request.Context()
	tx, err := s.x.BeginTxx(ctx, nil)
	if err != nil {
		s.fail(c, err)
		return
	}
	defer tx.Rollback()
	res, err := tx.ExecContext(ctx, s.st.delete, id)
	var n int64
	if err == nil {
		n, err = res.RowsAffected()
	}
	if err == nil && n == 0 {
		err = sql.ErrNoRows
	}
	if err == nil {
		err = tx.Commit()
	}
	if err != nil {
		s.fail(c, err)
		return
	}
	c.Status(http.StatusNoContent)
	c.Writer.WriteHeaderNow()
}

func (s *service) list(c *gin.Context) {
	limit, offset := 20, 0
	if v, ok := c.GetQuery("limit"); ok {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 100 {
			problem(c, http.StatusBadRequest, "invalid query parameter limit")
			return
		}
		limit = n
	}
	if v, ok := c.GetQuery("offset"); ok {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			problem(c, http.StatusBadRequest, "invalid query parameter offset")
			return
		}
		offset = n
	}
	ctx := c.Request.Context()
	tx, err := s.x.BeginTxx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		s.fail(c, err)
		return
	}
	defer tx.Rollback()
	resp := listResponse{Users: []User{}, Limit: limit, Offset: offset}
	err = tx.GetContext(ctx, &resp.Total, s.st.count)
	if err == nil {
		err = tx.SelectContext(ctx, &resp.Users, fmt.Sprintf(s.st.list, limit, offset))
	}
	if err == nil {
		err = tx.Commit()
	}
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, &resp)
}
