package fxmodules

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"sync/atomic"
	"time"

	"github.com/fasttrack-go/fasttrack/api"
	"github.com/fasttrack-go/fasttrack/config"
	"github.com/fasttrack-go/fasttrack/jobs"
	"github.com/gin-gonic/gin"
	"github.com/jmoiron/sqlx"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"go.uber.org/fx"
)

// readyTimeout bounds the database ping of /readyz.
const readyTimeout = 2 * time.Second

// HTTP provides the *gin.Engine — with the request-scope middleware (see
// RequestScope, which it needs), each request's server span when Tracing
// is on, the body limit, problem+json 404 and 405,
// /healthz, /readyz and, with the Metrics module, /metrics — and the
// *http.Server, with config's read-header, read, write and idle timeouts.
// On start it fails on a route whose api.Handle dependencies nothing
// provides; then the server binds config.Config.HTTPAddr — a port in use
// fails the start — and sets Server.Addr to the bound address (useful with
// port 0). On stop the server shuts down gracefully within
// config.Config.StopTimeout, letting in-flight requests finish, and logs
// the drain at info level: "http server shutting down" with the number of
// requests in flight, "http server drained" (or a warning when the drain
// runs out of time) and "http server shut down" with the stop's duration.
// Applications add routes in an fx.Invoke taking *gin.Engine. With the
// Jobs module, in whatever order the options come, the jobs client starts
// before the server listens and stops after the server has shut down.
//
// With WithAppEngine, HTTP installs the body limit and the request-scope
// middleware on the application's *gin.Engine instead of providing one;
// with WithAppServer, it provides no server and builds the application's,
// which serves the engine itself.
func HTTP(opts ...Option) fx.Option {
	o := newOptions(opts)
	var provides []any
	var parts []fx.Option
	if o.appEngine {
		// At the top level, so that every module receives the decorated
		// engine.
		parts = append(parts, fx.Decorate(installOnAppEngine))
	} else {
		provides = append(provides, newEngine)
	}
	if !o.appServer {
		provides = append(provides, newServer)
	}
	// The engine and the server — FastTrack's or the application's — are
	// built, and their hooks appended, even if nothing else takes them.
	return fx.Options(append(parts, fx.Module("http",
		fx.Provide(provides...),
		fx.Invoke(func(*gin.Engine, *http.Server) {}),
	))...)
}

// engineIn is what the engine needs; the metrics registry is optional.
type engineIn struct {
	fx.In
	Lifecycle  fx.Lifecycle
	DB         *sqlx.DB
	Config     config.Config
	Middleware *api.Middleware
	Prometheus *prometheus.Registry `optional:"true"`
	Tracing    *tracing             `optional:"true"`
	// Jobs, with the Jobs module, is built first, so that its hooks run
	// before any server that takes the engine listens and after it drains.
	Jobs *jobs.Client `optional:"true"`
}

func newEngine(in engineIn) *gin.Engine {
	x, cfg, mw := in.DB, in.Config, in.Middleware
	if os.Getenv(gin.EnvGinMode) == "" {
		gin.SetMode(gin.ReleaseMode)
	}
	e := gin.New()
	e.HandleMethodNotAllowed = true
	e.NoRoute(api.NotFound)
	e.NoMethod(api.MethodNotAllowed)
	install(in.Lifecycle, e, cfg, mw, in.Tracing)
	e.GET("/healthz", api.Healthz)
	e.GET("/readyz", api.Readyz(x, readyTimeout))
	if in.Prometheus != nil {
		e.GET("/metrics", gin.WrapH(promhttp.HandlerFor(in.Prometheus, promhttp.HandlerOpts{})))
	}
	return e
}

// appEngineIn is what installOnAppEngine needs; tracing is optional.
type appEngineIn struct {
	fx.In
	Lifecycle  fx.Lifecycle
	Engine     *gin.Engine
	Config     config.Config
	Middleware *api.Middleware
	Tracing    *tracing     `optional:"true"`
	Jobs       *jobs.Client `optional:"true"` // see engineIn.Jobs
}

// installOnAppEngine decorates the application's engine (WithAppEngine).
func installOnAppEngine(in appEngineIn) *gin.Engine {
	install(in.Lifecycle, in.Engine, in.Config, in.Middleware, in.Tracing)
	return in.Engine
}

// install puts the server span (with Tracing on), the body limit and the
// request-scope middleware in front of the routes e gets from now on, and
// checks on start — after the request scope compiled, before any server
// listens — the dependencies of its api.Handle routes.
func install(lc fx.Lifecycle, e *gin.Engine, cfg config.Config, mw *api.Middleware, tr *tracing) {
	if tr != nil {
		if h := api.Trace(tr.provider, tr.propagator, ""); h != nil {
			e.Use(h)
		}
	}
	e.Use(api.BodyLimit(cfg.BodyLimit), mw.HandlerFunc())
	lc.Append(fx.StartHook(func() error {
		if err := api.CheckRoutes(e, mw.Registry()); err != nil {
			return fmt.Errorf("fasttrack: %w", err)
		}
		return nil
	}))
}

// serverIn is what the server needs.
type serverIn struct {
	fx.In
	Lifecycle fx.Lifecycle
	Config    config.Config
	Engine    *gin.Engine
	Logger    *slog.Logger
	// Jobs, with the Jobs module, is built before the server, so that Fx
	// starts it before the server listens and stops it after the server
	// drains, whatever the order the application composes its options in.
	Jobs *jobs.Client `optional:"true"`
}

func newServer(in serverIn) *http.Server {
	lc, cfg, e, log := in.Lifecycle, in.Config, in.Engine, in.Logger
	var inFlight atomic.Int64
	srv := &http.Server{
		Addr:              cfg.HTTPAddr,
		Handler:           countInFlight(e, &inFlight),
		ReadHeaderTimeout: cfg.ReadHeaderTimeout,
		ReadTimeout:       cfg.ReadTimeout,
		WriteTimeout:      cfg.WriteTimeout,
		IdleTimeout:       cfg.IdleTimeout,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	done := make(chan struct{})
	lc.Append(fx.Hook{
		OnStart: func(context.Context) error {
			ln, err := net.Listen("tcp", srv.Addr)
			if err != nil {
				close(done)
				return fmt.Errorf("http: cannot listen on %s: %w", srv.Addr, err)
			}
			srv.Addr = ln.Addr().String()
			go func() {
				defer close(done)
				if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
					log.Error("http server stopped", "error", err)
				}
			}()
			log.Info("http server listening", "addr", srv.Addr)
			return nil
		},
		OnStop: func(ctx context.Context) error {
			began := time.Now()
			n := inFlight.Load()
			log.Info("http server shutting down", "in_flight", n, "stop_timeout", cfg.StopTimeout)
			ctx, cancel := context.WithTimeout(ctx, cfg.StopTimeout)
			defer cancel()
			err := srv.Shutdown(ctx)
			if err != nil {
				log.Warn("http server drain did not finish", "in_flight", n, "still_in_flight", inFlight.Load(), "error", err)
			} else {
				log.Info("http server drained", "in_flight", n)
			}
			<-done
			log.Info("http server shut down", "duration", time.Since(began))
			if err != nil {
				return fmt.Errorf("http: graceful shutdown: %w", err)
			}
			return nil
		},
	})
	return srv
}

// countInFlight wraps h to keep n equal to the number of requests it is
// serving, for the shutdown logs.
func countInFlight(h http.Handler, n *atomic.Int64) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n.Add(1)
		defer n.Add(-1)
		h.ServeHTTP(w, r)
	})
}
