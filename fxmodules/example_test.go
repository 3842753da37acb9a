package fxmodules_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"

	"github.com/fasttrack-go/fasttrack/api"
	"github.com/fasttrack-go/fasttrack/config"
	"github.com/fasttrack-go/fasttrack/db"
	"github.com/fasttrack-go/fasttrack/fxmodules"
	"github.com/gin-gonic/gin"
	"go.uber.org/fx"
)

// Counter is a scoped service: one per request, on the request's
// transaction.
type Counter struct{ q db.Querier }

// NewCounter builds a Counter; registered with fxmodules.Scoped.
func NewCounter(q db.Querier) *Counter { return &Counter{q: q} }

// Count counts rows of a table in the request's transaction.
func (c *Counter) Count(ctx context.Context) (n int, err error) {
	return n, c.q.GetContext(ctx, &n, "SELECT COUNT(*) FROM sqlite_master")
}

func ExampleScoped() {
	cfg := config.Default()
	cfg.DatabaseURL = "sqlite::memory:"
	cfg.HTTPAddr = "127.0.0.1:0"
	var srv *http.Server
	app := fx.New(
		fxmodules.Framework(nil),
		fx.Replace(cfg),
		fx.NopLogger,
		fx.Decorate(func() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }),
		fxmodules.Scoped(NewCounter),
		fx.Invoke(tablesRoute),
		fx.Populate(&srv),
	)
	getTables(app, &srv)
	// Output: 200 {"tables":0}
}

// newAppServer is an existing application's own HTTP server: it serves the
// engine from start to stop.
func newAppServer(lc fx.Lifecycle, e *gin.Engine) *http.Server {
	srv := &http.Server{Handler: e}
	lc.Append(fx.Hook{
		OnStart: func(context.Context) error {
			ln, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				return err
			}
			srv.Addr = ln.Addr().String()
			go srv.Serve(ln)
			return nil
		},
		OnStop: srv.Shutdown,
	})
	return srv
}

// An application that already has its logger, Gin engine and HTTP server
// keeps them: FastTrack logs through the logger and installs the
// request-scope middleware on the engine, which the application's server
// serves.
func ExampleFramework_existingApp() {
	cfg := config.Default()
	cfg.DatabaseURL = "sqlite::memory:"
	var srv *http.Server
	app := fx.New(
		fx.Provide(
			func() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) },
			gin.New,
			newAppServer,
		),
		fxmodules.Framework(nil, fxmodules.WithAppLogger(), fxmodules.WithAppEngine(), fxmodules.WithAppServer()),
		fx.Replace(cfg),
		fx.NopLogger,
		fxmodules.Scoped(NewCounter),
		fx.Invoke(tablesRoute),
		fx.Populate(&srv),
	)
	getTables(app, &srv)
	// Output: 200 {"tables":0}
}

// tablesRoute is the examples' route: GET /tables, on a read-only
// transaction, through the request-scoped Counter.
func tablesRoute(e *gin.Engine) {
	e.GET("/tables", api.Handle(func(c *gin.Context, counter *Counter) (gin.H, error) {
		n, err := counter.Count(c.Request.Context())
		return gin.H{"tables": n}, err
	}, api.WithReadOnly()))
}

// getTables starts app, prints the answer to GET /tables from the server
// *srv, and stops app.
func getTables(app *fx.App, srv **http.Server) {
	ctx := context.Background()
	if err := app.Start(ctx); err != nil {
		fmt.Println(err)
		return
	}
	defer app.Stop(ctx)
	resp, err := http.Get("http://" + (*srv).Addr + "/tables")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	fmt.Println(resp.StatusCode, string(body))
}
