package fxmodules_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/fasttrack-go/fasttrack/api"
	"github.com/fasttrack-go/fasttrack/config"
	"github.com/fasttrack-go/fasttrack/db"
	"github.com/fasttrack-go/fasttrack/fasttest"
	"github.com/fasttrack-go/fasttrack/fxmodules"
	"github.com/fasttrack-go/fasttrack/internal/testdb"
	"github.com/fasttrack-go/fasttrack/scope"
	"github.com/gin-gonic/gin"
	"go.uber.org/fx"
	"go.uber.org/fx/fxtest"
)

// nextID numbers the instances built by the constructors below.
var nextID atomic.Int64

// events is a user singleton recording what scoped and transient instances
// do.
type events struct {
	mu   sync.Mutex
	list []string
}

func newEvents() *events { return &events{} }

func (e *events) add(s string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.list = append(e.list, s)
}

func (e *events) snapshot() []string {
	e.mu.Lock()
	defer e.mu.Unlock()
	return slices.Clone(e.list)
}

// reset forgets what was recorded.
func (e *events) reset() {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.list = nil
}

// waitFor waits until e holds n events: the scope is released after the
// response is sent, so the client may see the response first.
func (e *events) waitFor(t *testing.T, n int) []string {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		got := e.snapshot()
		if len(got) >= n || time.Now().After(deadline) {
			return got
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// Scoped types: arity 0 returning T, arity 1 returning (T, error), arity 3
// returning (T, func(), error), and one closed by its Close method.
type (
	scopedA struct{ ID int64 }
	scopedB struct {
		ID  int64
		cfg config.Config
	}
	scopedC struct {
		ID  int64
		ctx context.Context
		q   db.Querier
		ev  *events
	}
	scopedD struct {
		ID  int64
		log *slog.Logger
		tx  *db.Tx
		b   *scopedB
		ev  *events
	}
)

func newScopedA() *scopedA { return &scopedA{ID: nextID.Add(1)} }

func newScopedB(cfg config.Config) (*scopedB, error) {
	return &scopedB{ID: nextID.Add(1), cfg: cfg}, nil
}

func newScopedC(ctx context.Context, q db.Querier, ev *events) (*scopedC, func(), error) {
	c := &scopedC{ID: nextID.Add(1), ctx: ctx, q: q, ev: ev}
	return c, func() { ev.add(fmt.Sprintf("cleanup scopedC#%d", c.ID)) }, nil
}

func newScopedD(log *slog.Logger, tx *db.Tx, b *scopedB, ev *events) *scopedD {
	return &scopedD{ID: nextID.Add(1), log: log, tx: tx, b: b, ev: ev}
}

func (d *scopedD) Close() { d.ev.add(fmt.Sprintf("close scopedD#%d", d.ID)) }

// Transient types: arity 0 returning (T, error), arity 1 returning (T,
// func(), error), arity 3 returning T (closed by its Close method).
type (
	transA struct{ ID int64 }
	transB struct {
		ID int64
		ev *events
	}
	transC struct {
		ID  int64
		a   *scopedA
		b   *transB
		cfg config.Config
	}
)

func newTransA() (*transA, error) { return &transA{ID: nextID.Add(1)}, nil }

func newTransB(ev *events) (*transB, func(), error) {
	b := &transB{ID: nextID.Add(1), ev: ev}
	return b, func() { ev.add(fmt.Sprintf("cleanup transB#%d", b.ID)) }, nil
}

func newTransC(a *scopedA, b *transB, cfg config.Config) *transC {
	return &transC{ID: nextID.Add(1), a: a, b: b, cfg: cfg}
}

func (c *transC) Close() error {
	c.b.ev.add(fmt.Sprintf("close transC#%d", c.ID))
	return nil
}

// scopeModule is a user module registering the scoped and transient
// constructors and a route resolving them.
func scopeModule() fx.Option {
	return fx.Module("x",
		fx.Provide(newEvents),
		fxmodules.Scoped(newScopedA),
		fxmodules.Scoped(newScopedB),
		fxmodules.Scoped(newScopedC),
		fxmodules.Scoped(newScopedD),
		fxmodules.Transient(newTransA),
		fxmodules.Transient(newTransB),
		fxmodules.Transient(newTransC),
		fx.Invoke(func(e *gin.Engine) {
			e.GET("/scope", api.Handle(scopeHandler))
		}),
	)
}

// scopeHandler takes scoped and transient instances, resolves more of them,
// and answers what it saw.
func scopeHandler(c *gin.Context, d *scopedD, sc *scopedC, tc *transC) (gin.H, error) {
	d2, err := api.Resolve[*scopedD](c)
	if err != nil {
		return nil, err
	}
	sc2, err := api.Resolve[*scopedC](c)
	if err != nil {
		return nil, err
	}
	a, err := api.Resolve[*scopedA](c)
	if err != nil {
		return nil, err
	}
	ta1, err := api.Resolve[*transA](c)
	if err != nil {
		return nil, err
	}
	ta2, err := api.Resolve[*transA](c)
	if err != nil {
		return nil, err
	}
	tc2, err := api.Resolve[*transC](c)
	if err != nil {
		return nil, err
	}
	tx, err := api.Resolve[*db.Tx](c)
	if err != nil {
		return nil, err
	}
	var n int
	if err := sc.q.GetContext(sc.ctx, &n, "SELECT COUNT(*) FROM notes"); err != nil {
		return nil, err
	}
	d.log.Info("logged by scopedD", "id", d.ID)
	return gin.H{
		"scopedA":       a.ID,
		"sameScopedD":   d == d2,
		"sameScopedC":   sc == sc2,
		"sameScopedA":   tc.a == a && tc2.a == a,
		"sameScopedB":   d.b == d2.b,
		"transA":        []int64{ta1.ID, ta2.ID},
		"transC":        []int64{tc.ID, tc2.ID},
		"transB":        []int64{tc.b.ID, tc2.b.ID},
		"sameTx":        sc.q == db.Querier(d.tx) && tx == d.tx,
		"ctxLive":       sc.ctx != nil && sc.ctx.Err() == nil,
		"notes":         n,
		"scopedC":       sc.ID,
		"scopedD":       d.ID,
		"configURL":     d.b.cfg.DatabaseURL,
		"transCConfig":  tc.cfg.DatabaseURL,
		"transCAddr":    tc.cfg.HTTPAddr,
		"scopedBConfig": d.b.cfg.HTTPAddr,
	}, nil
}

// scopeResponse is what scopeHandler answers.
type scopeResponse struct {
	ScopedA       int64
	SameScopedD   bool
	SameScopedC   bool
	SameScopedA   bool
	SameScopedB   bool
	TransA        []int64
	TransB        []int64
	TransC        []int64
	SameTx        bool
	CtxLive       bool
	Notes         int
	ScopedC       int64
	ScopedD       int64
	ConfigURL     string
	TransCConfig  string
	TransCAddr    string
	ScopedBConfig string
}

func getScope(t *testing.T, url string) scopeResponse {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %d %s", url, resp.StatusCode, body)
	}
	var r scopeResponse
	if err := json.Unmarshal(body, &r); err != nil {
		t.Fatalf("GET %s: %q: %v", url, body, err)
	}
	return r
}

func TestScopedAndTransientResolveThroughARequest(t *testing.T) {
	u := testdb.New(t, db.SQLite)
	cfg := testConfig(u)
	var srv *http.Server
	var ev *events
	logs := &fasttest.SyncBuffer{}
	app := fxtest.New(t, appOptions(cfg, logs, &srv, &ev), scopeModule())
	app.RequireStart()
	defer app.RequireStop()
	defer http.DefaultClient.CloseIdleConnections()

	var firstA int64
	for i := range 2 {
		ev.reset()
		r := getScope(t, "http://"+srv.Addr+"/scope")
		if !r.SameScopedD || !r.SameScopedC || !r.SameScopedA || !r.SameScopedB {
			t.Errorf("request %d: a scoped type resolved twice gave two instances: %+v", i, r)
		}
		if len(r.TransA) != 2 || len(r.TransB) != 2 || len(r.TransC) != 2 {
			t.Fatalf("request %d: the handler answered %+v, want two of each transient", i, r)
		}
		if r.TransA[0] == r.TransA[1] || r.TransB[0] == r.TransB[1] || r.TransC[0] == r.TransC[1] {
			t.Errorf("request %d: a transient type resolved twice gave one instance: %+v", i, r)
		}
		if !r.SameTx {
			t.Errorf("request %d: db.Querier, *db.Tx and api.Resolve[*db.Tx] are not one transaction", i)
		}
		if !r.CtxLive {
			t.Errorf("request %d: the scoped constructor got no live context", i)
		}
		if r.ConfigURL != u || r.TransCConfig != u || r.TransCAddr != cfg.HTTPAddr || r.ScopedBConfig != cfg.HTTPAddr {
			t.Errorf("request %d: constructors got config %q %q %q %q, want %q and %q",
				i, r.ConfigURL, r.TransCConfig, r.TransCAddr, r.ScopedBConfig, u, cfg.HTTPAddr)
		}
		if i == 0 {
			firstA = r.ScopedA
		} else if r.ScopedA == firstA {
			t.Errorf("two requests shared scopedA#%d", firstA)
		}
		// Built in this order (dependencies first), released in reverse:
		// *db.Tx, scopedD (Close), db.Querier, scopedC (cleanup), then for
		// the handler's *transC transB#1 (cleanup) and transC#1 (Close),
		// then for api.Resolve[*transC] transB#2 and transC#2.
		want := []string{
			fmt.Sprintf("close transC#%d", r.TransC[1]),
			fmt.Sprintf("cleanup transB#%d", r.TransB[1]),
			fmt.Sprintf("close transC#%d", r.TransC[0]),
			fmt.Sprintf("cleanup transB#%d", r.TransB[0]),
			fmt.Sprintf("cleanup scopedC#%d", r.ScopedC),
			fmt.Sprintf("close scopedD#%d", r.ScopedD),
		}
		got := ev.waitFor(t, len(want))
		if !slices.Equal(got, want) {
			t.Errorf("request %d: released\n%q\nwant\n%q", i, got, want)
		}
	}
	if !strings.Contains(logs.String(), "logged by scopedD") {
		t.Error("the scoped constructor's *slog.Logger is not the app's")
	}
	if strings.Contains(logs.String(), "level=ERROR") || strings.Contains(logs.String(), "level=WARN") {
		t.Errorf("errors logged:\n%s", logs)
	}
}

// cfgHolder is a scoped type built from the config struct.
type cfgHolder struct{ cfg config.Config }

func newCfgHolder(cfg config.Config) *cfgHolder { return &cfgHolder{cfg: cfg} }

func TestScopedConstructorTakingConfigGetsTheRealConfig(t *testing.T) {
	t.Run("func", func(t *testing.T) { testScopedConfig(t, newCfgHolder) })
	t.Run("scope.Func1", func(t *testing.T) { testScopedConfig(t, scope.Func1(newCfgHolder)) })
}

// testScopedConfig registers ctor, a constructor of *cfgHolder, and checks
// that the singleton it takes is the app's config.
func testScopedConfig(t *testing.T, ctor any) {
	cfg := testConfig(testdb.New(t, db.SQLite))
	cfg.BodyLimit = 12345
	cfg.RetryAttempts = 3
	var srv *http.Server
	app := fxtest.New(t,
		appOptions(cfg, io.Discard, &srv),
		fxmodules.Scoped(ctor),
		fx.Invoke(func(e *gin.Engine) {
			e.GET("/config", func(c *gin.Context) {
				h, err := api.Resolve[*cfgHolder](c)
				if err != nil {
					c.String(http.StatusInternalServerError, err.Error())
					return
				}
				c.JSON(http.StatusOK, gin.H{
					"url":     h.cfg.DatabaseURL,
					"addr":    h.cfg.HTTPAddr,
					"limit":   h.cfg.BodyLimit,
					"retries": h.cfg.RetryAttempts,
				})
			})
		}),
	)
	app.RequireStart()
	defer app.RequireStop()
	defer http.DefaultClient.CloseIdleConnections()
	code, body := getJSON(t, "http://"+srv.Addr+"/config")
	if code != http.StatusOK || body["url"] != cfg.DatabaseURL || body["addr"] != cfg.HTTPAddr ||
		body["limit"] != float64(12345) || body["retries"] != float64(3) {
		t.Errorf("GET /config: %d %v, want the test config %q", code, body, cfg.DatabaseURL)
	}
}

// startError builds the framework on a temporary SQLite database with opts
// and returns the error of fx.New or, if none, of Start, with the phase
// that failed ("new" or "start"). It fails the test if the app starts.
func startError(t *testing.T, opts ...fx.Option) (phase string, err error) {
	t.Helper()
	cfg := testConfig(testdb.New(t, db.SQLite))
	app := fx.New(
		fxmodules.Framework(nil),
		fx.Replace(cfg),
		fx.Decorate(func() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }),
		fx.NopLogger,
		fx.Options(opts...),
	)
	if err := app.Err(); err != nil {
		return "new", err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := app.Start(ctx); err != nil {
		return "start", err
	}
	_ = app.Stop(ctx)
	t.Fatal("the app started")
	return "", nil
}

// requireContains fails the test unless err's message has every want.
func requireContains(t *testing.T, phase string, err error, wants ...string) {
	t.Helper()
	t.Logf("%s error:\n%v", phase, err)
	for _, w := range wants {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("error does not contain %q:\n%v", w, err)
		}
	}
}

// Types and constructors of the start-failure tests.
type (
	captiveQuerierSvc struct{ q db.Querier }
	captiveTxSvc      struct{ tx *db.Tx }
	userScoped        struct{}
	captiveUserSvc    struct{ u *userScoped }
	userTransient     struct{}
	captiveTransSvc   struct{ u *userTransient }
	notProvided       struct{}
	needsMissing      struct{}
	cycleA            struct{}
	cycleB            struct{}
	twice             struct{}
)

func newCaptiveQuerierSvc(q db.Querier) *captiveQuerierSvc { return &captiveQuerierSvc{q: q} }
func newCaptiveTxSvc(tx *db.Tx) *captiveTxSvc              { return &captiveTxSvc{tx: tx} }
func newUserScoped() *userScoped                           { return &userScoped{} }
func newCaptiveUserSvc(u *userScoped) *captiveUserSvc      { return &captiveUserSvc{u: u} }
func newUserTransient() *userTransient                     { return &userTransient{} }
func newCaptiveTransSvc(u *userTransient) *captiveTransSvc { return &captiveTransSvc{u: u} }

func newNeedsMissing(*slog.Logger, *notProvided) (*needsMissing, error) { return &needsMissing{}, nil }

func newCycleA(*cycleB) *cycleA { return &cycleA{} }
func newCycleB(*cycleA) *cycleB { return &cycleB{} }

func newTwiceOne() *twice                                      { return &twice{} }
func newTwiceTwo(config.Config) *twice                         { return &twice{} }
func badHandlerNoResult(c *gin.Context)                        {}
func badHandlerNoContext(n int) error                          { return nil }
func handlerNeedsMissing(c *gin.Context, _ *notProvided) error { return nil }

func TestSingletonTakingAScopedTypeFailsTheStart(t *testing.T) {
	tests := []struct {
		name string
		opts []fx.Option
		want []string
	}{
		{"db.Querier", []fx.Option{
			fx.Provide(newCaptiveQuerierSvc),
			fx.Invoke(func(*captiveQuerierSvc) {}),
		}, []string{"captive dependency", "db.Querier", "newCaptiveQuerierSvc ("}},
		{"*db.Tx", []fx.Option{
			fx.Provide(newCaptiveTxSvc),
			fx.Invoke(func(*captiveTxSvc) {}),
		}, []string{"captive dependency", "*db.Tx", "newCaptiveTxSvc ("}},
		{"user scoped type", []fx.Option{
			fxmodules.Scoped(newUserScoped),
			fx.Provide(newCaptiveUserSvc),
			fx.Invoke(func(*captiveUserSvc) {}),
		}, []string{"missing type", "*fxmodules_test.userScoped", "newCaptiveUserSvc ("}},
		{"user transient type", []fx.Option{
			fxmodules.Transient(newUserTransient),
			fx.Provide(newCaptiveTransSvc),
			fx.Invoke(func(*captiveTransSvc) {}),
		}, []string{"missing type", "*fxmodules_test.userTransient", "newCaptiveTransSvc ("}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			phase, err := startError(t, tt.opts...)
			requireContains(t, phase, err, tt.want...)
		})
	}
}

func TestScopedDependencyWithoutProviderFailsTheStart(t *testing.T) {
	for name, ctor := range map[string]any{"func": newNeedsMissing, "scope.Func2E": scope.Func2E(newNeedsMissing)} {
		t.Run(name, func(t *testing.T) {
			phase, err := startError(t, fxmodules.Scoped(ctor))
			requireContains(t, phase, err, "fxmodules_test.newNeedsMissing", "missing dependency *fxmodules_test.notProvided")
			if strings.Contains(err.Error(), "*slog.Logger") {
				t.Errorf("the error names the singleton that is provided:\n%v", err)
			}
		})
	}
}

func TestScopedCycleFailsTheStart(t *testing.T) {
	phase, err := startError(t, fxmodules.Scoped(newCycleA), fxmodules.Scoped(newCycleB))
	requireContains(t, phase, err, "dependency cycle",
		"*fxmodules_test.cycleA", "*fxmodules_test.cycleB", "fxmodules_test.newCycleA", "fxmodules_test.newCycleB")
}

func TestTwoProvidersOfOneScopedTypeFailTheStart(t *testing.T) {
	phase, err := startError(t, fxmodules.Scoped(newTwiceOne), fxmodules.Transient(newTwiceTwo))
	requireContains(t, phase, err, "*fxmodules_test.twice provided twice",
		"fxmodules_test.newTwiceOne", "fxmodules_test.newTwiceTwo")
}

func TestHandleRouteProblemsFailTheStart(t *testing.T) {
	tests := []struct {
		name    string
		method  string
		path    string
		handler any
		want    []string
	}{
		{"missing dependency", http.MethodGet, "/missing", handlerNeedsMissing,
			[]string{"route GET /missing", "fxmodules_test.handlerNeedsMissing", "*fxmodules_test.notProvided"}},
		{"no result", http.MethodPost, "/no-result", badHandlerNoResult,
			[]string{"route POST /no-result", "fxmodules_test.badHandlerNoResult", "must return error or (T, error)"}},
		{"no *gin.Context", http.MethodPut, "/no-context", badHandlerNoContext,
			[]string{"route PUT /no-context", "fxmodules_test.badHandlerNoContext", "*gin.Context"}},
		{"not a func", http.MethodDelete, "/not-a-func", 42,
			[]string{"route DELETE /not-a-func", "Handle needs a non-nil func, got int"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			phase, err := startError(t, fx.Invoke(func(e *gin.Engine) {
				e.Handle(tt.method, tt.path, api.Handle(tt.handler))
			}))
			if phase != "start" {
				t.Errorf("failed at %s, want at start", phase)
			}
			requireContains(t, phase, err, tt.want...)
		})
	}
}

func TestBadConstructorShapeFailsFxNew(t *testing.T) {
	tests := []struct {
		name     string
		register func(any) fx.Option
		ctor     any
		want     []string
	}{
		{"scoped not a func", fxmodules.Scoped, 42, []string{"fxmodules.scoped", "constructor must be a func, got int"}},
		{"transient not a func", fxmodules.Transient, "x", []string{"fxmodules.transient", "constructor must be a func, got string"}},
		{"nil", fxmodules.Scoped, nil, []string{"fxmodules.scoped", "nil constructor"}},
		{"returns nothing", fxmodules.Scoped, badCtorNoResult, []string{"fxmodules.scoped", "fxmodules_test.badCtorNoResult", "must return T, (T, error) or (T, func(), error)"}},
		{"bad second result", fxmodules.Transient, badCtorTwoValues, []string{"fxmodules.transient", "fxmodules_test.badCtorTwoValues", "must return T, (T, error) or (T, func(), error)"}},
		{"variadic", fxmodules.Scoped, badCtorVariadic, []string{"fxmodules.scoped", "fxmodules_test.badCtorVariadic", "variadic"}},
		{"returns error", fxmodules.Scoped, badCtorError, []string{"fxmodules.scoped", "fxmodules_test.badCtorError", "cannot provide type error"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			phase, err := startError(t, tt.register(tt.ctor))
			if phase != "new" {
				t.Errorf("failed at %s, want at fx.New", phase)
			}
			requireContains(t, phase, err, tt.want...)
		})
	}
}

func badCtorNoResult()                   {}
func badCtorTwoValues() (*twice, *twice) { return nil, nil }
func badCtorVariadic(...int) *twice      { return nil }
func badCtorError() error                { return nil }

// featureFlags is a user singleton whose value may be its zero value.
type featureFlags struct{ Beta bool }

// flagged is a scoped type built from featureFlags.
type flagged struct{ f featureFlags }

func newFlagged(f featureFlags) *flagged { return &flagged{f: f} }

func TestScopedConstructorTakingAZeroValueSingleton(t *testing.T) {
	// A singleton whose value is its type's zero value (featureFlags{}) is
	// a singleton all the same, not a missing dependency.
	var srv *http.Server
	app := fxtest.New(t,
		appOptions(testConfig(testdb.New(t, db.SQLite)), io.Discard, &srv),
		fx.Supply(featureFlags{}),
		fxmodules.Scoped(newFlagged),
		fx.Invoke(func(e *gin.Engine) {
			e.GET("/flags", api.Handle(func(c *gin.Context, f *flagged) (gin.H, error) {
				return gin.H{"beta": f.f.Beta}, nil
			}))
		}),
	)
	app.RequireStart()
	defer app.RequireStop()
	defer http.DefaultClient.CloseIdleConnections()
	if code, body := getJSON(t, "http://"+srv.Addr+"/flags"); code != http.StatusOK || body["beta"] != false {
		t.Errorf("GET /flags: %d %v", code, body)
	}
}

type both struct{}

func newBothScoped() *both { return &both{} }

func TestTypeProvidedByFxAndScopedFailsTheStart(t *testing.T) {
	phase, err := startError(t,
		fx.Provide(func() *both { return &both{} }),
		fxmodules.Scoped(newBothScoped),
	)
	requireContains(t, phase, err, "*fxmodules_test.both is provided both by Fx and by", "newBothScoped")
}
