package fxmodules_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/fasttrack-go/fasttrack/api"
	"github.com/fasttrack-go/fasttrack/db"
	"github.com/fasttrack-go/fasttrack/fasttest"
	"github.com/fasttrack-go/fasttrack/fxmodules"
	"github.com/fasttrack-go/fasttrack/internal/testdb"
	"github.com/gin-gonic/gin"
	"go.uber.org/fx"
)

// appSettings is a user singleton that no scoped constructor takes.
type appSettings struct{ Greeting string }

// greeter is a scoped service; stamp a transient one.
type (
	greeter struct{ q db.Querier }
	stamp   struct{ n int }
)

func newGreeter(q db.Querier) *greeter { return &greeter{q: q} }

func newStamp() *stamp { return &stamp{n: 7} }

// greet takes a singleton, a scoped service and a transient value.
func greet(c *gin.Context, s *appSettings, g *greeter, st *stamp) (gin.H, error) {
	var one int
	if err := g.q.GetContext(c, &one, "SELECT 1"); err != nil {
		return nil, err
	}
	return gin.H{"greeting": s.Greeting, "one": one, "stamp": st.n}, nil
}

// A handler takes an Fx singleton named with fxmodules.Singleton beside
// scoped and transient values, through api.Handle and the typed forms.
func TestHandlerTakesASingleton(t *testing.T) {
	settings := &appSettings{Greeting: "hello"}
	a := fasttest.StartWith(t, testConfig(testdb.New(t, db.SQLite)), nil,
		fx.Supply(settings),
		fxmodules.Singleton[*appSettings](),
		fxmodules.Scoped(newGreeter),
		fxmodules.Transient(newStamp),
		fx.Invoke(func(e *gin.Engine) {
			e.GET("/reflect", api.Handle(greet))
			e.GET("/typed", api.Handle3(greet))
			e.GET("/only-singleton", api.Handle1(func(c *gin.Context, s *appSettings) (string, error) {
				return s.Greeting, nil
			}))
		}),
	)
	for _, path := range []string{"/reflect", "/typed"} {
		resp := a.Do(t, http.MethodGet, path, nil)
		body := resp.JSON(t)
		if resp.Status != http.StatusOK || body["greeting"] != "hello" || body["one"] != float64(1) || body["stamp"] != float64(7) {
			t.Fatalf("%s: %d %s", path, resp.Status, resp.Body)
		}
	}
	if resp := a.Do(t, http.MethodGet, "/only-singleton", nil); resp.Status != http.StatusOK || !strings.Contains(string(resp.Body), "hello") {
		t.Fatalf("/only-singleton: %d %s", resp.Status, resp.Body)
	}
	if n := a.Count.Begins.Load(); n != 2 {
		t.Fatalf("%d BEGINs, want 2: a handler taking only a singleton must not begin a transaction", n)
	}
}

// A handler that takes an Fx singleton nobody named fails the start, saying
// how to name it; a request-scoped type cannot be named a singleton; and a
// singleton that takes a scoped type is still a captive dependency.
func TestHandlerSingletonChecks(t *testing.T) {
	settings := &appSettings{Greeting: "hello"}
	phase, err := startError(t,
		fx.Supply(settings),
		fx.Invoke(func(e *gin.Engine) {
			e.GET("/reflect", api.Handle(func(c *gin.Context, s *appSettings) error { return nil }))
		}),
	)
	requireContains(t, phase, err, "*fxmodules_test.appSettings", "fxmodules.Singleton[T]()", "GET /reflect")

	phase, err = startError(t, fxmodules.Singleton[*db.Tx]())
	requireContains(t, phase, err, "fxmodules.Singleton[*db.Tx]", "request-scoped")

	phase, err = startError(t,
		fx.Provide(newCaptiveQuerierSvc),
		fxmodules.Singleton[*captiveQuerierSvc](),
	)
	requireContains(t, phase, err, "captive dependency")
}
