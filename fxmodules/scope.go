package fxmodules

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"reflect"

	"github.com/fasttrack-go/fasttrack/api"
	"github.com/fasttrack-go/fasttrack/config"
	"github.com/fasttrack-go/fasttrack/db"
	"github.com/fasttrack-go/fasttrack/scope"
	"go.uber.org/fx"
)

// RequestScope provides the *scope.Registry of scoped and transient
// providers, with the request's transaction (*db.Tx and db.Querier) already
// in it, and the *api.Middleware that runs each HTTP request in a scope,
// with the N+1 detector of N_PLUS_ONE and N_PLUS_ONE_THRESHOLD
// (api.MiddlewareConfig.NPlusOne) and, with Tracing, the spans of each
// request's transaction and statements (api.MiddlewareConfig.Tracer), and
// of the transactions of scopes outside HTTP (scope.Registry.Run: CLI
// commands), whose *db.Tracer it provides (nil without tracing). The
// registry is compiled when the app starts; a scoped constructor whose
// dependency nothing provides, a cycle, or two providers of one type fail
// the start with an error naming the constructors.
//
// A singleton that takes *db.Tx or db.Querier fails the start as a captive
// dependency (it would keep one request's transaction); a singleton that
// takes another scoped type fails it as a missing type.
func RequestScope() fx.Option {
	return fx.Module("fasttrack.scope",
		fx.Provide(newDBTracer, newRegistrar, newMiddleware, captiveTx, captiveQuerier),
	)
}

// Scoped registers ctor as a scoped provider: one instance per request (or
// [scope.Registry.Run]), built on first use and released when the scope ends — by a
// cleanup func the constructor returns, or by its Close method — in reverse
// order of creation. ctor is a func of any arity returning T, (T, error) or
// (T, func(), error); its parameters are Fx singletons, scoped or transient
// types, or context.Context (the scope's). Use it in any fx.Module.
func Scoped(ctor any) fx.Option { return register(scope.Scoped, ctor) }

// Transient registers ctor as a transient provider: a new instance each time
// it is resolved, released with the scope that built it. See Scoped.
func Transient(ctor any) fx.Option { return register(scope.Transient, ctor) }

// Singleton makes the Fx singleton T available to the request scope beyond
// the scoped and transient constructors that take it (which get their
// singletons without it): to api.Handle and api.Wrap handlers, api.Resolve
// and scope.Get. T is resolved once, when the app starts, and handed to each
// request as it is, with no lookup. Fx keeps its container to itself, so
// the request scope can ask Fx only for the types named before the app
// starts: a handler that takes an Fx singleton nothing names fails the start
// with an error that says to add Singleton[T]().
func Singleton[T any]() fx.Option {
	t := reflect.TypeFor[T]()
	if frameworkScoped(t) {
		return fx.Error(fmt.Errorf("fxmodules.Singleton[%v]: %v is request-scoped, not a singleton", t, t))
	}
	return fx.Module("fasttrack.singleton",
		fx.Invoke(func(r *registrar, v T) { r.singletons[t] = v }),
	)
}

// frameworkScoped are the scoped types FastTrack itself provides; Fx holds a
// captive-dependency guard under each.
func frameworkScoped(t reflect.Type) bool {
	return t == reflect.TypeFor[*db.Tx]() || t == reflect.TypeFor[db.Querier]() ||
		t == reflect.TypeFor[context.Context]()
}

// register hands ctor, and the singletons among its parameters, to the
// registrar when the app is built (see Lookup); the registry reports at
// start what nothing provides. ctor's own type is looked up too, to report
// a type provided both by Fx and by ctor.
func register(l scope.Lifetime, ctor any) fx.Option {
	p, err := scope.NewProvider(l, ctor)
	if err != nil {
		return fx.Error(fmt.Errorf("fxmodules.%s: %w", l, err))
	}
	var params []reflect.Type
	for _, t := range p.Params() {
		if !frameworkScoped(t) {
			params = append(params, t)
		}
	}
	own := len(params)
	return Lookup(append(params, p.Type()), func(r *registrar, values []any, present []bool) {
		for i, t := range params {
			if present[i] {
				r.singletons[t] = values[i]
			}
		}
		if present[own] {
			r.errs = append(r.errs, fmt.Errorf("%v is provided both by Fx and by %s; a type is either a singleton or scoped", p.Type(), p.Name()))
		}
		if err := r.reg.Add(p); err != nil {
			r.errs = append(r.errs, err)
		}
	})
}

// registrar collects providers and their singleton arguments until the app
// starts, then compiles the registry.
type registrar struct {
	reg        *scope.Registry
	singletons map[reflect.Type]any
	errs       []error
}

// tracerIn is what newDBTracer needs; tracing is optional.
type tracerIn struct {
	fx.In
	Dialect db.Dialect
	Tracing *tracing `optional:"true"`
}

// newDBTracer returns the tracer of the app's transactions: nil, tracing
// nothing, without Tracing or with tracing off.
func newDBTracer(in tracerIn) *db.Tracer {
	if in.Tracing == nil {
		return nil
	}
	return db.NewTracer(in.Tracing.provider, in.Dialect)
}

func newRegistrar(lc fx.Lifecycle, c *db.Cluster, cfg config.Config, tr *db.Tracer) (*registrar, *scope.Registry, error) {
	r := &registrar{reg: scope.NewRegistry(), singletons: map[reflect.Type]any{}}
	stmts := db.NewStatements(c.Primary(), c.Dialect(), cfg.DBStmtCache)
	lc.Append(fx.StopHook(stmts.Close)) // before the pool closes
	for _, p := range api.TxProviders(c, stmts, tr) {
		if err := r.reg.Add(p); err != nil {
			return nil, nil, err
		}
	}
	lc.Append(fx.StartHook(r.compile))
	return r, r.reg, nil
}

func (r *registrar) compile() error {
	err := errors.Join(append(r.errs, r.reg.Compile(r.singletons))...)
	r.singletons = nil
	if err != nil {
		return fmt.Errorf("fasttrack: request scope: %w", err)
	}
	return nil
}

// middlewareIn is what the middleware needs; metrics are optional.
type middlewareIn struct {
	fx.In
	Registry   *scope.Registry
	Config     config.Config
	Logger     *slog.Logger
	Metrics    *api.Metrics                  `optional:"true"`
	Configures []func(*api.MiddlewareConfig) `group:"fasttrack.middleware"`
	Tracer     *db.Tracer
}

// ConfigureMiddleware lets the app adjust the request-scope middleware's
// settings after FastTrack has filled them from the configuration: for
// example MiddlewareConfig.CommitProblem, to answer a commit's error with a
// problem of the app's own, or CommitStatus. Several are applied in the
// order Fx gives them.
func ConfigureMiddleware(fn func(*api.MiddlewareConfig)) fx.Option {
	return fx.Provide(fx.Annotate(func() func(*api.MiddlewareConfig) { return fn },
		fx.ResultTags(`group:"fasttrack.middleware"`)))
}

func newMiddleware(in middlewareIn) (*api.Middleware, error) {
	reg, cfg, log := in.Registry, in.Config, in.Logger
	mode, err := db.ParseNPlusOneMode(cfg.NPlusOne)
	if err != nil {
		return nil, fmt.Errorf("fasttrack: N_PLUS_ONE: %w", err)
	}
	var observer api.Observer
	if in.Metrics != nil {
		observer = in.Metrics
	}
	replay := cfg.RetryReplayLimit
	if replay == 0 {
		replay = -1 // TX_RETRY_REPLAY_LIMIT=0: replay no body
	}
	mc := api.MiddlewareConfig{
		HoldLimit:     int(cfg.HoldLimit),
		RetryAttempts: cfg.RetryAttempts,
		ReplayLimit:   replay,
		TxTimeout:     cfg.RequestTimeout,
		Logger:        log,
		AccessLog:     log.With("component", "http"),
		Observer:      observer,
		NPlusOne:      db.NPlusOne{Mode: mode, Threshold: cfg.NPlusOneThreshold},
		Tracer:        in.Tracer,
	}
	for _, fn := range in.Configures {
		fn(&mc)
	}
	return api.NewMiddleware(reg, mc), nil
}

// errCaptive explains a singleton that takes a request-scoped type.
func errCaptive(t reflect.Type) error {
	return fmt.Errorf("fasttrack: captive dependency: %v is request-scoped, and a singleton would keep one request's instance forever; "+
		"take it in a constructor registered with fxmodules.Scoped, or resolve it per request (api.Handle, api.Resolve)", t)
}

func captiveTx() (*db.Tx, error) { return nil, errCaptive(reflect.TypeFor[*db.Tx]()) }

func captiveQuerier() (db.Querier, error) { return nil, errCaptive(reflect.TypeFor[db.Querier]()) }
