// Package apptest starts a FastTrack application in a test: the framework
// with the test's options on a given database, a counting pool (see
// sqlcount), logs kept in memory, and an HTTP client on the real server.
package apptest

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"io/fs"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/fasttrack-go/fasttrack/config"
	"github.com/fasttrack-go/fasttrack/db"
	"github.com/fasttrack-go/fasttrack/fxmodules"
	"github.com/fasttrack-go/fasttrack/internal/sqlcount"
	"github.com/jmoiron/sqlx"
	"go.uber.org/fx"
	"go.uber.org/fx/fxtest"
)

// App is a started test application.
type App struct {
	// URL is the server's base URL, http://127.0.0.1:port.
	URL string
	// DB is the application's pool.
	DB *sqlx.DB
	// Dialect is the pool's dialect.
	Dialect db.Dialect
	// Count counts what the pool sent.
	Count *sqlcount.Counter
	// Logs holds everything the application logged.
	Logs *SyncBuffer
	// Client is an HTTP client for URL.
	Client *http.Client

	fx *fxtest.App
}

// Config returns the configuration tests start apps with: databaseURL, a
// free port, short timeouts, debug logs.
func Config(databaseURL string) config.Config {
	cfg := config.Default()
	cfg.DatabaseURL = databaseURL
	cfg.HTTPAddr = "127.0.0.1:0"
	cfg.StartTimeout = 30 * time.Second
	cfg.StopTimeout = 10 * time.Second
	cfg.LogLevel = slog.LevelDebug
	return cfg
}

// Start starts the framework with migrations and opts on cfg, and stops it
// when the test ends.
func Start(t testing.TB, cfg config.Config, migrations fs.FS, opts ...fx.Option) *App {
	t.Helper()
	x, count, err := sqlcount.Open(cfg.DatabaseURL)
	if err != nil {
		t.Fatal(err)
	}
	x.SetMaxOpenConns(cfg.DBMaxOpenConns)
	x.SetMaxIdleConns(cfg.DBMaxIdleConns)
	a := &App{DB: x, Count: count, Logs: &SyncBuffer{}, Dialect: db.DialectOf(x)}
	var srv *http.Server
	a.fx = fxtest.New(t,
		fxmodules.Framework(migrations),
		fx.Replace(cfg),
		fx.Decorate(func(*sqlx.DB) *sqlx.DB { return x }),
		fx.Decorate(func() *slog.Logger {
			return slog.New(slog.NewTextHandler(a.Logs, &slog.HandlerOptions{Level: cfg.LogLevel}))
		}),
		fx.Populate(&srv),
		fx.Options(opts...),
	)
	a.fx.RequireStart()
	a.URL = "http://" + srv.Addr
	tr := &http.Transport{MaxIdleConnsPerHost: 64}
	a.Client = &http.Client{Transport: tr, Timeout: time.Minute}
	t.Cleanup(func() {
		tr.CloseIdleConnections()
		a.fx.RequireStop()
		x.Close()
	})
	return a
}

// Response is a response read in full.
type Response struct {
	Status int
	Header http.Header
	Body   []byte
}

// JSON decodes the body into a map.
func (r Response) JSON(t testing.TB) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(r.Body, &m); err != nil {
		t.Fatalf("body %q: %v", r.Body, err)
	}
	return m
}

// Do sends a request with an optional body (a string, []byte, or a value
// sent as JSON) and reads the whole response.
func (a *App) Do(t testing.TB, method, path string, body any) Response {
	t.Helper()
	resp, err := a.DoContext(context.Background(), method, path, body)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	return resp
}

// DoContext is Do with a context, returning the error instead of failing.
func (a *App) DoContext(ctx context.Context, method, path string, body any) (Response, error) {
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	case []byte:
		rd = bytes.NewReader(b)
	default:
		j, err := json.Marshal(b)
		if err != nil {
			return Response{}, err
		}
		rd = bytes.NewReader(j)
	}
	req, err := http.NewRequestWithContext(ctx, method, a.URL+path, rd)
	if err != nil {
		return Response{}, err
	}
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := a.Client.Do(req)
	if err != nil {
		return Response{}, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return Response{Status: resp.StatusCode, Header: resp.Header, Body: b}, err
}

// RequireNoConnInUse fails the test unless every connection of the pool is
// back (db.Stats().InUse == 0), waiting briefly for requests still
// finishing.
func (a *App) RequireNoConnInUse(t testing.TB) {
	t.Helper()
	for range 200 {
		if a.DB.Stats().InUse == 0 {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("%d connections still in use", a.DB.Stats().InUse)
}

// SyncBuffer is a buffer safe for concurrent writers.
type SyncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

// Write appends p.
func (s *SyncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

// String returns everything written.
func (s *SyncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
