package api

import (
	"errors"
	"fmt"
	"net/http"
	"reflect"
	"sync/atomic"

	"github.com/fasttrack-go/fasttrack/scope"
	"github.com/gin-gonic/gin"
)

// Resolve returns the request scope's T (a scoped or transient service, or a
// singleton the registry knows) for a plain gin handler.
func Resolve[T any](c *gin.Context) (T, error) {
	r, err := requestOf(c)
	if err != nil {
		var zero T
		return zero, err
	}
	return scope.Get[T](r.open())
}

// Handle adapts fn to a gin handler. fn is
//
//	func(c *gin.Context, deps...) (T, error)   or   func(c *gin.Context, deps...) error
//
// where each dep is resolved from the request scope. A T result is answered
// as JSON with the status the handler set (c.Status), 200 by default; a nil
// pointer T answers 204. A returned error rolls the transaction back and is
// answered as problem+json (see ProblemFor). When fn is the last handler of
// a route, its dependencies are checked when the app starts: a type that
// nothing provides fails the start. With WithRetry (or
// MiddlewareConfig.RetryAttempts), a retryable failure of fn or of its
// commit runs the request again.
//
// Options (WithReadOnly, WithRetry, …) set the route's transaction policy,
// which [DescribeRoutes] lists.
func Handle(fn any, opts ...Option) gin.HandlerFunc {
	return typedHandler(fn, nil, opts)
}

// Wrap gives a plain gin handler the route policy that Handle's options
// give an adapted func (WithReadOnly, WithTx, WithRetry, …), listed by
// [DescribeRoutes] too. h resolves what it needs with Resolve; an error it
// records with c.Error rolls the request back, and a retryable one is
// retried when WithRetry allows it.
func Wrap(h gin.HandlerFunc, opts ...Option) gin.HandlerFunc {
	w := newHandler(func(*gin.Context) error { return nil })
	if h == nil {
		w.shapeErr = errors.New("api: Wrap needs a non-nil gin.HandlerFunc")
	} else {
		w.name = fmt.Sprintf("%T", h)
		if f := runtimeName(reflect.ValueOf(h)); f != "" {
			w.name = f
		}
		w.typed = func(c *gin.Context, _ []any) (any, error) {
			h(c)
			return nil, nil
		}
	}
	for _, o := range opts {
		o(&w.policy)
	}
	return w.serve
}

// handler is one adapted function.
type handler struct {
	fn       reflect.Value
	name     string
	deps     []reflect.Type
	hasValue bool // fn returns (T, error)
	// typed, set by the HandleN forms, calls fn without reflection.
	typed    func(c *gin.Context, deps []any) (any, error)
	shapeErr error // fn has the wrong shape
	policy   handlerPolicy
	plan     atomic.Pointer[boundPlan]
}

// boundPlan is a handler's plan for one registry.
type boundPlan struct {
	reg  *scope.Registry
	plan *scope.Plan
	err  error
}

var (
	ginContextType = reflect.TypeFor[*gin.Context]()
	errorType      = reflect.TypeFor[error]()
)

func newHandler(fn any) *handler {
	h := &handler{fn: reflect.ValueOf(fn), name: fmt.Sprintf("%T", fn)}
	if fn == nil || h.fn.Kind() != reflect.Func || h.fn.IsNil() {
		h.shapeErr = fmt.Errorf("api: Handle needs a non-nil func, got %T", fn)
		return h
	}
	t := h.fn.Type()
	if f := runtimeName(h.fn); f != "" {
		h.name = f
	}
	switch {
	case t.IsVariadic() || t.NumIn() == 0 || t.In(0) != ginContextType:
		h.shapeErr = fmt.Errorf("api: Handle(%s): the first parameter must be *gin.Context and none variadic", h.name)
	case t.NumOut() == 1 && t.Out(0) == errorType:
	case t.NumOut() == 2 && t.Out(1) == errorType:
		h.hasValue = true
	default:
		h.shapeErr = fmt.Errorf("api: Handle(%s): must return error or (T, error)", h.name)
	}
	for i := 1; i < t.NumIn(); i++ {
		h.deps = append(h.deps, t.In(i))
	}
	return h
}

// planFor returns the handler's plan on reg, building it once per registry.
func (h *handler) planFor(reg *scope.Registry) (*scope.Plan, error) {
	if b := h.plan.Load(); b != nil && b.reg == reg {
		return b.plan, b.err
	}
	b := &boundPlan{reg: reg, err: h.shapeErr}
	if b.err == nil {
		b.plan, b.err = reg.Plan(h.deps...)
		if b.err != nil {
			b.err = fmt.Errorf("api: Handle(%s): %w (a handler's parameters come from the request scope: "+
				"for a per-request type, register its constructor with fxmodules.Scoped or Transient; "+
				"for an Fx singleton, add fxmodules.Singleton[T]() to the app)", h.name, b.err)
		}
	}
	h.plan.Store(b)
	return b.plan, b.err
}

func (h *handler) serve(c *gin.Context) {
	if r, err := requestOf(c); err == nil {
		h.run(c, r)
		return
	}
	v, _ := c.Get(checkerKey)
	switch x := v.(type) {
	case *checker:
		x.handler, x.policy = h.name, h.policy.String()
		if x.reg != nil {
			_, x.err = h.planFor(x.reg)
		}
	default:
		_ = c.Error(errNoMiddleware)
		WriteProblem(c, NewProblem(http.StatusInternalServerError, "internal server error"))
	}
}

// run calls fn on the request's current scope. When the route allows
// retries, the first attempt keeps the request body; the middleware runs
// the chain again if fn or the commit fails with a retryable error.
func (h *handler) run(c *gin.Context, r *request) {
	plan, err := h.planFor(r.m.reg)
	if err != nil {
		h.fail(c, r, err)
		return
	}
	if err := h.policy.apply(r); err != nil {
		h.fail(c, r, err)
		return
	}
	if r.policy.attempts > 1 {
		r.prepareRetry()
	}
	res, err := h.call(c, r, plan)
	if err != nil {
		h.fail(c, r, err)
		return
	}
	h.respond(c, res) // the middleware commits at the end of the chain
}

// call resolves the dependencies from the request's current scope and calls
// fn. It returns fn's value (nil for a func returning only an error).
func (h *handler) call(c *gin.Context, r *request, plan *scope.Plan) (any, error) {
	// The request's pooled buffer: a local array would escape to the heap
	// through h.typed.
	deps := r.deps[:0]
	if n := len(h.deps); n > len(r.deps) {
		deps = make([]any, 0, n)
	}
	deps = deps[:len(h.deps)]
	if err := r.open().ResolvePlan(plan, deps); err != nil {
		clear(deps)
		return nil, err
	}
	if h.typed != nil {
		v, err := h.typed(c, deps)
		clear(deps)
		return v, err
	}
	var inBuf [9]reflect.Value
	in := inBuf[:0]
	if len(h.deps) >= len(inBuf) {
		in = make([]reflect.Value, 0, len(h.deps)+1)
	}
	in = append(in, reflect.ValueOf(c))
	for i, d := range deps {
		if d == nil {
			in = append(in, reflect.Zero(h.deps[i]))
		} else {
			in = append(in, reflect.ValueOf(d))
		}
	}
	clear(deps)
	out := h.fn.Call(in)
	if errV := out[len(out)-1]; !errV.IsNil() {
		return nil, errV.Interface().(error)
	}
	if h.hasValue {
		return out[0].Interface(), nil
	}
	return nil, nil
}

// respond writes fn's result unless the handler already wrote a response:
// as JSON, or 204 for a nil pointer, map or interface.
func (h *handler) respond(c *gin.Context, res any) {
	if c.Writer.Written() || !h.hasValue {
		return
	}
	if res == nil {
		c.Status(http.StatusNoContent)
		c.Writer.WriteHeaderNow()
		return
	}
	switch rv := reflect.ValueOf(res); rv.Kind() {
	case reflect.Pointer, reflect.Map:
		if rv.IsNil() {
			c.Status(http.StatusNoContent)
			c.Writer.WriteHeaderNow()
			return
		}
	}
	c.JSON(c.Writer.Status(), res)
}

// fail records err (the transaction rolls back) and answers it.
func (h *handler) fail(c *gin.Context, r *request, err error) {
	_ = c.Error(err)
	p := ProblemFor(err)
	switch {
	case r.clientGone():
		r.m.log.Info("client closed the request", "request_id", r.id, "request", r.String(), "handler", h.name, "error", err)
	case p.Status >= http.StatusInternalServerError:
		r.m.log.Error("handler failed", "request_id", r.id, "request", r.String(), "handler", h.name, "error", err)
	}
	if !c.Writer.Written() {
		WriteProblem(c, p)
	}
}

// checkerKey is the gin.Context key of a checker.
const checkerKey = "fasttrack.checker"

// checker is put in place of a request when routes are checked at start or
// described.
type checker struct {
	reg     *scope.Registry // nil: describe only
	err     error
	handler string
	policy  string
}

// CheckRoutes checks, against the compiled reg, the dependencies of every
// route of e whose last handler came from Handle, and returns the problems
// joined, each naming the route and the handler. The HTTP module runs it on
// start.
func CheckRoutes(e *gin.Engine, reg *scope.Registry) error {
	var errs []error
	for _, ri := range e.Routes() {
		if chk := inspect(ri, reg); chk != nil && chk.err != nil {
			errs = append(errs, fmt.Errorf("route %s %s: %w", ri.Method, ri.Path, chk.err))
		}
	}
	return errors.Join(errs...)
}

// RouteInfo describes a route whose last handler came from Handle.
type RouteInfo struct {
	// Handler is the full name of the function given to Handle.
	Handler string
	// Policy is the transaction policy set by Handle's options: "default",
	// or a list such as "read-only, retry 3". Policies set with the
	// middleware forms (ReadOnly, Retry, …) are not visible here; set them
	// as Handle options to have them listed.
	Policy string
}

// DescribeRoutes returns, keyed by "METHOD /path", a RouteInfo for every
// route of e whose last handler came from Handle. Handlers are not run.
func DescribeRoutes(e *gin.Engine) map[string]RouteInfo {
	out := map[string]RouteInfo{}
	for _, ri := range e.Routes() {
		if chk := inspect(ri, nil); chk != nil {
			out[ri.Method+" "+ri.Path] = RouteInfo{Handler: chk.handler, Policy: chk.policy}
		}
	}
	return out
}

// inspect runs a route's last handler in checking mode when it came from
// Handle, and returns what it reported; nil for other handlers, which are
// never called.
func inspect(ri gin.RouteInfo, reg *scope.Registry) *checker {
	ours := reflect.ValueOf(gin.HandlerFunc((*handler)(nil).serve)).Pointer()
	if ri.HandlerFunc == nil || reflect.ValueOf(ri.HandlerFunc).Pointer() != ours {
		return nil
	}
	chk := &checker{reg: reg}
	c := &gin.Context{}
	c.Set(checkerKey, chk)
	ri.HandlerFunc(c)
	return chk
}
