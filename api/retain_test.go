package api_test

import (
	"context"
	"log/slog"
	"net/http"
	"reflect"
	"runtime"
	"sync/atomic"
	"testing"
	"time"

	"github.com/fasttrack-go/fasttrack/api"
	"github.com/fasttrack-go/fasttrack/scope"
	"github.com/gin-gonic/gin"
)

// bulky is a scoped dependency large enough to have an allocation of its
// own, so that its collection can be observed.
type bulky struct{ buf [64]byte }

// A handler that panics leaves none of its dependencies referenced by the
// middleware's pooled request state: after the request they are collected.
func TestPanickingHandlerLeavesNothingBehind(t *testing.T) {
	var collected atomic.Bool
	reg := compiledRegistry(t, scope.NewFuncProvider(scope.Scoped, reflect.TypeFor[*bulky](), nil, "bulky",
		func(context.Context, []any) (any, func() error, error) {
			b := &bulky{}
			runtime.AddCleanup(b, func(int) { collected.Store(true) }, 0)
			return b, nil, nil
		}))
	gin.SetMode(gin.TestMode)
	e := gin.New()
	mw := api.NewMiddleware(reg, api.MiddlewareConfig{Logger: slog.New(slog.DiscardHandler)})
	e.Use(mw.HandlerFunc())
	for path, h := range map[string]gin.HandlerFunc{
		"/typed":   api.Handle1(func(c *gin.Context, b *bulky) (any, error) { panic("boom") }),
		"/reflect": api.Handle(func(c *gin.Context, b *bulky) error { panic("boom") }),
	} {
		e.GET(path, h)
	}
	for _, path := range []string{"/typed", "/reflect"} {
		t.Run(path, func(t *testing.T) {
			collected.Store(false)
			if w := serve(e, http.MethodGet, path); w.Code != http.StatusInternalServerError {
				t.Fatalf("%d %s", w.Code, w.Body)
			}
			runtime.GC() // one GC: the pool keeps the state in its victim cache
			for i := 0; i < 500 && !collected.Load(); i++ {
				time.Sleep(time.Millisecond)
			}
			if !collected.Load() {
				t.Error("the dependency of a handler that panicked is still referenced after the request")
			}
		})
	}
	runtime.KeepAlive(mw)
}
