// Package fxmodules holds FastTrack's Fx modules — Config, Logging, Database,
// Migrations, Metrics, RequestScope and HTTP — and Framework, which bundles
// them. Each is an fx.Option that an application plugs into its own fx.New.
//
// # What FastTrack provides, and what it takes from the application
//
// One rule: FastTrack provides what the application lacks and uses what it
// has. Every piece takes the types it needs from the application's graph,
// whoever provides them. Four of those types are ones an existing
// application often has already; Framework provides each of them unless an
// Option says the application does:
//
//	type                  provided by             when the application has its own
//	*slog.Logger          Logging                 WithAppLogger: FastTrack logs through it
//	*gin.Engine           HTTP                    WithAppEngine: FastTrack installs its middleware on it
//	*http.Server          HTTP                    WithAppServer: the application serves the engine
//	*prometheus.Registry  Metrics                 WithAppPrometheus: FastTrack registers its metrics on it
//
// Fx cannot provide a type only when nothing else does: without the Option,
// an application that provides one of these types fails to build with
// Fx's "already provided" error naming both constructors. The pieces can
// also be composed by hand: leave out Logging for the application's
// logger, and pass the same Options to HTTP and Metrics.
//
// # An application with its own logger, engine and server
//
// The application keeps its constructors; FastTrack adds the configuration,
// the pool, the migrations, the request scope and the metrics, installs the
// body limit and the request-scope middleware on the application's engine,
// and fails the start on a route whose dependencies nothing provides:
//
//	app := fx.New(
//		fx.Provide(
//			NewLogger,      // func(...) *slog.Logger
//			NewEngine,      // func(...) *gin.Engine, without routes
//			NewServer,      // func(fx.Lifecycle, *gin.Engine) *http.Server, which it starts and stops
//			NewPrometheus,  // func() *prometheus.Registry
//		),
//		fxmodules.Framework(migrations,
//			fxmodules.WithAppLogger(), fxmodules.WithAppEngine(),
//			fxmodules.WithAppServer(), fxmodules.WithAppPrometheus()),
//		fxmodules.Scoped(NewNotes),
//		fx.Invoke(func(e *gin.Engine) { // routes after the middleware
//			e.GET("/notes/:id", api.Handle(getNote, api.WithReadOnly()))
//		}),
//	)
//
// The middleware applies to the routes registered after the engine is
// built, so the engine's constructor registers none that need the request
// scope. FastTrack adds no route to the application's engine: mount
// api.Healthz, api.Readyz and a promhttp handler where the application
// wants them.
//
// # Timeouts
//
// Config applies START_TIMEOUT and STOP_TIMEOUT (config.Config.StartTimeout
// and StopTimeout) however the application runs: fxmodules.Run,
// fx.App.Run, fxtest, or fx.App.Start and Stop with a context (whose own
// deadline applies as well). Run documents how.
//
// Give Framework (and Config) to fx.New directly or within fx.Options, not
// inside an fx.Module: its timeouts and decorations apply to the whole
// application only from there.
package fxmodules
