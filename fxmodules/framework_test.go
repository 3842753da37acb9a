package fxmodules_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/fstest"
	"time"

	"github.com/fasttrack-go/fasttrack/config"
	"github.com/fasttrack-go/fasttrack/db"
	"github.com/fasttrack-go/fasttrack/fasttest"
	"github.com/fasttrack-go/fasttrack/fxmodules"
	"github.com/fasttrack-go/fasttrack/internal/testdb"
	"github.com/gin-gonic/gin"
	"github.com/jmoiron/sqlx"
	"go.uber.org/fx"
	"go.uber.org/fx/fxtest"
	"go.uber.org/goleak"
)

func migrationsFS() fstest.MapFS {
	fsys := fstest.MapFS{}
	for _, d := range testdb.Dialects() {
		fsys[d.Name()+"/00001_create_notes.sql"] = &fstest.MapFile{Data: []byte(
			"-- +goose Up\nCREATE TABLE notes (id INT PRIMARY KEY);\n-- +goose Down\nDROP TABLE notes;\n")}
	}
	return fsys
}

// testConfig is a Config for a test app on databaseURL, on a free port.
func testConfig(databaseURL string) config.Config {
	cfg := config.Default()
	cfg.DatabaseURL = databaseURL
	cfg.HTTPAddr = "127.0.0.1:0"
	cfg.StartTimeout = 5 * time.Second
	cfg.StopTimeout = 5 * time.Second
	cfg.LogLevel = slog.LevelDebug
	return cfg
}

// appOptions builds the framework with cfg, logs into logs, and populates
// targets.
func appOptions(cfg config.Config, logs io.Writer, targets ...any) fx.Option {
	return fx.Options(
		fxmodules.Framework(migrationsFS()),
		fx.Replace(cfg),
		fx.Decorate(func() *slog.Logger {
			return slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
		}),
		fx.Populate(targets...),
	)
}

func getJSON(t *testing.T, url string) (int, map[string]any) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	return resp.StatusCode, body
}

func TestFrameworkLifecycle(t *testing.T) {
	testdb.Each(t, func(t *testing.T, d db.Dialect, u string) {
		defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
		var srv *http.Server
		var x *sqlx.DB
		var dialect db.Dialect
		logs := &fasttest.SyncBuffer{}
		app := fxtest.New(t, appOptions(testConfig(u), logs, &srv, &x, &dialect))
		app.RequireStart()
		if dialect != d {
			t.Errorf("dialect %v, want %v", dialect, d)
		}
		if code, body := getJSON(t, "http://"+srv.Addr+"/healthz"); code != 200 || body["status"] != "ok" {
			t.Errorf("/healthz: %d %v", code, body)
		}
		if code, body := getJSON(t, "http://"+srv.Addr+"/readyz"); code != 200 || body["status"] != "ready" {
			t.Errorf("/readyz: %d %v", code, body)
		}
		if _, err := x.Exec("INSERT INTO notes (id) VALUES (1)"); err != nil {
			t.Errorf("migration not applied on start: %v", err)
		}
		http.DefaultClient.CloseIdleConnections()
		app.RequireStop()
		if err := x.Ping(); err == nil {
			t.Error("pool still open after stop")
		}
		if strings.Contains(logs.String(), "level=ERROR") {
			t.Errorf("errors logged:\n%s", logs)
		}
	})
}

func TestReadyzAnswers503WhenTheDatabaseIsDown(t *testing.T) {
	var srv *http.Server
	var x *sqlx.DB
	app := fxtest.New(t, appOptions(testConfig(testdb.New(t, db.SQLite)), io.Discard, &srv, &x))
	app.RequireStart()
	defer app.RequireStop()
	x.Close() // the database goes away under the server
	resp, err := http.Get("http://" + srv.Addr + "/readyz")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusServiceUnavailable || resp.Header.Get("Content-Type") != "application/problem+json" {
		t.Fatalf("/readyz: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
}

// blackhole accepts TCP connections and never answers.
func blackhole(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var conns []net.Conn
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		mu.Lock()
		defer mu.Unlock()
		for _, c := range conns {
			c.Close()
		}
	})
	return ln.Addr().String()
}

func TestUnreachableDatabaseFailsTheStartWithinTheTimeout(t *testing.T) {
	addr := blackhole(t)
	for _, u := range []string{
		"postgres://app:hunter2@" + addr + "/app?sslmode=disable",
		"mysql://app:hunter2@" + addr + "/app",
	} {
		t.Run(strings.SplitN(u, ":", 2)[0], func(t *testing.T) {
			cfg := testConfig(u)
			cfg.StartTimeout = 300 * time.Millisecond
			logs := &fasttest.SyncBuffer{}
			app := fx.New(appOptions(cfg, logs), fx.StartTimeout(time.Minute))
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			err := app.Start(ctx)
			if err == nil {
				app.Stop(ctx)
				t.Fatal("the app started on an unreachable database")
			}
			if !strings.Contains(err.Error(), "did not answer in time") {
				t.Errorf("start error %q does not say the database timed out", err)
			}
			for name, text := range map[string]string{"error": err.Error(), "logs": logs.String()} {
				if strings.Contains(text, "hunter2") {
					t.Errorf("the password appears in the %s:\n%s", name, text)
				}
			}
			if !strings.Contains(err.Error(), "app:xxxxx@") {
				t.Errorf("start error %q does not name the redacted URL", err)
			}
		})
	}
}

func TestPortInUseFailsTheStart(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	cfg := testConfig(testdb.New(t, db.SQLite))
	cfg.HTTPAddr = ln.Addr().String()
	app := fx.New(appOptions(cfg, io.Discard))
	err = app.Start(context.Background())
	if err == nil {
		app.Stop(context.Background())
		t.Fatal("the app started on a port in use")
	}
	if !strings.Contains(err.Error(), "cannot listen on "+cfg.HTTPAddr) {
		t.Errorf("start error %q does not name the address", err)
	}
}

func TestInvalidConfigurationFailsTheStart(t *testing.T) {
	t.Setenv("DATABASE_URL", "redis://u:hunter2@localhost")
	t.Setenv("DB_MAX_OPEN_CONNS", "-3")
	app := fx.New(fxmodules.Framework(nil), fx.NopLogger)
	err := app.Err()
	if err == nil {
		t.Fatal("no error")
	}
	for _, want := range []string{"DATABASE_URL", "redis://u:xxxxx@localhost", "DB_MAX_OPEN_CONNS", "-3"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q lacks %q", err, want)
		}
	}
	if strings.Contains(err.Error(), "hunter2") {
		t.Errorf("error shows the password: %v", err)
	}
}

func TestGracefulStopFinishesInFlightRequests(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	var srv *http.Server
	started, finish := make(chan struct{}), make(chan struct{})
	var answered atomic.Bool
	release := sync.OnceFunc(func() { close(finish) })
	defer release() // never leave the handler blocked
	app := fxtest.New(t,
		appOptions(testConfig(testdb.New(t, db.SQLite)), io.Discard, &srv),
		fx.Invoke(func(e *gin.Engine) {
			e.GET("/slow", func(c *gin.Context) {
				close(started)
				<-finish // in flight until the test lets it answer
				c.String(200, "done")
				answered.Store(true)
			})
		}),
	)
	app.RequireStart()
	type result struct {
		body string
		err  error
	}
	res := make(chan result, 1)
	go func() {
		resp, err := http.Get("http://" + srv.Addr + "/slow")
		if err != nil {
			res <- result{err: err}
			return
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		res <- result{string(b), err}
	}()
	select {
	case <-started:
	case r := <-res:
		t.Fatalf("GET /slow ended before its handler ran: %q, %v", r.body, r.err)
	case <-time.After(10 * time.Second):
		t.Fatal("GET /slow did not reach its handler within 10 s")
	}

	// Stop while the request is held: the listener closes, the request
	// stays in flight, and Stop returns only after it has answered.
	type stopResult struct {
		err      error
		answered bool // whether the handler had answered when Stop returned
	}
	stopped := make(chan stopResult, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		err := app.Stop(ctx)
		stopped <- stopResult{err, answered.Load()}
	}()
	waitRefused(t, srv.Addr)
	select {
	case st := <-stopped:
		t.Fatalf("the app stopped (%v) while a request was in flight", st.err)
	case r := <-res:
		t.Fatalf("the in-flight request ended when the stop began: %q, %v", r.body, r.err)
	default:
	}
	release()
	select {
	case r := <-res:
		if r.err != nil || r.body != "done" {
			t.Fatalf("in-flight request during stop: %q, %v", r.body, r.err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the in-flight request was not answered within 10 s of its release")
	}
	select {
	case st := <-stopped:
		if st.err != nil {
			t.Fatalf("stop: %v", st.err)
		}
		if !st.answered {
			t.Fatal("Stop returned before the in-flight request had answered")
		}
	case <-time.After(15 * time.Second):
		t.Fatal("the app did not stop within 15 s")
	}
	if _, err := http.Get("http://" + srv.Addr + "/healthz"); err == nil {
		t.Fatal("the server still accepts connections after stop")
	}
	http.DefaultClient.CloseIdleConnections()
}

// waitRefused waits until addr refuses TCP connections, failing the test
// if it still accepts them after 10 s.
func waitRefused(t *testing.T, addr string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err != nil {
			return
		}
		c.Close()
		if time.Now().After(deadline) {
			t.Fatalf("%s still accepts connections 10 s after the stop began", addr)
		}
		time.Sleep(5 * time.Millisecond)
	}
}
