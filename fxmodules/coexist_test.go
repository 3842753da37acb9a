package fxmodules_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"testing"

	"github.com/fasttrack-go/fasttrack/api"
	"github.com/fasttrack-go/fasttrack/db"
	"github.com/fasttrack-go/fasttrack/fxmodules"
	"github.com/fasttrack-go/fasttrack/internal/testdb"
	"github.com/gin-gonic/gin"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"go.uber.org/fx"
	"go.uber.org/fx/fxtest"
)

// get sends GET url and returns the status and the body.
func get(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
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

func TestFrameworkWithTheAppsLogger(t *testing.T) {
	logs := newRecordHandler()
	appLogger := slog.New(logs)
	var srv *http.Server
	var got *slog.Logger
	app := fxtest.New(t,
		fx.Provide(func() *slog.Logger { return appLogger }), // the application's own
		fxmodules.Framework(migrationsFS(), fxmodules.WithAppLogger()),
		fx.Replace(testConfig(testdb.New(t, db.SQLite))),
		fx.Populate(&srv, &got),
	)
	app.RequireStart()
	if got != appLogger {
		t.Error("the application's graph holds another *slog.Logger than its own")
	}
	// FastTrack logs through the application's logger: on start, from the
	// database, the migrations and the server; per request, the access log.
	for _, msg := range []string{"database ready", "migrations applied", "http server listening"} {
		logs.waitFor(t, msg)
	}
	if code, _ := get(t, "http://"+srv.Addr+"/healthz"); code != http.StatusOK {
		t.Errorf("/healthz: %d", code)
	}
	http.DefaultClient.CloseIdleConnections()
	app.RequireStop()
	logs.waitFor(t, "http server shut down")
}

// TestFrameworkWithoutTheOptionClashes pins down what the package doc says
// of an application that provides one of the four types without the
// matching Option, and that the Option is the fix.
func TestFrameworkWithoutTheOptionClashes(t *testing.T) {
	tests := []struct {
		name    string
		provide any
		option  fxmodules.Option
	}{
		{"logger", func() *slog.Logger { return slog.New(slog.DiscardHandler) }, fxmodules.WithAppLogger()},
		{"engine", gin.New, fxmodules.WithAppEngine()},
		{"server", func(e *gin.Engine) *http.Server { return &http.Server{Handler: e} }, fxmodules.WithAppServer()},
		{"prometheus", prometheus.NewRegistry, fxmodules.WithAppPrometheus()},
	}
	u := testdb.New(t, db.SQLite)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			opts := func(fw ...fxmodules.Option) fx.Option {
				return fx.Options(fx.Provide(tt.provide),
					fxmodules.Framework(nil, fw...), fx.Replace(testConfig(u)), fx.NopLogger)
			}
			if err := fx.New(opts()).Err(); err == nil || !strings.Contains(err.Error(), "already provided") {
				t.Errorf("without the option: %v, want an \"already provided\" error", err)
			}
			if err := fx.New(opts(tt.option)).Err(); err != nil {
				t.Errorf("with the option: %v", err)
			}
		})
	}
}

// One is a scoped service on the request's transaction.
type One struct{ q db.Querier }

// NewOne builds a One; registered with fxmodules.Scoped.
func NewOne(q db.Querier) *One { return &One{q: q} }

// Unprovided is a type nothing provides.
type Unprovided struct{}

func TestTheAppsEngineAndServer(t *testing.T) {
	tests := []struct {
		name                 string
		appEngine, appServer bool
	}{
		{"app engine and app server", true, true},
		{"app engine, FastTrack's server", true, false},
		{"FastTrack's engine, app server", false, true},
	}
	u := testdb.New(t, db.SQLite)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var opts []fxmodules.Option
			var provides []any
			if tt.appEngine {
				opts = append(opts, fxmodules.WithAppEngine())
				provides = append(provides, func() *gin.Engine {
					e := gin.New()
					e.Use(func(c *gin.Context) { c.Header("X-App-Engine", "yes"); c.Next() })
					return e
				})
			}
			if tt.appServer {
				opts = append(opts, fxmodules.WithAppServer())
				provides = append(provides, newAppServer)
			}
			build := func(routes func(*gin.Engine)) (*fxtest.App, **http.Server) {
				cfg := testConfig(u)
				cfg.BodyLimit = 16
				srv := new(*http.Server)
				return fxtest.New(t,
					fx.Provide(provides...),
					fxmodules.Framework(nil, opts...),
					fx.Replace(cfg),
					fx.Decorate(func() *slog.Logger { return slog.New(slog.DiscardHandler) }),
					fxmodules.Scoped(NewOne),
					fx.Invoke(routes),
					fx.Populate(srv),
				), srv
			}

			app, srv := build(func(e *gin.Engine) {
				e.GET("/one", api.Handle(func(c *gin.Context, one *One) (gin.H, error) {
					var n int
					err := one.q.GetContext(c.Request.Context(), &n, "SELECT 1")
					return gin.H{"one": n}, err
				}))
				e.POST("/echo", func(c *gin.Context) {
					b, err := io.ReadAll(c.Request.Body)
					if err != nil {
						_ = c.Error(err)
						return
					}
					c.String(http.StatusOK, string(b))
				})
			})
			app.RequireStart()
			base := "http://" + (*srv).Addr
			// The request scope resolves One, on the request's transaction.
			if code, body := get(t, base+"/one"); code != http.StatusOK || body != `{"one":1}` {
				t.Errorf("GET /one: %d %s", code, body)
			}
			// The body limit is installed.
			resp, err := http.Post(base+"/echo", "text/plain", strings.NewReader(strings.Repeat("x", 64)))
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusRequestEntityTooLarge {
				t.Errorf("POST /echo over the body limit: %d", resp.StatusCode)
			}
			// The application's engine serves, and gets no route of
			// FastTrack's; FastTrack's has /healthz.
			resp, err = http.Get(base + "/healthz")
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if tt.appEngine && (resp.StatusCode != http.StatusNotFound || resp.Header.Get("X-App-Engine") != "yes") {
				t.Errorf("GET /healthz on the application's engine: %d, X-App-Engine %q", resp.StatusCode, resp.Header.Get("X-App-Engine"))
			}
			if !tt.appEngine && resp.StatusCode != http.StatusOK {
				t.Errorf("GET /healthz on FastTrack's engine: %d", resp.StatusCode)
			}
			http.DefaultClient.CloseIdleConnections()
			app.RequireStop()

			// A route whose dependency nothing provides fails the start,
			// before any server listens.
			app, srv = build(func(e *gin.Engine) {
				e.GET("/missing", api.Handle(func(*gin.Context, *Unprovided) (gin.H, error) { return nil, nil }))
			})
			err = app.Start(context.Background())
			if err == nil {
				app.RequireStop()
				t.Fatal("the app started with a route whose dependency nothing provides")
			}
			if !strings.Contains(err.Error(), "route GET /missing") {
				t.Errorf("start error %q does not name the route", err)
			}
			if (*srv).Addr != "" && !strings.HasSuffix((*srv).Addr, ":0") {
				t.Errorf("a server listened on %s before the route check", (*srv).Addr)
			}
		})
	}
}

func TestTheAppsPrometheusRegistry(t *testing.T) {
	reg := prometheus.NewRegistry()
	// The application's registry has its own collectors, the Go runtime's
	// among them, and one of its own.
	reg.MustRegister(collectors.NewGoCollector())
	own := prometheus.NewCounter(prometheus.CounterOpts{Name: "app_things_total", Help: "Things."})
	reg.MustRegister(own)
	var srv *http.Server
	var got *prometheus.Registry
	app := fxtest.New(t,
		fx.Supply(reg),
		fxmodules.Framework(nil, fxmodules.WithAppPrometheus()),
		fx.Replace(testConfig(testdb.New(t, db.SQLite))),
		fx.Decorate(func() *slog.Logger { return slog.New(slog.DiscardHandler) }),
		fx.Populate(&srv, &got),
	)
	app.RequireStart()
	defer app.RequireStop()
	defer http.DefaultClient.CloseIdleConnections()
	if got != reg {
		t.Fatal("the application's graph holds another *prometheus.Registry than its own")
	}
	if code, _ := get(t, "http://"+srv.Addr+"/healthz"); code != http.StatusOK {
		t.Fatalf("/healthz: %d", code)
	}
	families, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	names := map[string]bool{}
	for _, f := range families {
		names[f.GetName()] = true
	}
	for _, want := range []string{"fasttrack_http_requests_total", "go_sql_open_connections", "go_goroutines", "app_things_total"} {
		if !names[want] {
			t.Errorf("the application's registry lacks %s", want)
		}
	}
	// FastTrack's engine serves the application's registry.
	code, body := get(t, "http://"+srv.Addr+"/metrics")
	if code != http.StatusOK || !strings.Contains(body, "app_things_total") || !strings.Contains(body, "fasttrack_http_requests_total") {
		t.Errorf("/metrics: %d\n%s", code, body)
	}
}

// TestMetricsOnAnAppRegistryThatHasThem fails the build with a wrapped
// error when the application's registry already holds FastTrack's metrics.
func TestMetricsOnAnAppRegistryThatHasThem(t *testing.T) {
	reg := prometheus.NewRegistry()
	if _, err := api.NewMetrics(reg); err != nil {
		t.Fatal(err)
	}
	err := fx.New(fx.Supply(reg),
		fxmodules.Framework(nil, fxmodules.WithAppPrometheus()),
		fx.Replace(testConfig(testdb.New(t, db.SQLite))),
		fx.NopLogger,
	).Err()
	if !errors.As(err, new(prometheus.AlreadyRegisteredError)) || !strings.Contains(err.Error(), "request metrics") {
		t.Errorf("error %v, want an AlreadyRegisteredError about the request metrics", err)
	}
}

// TestTheAppsServerRunsUntaken gives WithAppServer a server that nothing in
// the application takes: HTTP builds it, so its hooks serve.
func TestTheAppsServerRunsUntaken(t *testing.T) {
	var built *http.Server
	app := fxtest.New(t,
		fx.Provide(func(lc fx.Lifecycle, e *gin.Engine) *http.Server {
			built = newAppServer(lc, e)
			return built
		}),
		fxmodules.Framework(nil, fxmodules.WithAppServer()),
		fx.Replace(testConfig(testdb.New(t, db.SQLite))),
		fx.Decorate(func() *slog.Logger { return slog.New(slog.DiscardHandler) }),
	)
	app.RequireStart()
	defer app.RequireStop()
	defer http.DefaultClient.CloseIdleConnections()
	if built == nil {
		t.Fatal("the application's server was not built")
	}
	if code, body := get(t, "http://"+built.Addr+"/healthz"); code != http.StatusOK {
		t.Errorf("/healthz on the application's server: %d %s", code, body)
	}
}
