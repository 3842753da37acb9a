package fxmodules

import (
	"io/fs"

	"go.uber.org/fx"
)

// Framework bundles Config, Tracing, Logging, Database,
// Migrations(migrations), Metrics, RequestScope and HTTP. Pass a nil migrations to leave migrations
// out.
//
// Framework provides the four types an application may already have — a
// *slog.Logger, a *gin.Engine, an *http.Server and a *prometheus.Registry —
// unless opts say that the application provides them (WithAppLogger,
// WithAppEngine, WithAppServer, WithAppPrometheus); FastTrack then uses the
// application's. Give Framework to fx.New directly (or within fx.Options),
// not inside an fx.Module: its timeouts and its decorations apply to the
// whole application.
func Framework(migrations fs.FS, opts ...Option) fx.Option {
	o := newOptions(opts)
	// Tracing first: its provider shuts down after everything else.
	parts := []fx.Option{Config(), Tracing()}
	if !o.appLogger {
		parts = append(parts, Logging())
	}
	parts = append(parts, Database())
	if migrations != nil {
		parts = append(parts, Migrations(migrations))
	}
	return fx.Options(append(parts, Metrics(opts...), RequestScope(), HTTP(opts...))...)
}

// An Option tells Framework, HTTP or Metrics that the application provides
// one of the types they would otherwise provide themselves. A piece ignores
// the options that do not concern it.
type Option func(*options)

// options is what a list of Option says the application provides.
type options struct {
	appLogger, appEngine, appServer, appPrometheus bool
}

func newOptions(opts []Option) options {
	var o options
	for _, opt := range opts {
		opt(&o)
	}
	return o
}

// WithAppLogger says that the application provides its own *slog.Logger:
// Framework leaves Logging out, FastTrack logs through the application's
// logger (LOG_LEVEL and LOG_FORMAT then have no effect), and Fx's own
// events go wherever the application sends them (fx.WithLogger).
func WithAppLogger() Option { return func(o *options) { o.appLogger = true } }

// WithAppEngine says that the application provides its own *gin.Engine.
// HTTP then decorates it (fx.Decorate) before anything else receives it:
// the body limit and the request-scope middleware go in front of every
// route registered afterwards (routes the engine's constructor registers
// itself do not get them), and the start fails on a route whose api.Handle
// dependencies nothing provides. FastTrack adds no route to the
// application's engine and leaves its gin mode, 404 and 405 handlers alone;
// mount api.Healthz, api.Readyz and the Prometheus handler where the
// application wants them. The application's engine must be visible to the
// whole application (not fx.Private), and nothing else may decorate
// *gin.Engine at the top level.
func WithAppEngine() Option { return func(o *options) { o.appEngine = true } }

// WithAppServer says that the application provides and runs its own
// *http.Server: HTTP provides none and binds nothing, but builds the
// application's (so that its lifecycle hooks run even if nothing else takes
// it), which is expected to serve the *gin.Engine — FastTrack's, or its own
// with WithAppEngine. The route check still runs on start, before the
// server's own start hook when the server takes the engine.
func WithAppServer() Option { return func(o *options) { o.appServer = true } }

// WithAppPrometheus says that the application provides its own
// *prometheus.Registry: Metrics registers FastTrack's collectors on it — the
// pool's statistics (go_sql_*) and the request metrics of api.Metrics
// (fasttrack_*) — and leaves the Go runtime and process collectors to the
// application. FastTrack's engine serves that registry at /metrics.
func WithAppPrometheus() Option { return func(o *options) { o.appPrometheus = true } }
