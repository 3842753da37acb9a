package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/fasttrack-go/fasttrack/internal/testdb"
	"github.com/fasttrack-go/fasttrack/jobs"
	"go.uber.org/goleak"
)

// freeAddr returns a 127.0.0.1 address whose port was free a moment ago.
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	if err := ln.Close(); err != nil {
		t.Fatal(err)
	}
	return addr
}

// waitHealthy polls GET url until it answers 200, serve returns, or the
// attempts run out. It returns the last body.
func waitHealthy(t *testing.T, c *http.Client, url string, served <-chan error) string {
	t.Helper()
	var last error
	for range 400 {
		select {
		case err := <-served:
			t.Fatalf("serve returned before /healthz answered: %v", err)
		default:
		}
		resp, err := c.Get(url)
		if err == nil {
			b, rerr := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK && rerr == nil {
				return string(b)
			}
			last = rerr
			if rerr == nil {
				last = &statusError{resp.StatusCode, string(b)}
			}
		} else {
			last = err
		}
		time.Sleep(25 * time.Millisecond)
	}
	t.Fatalf("GET %s never answered 200: %v", url, last)
	return ""
}

// waitLog polls logs until they hold want, serve returns, or the attempts
// run out.
func waitLog(t *testing.T, logs func() string, want string, served <-chan error) {
	t.Helper()
	for range 400 {
		select {
		case err := <-served:
			t.Fatalf("serve returned before logging %s: %v", want, err)
		default:
		}
		if strings.Contains(logs(), want) {
			return
		}
		time.Sleep(25 * time.Millisecond)
	}
	t.Fatalf("no %s in the logs:\n%s", want, logs())
}

type statusError struct {
	code int
	body string
}

func (e *statusError) Error() string { return http.StatusText(e.code) + ": " + e.body }

// TestServe starts the service in-process on a temporary SQLite database and
// a free port, waits for /healthz, checks migrate-on-start and, when the
// database is migrated, the users API, then cancels the context: serve must
// return nil, stop listening and leave no goroutine. Without
// MIGRATE_ON_START, the job queue's schema is migrated beforehand (the app
// runs jobs, which need it: TestServeNeedsTheJobSchema). cli.TestServe
// covers the default command.
func TestServe(t *testing.T) {
	for _, migrate := range []bool{false, true} {
		t.Run(fmt.Sprintf("MIGRATE_ON_START=%v", migrate), func(t *testing.T) {
			defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
			url := "sqlite:" + filepath.Join(t.TempDir(), "app.db")
			addr := freeAddr(t)
			t.Setenv("DATABASE_URL", url)
			t.Setenv("HTTP_ADDR", addr)
			t.Setenv("MIGRATE_ON_START", fmt.Sprint(migrate))
			t.Setenv("LOG_LEVEL", "info")
			stderr := captureStderr(t)
			t.Setenv("STOP_TIMEOUT", "10s")
			if !migrate {
				migrateJobs(t, url)
			}

			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			served := make(chan error, 1)
			go func() {
				_, err := runCLI(t, ctx, "serve")
				served <- err
			}()

			client := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
			defer client.CloseIdleConnections()
			body := waitHealthy(t, client, "http://"+addr+"/healthz", served)
			waitLog(t, stderr, `msg="jobs started"`, served) // the last start hook
			if !strings.Contains(body, `"ok"`) {
				t.Errorf("/healthz answered %q", body)
			}
			if code, _ := request(t, client, "GET", "http://"+addr+"/readyz", ""); code != http.StatusOK {
				t.Errorf("/readyz answered %d", code)
			}

			x, _ := testdb.Open(t, url)
			var n int
			if err := x.Get(&n, "SELECT COUNT(*) FROM users"); (err == nil) != migrate {
				t.Errorf("with MIGRATE_ON_START=%v, the users table: %v", migrate, err)
			}
			x.Close() // before goleak looks
			if migrate {
				code, body := request(t, client, "POST", "http://"+addr+"/users", `{"name":"Ada","email":"ada@example.com"}`)
				if code != http.StatusCreated || !strings.Contains(body, `"email":"ada@example.com"`) {
					t.Errorf("POST /users answered %d %s", code, body)
				}
				code, body = request(t, client, "GET", "http://"+addr+"/users", "")
				if code != http.StatusOK || !strings.Contains(body, `"name":"Ada"`) {
					t.Errorf("GET /users answered %d %s", code, body)
				}
			}

			cancel()
			if err := <-served; err != nil {
				t.Fatalf("serve returned %v after its context ended, want nil", err)
			}
			if resp, err := client.Get("http://" + addr + "/healthz"); err == nil {
				resp.Body.Close()
				t.Fatal("still serving after serve returned")
			}
		})
	}
}

// migrateJobs applies River's migrations, and only them, to the database
// at url.
func migrateJobs(t *testing.T, url string) {
	t.Helper()
	x, d := testdb.Open(t, url)
	defer x.Close()
	if _, err := jobs.Migrate(context.Background(), x, d, slog.New(slog.DiscardHandler)); err != nil {
		t.Fatal(err)
	}
}

// TestServeNeedsTheJobSchema: on a database without River's tables and
// without MIGRATE_ON_START, serve fails at start, naming what is missing,
// and leaves no goroutine.
func TestServeNeedsTheJobSchema(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	t.Setenv("DATABASE_URL", "sqlite:"+filepath.Join(t.TempDir(), "app.db"))
	t.Setenv("HTTP_ADDR", freeAddr(t))
	t.Setenv("MIGRATE_ON_START", "false")
	t.Setenv("LOG_LEVEL", "error")
	captureStderr(t) // fx and River log the failed start at error level
	_, err := runCLI(t, context.Background(), "serve")
	if err == nil || !strings.Contains(err.Error(), "jobs: start") || !strings.Contains(err.Error(), "river_") {
		t.Fatalf("serve on a database without the job schema: %v, want a jobs start error naming River's table", err)
	}
}

// request sends a request with a JSON body (none when empty) and returns
// the status and body of the response.
func request(t *testing.T, c *http.Client, method, url, body string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, string(b)
}

// TestServeFailsWhenThePortIsTaken checks that serve reports a start failure
// instead of waiting, and cleans up what it started.
func TestServeFailsWhenThePortIsTaken(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	t.Setenv("DATABASE_URL", "sqlite:"+filepath.Join(t.TempDir(), "app.db"))
	t.Setenv("HTTP_ADDR", ln.Addr().String())
	t.Setenv("LOG_LEVEL", "error")
	captureStderr(t) // fx logs the failed start at error level
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	_, err = runCLI(t, ctx, "serve") // must not block: ctx is never cancelled before it returns
	if err == nil {
		t.Fatal("serve on a taken port returned nil")
	}
	if !strings.Contains(err.Error(), ln.Addr().String()) {
		t.Errorf("error %q does not name the address", err)
	}
}

// TestServeLogsTheDrain checks that the service, at LOG_LEVEL=info, logs
// its graceful stop when its context ends — by a SIGTERM, as main wires it,
// or by a cancel: why it stops, the start of the shutdown, the drain, and
// the end of the stop, in this order.
func TestServeLogsTheDrain(t *testing.T) {
	for _, tc := range []struct {
		name  string
		cause string
		// stop returns a context for serve and the func that ends it.
		stop func(t *testing.T) (context.Context, func())
	}{
		{"cancel", "context canceled", func(t *testing.T) (context.Context, func()) {
			return context.WithCancel(context.Background())
		}},
		{"SIGTERM", "terminated signal received", func(t *testing.T) (context.Context, func()) {
			if runtime.GOOS == "windows" {
				t.Skip("no SIGTERM to send on Windows")
			}
			ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM)
			t.Cleanup(stop)
			var once sync.Once
			return ctx, func() {
				once.Do(func() {
					p, err := os.FindProcess(os.Getpid())
					if err == nil {
						err = p.Signal(syscall.SIGTERM)
					}
					if err != nil {
						t.Errorf("sending SIGTERM: %v", err)
						stop()
					}
				})
			}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv("DATABASE_URL", "sqlite:"+filepath.Join(t.TempDir(), "app.db"))
			addr := freeAddr(t)
			t.Setenv("HTTP_ADDR", addr)
			t.Setenv("LOG_LEVEL", "info")
			t.Setenv("LOG_FORMAT", "text")
			t.Setenv("MIGRATE_ON_START", "true")
			stderr := captureStderr(t)

			ctx, end := tc.stop(t)
			defer end()
			served := make(chan error, 1)
			go func() {
				_, err := runCLI(t, ctx, "serve")
				served <- err
			}()
			client := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
			defer client.CloseIdleConnections()
			waitHealthy(t, client, "http://"+addr+"/healthz", served)
			// The server listens before the job client's start hook runs:
			// stop once the app has started, the jobs last.
			waitLog(t, stderr, `msg="jobs started"`, served)
			end()
			if err := <-served; err != nil {
				t.Fatalf("serve: %v", err)
			}

			logs := stderr()
			last := -1
			for _, msg := range []string{
				`level=INFO msg="shutdown requested" cause="` + tc.cause + `"`,
				`level=INFO msg="http server shutting down" in_flight=0`,
				`level=INFO msg="http server drained" in_flight=0`,
				`level=INFO msg="http server shut down" duration=`,
			} {
				i := strings.Index(logs, msg)
				if i < 0 {
					t.Fatalf("no %s in the logs:\n%s", msg, logs)
				}
				if i < last {
					t.Errorf("%s logged out of order:\n%s", msg, logs)
				}
				last = i
			}
		})
	}
}
